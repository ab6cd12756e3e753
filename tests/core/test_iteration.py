"""The iteration's decisions that are not covered by the driver's rows: what a failed question
to the model leaves behind."""

from __future__ import annotations

import pytest

from ratchet.core import iteration
from ratchet.core.outcome import Outcome
from ratchet.errors import BudgetExceeded, ModelError, ModelReplyError, ModelUnavailable


@pytest.mark.parametrize(
    ("error", "tokens", "expected"),
    [
        # a budget that allows no call: nothing to record, the run stops
        (BudgetExceeded("money budget used up"), 0,
         iteration.AskFailed(None, "", stop="money budget used up")),
        # an unusable first reply whose repair call the budget refused: invalid, and stop
        (BudgetExceeded("token budget used up"), 1200,
         iteration.AskFailed(Outcome.INVALID, "unusable reply; token budget used up",
                             stop="token budget used up")),
        (ModelReplyError("no JSON object"), 900,
         iteration.AskFailed(Outcome.INVALID,
                             "unusable reply after the repair call: no JSON object")),
        # the model could not be reached: an error attempt, raised on
        (ModelUnavailable("MiniMax gave no answer"), 0,
         iteration.AskFailed(Outcome.ERROR, "ModelUnavailable: MiniMax gave no answer",
                             reraise=True)),
    ],
)
def test_what_a_failed_question_to_the_model_leaves(
    error: ModelError, tokens: int, expected: iteration.AskFailed
) -> None:
    assert iteration.ask_failed(error, tokens) == expected

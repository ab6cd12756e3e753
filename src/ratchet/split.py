"""The artifacts between the three jobs of the split workflow (propose → evaluate → publish),
each read as untrusted input.

* ``proposal/proposal.json`` — written by *propose* (model key and memory, no write token, runs
  no repository code): the task, the commits it starts from (base and task-branch tip), the
  model's edits and the hash of the patch they make; plus ``proposal/repo.bundle`` (those two
  commits, so *evaluate* needs no token to get the code).
* ``evaluation/evaluation.json`` — written by *evaluate* (no secrets at all): the hash of the
  proposal file it judged, the patch hash it got by applying the edits itself, and the verdict.

*Publish* (write token, no model key) re-applies the edits to the tip it is about to push on,
and goes on only if the patch hash is the one in both files and the evaluation is of this very
proposal file. A file that is too large, not the schema, or inconsistent is refused with the
reason. Nothing here runs repository code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ratchet.core.outcome import Judged
from ratchet.errors import ConfigError

PROPOSAL, EVALUATION, BUNDLE = "proposal.json", "evaluation.json", "repo.bundle"
MAX_PROPOSAL_BYTES = 4 * 1024 * 1024
MAX_EVALUATION_BYTES = 1024 * 1024
_SHA = r"^[0-9a-f]{40}$"
_HASH = r"^[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EditIn(_Strict):
    path: str = Field(min_length=1, max_length=500)
    search: str = Field(max_length=1_000_000)
    replace: str = Field(max_length=1_000_000)


class ProposalFile(_Strict):
    schema_: Literal[1] = Field(alias="schema")
    task_key: str = Field(min_length=1, max_length=64)
    base_sha: str = Field(pattern=_SHA)
    tip_sha: str = Field(pattern=_SHA)
    remote_sha: str | None = Field(default=None, pattern=_SHA)  # origin's task branch
    attempt: int = Field(ge=1, le=1_000_000)
    title: str = Field(max_length=500)
    rationale: str = Field(max_length=20_000)
    edits: tuple[EditIn, ...] = Field(min_length=1, max_length=200)
    patch_sha256: str = Field(pattern=_HASH)
    asked: tuple[str, ...] = Field(default=(), max_length=20)
    tokens_in: int = Field(ge=0)
    tokens_out: int = Field(ge=0)
    cost_usd: float | None = Field(default=None, ge=0)
    known_flaky: tuple[str, ...] = Field(default=(), max_length=500)
    run_id: str = Field(max_length=200)


class EvaluationFile(_Strict):
    schema_: Literal[1] = Field(alias="schema")
    proposal_sha256: str = Field(pattern=_HASH)
    patch_sha256: str = Field(pattern=_HASH)
    outcome: Judged
    score_before: int = Field(ge=0, le=100)
    score_after: int = Field(ge=0, le=100)
    reason: str = Field(max_length=4000)
    failing: tuple[str, ...] = Field(default=(), max_length=50)
    failing_left: int | None = Field(default=None, ge=0)
    flaky: tuple[str, ...] = Field(default=(), max_length=500)
    test_output: str = Field(default="", max_length=300_000)


def write_json(path: Path, model: BaseModel) -> bytes:
    data = model.model_dump_json(by_alias=True, indent=1).encode()
    path.write_bytes(data)
    return data


def _read(path: Path, limit: int, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise ConfigError(f"the {what} artifact {path} is {size} bytes (at most {limit})",
                              "it was not written by Ratchet; run the workflow again")
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} artifact {path}: {exc}",
                          "check that the job downloaded the artifact there") from exc


def read_proposal(directory: Path) -> tuple[ProposalFile, str]:
    """The proposal and the SHA-256 of its file. Raises ConfigError naming the problem."""
    raw = _read(directory / PROPOSAL, MAX_PROPOSAL_BYTES, "proposal")
    return _parse(ProposalFile, raw, "proposal"), hashlib.sha256(raw).hexdigest()


def read_evaluation(directory: Path) -> EvaluationFile:
    raw = _read(directory / EVALUATION, MAX_EVALUATION_BYTES, "evaluation")
    return _parse(EvaluationFile, raw, "evaluation")


def _parse(model: type[ProposalFile] | type[EvaluationFile], raw: bytes, what: str):  # noqa: ANN202
    try:
        return model.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[:3]
        raise ConfigError(f"the {what} artifact is not Ratchet's: {' '.join(first)}",
                          "it was changed or truncated between jobs; run the workflow again",
                          ) from exc  # fmt: skip


def check_evaluated(proposal_sha256: str, proposal: ProposalFile, evaluation: EvaluationFile,
                    patch_sha256: str) -> None:  # fmt: skip
    """Raise ConfigError unless the evaluation is of this proposal file and the patch about to
    be pushed (``patch_sha256``, recomputed here) is the one proposed and evaluated."""
    problems = []
    if evaluation.proposal_sha256 != proposal_sha256:
        problems.append("the evaluation is of another proposal file")
    if proposal.patch_sha256 != patch_sha256:
        problems.append("the proposal's edits no longer make the patch it names")
    if evaluation.patch_sha256 != patch_sha256:
        problems.append("the evaluated patch is not the one about to be pushed")
    if problems:
        raise ConfigError("refusing to publish: " + "; ".join(problems),
                          "an artifact was changed between jobs; nothing was pushed. Run the "
                          "workflow again, and check who can write to its artifacts")  # fmt: skip

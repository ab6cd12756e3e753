from __future__ import annotations

import base64

from ratchet.redact import Redactor, redact, secret_values


def test_known_secret_and_encodings_redacted() -> None:
    env = {"MINIMAX_API_KEY": "sk-live-1234567890", "HOME": "/root", "GITHUB_TOKEN": "tok123456"}
    assert set(secret_values(env)) == {"sk-live-1234567890", "tok123456"}
    b64 = base64.b64encode(b"tok123456").decode()
    text = f"a sk-live-1234567890 b {b64} c tok123456 d {b'tok123456'.hex()}"
    out = redact(text, env)
    assert "tok123456" not in out and b64 not in out and "1234567890" not in out
    assert out.count("***") == 4


def test_token_shapes_redacted_without_knowing_value() -> None:
    r = Redactor()
    assert r("push ghp_" + "a" * 36 + " done") == "push *** done"
    assert r("nothing here") == "nothing here"

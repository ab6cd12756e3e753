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


def test_one_list_serves_redaction_and_the_sandbox() -> None:
    from ratchet.core.secrets import is_credential_name, is_withheld_name
    from ratchet.evaluate.testenv import is_secret_name, looks_secret_value

    env = {
        "DB_PASSWORD": "hunter22-long",
        "SESSION_COOKIE": "c00kie-value",
        "GITHUB_REPOSITORY": "owner/repo-name",  # withheld from tests, not a secret to redact
        "HOME": "/home/runner",
    }
    assert set(secret_values(env)) == {"hunter22-long", "c00kie-value"}
    for name in env:
        # every name redaction treats as secret is also withheld from the tests
        assert not is_credential_name(name) or is_withheld_name(name)
    assert is_secret_name("GITHUB_REPOSITORY") and not is_credential_name("GITHUB_REPOSITORY")
    r = Redactor()
    for token in ["AKIA" + "ABCDEFGHIJKLMNOP", "xoxb-" + "1234567890-abcdef", "m0-" + "a1" * 10]:
        assert r(f"key {token} end") == "key *** end"
        assert looks_secret_value(token)

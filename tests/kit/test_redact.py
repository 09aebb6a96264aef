"""Secrets never reach the journal, logs or exports."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from simulators.kit.redact import redact_headers, redact_obj, redact_secret_values, redact_text


def test_headers() -> None:
    out = redact_headers(
        {"Authorization": "Bearer abcdefghijklmnopqrstu", "X-Api-Key": "k" * 20, "Accept": "a"}
    )
    assert out["Authorization"] == "Bearer ***rstu" and out["X-Api-Key"] == "***kkkk" and out["Accept"] == "a"


def test_nested_json_and_form() -> None:
    body = json.dumps(
        {"client_Secret": "s3cr3t-value-long", "nested": [{"user_api_key": "abc"}], "name": "x"}
    )
    red = json.loads(redact_text(body, "application/json"))
    assert (
        red["client_Secret"].startswith("***")
        and red["nested"][0]["user_api_key"] == "***"
        and red["name"] == "x"
    )
    form = redact_text(
        "client_id=c&client_secret=topsecretvalue1&vendor_api_key=v", "application/x-www-form-urlencoded"
    )
    assert "topsecretvalue1" not in form and "client_id=c" in form


def test_bare_json_string_body_is_scrubbed_by_known_values() -> None:
    assert "refresh-token-value-123" not in redact_secret_values(
        '"refresh-token-value-123"', ["refresh-token-value-123"]
    )


@given(secret=st.text(alphabet=st.characters(min_codepoint=48, max_codepoint=122), min_size=6, max_size=40))
def test_known_secrets_never_survive(secret: str) -> None:
    text = f"prefix {secret} middle {secret} end"
    assert secret not in redact_secret_values(text, [secret]) or secret in "***"


def test_redact_obj_keeps_non_secrets() -> None:
    assert redact_obj({"a": 1, "token": "tok-tok-tok-tok"}) == {"a": 1, "token": "***-tok"}

"""Masking secrets in action input (meltemi.actions.masking)."""

from __future__ import annotations

import pytest

from meltemi.actions.masking import (
    MASK,
    configured_patterns,
    is_sensitive,
    mask,
    mask_text,
    redact,
    secret_values,
)


def test_std_actions_secret_parameters_are_masked() -> None:
    given = {
        "url": "https://api.example.org/v1",
        "auth": "ann:s3cret",
        "headers": {
            "Authorization": "Bearer abc",
            "X-Auth-Token": "tok",
            "Proxy-Authorization": "Basic xyz",
            "Content-Type": "application/json",
        },
        "cookies": {"session": "s"},
        "password": "pw",
        "smtp_password": "pw",
        "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----",
        "username": "ann",
        "author": "Ann",
    }
    masked = mask(given)
    assert masked == {
        "url": "https://api.example.org/v1",
        "auth": MASK,
        "headers": {
            "Authorization": MASK,
            "X-Auth-Token": MASK,
            "Proxy-Authorization": MASK,
            "Content-Type": "application/json",
        },
        "cookies": MASK,
        "password": MASK,
        "smtp_password": MASK,
        "private_key": MASK,
        "username": "ann",
        "author": "Ann",
    }
    assert given["password"] == "pw"  # the input itself is left alone


def test_nested_lists_and_tuples() -> None:
    given = {"hosts": [{"name": "a", "api_key": "k"}, ("x", {"secret": 1})]}
    assert mask(given) == {"hosts": [{"name": "a", "api_key": MASK}, ("x", {"secret": MASK})]}


def test_empty_secrets_stay_visible() -> None:
    assert mask({"password": "", "smtp_password": None}) == {
        "password": "",
        "smtp_password": None,
    }


def test_passwords_in_urls() -> None:
    assert mask_text("see https://ann:s3cret@example.org/x") == "see https://ann:***@example.org/x"
    assert mask({"proxy": "http://u:p@proxy:3128"}) == {"proxy": "http://u:***@proxy:3128"}
    assert mask_text("mailto:ann@example.org") == "mailto:ann@example.org"


def test_configured_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELTEMI_SENSITIVE_KEYS_EXTRA", "pin, otp")
    assert is_sensitive("card_pin")
    assert mask({"OTP": "123456", "password": "x"}) == {"OTP": MASK, "password": MASK}
    monkeypatch.setenv("MELTEMI_SENSITIVE_KEYS", "only_this")
    assert configured_patterns() == ("only_this", "pin", "otp")
    assert not is_sensitive("password")
    assert is_sensitive("auth")  # std.http's credentials are always masked
    assert mask({"x": {"only-this": 1}}, patterns=["only_this"]) == {"x": {"only-this": MASK}}


def test_secret_values_are_found_at_any_depth() -> None:
    given = {
        "auth": "ann:s3cret-pw",
        "context": {"db": {"password": "longpassword"}, "user": "ann"},
        "headers": {"X-Auth-Token": 12345678},
        "pin": "1",
        "token": "abc",  # too short to hunt for inside messages
    }
    assert secret_values(given) == ["ann:s3cret-pw", "longpassword", "s3cret-pw", "12345678"]


def test_redact_masks_input_secrets_and_url_passwords_in_a_message() -> None:
    given = {"password": "longpassword", "url": "https://u:p4ss@h/"}
    message = "login with longpassword failed at https://u:p4ss@h/ (user u)"
    assert redact(message, given) == "login with *** failed at https://u:***@h/ (user u)"
    assert redact("nothing secret", given) == "nothing secret"

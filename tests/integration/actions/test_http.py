"""std.http against a real HTTP server on loopback, through the executor."""

from __future__ import annotations

import json

import pytest

from meltemi.actions import ActionRegistry
from meltemi.actions.std.egress import HttpSettings
from tests.integration.actions.conftest import RunAction
from tests.integration.actions.servers import BASIC_PASSWORD, BASIC_USER, HttpServer


def test_json_response_is_parsed(http: HttpServer, run_action: RunAction) -> None:
    outcome = run_action("std.http", {"url": f"{http.url}/json"})
    assert not outcome.is_error, outcome.error
    result = outcome.data
    assert result["content"] == {"hello": "world", "items": [1, 2, 3]}
    assert result["status"] == 200
    assert result["reason"] == "OK"
    assert result["url"] == f"{http.url}/json"
    assert result["headers"]["Content-Type"] == "application/json"
    assert result["encoding"] == "utf-8"
    assert result["history"] == []
    assert isinstance(result["elapsed"], float)
    json.dumps(result)  # a result must be storable as JSON


def test_text_response_is_text(http: HttpServer, run_action: RunAction) -> None:
    outcome = run_action("std.http", {"url": f"{http.url}/text"})
    assert outcome.data["content"] == "plain text, ünïcode"
    assert outcome.data["headers"]["Content-Type"] == "text/plain; charset=utf-8"


def test_request_carries_method_params_headers_and_body(
    http: HttpServer, run_action: RunAction
) -> None:
    outcome = run_action(
        "std.http",
        {
            "url": f"{http.url}/echo",
            "method": "post",
            "params": {"q": "wind", "n": 3},
            "body": {"a": 1},
            "headers": {"X-Number": 42, "X-Text": "yes"},
        },
    )
    echo = outcome.data["content"]
    assert echo["method"] == "POST"
    assert echo["query"] == {"q": "wind", "n": "3"}
    assert echo["headers"]["X-Number"] == "42"
    assert echo["headers"]["X-Text"] == "yes"
    assert json.loads(echo["body"]) == {"a": 1}


def test_json_parameter_is_sent_as_json(http: HttpServer, run_action: RunAction) -> None:
    outcome = run_action(
        "std.http", {"url": f"{http.url}/echo", "method": "PUT", "json": {"b": [1, 2]}}
    )
    echo = outcome.data["content"]
    assert echo["headers"]["Content-Type"] == "application/json"
    assert json.loads(echo["body"]) == {"b": [1, 2]}


def test_body_and_json_together_is_an_input_error(run_action: RunAction) -> None:
    outcome = run_action("std.http", {"url": "http://127.0.0.1:1/", "body": "x", "json": {}})
    assert outcome.error == "Only one of the parameters 'json' and 'body' can be passed"


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_error_status_fails_with_the_response(
    http: HttpServer, run_action: RunAction, status: int
) -> None:
    outcome = run_action("std.http", {"url": f"{http.url}/status/{status}"})
    assert outcome.is_error
    assert outcome.error["status"] == status
    assert outcome.error["content"] == {"status": status, "why": "asked for"}


@pytest.mark.parametrize("status", [201, 204, 304])
def test_statuses_up_to_306_succeed(http: HttpServer, run_action: RunAction, status: int) -> None:
    outcome = run_action("std.http", {"url": f"{http.url}/status/{status}"})
    assert not outcome.is_error
    assert outcome.data["status"] == status


def test_redirects_are_followed_only_when_allowed(http: HttpServer, run_action: RunAction) -> None:
    kept = run_action("std.http", {"url": f"{http.url}/redirect/2"})
    assert kept.data["status"] == 302
    assert kept.data["headers"]["Location"] == "/redirect/1"

    followed = run_action("std.http", {"url": f"{http.url}/redirect/2", "allow_redirects": True})
    assert followed.data["status"] == 200
    assert followed.data["url"] == f"{http.url}/json"
    assert followed.data["history"] == [
        {"status": 302, "url": f"{http.url}/redirect/2"},
        {"status": 302, "url": f"{http.url}/redirect/1"},
    ]


def test_basic_auth(http: HttpServer, run_action: RunAction) -> None:
    url = f"{http.url}/basic-auth"
    denied = run_action("std.http", {"url": url})
    assert denied.error["status"] == 401
    allowed = run_action("std.http", {"url": url, "auth": f"{BASIC_USER}:{BASIC_PASSWORD}"})
    assert allowed.data["content"] == {"authenticated": True}
    as_list = run_action("std.http", {"url": url, "auth": [BASIC_USER, BASIC_PASSWORD]})
    assert as_list.data["status"] == 200


def test_cookies_both_ways(http: HttpServer, run_action: RunAction) -> None:
    outcome = run_action("std.http", {"url": f"{http.url}/cookie", "cookies": {"session": "abc"}})
    assert outcome.data["content"] == {"got": "session=abc"}
    assert outcome.data["cookies"] == {"flavour": "oat"}


def test_cookies_stay_with_their_call(http: HttpServer, run_action: RunAction) -> None:
    """Calls share connection pools, never cookies: what a server sets in one call's
    answer is not sent by the next call."""
    first = run_action("std.http", {"url": f"{http.url}/cookie"})
    assert first.data["cookies"] == {"flavour": "oat"}
    second = run_action("std.http", {"url": f"{http.url}/cookie"})
    assert second.data["content"] == {"got": None}


def test_proxies_from_input_and_environment(
    http: HttpServer, run_action: RunAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test server plays the proxy: it sees the absolute URL."""
    target = "http://localhost:9/echo"
    given = run_action("std.http", {"url": target, "proxies": {"http": http.url}})
    assert given.data["content"]["path"] == "/echo"
    monkeypatch.setenv("HTTP_PROXY", http.url)
    from_env = run_action("std.http", {"url": f"{target}?from=env"})
    assert from_env.data["content"]["query"] == {"from": "env"}
    assert [r.path for r in http.requests] == [target, f"{target}?from=env"]
    monkeypatch.setenv("NO_PROXY", "localhost")  # read again: straight to port 9, refused
    direct = run_action("std.http", {"url": target})
    assert direct.error.startswith("Failed to send HTTP request: ConnectError")
    assert len(http.requests) == 2


def test_connection_refused(run_action: RunAction) -> None:
    from tests.integration.actions.servers import free_port

    outcome = run_action("std.http", {"url": f"http://127.0.0.1:{free_port()}/"})
    assert outcome.error.startswith("Failed to send HTTP request: ConnectError")


def test_request_timeout(http: HttpServer, run_action: RunAction) -> None:
    outcome = run_action("std.http", {"url": f"{http.url}/slow", "timeout": 0.2})
    assert outcome.error.startswith("Failed to send HTTP request: ReadTimeout")


def test_default_timeout_from_environment(
    http: HttpServer, run_action: RunAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELTEMI_HTTP_TIMEOUT", "0.2")
    outcome = run_action("std.http", {"url": f"{http.url}/slow"})
    assert outcome.error.startswith("Failed to send HTTP request: ReadTimeout")


def test_task_timeout_cancels_a_waiting_request(http: HttpServer, run_action: RunAction) -> None:
    outcome = run_action("std.http", {"url": f"{http.url}/slow"}, timeout=0.5)
    assert outcome.error == "The action 'std.http' timed out after 0.5 s"


def test_cancel_stops_a_waiting_request(http: HttpServer, run_action: RunAction) -> None:
    outcome = run_action(
        "std.http", {"url": f"{http.url}/slow"}, cancel_when=http.slow_started.is_set
    )
    assert outcome.cancelled


def test_response_over_the_size_limit(
    http: HttpServer, run_action: RunAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELTEMI_HTTP_MAX_RESPONSE_SIZE", "1000")
    fits = run_action("std.http", {"url": f"{http.url}/big?size=1000"})
    assert fits.data["content"] == "x" * 1000
    declared = run_action("std.http", {"url": f"{http.url}/big?size=1001"})
    assert declared.error.startswith("HTTP response is too large (Content-Length=1001")
    undeclared = run_action("std.http", {"url": f"{http.url}/undeclared?size=5000"})
    assert "HTTP response is too large (over 1000 bytes read" in undeclared.error


def test_loopback_can_be_denied(
    http: HttpServer, run_action: RunAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELTEMI_HTTP_DENIED_CIDRS", "127.0.0.0/8,::1/128")
    outcome = run_action("std.http", {"url": f"{http.url}/json"})
    assert "resolves to 127.0.0.1, in the denied network 127.0.0.0/8" in outcome.error
    by_name = run_action("std.http", {"url": http.url.replace("127.0.0.1", "localhost")})
    assert "in the denied network" in by_name.error
    assert not http.requests


def test_redirect_into_a_denied_network_is_refused(
    http: HttpServer, run_action: RunAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every hop is checked: an allowed host cannot redirect to a denied one."""
    monkeypatch.setenv("MELTEMI_HTTP_ALLOWED_HOSTS", "127.0.0.1")
    outcome = run_action(
        "std.http",
        {"url": f"{http.url}/echo?status=302", "allow_redirects": True},
    )
    assert outcome.data["status"] == 302  # no Location: nothing to follow
    monkeypatch.setenv("MELTEMI_HTTP_ALLOWED_HOSTS", "example.org")
    refused = run_action("std.http", {"url": f"{http.url}/redirect/1", "allow_redirects": True})
    assert refused.error == (
        "Host '127.0.0.1' is not in the allowed hosts (MELTEMI_HTTP_ALLOWED_HOSTS)"
    )


def test_link_local_is_denied_by_default(run_action: RunAction) -> None:
    outcome = run_action("std.http", {"url": "http://169.254.169.254/latest/meta-data/"})
    assert "in the denied network 169.254.0.0/16" in outcome.error


def test_only_http_and_https(run_action: RunAction) -> None:
    outcome = run_action("std.http", {"url": "file:///etc/passwd"})
    assert outcome.error == "URL scheme 'file' is not allowed (only http and https are)"


def test_settings_from_environment() -> None:
    settings = HttpSettings.from_env(
        {
            "MELTEMI_HTTP_ALLOWED_HOSTS": "api.example.org, *.internal",
            "MELTEMI_HTTP_DENIED_CIDRS": "",
            "MELTEMI_HTTP_TIMEOUT": "0",
            "MELTEMI_HTTP_MAX_RESPONSE_SIZE": "10",
        }
    )
    assert settings.host_allowed("API.example.org")
    assert settings.host_allowed("db.internal")
    assert not settings.host_allowed("example.org")
    assert settings.denied_networks == ()
    assert settings.default_timeout is None
    assert settings.max_response_size == 10
    default = HttpSettings.from_env({})
    assert [str(n) for n in default.denied_networks] == ["169.254.0.0/16", "fe80::/10"]
    assert default.default_timeout == 60
    assert default.max_response_size == 5 * 1024 * 1024


def test_signature_is_mistrals(registry: ActionRegistry) -> None:
    assert registry.get("std.http").input_text == (
        'url, method="GET", params=null, body=null, json=null, headers=null, cookies=null, '
        "auth=null, timeout=null, allow_redirects=null, proxies=null, verify=null"
    )
    assert registry.get("std.mistral_http").input_text == registry.get("std.http").input_text
    assert not registry.get("std.mistral_http").is_sync

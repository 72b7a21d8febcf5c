"""std.http and std.mistral_http, on httpx.

Input and result are Mistral's (``url, method="GET", params, body, json, headers,
cookies, auth, timeout, allow_redirects, proxies, verify``; the result is ``{content,
status, headers, url, history, encoding, reason, cookies, elapsed}``), with these
readings of what Mistral leaves to the ``requests`` library:

- ``body``: a mapping (or list) is sent as a JSON string, a string as it is; ``json``
  is sent as JSON with its content type; both at once is an input error.
- ``headers``: numbers become strings; header names keep their case in the result.
- ``auth``: ``"user:password"`` (split at the first colon) or ``[user, password]``,
  sent as HTTP basic authentication.
- ``allow_redirects``: redirects are followed only when it is true, as in Mistral
  (where the unset default reaches ``requests`` as ``None`` and so follows none); a
  3xx answer up to 306 is then a success with that status. Every hop is checked by
  the egress rules.
- ``proxies``: ``{"http": url, "https": url}`` (also ``"all"`` or ``"http://host"``
  keys); ``verify`` (true, false or a CA bundle path) applies to https only.
- ``content``: the body parsed as JSON when it parses (as Mistral does, whatever the
  content type), else the text decoded with ``encoding``; ``history`` lists the
  redirects followed as ``{status, url}``; ``elapsed`` is in seconds.
- A status outside 200-306 gives an error whose data is the same dict; a request that
  cannot be sent (refused, timed out, bad TLS, ...) the error ``Failed to send HTTP
  request: ...``; a URL the egress rules forbid, or a body over the size limit, an
  error saying so (see :mod:`meltemi.actions.std.egress`).

The request runs on the process's HTTP loop, over connection pools shared by all
calls (:mod:`meltemi.actions.std._http_pool`), while the worker thread waits for it, so
it can be cancelled (a task timeout does this) while it waits to connect or for an
answer. Each call has its own client: its cookies, auth, redirects and egress checks
are its own, and cookies a server sets never reach another call.

std.mistral_http is asynchronous: the request carries the execution's headers
(``Mistral-Workflow-Name``, ``Mistral-Workflow-Execution-Id``, ``Mistral-Task-Id``,
``Mistral-Action-Execution-Id``, ``Mistral-Callback-URL``) and the task waits until
the called service sends the result with ``PUT`` to the callback URL; a failed request
fails the task at once. Headers whose value is unknown (no callback URL when Meltemi
runs without its API, as in ``meltemi run``) are left out.
"""

from __future__ import annotations

import asyncio
import functools
import json as jsonlib
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from concurrent.futures import wait as wait_futures
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from meltemi.actions.base import Action, ActionContext, Outcome
from meltemi.actions.errors import ActionError
from meltemi.actions.std._http_pool import HttpLoop, Lease, environment_proxies, shard
from meltemi.actions.std.egress import HttpSettings, UrlNotAllowed

if TYPE_CHECKING:  # httpx is imported when a request is sent: it costs ~90 ms at start-up
    import httpx

log = logging.getLogger(__name__)

CANCELLED = "Action was cancelled"
# How often a waiting request looks at the context's cancellation flag.
_CANCEL_POLL = 0.05


class HttpInputError(ActionError):
    """The input of an HTTP action cannot make a request."""


class ResponseTooLarge(ActionError):
    def __init__(self, size: int, limit: int, *, declared: bool) -> None:
        what = f"Content-Length={size}" if declared else f"over {limit} bytes read"
        super().__init__(
            f"HTTP response is too large ({what}, limit={limit} bytes, "
            "MELTEMI_HTTP_MAX_RESPONSE_SIZE)"
        )


class HttpAction(Action):
    """Sends an HTTP request and returns the response."""

    def __init__(
        self,
        url: str,
        method: str = "GET",
        params: Any = None,
        body: Any = None,
        json: Any = None,
        headers: Mapping[str, Any] | None = None,
        cookies: Mapping[str, Any] | None = None,
        auth: Any = None,
        timeout: float | None = None,
        allow_redirects: bool | None = None,
        proxies: Mapping[str, str] | None = None,
        verify: bool | str | None = None,
    ) -> None:
        if body is not None and json is not None:
            raise HttpInputError("Only one of the parameters 'json' and 'body' can be passed")
        if not isinstance(url, str) or not url:
            raise HttpInputError("'url' must be a non-empty string")
        self.url = url
        self.method = str(method or "GET").upper()
        self.params = params
        self.body = _body(body)
        self.json = json
        self.headers = _headers(headers)
        self.cookies = {str(k): str(v) for k, v in (cookies or {}).items()}
        self.auth = _auth(auth)
        self.timeout = None if timeout is None else float(timeout)
        self.allow_redirects = bool(allow_redirects)
        self.proxies = dict(proxies or {})
        self.verify = verify

    def run(self, context: ActionContext) -> Any:
        return self.send(context, self.headers)

    def send(self, context: ActionContext, headers: Mapping[str, str]) -> Outcome:
        """Runs the request; the Outcome Mistral's std.http gives."""
        settings = HttpSettings.from_env()
        if context.cancelled.is_set():
            return Outcome(cancelled=True, error=CANCELLED)
        future = asyncio.run_coroutine_threadsafe(
            self._send(settings, headers, shard()), HttpLoop.shared().loop
        )
        while not wait_futures((future,), timeout=_CANCEL_POLL).done:
            if context.cancelled.is_set():
                future.cancel()
                return Outcome(cancelled=True, error=CANCELLED)
        try:
            answer = future.result()
        except UrlNotAllowed as e:
            return Outcome(error=str(e))
        if isinstance(answer, Outcome):
            return answer
        response, body, elapsed = answer
        result = _result(response, body, elapsed)
        if not 200 <= response.status_code <= 306:
            return Outcome(error=result)
        return Outcome(data=result)

    async def _send(
        self, settings: HttpSettings, headers: Mapping[str, str], shard: int
    ) -> Outcome | tuple[httpx.Response, bytes, float]:
        """On the HTTP loop: the response and its body, or the Outcome of a failure."""
        import httpx

        timeout = self.timeout if self.timeout is not None else settings.default_timeout
        if timeout is not None and timeout <= 0:
            timeout = None

        hops = 0

        async def check(request: httpx.Request) -> None:
            nonlocal hops
            hops += 1
            if hops > 1:  # a redirect: the first URL was checked before the client existed
                await settings.check(str(request.url))

        pools = HttpLoop.shared()
        lease = Lease()
        started = time.monotonic()
        try:
            await settings.check(self.url)
            ssl_context, verify_key = self._ssl_context()

            def pool(proxy: str | None) -> httpx.AsyncHTTPTransport:
                return pools.transport(ssl_context, (verify_key, proxy, shard), lease)

            client = httpx.AsyncClient(
                timeout=timeout,
                follow_redirects=self.allow_redirects,
                cookies=self.cookies,
                auth=self.auth,
                transport=pool(None),
                mounts=self._mounts(pool),
                event_hooks={"request": [check]},
            )
            request = client.build_request(
                self.method,
                self.url,
                params=self.params,
                content=self.body,
                json=self.json,
                headers=dict(headers),
            )
            response = await client.send(request, stream=True)
            try:
                body = await _read(response, settings.max_response_size)
            finally:
                await response.aclose()
        except (UrlNotAllowed, ResponseTooLarge) as e:
            return Outcome(error=str(e))
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ssl.SSLError) as e:
            return Outcome(error=f"Failed to send HTTP request: {_explain(e)}")
        finally:
            await pools.give_back(lease)
        return response, body, time.monotonic() - started

    def _ssl_context(self) -> tuple[ssl.SSLContext, str]:
        """The TLS context for the request, and a key naming it."""
        if urlsplit(self.url).scheme != "https" or self.verify is None or self.verify is True:
            return _default_ssl(), "default"
        if self.verify is False:
            return _unverified_ssl(), "unverified"
        return _ca_bundle_ssl(str(self.verify)), f"ca:{self.verify}"

    def _mounts(
        self, pool: Callable[[str | None], httpx.AsyncHTTPTransport]
    ) -> dict[str, httpx.AsyncBaseTransport | None]:
        """The proxies: the environment's (as httpx reads them), then the input's."""
        mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
        for pattern, url in environment_proxies().items():
            mounts[pattern] = None if url is None else pool(url)
        for key, proxy in self.proxies.items():
            pattern = key if "://" in key else f"{key}://"
            mounts[pattern] = pool(proxy)
        return mounts


class MistralHttpAction(HttpAction):
    """Sends an HTTP request with the execution's headers; the called service sends
    the result later to the callback URL (``PUT /v2/action_executions/{id}``)."""

    asynchronous = True

    def run(self, context: ActionContext) -> Any:
        extra = {
            "Mistral-Workflow-Name": context.workflow_name,
            "Mistral-Workflow-Execution-Id": context.workflow_execution_id,
            "Mistral-Task-Id": context.task_execution_id,
            "Mistral-Action-Execution-Id": context.action_execution_id,
            "Mistral-Callback-URL": context.callback_url,
        }
        headers = {**self.headers, **{k: v for k, v in extra.items() if v is not None}}
        outcome = self.send(context, headers)
        # Started: the result comes through the API. Only a failure is reported now.
        return outcome if outcome.is_error else None


async def _read(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if limit and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(int(declared), limit, declared=True)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if limit and size > limit:
            raise ResponseTooLarge(size, limit, declared=False)
        chunks.append(chunk)
    return b"".join(chunks)


def _result(response: httpx.Response, body: bytes, elapsed: float) -> dict[str, Any]:
    encoding = response.encoding or "utf-8"
    text = body.decode(encoding, errors="replace")
    content: Any = text
    if text.strip():
        try:
            content = jsonlib.loads(text)
        except ValueError:
            content = text
    return {
        "content": content,
        "status": response.status_code,
        "headers": _response_headers(response),
        "url": str(response.url),
        "history": [{"status": r.status_code, "url": str(r.url)} for r in response.history],
        "encoding": encoding,
        "reason": response.reason_phrase,
        "cookies": _response_cookies(response),
        "elapsed": round(elapsed, 6),
    }


def _response_cookies(response: httpx.Response) -> dict[str, str | None]:
    headers = response.headers
    if "set-cookie" not in headers and "set-cookie2" not in headers:
        return {}  # the cookie jar's parsing costs ~0.1 ms
    return {cookie.name: cookie.value for cookie in response.cookies.jar}


def _response_headers(response: httpx.Response) -> dict[str, str]:
    """The headers with their names as the server wrote them (repeats joined)."""
    found: dict[str, str] = {}
    names: dict[str, str] = {}
    for raw_name, raw_value in response.headers.raw:
        name = raw_name.decode("latin-1")
        value = raw_value.decode("latin-1")
        first = names.setdefault(name.lower(), name)
        found[first] = f"{found[first]}, {value}" if first in found else value
    return found


def _body(body: Any) -> str | bytes | None:
    if body is None or isinstance(body, str | bytes):
        return body
    return jsonlib.dumps(body)


def _headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise HttpInputError("'headers' must be a mapping of names to values")
    result: dict[str, str] = {}
    for name, value in headers.items():
        if value is None:
            continue
        result[str(name)] = str(value) if not isinstance(value, str) else value
    return result


def _auth(auth: Any) -> tuple[str, str] | None:
    if auth is None or auth == "":
        return None
    if isinstance(auth, str) and ":" in auth:
        user, password = auth.split(":", 1)
        return user, password
    if isinstance(auth, list | tuple) and len(auth) == 2:
        return str(auth[0]), str(auth[1])
    raise HttpInputError("'auth' must be \"user:password\" or [user, password]")


def _explain(error: BaseException) -> str:
    text = str(error)
    if not text and error.__cause__ is not None:
        text = str(error.__cause__)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@functools.cache
def _default_ssl() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()


@functools.cache
def _unverified_ssl() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@functools.lru_cache(maxsize=16)
def _ca_bundle_ssl(path: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=path)

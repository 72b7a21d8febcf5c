"""Masking secrets in action input before it is shown anywhere.

An action's input is kept as given (a rerun needs the real password), but wherever it
is shown to people (logs, ``state_info``, the API's action executions) the values of
sensitive parameters are replaced by ``***``. A key is sensitive when its name,
lower-cased with ``-`` and spaces read as ``_``, contains one of the patterns in
:data:`DEFAULT_PATTERNS` (``password`` covers ``smtp_password``, ``token`` covers
``X-Auth-Token``, ``authorization`` the header) or equals one of :data:`DEFAULT_NAMES`
(``auth``, std.http's credentials). This is what Mistral's redaction of sensitive keys
and its ``[action_logging] sensitive_headers`` option do; as there, the list can be
changed: ``MELTEMI_SENSITIVE_KEYS`` (comma-separated patterns) replaces the patterns,
``MELTEMI_SENSITIVE_KEYS_EXTRA`` adds to them.

Besides keys, a password written into a URL (``https://user:secret@host/``) is masked
in any string value.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

MASK: Final = "***"

DEFAULT_PATTERNS: Final = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "credential",
    "private_key",
    "authorization",
    "cookie",
)
# Names that are secrets only as a whole word: 'auth' masks std.http's auth, not 'author'.
DEFAULT_NAMES: Final = ("auth", "x_auth", "proxy_auth", "pkey", "key_data")

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@")


def _normalise(key: str) -> str:
    return key.lower().replace("-", "_").replace(" ", "_")


@functools.lru_cache(maxsize=8)
def _rules(
    patterns: tuple[str, ...], names: tuple[str, ...]
) -> tuple[re.Pattern[str], frozenset[str]]:
    joined = "|".join(re.escape(_normalise(p)) for p in patterns if p.strip())
    return re.compile(joined or r"(?!)"), frozenset(_normalise(n) for n in names)


def configured_patterns(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The patterns in force: the defaults, or the environment's."""
    env = os.environ if environ is None else environ
    given = env.get("MELTEMI_SENSITIVE_KEYS")
    patterns = DEFAULT_PATTERNS if given is None else tuple(_split(given))
    return patterns + tuple(_split(env.get("MELTEMI_SENSITIVE_KEYS_EXTRA", "")))


def _split(text: str) -> Iterable[str]:
    return (part.strip() for part in text.split(",") if part.strip())


def is_sensitive(key: str, *, patterns: Iterable[str] | None = None) -> bool:
    """Whether the value under ``key`` is a secret."""
    chosen = tuple(patterns) if patterns is not None else configured_patterns()
    regex, names = _rules(chosen, DEFAULT_NAMES)
    name = _normalise(key)
    return name in names or regex.search(name) is not None


def mask_text(text: str) -> str:
    """``text`` with passwords in URLs (``scheme://user:password@``) masked."""
    if "@" not in text or "://" not in text:
        return text
    return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)


def mask(data: Any, *, patterns: Iterable[str] | None = None) -> Any:
    """A copy of ``data`` with the values of sensitive keys masked, at any depth.

    Mappings, lists and tuples are walked; other values are returned as they are
    (strings with URL passwords masked). The input is never changed. A sensitive key
    whose value is ``None`` or empty keeps it, so "no password given" stays visible.

    Args:
        data: an action's input (or any JSON-like value).
        patterns: the key patterns to mask; the configured ones when not given.
    """
    chosen = tuple(patterns) if patterns is not None else configured_patterns()
    regex, names = _rules(chosen, DEFAULT_NAMES)
    return _mask(data, regex, names)


def _mask(data: Any, regex: re.Pattern[str], names: frozenset[str]) -> Any:
    if isinstance(data, Mapping):
        masked: dict[Any, Any] = {}
        for key, value in data.items():
            if isinstance(key, str) and value not in (None, "", [], {}):
                name = _normalise(key)
                if name in names or regex.search(name) is not None:
                    masked[key] = MASK
                    continue
            masked[key] = _mask(value, regex, names)
        return masked
    if isinstance(data, list):
        return [_mask(item, regex, names) for item in data]
    if isinstance(data, tuple):
        return tuple(_mask(item, regex, names) for item in data)
    if isinstance(data, str):
        return mask_text(data)
    return data


def secret_values(data: Any, *, patterns: Iterable[str] | None = None) -> list[str]:
    """The values under sensitive keys of ``data`` as text, longest first.

    Only values of 4 characters or more are returned: masking shorter ones inside a
    message would hide ordinary words.
    """
    chosen = tuple(patterns) if patterns is not None else configured_patterns()
    regex, names = _rules(chosen, DEFAULT_NAMES)
    found: set[str] = set()
    _collect(data, regex, names, found, sensitive=False)
    return sorted((v for v in found if len(v) >= _SHORTEST_SECRET), key=len, reverse=True)


_SHORTEST_SECRET: Final = 4


def _collect(
    data: Any, regex: re.Pattern[str], names: frozenset[str], found: set[str], *, sensitive: bool
) -> None:
    if isinstance(data, Mapping):
        for key, value in data.items():
            name = _normalise(key) if isinstance(key, str) else ""
            hidden = sensitive or name in names or (bool(name) and regex.search(name) is not None)
            _collect(value, regex, names, found, sensitive=hidden)
    elif isinstance(data, list | tuple):
        for item in data:
            _collect(item, regex, names, found, sensitive=sensitive)
    elif sensitive and isinstance(data, str | int | float) and not isinstance(data, bool):
        found.add(str(data))
        if isinstance(data, str) and ":" in data:  # "user:password" credentials
            found.add(data.split(":", 1)[1])


def redact(text: str, data: Any, *, patterns: Iterable[str] | None = None) -> str:
    """``text`` (an error message) with the secrets of ``data`` (the action's input)
    and passwords in URLs replaced by ``***``."""
    for secret in secret_values(data, patterns=patterns):
        text = text.replace(secret, MASK)
    return mask_text(text)

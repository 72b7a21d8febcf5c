"""Where std.http may connect to, how long it waits and how much it reads.

The rules are Mistral's ``[action_std_http]`` options, read from the environment each
time an HTTP action runs (so a change needs no restart):

=================================  =====================================================
``MELTEMI_HTTP_ALLOWED_HOSTS``     comma-separated host names; when set, only these
                                   (``*.example.com`` matches sub-domains). Default: any.
``MELTEMI_HTTP_DENIED_CIDRS``      comma-separated networks no request may reach (every
                                   address the host resolves to is checked, on each
                                   redirect too). Default: link-local only,
                                   ``169.254.0.0/16,fe80::/10``. Empty: no check.
``MELTEMI_HTTP_TIMEOUT``           seconds a request may take when the action gives no
                                   ``timeout``. Default 60; 0 = no limit.
``MELTEMI_HTTP_MAX_RESPONSE_SIZE`` bytes of (decoded) body read at most. Default 5 MiB;
                                   0 = no limit.
=================================  =====================================================

Why the default differs from Mistral's (which also denies loopback, 127.0.0.0/8 and
::1): Meltemi's default deployment is one process, for one user, listening on
127.0.0.1; whoever can write a workflow there is the local user, who can reach
loopback anyway (and runs std.ssh with their own keys). Denying loopback would break
the first thing people do on a laptop (call a service they run locally, or Meltemi's
own API for std.mistral_http callbacks) while protecting nothing. Link-local stays
denied: it holds the cloud metadata service (169.254.169.254), which hands out the
machine's credentials, and no legitimate workflow needs it. A shared deployment that
runs workflows written by others should set Mistral's list::

    MELTEMI_HTTP_DENIED_CIDRS=127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10

plus its private networks (10.0.0.0/8, ...). As in Mistral, the check resolves the
host before connecting, so DNS rebinding between the check and the connection is not
covered; isolate the executor's network when that matters.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from meltemi.actions.errors import ActionError

log = logging.getLogger(__name__)

DEFAULT_DENIED_CIDRS: Final = ("169.254.0.0/16", "fe80::/10")
MISTRAL_DENIED_CIDRS: Final = ("127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10")
DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_MAX_RESPONSE_SIZE: Final = 5 * 1024 * 1024

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlNotAllowed(ActionError):
    """The egress rules forbid a URL."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpSettings:
    """The egress rules and limits of std.http (see the module's table)."""

    allowed_hosts: tuple[str, ...] = ()
    denied_networks: tuple[Network, ...] = ()
    default_timeout: float | None = DEFAULT_TIMEOUT
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpSettings:
        env = os.environ if environ is None else environ
        return _parse(
            env.get("MELTEMI_HTTP_ALLOWED_HOSTS", ""),
            env.get("MELTEMI_HTTP_DENIED_CIDRS"),
            env.get("MELTEMI_HTTP_TIMEOUT", ""),
            env.get("MELTEMI_HTTP_MAX_RESPONSE_SIZE", ""),
        )

    def host_allowed(self, host: str) -> bool:
        if not self.allowed_hosts:
            return True
        host = host.lower().rstrip(".")
        for allowed in self.allowed_hosts:
            if host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:])):
                return True
        return False

    def denied(self, address: Address) -> Network | None:
        """The denied network ``address`` is in, if any."""
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        for network in self.denied_networks:
            for candidate in candidates:
                if candidate.version == network.version and candidate in network:
                    return network
        return None

    async def check(self, url: str) -> None:
        """Raises UrlNotAllowed when the rules forbid ``url``."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise UrlNotAllowed(
                f"URL scheme '{parts.scheme}' is not allowed (only http and https are)"
            )
        host = parts.hostname
        if not host:
            raise UrlNotAllowed(f"URL '{url}' has no host")
        if not self.host_allowed(host):
            raise UrlNotAllowed(
                f"Host '{host}' is not in the allowed hosts (MELTEMI_HTTP_ALLOWED_HOSTS)"
            )
        if not self.denied_networks:
            return
        for address in await _addresses(host, parts.port):
            network = self.denied(address)
            if network is not None:
                raise UrlNotAllowed(
                    f"URL host '{host}' resolves to {address}, in the denied network "
                    f"{network} (MELTEMI_HTTP_DENIED_CIDRS)"
                )


async def _addresses(host: str, port: int | None) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        # The connection would fail to resolve too: nothing can be reached.
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


@functools.lru_cache(maxsize=16)
def _parse(allowed: str, denied: str | None, timeout: str, size: str) -> HttpSettings:
    networks: list[Network] = []
    for cidr in DEFAULT_DENIED_CIDRS if denied is None else _split(denied):
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            log.warning("http.denied_cidr_ignored", extra={"cidr": cidr})
    seconds = _number(timeout, DEFAULT_TIMEOUT, "MELTEMI_HTTP_TIMEOUT")
    limit = _number(size, DEFAULT_MAX_RESPONSE_SIZE, "MELTEMI_HTTP_MAX_RESPONSE_SIZE")
    return HttpSettings(
        allowed_hosts=tuple(h.lower().rstrip(".") for h in _split(allowed)),
        denied_networks=tuple(networks),
        default_timeout=seconds if seconds > 0 else None,
        max_response_size=max(int(limit), 0),
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _number(text: str, default: float, name: str) -> float:
    if not text.strip():
        return default
    try:
        return float(text)
    except ValueError:
        log.warning("http.setting_ignored", extra={"setting": name, "value": text})
        return default

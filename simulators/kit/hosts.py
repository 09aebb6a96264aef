"""Which ``Host`` a served fake answers: its bound address, loopback names, and what you allow.

A web page on another site cannot read a fake's answers directly, but with DNS rebinding
(its own host name pointed at 127.0.0.1) it can: the browser then sends ``Host:
attacker.example``. Refusing every host name the fake was not meant to be reached by closes
that door (as Django's ``ALLOWED_HOSTS`` does).

Allowed without configuration: ``localhost`` and ``*.localhost``, loopback addresses
(127.0.0.0/8, ``::1``), and the address the server is bound to. Bound to a wildcard address
(``0.0.0.0``, ``::``), a fake also answers any IP address and this machine's host name (an IP
address cannot be rebound). `allowed_hosts` adds names (``"sandbox.example"``), suffixes
(``".example"`` for every subdomain) or ``"*"`` for anything.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from functools import lru_cache

WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def hostname(host: str) -> str:
    """The name part of a ``Host`` header value: no port, no brackets, lower case, no final dot."""
    host = host.strip()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host.lower().rstrip(".")


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return None


def is_loopback(name: str) -> bool:
    """A loopback name or address: nothing but this machine can reach it."""
    name = hostname(name)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    ip = _ip(name)
    return ip is not None and ip.is_loopback


@lru_cache(maxsize=1)
def _own_names() -> frozenset[str]:
    names = {socket.gethostname().lower()}
    try:
        names.add(socket.getfqdn().lower())
    except OSError:
        pass
    return frozenset(names)


class HostPolicy:
    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = tuple(a.strip().lower().rstrip(".") for a in allowed if a.strip())

    def allows(self, host_header: str, bound: str) -> bool:
        name = hostname(host_header)
        if not name:
            return True  # no Host header (HTTP/1.0): the request went to the bound address
        if "*" in self.allowed or is_loopback(name) or name == hostname(bound):
            return True
        for entry in self.allowed:
            if name == entry or (entry.startswith(".") and (name.endswith(entry) or name == entry[1:])):
                return True
        if hostname(bound) in WILDCARDS:
            return _ip(name) is not None or name in _own_names()
        return False

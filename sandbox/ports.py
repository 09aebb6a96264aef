"""The ports of ``severa-sandbox up``: the layout, a check before anything starts, who holds a port.

``up`` uses six consecutive ports from ``--port-base`` (default 8700) on 127.0.0.1::

    base+0 dashboard   base+1 Severa   base+2 Maventa   base+3 Maestro   base+4 mailbox   base+5 SMTP

Every port is checked *before* anything starts; a taken one is reported in one line naming the
port, what it is for, the process holding it when the system can tell (Linux: ``/proc/net/tcp``
and ``/proc/<pid>/fd``), and a ``--port-base`` whose six ports are free.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_PORT_BASE",
    "LAYOUT",
    "PortInUse",
    "PortPlan",
    "check_ports",
    "port_holder",
    "suggest_base",
]

DEFAULT_PORT_BASE = 8700
#: (name, offset from the base, what it is) in the order they are shown.
LAYOUT: tuple[tuple[str, int, str], ...] = (
    ("dashboard", 0, "dashboard"),
    ("severa", 1, "Severa fake"),
    ("maventa", 2, "Maventa fake"),
    ("maestro", 3, "Maestro fake"),
    ("mailbox", 4, "mailbox (HTTP)"),
    ("smtp", 5, "mailbox (SMTP)"),
)
WHAT = {name: what for name, _, what in LAYOUT}


@dataclass(frozen=True)
class PortPlan:
    """Where each part of the sandbox listens (port 0 = any free port: tests)."""

    host: str
    ports: dict[str, int]

    @classmethod
    def from_base(cls, base: int, host: str = "127.0.0.1") -> PortPlan:
        return cls(host, {name: base + offset for name, offset, _ in LAYOUT})

    @classmethod
    def any_free(cls, host: str = "127.0.0.1") -> PortPlan:
        return cls(host, {name: 0 for name, _, _ in LAYOUT})


class PortInUse(Exception):
    """A port ``up`` needs is taken; ``str()`` is the one line to show."""

    def __init__(self, name: str, port: int, host: str, holder: str | None, suggestion: int | None) -> None:
        self.name, self.port, self.host, self.holder, self.suggestion = name, port, host, holder, suggestion
        who = f"in use by {holder}" if holder else "already in use"
        if suggestion is not None:
            fix = (
                f"stop that process, or start on other ports with --port-base {suggestion} "
                f"(uses {suggestion}-{suggestion + len(LAYOUT) - 1})"
            )
        else:
            fix = "stop that process, or start on other ports with --port-base N"
        super().__init__(f"port {port} ({WHAT.get(name, name)}) on {host} is {who}; {fix}")


def _bindable(host: str, port: int) -> OSError | None:
    """None when a server could listen on host:port now (as werkzeug binds: SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc
    return None


def check_ports(plan: PortPlan) -> None:
    """Raise ``PortInUse`` for the first port of ``plan`` that cannot be listened on."""
    for name, _, _ in LAYOUT:
        port = plan.ports[name]
        if port == 0:
            continue
        problem = _bindable(plan.host, port)
        if problem is None:
            continue
        if problem.errno == errno.EACCES:
            raise PortInUse(name, port, plan.host, "nobody: ports below 1024 need privileges", None)
        if problem.errno == errno.EADDRNOTAVAIL:
            raise OSError(problem.errno, f"{plan.host} is not an address of this machine")
        taken = set(plan.ports.values())
        raise PortInUse(name, port, plan.host, port_holder(port), suggest_base(min(taken) + 100, plan.host))


def suggest_base(start: int, host: str = "127.0.0.1", tries: int = 20) -> int | None:
    """The first base from ``start`` (in steps of 100) whose six ports are all free."""
    for base in range(start, min(start + 100 * tries, 65536 - len(LAYOUT)), 100):
        if all(_bindable(host, base + offset) is None for _, offset, _ in LAYOUT):
            return base
    return None


def _listening_inodes(port: int) -> list[tuple[str, str]]:
    """(inode, uid) of sockets listening on ``port`` (any address), from /proc/net/tcp{,6}."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 10 or parts[3] != "0A":  # 0A = LISTEN
                continue
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            if local_port == port:
                found.append((parts[9], parts[7]))
    return found


def _describe(pid: str) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"pid {pid}"
    command = " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)
    if len(command) > 80:
        command = command[:77] + "..."
    return f"pid {pid} ({command})" if command else f"pid {pid}"


def port_holder(port: int) -> str | None:
    """``pid 1234 (python3 -m http.server 8701)`` for the process listening on ``port``, when the
    system tells (Linux /proc; a process of another user may stay anonymous); else None."""
    sockets = _listening_inodes(port)
    if not sockets:
        return None
    wanted = {f"socket:[{inode}]" for inode, _ in sockets}
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        pids = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return _describe(pid)
            except OSError:
                continue
    uid = sockets[0][1]
    try:
        import pwd

        return f"a process of user {pwd.getpwuid(int(uid)).pw_name}"
    except (KeyError, ValueError, ImportError):
        return f"a process of uid {uid}"

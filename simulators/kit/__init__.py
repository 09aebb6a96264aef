"""The control-plane kit shared by every simulator (SPEC §3.3): service-agnostic."""

from .clock import SimClock
from .faults import FaultEngine, FaultRule, FaultRuleError
from .ids import IdFactory
from .journal import Journal, JournalEntry
from .jsontext import JSONNestingError, parse_json
from .server import ThreadedServer
from .simulator import (
    ControlError,
    Simulator,
    SnapshotError,
    control_error,
    json_body,
    request_json,
    unlocked,
)
from .transport import InProcessTransport

__all__ = [
    "ControlError",
    "FaultEngine",
    "FaultRule",
    "FaultRuleError",
    "IdFactory",
    "InProcessTransport",
    "JSONNestingError",
    "Journal",
    "JournalEntry",
    "SimClock",
    "Simulator",
    "SnapshotError",
    "ThreadedServer",
    "control_error",
    "json_body",
    "parse_json",
    "request_json",
    "unlocked",
]

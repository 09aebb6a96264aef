"""The control-plane kit shared by every simulator (SPEC §3.3): service-agnostic."""

from .body import json_body, request_json, unlocked
from .clock import SimClock
from .control import CONTROL_PREFIX, current_backend, current_simulator, found, locked
from .errors import ControlError, ServiceError, SnapshotError, control_error
from .faults import FaultEngine, FaultRule, FaultRuleError
from .ids import IdFactory
from .journal import Journal, JournalEntry
from .jsontext import JSONNestingError, parse_json
from .lifecycle import SimulatorCore
from .server import ThreadedServer
from .simulator import Alias, Simulator
from .transport import InProcessTransport

__all__ = [
    "CONTROL_PREFIX",
    "Alias",
    "ControlError",
    "FaultEngine",
    "FaultRule",
    "FaultRuleError",
    "IdFactory",
    "InProcessTransport",
    "JSONNestingError",
    "Journal",
    "JournalEntry",
    "ServiceError",
    "SimClock",
    "Simulator",
    "SimulatorCore",
    "SnapshotError",
    "ThreadedServer",
    "control_error",
    "current_backend",
    "current_simulator",
    "found",
    "json_body",
    "locked",
    "parse_json",
    "request_json",
    "unlocked",
]

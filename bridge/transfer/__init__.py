"""The transfer engine: one status-driven, exactly-once state machine for every target.

It knows no target: connectors (``bridge.connectors.maventa``, ``bridge.connectors.maestro``)
plug into it through ``bridge.transfer.connector.Connector``.
"""

from .connector import (
    Account,
    Connector,
    ConnectorUnavailable,
    Deferred,
    PrepareError,
    Refused,
    RemoteOutcome,
    Sent,
)
from .engine import DEFAULT_MAX_NOTIFY_ATTEMPTS, DEFAULT_MAX_SEND_ATTEMPTS, TransferEngine
from .report import Counts, PassReport

__all__ = [
    "DEFAULT_MAX_NOTIFY_ATTEMPTS",
    "DEFAULT_MAX_SEND_ATTEMPTS",
    "Account",
    "Connector",
    "ConnectorUnavailable",
    "Counts",
    "Deferred",
    "PassReport",
    "PrepareError",
    "Refused",
    "RemoteOutcome",
    "Sent",
    "TransferEngine",
]

"""The Maestro fake (Maestro ERP, Finnish accounting): a designed API, see `openapi.yaml`."""

from .service import MaestroSimulator

__all__ = ["MaestroSimulator"]

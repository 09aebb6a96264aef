"""The Maventa (Visma AutoInvoice) AutoXChange API fake (see `service.py` and the README)."""

from .service import MaventaSimulator

__all__ = ["MaventaSimulator"]

"""Visma Severa public REST API simulator (see `service.py` for the options and decisions)."""

from .service import SeveraSimulator

__all__ = ["SeveraSimulator"]

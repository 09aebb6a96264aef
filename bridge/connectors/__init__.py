"""Targets of the transfer engine: each connector is a client of one service plus what to send and how to follow it.

Connectors never import each other; the engine (``bridge.transfer``) knows none of them.
"""

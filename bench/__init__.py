"""Benchmarks (not tests): `python -m bench [NAME ...]` prints ratios and per-item figures."""

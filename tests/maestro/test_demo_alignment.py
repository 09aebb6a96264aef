"""The Maestro demo mirrors most, but deliberately not all, of the Severa demo codes (MA-5..MA-7).

Tests may import both services (the services themselves never import each other), so this
is where drift between the two presets is caught.
"""

from __future__ import annotations

from simulators.maestro import presets as maestro
from simulators.severa import presets as severa


def _severa_codes() -> dict[str, set[str]]:
    return {
        "product": {p[0] for p in severa.PRODUCTS if p[0]},
        "work_type": {w[0] for w in severa.WORK_TYPES if w[0]},
        "travel_expense": {t[0] for t in severa.TRAVEL_EXPENSE_TYPES if t[0]},
    }


def test_mirrored_and_left_out_codes_partition_the_severa_demo_codes() -> None:
    ours = {
        "product": ({p[0] for p in maestro.MIRRORED_PRODUCTS}, set(maestro.LEFT_OUT_PRODUCT_CODES)),
        "work_type": ({w[0] for w in maestro.MIRRORED_WORK_TYPES}, set(maestro.LEFT_OUT_WORK_TYPE_CODES)),
        "travel_expense": (
            {t[0] for t in maestro.MIRRORED_TRAVEL_EXPENSES},
            set(maestro.LEFT_OUT_TRAVEL_EXPENSE_CODES),
        ),
    }
    for kind, codes in _severa_codes().items():
        mirrored, left_out = ours[kind]
        assert left_out, f"at least one {kind} code must be missing from Maestro"
        assert mirrored | left_out == codes, kind
        assert not mirrored & left_out, kind

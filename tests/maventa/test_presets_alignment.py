"""The Maventa demo preset mirrors the Severa demo data (seed 0) where the two meet."""

from __future__ import annotations

from simulators.maventa import MaventaSimulator, presets
from simulators.severa.presets import build_demo


def test_demo_matches_severa_demo_data() -> None:
    state, _ = build_demo(0)
    main = next(iter(state.organizations.values()))
    assert main.details.name == presets.SEVERA_MAIN_ORG["name"]
    assert main.details.e_invoice_address == presets.SEVERA_MAIN_ORG["eia"]
    units = {bu.name: bu.vat_number for bu in main.business_units.values()}
    own = presets.SEVERA_OWN_COMPANY_UNIT
    assert units.get(own["name"]) == "FI" + own["bid"].replace("-", "")
    emails = {u.email for u in main.users.values()}
    assert {presets.SEVERA_OWN_UNIT_USER["email"], presets.SEVERA_EXISTING_MAVENTA_USER["email"]} <= emails
    sim = MaventaSimulator()
    registry = {(r.eia, r.operator) for r in sim.data.registry}
    for c in main.customers.values():
        if c.e_invoice_address:
            assert (c.e_invoice_address, c.e_invoice_operator) in registry, c.name

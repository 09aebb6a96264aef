"""The demo preset gives the other teams what they rely on."""

from __future__ import annotations

from stdnum.fi import ytunnus

from simulators.severa import SeveraSimulator
from simulators.severa.presets import BIG_INVOICE_REFERENCE, BIG_INVOICE_ROWS, PRODUCTS, STATUSES


def _bid(vat: str) -> str:
    d = vat.removeprefix("FI")
    return f"{d[:7]}-{d[7:]}"


def test_demo_has_two_organisations_and_three_clients() -> None:
    sim = SeveraSimulator()
    assert len(sim.state.organizations) == 2
    clients = sim.credentials()["clients"]
    assert len(clients) == 3
    assert sum(1 for c in clients if c["organization_guid"] == sim.refs["main"]) == 2


def test_main_organisation_settings() -> None:
    b = SeveraSimulator().main
    org = b.org
    assert ytunnus.is_valid(_bid(org.details.vat_number))
    names = [s.name for s in sorted(org.invoice_statuses.values(), key=lambda s: s.sort_order)]
    assert names == [n for n, _ in STATUSES]
    assert b.status_by_name("Odottaa siirtoa Maventaan").is_sent is False
    assert b.status_by_name("Siirretty Maventaan").is_read_only
    units = list(org.business_units.values())
    assert sum(1 for u in units if u.vat_number) == 2 and sum(1 for u in units if not u.vat_number) == 1
    assert {p.code for p in org.products.values()} == {p[0] for p in PRODUCTS}


def test_demo_invoices_cover_statuses_and_the_big_invoice() -> None:
    b = SeveraSimulator().main
    by_status: dict[str, int] = {}
    for inv in b.org.invoices.values():
        name = b.status_of(inv).name
        by_status[name] = by_status.get(name, 0) + 1
        st = b.status_of(inv)
        assert (inv.number is not None) == st.has_invoice_number
    assert by_status["Odottaa siirtoa Maventaan"] >= 3 and by_status["Odottaa siirtoa Maestroon"] >= 2
    big = next(i for i in b.org.invoices.values() if i.your_reference == BIG_INVOICE_REFERENCE)
    assert len(big.row_guids) == BIG_INVOICE_ROWS


def test_python_api_creates_invoice_with_rows_and_sets_status() -> None:
    sim = SeveraSimulator()
    b = sim.tenant("main")
    cust = next(iter(b.org.customers.values()))
    inv = b.create_invoice(
        cust.guid,
        rows=[
            {"kind": "hours", "ref": "KEH", "quantity": 7.5},
            {"kind": "fee", "ref": "KONS", "quantity": 1},
            {"kind": "travel", "ref": "KM", "quantity": 120},
        ],
    )
    assert inv.number is None and len(inv.row_guids) == 3
    assert [b.row_codes(r) for r in b.rows_of(inv)] == [["KEH"], ["KONS"], ["KM"]]
    b.set_status(inv.guid, "Odottaa siirtoa Maestroon")
    assert inv.number is not None and inv.reference_number
    st = b.add_status("Oma tila", has_invoice_number=True)
    assert sim.tenant(sim.main.name).org.invoice_statuses[st.guid].has_invoice_number


def test_add_and_update_customer_helpers() -> None:
    sim = SeveraSimulator(preset="empty")
    b = sim.main
    cust = b.add_customer("Osoitteeton Oy", vat_number="FI01234565", email=None, address=None)
    assert cust.headquarter_address_guid is None and b.find_customer("osoitteeton oy") is cust
    with_addr = b.add_customer(
        "Verkkolasku Oy",
        e_invoice_address="003701234565",
        e_invoice_operator="003721291126",
        address={"addressline": "Katu 1", "postal_code": "00100", "city": "Helsinki"},
    )
    assert b.org.addresses[with_addr.headquarter_address_guid or ""].city == "Helsinki"
    before = with_addr.audit.updated
    sim.clock.advance(10)
    b.update_customer(with_addr.guid, email="laskut@verkkolasku.fi")
    assert with_addr.email == "laskut@verkkolasku.fi" and with_addr.audit.updated != before
    inv = b.create_invoice(with_addr.guid)  # the empty preset has no catalogue: no rows
    assert inv.project_guid is not None


def test_demo_has_the_statuses_the_integrations_are_configured_with() -> None:
    """The six statuses issue 2 names, with the flags the Maventa and Maestro flows rely on."""
    b = SeveraSimulator().main
    luonnos = b.status_by_name("Luonnos")
    assert luonnos.is_default and not luonnos.has_invoice_number and not luonnos.is_read_only
    for waiting in ("Odottaa siirtoa Maventaan", "Odottaa siirtoa Maestroon", "Maventa-virhe"):
        st = b.status_by_name(waiting)
        assert st.has_invoice_number and not st.is_sent and not st.is_read_only and st.is_active, waiting
    for done in ("Siirretty Maventaan", "Siirretty Maestroon"):
        st = b.status_by_name(done)
        assert st.has_invoice_number and st.is_sent and st.is_read_only and st.is_active, done


def test_demo_data_is_finnish_and_the_customers_come_in_three_kinds() -> None:
    import re

    b = SeveraSimulator(seed=11).main
    kinds = {"einvoice": 0, "email": 0, "neither": 0}
    for c in b.org.customers.values():
        assert ytunnus.is_valid(_bid(c.vat_number or ""))
        addr = b.org.addresses[c.headquarter_address_guid or ""]
        assert re.fullmatch(r"\d{5}", addr.postal_code) and addr.city and addr.country == "Finland"
        if c.e_invoice_address:
            assert c.e_invoice_address == "0037" + (c.vat_number or "")[2:] and c.e_invoice_operator
            kinds["einvoice"] += 1
        elif c.email:
            kinds["email"] += 1
        else:
            kinds["neither"] += 1
    assert all(kinds.values()), kinds
    without_id = [u for u in b.org.business_units.values() if not u.vat_number]
    assert len(without_id) == 1
    assert all(p.code for p in b.org.products.values())
    assert all(t.code for t in b.org.travel_expense_types.values())
    assert sum(1 for w in b.org.work_types.values() if w.code) >= 4


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = (SeveraSimulator(seed=s).export_state()["data"] for s in (21, 21, 22))
    assert a == b and a != c

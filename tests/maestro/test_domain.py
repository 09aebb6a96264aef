"""Row matching, presets and the error envelope of the Maestro fake (no HTTP)."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from simulators.maestro import MaestroSimulator
from simulators.maestro.errors import normalise_details
from simulators.maestro.models import FALLBACK_PRODUCT_CODE, Product
from simulators.maestro.openapi import document
from simulators.maestro.presets import (
    LEFT_OUT_PRODUCT_CODES,
    LEFT_OUT_TRAVEL_EXPENSE_CODES,
    LEFT_OUT_WORK_TYPE_CODES,
    build_companies,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_presets_are_deterministic_and_keys_differ_by_seed() -> None:
    a, b, c = (MaestroSimulator(seed=s).credentials() for s in (0, 0, 1))
    assert a == b and a != c
    assert all(k["api_key"] not in str(MaestroSimulator(seed=1).credentials()) for k in a["companies"])


def test_demo_leaves_out_one_code_of_each_kind_and_keeps_the_fallback() -> None:
    backend = next(iter(build_companies("demo", 0).values()))
    for code in (*LEFT_OUT_PRODUCT_CODES, *LEFT_OUT_WORK_TYPE_CODES, *LEFT_OUT_TRAVEL_EXPENSE_CODES):
        assert code not in backend.products
    assert backend.products[FALLBACK_PRODUCT_CODE].active
    assert backend.customers == {}
    pattern = document()["components"]["schemas"]["ProductCode"]["pattern"]
    assert all(re.fullmatch(pattern, code) for code in backend.products)


def test_empty_preset_has_only_the_fallback_product() -> None:
    (backend,) = build_companies("empty", 7).values()
    assert list(backend.products) == [FALLBACK_PRODUCT_CODE]


codes = st.lists(st.text(st.sampled_from("ABKZ-1 "), max_size=5), max_size=4)


@given(codes)
def test_match_row_books_on_an_active_product_or_the_fallback(row_codes: list[str]) -> None:
    backend = next(iter(build_companies("empty", 0).values()))
    backend.products["AB"] = Product("AB", "ab", "kpl", 25.5, True, NOW)
    backend.products["K1"] = Product("K1", "k1", "kpl", 25.5, False, NOW)
    product, booking, reason, matched = backend.match_row(row_codes)
    stripped = [c.strip() for c in row_codes if c.strip()]
    if "AB" in stripped:
        assert (product, booking, reason) == ("AB", "matched", "code_matched") and matched is not None
    else:
        assert (product, booking, matched) == (FALLBACK_PRODUCT_CODE, "fallback", None)
        expected = (
            "empty_code" if not stripped else ("inactive_product" if "K1" in stripped else "unknown_code")
        )
        assert reason == expected


def test_kit_details_become_maestro_details() -> None:
    assert normalise_details(None) == []
    assert normalise_details({"closest_routes": ["GET /api/v1/products"]}) == [
        {"field": None, "message": "did you mean GET /api/v1/products?"}
    ]
    assert normalise_details(["x"]) == [{"field": None, "message": "x"}]
    assert normalise_details([{"field": "a", "message": "b"}]) == [{"field": "a", "message": "b"}]


def test_snapshot_import_refuses_inconsistent_data_and_keeps_state() -> None:
    import pytest

    from simulators.kit import SnapshotError

    sim = MaestroSimulator()
    snap = sim.export_state()
    broken = {**snap, "data": {"companies": {"1001": {"company": {"company_id": "9"}}}}}
    with pytest.raises(SnapshotError):
        sim.import_state(broken)
    assert sim.export_state()["data"] == snap["data"]


def test_snapshot_round_trip_with_every_kind_of_record() -> None:
    sim = MaestroSimulator()
    key = sim.credentials()["companies"][0]["api_key"]
    h = {"X-Maestro-Api-Key": key}
    with sim.client() as c:
        c.put(
            "/api/v1/customers/7",
            headers=h,
            json={
                "name": "Osoite Oy",
                "billing_address": {"street": "Katu 1", "postal_code": "00100", "city": "Helsinki"},
            },
        )
        r = c.post(
            "/api/v1/sales-invoices",
            headers=h,
            json={
                "severa_invoice_guid": "6f1c1d2e-1111-4222-8333-444455556666",
                "invoice_number": "1",
                "invoice_date": "2026-11-20",
                "due_date": "2026-12-04",
                "customer_number": "7",
                "total_excluding_vat": 10,
                "total_vat": 0,
                "total_including_vat": 10,
                "rows": [
                    {
                        "source_kind": "product",
                        "codes": ["X"],
                        "description": "x",
                        "quantity": 1,
                        "unit": "kpl",
                        "unit_price": 10,
                        "vat_rate": 0,
                        "net_amount": 10,
                        "vat_amount": 0,
                        "gross_amount": 10,
                    }
                ],
            },
        )
        assert r.status_code == 201, r.text
        before = [
            c.get(p, headers=h).json()
            for p in ("/api/v1/customers", "/api/v1/sales-invoices", "/api/v1/import-log")
        ]
        snap = sim.export_state()
        sim.reset("empty")
        sim.import_state(snap)
        after = [
            c.get(p, headers=h).json()
            for p in ("/api/v1/customers", "/api/v1/sales-invoices", "/api/v1/import-log")
        ]
    assert after == before


def test_a_snapshot_without_an_active_fallback_product_is_refused() -> None:
    """A/0 always exists: not even a restored snapshot may lose or deactivate it."""
    import pytest

    from simulators.kit import SnapshotError

    sim = MaestroSimulator()
    snap = sim.export_state()
    products = snap["data"]["companies"]["1001"]["products"]
    without = copy.deepcopy(snap)
    del without["data"]["companies"]["1001"]["products"][FALLBACK_PRODUCT_CODE]
    inactive = copy.deepcopy(snap)
    inactive["data"]["companies"]["1001"]["products"][FALLBACK_PRODUCT_CODE]["active"] = False
    for broken in (without, inactive):
        with pytest.raises(SnapshotError, match="fallback product"):
            sim.import_state(broken)
    assert FALLBACK_PRODUCT_CODE in products
    assert sim.export_state()["data"] == snap["data"]

"""Constructor options of the Maventa fake, in-process: delivery after N polls or T seconds, the
print price table, the vendor-key requirement and where the Finvoice XSD comes from."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from contract_tests.maventa.helpers import NO_EINVOICE_BUYER, invoice_zip
from simulators.maventa import MaventaSimulator, finvoice
from tests.maventa.finvoice_factory import FinvoiceSpec, build_finvoice, build_tree
from tests.maventa.helpers import session

SHARED_XSD = Path("../shared/specs/Finvoice3.0.xsd")


def send(http: httpx.Client, h: dict[str, str], content: bytes, name: str = "a.xml") -> Any:
    r = http.post("/v1/invoices", headers=h, files={"file": (name, content)})
    assert r.status_code == 201, r.text
    return r.json()


EMAIL_XML = build_finvoice(**NO_EINVOICE_BUYER | {"buyer_email": "ap@liukkonen.fi"})


@pytest.mark.parametrize("polls", [0, 1, 3])
def test_delivery_after_n_polls(polls: int) -> None:
    sim = MaventaSimulator(polls_to_deliver=polls, delivery_seconds=86400)
    with session(sim) as (http, h):
        inv = send(http, h, EMAIL_XML)
        seen = [http.get(f"/v1/invoices/{inv['id']}", headers=h).json()["status"] for _ in range(polls + 2)]
    assert seen == ["PENDING"] * polls + ["DELIVERED", "DELIVERED"]


def test_delivery_after_simulated_seconds_without_polling() -> None:
    sim = MaventaSimulator(polls_to_deliver=1000, delivery_seconds=30)
    with session(sim) as (http, h):
        inv = send(http, h, EMAIL_XML)
        sim.clock.advance(29)
        assert (
            http.get("/v1/invoices", headers=h, params={"direction": "SENT"}).json()[0]["status"] == "PENDING"
        )
        sim.clock.advance(1)
        assert http.get(f"/v1/invoices/{inv['id']}", headers=h).json()["status"] == "DELIVERED"
    assert sim.outbox_messages(purpose="invoice", invoice_id=inv["id"])[0]["to"] == ["ap@liukkonen.fi"]


def test_negative_timings_are_refused() -> None:
    with pytest.raises(ValueError, match="polls_to_deliver"):
        MaventaSimulator(polls_to_deliver=-1)


def test_print_price_table_is_configurable() -> None:
    prices = {
        "currency": "EUR",
        "letter": {"ECONOMY": "2.00", "PRIORITY": "3.00"},
        "page": "1.00",
        "colour_page": "0.50",
    }
    sim = MaventaSimulator(print_prices=prices, polls_to_deliver=0)
    with session(sim) as (http, h):
        r = http.patch(
            "/v1/company/settings",
            headers=h,
            json={
                "send_invoice_email": {"enabled": False},
                "send_invoice_print": {"enabled": True, "use_own_pdf": True, "color_scheme": "COLORED"},
            },
        )
        assert r.status_code == 204
        inv = send(http, h, invoice_zip("9", pdf_pages=2, **NO_EINVOICE_BUYER), "9.zip")
        assert http.get(f"/v1/invoices/{inv['id']}", headers=h).json()["destination"] == "PRINT"
    [job] = sim.outbox_messages(kind="print")
    charge = job["print_job"]["charge"]
    # 2 own pages + the cover page, all billed, colour on all of them: 2.00 + 3 × 1.00 + 3 × 0.50
    assert (charge["pages_billed"], charge["colour_pages_billed"], charge["total"]) == (3, 3, "6.50")
    assert Decimal(charge["letter"]) == Decimal("2.00")


def test_vendor_key_can_be_required() -> None:
    sim = MaventaSimulator(require_vendor_key=True)
    c = sim.credentials()
    company = next(x for x in c["companies"] if x["company_state"] == "VERIFIED")
    fields = {
        "grant_type": "client_credentials",
        "client_id": company["id"],
        "client_secret": company["users"][0]["user_api_key"],
    }
    with sim.client() as http:
        r = http.post("/oauth2/token", data=fields)
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
        assert (
            http.post("/oauth2/token", data=fields | {"vendor_api_key": c["vendor_api_keys"][0]}).status_code
            == 200
        )


def _xsd_only_error() -> bytes:
    """An invoice the structural layer accepts but the official XSD refuses (unknown row element)."""
    root = build_tree(FinvoiceSpec(**NO_EINVOICE_BUYER | {"buyer_email": "ap@liukkonen.fi"}))  # type: ignore[arg-type]
    etree.SubElement(root.find("InvoiceRow"), "Bogus").text = "x"
    assert finvoice.structural_errors(root) == []
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_xsd_from_option_env_or_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not SHARED_XSD.is_file():
        pytest.skip("Finvoice3.0.xsd not in ../shared/specs")
    bogus_row = _xsd_only_error()
    with_xsd = MaventaSimulator(xsd_path=SHARED_XSD.parent)
    assert with_xsd.describe()["finvoice_xsd"]["validation"] == "structural+xsd"
    with session(with_xsd) as (http, h):
        r = http.post("/v1/invoices", headers=h, files={"file": ("a.xml", bogus_row)})
        assert r.status_code == 400 and any("'Bogus'" in d for d in r.json()["details"]), r.text
    without = MaventaSimulator(xsd_path=tmp_path)  # an empty folder: structural only, and it says so
    info = without.describe()["finvoice_xsd"]
    assert (info["status"], info["validation"]) == ("missing", "structural only")
    with session(without) as (http, h):
        assert http.post("/v1/invoices", headers=h, files={"file": ("a.xml", bogus_row)}).status_code == 201
    shared = SHARED_XSD.resolve()
    monkeypatch.setenv("SEVERA_SANDBOX_SPECS", str(shared.parent))
    monkeypatch.chdir(tmp_path)  # no ../shared/specs from here: the env var must be what finds it
    assert MaventaSimulator().describe()["finvoice_xsd"]["path"] == str(shared)
    tampered = tmp_path / "Finvoice3.0.xsd"
    tampered.write_bytes(shared.read_bytes() + b"\n<!-- edited -->")
    assert MaventaSimulator(xsd_path=tampered).describe()["finvoice_xsd"]["status"] == "rejected"


def test_state_round_trips_through_a_snapshot() -> None:
    sim = MaventaSimulator(polls_to_deliver=0)
    with session(sim) as (http, h):
        inv = send(http, h, EMAIL_XML)
        http.get(f"/v1/invoices/{inv['id']}", headers=h)
        snapshot = http.get("/_sim/state").json()
        http.post("/_sim/reset", json={"preset": "empty"})
        assert sim.data.invoices == {}
        assert http.put("/_sim/state", json=snapshot).status_code == 200
    assert sim.data.invoices[inv["id"]].status == "DELIVERED"
    assert sim.outbox_messages(invoice_id=inv["id"])[0]["purpose"] == "invoice"


def test_uuid_reuse_replay_answers_the_first_invoice_whatever_the_file() -> None:
    """`uuid_reuse="replay"`: the behaviour before the refusal (the file is not even read)."""
    uid = "1b2c3d4e-0000-4000-8000-000000000001"
    sim = MaventaSimulator(uuid_reuse="replay")
    with session(sim) as (http, h):
        first = http.post("/v1/invoices", headers=h, files={"file": ("a.xml", EMAIL_XML)}, data={"uuid": uid})
        other = http.post(
            "/v1/invoices", headers=h, files={"file": ("b.xml", b"not even XML")}, data={"uuid": uid}
        )
    assert (first.status_code, other.status_code) == (201, 201)
    assert (
        other.json()["number"] == first.json()["number"]
        and other.headers["X-Sim-Idempotent-Replay"] == "true"
    )
    assert sim.describe()["uuid_reuse"] == "replay"


def test_sender_from_account_reports_the_sending_company() -> None:
    sim = MaventaSimulator(sender_from="account")
    with session(sim) as (http, h):
        company = http.get("/oauth2/current", headers=h).json()["company"]
        sent = send(http, h, build_finvoice(seller_name="Joku Muu Oy"))
    assert sent["sender"]["name"] == company["name"] != "Joku Muu Oy"


@pytest.mark.parametrize(("option", "value"), [("uuid_reuse", "ignore"), ("sender_from", "seller")])
def test_unknown_option_values_are_refused(option: str, value: str) -> None:
    with pytest.raises(ValueError, match=option):
        MaventaSimulator(**{option: value})  # type: ignore[arg-type]

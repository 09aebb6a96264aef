"""The dashboard over HTTP: cross-site use refused, every form refusing bad input next to the
field, and no input that makes it answer 500."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.ports import PortPlan
from sandbox.up import Sandbox, UpOptions
from simulators.kit import Simulator


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    sandbox = Sandbox(UpOptions(plan=PortPlan.any_free(), worker=False)).start()
    try:
        yield sandbox
    finally:
        sandbox.stop(save=False)


@pytest.fixture(scope="module")
def web(box: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=box.root_url("dashboard"), timeout=30) as client:
        yield client


def token(web: httpx.Client, path: str = "/tyokalut/nollaus") -> str:
    found = re.search(r'name="_token" value="([^"]+)"', web.get(path).text)
    assert found, "every page carries the form token"
    return found.group(1)


# ---------------------------------------------------------------------- cross-site
def test_a_foreign_host_is_refused_for_reading_and_writing(box: Sandbox, web: httpx.Client) -> None:
    port = box.dashboard_server.port if box.dashboard_server else 0
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1"):
        assert web.get("/", headers={"Host": host}).status_code == 421, host
        r = web.post("/tyokalut/nollaus", json={"seed": 1}, headers={"Host": host})
        assert r.status_code == 421 and "not this dashboard's address" in r.text
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert web.get("/", headers={"Host": host}).status_code == 200


def test_a_state_change_needs_the_form_token_or_json(box: Sandbox, web: httpx.Client) -> None:
    seed = box.seed
    # what a form on another site can send: no token, a wrong one, or a text/plain body
    assert web.post("/tyokalut/nollaus", data={"seed": "7"}).status_code == 403
    assert web.post("/tyokalut/nollaus", data={"seed": "7", "_token": "guess"}).status_code == 403
    r = web.post("/tyokalut/nollaus", content=b"seed=7", headers={"Content-Type": "text/plain"})
    assert r.status_code == 403 and "form token" in r.text
    good = token(web)
    other_site = {"Origin": "http://evil.example"}
    assert (
        web.post("/tyokalut/nollaus", data={"seed": "7", "_token": good}, headers=other_site).status_code
        == 403
    )
    assert web.post("/tyokalut/nollaus", json={"seed": 7}, headers=other_site).status_code == 403
    cross = {"Sec-Fetch-Site": "cross-site"}
    assert web.post("/tyokalut/nollaus", data={"seed": "7", "_token": good}, headers=cross).status_code == 403
    assert box.seed == seed  # nothing was reset
    # the dashboard's own form, or JSON (a cross-site page cannot send it without a preflight)
    assert web.post("/maestro/products", data={"_token": good, "code": ""}).status_code == 200
    assert web.post("/maestro/products", json={"code": ""}).status_code == 200
    assert web.options("/tyokalut/nollaus").headers.get("Access-Control-Allow-Origin") is None


def test_pages_forbid_framing_and_outside_assets(web: httpx.Client) -> None:
    r = web.get("/")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    for page in ("/", "/severa/laskut", "/maestro/"):
        html = web.get(page).text
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html), page  # no CDN, no outside asset
        assert " style=" not in html and "<script>" not in html  # nothing inline (the CSP allows none)


def _kit_refuses_cross_site() -> bool:
    return hasattr(Simulator, "_refuse_cross_site")


@pytest.mark.skipif(
    not _kit_refuses_cross_site(),
    reason="the fakes' control planes refuse cross-site calls once the simulators hardening (kit: Host check, "
    "JSON content type) is in",
)
def test_a_cross_site_post_to_a_control_plane_is_refused(box: Sandbox) -> None:
    for service in ("severa", "maventa", "maestro", "mailbox"):
        url = box.root_url(service) + "/_sim/reset"
        simple = httpx.post(url, content=b'{"preset": "empty"}', headers={"Content-Type": "text/plain"})
        assert simple.status_code in (400, 403, 415), (service, simple.status_code)
        rebound = httpx.post(url, json={"preset": "empty"}, headers={"Host": "evil.example"})
        assert rebound.status_code in (400, 403, 421), (service, rebound.status_code)
    assert box.w.severa_sim.preset == "demo"


# ---------------------------------------------------------------------- forms
def _guids(box: Sandbox) -> dict[str, str]:
    w = box.w
    org = w.severa_sim.main.org
    return {
        "unit": w.unit_guid("Ranta Oy"),
        "no_bid_unit": w.unit_guid("Konsultointi"),
        "user": next(iter(org.users)),
        "status": next(iter(org.invoice_statuses)),
        "invoice": next(iter(org.invoices)),
        "product": next(iter(org.products)),
        "customer": next(iter(org.customers)),
    }


BAD_INPUT = [
    # (path, form fields, the field whose message must be shown next to it)
    (
        "/severa/asetukset/integraatiot/maventa/register",
        {"unit": "", "registrant": "{user}"},
        "register-unit",
    ),
    (
        "/severa/asetukset/integraatiot/maventa/register",
        {"unit": "{no_bid_unit}", "registrant": "{user}"},
        "register-unit",
    ),
    (
        "/severa/asetukset/integraatiot/maventa/register",
        {"unit": "{unit}", "registrant": "nobody"},
        "register-registrant",
    ),
    (
        "/severa/asetukset/integraatiot/maventa/connect",
        {"unit": "{unit}", "user_api_key": "x" * 600},
        "connect-user_api_key",
    ),
    (
        "/severa/asetukset/integraatiot/maventa/auth-request",
        {"unit": "{unit}", "approver": "{user}", "email": "no-at-sign", "language": "FI"},
        "auth-email",
    ),
    (
        "/severa/asetukset/integraatiot/maventa/auth-request",
        {"unit": "{unit}", "approver": "{user}", "language": "XX"},
        "auth-language",
    ),
    (
        "/severa/asetukset/integraatiot/maventa/settings",
        {"unit": "{unit}", "notification_email": "a@b", "status_to_transfer": "{status}"},
        "settings-notification_email",
    ),
    (
        "/severa/asetukset/integraatiot/maventa/settings",
        {"unit": "{unit}", "status_to_transfer": "nope"},
        "settings-status_to_transfer",
    ),
    (
        "/severa/asetukset/integraatiot/maventa/activation",
        {"unit": "{unit}", "active": "maybe"},
        "activation-active",
    ),
    (
        "/severa/asetukset/integraatiot/maventa/activation",
        {"unit": "{unit}", "active": "on"},
        "activation-active",
    ),
    ("/severa/asetukset/integraatiot/maestro/fetch", {"fetch": "sideways"}, "fetch-fetch"),
    ("/severa/laskut/{invoice}/tila", {"status": "not-a-status"}, "status-{invoice}-status"),
    (
        "/severa/laskut/uusi",
        {"customer": "{customer}", "unit": "{unit}", "status": "{status}"},
        "new-row1_item",
    ),
    (
        "/severa/laskut/uusi",
        {
            "customer": "{customer}",
            "unit": "{unit}",
            "status": "{status}",
            "row1_item": "product:{product}",
            "row1_quantity": "-3",
        },
        "new-row1_quantity",
    ),
    ("/severa/laskut/uusi", {"customer": "who", "unit": "{unit}", "status": "{status}"}, "new-customer"),
    ("/severa/asetukset/laskun-tilat", {"name": "  "}, "add-status-name"),
    ("/severa/asetukset/koodit/product/{product}", {"code": "has space"}, "code-{product}-code"),
    ("/maestro/products", {"code": "A B", "name": "x", "unit": "kpl", "vat_rate": "24"}, "product-code"),
    ("/maestro/products", {"code": "NEW", "name": "", "unit": "kpl", "vat_rate": "24"}, "product-name"),
    ("/maestro/products", {"code": "NEW", "name": "x", "unit": "kpl", "vat_rate": "250"}, "product-vat_rate"),
    ("/maestro/products", {"code": "A/0", "name": "x", "unit": "kpl", "vat_rate": "24"}, "product-code"),
    (
        "/maestro/settings",
        {"source_status_name": "Sama", "transferred_status_name": "sama"},
        "settings-transferred_status_name",
    ),
    (
        "/tyokalut/viat",
        {"service": "severa", "path": "/x", "effect": "status", "status": "abc", "trigger": "always"},
        "fault-status",
    ),
    (
        "/tyokalut/viat",
        {"service": "nope", "path": "/x", "effect": "status", "trigger": "always"},
        "fault-service",
    ),
    (
        "/tyokalut/viat",
        {"service": "severa", "path": "/x", "effect": "delay", "seconds": "1e9", "trigger": "always"},
        "fault-seconds",
    ),
    (
        "/tyokalut/viat",
        {
            "service": "severa",
            "path": "/x",
            "effect": "status",
            "status": "503",
            "trigger": "next",
            "count": "0",
        },
        "fault-count",
    ),
    ("/tyokalut/nollaus", {"seed": "zero"}, "reset-seed"),
]


@pytest.mark.parametrize(("path", "fields", "field"), BAD_INPUT, ids=[f"{p}:{f}" for p, _, f in BAD_INPUT])
def test_bad_input_gets_a_message_next_to_the_field(
    box: Sandbox, web: httpx.Client, path: str, fields: dict[str, str], field: str
) -> None:
    g = _guids(box)
    data = {k: v.format(**g) for k, v in fields.items()}
    r = web.post(path.format(**g), data={**data, "_token": token(web)})
    assert r.status_code == 200, (r.status_code, r.text[:500])
    testid = f"error-{field.format(**g)}"
    found = re.search(rf'data-testid="{re.escape(testid)}">([^<]+)<', r.text)
    assert found, f"no message at {testid}:\n" + "\n".join(
        re.findall(r'data-testid="error-[^"]+">[^<]+<', r.text)
    )
    assert found.group(1).strip()


def test_bad_query_input_is_shown_next_to_the_filter(web: httpx.Client) -> None:
    r = web.get("/tyokalut/loki", params={"tila": "999x", "metodi": "BREW", "palvelu": "mars"})
    assert r.status_code == 200
    for field in ("tila", "metodi", "palvelu"):
        assert f'data-testid="error-journal-{field}"' in r.text


GARBAGE: list[Any] = [
    "",
    " ",
    "x" * 5000,
    "\x00",
    "<script>",
    "'; DROP TABLE x;--",
    "1e309",
    "-1",
    "ä" * 300,
    "../../etc",
]


def _post_routes(web: httpx.Client) -> list[str]:
    app = web  # the routes are the dashboard's: read from the forms of its pages
    paths: set[str] = set()
    for page in (
        "/severa/asetukset/integraatiot/maventa/?rekisteroidy=1",
        "/severa/laskut",
        "/severa/asetukset/laskun-tilat",
        "/severa/asetukset/koodit",
        "/maestro/",
        "/severa/asetukset/integraatiot/maestro/",
        "/tyokalut/viat",
        "/tyokalut/nollaus",
    ):
        paths |= set(re.findall(r'<form method="post"[^>]*action="([^"]+)"', app.get(page).text))
    return sorted(paths)


def test_no_input_makes_a_form_answer_500(box: Sandbox, web: httpx.Client) -> None:
    good = token(web)
    routes = [p for p in _post_routes(web) if "nollaus" not in p]  # a reset would only slow this down
    assert len(routes) >= 15
    fields = ["unit", "registrant", "user_api_key", "company_uuid", "approver", "email", "extra_email", "language",
              "notification_email", "status_to_transfer", "status_after_transfer", "status_after_error", "active",
              "status", "customer", "row1_item", "row1_quantity", "name", "code", "vat_rate", "unit", "service",
              "path", "effect", "seconds", "trigger", "count", "fetch", "message", "letter_class", "seed"]  # fmt: skip
    for route in routes:
        for value in GARBAGE:
            r = web.post(route, data={**dict.fromkeys(fields, value), "_token": good})
            assert r.status_code < 500, (route, value, r.text[:300])
            j = web.post(route, json=dict.fromkeys(fields, value))
            assert j.status_code < 500, (route, value, j.text[:300])
    for path in (
        "/severa/laskut/nope",
        "/severa/laskut/nope/pdf",
        "/maventa/outbox/x/3",
        "/tyokalut/skenaariot/nope",
    ):
        assert web.get(path).status_code == 404


def test_every_page_answers(box: Sandbox, web: httpx.Client) -> None:
    g = _guids(box)
    for path in (
        "/",
        "/severa/asetukset/integraatiot/maventa/",
        f"/severa/asetukset/integraatiot/maventa/?yksikko={g['unit']}",
        "/severa/asetukset/integraatiot/maestro/",
        "/severa/laskut",
        f"/severa/laskut?tila={g['status']}",
        f"/severa/laskut/{g['invoice']}",
        "/severa/asetukset/laskun-tilat",
        "/severa/asetukset/koodit",
        "/maventa/",
        "/maestro/",
        "/posti/",
        "/posti/?viesti=nothing",
        "/tyokalut/loki",
        "/tyokalut/viat",
        "/tyokalut/skenaariot",
        "/tyokalut/nollaus",
    ):
        r = web.get(path)
        assert r.status_code == 200, path
        assert "<h1" in r.text
    pdf = web.get(f"/severa/laskut/{g['invoice']}/pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_without_a_worker_a_pass_runs_when_asked(box: Sandbox, web: httpx.Client) -> None:
    assert box.worker is None
    box.reset(0)  # the fuzzing above cleared every status's flags
    with box.lock:
        guid = box.w.create_invoice(status="Odottaa siirtoa Maestroon")
    time.sleep(0.5)
    assert box.w.severa_status(guid) == "Odottaa siirtoa Maestroon"  # nothing polls
    r = web.post("/siirto", data={"_token": token(web)})
    assert r.status_code == 303
    assert box.w.severa_status(guid) == "Siirretty Maestroon"
    assert "Siirto / pass: picked up" in web.get("/").text

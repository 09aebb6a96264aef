"""Uploads: every unreadable ZIP is a 400 in Maventa's envelope, what an upload unpacks to and
what a company stores are capped, file names are refused or served correctly; validation is
linear, capped and runs outside the lock."""

from __future__ import annotations

import threading
import tracemalloc
import zipfile
from collections.abc import Iterator

import httpx
import pytest
from lxml import etree

from simulators.maventa import MaventaSimulator, finvoice
from simulators.maventa.uploads import content_disposition
from tests.maventa.finvoice_factory import build_finvoice
from tests.maventa.helpers import session
from tests.maventa.zips import PDF, invoice_zip, lying_bomb, unreadable, zeros_bomb, zip_of


@pytest.fixture
def maventa() -> Iterator[tuple[MaventaSimulator, httpx.Client, dict[str, str]]]:
    sim = MaventaSimulator(seed=0)
    with session(sim) as (http, auth):
        yield sim, http, auth


def send(http: httpx.Client, auth: dict[str, str], data: bytes, name: str = "lasku.zip") -> httpx.Response:
    return http.post("/v1/invoices", headers=auth, files={"file": (name, data)})


def test_a_good_zip_still_arrives(maventa: tuple[MaventaSimulator, httpx.Client, dict[str, str]]) -> None:
    _sim, http, auth = maventa
    r = send(http, auth, invoice_zip())
    assert r.status_code == 201, r.text
    assert {f["type"] for f in r.json()["files"]} == {"INVOICE_XML", "INVOICE_IMAGE"}


@pytest.mark.parametrize("kind", sorted(unreadable()))
def test_every_unreadable_zip_is_a_400_in_maventas_envelope(
    maventa: tuple[MaventaSimulator, httpx.Client, dict[str, str]], kind: str
) -> None:
    sim, http, auth = maventa
    r = send(http, auth, unreadable()[kind])
    assert r.status_code == 400, (kind, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == "invalid_file"
    assert sim.data.invoices == {}
    assert http.get("/v1/invoices", headers=auth, params={"direction": "SENT"}).status_code == 200


def test_a_zip_of_zeros_is_refused_before_it_is_unpacked(
    maventa: tuple[MaventaSimulator, httpx.Client, dict[str, str]],
) -> None:
    _sim, http, auth = maventa
    bomb = zeros_bomb()
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        r = send(http, auth, bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.status_code == 413 and r.json()["code"] == "file_too_large"
    assert "per upload" in r.json()["details"][0]
    assert peak < 20 * 1024 * 1024, f"{peak / 1e6:.0f} MB"  # it used to take ~135 MB


def test_an_entry_that_lies_about_its_size_never_inflates_past_what_it_declared(
    maventa: tuple[MaventaSimulator, httpx.Client, dict[str, str]],
) -> None:
    _sim, http, auth = maventa
    bomb = lying_bomb()
    tracemalloc.start()
    try:
        r = send(http, auth, bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.status_code == 400 and r.json()["code"] == "invalid_file"
    assert peak < 20 * 1024 * 1024, f"{peak / 1e6:.0f} MB"


def test_what_one_upload_unpacks_to_is_capped() -> None:
    sim = MaventaSimulator(seed=0, max_upload_expanded=200_000)
    with session(sim) as (http, auth):
        r = send(http, auth, invoice_zip(**{"liite.pdf": bytes(300_000)}))
    assert r.status_code == 413 and "200000 bytes per upload" in r.json()["details"][0]


def test_what_a_company_stores_is_capped() -> None:
    sim = MaventaSimulator(seed=0, max_company_storage=60_000)
    with session(sim) as (http, auth):
        codes: list[int] = []
        while 413 not in codes and len(codes) < 20:
            xml = build_finvoice(number=f"5{len(codes):03d}")
            blob = zip_of({"lasku.xml": xml, "liite.pdf": PDF + bytes(8000)})
            codes.append(send(http, auth, blob).status_code)
        kept = len(sim.data.invoices)
        blob = zip_of({"lasku.xml": build_finvoice(number="5999"), "liite.pdf": bytes(9000)})
        again = send(http, auth, blob)
    assert codes[0] == 201 and codes[-1] == 413 and kept == len(codes) - 1
    assert again.status_code == 413 and again.json()["code"] == "storage_limit_exceeded"
    assert len(sim.data.invoices) == kept


@pytest.mark.parametrize("name", ["lasku\r\nX-Evil: 1.pdf", "liite\n.pdf", "nul\x00.pdf", "tab\t.pdf"])
def test_a_name_with_control_characters_is_refused_at_upload(
    maventa: tuple[MaventaSimulator, httpx.Client, dict[str, str]], name: str
) -> None:
    sim, http, auth = maventa
    if "\x00" not in name:  # zipfile itself cuts a stored name at NUL
        r = send(http, auth, invoice_zip(**{name: PDF}))
        assert r.status_code == 400 and r.json()["code"] == "invalid_file"
        assert "control characters" in r.json()["message"]
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}.xml"\r\n\r\n'
        ).encode()
        + build_finvoice()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    direct = http.post(
        "/v1/invoices",
        headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body,
    )
    assert direct.status_code == 400, direct.text
    assert sim.data.invoices == {}


@pytest.mark.parametrize("name", ["lasku_ääkköset.pdf", "請求書_€.pdf", 'quote"back\\slash.pdf'])
def test_any_other_name_is_served_back_correctly_over_http(name: str) -> None:
    sim = MaventaSimulator(seed=0)
    server = sim.serve()
    try:
        with session(sim) as (_, auth), httpx.Client(base_url=server.url, timeout=10) as http:
            r = send(http, auth, invoice_zip(**{name: PDF}))
            assert r.status_code == 201, r.text
            attachment = next(f for f in r.json()["files"] if f["type"] == "ATTACHMENT")
            assert attachment["filename"] == name
            got = http.get(attachment["href"].replace("http://localhost", server.url), headers=auth)
            assert got.status_code == 200 and got.content == PDF
            disposition = got.headers["Content-Disposition"]
            assert disposition.isascii() and "\r" not in disposition and "\n" not in disposition
            if not name.isascii():
                assert "filename*=UTF-8''" in disposition
    finally:
        server.stop()


def test_content_disposition_never_breaks_a_header() -> None:
    for name in ("a\r\nb.pdf", "ä.pdf", 'x"y.pdf', ""):
        value = content_disposition(name)
        assert value.isascii() and "\r" not in value and "\n" not in value
    assert content_disposition("ä.pdf") == "attachment; filename=\"?.pdf\"; filename*=UTF-8''%C3%A4.pdf"


def _many_unknown_attributes(n: int) -> bytes:
    root = etree.fromstring(build_finvoice())
    details = root.find("InvoiceDetails")
    for i in range(n):
        details.set(f"a{i}", "x")
    return etree.tostring(root)


def test_validation_reports_at_most_the_cap_and_says_how_many_more() -> None:
    info = finvoice.find_xsd()
    if info.status != "ok":
        pytest.skip("needs the Finvoice XSD (unknown attributes are XSD errors)")
    schema = finvoice.load_schema(info.path or "")
    found = finvoice.validate(finvoice.parse_xml(_many_unknown_attributes(5000)), schema)
    assert len(found) == finvoice.MAX_FINDINGS + 1
    assert found[-1].startswith("... and ") and "more finding(s) not shown" in found[-1]


def test_validation_runs_outside_the_simulators_lock(
    maventa: tuple[MaventaSimulator, httpx.Client, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, http, auth = maventa
    free: list[bool] = []
    real = finvoice.validate

    def probing(*args: object, **kwargs: object) -> list[str]:
        def probe() -> None:  # another request's thread: can it take the lock right now?
            got = sim.lock.acquire(timeout=0)
            free.append(got)
            if got:
                sim.lock.release()

        t = threading.Thread(target=probe)
        t.start()
        t.join()
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(finvoice, "validate", probing)
    assert send(http, auth, build_finvoice(), "lasku.xml").status_code == 201
    assert free == [True]


def test_a_uuid_sent_twice_meanwhile_still_makes_one_invoice(
    maventa: tuple[MaventaSimulator, httpx.Client, dict[str, str]],
) -> None:
    sim, http, auth = maventa
    uid = "5d9c1f52-0000-4000-8000-00000000abcd"
    answers = [
        http.post(
            "/v1/invoices", headers=auth, files={"file": ("l.xml", build_finvoice())}, data={"uuid": uid}
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201] and len(sim.data.invoices) == 1
    assert answers[1].headers.get("X-Sim-Idempotent-Replay") == "true"


def test_zipfile_can_still_read_what_the_helpers_write() -> None:
    assert zipfile.ZipFile(__import__("io").BytesIO(invoice_zip())).testzip() is None

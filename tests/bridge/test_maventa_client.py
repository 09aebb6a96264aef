"""MaventaClient against scripted answers (httpx.MockTransport)."""

from __future__ import annotations

import io
import json
import zipfile
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.connectors.maventa import MaventaClient
from bridge.errors import ConfigurationError, MaventaError, MaventaMalformedResponse, TransportFailure
from bridge.http import RetryPolicy
from tests.bridge.http_fakes import FakeClock, Recorder

FAST = RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=5, max_total=30)
COMPANY = "0b0c1d2e-0000-4000-8000-000000000001"
USER_KEY = "user-key-123"
VENDOR = "vendor-key-xyz"


def multipart(request: httpx.Request) -> list[tuple[str, str | None, bytes, str | None]]:
    """(name, filename, payload, content type) of each part."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    msg = BytesParser(policy=HTTP).parsebytes(head + request.content)
    parts = []
    for part in msg.iter_parts():
        disposition = part.get("Content-Disposition", "")
        params = dict(p.strip().split("=", 1) for p in disposition.split(";")[1:])
        name = params["name"].strip('"')
        filename = params["filename"].strip('"') if "filename" in params else None
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        parts.append((name, filename, payload, part.get_content_type() if filename else None))
    return parts


class FakeMaventa:
    def __init__(self) -> None:
        self.issued = 0
        self.valid: set[str] = set()
        self.invoices: dict[str, dict[str, Any]] = {}
        self.overrides: dict[str, list[httpx.Response | Exception]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        queue = self.overrides.get(f"{request.method} {path}")
        if queue:
            step = queue.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        if path == "/oauth2/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            if form.get("client_secret") != USER_KEY:
                return httpx.Response(
                    401, json={"code": "invalid_credentials", "message": "Invalid credentials"}
                )
            self.issued += 1
            self.valid.add(f"tok-{self.issued}")
            return httpx.Response(
                200, json={"access_token": f"tok-{self.issued}", "token_type": "bearer", "expires_in": 3600}
            )
        if path in ("/v1/users", "/v1/companies"):
            return httpx.Response(
                201, json={"user_api_key": "new-key"} if path == "/v1/users" else {"id": "cid"}
            )
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"code": "auth_unauthorized", "message": "Unauthorized"})
        if path == "/v1/invoices" and request.method == "POST":
            fields = {name: payload for name, _, payload, _ in multipart(request)}
            uid = fields["uuid"].decode()
            if uid in self.invoices:
                return httpx.Response(409, json={"code": "uuid_conflict", "message": "uuid already used"})
            self.invoices[uid] = {"id": uid, "status": "PENDING"}
            return httpx.Response(201, json=self.invoices[uid])
        if path == "/v1/invoices":
            page = int(request.url.params["page"])
            per = int(request.url.params["per_page"])
            items = list(self.invoices.values())
            ids = request.url.params.get("ids")
            if ids is not None:
                wanted = ids.split(",")
                if len(wanted) > 100:
                    return httpx.Response(400, json={"code": "invalid_parameters", "message": "too many ids"})
                items = [i for i in items if i["id"] in wanted]
            headers = {"X-Next-Page": str(page + 1)} if page * per < len(items) else {}
            return httpx.Response(200, json=items[(page - 1) * per : page * per], headers=headers)
        if path.startswith("/v1/invoices/") and path.endswith("/actions"):
            return httpx.Response(200, json=[{"type": "CREATED", "key": "action_created"}])
        if path.startswith("/v1/invoices/"):
            inv = self.invoices.get(path.split("/")[3])
            if inv is None:
                return httpx.Response(404, json={"code": "not_found", "message": "Invoice not found"})
            return httpx.Response(200, json=inv)
        if path == "/v1/company/authorization" and request.method == "POST":
            return httpx.Response(200, json={"status": "OK"})
        if path == "/v1/company/authorization":
            return httpx.Response(
                200, json={"auth_state": "SENT", "auth_email": "a@b.fi", "company_state": "UNVERIFIED"}
            )
        if path == "/v1/company/settings" and request.method == "PATCH":
            return httpx.Response(204)
        if path == "/v1/company/settings":
            return httpx.Response(200, json={"send_invoice_email": {"enabled": True}})
        if path == "/oauth2/current":
            return httpx.Response(200, json={"user": {}, "company": {"id": COMPANY}, "scopes": ["eui"]})
        return httpx.Response(404, json={"code": "not_found", "message": "Not found"})


def make(
    fake: FakeMaventa | None = None, *, company: str | None = COMPANY, key: str | None = USER_KEY, **kw: Any
) -> tuple[MaventaClient, Recorder, FakeClock, FakeMaventa]:
    fake = fake or FakeMaventa()
    clock = FakeClock()
    rec = Recorder(fake, clock)
    client = MaventaClient(
        rec.client("https://ax.example.test"),
        VENDOR,
        company,
        key,
        policy=FAST,
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 1.0,
        **kw,
    )
    return client, rec, clock, fake


DEMO_COMPANY: dict[str, Any] = {
    "name": "Demo Oy",
    "bid": "FI12345678",
    "address1": "Katu 1",
    "post_code": "00100",
    "post_office": "Helsinki",
    "city": "Helsinki",
    "country": "FI",
    "email": "info@demo.fi",
}
FINVOICE = b'<?xml version="1.0" encoding="UTF-8"?><Finvoice Version="3.0"/>'


def test_token_is_form_encoded_with_company_uuid_user_key_and_vendor_key() -> None:
    client, rec, _, _ = make()
    assert client.current()["company"]["id"] == COMPANY
    token = rec.requests[0]
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(token.content.decode()).items()}
    assert form == {
        "grant_type": "client_credentials",
        "client_id": COMPANY,
        "client_secret": USER_KEY,
        "vendor_api_key": VENDOR,
        "scope": "eui",
    }
    assert rec.requests[1].headers["Authorization"] == "Bearer tok-1"


def test_token_is_cached_renewed_on_expiry_and_on_401() -> None:
    client, rec, clock, fake = make()
    client.current()
    client.current()
    assert rec.paths().count("/oauth2/token") == 1
    clock.advance(3600)
    client.current()
    assert rec.paths().count("/oauth2/token") == 2
    fake.valid.clear()
    client.current()
    assert rec.paths()[-3:] == ["/oauth2/current", "/oauth2/token", "/oauth2/current"]


def test_bad_key_is_an_auth_error_that_does_not_leak_secrets() -> None:
    client, _, _, _ = make(key="wrong-key")
    with pytest.raises(MaventaError) as info:
        client.authenticate()
    err = info.value
    assert err.is_auth and err.code == "invalid_credentials" and err.status == 401
    assert "wrong-key" not in str(err) and VENDOR not in str(err) and "wrong-key" not in repr(client)


def test_calls_that_need_credentials_say_so() -> None:
    client, rec, _, _ = make(company=None, key=None)
    with pytest.raises(ConfigurationError, match="company UUID and the user API key"):
        client.authorization_status()
    assert rec.requests == []


def test_registration_needs_no_token() -> None:
    client, rec, _, _ = make(company=None, key=None)
    assert client.create_user("maija@example.fi", "Maija", "Meikäläinen") == "new-key"
    assert json.loads(rec.requests[0].content) == {
        "vendor_api_key": VENDOR,
        "email": "maija@example.fi",
        "first_name": "Maija",
        "last_name": "Meikäläinen",
    }
    company = client.create_company(user_api_key="new-key", **DEMO_COMPANY)
    assert company == "cid"
    parts = {name: payload.decode() for name, _, payload, _ in multipart(rec.requests[1])}
    assert parts["bid"] == "FI12345678" and parts["no_vat"] == "false" and parts["user_api_key"] == "new-key"
    assert all("Authorization" not in r.headers for r in rec.requests)


def test_existing_user_gets_no_key() -> None:
    fake = FakeMaventa()
    fake.overrides["POST /v1/users"] = [httpx.Response(201, json={})]
    client, _, _, _ = make(fake, company=None, key=None)
    assert client.create_user("old@example.fi") is None


def test_registration_is_not_repeated_after_a_timeout() -> None:
    fake = FakeMaventa()
    fake.overrides["POST /v1/users"] = [httpx.ReadTimeout("slow")]
    client, rec, _, _ = make(fake, company=None, key=None)
    with pytest.raises(TransportFailure) as info:
        client.create_user("x@example.fi")
    assert info.value.maybe_delivered and len(rec.requests) == 1


def test_send_invoice_multipart_fields() -> None:
    client, rec, _, _ = make()
    sent = client.send_invoice(
        "1001.xml",
        FINVOICE,
        uuid="5d9c1f52-0000-5000-8000-000000000001",
        recipient_email="laskut@asiakas.fi",
        disabled_routes=["email", "print"],
        lang="FI",
    )
    assert sent == {"id": "5d9c1f52-0000-5000-8000-000000000001", "status": "PENDING"}
    parts = multipart(rec.requests[-1])
    file_part = next(p for p in parts if p[0] == "file")
    assert file_part[1:] == ("1001.xml", FINVOICE, "application/xml")
    fields = [(n, v.decode()) for n, f, v, _ in parts if f is None]
    assert ("uuid", "5d9c1f52-0000-5000-8000-000000000001") in fields
    assert ("format", "FINVOICE30") in fields and ("lang", "FI") in fields
    assert ("recipient_email", "laskut@asiakas.fi") in fields
    assert [v for n, v in fields if n == "disabled_routes[]"] == ["email", "print"]


def test_send_zip_is_labelled_as_zip_and_repeat_style_is_available() -> None:
    client, rec, _, _ = make(array_style="repeat")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("1001.xml", FINVOICE)
        z.writestr("1001.pdf", b"%PDF-1.4")
    client.send_invoice("1001.zip", buf.getvalue(), uuid="u-zip", disabled_routes=["email"])
    parts = multipart(rec.requests[-1])
    assert next(p for p in parts if p[0] == "file")[3] == "application/zip"
    assert [v for n, _, v, _ in parts if n == "disabled_routes"] == [b"email"]


@pytest.mark.parametrize(
    "first",
    [httpx.Response(503, json={"code": "unavailable", "message": "x"}), httpx.ReadTimeout("t")],
    ids=["503", "timeout"],
)
def test_send_is_retried_with_the_same_uuid(first: httpx.Response | Exception) -> None:
    fake = FakeMaventa()
    fake.overrides["POST /v1/invoices"] = [first]
    client, rec, _, _ = make(fake)
    result = client.send_invoice("a.xml", FINVOICE, uuid="u-1")
    assert result["id"] == "u-1"
    posts = [r for r in rec.requests if r.method == "POST" and r.url.path == "/v1/invoices"]
    assert len(posts) == 2
    assert len(fake.invoices) == 1


def test_send_that_reached_maventa_before_a_reset_is_not_duplicated() -> None:
    fake = FakeMaventa()
    client, rec, _, _ = make(fake)
    real = fake.__call__
    state = {"done": False}

    def reset_after_create(request: httpx.Request) -> httpx.Response:
        response = real(request)
        if request.method == "POST" and request.url.path == "/v1/invoices" and not state["done"]:
            state["done"] = True
            raise httpx.RemoteProtocolError("connection reset after the server acted")
        return response

    rec.handler = reset_after_create
    result = client.send_invoice("a.xml", FINVOICE, uuid="u-2")
    assert result == {"id": "u-2", "status": "PENDING"}
    assert list(fake.invoices) == ["u-2"]
    assert rec.paths()[-2:] == ["/v1/invoices", "/v1/invoices/u-2"]  # the 409, then the lookup


def test_resend_of_a_known_uuid_returns_the_existing_invoice() -> None:
    client, _, _, fake = make()
    fake.invoices["u-3"] = {"id": "u-3", "status": "DELIVERED"}
    assert client.send_invoice("a.xml", FINVOICE, uuid="u-3")["status"] == "DELIVERED"


def test_a_validation_refusal_is_raised_with_the_service_message() -> None:
    fake = FakeMaventa()
    body = {
        "code": "validation_failed",
        "message": "Invalid Finvoice",
        "details": ["BuyerStreetName is invalid"],
    }
    fake.overrides["POST /v1/invoices"] = [httpx.Response(422, json=body)]
    client, rec, _, _ = make(fake)
    with pytest.raises(MaventaError) as info:
        client.send_invoice("a.xml", FINVOICE, uuid="u-4")
    err = info.value
    assert err.is_validation and err.details == ["BuyerStreetName is invalid"]
    assert "BuyerStreetName is invalid" in str(err)
    assert rec.paths()[-1] == "/v1/invoices/u-4"  # looked for an earlier copy, found none


def test_send_arguments_are_checked_before_anything_is_sent() -> None:
    client, rec, _, _ = make()
    with pytest.raises(ConfigurationError):
        client.send_invoice("a.xml", FINVOICE, uuid="")
    with pytest.raises(ConfigurationError):
        client.send_invoice("a.xml", FINVOICE, uuid="u", disabled_routes=["fax"])
    with pytest.raises(ConfigurationError):
        client.send_invoice("a.xml", FINVOICE, uuid="u", lang="XX")
    assert rec.requests == []


def test_find_invoice_by_uuid() -> None:
    client, _, _, fake = make()
    fake.invoices["u-5"] = {"id": "u-5", "status": "FAILED"}
    assert client.find_invoice_by_uuid("u-5") == {"id": "u-5", "status": "FAILED"}
    assert client.find_invoice_by_uuid("nope") is None


def test_actions_authorisation_and_settings() -> None:
    client, rec, _, _ = make()
    assert client.invoice_actions("u-1", ["ERROR"])[0]["key"] == "action_created"
    assert rec.requests[-1].url.params.get_list("type[]") == ["ERROR"]
    assert client.request_authorization("signer@demo.fi", "FI") == {"status": "OK"}
    assert json.loads(rec.requests[-1].content) == {"auth_email": "signer@demo.fi", "locale": "FI"}
    assert client.authorization_status()["company_state"] == "UNVERIFIED"
    assert client.get_settings(["send_invoice_email"])["send_invoice_email"]["enabled"] is True
    client.update_settings({"send_invoice_email": {"enabled": False}})
    assert rec.requests[-1].method == "PATCH"
    assert json.loads(rec.requests[-1].content) == {"send_invoice_email": {"enabled": False}}
    with pytest.raises(ConfigurationError):
        client.request_authorization("signer@demo.fi", "DE")


def test_authorization_request_is_not_repeated_after_a_5xx() -> None:
    fake = FakeMaventa()
    fake.overrides["POST /v1/company/authorization"] = [
        httpx.Response(500, json={"code": "x", "message": "boom"})
    ]
    client, rec, _, _ = make(fake)
    with pytest.raises(MaventaError):
        client.request_authorization("signer@demo.fi")
    assert rec.paths().count("/v1/company/authorization") == 1


def test_malformed_json_is_a_typed_error() -> None:
    fake = FakeMaventa()
    fake.overrides["GET /oauth2/current"] = [httpx.Response(200, text="{") for _ in range(4)]
    client, _, _, _ = make(fake)
    with pytest.raises(MaventaMalformedResponse):
        client.current()


def test_for_company_shares_the_connection_but_not_the_token() -> None:
    client, rec, _, _ = make()
    client.current()
    other = client.for_company("0b0c1d2e-0000-4000-8000-000000000002", USER_KEY)
    other.current()
    tokens = [r for r in rec.requests if r.url.path == "/oauth2/token"]
    assert len(tokens) == 2
    assert parse_qs(tokens[1].content.decode())["client_id"] == ["0b0c1d2e-0000-4000-8000-000000000002"]
    assert other.http is client.http


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=45), st.integers(min_value=1, max_value=20))
def test_listing_pages_until_a_short_page(count: int, per_page: int) -> None:
    fake = FakeMaventa()
    Faker.seed(count)
    fake_names = Faker("fi_FI")
    for i in range(count):
        fake.invoices[f"u{i}"] = {
            "id": f"u{i}",
            "status": "PENDING",
            "recipient": {"name": fake_names.company()},
        }
    client, rec, _, _ = make(fake)
    got = list(client.iter_invoices(per_page=per_page, status=["PENDING"]))
    assert got == list(fake.invoices.values())
    listing = [r for r in rec.requests if r.url.path == "/v1/invoices"]
    assert len(listing) == count // per_page + 1
    assert listing[0].url.params["direction"] == "SENT"
    assert listing[0].url.params.get_list("status[]") == ["PENDING"]


def test_get_invoices_polls_100_ids_per_query_comma_separated() -> None:
    client, rec, _, fake = make()
    for i in range(230):
        fake.invoices[f"u{i}"] = {"id": f"u{i}", "status": "DELIVERED"}
    wanted = [f"u{i}" for i in range(0, 230, 2)] + ["u0", "nope-1", *[f"u{i}" for i in range(1, 200, 2)]]
    got = client.get_invoices(wanted)
    assert sorted(i["id"] for i in got) == sorted({w for w in wanted if w != "nope-1"})
    polls = [r for r in rec.requests if r.url.path == "/v1/invoices"]
    assert len(polls) == 3  # 216 distinct ids: 100 + 100 + 16
    for poll in polls:
        assert poll.url.params["direction"] == "SENT" and poll.url.params["per_page"] == "100"
        assert len(poll.url.params.get_list("ids")) == 1  # one comma-separated value (explode: false)
        assert "ids%5B%5D" not in str(poll.url)
    assert [len(p.url.params["ids"].split(",")) for p in polls] == [100, 100, 16]


def test_get_invoices_follows_x_next_page() -> None:
    fake = FakeMaventa()
    client, rec, _, _ = make(fake)
    fake.invoices.update({f"u{i}": {"id": f"u{i}", "status": "PENDING"} for i in range(3)})
    fake.overrides["GET /v1/invoices"] = [
        httpx.Response(200, json=[fake.invoices["u0"]], headers={"X-Next-Page": "2"}),
        httpx.Response(200, json=[fake.invoices["u1"]]),
    ]
    assert [i["id"] for i in client.get_invoices(["u0", "u1"])] == ["u0", "u1"]
    assert [r.url.params["page"] for r in rec.requests if r.url.path == "/v1/invoices"] == ["1", "2"]


def test_get_invoices_of_nothing_asks_nothing_and_bad_ids_are_refused_first() -> None:
    client, rec, _, _ = make()
    assert client.get_invoices([]) == []
    with pytest.raises(ConfigurationError):
        client.get_invoices(["u1", "a/x"])
    assert rec.requests == []


def _boundary(request: httpx.Request) -> str:
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    return content_type.split("boundary=", 1)[1]


def test_every_upload_of_a_client_uses_its_one_boundary_and_the_body_is_well_formed() -> None:
    client, rec, _, _ = make()
    client.send_invoice("a.xml", FINVOICE, uuid="u-b1", disabled_routes=["email"])
    client.send_invoice("b.xml", FINVOICE, uuid="u-b2")
    client.for_company(COMPANY, USER_KEY).send_invoice("c.xml", FINVOICE, uuid="u-b3")
    uploads = [r for r in rec.requests if r.method == "POST" and r.url.path == "/v1/invoices"]
    boundaries = {_boundary(r) for r in uploads}
    assert len(boundaries) == 1
    (boundary,) = boundaries
    assert len(boundary) >= 32
    for upload in uploads:
        assert upload.content.startswith(f"--{boundary}\r\n".encode())
        assert upload.content.endswith(f"--{boundary}--\r\n".encode())
        assert [p[0] for p in multipart(upload)][:2] == ["file", "uuid"]
    other, rec2, _, _ = make()
    other.send_invoice("a.xml", FINVOICE, uuid="u-b4")
    assert _boundary(rec2.requests[-1]) != boundary  # per client, not one for the process


def test_registration_upload_uses_the_boundary_too() -> None:
    client, rec, _, _ = make(company=None, key=None)
    client.create_company(user_api_key="k", **DEMO_COMPANY)
    assert _boundary(rec.requests[-1]) == client.multipart_boundary
    assert dict((n, v) for n, _, v, _ in multipart(rec.requests[-1]))["name"] == b"Demo Oy"


def test_content_that_holds_the_boundary_gets_a_fresh_one_for_that_upload() -> None:
    client, rec, _, _ = make()
    tricky = FINVOICE + f"<!-- --{client.multipart_boundary} -->".encode()
    client.send_invoice("a.xml", tricky, uuid="u-b5")
    upload = rec.requests[-1]
    assert _boundary(upload) != client.multipart_boundary
    file_part = next(p for p in multipart(upload) if p[0] == "file")
    assert file_part[2] == tricky

"""The red-team harness: every fake with valid credentials, the calls that prove it is not
poisoned, example writes to mutate, and a seeded generator of hostile requests.

A "hostile" request is anything a careless or malicious tester can send: every route of the
fake and of its control plane, with placeholders, query parameters, headers and bodies drawn
from values that have broken parsers before (lone surrogates, 5,000-digit numbers, NaN, deep
nesting, invalid UTF-8, control characters, unreadable ZIPs, XML entities, wrong types...).
The only acceptable answers are the fake's own 2xx-4xx; nothing may be a 5xx, hang, or leave
a state that makes a listing, ``/_sim/state`` or ``/_sim/journal`` fail.
"""

from __future__ import annotations

import json
import random
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from simulators.kit import Simulator
from simulators.maestro import MaestroSimulator
from simulators.mailbox import MailboxSimulator
from simulators.maventa import MaventaSimulator
from simulators.severa import SeveraSimulator
from tests.maventa.finvoice_factory import build_finvoice
from tests.maventa.zips import invoice_zip, unreadable, zeros_bomb

HANG_BOUND = 20.0  # seconds for one in-process request: anything longer is a hang
GUID = "6f1c1d2e-1111-4222-8333-444455556666"


@dataclass
class Fake:
    """One fake, reachable in-process, with what the red team needs to attack it."""

    name: str
    sim: Simulator
    http: httpx.Client
    login: Callable[[Fake], dict[str, str]]
    listings: list[tuple[str, str, dict[str, Any]]]
    writes: list[tuple[str, str, Any]]
    auth: dict[str, str] = field(default_factory=dict)

    def relogin(self) -> None:
        self.auth = self.login(self)

    def not_poisoned(self) -> list[str]:
        """What no longer answers as it should: listings (200), export, redacted export, journal."""
        broken = []
        for method, path, params in self.listings:
            r = self.http.request(method, path, params=params, headers=self.auth)
            if r.status_code != 200:
                broken.append(f"{method} {path} -> {r.status_code} {r.text[:200]}")
        for path, params in (
            ("/_sim/state", {}),
            ("/_sim/state", {"redact": "1"}),
            ("/_sim/journal", {"limit": "100"}),  # the newest: every entry since the last check
        ):
            r = self.http.get(path, params=params)
            try:
                json.loads(r.text)  # the strict parser: no NaN, no lone surrogates as raw text
            except ValueError as exc:
                broken.append(f"GET {path} {params}: not JSON ({exc})")
            if r.status_code != 200:
                broken.append(f"GET {path} {params} -> {r.status_code} {r.text[:200]}")
        return broken


# ----------------------------------------------------------------------------- the fakes
def _severa_login(f: Fake) -> dict[str, str]:
    creds = f.sim.client_credentials()  # type: ignore[attr-defined]
    r = f.http.post(
        "/rest-api/v1/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"} if r.status_code == 200 else {}


def _maventa_login(f: Fake) -> dict[str, str]:
    c = f.http.get("/_sim/credentials").json()
    company = next((x for x in c["companies"] if x["company_state"] == "VERIFIED"), None)
    if company is None:
        return {}
    r = f.http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": company["id"],
            "client_secret": company["users"][0]["user_api_key"],
            "vendor_api_key": c["vendor_api_keys"][0],
            "scope": "eui",
        },
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"} if r.status_code == 200 else {}


def _maestro_login(f: Fake) -> dict[str, str]:
    return {"X-Maestro-Api-Key": f.http.get("/_sim/credentials").json()["companies"][0]["api_key"]}


SALES_INVOICE = {
    "severa_invoice_guid": GUID,
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
            "codes": ["KONS"],
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
}


def make(name: str, **options: Any) -> Fake:
    """A fresh fake by name (severa, maventa, maestro, mailbox), logged in."""
    if name == "severa":
        sim: Simulator = SeveraSimulator(seed=0, **options)
        b = sim.main  # type: ignore[attr-defined]
        invoice = next(iter(b.org.invoices))
        fake = Fake(
            name,
            sim,
            sim.client(base_url="http://severa.sim"),
            _severa_login,
            [("GET", "/rest-api/v1/invoices", {}), ("GET", "/rest-api/v1/invoicestatuses", {})],
            [
                ("POST", "/rest-api/v1/invoicestatuses", {"name": "Oma tila", "isSent": False}),
                (
                    "PATCH",
                    f"/rest-api/v1/invoices/{invoice}",
                    [{"op": "replace", "path": "/yourReference", "value": "x"}],
                ),
                ("POST", "/rest-api/v1/refreshtoken", "sevr.token"),
                ("POST", "/_sim/severa/invoices", {"rows": [{"kind": "hours", "ref": "KEH", "quantity": 2}]}),
                ("POST", "/_sim/severa/statuses", {"name": "Tila", "isSent": True}),
                ("PATCH", "/_sim/severa/statuses/Luonnos", {"isReadOnly": False, "is_paid": False}),
            ],
        )
    elif name == "maventa":
        sim = MaventaSimulator(seed=0, **options)
        vendor = next(iter(sim.data.vendor_keys))  # type: ignore[attr-defined]
        fake = Fake(
            name,
            sim,
            sim.client(base_url="http://maventa.sim"),
            _maventa_login,
            [("GET", "/v1/invoices", {"direction": "SENT"}), ("GET", "/v1/company/settings", {})],
            [
                (
                    "POST",
                    "/v1/users",
                    {"vendor_api_key": vendor, "email": "uusi@example.fi", "first_name": "Uusi"},
                ),
                ("PATCH", "/v1/company/settings", {"send_invoice_email": {"enabled": True}}),
                ("POST", "/v1/company/authorization", {"auth_email": "a@example.fi", "locale": "FI"}),
                ("POST", "/v1/invoices", None),  # multipart: see `_body`
                ("PUT", "/v1/invoices/x/reroute/email", {"recipient_email": "a@example.fi"}),
            ],
        )
    elif name == "maestro":
        sim = MaestroSimulator(seed=0, **options)
        fake = Fake(
            name,
            sim,
            sim.client(base_url="http://maestro.sim"),
            _maestro_login,
            [
                ("GET", "/api/v1/products", {}),
                ("GET", "/api/v1/customers", {}),
                ("GET", "/api/v1/import-log", {}),
            ],
            [
                ("PUT", "/api/v1/products/KONS", {"name": "Konsultointi", "unit": "h", "vat_rate": 25.5}),
                ("PUT", "/api/v1/customers/7", {"name": "Asiakas Oy"}),
                ("POST", "/api/v1/sales-invoices", SALES_INVOICE),
                (
                    "PUT",
                    "/api/v1/integrations/severa/settings",
                    {"source_status_name": "A", "transferred_status_name": "B"},
                ),
                ("POST", "/_sim/companies", {"name": "Uusi Oy", "business_id": "2615835-9"}),
            ],
        )
    elif name == "mailbox":
        sim = MailboxSimulator(**options)
        fake = Fake(
            name,
            sim,
            sim.client(base_url="http://mailbox.sim"),
            lambda f: {},
            [("GET", "/_sim/messages", {})],
            [],
        )
    else:
        raise KeyError(name)
    fake.relogin()
    return fake


FAKES = ("severa", "maventa", "maestro", "mailbox")


# ----------------------------------------------------------------------------- hostile values
SURROGATE = "\ud800"
LOW_SURROGATE = "\udfff"
TEXTS = [
    "",
    " ",
    "a" * 5000,
    "\x00",
    "%00",
    "%ED%A0%80",
    "%FF",
    "../../etc/passwd",
    "ä€😀\u202e",
    "\ufffd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "\r\nX-Injected: 1",
    "9" * 5000,
    "-1",
    "0",
    "1e400",
    "NaN",
    "²",
    "true",
    "null",
    GUID,
    "A/0",
    "2026-13-45T25:61:61Z",
]
NUMBERS: list[Any] = [0, -1, 1, 2**31, 2**63, 2**64 + 1, 10**30, 1e308, -1e308, 0.1, -0.0, 3.14159265358979]


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.35 or depth > 3:
        return rng.choice([*TEXTS, SURROGATE, "x" + SURROGATE, LOW_SURROGATE])
    if roll < 0.55:
        return rng.choice(NUMBERS)
    if roll < 0.65:
        return rng.choice([None, True, False])
    if roll < 0.8:
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {
        rng.choice([*TEXTS[:12], "name", "id", "x" + SURROGATE]): _json_value(rng, depth + 1)
        for _ in range(rng.randint(0, 4))
    }


def _mutate(example: Any, rng: random.Random) -> Any:
    """A valid example with one thing wrong (or a few): the requests that reach deep code."""
    value = json.loads(json.dumps(example))
    for _ in range(rng.randint(1, 3)):
        target = value
        while True:
            if isinstance(target, dict) and target:
                key = rng.choice(list(target))
                if rng.random() < 0.5 and isinstance(target[key], (dict, list)) and target[key]:
                    target = target[key]
                    continue
                action = rng.random()
                if action < 0.6:
                    target[key] = _json_value(rng)
                elif action < 0.8:
                    del target[key]
                else:
                    target[rng.choice(TEXTS[:10])] = _json_value(rng)
            elif isinstance(target, list) and target:
                i = rng.randrange(len(target))
                if isinstance(target[i], (dict, list)) and target[i] and rng.random() < 0.6:
                    target = target[i]
                    continue
                target[i] = _json_value(rng)
            break
    return value


RAW_BODIES: list[bytes] = [
    b"",
    b"{",
    b"[" * 100_000,
    b'{"a": ' * 70 + b"1" + b"}" * 70,
    b"\xff\xfe\x00\x00garbage",
    b'{"name": "\xed\xa0\x80"}',
    b'{"name": "\\ud800"}',
    b"\xef\xbb\xbf{}",
    b'{"n": 1e400}',
    b'{"n": NaN}',
    b'{"n": ' + b"9" * 5000 + b"}",
    b"a=1&b=%ED%A0%80&c=" + b"x" * 10_000,
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
    b"null",
    b'"just a string"',
    bytes(range(256)),
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "application/xml",
    "application/vnd.api+json",
    "",
]
PARAMS = [
    "rowCount",
    "firstRow",
    "pageToken",
    "changedSince",
    "invoiceStatusGuids",
    "customerGuids",
    "numbers",
    "limit",
    "offset",
    "since",
    "status",
    "page",
    "per_page",
    "direction",
    "return_format",
    "fields[]",
    "code",
    "active",
    "isActive",
    "redact",
    "method",
    "path",
    "faulted",
    "kind",
    "to",
    "format",
    "business_ids",
    "eia",
    "bid",
    "name",
    "level",
    "invoice",
    "minimumTotalExcludingTax",
]
_PLACEHOLDER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def _path(rule: str, rng: random.Random) -> str:
    def fill(m: re.Match[str]) -> str:
        return rng.choice(
            [
                GUID,
                "1",
                "0",
                "-1",
                "9" * 40,
                "x" * 300,
                "%00",
                "a%2Fb",
                "ä€",
                "..",
                "%ED%A0%80",
                "KONS",
                "A/0",
                "1001",
                "100001",
            ]
        )

    return _PLACEHOLDER.sub(fill, rule)


def _multipart(rng: random.Random) -> tuple[bytes, str]:
    """A multipart invoice upload: good, unreadable or hostile files and fields."""
    choice = rng.random()
    if choice < 0.2:
        name, data = "lasku.xml", build_finvoice()
    elif choice < 0.45:
        kind = rng.choice(sorted(unreadable()))
        name, data = "lasku.zip", unreadable()[kind]
    elif choice < 0.55:
        name, data = (
            "lasku.zip",
            invoice_zip(**{rng.choice(["ä€.pdf", "a\r\nb.pdf", "x" * 300 + ".pdf"]): b"%PDF-1.4"}),
        )
    elif choice < 0.6:
        name, data = "pommi.zip", zeros_bomb(3, 10 * 1024 * 1024)
    else:
        name, data = rng.choice(["l.xml", "\x00.xml", "ä.xml", "a\nb.xml"]), rng.choice(RAW_BODIES)
    fields = {
        rng.choice(
            [
                "uuid",
                "format",
                "lang",
                "disabled_routes",
                "prevent_routing",
                "print_settings[color]",
                "recipient_email",
            ]
        ): rng.choice(TEXTS)
        for _ in range(rng.randint(0, 3))
    }
    boundary = "hostile-b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode("utf-8", "surrogateescape")
        + data
        + b"\r\n"
    ]
    for k, v in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
            + v.encode("utf-8", "surrogatepass")
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _json_bytes(value: Any, rng: random.Random) -> bytes:
    """JSON with non-ASCII escaped (``\\ud800``) or as raw UTF-8 (a surrogate's raw bytes)."""
    return json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


@dataclass
class Hostile:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def describe(self) -> str:
        return f"{self.method} {self.path[:120]} params={self.params[:3]!r} body={self.body[:80]!r}"


def hostile_requests(fake: Fake, rng: random.Random, n: int) -> Iterator[Hostile]:
    rules = [
        (r.rule, sorted(set(r.methods or ()) - {"HEAD", "OPTIONS"}))
        for r in fake.sim.app.url_map.iter_rules()
    ]
    rules = [r for r in rules if r[1]]
    for _ in range(n):
        headers: dict[str, str] = {}
        auth_roll = rng.random()
        if auth_roll < 0.75:
            headers.update(fake.auth)
        elif auth_roll < 0.85:
            headers["Authorization"] = rng.choice(
                ["Bearer x", "Basic !!!", "Bearer " + "a" * 3000, "Digest q"]
            )
            headers["X-Maestro-Api-Key"] = rng.choice(["mae_nope", ""])
        if fake.writes and rng.random() < 0.35:
            method, path, example = rng.choice(fake.writes)
            if example is None:
                body, ctype = _multipart(rng)
            else:
                body, ctype = _json_bytes(_mutate(example, rng), rng), "application/json"
        else:
            rule, methods = rng.choice(rules)
            method = (
                rng.choice(methods)
                if rng.random() < 0.85
                else rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE"])
            )
            path = _path(rule, rng)
            roll = rng.random()
            if roll < 0.4:
                body, ctype = _json_bytes(_json_value(rng), rng), "application/json"
            elif roll < 0.7:
                body, ctype = rng.choice(RAW_BODIES), rng.choice(CONTENT_TYPES)
            else:
                body, ctype = b"", rng.choice(CONTENT_TYPES)
        if ctype:
            headers["Content-Type"] = ctype
        if rng.random() < 0.05:
            headers["X-Big"] = "h" * rng.choice([100, 20_000])
        params = [(rng.choice(PARAMS), rng.choice(TEXTS)) for _ in range(rng.choice([0, 0, 1, 2, 4]))]
        yield Hostile(method, path, params, headers, body)


@contextmanager
def bounded(seconds: float = HANG_BOUND) -> Iterator[None]:
    """Fail instead of hanging: an alarm in the main thread (elsewhere no bound is set)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def timeout(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    sent: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    poison_checks: int = 0


def attack(fake: Fake, seed: int, n: int, check_every: int = 40) -> Outcome:
    """Send `n` hostile requests; every answer must be < 500, every `check_every` the fake must
    still answer its listings, export and journal."""
    rng = random.Random(seed)
    out = Outcome()
    for i, req in enumerate(hostile_requests(fake, rng, n), 1):
        try:
            with bounded():
                r = fake.http.request(
                    req.method, req.path, params=req.params, headers=req.headers, content=req.body
                )
            status = r.status_code
            if status >= 500:
                out.failures.append(f"{status} for {req.describe()}: {r.text[:300]}")
        except Exception as exc:  # a hang, a crash of the transport: both are failures
            status = -1
            out.failures.append(f"{type(exc).__name__}: {exc} for {req.describe()}")
        out.sent += 1
        out.by_status[status] = out.by_status.get(status, 0) + 1
        if req.path.startswith("/_sim/faults") and req.method == "POST":
            fake.http.delete("/_sim/faults")  # a rule the red team made would inject 5xx on purpose
        if req.path.startswith(("/_sim/reset", "/_sim/state", "/_sim/clock")) and 200 <= status < 300:
            fake.relogin()
        if i % check_every == 0 or i == n:
            out.poison_checks += 1
            broken = fake.not_poisoned()
            if broken:
                out.failures.append(f"after {req.describe()}: poisoned: {broken}")
                fake.sim.reset()
                fake.relogin()
    return out

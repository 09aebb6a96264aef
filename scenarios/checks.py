"""The expectations of scenarios (``then``): what a person would look at, field by field.

Each check returns a list of ``Diff`` (field, expected, actual); an empty list is a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.store import LedgerState, LogLevel
from scenarios.context import Context, StepFailed
from scenarios.vocabulary import Param, check
from scenarios.world import exactly_once_problems

__all__ = ["Diff"]


@dataclass(frozen=True)
class Diff:
    field: str
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.field}: expected {self.expected!r}, got {self.actual!r}"


def _compare(out: list[Diff], field: str, expected: Any, actual: Any) -> None:
    if expected is not None and expected != actual:
        out.append(Diff(field, expected, actual))


def _count(out: list[Diff], field: str, args: dict[str, Any], n: int, default: int | None = None) -> None:
    want = args.get("count", default)
    if want is not None and n != want:
        out.append(Diff(field, want, n))


def _contains(out: list[Diff], field: str, needle: Any, haystack: list[str]) -> None:
    if needle is not None and not any(str(needle) in h for h in haystack):
        out.append(Diff(field, f"… {needle} …", haystack[-5:] if haystack else "(nothing)"))


# ====================================================================== Severa
@check(
    "invoice_status",
    group="severa",
    covers=("MV-11", "MV-12", "MA-3"),
    doc="The invoice's status in Severa (laskun tila).",
    params=(Param("invoice", "invoice", required=True), Param("is", "text", required=True)),
)
def _status(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    out: list[Diff] = []
    _compare(
        out,
        f"status of invoice {ctx.invoice_label(args['invoice'])}",
        str(args["is"]),
        ctx.world.severa_status(ctx.invoice(args["invoice"])),
    )
    return out


@check(
    "invoices_in",
    group="severa",
    doc="How many invoices (of any unit) are in a Severa status.",
    params=(Param("status", "text", required=True), Param("count", "int"), Param("numbers", "texts")),
)
def _invoices_in(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    guids = ctx.world.invoice_guids_in(str(args["status"]), unit=None)
    out: list[Diff] = []
    _count(out, f"invoices in {args['status']}", args, len(guids))
    if "numbers" in args:
        _compare(
            out,
            f"numbers in {args['status']}",
            sorted(str(n) for n in args["numbers"]),
            sorted(str(ctx.world.severa_number(g)) for g in guids),
        )
    return out


# ====================================================================== the bridge
@check(
    "error",
    group="bridge",
    doc="The error the last failing step showed the user: exactly (is) or containing a text.",
    params=(Param("is", "text"), Param("contains", "text")),
)
def _error(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    out: list[Diff] = []
    actual = ctx.last_error
    if "is" in args:
        _compare(out, "error", str(args["is"]), actual)
    if "contains" in args and (actual is None or str(args["contains"]) not in actual):
        out.append(Diff("error", f"… {args['contains']} …", actual))
    return out


@check(
    "log",
    group="bridge",
    doc="Lines of the transfer log (siirtoloki): one containing (or equal to) a text, of a level, about an invoice.",
    params=(
        Param("contains", "text"),
        Param("is", "text"),
        Param("level", "choice", choices=("INFO", "WARNING", "ERROR")),
        Param("invoice", "invoice"),
        Param("connector", "choice", choices=("maventa", "maestro")),
        Param("count", "int", doc="how many matching lines (default: at least one)"),
    ),
)
def _log(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    entries = ctx.world.store.log.entries(
        connector=args.get("connector"),
        invoice_guid=ctx.invoice(args["invoice"]) if "invoice" in args else None,
        level=LogLevel(args["level"]) if "level" in args else None,
        limit=None,
        newest_first=False,
    )
    texts = [e.message for e in entries]
    matching = [
        t
        for t in texts
        if ("contains" not in args or str(args["contains"]) in t)
        and ("is" not in args or t == str(args["is"]))
    ]
    out: list[Diff] = []
    if "count" in args:
        _count(out, "matching log lines", args, len(matching))
    elif not matching:
        want = args.get("is") or f"… {args.get('contains', '')} …"
        out.append(
            Diff(
                f"a {args.get('level', '')} log line".replace("  ", " "),
                want,
                texts[-6:] or "(the log is empty)",
            )
        )
    return out


@check(
    "ledger",
    group="bridge",
    doc="Where the invoice is in the bridge's transfer ledger (DELIVERED, NOTIFIED, ...) and its generation.",
    params=(
        Param("invoice", "invoice", required=True),
        Param("state", "choice", choices=tuple(s.value for s in LedgerState)),
        Param("connector", "choice", choices=("maventa", "maestro")),
        Param("generation", "int"),
        Param("channel", "text", doc="Maventa: EINVOICE, EMAIL or PRINT"),
    ),
)
def _ledger(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    guid = ctx.invoice(args["invoice"]).lower()
    rows = [
        e for e in ctx.world.store.ledger.in_state(connector=args.get("connector")) if e.invoice_guid == guid
    ]
    out: list[Diff] = []
    if not rows:
        return [Diff(f"ledger row of invoice {args['invoice']}", "a row", "none")]
    row = rows[0]
    _compare(out, "state", args.get("state"), row.state.value)
    _compare(out, "generation", args.get("generation"), row.generation)
    _compare(out, "channel", args.get("channel"), row.remote_detail)
    return out


@check(
    "company",
    group="bridge",
    covers=("MV-1", "MV-2", "MV-3", "MV-4", "MV-5", "MV-13"),
    doc="The sending company as the integration page shows it.",
    params=(
        Param("unit", "text"),
        Param("registration", "text", doc="NOT_REGISTERED, REGISTERED, KEY_MISSING, CONNECTED, USER_CREATED"),
        Param("authentication", "text", doc="NONE, PENDING, SENT, SIGNED, CANCELED"),
        Param("state", "text", doc="UNKNOWN, UNVERIFIED, VERIFIED"),
        Param("active", "bool"),
        Param("api_key_set", "bool"),
        Param("uuid_set", "bool"),
    ),
)
def _company(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    unit = ctx.unit(args)
    found = [c for c in ctx.world.store.companies.all() if c.name == unit]
    if not found:
        return [Diff(f"sending company {unit}", "known to the bridge", "not set up")]
    c = found[0]
    out: list[Diff] = []
    _compare(out, "registration", args.get("registration"), c.registration_state.value)
    _compare(out, "authentication", args.get("authentication"), c.auth_state.value)
    _compare(out, "state", args.get("state"), c.company_state.value)
    _compare(out, "active", args.get("active"), c.active)
    _compare(out, "api_key_set", args.get("api_key_set"), bool(c.maventa_api_key))
    _compare(out, "uuid_set", args.get("uuid_set"), bool(c.maventa_company_uuid))
    return out


@check(
    "registration",
    group="bridge",
    covers=("MV-1", "MV-2"),
    doc="What the last registration told the user.",
    params=(Param("key_returned", "bool"), Param("message_contains", "text")),
)
def _registration(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    result = ctx.results.get("registration")
    if result is None:
        return [Diff("registration", "a register step", "none ran")]
    out: list[Diff] = []
    _compare(out, "key_returned", args.get("key_returned"), result.key_returned)
    _contains(out, "message", args.get("message_contains"), [result.message])
    return out


@check(
    "pass_report",
    group="bridge",
    doc="Totals of the sync passes so far (or of the last one with last: true) and their problems.",
    params=(
        Param("last", "bool"),
        Param("sent", "int"),
        Param("delivered", "int"),
        Param("failed", "int"),
        Param("fallback_rows", "int", doc="Maestro rows booked on A/0"),
        Param("retries_deferred", "int"),
        Param("problems", "int", doc="how many problems (sync exits 2 when there are any)"),
        Param("problem_contains", "text"),
    ),
)
def _report(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    reports = ctx.reports[-1:] if args.get("last") else ctx.reports
    if not reports:
        return [Diff("sync passes", "at least one", "none ran")]
    out: list[Diff] = []
    for key in ("sent", "delivered", "failed", "fallback_rows", "retries_deferred"):
        if key in args:
            _compare(out, key, args[key], sum(getattr(r, key) for r in reports))
    problems = [p for r in reports for p in r.problems]
    if "problems" in args:
        _compare(out, "problems", args["problems"], len(problems))
    _contains(out, "problems", args.get("problem_contains"), problems)
    return out


@check(
    "exactly_once",
    group="bridge",
    doc="Every invoice of the unit sent to Maventa at most once per send and settled (delivered, or "
    "error status with one log line and one notification per failed send), none lost; for Maestro, "
    "every imported invoice once.",
    params=(Param("unit", "text"),),
)
def _exactly_once(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    w = ctx.world
    out = []
    unit = ctx.unit(args)
    if unit in w.companies:
        out += [Diff("exactly once", "no problem", p) for p in exactly_once_problems(w, unit=unit)]
    seen: dict[str, int] = {}
    for inv in w.maestro_invoices():
        seen[inv.severa_invoice_guid] = seen.get(inv.severa_invoice_guid, 0) + 1
    out += [Diff("Maestro invoices of Severa invoice " + g, 1, n) for g, n in seen.items() if n > 1]
    return out


@check(
    "requests",
    group="bridge",
    doc="HTTP exchanges the bridge had with a service (from its journal): how many, with which status.",
    params=(
        Param("service", "choice", required=True, choices=("severa", "maventa", "maestro")),
        Param("method", "text"),
        Param("path", "text", doc="the path starts with this, e.g. /rest-api/v1/refreshtoken"),
        Param("status", "int"),
        Param("count", "int"),
        Param("at_least", "int"),
        Param("at_most", "int"),
    ),
)
def _requests(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    sim = ctx.world.sims[str(args["service"])]
    entries = [
        e
        for e in sim.journal.entries(
            method=args.get("method"), path_prefix=args.get("path"), status=args.get("status")
        )
        if not e.path.startswith("/_sim")
    ]
    n = len(entries)
    what = f"{args['service']} {args.get('method', '')} {args.get('path', '')} requests".replace("  ", " ")
    out: list[Diff] = []
    _count(out, what, args, n)
    if "at_least" in args and n < int(args["at_least"]):
        out.append(Diff(what, f">= {args['at_least']}", n))
    if "at_most" in args and n > int(args["at_most"]):
        out.append(Diff(what, f"<= {args['at_most']}", n))
    return out


# ====================================================================== Maventa
@check(
    "maventa_invoice",
    group="maventa",
    covers=("MV-6", "MV-8", "MV-10"),
    doc="What Maventa received for an invoice: how many sends, their status and the channel it went by.",
    params=(
        Param("invoice", "invoice", required=True),
        Param("count", "int", doc="default 1"),
        Param("status", "choice", choices=("PENDING", "DELIVERED", "FAILED")),
        Param("channel", "choice", choices=("EINVOICE", "EMAIL", "PRINT")),
        Param("with_pdf", "bool", doc="MV-6: Severa's PDF went with it"),
    ),
)
def _maventa_invoice(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    w = ctx.world
    guid = ctx.invoice(args["invoice"])
    number = w.severa_number(guid)
    sent = [i for i in w.maventa_invoices() if str(i.number) == str(number)]
    out: list[Diff] = []
    _count(out, f"Maventa invoices with number {number}", args, len(sent), default=1)
    if sent:
        last = sent[-1]
        _compare(out, "status", args.get("status"), last.status)
        _compare(out, "channel", args.get("channel"), last.destination)
        if "with_pdf" in args:
            has_pdf = any(f.type == "INVOICE_IMAGE" for f in last.files)
            _compare(out, "with_pdf", args["with_pdf"], has_pdf)
    return out


@check(
    "maventa_outbox",
    group="maventa",
    covers=("MV-3", "MV-7", "MV-8"),
    doc="What Maventa sent out (its outbox): invitations, invoices by e-mail, print jobs.",
    params=(
        Param("kind", "choice", choices=("email", "print")),
        Param(
            "purpose", "choice", choices=("authorization_invitation", "invoice", "send_error", "print_job")
        ),
        Param("invoice", "invoice"),
        Param("to_contains", "text"),
        Param("count", "int", doc="default: at least one"),
        Param("pages_at_least", "int", doc="print: pages in the job"),
        Param("cover_page", "bool", doc="print: a cover page was added (MV-7)"),
        Param("every_page_charged", "bool", doc="print: billed pages = pages"),
    ),
)
def _outbox(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    w = ctx.world
    filters: dict[str, Any] = {}
    if "kind" in args:
        filters["kind"] = args["kind"]
    if "purpose" in args:
        filters["purpose"] = args["purpose"]
    messages = w.maventa_sim.outbox_messages(**filters)
    if "invoice" in args:
        number = w.severa_number(ctx.invoice(args["invoice"]))
        ids = {i.id for i in w.maventa_invoices() if str(i.number) == str(number)}
        messages = [m for m in messages if m.get("invoice_id") in ids]
    if "to_contains" in args:
        messages = [m for m in messages if str(args["to_contains"]) in str(m.get("to"))]
    out: list[Diff] = []
    if "count" in args:
        _count(out, "outbox messages", args, len(messages))
    elif not messages:
        return [Diff("outbox messages", "at least one", 0)]
    for m in messages:
        job = m.get("print_job") or {}
        if "pages_at_least" in args and int(job.get("pages") or 0) < int(args["pages_at_least"]):
            out.append(Diff("print pages", f">= {args['pages_at_least']}", job.get("pages")))
        _compare(out, "cover_page", args.get("cover_page"), job.get("cover_page") if job else None)
        if args.get("every_page_charged"):
            _compare(out, "pages billed", job.get("pages"), (job.get("charge") or {}).get("pages_billed"))
    return out


# ====================================================================== e-mail
@check(
    "mail",
    group="mail",
    covers=("MV-9",),
    doc="E-mails the SMTP mailbox caught (the bridge's sending-error notifications).",
    params=(
        Param("to", "text"),
        Param("subject_contains", "text"),
        Param("body_contains", "text"),
        Param("count", "int", doc="default: at least one"),
    ),
)
def _mail(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    box = ctx.world.mailbox
    if box is None:
        raise StepFailed("this world has no mailbox (given: mailbox: true)")
    mails = box.find(to=args["to"]) if "to" in args else box.find()
    if "subject_contains" in args:
        mails = [m for m in mails if str(args["subject_contains"]) in m.subject]
    if "body_contains" in args:
        mails = [m for m in mails if str(args["body_contains"]) in (m.text or "")]
    out: list[Diff] = []
    if "count" in args:
        _count(out, "e-mails", args, len(mails))
    elif not mails:
        subjects = [m.subject for m in box.find()]
        out.append(Diff("an e-mail", {k: v for k, v in args.items()}, subjects or "(the mailbox is empty)"))
    return out


# ====================================================================== Maestro
@check(
    "maestro_invoice",
    group="maestro",
    covers=("MA-1", "MA-5", "MA-6", "MA-7"),
    doc="The sales invoice in Maestro: how many, and the product each row was booked on.",
    params=(
        Param("invoice", "invoice", required=True),
        Param("count", "int", doc="default 1"),
        Param("products", "texts", doc="the product code of each row, in order (A/0 for a fallback booking)"),
        Param("fallback_rows", "int"),
    ),
)
def _maestro_invoice(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    guid = ctx.invoice(args["invoice"]).lower()
    invoices = [i for i in ctx.world.maestro_invoices() if i.severa_invoice_guid == guid]
    out: list[Diff] = []
    _count(out, "Maestro invoices", args, len(invoices), default=1)
    if invoices:
        inv = invoices[0]
        if "products" in args:
            _compare(
                out, "row products", [str(p) for p in args["products"]], [r.product_code for r in inv.rows]
            )
        _compare(
            out,
            "fallback rows",
            args.get("fallback_rows"),
            sum(1 for r in inv.rows if r.booking == "fallback"),
        )
    return out


@check(
    "maestro_log",
    group="maestro",
    covers=("MA-5", "MA-6", "MA-7"),
    doc="Maestro's import log (tuontiloki).",
    params=(
        Param("event", "choice", choices=("invoice_imported", "product_not_matched", "invoice_rejected")),
        Param("code", "text"),
        Param("kind", "choice", choices=("product", "work_type", "travel_expense")),
        Param("count", "int", doc="default: at least one"),
    ),
)
def _maestro_log(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    entries = [
        e
        for e in ctx.world.maestro_log()
        if ("event" not in args or e.event == args["event"])
        and ("code" not in args or e.source_code == str(args["code"]))
        and ("kind" not in args or e.source_kind == args["kind"])
    ]
    out: list[Diff] = []
    if "count" in args:
        _count(out, "import-log entries", args, len(entries))
    elif not entries:
        out.append(Diff("an import-log entry", dict(args), [e.message for e in ctx.world.maestro_log()][-5:]))
    return out


@check(
    "maestro_customer",
    group="maestro",
    covers=("MA-2",),
    doc="A Severa customer in Maestro's customer register (asiakasrekisteri).",
    params=(
        Param("customer", "text", required=True, doc="einvoice, email, none or the name"),
        Param("present", "bool"),
        Param("email", "text"),
        Param("business_id", "text"),
    ),
)
def _maestro_customer(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    from scenarios.steps import KIND_INDEX

    w = ctx.world
    who = str(args["customer"])
    org = w.severa_sim.main.org
    guid = (
        w.customer_guid(*KIND_INDEX[who])
        if who in KIND_INDEX
        else next(c.guid for c in org.customers.values() if c.name == who)
    )
    number = str(org.customers[guid].number)
    m = w.maestro_backend().customers.get(number)
    out: list[Diff] = []
    _compare(out, f"customer {number} in Maestro", args.get("present", True), m is not None)
    if m is not None:
        _compare(out, "email", args.get("email"), m.email)
        _compare(out, "business_id", args.get("business_id"), m.business_id)
    return out


@check(
    "preflight",
    group="maestro",
    covers=("MA-4", "MA-8"),
    doc="The outcome of the last preflight step (or the pass's own preflight problem).",
    params=(Param("ok", "bool"), Param("message_contains", "text"), Param("message_is", "text")),
)
def _preflight(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    result = ctx.results.get("preflight")
    if result is None:
        return [Diff("preflight", "a preflight step", "none ran")]
    out: list[Diff] = []
    _compare(out, "ok", args.get("ok"), result.ok)
    _contains(out, "message", args.get("message_contains"), [result.message()])
    _compare(out, "message", args.get("message_is"), result.message())
    return out


@check(
    "audit",
    group="maestro",
    covers=("MA-5", "MA-6", "MA-7"),
    doc="The outcome of an audit_codes step (the last, or the nth): clean, the codes found, rows that would go to A/0.",
    params=(
        Param("nth", "int", doc="which audit_codes step (1 = the first; default the last)"),
        Param("clean", "bool"),
        Param("codes", "texts", doc="every code found missing or empty, in order"),
        Param("rows", "int"),
    ),
)
def _audit(ctx: Context, args: dict[str, Any]) -> list[Diff]:
    audits = ctx.results.get("audits") or []
    nth = int(args.get("nth") or len(audits))
    if not 1 <= nth <= len(audits):
        return [Diff("audit", f"audit_codes step {nth}", f"{len(audits)} ran")]
    report = audits[nth - 1]
    out: list[Diff] = []
    _compare(out, "clean", args.get("clean"), report.clean)
    if "codes" in args:
        _compare(out, "codes", [str(c) for c in args["codes"]], [p.code for p in report.catalogue])
    _compare(out, "rows", args.get("rows"), len(report.rows))
    return out

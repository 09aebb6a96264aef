"""The steps of scenarios (``when`` and ``given.setup``): what people and systems do.

Groups: **bridge** (the buttons of Severa's integration settings and the bridge's own commands),
**severa** (what a Severa user does: invoices, statuses, codes, customer cards), **maventa** and
**maestro** (what happens on their side: the approver signs, a delivery fails, products added),
**world** (time passes, the network fails, the bridge process dies).
"""

from __future__ import annotations

from typing import Any

from bridge.connectors.maestro.audit import audit_codes
from bridge.connectors.maestro.customers import CustomerSync
from bridge.errors import BridgeError
from scenarios.context import Context, StepFailed
from scenarios.vocabulary import Param, duration_seconds, step
from scenarios.world import AFTER_ERROR, AFTER_TRANSFER, APPROVER, TO_TRANSFER, Crash, Crasher

UNIT = Param("unit", "text", doc="business unit (liiketoimintayksikkö) by name; default Ranta Oy")
CUSTOMER_KINDS = ("einvoice", "einvoice-opentext", "email", "none")
KIND_INDEX = {
    "einvoice": ("einvoice-maventa", 0),
    "einvoice-opentext": ("einvoice-opentext", 0),
    "email": ("email", 0),
    "none": ("none", 0),
}


# ====================================================================== bridge: Maventa settings page
@step(
    "register",
    group="bridge",
    covers=("MV-1", "MV-2"),
    doc="Rekisteröidy Maventaan: register the unit's company to Maventa with a Severa user (its "
    "e-mail); the API key and company UUID are filled in, or stay empty when the person already has a "
    "Maventa user (MV-2).",
    params=(
        UNIT,
        Param("registrant", "text", doc="the Severa user's e-mail (default: the first active user)"),
    ),
)
def _register(ctx: Context, args: dict[str, Any]) -> None:
    w = ctx.world
    registrant = args.get("registrant")
    if not registrant:
        users = [u for u in w.severa.iter_users() if u.get("isActive", True)]
        registrant = str(users[0]["guid"])
    result = w.integration.register(ctx.unit(args), str(registrant))
    ctx.results["registration"] = result
    ctx.timeline.add("note", result.message)


@step(
    "auth_request",
    group="bridge",
    covers=("MV-3",),
    doc="Lähetä autentikointipyyntö: send the authentication request to the approver (a person with "
    "the right to sign); Maventa mails the signing invitation.",
    params=(
        UNIT,
        Param("approver", "text", doc=f"the approver's e-mail (default {APPROVER})"),
        Param("also", "text", doc="a second e-mail address"),
        Param("language", "text", doc="FI, SE, EN, NO, NL or BE (default FI)"),
    ),
)
def _auth_request(ctx: Context, args: dict[str, Any]) -> None:
    ctx.world.integration.send_authentication_request(
        ctx.unit(args),
        str(args.get("approver") or APPROVER),
        args.get("also"),
        locale=str(args.get("language") or "FI"),
    )


@step(
    "refresh",
    group="bridge",
    covers=("MV-3",),
    doc="Päivitä: ask Maventa for the authentication state.",
    params=(UNIT,),
    shorthand="unit",
)
def _refresh(ctx: Context, args: dict[str, Any]) -> None:
    company = ctx.world.integration.refresh(ctx.unit(args))
    ctx.timeline.add(
        "note",
        f"{company.name}: authentication {company.auth_state.value}, company {company.company_state.value}",
    )


@step(
    "connect",
    group="bridge",
    covers=("MV-4",),
    doc="Connect an existing Maventa account: the user API key and company UUID copied from Maventa "
    "(by default the demo Maventa account of the unit's business ID); the authentication request goes "
    "out automatically when the company is not verified yet.",
    params=(
        UNIT,
        Param("api_key", "text", doc="the user API key (default: the demo account's)"),
        Param("company_uuid", "text", doc="the company UUID (default: the demo account's)"),
        Param("approver", "text", doc="who gets the automatic authentication request"),
        Param("stored", "bool", doc="use the key and UUID stored before (the prefilled fields)"),
    ),
)
def _connect(ctx: Context, args: dict[str, Any]) -> None:
    w = ctx.world
    unit = ctx.unit(args)
    key, uuid = args.get("api_key"), args.get("company_uuid")
    if args.get("stored"):
        company = w.integration.connect(unit, None, None, approver_email=args.get("approver"))
        w.companies[unit] = company
        return
    if not key or not uuid:
        company = w.integration.company(unit)
        found = [
            c
            for c in w.maventa_sim.credentials()["companies"]
            if c["bid"] == company.business_id and c["users"]
        ]
        if not found:
            raise StepFailed(
                f"the Maventa demo has no account for {company.business_id}; give api_key and company_uuid"
            )
        key = key or found[0]["users"][0]["user_api_key"]
        uuid = uuid or found[0]["id"]
    company = w.integration.connect(unit, str(key), str(uuid), approver_email=args.get("approver"))
    w.companies[unit] = company


@step(
    "save_settings",
    group="bridge",
    covers=("MV-6", "MV-8", "MV-9", "MV-10", "MV-11", "MV-12"),
    doc="Save the Maventa settings of a unit (allowed only after the approver has signed).",
    params=(
        UNIT,
        Param("send_pdf", "bool", doc="MV-6 Lähetä alkuperäinen laskun PDF"),
        Param("email", "bool", doc="MV-8 Lähetä laskut sähköpostilla"),
        Param("notify", "text", doc="MV-9 notification address (ilmoitusosoite)"),
        Param("transfer_status", "text", doc=f"MV-10 (default {TO_TRANSFER})"),
        Param("after_transfer", "text", doc=f"MV-11 (default {AFTER_TRANSFER})"),
        Param("after_error", "text", doc=f"MV-12 (default {AFTER_ERROR})"),
    ),
)
def _save_settings(ctx: Context, args: dict[str, Any]) -> None:
    ctx.world.integration.save_settings(
        ctx.unit(args),
        send_original_pdf=bool(args.get("send_pdf", False)),
        send_by_email=bool(args.get("email", True)),
        notification_email=args.get("notify"),
        status_to_transfer=str(args.get("transfer_status") or TO_TRANSFER),
        status_after_transfer=str(args.get("after_transfer") or AFTER_TRANSFER),
        status_after_error=str(args.get("after_error") or AFTER_ERROR),
    )


@step(
    "activate",
    group="bridge",
    covers=("MV-13", "MV-14"),
    doc="Switch the synchronisation on (the toggle).",
    params=(UNIT,),
    shorthand="unit",
)
def _activate(ctx: Context, args: dict[str, Any]) -> None:
    company = ctx.world.integration.activate(ctx.unit(args))
    ctx.world.companies[company.name] = company


@step(
    "deactivate",
    group="bridge",
    covers=("MV-13",),
    doc="Switch the synchronisation off.",
    params=(UNIT,),
    shorthand="unit",
)
def _deactivate(ctx: Context, args: dict[str, Any]) -> None:
    ctx.world.integration.deactivate(ctx.unit(args))


@step(
    "setup_company",
    group="bridge",
    doc="Register, authenticate (the approver signs), save the settings and activate: a unit ready to send.",
    params=(
        UNIT,
        Param("send_pdf", "bool"),
        Param("email", "bool", doc="default true"),
        Param("notify", "text", doc="default virheet@ranta.fi; empty for none"),
    ),
    shorthand="unit",
)
def _setup_company(ctx: Context, args: dict[str, Any]) -> None:
    from scenarios.world import NOTIFY_TO, setup_company

    notify = args.get("notify", NOTIFY_TO)
    setup_company(
        ctx.world,
        ctx.unit(args),
        send_by_email=bool(args.get("email", True)),
        send_original_pdf=bool(args.get("send_pdf", False)),
        notification_email=str(notify) if notify else None,
    )


# ====================================================================== bridge: passes and commands
@step(
    "sync",
    group="bridge",
    doc="Passes of the bridge (bridge sync --once). With until_settled, passes run (the clock moving "
    "2 minutes between them) until nothing is left to do; a pass the bridge dies in (crash) is recorded "
    "and the next step goes on.",
    params=(
        Param("passes", "int", doc="how many passes (default 1)"),
        Param("until_settled", "bool", doc="run passes until nothing is left (at most 15)"),
        Param("only", "choice", choices=("maventa", "maestro"), doc="run only one connector"),
    ),
    shorthand="passes",
)
def _sync(ctx: Context, args: dict[str, Any]) -> None:
    w = ctx.world
    settle = bool(args.get("until_settled"))
    passes = 15 if settle else int(args.get("passes") or 1)
    for n in range(1, passes + 1):
        try:
            report = w.run_pass(args.get("only"))
        except Crash as exc:
            ctx.crashed = True
            ctx.timeline.add("crash", f"the bridge process died: {exc}")
            return
        ctx.last_report = report
        ctx.reports.append(report)
        ctx.timeline.add("pass", f"pass {n}: {report.line()}", problems=list(report.problems))
        for problem in report.problems:
            ctx.timeline.add("error", problem, shown_to="the sync's output (exit code 2)")
        if settle:
            busy = w.store.ledger.unfinished() or report.moved or report.customers_synced
            if not busy and not w.waiting_in_severa():
                return
            w.advance(120)
            ctx.timeline.add("clock", "2 min pass")
    if settle:
        raise StepFailed(f"not settled after {passes} passes: {w.store.ledger.unfinished()}")


@step("restart_bridge", group="bridge", doc="A new bridge process over the same store (after it died).")
def _restart(ctx: Context, args: dict[str, Any]) -> None:
    ctx.world.restart()
    ctx.crashed = False


@step(
    "preflight",
    group="bridge",
    covers=("MA-4", "MA-8"),
    doc="bridge maestro preflight: check the Severa credentials' scopes and the statuses Maestro's settings name.",
)
def _preflight(ctx: Context, args: dict[str, Any]) -> None:
    connector = ctx.world.bridge.maestro_connector
    if connector is None:
        raise StepFailed("the Maestro connector is off in this world (given: maestro: true)")
    ctx.world.engine.source.new_pass()  # Severa as it is now
    result = connector.check(ctx.world.engine.source)
    ctx.results["preflight"] = result
    ctx.timeline.add("note" if result.ok else "error", result.message())


@step(
    "audit_codes",
    group="bridge",
    covers=("MA-5", "MA-6", "MA-7"),
    doc="bridge maestro audit-codes: which codes would land on A/0.",
)
def _audit(ctx: Context, args: dict[str, Any]) -> None:
    w = ctx.world
    w.engine.source.new_pass()
    report = audit_codes(w.engine.source, w.maestro)
    ctx.results.setdefault("audits", []).append(report)
    for p in report.catalogue:
        ctx.timeline.add("note", f"audit: {p.kind.value} {p.name!r} code {p.code!r}: {p.problem}")
    for r in report.rows:
        ctx.timeline.add(
            "note",
            f"audit: invoice {r.invoice_number} row {r.row} ({r.kind.value} {', '.join(r.codes) or 'no code'}) would go to {report.fallback_product}",
        )


@step(
    "sync_customers",
    group="bridge",
    covers=("MA-2",),
    doc="bridge maestro sync-customers: the customer register now.",
    params=(Param("full", "bool"),),
)
def _sync_customers(ctx: Context, args: dict[str, Any]) -> None:
    w = ctx.world
    company = w.maestro.company()
    result = CustomerSync(w.store, w.maestro, str(company["company_id"])).run(
        w.engine.source, full=bool(args.get("full"))
    )
    ctx.results["customers"] = result
    ctx.timeline.add(
        "note",
        f"customers: {len(result.synced)} sent, {len(result.failed)} refused, {result.unchanged} unchanged",
    )


# ====================================================================== Severa: what its users do
@step(
    "create_invoice",
    group="severa",
    doc="A Severa user makes an invoice (by default one KONS product row, for a customer with an "
    "e-invoice address, issued by Ranta Oy, in the status to transfer to Maventa).",
    params=(
        Param(
            "customer",
            "text",
            doc="einvoice, einvoice-opentext, email, none (the demo customers by route) or a customer's name",
        ),
        UNIT,
        Param("status", "text", doc=f"default {TO_TRANSFER}"),
        Param("rows", "rows", doc="default [{product: KONS, quantity: 1}]; [] for an invoice without rows"),
        Param("count", "int", doc="make this many such invoices (default 1; 'as' names the last)"),
    ),
)
def _create_invoice(ctx: Context, args: dict[str, Any]) -> None:
    w = ctx.world
    backend = w.severa_sim.main
    who = str(args.get("customer") or "einvoice")
    if who in KIND_INDEX:
        customer = w.customer_guid(*KIND_INDEX[who])
    else:
        found = [c for c in backend.org.customers.values() if c.name.lower() == who.lower()]
        if not found:
            raise StepFailed(f"no customer {who!r}; use {', '.join(CUSTOMER_KINDS)} or a customer's name")
        customer = found[0].guid
    given_rows = args.get("rows")
    rows_in: list[dict[str, Any]] = (
        list(given_rows) if given_rows is not None else [{"product": "KONS", "quantity": 1}]
    )
    rows = []
    for r in rows_in:
        kind = next(k for k in ("product", "work_type", "travel_expense") if k in r)
        ref = str(r[kind])
        if kind == "work_type" and ref == "":
            ref = next(t.guid for t in backend.org.work_types.values() if not t.code)
        rows.append(
            {
                "kind": {"product": "fee", "work_type": "hours", "travel_expense": "travel"}[kind],
                "ref": ref,
                "quantity": float(r.get("quantity") or 1),
            }
        )
    count = int(args.get("count") or 1)
    with w.severa_sim.lock:
        for _ in range(count):
            inv = backend.create_invoice(
                customer,
                status=str(args.get("status") or TO_TRANSFER),
                business_unit_guid=w.unit_guid(ctx.unit(args)),
                when=w.clock.now(),
                rows=rows,
            )
    ctx.results["created"] = str(inv.guid)
    what = f"{count} invoices" if count > 1 else f"invoice {inv.number or inv.guid}"
    ctx.timeline.add("actor", f"Severa: {what} created in {backend.status_of(inv).name}")


@step(
    "move_invoice",
    group="severa",
    covers=("MV-10", "MA-3"),
    doc="A Severa user changes an invoice's status and saves.",
    params=(Param("invoice", "invoice", required=True), Param("to", "text", required=True)),
)
def _move(ctx: Context, args: dict[str, Any]) -> None:
    guid = ctx.invoice(args["invoice"])
    ctx.world.set_status(guid, str(args["to"]))
    ctx.timeline.add("actor", f"Severa: invoice {ctx.invoice_label(args['invoice'])} moved to {args['to']}")


@step(
    "delete_invoice",
    group="severa",
    doc="A Severa user deletes an invoice.",
    params=(Param("invoice", "invoice", required=True),),
    shorthand="invoice",
)
def _delete(ctx: Context, args: dict[str, Any]) -> None:
    with ctx.world.severa_sim.lock:
        ctx.world.severa_sim.main.delete_invoice(ctx.invoice(args["invoice"]))


@step(
    "set_status_flags",
    group="severa",
    covers=("MV-14", "MA-8"),
    doc="Asetukset > Laskun tilat: tick or clear an invoice status's flags (Lähetetty = sent, Ei muokattavissa = read only).",
    params=(Param("status", "text", required=True), Param("sent", "bool"), Param("read_only", "bool")),
)
def _flags(ctx: Context, args: dict[str, Any]) -> None:
    backend = ctx.world.severa_sim.main
    changes = {
        k: v
        for k, v in (("is_sent", args.get("sent")), ("is_read_only", args.get("read_only")))
        if v is not None
    }
    with ctx.world.severa_sim.lock:
        backend.update_status_flags(backend.status_by_name(str(args["status"])), changes)


@step(
    "add_status",
    group="severa",
    covers=("MA-8",),
    doc="Asetukset > Laskun tilat: add an invoice status.",
    params=(Param("name", "text", required=True), Param("sent", "bool")),
    shorthand="name",
)
def _add_status(ctx: Context, args: dict[str, Any]) -> None:
    with ctx.world.severa_sim.lock:
        ctx.world.severa_sim.main.add_status(
            str(args["name"]), has_invoice_number=True, is_sent=bool(args.get("sent"))
        )


@step(
    "edit_customer",
    group="severa",
    covers=("MA-2",),
    doc="A Severa user edits a customer card (asiakaskortti).",
    params=(
        Param("customer", "text", required=True, doc="einvoice, email, none or the customer's name"),
        Param("vat_number", "text", doc="Y-tunnus / ALV-numero"),
        Param("email", "text"),
        Param("e_invoice_address", "text", doc="verkkolaskuosoite"),
        Param("e_invoice_operator", "text", doc="välittäjätunnus"),
        Param("street", "text", doc="of the billing address; '' to clear"),
        Param("post_code", "text"),
        Param("city", "text"),
    ),
)
def _edit_customer(ctx: Context, args: dict[str, Any]) -> None:
    w = ctx.world
    backend = w.severa_sim.main
    who = str(args["customer"])
    guid = (
        w.customer_guid(*KIND_INDEX[who])
        if who in KIND_INDEX
        else next((c.guid for c in backend.org.customers.values() if c.name.lower() == who.lower()), None)
    )
    if guid is None:
        raise StepFailed(f"no customer {who!r}")
    fields = {
        k: args[k] for k in ("vat_number", "email", "e_invoice_address", "e_invoice_operator") if k in args
    }
    with w.severa_sim.lock:
        if fields:
            backend.update_customer(guid, **{k: (str(v) if v != "" else None) for k, v in fields.items()})
        address = backend.org.addresses.get(backend.org.customers[guid].headquarter_address_guid or "")
        for key, attr in (("street", "addressline"), ("post_code", "postal_code"), ("city", "city")):
            if key in args and address is not None:
                setattr(address, attr, str(args[key]))
                backend.touch(backend.org.customers[guid].audit)


@step(
    "set_code",
    group="severa",
    covers=("MA-5", "MA-6", "MA-7"),
    doc="Asetukset > Tuotteet / Työlajit / Matkakulut: give a product, work type or travel expense type a code.",
    params=(
        Param("kind", "choice", required=True, choices=("product", "work_type", "travel_expense")),
        Param("code", "text", required=True, doc="its current code"),
        Param("new_code", "text", required=True),
    ),
)
def _set_code(ctx: Context, args: dict[str, Any]) -> None:
    org = ctx.world.severa_sim.main.org
    registers: dict[str, dict[str, Any]] = {
        "product": org.products,
        "work_type": org.work_types,
        "travel_expense": org.travel_expense_types,
    }
    items = registers[str(args["kind"])]
    found = [i for i in items.values() if (i.code or "") == str(args["code"])]
    if not found:
        raise StepFailed(f"no {args['kind']} with the code {args['code']!r}")
    with ctx.world.severa_sim.lock:
        found[0].code = str(args["new_code"]) or None
        ctx.world.severa_sim.main.touch(found[0].audit)


@step(
    "remove_bank_accounts",
    group="severa",
    doc="The unit's company has no bank account (pankkitili) in Severa.",
    params=(UNIT,),
    shorthand="unit",
)
def _no_bank(ctx: Context, args: dict[str, Any]) -> None:
    org = ctx.world.severa_sim.main.org
    with ctx.world.severa_sim.lock:
        org.bank_accounts.clear()


# ====================================================================== Maventa's side
def _company_uuid(ctx: Context, unit: str) -> str:
    company = ctx.world.integration.company(unit)
    if not company.maventa_company_uuid:
        raise StepFailed(f"{unit} has no Maventa company yet (register or connect it first)")
    return company.maventa_company_uuid


@step(
    "approver_signs",
    group="maventa",
    covers=("MV-3",),
    doc="The approver signs the agreement with strong identification (Maventa / Visma Sign).",
    params=(UNIT,),
    shorthand="unit",
)
def _sign(ctx: Context, args: dict[str, Any]) -> None:
    r = ctx.world.maventa_actor(
        "POST", f"/_sim/companies/{_company_uuid(ctx, ctx.unit(args))}/authorization/sign"
    )
    if r.status_code != 200:
        raise StepFailed(f"the approver could not sign: {r.text}")
    ctx.timeline.add("actor", f"Maventa: the approver of {ctx.unit(args)} signed")


@step(
    "approver_cancels",
    group="maventa",
    covers=("MV-3",),
    doc="The approver cancels the authorisation.",
    params=(UNIT,),
    shorthand="unit",
)
def _cancel(ctx: Context, args: dict[str, Any]) -> None:
    r = ctx.world.maventa_actor(
        "POST", f"/_sim/companies/{_company_uuid(ctx, ctx.unit(args))}/authorization/cancel"
    )
    if r.status_code != 200:
        raise StepFailed(f"the approver could not cancel: {r.text}")
    ctx.timeline.add("actor", f"Maventa: the approver of {ctx.unit(args)} cancelled the authorisation")


@step(
    "maventa_settings",
    group="maventa",
    covers=("MV-7", "MV-8"),
    doc="In Maventa's own settings: switch the print service on and whether it uses own PDFs.",
    params=(
        UNIT,
        Param("print", "bool", doc="print service enabled"),
        Param("own_pdf", "bool", doc="use own PDFs in the print service (MV-7)"),
        Param("stop_duplicates", "bool", doc="refuse an invoice number sent in the last 7 days"),
    ),
)
def _maventa_settings(ctx: Context, args: dict[str, Any]) -> None:
    w = ctx.world
    company = w.integration.company(ctx.unit(args))
    printing: dict[str, Any] = {}
    if "print" in args:
        printing["enabled"] = bool(args["print"])
    if "own_pdf" in args:
        printing["use_own_pdf"] = bool(args["own_pdf"])
    changes: dict[str, Any] = {"send_invoice_print": printing} if printing else {}
    if "stop_duplicates" in args:
        changes["send_invoice_general"] = {"stop_duplicate_numbers": bool(args["stop_duplicates"])}
    w.integration.client_for(company).update_settings(changes)


@step(
    "delivery_fails",
    group="maventa",
    covers=("MV-12",),
    doc="The recipient's network reports that the invoice could not be delivered.",
    params=(Param("invoice", "invoice", required=True), Param("message", "text", doc="the network's words")),
)
def _delivery_fails(ctx: Context, args: dict[str, Any]) -> None:
    w = ctx.world
    guid = ctx.invoice(args["invoice"])
    sent = [
        e
        for e in w.store.ledger.in_state(connector="maventa")
        if e.invoice_guid == guid.lower() and e.remote_id
    ]
    if not sent:
        raise StepFailed(f"invoice {args['invoice']} has not been sent to Maventa")
    message = str(args.get("message") or "Recipient mailbox is full")
    if w.fail_delivery(str(sent[0].remote_id), message) != 200:
        raise StepFailed("Maventa refused to fail the delivery (already delivered?)")
    ctx.timeline.add(
        "actor", f"Maventa: delivery of invoice {ctx.invoice_label(args['invoice'])} failed: {message}"
    )


# ====================================================================== Maestro's side
@step(
    "maestro_product",
    group="maestro",
    covers=("MA-5", "MA-6", "MA-7"),
    doc="Add (or change) a product in Maestro's product register.",
    params=(
        Param("code", "text", required=True),
        Param("name", "text"),
        Param("unit", "text"),
        Param("vat", "number"),
        Param("active", "bool"),
    ),
)
def _maestro_product(ctx: Context, args: dict[str, Any]) -> None:
    ctx.world.maestro.put_product(
        str(args["code"]),
        name=str(args.get("name") or args["code"]),
        unit=str(args.get("unit") or "kpl"),
        vat_rate=float(args.get("vat", 25.5)),
        active=bool(args.get("active", True)),
    )


@step(
    "maestro_settings",
    group="maestro",
    covers=("MA-3", "MA-8"),
    doc="Maestro's Severa integration settings: the source status and the transferred status.",
    params=(
        Param("source", "text", required=True),
        Param("transferred", "text", required=True),
        Param("fallback", "text"),
    ),
)
def _maestro_settings(ctx: Context, args: dict[str, Any]) -> None:
    ctx.world.maestro.put_settings(str(args["source"]), str(args["transferred"]), args.get("fallback"))


# ====================================================================== the world
@step(
    "advance",
    group="world",
    doc="Time passes (tokens expire, deliveries settle).",
    params=(Param("by", "duration", required=True),),
    shorthand="by",
)
def _advance(ctx: Context, args: dict[str, Any]) -> None:
    seconds = duration_seconds(args["by"]) or 0.0
    ctx.world.advance(seconds)
    ctx.timeline.add(
        "clock", f"{args['by']} pass" + ("" if isinstance(args["by"], str) else " s"), seconds=seconds
    )


@step(
    "fault",
    group="world",
    doc="A fault rule on a service from now on (see GET /_sim/faults: match, effect, trigger).",
    params=(
        Param("service", "choice", required=True, choices=("severa", "maventa", "maestro")),
        Param("match", "mapping", required=True, doc="{method, path (glob)}"),
        Param(
            "effect",
            "mapping",
            required=True,
            doc="{type: status|delay|hang|reset|malformed|rate_limit, ...}",
        ),
        Param("trigger", "mapping", doc="{type: always|next|after|probability, ...}; default always"),
    ),
)
def _fault(ctx: Context, args: dict[str, Any]) -> None:
    sim = ctx.world.sims[str(args["service"])]
    rule = {
        "match": args["match"],
        "effect": args["effect"],
        "trigger": args.get("trigger") or {"type": "always"},
    }
    sim.add_fault(rule)
    ctx.timeline.add("note", f"fault on {args['service']}: {args['match']} -> {args['effect']}")


@step(
    "clear_faults",
    group="world",
    doc="The network is well again: every fault rule removed.",
    params=(Param("service", "choice", choices=("severa", "maventa", "maestro")),),
    shorthand="service",
)
def _clear(ctx: Context, args: dict[str, Any]) -> None:
    for name, sim in ctx.world.sims.items():
        if args.get("service") in (None, name):
            sim.faults.clear()


@step(
    "crash",
    group="world",
    doc="The bridge process dies at a call (before, or after it ran) the next time it makes it: e.g. "
    "at: maventa.send_invoice, after: true. A sync that dies is recorded; restart_bridge starts a new one.",
    params=(
        Param(
            "at",
            "text",
            required=True,
            doc="target.method, e.g. ledger.transition, severa.set_invoice_status",
        ),
        Param("nth", "int"),
        Param("after", "bool"),
    ),
    shorthand="at",
)
def _crash(ctx: Context, args: dict[str, Any]) -> None:
    target, _, method = str(args["at"]).partition(".")
    if target not in ("ledger", "severa", "maventa", "maestro", "notifier") or not method:
        raise StepFailed(
            "crash at: expected target.method with target ledger, severa, maventa, maestro or notifier"
        )
    Crasher(target, method, nth=int(args.get("nth") or 1), after=bool(args.get("after"))).install(ctx.world)


def describe_error(exc: BaseException) -> str:
    """The error text as the user sees it (the bridge's own message, one line per line)."""
    if isinstance(exc, BridgeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"

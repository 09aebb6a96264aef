"""`severa-sandbox demo` (and `make demo`): the Severa → Maventa story, narrated, then exit 0.

Chapter 1 talks to the Severa simulator over real HTTP (a threaded server on a free port): a token,
the invoice statuses (laskujen tilat), the invoices waiting for transfer, a JSON Patch to the next
status, the journal, a fault rule and the simulated clock expiring the token.

Chapter 2 runs the bridge against the Severa, Maventa and mailbox simulators in-process, exactly as
the help article walks a user through Asetukset > Integraatiot > Maventa/AutoInvoice: registration
(and the MV-2 case of a person who already has a Maventa user), the authentication request and the
approver signing, the settings, the MV-14 refusal and its fix, activation, one invoice out by each
channel (e-invoice, e-mail, print with a cover page) and one sending error with its e-mail.
"""

from __future__ import annotations

from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

WAITING = "Odottaa siirtoa Maventaan"
TRANSFERRED = "Siirretty Maventaan"
ERROR_STATUS = "Maventa-virhe"
UNIT = "Ranta Oy"


class DemoFailed(Exception):
    pass


def _check(resp: httpx.Response, what: str) -> Any:
    if resp.status_code >= 400:
        raise DemoFailed(f"{what}: HTTP {resp.status_code}: {resp.text[:300]}")
    return resp.json() if resp.content else None


class Narrator:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.step = 0

    def say(self, text: str) -> None:
        self.step += 1
        self.console.print(f"\n[bold cyan]{self.step}.[/] {text}")

    def out(self, text: str) -> None:
        self.console.print(f"   {text}", highlight=False)


def run_demo(console: Console) -> int:
    n = Narrator(console)
    try:
        chapter_severa(n)
        chapter_maventa(n)
    except (DemoFailed, httpx.HTTPError, KeyError, StopIteration) as exc:
        console.print(f"[bold red]demo failed:[/] {type(exc).__name__}: {exc}")
        return 1
    console.rule("[bold green]demo finished")
    return 0


# --------------------------------------------------------------------------------- chapter 1
def chapter_severa(n: Narrator) -> None:
    from simulators.severa import SeveraSimulator

    sim = SeveraSimulator(seed=0)
    server = sim.serve()
    base = f"{server.url}/rest-api"
    console = n.console
    try:
        with (
            httpx.Client(base_url=base, timeout=10) as http,
            httpx.Client(base_url=server.url, timeout=10) as ctl,
        ):
            console.rule("[bold]Chapter 1: the Visma Severa simulator over HTTP")
            n.out(f"Severa REST API simulated at {base} (demo organisation, seed 0)")

            n.say(
                "An integration authenticates with its client credentials (Settings > Integrations > REST API)."
            )
            creds = _check(ctl.get("/_sim/credentials"), "credentials")
            client = next(c for c in creds["clients"] if "invoices:write" in c["scopes"])
            token = _check(
                http.post(
                    "/v1/token",
                    json={
                        "client_Id": client["client_id"],
                        "client_Secret": client["client_secret"],
                        "scope": "invoices:read, invoices:write settings:read customers:read",
                    },
                ),
                "token",
            )
            n.out(
                f"POST /v1/token -> {token['access_token_type']} token, expires in "
                f"{token['access_token_expires_in']} s, scope {token['scope']}"
            )
            headers = {
                "Authorization": f"{token['access_token_type']} {token['access_token']}",
                "Client_Id": client["client_id"],
            }

            n.say("It reads the invoice statuses (Asetukset > Laskutus > Laskujen tilat).")
            statuses = _check(
                http.get("/v1/invoicestatuses", headers=headers, params={"rowCount": 100}), "statuses"
            )
            table = Table("status", "sent", "read-only", "invoice number")
            for s in statuses:
                table.add_row(
                    s["name"],
                    _yes(s.get("isSent")),
                    _yes(s.get("isReadOnly")),
                    _yes(s.get("hasInvoiceNumber")),
                )
            console.print(table)
            by_name = {s["name"]: s for s in statuses}

            n.say(f"It lists the invoices waiting in '{WAITING}' (token paging, NextPageToken).")
            invoices = _check(
                http.get(
                    "/v1/invoices", headers=headers, params={"invoiceStatusGuids": by_name[WAITING]["guid"]}
                ),
                "invoices",
            )
            for inv in invoices:
                total = inv["totalIncludingTax"]
                n.out(
                    f"invoice {inv.get('number')} to {inv['customer']['name']}: {total['amount']:.2f} {total['currencyCode']}"
                )
            inv = invoices[0]
            rows = _check(http.get(f"/v1/invoices/{inv['guid']}/invoicerows", headers=headers), "rows")
            codes = sorted({c for r in rows for c in (r.get("code") or [])})
            n.out(f"its {len(rows)} row(s) carry the codes Maventa and Maestro match on: {', '.join(codes)}")

            n.say(f"After a transfer the integration moves an invoice to '{TRANSFERRED}' with a JSON Patch.")
            patched = _check(
                http.patch(
                    f"/v1/invoices/{inv['guid']}",
                    headers=headers,
                    json=[{"op": "replace", "path": "/status/guid", "value": by_name[TRANSFERRED]["guid"]}],
                ),
                "patch",
            )[0]
            n.out(
                f"status is now '{patched['status']['name']}' (isSent={patched['status']['isSent']}), "
                f"number {patched['number']}, reference {patched['referenceNumber']}"
            )
            other = http.patch(
                f"/v1/invoices/{inv['guid']}",
                headers=headers,
                json=[{"op": "replace", "path": "/yourReference", "value": "changed"}],
            )
            n.out(
                f"editing it now is refused, the status is read-only: HTTP {other.status_code} {other.json()['error']['type']}"
            )

            n.say("Support view: the journal keeps every exchange, with secrets redacted.")
            entries = _check(ctl.get("/_sim/journal", params={"path": "/v1/token"}), "journal")["entries"]
            n.out(f"the token request as journalled: {entries[0]['request_body'][:120]}")

            n.say(
                "Fault injection: the next 2 calls to GET invoices fail with 503, in Severa's own envelope."
            )
            _check(
                ctl.post(
                    "/_sim/faults",
                    json={
                        "match": {"method": "GET", "path": "/rest-api/v1/invoices"},
                        "effect": {"type": "status", "status": 503},
                        "trigger": {"type": "next", "count": 2},
                    },
                ),
                "fault",
            )
            for _ in range(3):
                r = http.get("/v1/invoices", headers=headers, params={"rowCount": 1})
                n.out(
                    f"GET /v1/invoices -> {r.status_code}"
                    + (f" {r.json()['error']['type']}" if r.status_code >= 400 else "")
                )

            n.say(
                "The simulated clock: an hour later the access token has expired; the refresh token still works."
            )
            _check(ctl.post("/_sim/clock", json={"advance": 3601}), "clock")
            n.out(
                f"GET /heartbeat/authorized -> {http.get('/heartbeat/authorized', headers=headers).status_code}"
            )
            fresh = _check(
                http.post(
                    "/v1/refreshtoken",
                    json=token["refresh_token"],
                    headers={"Client_Id": client["client_id"]},
                ),
                "refresh",
            )
            headers["Authorization"] = f"Bearer {fresh['access_token']}"
            n.out(
                f"POST /v1/refreshtoken -> a new token; heartbeat now {http.get('/heartbeat/authorized', headers=headers).status_code}"
            )
    finally:
        server.stop()


# --------------------------------------------------------------------------------- chapter 2
def chapter_maventa(n: Narrator) -> None:
    from bridge.config import SmtpSettings
    from bridge.connectors.maventa import MaventaClient
    from bridge.connectors.maventa.connector import MaventaConnector
    from bridge.connectors.maventa.integration import IntegrationError, MaventaIntegration
    from bridge.http import RetryPolicy
    from bridge.notify import Notifier
    from bridge.severa import SeveraClient
    from bridge.store import Store
    from bridge.transfer import TransferEngine
    from simulators.mailbox import MailboxSimulator
    from simulators.maventa import MaventaSimulator
    from simulators.severa import SeveraSimulator

    console = n.console
    console.rule("[bold]Chapter 2: the Severa → Maventa/AutoInvoice integration")
    severa_sim, maventa_sim = SeveraSimulator(seed=0), MaventaSimulator(seed=0)
    mailbox = MailboxSimulator()
    smtp_port = mailbox.start_smtp()
    try:
        policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_total=1)
        full = severa_sim.credentials()["clients"][0]
        severa = SeveraClient(
            severa_sim.client(base_url="http://severa.sim/rest-api"),
            full["client_id"],
            full["client_secret"],
            rate_limit=False,
            policy=policy,
        )
        mcreds = maventa_sim.credentials()
        vendor_key = mcreds["vendor_api_keys"][0] if "vendor_api_keys" in mcreds else mcreds["vendor_api_key"]
        maventa = MaventaClient(maventa_sim.client(base_url="http://maventa.sim"), vendor_key, policy=policy)
        store = Store(":memory:")
        page = MaventaIntegration(severa, maventa, store)
        notifier = Notifier(
            SmtpSettings(host="127.0.0.1", port=smtp_port, from_address="severa@ranta.example")
        )
        engine = TransferEngine(severa, store, [MaventaConnector(page)], notifier=notifier)
        sim_ctl = maventa_sim.client(base_url="http://maventa.sim")

        n.say("Asetukset > Integraatiot > Maventa/AutoInvoice lists the units that can send invoices (MV-5).")
        for c in page.companies():
            n.out(f"{c.name} (Y-tunnus {c.business_id})")
        for name in page.units_without_business_id():
            try:
                page.company(name)
            except IntegrationError as exc:
                n.out(f"[yellow]{exc}[/]")

        n.say("'Rekisteröidy Maventaan' with a person who already has a Maventa user (MV-2).")
        existing = next(u for u in mcreds["users"] if u.get("email"))["email"]
        result = page.register(UNIT, existing)
        n.out(f"user API key returned: {result.key_returned}")
        n.out(f"[yellow]{result.message}[/]")

        n.say("Registering again with a person who has no Maventa user yet (MV-1).")
        person = next(u for u in severa.iter_users() if u.get("email") and u["email"] != existing)
        result = page.register(UNIT, person["guid"])
        n.out(result.message)
        n.out(
            f"company UUID {result.company.maventa_company_uuid}, user API key {result.company.maventa_api_key} (never shown)"
        )

        n.say("Before authentication no other setting can be made (MV-3).")
        try:
            page.save_settings(UNIT, status_to_transfer=WAITING)
        except IntegrationError as exc:
            n.out(f"[yellow]{exc}[/]")

        n.say(
            "'Lähetä autentikointipyyntö': the approver gets an invitation to sign with strong identification."
        )
        company = page.send_authentication_request(UNIT, "toimitusjohtaja@ranta.example", locale="FI")
        invitation = maventa_sim.outbox_messages(purpose="authorization_invitation")[-1]
        n.out(
            f"Maventa e-mailed {', '.join(invitation['to'])}: “{invitation['subject']}” (auth_state {company.auth_state.value})"
        )
        _check(sim_ctl.post(f"/_sim/companies/{company.maventa_company_uuid}/authorization/sign"), "sign")
        n.out("the approver identifies with bank credentials and signs (simulated actor)")
        company = page.refresh(UNIT)
        n.out(
            f"'Päivitä' (Refresh): auth_state {company.auth_state.value}, company_state {company.company_state.value}"
        )

        n.say(
            "Settings: original PDF on (MV-6), e-mail on (MV-8), notification address (MV-9), the three statuses."
        )
        page.save_settings(
            UNIT,
            send_original_pdf=True,
            send_by_email=True,
            notification_email="laskutus@ranta.example",
            status_to_transfer=WAITING,
            status_after_transfer=TRANSFERRED,
            status_after_error=ERROR_STATUS,
        )
        maventa_client = page.client_for(page.company(UNIT))
        maventa_client.update_settings({"send_invoice_print": {"enabled": True, "use_own_pdf": True}})
        n.out("and in Maventa: print service on with 'Käytä omia PDF:iä tulostuspalvelussa' (MV-7)")

        n.say("Someone has ticked 'Lähetetty' (isSent) on the transfer status: activation fails (MV-14).")
        waiting = next(s for s in severa.list_invoice_statuses() if s["name"] == WAITING)
        _patch_status_flag(severa_sim, waiting["guid"], True)
        try:
            page.activate(UNIT)
        except IntegrationError as exc:
            n.out(f"[red]{exc}[/]")
        _patch_status_flag(severa_sim, waiting["guid"], False)
        company = page.activate(UNIT)
        n.out(
            f"flag cleared in Asetukset > Laskutus > Laskun tilat and saved: synchronisation on = {company.active}"
        )

        n.say("A user moves one more invoice to the transfer status; the bridge's first pass sends them all.")
        draft = next(
            i
            for i in severa.iter_invoices()
            if i["status"]["name"] == "Luonnos"
            and (i.get("invoiceNumberBusinessUnitGuid") or "").lower() == company.business_unit_guid
        )
        severa.set_invoice_status(draft["guid"], waiting["guid"])
        report = engine.run_once()
        n.out(
            f"picked up {report.picked_up}, sent {report.sent}, moved to '{TRANSFERRED}' {report.status_patched}"
        )

        n.say("The recipient's operator rejects one of them (simulated network actor).")
        entries = store.ledger.in_state()
        victim = next(e for e in entries if e.invoice_guid == draft["guid"].lower())
        _check(
            sim_ctl.post(
                f"/_sim/invoices/{victim.remote_id}/fail",
                json={"message": "Receiver's e-invoice address is not in use"},
            ),
            "fail",
        )
        for _ in range(3):
            maventa_sim.clock.advance(120)
            maventa_sim.on_clock_moved()
            engine.run_once()

        n.say("The outcome, invoice by invoice:")
        table = Table("invoice", "bridge", "channel", "Severa status", "error")
        for e in store.ledger.in_state():
            inv = severa.get_invoice(e.invoice_guid)
            table.add_row(
                str(e.invoice_number),
                e.state.value,
                e.remote_detail or "-",
                inv["status"]["name"],
                (e.last_error or "")[:60],
            )
        console.print(table)
        for job in maventa_sim.outbox_messages(kind="print"):
            pj = job.get("print_job") or {}
            charge = pj.get("charge") or {}
            n.out(
                f"print job: {pj.get('pages')} pages (cover page added: {pj.get('cover_page')}), "
                f"{charge.get('pages_billed')} pages billed, total {charge.get('total')} {charge.get('currency')}"
            )
        for mail in maventa_sim.outbox_messages(purpose="invoice"):
            n.out(f"Maventa e-mailed the invoice to {', '.join(mail['to'])}: “{mail['subject']}”")

        n.say(
            "The sending error was logged (siirtoloki) and e-mailed to the notification address (MV-9, MV-12)."
        )
        for line in store.log.entries():
            if line.level.value == "ERROR" and line.invoice_guid:
                n.out(f"[red]{line.message}[/]")
        for msg in mailbox.find():
            n.out(f"mailbox (SMTP): to {', '.join(msg.rcpt_tos)}: “{msg.subject}”")
            for text_line in msg.text.splitlines()[:6]:
                n.out(f"   [dim]{text_line}[/]")
    finally:
        mailbox.stop_smtp()


def _patch_status_flag(severa_sim: Any, status_guid: str, sent: bool) -> None:
    """What the admin does in Asetukset > Laskutus > Laskun tilat, through Severa's API."""
    creds = severa_sim.credentials()["clients"][0]
    with severa_sim.client(base_url="http://severa.sim/rest-api") as http:
        token = _check(
            http.post(
                "/v1/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
            ),
            "token",
        )
        _check(
            http.patch(
                f"/v1/invoicestatuses/{status_guid}",
                headers={"Authorization": f"Bearer {token['access_token']}"},
                json=[{"op": "replace", "path": "/isSent", "value": sent}],
            ),
            "status flag",
        )


def _yes(flag: Any) -> str:
    return "yes" if flag else "-"

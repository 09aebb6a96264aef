"""`severa-sandbox demo`: a narrated walk-through, in-process simulators, then exit 0.

Today it tells the Severa part of the story over real HTTP (a threaded server on a free port):
get a token, read the invoice statuses (laskujen tilat), find the invoices waiting for transfer
(Odottaa siirtoa Maventaan), move one on (Siirretty Maventaan) and show what Severa did (invoice
number, reference number, lastUpdatedDateTime), then show the control plane: the journal with
secrets redacted, a fault rule and the simulated clock expiring the token.
"""

from __future__ import annotations

from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

WAITING = "Odottaa siirtoa Maventaan"
TRANSFERRED = "Siirretty Maventaan"


class DemoFailed(Exception):
    pass


def _check(resp: httpx.Response, what: str) -> Any:
    if resp.status_code >= 400:
        raise DemoFailed(f"{what}: HTTP {resp.status_code}: {resp.text[:300]}")
    return resp.json() if resp.content else None


def run_demo(console: Console) -> int:
    from sandbox.services import SERVICES

    sim = SERVICES["severa"].create(seed=0)
    server = sim.serve()
    base = f"{server.url}/rest-api"
    step = 0

    def say(text: str) -> None:
        nonlocal step
        step += 1
        console.print(f"\n[bold cyan]{step}.[/] {text}")

    try:
        with (
            httpx.Client(base_url=base, timeout=10) as http,
            httpx.Client(base_url=server.url, timeout=10) as ctl,
        ):
            console.rule("[bold]severa-sandbox demo: the Visma Severa simulator")
            console.print(f"Severa REST API simulated at [link]{base}[/] (demo organisation, seed 0)")

            say(
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
            console.print(
                f"   POST /v1/token -> {token['access_token_type']} token, expires in "
                f"{token['access_token_expires_in']} s, scope {token['scope']}"
            )
            headers = {
                "Authorization": f"{token['access_token_type']} {token['access_token']}",
                "Client_Id": client["client_id"],
            }

            say("It reads the invoice statuses (Asetukset > Laskutus > Laskujen tilat).")
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
            waiting, transferred = by_name[WAITING], by_name[TRANSFERRED]

            say(f"It lists the invoices waiting in '{WAITING}' (token paging, NextPageToken).")
            invoices = _check(
                http.get(
                    "/v1/invoices",
                    headers=headers,
                    params={"invoiceStatusGuids": waiting["guid"], "rowCount": 100},
                ),
                "invoices",
            )
            for inv in invoices:
                console.print(
                    f"   invoice {inv.get('number')} to {inv['customer']['name']}: "
                    f"{inv['totalIncludingTax']['amount']:.2f} {inv['totalIncludingTax']['currencyCode']}"
                )
            if not invoices:
                raise DemoFailed(f"the demo data has no invoice in '{WAITING}'")
            inv = invoices[0]
            rows = _check(http.get(f"/v1/invoices/{inv['guid']}/invoicerows", headers=headers), "rows")
            console.print(
                f"   its {len(rows)} row(s) carry the codes Maventa and Maestro match on: "
                + ", ".join(sorted({c for r in rows for c in (r.get("code") or [])}))
            )

            say(f"After a transfer it moves the invoice to '{TRANSFERRED}' with a JSON Patch.")
            patched = _check(
                http.patch(
                    f"/v1/invoices/{inv['guid']}",
                    headers=headers,
                    json=[{"op": "replace", "path": "/status/guid", "value": transferred["guid"]}],
                ),
                "patch",
            )[0]
            console.print(
                f"   status is now '{patched['status']['name']}' (isSent={patched['status']['isSent']}), "
                f"number {patched['number']}, reference {patched['referenceNumber']}, "
                f"updated {patched['lastUpdatedDateTime']}"
            )
            other = http.patch(
                f"/v1/invoices/{inv['guid']}",
                headers=headers,
                json=[{"op": "replace", "path": "/yourReference", "value": "changed"}],
            )
            console.print(
                f"   editing it now is refused, the status is read-only: HTTP {other.status_code} "
                f"{other.json()['error']['type']}"
            )

            say("Support view: the journal keeps every exchange, with secrets redacted.")
            entries = _check(ctl.get("/_sim/journal", params={"limit": 4}), "journal")["entries"]
            for e in entries:
                console.print(f"   #{e['id']} {e['method']} {e['path']} -> {e['status']}")
            console.print(f"   the token request body as journalled: {entries[0]['request_body'][:110]}")

            say("Fault injection: the next 2 calls to GET invoices fail with 503, in Severa's own envelope.")
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
                console.print(
                    f"   GET /v1/invoices -> {r.status_code}"
                    + (f" {r.json()['error']['type']}" if r.status_code >= 400 else "")
                )

            say(
                "The simulated clock: one hour later the access token has expired; the refresh token still works."
            )
            _check(ctl.post("/_sim/clock", json={"advance": 3601}), "clock")
            r = http.get("/heartbeat/authorized", headers=headers)
            console.print(f"   GET /heartbeat/authorized -> {r.status_code}")
            fresh = _check(
                http.post(
                    "/v1/refreshtoken",
                    json=token["refresh_token"],
                    headers={"Client_Id": client["client_id"]},
                ),
                "refresh",
            )
            headers["Authorization"] = f"Bearer {fresh['access_token']}"
            console.print(
                f"   POST /v1/refreshtoken -> new token; heartbeat now "
                f"{http.get('/heartbeat/authorized', headers=headers).status_code}"
            )
            console.rule("[bold green]demo finished")
            return 0
    except (DemoFailed, httpx.HTTPError, KeyError) as exc:
        console.print(f"[bold red]demo failed:[/] {type(exc).__name__}: {exc}")
        return 1
    finally:
        server.stop()


def _yes(flag: Any) -> str:
    return "yes" if flag else "-"

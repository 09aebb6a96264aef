"""The customer register from Severa to Maestro (MA-2: asiakasrekisteri), incremental and idempotent.

* Every pass asks Severa for the customers created or changed since the stored watermark
  (``GET /v1/customers?changedSince=``, 100 per page) and upserts each one into Maestro by its
  customer number (``PUT /api/v1/customers/{number}``).
* What was copied is remembered per customer (``remote_records``: the version sent — Severa's
  change time and a digest of what was sent, since two edits can share a timestamp — or the error
  that stopped it), so an unchanged customer is never sent again and a refused one is logged once
  by name (and again only when it changes), without stopping the others.
* The watermark only moves forward after a sync that reached its end; a sync cut short by an
  unreachable service starts again from the same point.
* An invoice's customer is made sure of before the invoice is imported (``ensure``), so Maestro
  never refuses an invoice for an unknown customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.connectors.maestro.client import MaestroClient
from bridge.connectors.maestro.mapping import MappingError, customer_body, customer_number
from bridge.errors import MaestroError
from bridge.severa.model import CustomerCard
from bridge.severa.source import SeveraSource
from bridge.store import LogLevel, Store

__all__ = ["CONNECTOR", "KIND", "WATERMARK", "CustomerSync", "SyncResult"]

CONNECTOR = "maestro"
KIND = "customer"
WATERMARK = "customers_changed_since"


@dataclass
class SyncResult:
    synced: list[str] = field(default_factory=list)  # "name (number)" of customers created or updated
    failed: list[str] = field(default_factory=list)  # the messages of customers Maestro cannot take
    unchanged: int = 0
    complete: bool = True  # False when a service could not be reached midway


def version_of(card: CustomerCard) -> str:
    """The version of the card a copy in Maestro is of (``CustomerCard.version``)."""
    return card.version


class CustomerSync:
    def __init__(self, store: Store, maestro: MaestroClient, account: str) -> None:
        self.store = store
        self.maestro = maestro
        self.account = account

    def watermark(self) -> str | None:
        return self.store.state.get(CONNECTOR, self.account, WATERMARK)

    def run(self, source: SeveraSource, *, full: bool = False) -> SyncResult:
        """Copy the customers changed since the watermark (all with ``full``)."""
        result = SyncResult()
        since = None if full else self.watermark()
        newest = since or ""
        for card in source.iter_changed_customers(since):
            self._copy(card, result)
            newest = max(newest, card.changed_at)
        if newest:
            self.store.state.set(CONNECTOR, self.account, WATERMARK, newest)
        return result

    def ensure(self, card: CustomerCard) -> None:
        """The invoice's customer is in Maestro as Severa has it now; raises ``MappingError``
        (bad customer data) or ``MaestroError`` / ``TransportFailure`` (try again later)."""
        record = self.store.records.get(CONNECTOR, self.account, KIND, card.guid)
        if record is not None and record.ok and record.source_version == version_of(card):
            return
        result = SyncResult()
        self._copy(card, result, force=True)
        if result.failed:
            raise MappingError(result.failed[0])

    def forget(self, card: CustomerCard, why: str) -> None:
        """Maestro does not have the customer after all (e.g. deleted there): copy it again next time."""
        self._record(card, remote_id=None, version=None, error=why)

    def _record(
        self, card: CustomerCard, *, remote_id: str | None, version: str | None, error: str | None
    ) -> None:
        self.store.records.put(
            CONNECTOR,
            self.account,
            KIND,
            card.guid,
            remote_id=remote_id,
            name=card.name,
            source_version=version,
            error=error,
        )

    def _copy(self, card: CustomerCard, result: SyncResult, *, force: bool = False) -> None:
        record = self.store.records.get(CONNECTOR, self.account, KIND, card.guid)
        version = version_of(card)
        if not force and record is not None and record.source_version == version:
            result.unchanged += 1  # the same version was sent (or refused) before
            return
        label = f"{card.name or card.guid} ({card.number if card.number is not None else 'no number'})"
        try:
            number = customer_number(card)
            body = customer_body(card)
            self.maestro.put_customer(number, body)
        except MappingError as exc:
            self._refused(card, str(exc), record is None or record.error != str(exc), result)
            return
        except MaestroError as exc:
            if exc.retryable or exc.is_auth:
                raise
            message = f"Customer {label} was not transferred to Maestro: {exc.message}" + (
                ": " + "; ".join(str(d) for d in exc.details) if exc.details else ""
            )
            self._refused(card, message, record is None or record.error != message, result)
            return
        self._record(card, remote_id=number, version=version, error=None)
        result.synced.append(label)

    def _refused(self, card: CustomerCard, message: str, new: bool, result: SyncResult) -> None:
        self._record(card, remote_id=None, version=version_of(card), error=message)
        result.failed.append(message)
        if new:
            self.store.log.add(message, level=LogLevel.WARNING, connector=CONNECTOR, account=self.account)

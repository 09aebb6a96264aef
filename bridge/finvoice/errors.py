"""Errors of the Finvoice builder (Finvoice-aineiston muodostus).

The builder never emits an invalid document silently: every missing or invalid piece of Severa
data becomes a :class:`FieldError` naming the Severa field and saying what to fix, and all of them
are raised together in one :class:`FinvoiceBuildError`. Support staff read these messages, so they
name things the way Severa's UI does (with the Finnish term in parentheses where it helps).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field.

    ``field`` is a dotted path into the input (``invoice.number``, ``customer.vatNumber``,
    ``billingAddress.postalCode``, ``rows[2].vatRate``, ``seller.bank_accounts[0].iban``);
    ``message`` is a complete sentence for a human.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class FinvoiceBuildError(ValueError):
    """The invoice cannot be turned into a valid Finvoice; ``errors`` lists every reason."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        super().__init__(self.summary())

    def summary(self) -> str:
        """All messages on one line each, for the transfer log and the notification e-mail."""
        if not self.errors:
            return "Finvoice could not be built."
        return "\n".join(error.message for error in self.errors)

    @property
    def fields(self) -> list[str]:
        """The field paths, in the order the problems were found."""
        return [error.field for error in self.errors]

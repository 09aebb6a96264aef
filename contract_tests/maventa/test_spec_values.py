"""The values the fake accepts, pinned to the AX document it reads its requests by.

The fake keeps the enumerations of its request fields as data (`uploads.py`, `formats.py`,
`backend.py`); this checks each against ``maventa-ax-openapi.yaml``, so a new document release
that adds or drops a value fails here instead of silently disagreeing with the fake.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from contract_tests.targets import vendor_spec
from simulators.maventa import backend, formats, uploads

SPEC = "maventa-ax-openapi.yaml"


@pytest.fixture(scope="module")
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    data = yaml.safe_load(vendor_spec(request.config, SPEC).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _form(document: dict[str, Any]) -> dict[str, Any]:
    body = document["paths"]["/v1/invoices"]["post"]["requestBody"]["content"]["multipart/form-data"]
    return dict(body["schema"]["properties"])


def _query(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    params = document["paths"][path]["get"]["parameters"]
    return dict(next(p for p in params if p["name"] == name)["schema"])


def test_send_form_values(document: dict[str, Any]) -> None:
    form = _form(document)
    assert tuple(form["format"]["enum"]) == tuple(uploads.FORMATS)
    assert set(uploads.SUPPORTED_FORMATS) <= set(form["format"]["enum"])
    assert tuple(form["lang"]["enum"]) == uploads.LANGS
    assert tuple(form["disabled_routes"]["items"]["enum"]) == uploads.ROUTES
    assert tuple(form["print_settings[letter_class]"]["enum"]) == uploads.LETTER_CLASSES
    assert {f"print_settings[{flag}]" for flag in uploads.PRINT_FLAGS} <= set(form)
    assert form["uuid"]["maxLength"] == 36


def test_every_documented_return_format_is_one_the_fake_answers(document: dict[str, Any]) -> None:
    documented = _query(document, "/v1/invoices/{id}", "return_format")["enum"]
    assert sorted(documented) == sorted(formats.RETURN_FORMATS)
    assert len(documented) == 20


def test_invoice_statuses(document: dict[str, Any]) -> None:
    assert tuple(_query(document, "/v1/invoices", "status")["items"]["enum"]) == backend.INVOICE_STATUSES

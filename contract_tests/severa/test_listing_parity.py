"""Parity of the fake's list operations (`simulators/severa/listing.py`) with Severa's document.

The fake reads its query parameters by the declarations in `listing.py`; this pins them to the
vendor's OpenAPI document: every declared parameter exists on the operation with the type the
fake reads it as (GUID arrays, integer arrays, booleans, date-times, numbers, enums with the
same values), and each list pages the way the document says (`pageToken` or `firstRow`).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from contract_tests.targets import vendor_spec
from simulators.severa import listing

SPEC = "severa-openapi-subset.yaml"

# kind in listing.py -> the (type, items type, format) shapes of the document it reads
SHAPES: dict[str, set[tuple[str | None, str | None, str | None]]] = {
    "guids": {("array", "string", None), ("string", None, None)},  # one GUID, or several
    "ints": {("array", "integer", None)},
    "texts": {("array", "string", None)},
    "names": {("array", "string", None)},
    "bool": {("boolean", None, None)},
    "text": {("string", None, None)},
    "datetime": {("string", None, "date-time")},
    "number": {("number", None, "double")},
    "enum": {("string", None, None)},
}
# parameters the fake reads that the *subset* document does not list on that operation
# (the subset is an excerpt of Severa's full document, which has them)
BEYOND_THE_SUBSET = {("/v1/customers", "vatNumber"), ("/v1/travelexpensetypes", "changedSince")}


@pytest.fixture(scope="module")
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    data = yaml.safe_load(vendor_spec(request.config, SPEC).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _parameters(document: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    params = [_resolve(document, p) for p in document["paths"][path]["get"].get("parameters", [])]
    return {p["name"]: _resolve(document, p.get("schema", {})) for p in params}


def _shape(schema: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    items = schema.get("items") or {}
    return (
        schema.get("type"),
        items.get("type"),
        None if schema.get("type") == "array" else schema.get("format"),
    )


def test_every_list_operation_of_the_document_is_declared(document: dict[str, Any]) -> None:
    declared = {lst.path for lst in listing.LISTINGS}
    documented = {p for p in declared if p in document["paths"]}
    assert len(documented) >= 12, sorted(documented)


@pytest.mark.parametrize("lst", listing.LISTINGS, ids=lambda lst: lst.path)
def test_parameters_are_read_as_the_document_types_them(
    document: dict[str, Any], lst: listing.Listing
) -> None:
    if lst.path not in document["paths"]:
        pytest.skip(f"{lst.path} is not in the subset document")
    params = _parameters(document, lst.path)
    assert ("pageToken" if lst.paging == "token" else "firstRow") in params, lst.path
    for flt in lst.filters:
        for name in flt.params:
            if (lst.path, name) in BEYOND_THE_SUBSET:
                assert name not in params, f"{name} is documented now: drop it from BEYOND_THE_SUBSET"
                continue
            assert name in params, f"{lst.path}: the fake reads {name!r}, which the document does not list"
            schema = params[name]
            assert _shape(schema) in SHAPES[flt.kind], (lst.path, name, flt.kind, schema)
            if flt.kind == "enum":
                assert tuple(schema["enum"]) == flt.allowed, (lst.path, name)

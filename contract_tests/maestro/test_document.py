"""The OpenAPI document: valid, served as packaged, and describing exactly the routes the fake has."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from contract_tests.maestro.conftest import MaestroTarget
from simulators.maestro import MaestroSimulator
from simulators.maestro.openapi import document, operation_parameters

METHODS = {"get", "put", "post", "patch", "delete"}
_PLACEHOLDER = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")  # werkzeug's <converter:name>


def _template(rule: str) -> str:
    """A werkzeug rule as an OpenAPI path template: `/products/<path:code>` -> `/products/{code}`."""
    return _PLACEHOLDER.sub(lambda m: "{" + m.group(2) + "}", rule)


def documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in METHODS}


def flask_operations(sim: MaestroSimulator) -> set[tuple[str, str]]:
    """Every (method, path template) in the app's url_map, except the kit's control plane and static.

    Nothing else is left out, so a route added anywhere outside `/_sim` must be documented.
    """
    ops = set()
    for rule in sim.app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/_sim"):
            continue
        path = _template(rule.rule)
        ops |= {(m, path) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    return ops


def test_packaged_document_is_valid_openapi() -> None:
    validate(document())  # raises with the reason when invalid
    assert document()["openapi"].startswith("3.")


def test_served_document_is_valid_and_public(maestro: MaestroTarget) -> None:
    r = maestro.http.get("/openapi.json")  # no API key
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    validate(r.json())
    if not maestro.external:
        assert r.json() == document()


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    sim = MaestroSimulator(preset="empty")
    routes, documented = flask_operations(sim), documented_operations(document())
    assert ("GET", "/api/v1/products/{code}") in routes and ("GET", "/openapi.json") in routes
    assert routes - documented == set(), "routes the document does not describe"
    assert documented - routes == set(), "documented operations the fake does not serve"


def test_every_api_operation_needs_the_key_and_documents_401_and_its_errors() -> None:
    doc = document()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            responses = op["responses"]
            if path.startswith("/api/"):
                assert op.get("security", doc["security"]) == [{"ApiKey": []}], (method, path)
                assert "401" in responses, (method, path)
            for status, resp in responses.items():
                if status.startswith(("4", "5")):
                    assert resp["$ref"].startswith("#/components/responses/"), (method, path, status)
                    name = resp["$ref"].rsplit("/", 1)[1]
                    schema = doc["components"]["responses"][name]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_descriptions_use_maestro_vocabulary_for_support_staff() -> None:
    text = str(document()).lower()
    for term in ("tuote", "asiakas", "myyntilasku", "tuontiloki", "y-tunnus"):
        assert term in text, term


@pytest.mark.parametrize(
    "name", ["ProductInput", "CustomerInput", "SalesInvoiceImport", "IntegrationSettingsInput"]
)
def test_input_schemas_refuse_unknown_fields(name: str) -> None:
    assert document()["components"]["schemas"][name]["additionalProperties"] is False


def test_fallback_product_code_fits_the_product_code_pattern() -> None:
    pattern = document()["components"]["schemas"]["ProductCode"]["pattern"]
    assert re.fullmatch(pattern, "A/0")


def test_path_parameters_match_the_routes_converters() -> None:
    """`<int:invoice_id>` is an integer in the document; `<path:code>` (A/0 has a slash) a string."""
    doc = document()
    checked = 0
    for rule in MaestroSimulator(preset="empty").app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/_sim"):
            continue
        path = _template(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            declared = operation_parameters(path, method)
            for converter, name in _PLACEHOLDER.findall(rule.rule):
                schema = declared[f"path:{name}"]["schema"]
                if "$ref" in schema:
                    schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
                assert schema["type"] == ("integer" if converter == "int" else "string"), (method, path)
                checked += 1
    assert checked >= 6

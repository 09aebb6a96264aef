"""The OpenAPI document: valid, served as packaged, and describing exactly the routes the fake has."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from contract_tests.maestro.conftest import MaestroTarget
from simulators.maestro import MaestroSimulator
from simulators.maestro.openapi import document, operation_parameters, schema_errors

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


# JSON Schema 2020-12 keywords, the OpenAPI 3.1 schema additions, and `x-` extensions: anything
# else in a schema is junk (e.g. the rest of an unquoted description after a comma in a flow map).
SCHEMA_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$ref", "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor", "$comment",
        "type", "enum", "const", "title", "description", "default", "examples", "deprecated",
        "readOnly", "writeOnly", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "items", "prefixItems", "contains",
        "minContains", "maxContains", "minItems", "maxItems", "uniqueItems", "properties",
        "patternProperties", "additionalProperties", "unevaluatedProperties", "unevaluatedItems",
        "propertyNames", "required", "minProperties", "maxProperties", "dependentRequired",
        "dependentSchemas", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
        "contentEncoding", "contentMediaType", "contentSchema",
        "discriminator", "xml", "externalDocs", "example",
    }
)  # fmt: skip
_SUBSCHEMA = ("items", "not", "if", "then", "else", "contains", "additionalProperties", "propertyNames",
              "unevaluatedProperties", "unevaluatedItems", "contentSchema")  # fmt: skip
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")


def schema_keyword_problems(schema: Any, where: str) -> list[str]:
    """`where.key` for every key of `schema` (and its subschemas) that is not a schema keyword."""
    if not isinstance(schema, dict):
        return [] if isinstance(schema, bool) else [f"{where}: not a schema ({schema!r})"]
    problems = [f"{where}.{k}" for k in schema if k not in SCHEMA_KEYWORDS and not k.startswith("x-")]
    for key in _SUBSCHEMA:
        if key in schema:
            problems += schema_keyword_problems(schema[key], f"{where}.{key}")
    for key in _SUBSCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key, [])):
            problems += schema_keyword_problems(sub, f"{where}.{key}[{i}]")
    for key in _SUBSCHEMA_MAPS:
        for name, sub in schema.get(key, {}).items():
            problems += schema_keyword_problems(sub, f"{where}.{key}.{name}")
    return problems


def document_schemas(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, schema) for every schema in the document: components, parameters, headers, bodies."""
    found = [(f"components.schemas.{n}", s) for n, s in doc["components"]["schemas"].items()]

    def in_content(content: dict[str, Any], where: str) -> None:
        for media, item in content.items():
            if "schema" in item:
                found.append((f"{where}.content.{media}.schema", item["schema"]))

    def in_headers(headers: dict[str, Any], where: str) -> None:
        for name, header in headers.items():
            if "schema" in header:
                found.append((f"{where}.headers.{name}.schema", header["schema"]))

    for name, param in doc["components"].get("parameters", {}).items():
        found.append((f"components.parameters.{name}.schema", param["schema"]))
    in_headers(doc["components"].get("headers", {}), "components")
    for name, resp in doc["components"].get("responses", {}).items():
        in_content(resp.get("content", {}), f"components.responses.{name}")
        in_headers(resp.get("headers", {}), f"components.responses.{name}")
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                ops: list[tuple[str, Any]] = [(f"{path}.parameters", {"parameters": op})]
            elif method in METHODS:
                ops = [(f"{method.upper()} {path}", op)]
            else:
                continue
            for where, o in ops:
                for p in o.get("parameters", []):
                    if "schema" in p:
                        found.append((f"{where} parameter {p['name']}", p["schema"]))
                in_content(o.get("requestBody", {}).get("content", {}), f"{where}.requestBody")
                for status, resp in o.get("responses", {}).items():
                    in_content(resp.get("content", {}), f"{where}.responses.{status}")
                    in_headers(resp.get("headers", {}), f"{where}.responses.{status}")
    return found


def test_every_schema_uses_only_schema_keywords() -> None:
    """An unquoted comma in a flow map (`description: Unit, e.g. h, kpl`) makes junk keys."""
    schemas = document_schemas(document())
    assert len(schemas) > 60
    problems = [p for where, schema in schemas for p in schema_keyword_problems(schema, where)]
    assert problems == []


def test_the_keyword_check_catches_a_description_cut_at_a_comma() -> None:
    broken = yaml.safe_load("unit: {type: string, description: Unit (yksikkö), e.g. h, kpl, km, pv.}")
    assert schema_keyword_problems(broken["unit"], "unit") == [
        "unit.e.g. h",
        "unit.kpl",
        "unit.km",
        "unit.pv.",
    ]
    fixed = document()["components"]["schemas"]["ProductInput"]["properties"]["unit"]
    assert fixed["description"] == "Unit (yksikkö), e.g. h, kpl, km, pv."
    log = document()["components"]["schemas"]["ImportLogEntry"]["properties"]
    assert log["message"]["description"].endswith("as Maestro's tuontiloki shows it.")
    booked = document()["components"]["schemas"]["BookedRow"]["properties"]
    assert booked["matched_code"]["description"] == "The row code that matched a product, or null."


# -- every status the fake answers is documented ------------------------------------------------


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in document()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _concrete(path: str) -> str:
    return (
        path.replace("{code}", "A%2F0").replace("{customer_number}", "1001").replace("{invoice_id}", "100001")
    )


def _answer(sim: MaestroSimulator, method: str, path: str, **kw: Any) -> Any:
    key = sim.credentials()["companies"][0]["api_key"]
    with sim.client() as http:
        return http.request(
            method, _concrete(path), headers={"X-Maestro-Api-Key": key, **kw.pop("headers", {})}, **kw
        )


def _assert_documented(op: dict[str, Any], method: str, path: str, r: Any) -> None:
    assert str(r.status_code) in op["responses"], (method, path, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    assert schema_errors("#/components/schemas/Error", r.json()) == [], r.text


def test_other_methods_of_a_path_get_a_documented_405_with_allow() -> None:
    sim = MaestroSimulator(preset="demo")
    checked = 0
    for path, item in document()["paths"].items():
        documented = {m.upper() for m in item if m in METHODS}
        for method in sorted({m.upper() for m in METHODS} - documented):
            r = _answer(sim, method, path, json={})
            assert r.status_code == 405, (method, path, r.status_code)
            assert r.json()["code"] == "method_not_allowed"
            assert set(r.headers["Allow"].split(", ")) == documented, (path, r.headers["Allow"])
            for m in documented:
                _assert_documented(item[m.lower()], method, path, r)
            checked += 1
    assert checked >= 20


def test_an_internal_error_is_a_documented_500_in_the_error_body(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulators.maestro import routes

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the fake")

    monkeypatch.setattr(routes, "current_backend", broken)
    monkeypatch.setattr(routes, "document_json", broken)
    sim = MaestroSimulator(preset="demo")
    for method, path, op in _operations():
        r = _answer(sim, method, path, json={} if method in ("PUT", "POST") else None)
        assert r.status_code == 500, (method, path, r.status_code)
        assert r.json()["code"] == "internal_error" and "RuntimeError" not in r.text
        _assert_documented(op, method, path, r)


@pytest.mark.parametrize(
    ("what", "status", "request_kw"),
    [
        ("a body over the size limit", 413, {"content": b"{" + b" " * 2_000_000 + b"}"}),
        ("JSON nested deeper than 64", 400, {"content": b"[" * 100 + b"]" * 100}),
        ("an unknown query parameter", 400, {"params": {"chagned_since": "x"}}),
    ],
)
def test_generic_refusals_are_documented_on_every_operation(
    what: str, status: int, request_kw: dict[str, Any]
) -> None:
    sim = MaestroSimulator(preset="demo", max_body_bytes=1_000_000)
    for method, path, op in _operations():
        if path == "/openapi.json" and "params" in request_kw:
            continue  # the public document takes any query
        kw = dict(request_kw)
        if "content" in kw:
            kw["headers"] = {"content-type": "application/json"}
        r = _answer(sim, method, path, **kw)
        assert r.status_code == status, (what, method, path, r.status_code, r.text[:200])
        _assert_documented(op, method, path, r)

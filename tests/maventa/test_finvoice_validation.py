"""Finvoice intake: random valid invoices pass, single-field corruptions and unsafe XML are caught."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from simulators.maventa import MaventaSimulator, finvoice
from tests.maventa.finvoice_factory import (
    CORRUPTIONS,
    FinvoiceSpec,
    build_finvoice,
    build_tree,
    finvoice_specs,
)
from tests.maventa.helpers import session

XSD = Path("../shared/specs/Finvoice3.0.xsd")


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema | None:
    info = finvoice.find_xsd(XSD if XSD.is_file() else None)
    return finvoice.load_schema(info.path) if info.status == "ok" and info.path else None


@given(finvoice_specs())
def test_random_valid_invoices_pass(schema: etree.XMLSchema | None, spec: FinvoiceSpec) -> None:
    root = finvoice.parse_xml(build_finvoice(spec))
    assert finvoice.validate(root, schema) == []
    data = finvoice.extract(root)
    assert data.number == spec.number
    assert f"{data.sum_tax:.2f}" == f"{spec.total:.2f}"


@settings(max_examples=60)
@given(finvoice_specs(), st.sampled_from(sorted(CORRUPTIONS)), st.integers(0, 2**32))
def test_single_field_corruptions_are_caught(spec: FinvoiceSpec, corruption: str, salt: int) -> None:
    root = build_tree(spec)
    element = CORRUPTIONS[corruption](root, random.Random(salt))  # type: ignore[operator]
    root = finvoice.parse_xml(etree.tostring(root))
    findings = finvoice.structural_errors(root)  # without the XSD: the structural layer alone must catch it
    assert findings, corruption
    assert any(element in f for f in findings), (corruption, findings)


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """The whole intake path in-process: multipart upload, safe parsing, structural + XSD validation."""
    with session(MaventaSimulator(xsd_path=XSD if XSD.is_file() else None)) as pair:
        yield pair


@settings(max_examples=30)
@given(finvoice_specs())
def test_random_valid_invoices_are_accepted_over_http(
    api: tuple[httpx.Client, dict[str, str]], spec: FinvoiceSpec
) -> None:
    http, h = api
    r = http.post("/v1/invoices", headers=h, files={"file": (f"{spec.number}.xml", build_finvoice(spec))})
    assert r.status_code == 201, r.text
    assert r.json()["number"] == spec.number and f"{r.json()['sum_tax']:.2f}" == f"{spec.total:.2f}"


@settings(max_examples=30)
@given(finvoice_specs(), st.sampled_from(sorted(CORRUPTIONS)), st.integers(0, 2**32))
def test_random_corruptions_are_refused_over_http(
    api: tuple[httpx.Client, dict[str, str]], spec: FinvoiceSpec, corruption: str, salt: int
) -> None:
    http, h = api
    root = build_tree(spec)
    element = CORRUPTIONS[corruption](root, random.Random(salt))  # type: ignore[operator]
    r = http.post("/v1/invoices", headers=h, files={"file": ("x.xml", etree.tostring(root))})
    assert r.status_code == 400 and r.json()["code"] == "validation_failed", (corruption, r.text)
    assert any(element in d for d in r.json()["details"]), (corruption, r.json())


def test_missing_epidetails_names_the_element(schema: etree.XMLSchema | None) -> None:
    root = build_tree(FinvoiceSpec())
    root.remove(root.find("EpiDetails"))
    findings = finvoice.validate(finvoice.parse_xml(etree.tostring(root)), schema)
    assert any("'EpiDetails'" in f for f in findings)


def test_xsd_catches_what_it_knows(schema: etree.XMLSchema | None) -> None:
    if schema is None:
        pytest.skip("official XSD not available")
    root = build_tree(FinvoiceSpec())
    root.find("BuyerPartyDetails/BuyerPostalAddressDetails/BuyerStreetName").text = "X"
    assert any(
        m.startswith("The 'BuyerStreetName' element is invalid") for m in finvoice.xsd_errors(root, schema)
    )


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Finvoice>&x;</Finvoice>',
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><Finvoice>&b;</Finvoice>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]><r>&x;</r>'.encode(
            "utf-16"
        ),
    ],
)
def test_unsafe_xml_is_refused(payload: bytes) -> None:
    with pytest.raises(finvoice.UnsafeXmlError):
        finvoice.parse_xml(payload)


def test_malformed_xml_is_refused() -> None:
    with pytest.raises(finvoice.FinvoiceError, match="well-formed"):
        finvoice.parse_xml(b"<Finvoice><unclosed></Finvoice>")


@pytest.mark.parametrize(
    ("base", "ref"),
    [("123", "1232"), ("494", "4941"), ("1000014", "10000142"), ("9190100001", "91901000011")],
)
def test_reference_check_digit_vectors(base: str, ref: str) -> None:
    assert base + str(finvoice.reference_check_digit(base)) == ref
    assert finvoice.is_valid_reference(ref)
    assert not finvoice.is_valid_reference(ref[:-1] + str((int(ref[-1]) + 1) % 10))


def test_find_xsd_rejects_a_tampered_copy(tmp_path: Path) -> None:
    bad = tmp_path / "Finvoice3.0.xsd"
    bad.write_text("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'/>")
    info = finvoice.find_xsd(bad)
    assert info.status == "rejected" and "sha256" in info.reason
    assert finvoice.find_xsd(tmp_path / "nothing.xsd").status == "missing"


def test_without_the_xsd_foreign_markup_and_children_of_text_elements_are_refused() -> None:
    """An XInclude (or any namespaced element) and an element inside a text-only element are caught
    by the structural layer, with the wording of the schema validator, when no XSD is at hand."""
    root = build_tree(FinvoiceSpec())
    name = root.find("BuyerPartyDetails/BuyerOrganisationName")
    assert name is not None
    name.text = None
    etree.SubElement(name, "{http://www.w3.org/2001/XInclude}include", href="file:///etc/passwd")
    findings = finvoice.structural_errors(root)
    assert "The element 'include' in namespace 'http://www.w3.org/2001/XInclude' is not expected." in findings
    assert (
        "The element 'BuyerOrganisationName' cannot contain child element 'include' because the parent "
        "element's content type is text only." in findings
    )
    assert finvoice.structural_errors(build_tree(FinvoiceSpec())) == []

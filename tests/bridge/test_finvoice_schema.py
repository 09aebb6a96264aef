"""XSD validation for the engine, and the upload packaging for Maventa (MV-6)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bridge.finvoice import build_finvoice, default_xsd_path, package_invoice, validate_against_xsd
from bridge.finvoice.package import safe_file_name
from tests.bridge.test_finvoice_fixtures import STAMP, make_case, xsd_path


@pytest.fixture(scope="module")
def xsd(request: pytest.FixtureRequest) -> Path:
    return xsd_path(request.config)


@pytest.fixture(scope="module")
def valid_xml() -> bytes:
    return build_finvoice(*make_case(40).build_args(), timestamp=STAMP)


def test_schema_violations_name_the_element_and_line(xsd: Path, valid_xml: bytes) -> None:
    assert validate_against_xsd(valid_xml, xsd) == []
    broken = valid_xml.replace(b"<InvoiceTypeCode>INV01<", b"<InvoiceTypeCode>XYZ01<")
    problems = validate_against_xsd(broken, xsd)
    assert problems and "InvoiceTypeCode" in problems[0] and problems[0].startswith("line ")
    dotted = valid_xml.replace(b"25,5<", b"25.5<")
    if dotted != valid_xml:
        assert validate_against_xsd(dotted, xsd)


def test_not_xml_and_doctype_are_refused(xsd: Path, valid_xml: bytes) -> None:
    assert "not well-formed" in validate_against_xsd(b"<Finvoice", xsd)[0]
    with_doctype = valid_xml.replace(
        b"<Finvoice ", b'<!DOCTYPE Finvoice [<!ENTITY x "boom">]>\n<Finvoice ', 1
    )
    assert "DOCTYPE" in validate_against_xsd(with_doctype, xsd)[0]


def test_missing_xsd_is_a_configuration_error(tmp_path: Path, valid_xml: bytes) -> None:
    with pytest.raises(FileNotFoundError, match="SEVERA_SANDBOX_SPECS"):
        validate_against_xsd(valid_xml, tmp_path / "nope.xsd")


def test_default_xsd_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEVERA_SANDBOX_SPECS", str(tmp_path))
    assert default_xsd_path() == tmp_path / "Finvoice3.0.xsd"
    monkeypatch.delenv("SEVERA_SANDBOX_SPECS")
    assert default_xsd_path().parts[-3:] == ("shared", "specs", "Finvoice3.0.xsd")


def test_xml_alone_without_pdf(valid_xml: bytes) -> None:
    upload = package_invoice(valid_xml, "invoice_10023")
    assert (upload.filename, upload.content, upload.content_type) == (
        "invoice_10023.xml",
        valid_xml,
        "application/xml",
    )


def test_zip_pairs_the_pdf_with_the_xml_by_base_name(valid_xml: bytes) -> None:
    pdf = b"%PDF-1.4 fake"
    upload = package_invoice(
        valid_xml, "invoice_10023", pdf, attachments=[("Tuntierittely Marras.PDF", b"x")]
    )
    assert upload.filename == "invoice_10023.zip" and upload.content_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(upload.content)) as archive:
        assert archive.namelist() == ["invoice_10023.xml", "invoice_10023.pdf", "1_tuntierittely_marras.pdf"]
        assert archive.read("invoice_10023.xml") == valid_xml
        assert archive.read("invoice_10023.pdf") == pdf
    assert (
        package_invoice(valid_xml, "invoice_10023", pdf).content
        == package_invoice(valid_xml, "invoice_10023", pdf).content
    )


def test_safe_file_names() -> None:
    assert safe_file_name("Lasku 10023 / Ääkköset.PDF") == "lasku_10023_aakkoset.pdf"
    long = safe_file_name("a" * 80 + ".pdf")
    assert len(long) == 50 and long.endswith(".pdf")

"""Reading ``POST /v1/invoices`` (lähetä lasku): the multipart form and its file, before the fake
takes its lock (the route is ``@unlocked``).

* `read_uuid` – the client's idempotency key (at most 36 characters);
* `read_file` – the ``file`` part: a single invoice XML or a ZIP of the XML, the invoice image
  (the PDF with the XML's base name) and attachments; ZIPs are read strictly (see
  `unpack_upload`), every name is checked (`check_filename`) and every size capped;
* `read_options` – the other fields: ``format``, ``disabled_routes[]``, ``lang``,
  ``print_settings[...]``, the recipient overrides, ``prevent_routing``, ``sender_comment``.

The allowed values (`FORMATS`, `LANGS`, `ROUTES`, `LETTER_CLASSES`) are those of the AX
document's ``postV1Invoices``, pinned by ``contract_tests/maventa/test_spec_values.py``.
Everything wrong is a 400 ``invalid_parameters`` / ``invalid_file`` or a 413 in Maventa's
envelope.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from werkzeug.datastructures import FileStorage, MultiDict

from .errors import MaventaError, bad_request
from .models import MAX_UPLOAD_EXPANDED
from .routing import Overrides

FORMATS = [
    "VISMAXML53",
    "VISMAXML60",
    "SVEFAKTURA10",
    "SEDI",
    "E2B",
    "EHF20",
    "PEPPOLBIS20",
    "PEPPOLBIS30",
    "SIUBL11",
    "SIUBL12",
    "SIUBL20",
    "OIOUBL",
    "OIOUBL21",
    "VISMAUBL10",
    "VISMAUBL30",
    "FINVOICE13",
    "FINVOICE20",
    "FINVOICE30",
    "TEAPPS27",
    "TEAPPS30",
    "XRECHNUNG23UBL",
    "XRECHNUNG23CII",
    "XRECHNUNG23EXTUBL",
    "XRECHNUNG23EXTCII",
    "XRECHNUNG30UBL",
    "XRECHNUNG30CII",
    "XRECHNUNG30EXTUBL",
    "XRECHNUNG30EXTCII",
    "FATTURAPA12",
]
SUPPORTED_FORMATS = ("FINVOICE30", "FINVOICE20", "FINVOICE13")
LANGS = ("FI", "SE", "NO", "DK", "NL", "EN")
LETTER_CLASSES = ("PRIORITY", "ECONOMY")
PRINT_FLAGS = ("color", "print_own_image", "prevent_digital_post", "allow_kivra_fi")
ROUTES = ("print", "email", "einvoice")
MAX_ZIP_ENTRIES = 50
MAX_FILE = 10 * 1024 * 1024


# --------------------------------------------------------------------------- the form
@dataclass
class UploadedFile:
    """The ``file`` part, unpacked: the invoice XML and the other files of a ZIP."""

    name: str  # of the XML: the upload's file name, or "invoice.xml" for a ZIP
    xml: bytes
    others: list[tuple[str, str, bytes]]  # (INVOICE_IMAGE | ATTACHMENT, name, bytes)
    declared_format: str  # the ``format`` field, "" when the format is to be detected

    def blobs(self) -> list[tuple[str, str, str, bytes]]:
        """(type, name, mimetype, bytes) of every file the invoice keeps, the XML first."""
        out = [("INVOICE_XML", self.name.rsplit("/", 1)[-1], "application/xml", self.xml)]
        return out + [(kind, name, mimetype(name), blob) for kind, name, blob in self.others]

    def size(self) -> int:
        return len(self.xml) + sum(len(blob) for _, _, blob in self.others)


@dataclass
class SendOptions:
    """How to send: the form fields beside the file."""

    disabled: set[str] = field(default_factory=set)
    lang: str = "FI"
    print_options: dict[str, Any] = field(default_factory=dict)
    overrides: Overrides = field(default_factory=Overrides)
    prevent_routing: bool | None = None
    sender_comment: str = ""


def read_uuid(form: MultiDict[str, str]) -> str:
    uid = form.get("uuid", "").strip()
    if len(uid) > 36:
        raise bad_request("uuid is too long (max 36 characters)")
    return uid


def read_file(
    form: MultiDict[str, str], files: MultiDict[str, FileStorage], *, max_expanded: int = MAX_UPLOAD_EXPANDED
) -> UploadedFile:
    upload = files.get("file")
    if upload is None or not upload.filename:
        raise bad_request("file is missing", ["Send the invoice as multipart field 'file' with a filename"])
    check_filename(upload.filename, "file")
    content = upload.read(MAX_FILE + 1)
    if len(content) > MAX_FILE:
        raise MaventaError(413, "file_too_large", f"The file is too large (max {MAX_FILE} bytes)")
    xml, others = unpack_upload(content, max_expanded=max_expanded)
    fmt = form.get("format", "").strip().upper()
    if fmt and fmt not in FORMATS:
        raise bad_request("format does not have a valid value", [f"format: {fmt!r}"])
    name = upload.filename if not content.startswith(b"PK") else "invoice.xml"
    return UploadedFile(name, xml, others, fmt)


def read_options(form: MultiDict[str, str]) -> SendOptions:
    disabled = {
        d.strip().lower()
        for key in ("disabled_routes[]", "disabled_routes")
        for v in form.getlist(key)
        for d in v.split(",")
        if d.strip()
    }
    if disabled - set(ROUTES):
        raise bad_request("disabled_routes does not have a valid value", sorted(disabled - set(ROUTES)))
    lang = form.get("lang", "FI").strip().upper() or "FI"
    if lang not in LANGS:
        raise bad_request("lang does not have a valid value", [f"lang: {lang!r}"])
    print_options: dict[str, Any] = {}
    for key in PRINT_FLAGS:
        v = _bool(form.get(f"print_settings[{key}]"), f"print_settings[{key}]")
        if v is not None:
            print_options[key] = v
    lc = form.get("print_settings[letter_class]", "").strip().upper()
    if lc:
        if lc not in LETTER_CLASSES:
            raise bad_request("print_settings[letter_class] does not have a valid value")
        print_options["letter_class"] = lc
    ov = Overrides(
        eia=form.get("recipient_eia", "").strip(),
        operator=form.get("recipient_operator", "").strip(),
        email=form.get("recipient_email", "").strip(),
        disabled=disabled,
    )
    for name, value, limit in (
        ("recipient_eia", ov.eia, 128),
        ("recipient_operator", ov.operator, 128),
        ("recipient_email", ov.email, 255),
    ):
        if len(value) > limit:
            raise bad_request(f"{name} is too long (max {limit})")
    prevent = _bool(form.get("prevent_routing"), "prevent_routing")
    return SendOptions(disabled, lang, print_options, ov, prevent, form.get("sender_comment", "")[:1024])


def _bool(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise bad_request(f"{name} is invalid", [f"{name}: expected true or false, got {value!r}"])


# --------------------------------------------------------------------------- the file
# [inferred] Maventa documents none of these limits; they keep one upload (and one company) from
# taking the fake's memory: a 141 KB ZIP of zeros used to expand to ~135 MB (models.py has the
# per-upload and per-company caps).
ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
MAX_NAME = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_filename(name: str, where: str) -> None:
    """A file name the fake can store and serve back: no control characters (CR/LF could split a
    download's headers), at most 255 characters. Any other character is fine (RFC 6266 serves it)."""
    if _CONTROL.search(name):
        raise MaventaError(
            400,
            "invalid_file",
            "The file name contains control characters",
            [
                f"{where}: {name.encode('unicode_escape').decode('ascii')[:120]!r} (CR, LF, tabs and the like are not allowed)"
            ],
        )
    if len(name) > MAX_NAME:
        raise MaventaError(
            400, "invalid_file", f"The file name is too long (max {MAX_NAME} characters)", [where]
        )


def content_disposition(filename: str) -> str:
    """``attachment`` with the name as ASCII (quoted, escaped) and, when it is not ASCII, also as
    RFC 5987 UTF-8 (``filename*``): any stored name downloads correctly, never a broken header."""
    clean = _CONTROL.sub("", filename) or "file"
    fallback = clean.encode("ascii", "replace").decode("ascii").replace("\\", "\\\\").replace('"', '\\"')
    header = f'attachment; filename="{fallback}"'
    if not clean.isascii():
        header += f"; filename*=UTF-8''{quote(clean, safe='')}"
    return header


def _bad_zip(message: str, detail: str) -> MaventaError:
    return MaventaError(400, "invalid_file", message, [detail])


def unpack_upload(
    content: bytes, *, max_expanded: int = MAX_UPLOAD_EXPANDED
) -> tuple[bytes, list[tuple[str, str, bytes]]]:
    """(xml bytes, [(kind, name, bytes)]) – a single XML or a ZIP (XML + same-named PDF + attachments).

    Every ZIP that cannot be read (bad CRC, sizes that lie, Deflate64, AES or any encryption, a
    broken directory) is a 400 ``invalid_file``; what it unpacks to is capped at `max_expanded`
    bytes, as declared and as actually read (413)."""
    if not content.startswith(b"PK\x03\x04"):
        return content, []
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, struct.error) as exc:
        raise _bad_zip("The ZIP file cannot be read", str(exc)) from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise MaventaError(400, "invalid_file", f"Too many files in the ZIP (max {MAX_ZIP_ENTRIES})")
    for info in infos:
        check_filename(info.filename, "ZIP entry")
        if info.flag_bits & 0x1:
            raise _bad_zip("Encrypted ZIP files are not supported", f"{info.filename} is encrypted")
        if info.compress_type not in ZIP_METHODS:
            raise _bad_zip(
                "The ZIP file uses a compression method that is not supported",
                f"{info.filename}: method {info.compress_type} (supported: stored, deflated)",
            )
    declared = sum(i.file_size for i in infos)
    if declared > max_expanded or any(i.file_size > MAX_FILE for i in infos):
        raise MaventaError(
            413,
            "file_too_large",
            "The ZIP unpacks to too much data",
            [f"max {MAX_FILE} bytes per file, {max_expanded} bytes per upload; this one declares {declared}"],
        )
    xmls = [i for i in infos if i.filename.lower().endswith(".xml")]
    if len(xmls) != 1:
        raise MaventaError(
            400,
            "invalid_file",
            "The ZIP must contain exactly one invoice XML file",
            [f"found {len(xmls)} .xml files"],
        )
    spans = _entry_spans(content, infos, zf.start_dir)
    base = xmls[0].filename.rsplit("/", 1)[-1][:-4]
    xml = _inflate(content, xmls[0], spans[xmls[0].filename])
    others: list[tuple[str, str, bytes]] = []
    for info in infos:
        if info is xmls[0]:
            continue
        name = info.filename.rsplit("/", 1)[-1]
        kind = "INVOICE_IMAGE" if name.lower() == f"{base.lower()}.pdf" else "ATTACHMENT"
        others.append((kind, name, _inflate(content, info, spans[info.filename])))
    return xml, others


def _entry_spans(
    content: bytes, infos: list[zipfile.ZipInfo], directory_at: int
) -> dict[str, tuple[int, int]]:
    """Where each entry's data lies, from its local header; sizes that make entries overlap each
    other or the central directory (a lying compressed size, an overlapping-entry bomb) are refused."""
    spans: dict[str, tuple[int, int]] = {}
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for n, info in enumerate(ordered):
        at = info.header_offset
        if content[at : at + 4] != b"PK\x03\x04" or at + 30 > len(content):
            raise _bad_zip(
                "The ZIP file cannot be read", f"{info.filename}: no local header where the directory says"
            )
        name_len, extra_len = struct.unpack_from("<HH", content, at + 26)
        start = at + 30 + name_len + extra_len
        end = start + info.compress_size
        limit = ordered[n + 1].header_offset if n + 1 < len(ordered) else directory_at
        if end > limit or end > len(content):
            raise _bad_zip(
                "The sizes in the ZIP file do not add up",
                f"{info.filename}: its data overruns what follows it",
            )
        if info.filename in spans:
            raise _bad_zip("The ZIP file cannot be read", f"{info.filename} appears twice")
        spans[info.filename] = (start, end)
    return spans


def _inflate(content: bytes, info: zipfile.ZipInfo, span: tuple[int, int]) -> bytes:
    """The entry's bytes, checked: exactly the declared size (never inflating past it), the end of
    its deflate stream there, and its CRC-32."""
    raw = content[span[0] : span[1]]
    if info.compress_type == zipfile.ZIP_STORED:
        data = raw
    else:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(raw, info.file_size + 1)
        except zlib.error as exc:
            raise _bad_zip("The ZIP file cannot be read", f"{info.filename}: {exc}") from exc
        if len(data) == info.file_size and not inflater.eof:
            raise _bad_zip(
                "The sizes in the ZIP file do not add up",
                f"{info.filename} inflates to more than the {info.file_size} bytes it declares",
            )
    if len(data) != info.file_size:
        raise _bad_zip(
            "The sizes in the ZIP file do not add up",
            f"{info.filename} holds {len(data)} bytes but declares {info.file_size}",
        )
    if zlib.crc32(data) != info.CRC:
        raise _bad_zip("The ZIP file cannot be read", f"Bad CRC-32 for file {info.filename!r}")
    return data


def mimetype(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {
        "pdf": "application/pdf",
        "xml": "application/xml",
        "txt": "text/plain",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "png": "image/png",
        "gif": "image/gif",
        "tif": "image/tiff",
        "html": "text/html",
        "htm": "text/html",
    }.get(ext, "application/octet-stream")

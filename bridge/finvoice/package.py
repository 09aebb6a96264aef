"""Packaging for Maventa's upload (``POST /v1/invoices``, multipart field ``file``).

Without the Severa PDF the Finvoice XML is uploaded alone. With "send the original invoice PDF"
on (MV-6, "Lähetä alkuperäinen laskun PDF"), the upload is a ZIP in which the PDF invoice image
has the same base name as the XML (``invoice_10023.xml`` + ``invoice_10023.pdf``); Maventa then
shows and prints that image instead of rendering its own. Further files in the ZIP are
attachments; their names are reduced to ``[a-z0-9._]`` and at most 50 characters, as Maventa's
support pages ask, and prefixed with a running number so they never collide with the image.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

_UNSAFE = re.compile(r"[^a-z0-9._]+")


@dataclass(frozen=True)
class UploadFile:
    """What goes into the multipart ``file`` field: a file name, its bytes and the MIME type."""

    filename: str
    content: bytes
    content_type: str


def safe_file_name(name: str, limit: int = 50) -> str:
    """``name`` reduced to ``[a-z0-9._]`` (accents dropped) and at most ``limit`` characters, keeping the extension."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    lowered = _UNSAFE.sub("_", plain.strip().lower()).strip("._") or "file"
    if len(lowered) <= limit:
        return lowered
    stem, dot, ext = lowered.rpartition(".")
    if dot and 0 < len(ext) < 10 and stem:
        return stem[: limit - len(ext) - 1].rstrip("._") + "." + ext
    return lowered[:limit]


def package_invoice(
    xml: bytes,
    base_name: str,
    pdf: bytes | None = None,
    attachments: Sequence[tuple[str, bytes]] = (),
) -> UploadFile:
    """The upload for one invoice: the XML alone, or a ZIP of XML + PDF image (+ attachments).

    ``base_name`` names both the XML and the PDF (see ``finvoice_base_name``); it is made safe
    the same way as attachment names. The ZIP is deterministic (fixed timestamps), so the same
    input gives the same bytes.
    """
    base = safe_file_name(base_name, 46)
    if pdf is None and not attachments:
        return UploadFile(f"{base}.xml", xml, "application/xml")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _add(archive, f"{base}.xml", xml)
        if pdf is not None:
            _add(archive, f"{base}.pdf", pdf)
        for i, (name, content) in enumerate(attachments, start=1):
            _add(archive, safe_file_name(f"{i}_{name}"), content)
    return UploadFile(f"{base}.zip", buffer.getvalue(), "application/zip")


def _add(archive: zipfile.ZipFile, name: str, content: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, content)

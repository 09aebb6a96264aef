"""ZIP files as hostile senders make them: each way a ZIP can be unreadable, or too big."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.maventa.finvoice_factory import build_finvoice

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def zip_of(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def invoice_zip(**extra: bytes) -> bytes:
    return zip_of({"lasku.xml": build_finvoice(), "lasku.pdf": PDF, **extra})


def patch(
    data: bytes,
    name: str,
    *,
    method: int | None = None,
    flags: int | None = None,
    crc: int | None = None,
    size: int | None = None,
    compressed: int | None = None,
) -> bytes:
    """Change one entry's fields in its local header and in the central directory alike."""
    buf = bytearray(data)
    raw = name.encode()
    for sig, base in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # offset of the flags field
        at = 0
        while (at := buf.find(sig, at)) != -1:
            name_len = struct.unpack_from("<H", buf, at + base + 20)[0]
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if bytes(buf[name_at : name_at + name_len]) == raw:
                if flags is not None:
                    struct.pack_into("<H", buf, at + base, flags)
                if method is not None:
                    struct.pack_into("<H", buf, at + base + 2, method)
                if crc is not None:
                    struct.pack_into("<I", buf, at + base + 8, crc)
                if compressed is not None:
                    struct.pack_into("<I", buf, at + base + 12, compressed)
                if size is not None:
                    struct.pack_into("<I", buf, at + base + 16, size)
            at += 4
    return bytes(buf)


def unreadable() -> dict[str, bytes]:
    """Every kind of unreadable ZIP the issue names (and neighbours), by name."""
    good = invoice_zip()
    info = zipfile.ZipFile(io.BytesIO(good)).getinfo("lasku.pdf")
    return {
        "bad crc": patch(good, "lasku.pdf", crc=info.CRC ^ 0xFFFF),
        "size smaller than the data": patch(good, "lasku.pdf", size=5),
        "size larger than the data": patch(good, "lasku.pdf", size=info.file_size + 1000),
        "compressed size lies": patch(good, "lasku.pdf", compressed=info.compress_size + 3000),
        "deflate64": patch(good, "lasku.pdf", method=9),
        "aes": patch(good, "lasku.pdf", method=99, flags=0x1),
        "encrypted flag": patch(good, "lasku.pdf", flags=0x1),
        "bzip2 entry": zip_of({"lasku.xml": build_finvoice(), "lasku.pdf": PDF}, zipfile.ZIP_BZIP2),
        "truncated directory": good[:-12],
        "garbage after the signature": b"PK\x03\x04" + b"\xff" * 200,
        "stream that is not deflate": patch(
            zip_of({"lasku.xml": build_finvoice(), "lasku.pdf": PDF}, zipfile.ZIP_STORED),
            "lasku.pdf",
            method=8,
        ),
    }


def zeros_bomb(entries: int = 14, each: int = 10 * 1024 * 1024) -> bytes:
    """About 141 KB that expands to `entries` x `each` bytes of zeros (the issue's 135 MB)."""
    files = {"lasku.xml": build_finvoice()}
    files.update({f"liite{i}.pdf": bytes(each) for i in range(entries)})
    return zip_of(files)


def lying_bomb(actual: int = 50 * 1024 * 1024) -> bytes:
    """One entry that says 1 KB and inflates to `actual` bytes."""
    blob = zip_of({"lasku.xml": build_finvoice(), "liite.pdf": bytes(actual)})
    return patch(blob, "liite.pdf", size=1024, crc=zlib.crc32(bytes(1024)))

"""sandbox.specs: extraction, hash check and caching of the Finvoice XSD (offline, fake wheels)."""

from __future__ import annotations

import hashlib
import io
import re
import socket
import zipfile
from pathlib import Path

import httpx
import pytest

from sandbox import specs


def _wheel(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def real_xsd() -> bytes:
    path = Path("../shared/specs/Finvoice3.0.xsd")
    if not path.is_file():
        pytest.skip("Finvoice3.0.xsd not in ../shared/specs")
    return path.read_bytes()


def _transport(wheel: bytes, calls: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if request.url.path.endswith("/json"):
            return httpx.Response(
                200,
                json={  # PyPI's project JSON: every release's files
                    "info": {"version": "99.0"},
                    "urls": [{"packagetype": "bdist_wheel", "url": "https://files.example/newest.whl"}],
                    "releases": {
                        "99.0": [{"packagetype": "bdist_wheel", "url": "https://files.example/newest.whl"}],
                        specs.VERSION: [
                            {"packagetype": "sdist", "url": "https://files.example/pkg.tar.gz"},
                            # a PyPI mirror lists files relative to the JSON document
                            {"packagetype": "bdist_wheel", "url": "../../packages/ab/pkg.whl"},
                        ],
                    },
                },
            )
        return httpx.Response(200, content=wheel)

    return httpx.MockTransport(handler)


def test_extracts_and_caches_the_verified_schema(tmp_path: Path, real_xsd: bytes) -> None:
    calls: list[str] = []
    with httpx.Client(
        transport=_transport(_wheel({specs.MEMBER: real_xsd, "other.txt": b"x"}), calls)
    ) as client:
        path = specs.fetch_finvoice_xsd(tmp_path, client=client)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == specs.XSD_SHA256
        assert (
            calls[0] == specs.PYPI_JSON and calls[1] == "https://pypi.org/packages/ab/pkg.whl"
        )  # the pinned release
        specs.fetch_finvoice_xsd(tmp_path, client=client)  # cached: no second download
    assert len(calls) == 2
    assert specs.find_finvoice_xsd(path) == path


def test_refuses_a_schema_with_the_wrong_hash(tmp_path: Path) -> None:
    with (
        httpx.Client(transport=_transport(_wheel({specs.MEMBER: b"<xs:schema/>"}), [])) as client,
        pytest.raises(specs.SpecFetchError, match="sha256"),
    ):
        specs.fetch_finvoice_xsd(tmp_path, client=client)
    assert not (tmp_path / specs.XSD_NAME).exists()


def test_refuses_a_wheel_without_the_schema_and_a_non_zip() -> None:
    with pytest.raises(specs.SpecFetchError, match="not in the wheel"):
        specs.extract_xsd_from_wheel(_wheel({"README": b"hi"}))
    with pytest.raises(specs.SpecFetchError, match="not a wheel"):
        specs.extract_xsd_from_wheel(b"<html>")


def test_find_honours_xdg_cache_home(
    tmp_path: Path, real_xsd: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("SEVERA_SANDBOX_SPECS", raising=False)
    monkeypatch.chdir(tmp_path)  # no ../shared/specs from here
    assert specs.find_finvoice_xsd() is None
    (tmp_path / "severa-sandbox").mkdir()
    (tmp_path / "severa-sandbox" / specs.XSD_NAME).write_bytes(real_xsd)
    assert specs.find_finvoice_xsd() == tmp_path / "severa-sandbox" / specs.XSD_NAME


def _online() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.mark.slow
def test_real_download_from_pypi(tmp_path: Path) -> None:
    if not _online():
        pytest.skip("no network access to pypi.org")
    try:
        path = specs.fetch_finvoice_xsd(tmp_path)
    except specs.SpecFetchError as exc:
        if "network error" in str(exc) or re.search(r"answered 5\d\d", str(exc)):
            pytest.skip(f"PyPI not reachable from here: {exc}")  # a 404 is our bug, not the network's
        raise
    assert hashlib.sha256(path.read_bytes()).hexdigest() == specs.XSD_SHA256

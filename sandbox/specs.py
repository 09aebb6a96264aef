"""Fetch the official Finvoice 3.0 XSD into the user cache (SPEC §4).

The schema is published unmodified inside the PyPI wheel
``odoo-addon-account-edi-finvoice==19.0.1.0.0.15``. ``fetch_finvoice_xsd`` asks the PyPI JSON
API for that wheel, downloads it with httpx, extracts
``odoo/addons/account_edi_finvoice/static/schema/Finvoice3.0.xsd``, checks the sha256 and
stores it as ``$XDG_CACHE_HOME/severa-sandbox/Finvoice3.0.xsd`` (default ``~/.cache``), where
the Maventa simulator finds it (``find_finvoice_xsd``).
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import httpx

PACKAGE = "odoo-addon-account-edi-finvoice"
VERSION = "19.0.1.0.0.15"
MEMBER = "odoo/addons/account_edi_finvoice/static/schema/Finvoice3.0.xsd"
XSD_NAME = "Finvoice3.0.xsd"
XSD_SHA256 = "169d28a5918654e998b56535cedc4146b5f1ce54078e64bce3d9524aaca5c6ed"
# the project's JSON (every release's files): the per-version URL (`/{PACKAGE}/{VERSION}/json`)
# answers 404 for some releases of this package, the project document lists them all
PYPI_JSON = f"https://pypi.org/pypi/{PACKAGE}/json"
MAX_WHEEL_BYTES = 50 * 1024 * 1024


class SpecFetchError(RuntimeError):
    """The schema could not be fetched or did not match the published hash."""


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "severa-sandbox"


def extract_xsd_from_wheel(wheel: bytes) -> bytes:
    """The XSD bytes from the wheel, verified against ``XSD_SHA256``."""
    try:
        with zipfile.ZipFile(io.BytesIO(wheel)) as zf:
            try:
                data = zf.read(MEMBER)
            except KeyError as exc:
                raise SpecFetchError(f"{MEMBER} is not in the wheel") from exc
    except zipfile.BadZipFile as exc:
        raise SpecFetchError(f"the download is not a wheel (zip): {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != XSD_SHA256:
        raise SpecFetchError(f"{XSD_NAME} in the wheel has sha256 {digest}, expected {XSD_SHA256}")
    return data


def _wheel_url(client: httpx.Client) -> str:
    resp = client.get(PYPI_JSON)
    if resp.status_code != 200:
        raise SpecFetchError(f"PyPI answered {resp.status_code} for {PYPI_JSON}")
    try:
        files = resp.json().get("releases", {}).get(VERSION) or []
    except (ValueError, AttributeError) as exc:
        raise SpecFetchError(f"PyPI's answer for {PYPI_JSON} is not the project JSON: {exc}") from exc
    for item in files:
        if item.get("packagetype") == "bdist_wheel" and str(item.get("url", "")).endswith(".whl"):
            return str(resp.url.join(str(item["url"])))  # a mirror may list it relative to the JSON
    raise SpecFetchError(f"no wheel listed for {PACKAGE}=={VERSION}")


def fetch_finvoice_xsd(cache_dir: Path | None = None, *, client: httpx.Client | None = None) -> Path:
    """Download, verify and cache the XSD; returns its path (no download if already cached and valid)."""
    target_dir = Path(cache_dir) if cache_dir else globals()["cache_dir"]()
    target = target_dir / XSD_NAME
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == XSD_SHA256:
        return target
    own = client is None
    http = client or httpx.Client(timeout=60.0, follow_redirects=True)
    try:
        url = _wheel_url(http)
        resp = http.get(url)
        if resp.status_code != 200:
            raise SpecFetchError(f"downloading {url} answered {resp.status_code}")
        if len(resp.content) > MAX_WHEEL_BYTES:
            raise SpecFetchError("the wheel is unexpectedly large")
        data = extract_xsd_from_wheel(resp.content)
    except httpx.HTTPError as exc:
        raise SpecFetchError(f"network error while fetching the Finvoice XSD: {exc}") from exc
    finally:
        if own:
            http.close()
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def find_finvoice_xsd(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The first XSD with the official hash: explicit path, $SEVERA_SANDBOX_SPECS, ../shared/specs, the cache."""
    candidates: list[Path] = []
    if explicit:
        p = Path(explicit)
        candidates.append(p / XSD_NAME if p.is_dir() else p)
    else:
        if os.environ.get("SEVERA_SANDBOX_SPECS"):
            candidates.append(Path(os.environ["SEVERA_SANDBOX_SPECS"]) / XSD_NAME)
        candidates += [Path("../shared/specs") / XSD_NAME, cache_dir() / XSD_NAME]
    for path in candidates:
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == XSD_SHA256:
            return path
    return None

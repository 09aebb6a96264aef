"""Parity: validate every response the fakes give against the vendor's OpenAPI document.

Used by the contract tests as an oracle (the document is found by path, never copied).
A `ParityRecorder` collects which operations were validated so a final test can assert
that every implemented operation was covered.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import PathNotFound


class _Req:
    """The minimal openapi-core request protocol for an httpx request."""

    def __init__(self, request: httpx.Request, server_prefix: str = "") -> None:
        url = request.url
        self.host_url = f"{url.scheme}://{url.netloc.decode()}" + server_prefix
        path = url.raw_path.decode("ascii").split("?", 1)[0]  # keep %2F inside a segment
        self.path = path[len(server_prefix) :] if server_prefix and path.startswith(server_prefix) else path
        self.method = request.method.lower()
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
            path={},
        )
        self.content_type = request.headers.get("content-type", "")
        self.body = request.content

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


class _Resp:
    def __init__(self, response: httpx.Response) -> None:
        from werkzeug.datastructures import Headers

        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "").split(";")[0]
        self.headers = Headers(list(response.headers.items()))
        self.data = response.content


@cache
def _load(path: str, lenient: bool) -> OpenAPI:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    servers = [{"url": "/"}]
    doc = {**doc, "servers": servers}
    config = Config(spec_validator_cls=None) if lenient else Config()
    return OpenAPI.from_dict(doc, config=config)


class ParityValidator:
    """Validates httpx responses against one OpenAPI document.

    `strip_prefix`: the part of the URL path before the spec's paths (e.g. "/rest-api").
    `aliases`: path rewrites applied before matching (e.g. "/v1.0/" -> "/v1/").
    """

    def __init__(
        self,
        spec_path: Path,
        *,
        strip_prefix: str = "",
        aliases: dict[str, str] | None = None,
        lenient: bool = False,
    ) -> None:
        self.openapi = _load(str(spec_path), lenient)
        self.strip_prefix = strip_prefix
        self.aliases = aliases or {}
        self.covered: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def _aliased(self, request: httpx.Request) -> httpx.Request:
        path = request.url.path
        for old, new in self.aliases.items():
            path = path.replace(old, new)
        if path == request.url.path:
            return request
        return httpx.Request(
            request.method, request.url.copy_with(path=path), headers=request.headers, content=request.content
        )

    def validate(self, response: httpx.Response) -> None:
        """Raise AssertionError (with the spec's complaint) if the response breaks the document."""
        request = self._aliased(response.request)
        req, resp = _Req(request, self.strip_prefix), _Resp(response)
        try:
            self.openapi.validate_response(req, resp)
        except PathNotFound as exc:
            raise AssertionError(
                f"{request.method} {request.url.path}: not in the vendor spec ({exc})"
            ) from exc
        except Exception as exc:  # openapi-core raises a family of validation errors
            detail = "; ".join(str(e) for e in getattr(exc, "schema_errors", []) or []) or str(exc)
            if getattr(exc, "__cause__", None) is not None:
                cause = exc.__cause__
                detail += " | " + "; ".join(str(e.message) for e in getattr(cause, "schema_errors", []) or [])
            raise AssertionError(
                f"{request.method} {request.url.path} -> {response.status_code}: response breaks the vendor spec: "
                f"{detail}\nbody: {response.text[:500]}"
            ) from exc
        with self._lock:
            self.covered.add((request.method.upper(), self._template(req)))

    def _template(self, req: Any) -> str:
        from openapi_core.templating.paths.finders import APICallPathFinder

        try:
            found = APICallPathFinder(self.openapi.spec).find(req.method, "http://spec" + req.path)
            return str(found.path_result.pattern)
        except Exception:
            return req.path

    def spec_operations(self) -> set[tuple[str, str]]:
        ops = set()
        with self.openapi.spec.open() as raw:
            for path, item in (raw.get("paths") or {}).items():
                for method in item:
                    if method in {"get", "post", "put", "patch", "delete"}:
                        ops.add((method.upper(), path))
        return ops

"""A tiny service built on the kit, to test the kit without any real service."""

from __future__ import annotations

import random
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from simulators.kit import Simulator


class ToySimulator(Simulator):
    service = "toy"
    state_version = 3

    def build_state(self, preset: str, seed: int) -> None:
        rng = random.Random(seed)
        self.items: dict[str, dict[str, Any]] = {}
        if preset == "demo":
            for i in range(3):
                self.items[str(i)] = {"id": str(i), "value": rng.randint(0, 1000)}
        self.api_key = f"toy-key-{seed:04d}-secretvalue"

    def export_data(self) -> dict[str, Any]:
        return {"items": self.items, "api_key": self.api_key}

    def import_data(self, data: dict[str, Any]) -> None:
        self.items = dict(data["items"])
        self.api_key = data["api_key"]

    def error_response(
        self, status: int, message: str, *, code: str | None = None, details: Any = None
    ) -> Response:
        resp = jsonify({"toy_error": {"status": status, "code": code or "E", "message": message}})
        resp.status_code = status
        return resp

    def tenant_of(self, req: Any) -> str | None:
        return req.headers.get("X-Tenant")

    def credentials(self) -> dict[str, Any]:
        return {"api_key": self.api_key}

    def secret_values(self) -> list[str]:
        return [self.api_key]

    def register_routes(self, app: Flask) -> None:
        bp = Blueprint("toy", __name__, url_prefix="/api")
        sim = self

        @bp.get("/items")
        def list_items() -> Response:
            return jsonify(list(sim.items.values()))

        @bp.get("/items/<item_id>")
        def get_item(item_id: str) -> Response:
            if item_id not in sim.items:
                return sim.error_response(404, f"item {item_id} not found")
            return jsonify(sim.items[item_id])

        @bp.post("/items")
        def add_item() -> Response:
            data = request.get_json(silent=True)
            if not isinstance(data, dict) or "id" not in data:
                return sim.error_response(400, "expected an object with 'id'")
            sim.items[str(data["id"])] = data
            return jsonify(data), 201  # type: ignore[return-value]

        @bp.get("/boom")
        def boom() -> Response:
            raise RuntimeError(f"the key {sim.api_key} was rejected")  # a bug that logs a secret

        @bp.get("/now")
        def now() -> Response:
            return jsonify({"now": sim.clock.now().isoformat()})

        app.register_blueprint(bp)

    def register_actors(self, control: Blueprint) -> None:
        @control.post("/toy/poke")
        def poke() -> Response:
            return jsonify({"poked": True})

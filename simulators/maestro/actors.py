"""Actors on Maestro's control plane (module-level blueprint, mounted under ``/_sim`` by the kit;
every view runs under the simulator's lock):

* ``POST /_sim/companies`` ``{"name", "business_id", "api_key"?}`` -> 201 a new Maestro company
  with its own API key (e.g. to reproduce a customer's setup); the key is minted from the
  simulator's seeded ids unless given.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from simulators.kit import CONTROL_PREFIX, ControlError, current_backend, current_simulator, json_body, locked

from . import views
from .auth import company_for_key
from .backend import MaestroBackend
from .presets import make_api_key

bp = Blueprint("maestro_actors", __name__, url_prefix=CONTROL_PREFIX)


@bp.post("/companies")
@locked
def add_company() -> Response:
    """Add a Maestro company with its own API key (e.g. to reproduce a customer's setup).

    Body: {"name": str, "business_id": Y-tunnus, "api_key"?: str}
    """
    body = json_body(required=True)
    name, business_id = body.get("name"), body.get("business_id")
    if not isinstance(name, str) or not name.strip():
        raise ControlError("name: expected a non-empty string")
    if not isinstance(business_id, str) or not business_id.strip():
        raise ControlError("business_id: expected a Y-tunnus string")
    maestro = current_backend(MaestroBackend)
    company_id = maestro.next_company_id()
    key = body.get("api_key") or make_api_key(current_simulator().ids.random(f"api-key:{company_id}"))
    if not isinstance(key, str) or company_for_key(maestro.companies.values(), key) is not None:
        raise ControlError("api_key: expected a string not used by another company")
    backend = maestro.add_company(company_id, name.strip(), business_id.strip(), key)
    resp = jsonify({**views.company(backend.company), "api_key": key})
    resp.status_code = 201
    return resp

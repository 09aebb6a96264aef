"""In-process helpers for the Maventa unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from simulators.maventa import MaventaSimulator


@contextmanager
def session(sim: MaventaSimulator) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """An in-process client and the bearer header (scope ``eui``) of the demo's verified company."""
    c = sim.credentials()
    company = next(x for x in c["companies"] if x["company_state"] == "VERIFIED")
    with sim.client() as http:
        r = http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": company["id"],
                "client_secret": company["users"][0]["user_api_key"],
                "vendor_api_key": c["vendor_api_keys"][0],
                "scope": "eui",
            },
        )
        assert r.status_code == 200, r.text
        yield http, {"Authorization": "Bearer " + r.json()["access_token"]}

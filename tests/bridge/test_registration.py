"""MV-1 when Maventa creates the user but refuses the company: the new user's key is not lost.

The demo's "Hämäläinen ry Oy" (Y-tunnus 1916215-7) already has a Maventa company, so registering it
again creates the Maventa user and then gets `BID ALREADY TAKEN` for the company. Registering once
more must reuse the stored key (a second `POST /v1/users` would answer "user exists" without a key
and send the person down the MV-2 path for an account the bridge itself just made).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.connectors.maventa.integration import IntegrationError
from bridge.store import RegistrationState

from .world import World, world

UNIT = "Hämäläinen ry Oy"


@pytest.fixture
def w() -> Iterator[World]:
    with world() as built:
        yield built


def new_maventa_user(w: World) -> str:
    known = {u["email"] for u in w.maventa_sim.credentials()["users"]}
    return next(str(u["email"]) for u in w.severa.iter_users() if u.get("email") and u["email"] not in known)


def test_a_refused_company_keeps_the_new_users_key_and_registering_again_reuses_it(w: World) -> None:
    person = new_maventa_user(w)
    with pytest.raises(IntegrationError) as first:
        w.integration.register(UNIT, person)
    assert "BID ALREADY TAKEN" in str(first.value)
    assert "its API key is kept" in str(first.value)
    company = w.integration.company(UNIT)
    assert company.registration_state is RegistrationState.USER_CREATED
    assert company.maventa_api_key and company.maventa_company_uuid is None
    kept = company.maventa_api_key
    user_posts = len(w.maventa_sim.journal.entries(method="POST", path="/v1/users"))
    assert user_posts == 1

    with pytest.raises(IntegrationError) as second:  # still taken: the same clear refusal, no MV-2 text
        w.integration.register(UNIT, person)
    assert "BID ALREADY TAKEN" in str(second.value)
    assert len(w.maventa_sim.journal.entries(method="POST", path="/v1/users")) == 1  # no second user
    assert w.integration.company(UNIT).maventa_api_key == kept
    assert w.integration.company(UNIT).registration_state is RegistrationState.USER_CREATED

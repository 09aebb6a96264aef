"""Authentication: POST /v1/token, refresh, expiry, scopes, heartbeats (severa-api.md §1)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from .conftest import BASE, SeveraTarget, assert_envelope


def _token(severa: SeveraTarget, body: object) -> object:
    return severa.http.post(f"{BASE}/v1/token", json=body)


def test_token_response_has_severa_field_names(severa: SeveraTarget) -> None:
    c = severa.creds()
    r = severa.http.post(
        f"{BASE}/v1/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["access_token_type"] == "Bearer"
    assert body["access_token_expires_in"] == pytest.approx(3600, abs=5)
    assert body["refresh_token"] and body["access_token"] != body["refresh_token"]
    expires = datetime.fromisoformat(body["access_token_expires_utc"].replace("Z", "+00:00"))
    refresh_expires = datetime.fromisoformat(body["refresh_token_expires_utc"].replace("Z", "+00:00"))
    assert refresh_expires - expires > timedelta(0)
    if not severa.external:  # the simulator issues and answers at one instant: exactly one hour
        assert body["access_token_expires_in"] == 3600
        now = datetime.fromisoformat(severa.control("GET", "/clock").json()["now"].replace("Z", "+00:00"))
        assert timedelta(seconds=3598) <= expires - now <= timedelta(seconds=3600)
    assert "token_type" not in body and "expires_in" not in body


@pytest.mark.parametrize(
    "id_key,secret_key", [("client_Id", "client_Secret"), ("CLIENT_ID", "Client_Secret")]
)
def test_token_field_names_are_case_insensitive(severa: SeveraTarget, id_key: str, secret_key: str) -> None:
    c = severa.creds()
    r = severa.http.post(f"{BASE}/v1/token", json={id_key: c["client_id"], secret_key: c["client_secret"]})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "scope",
    [
        "invoices:read,settings:read",
        "invoices:read, settings:read",
        "invoices:read settings:read",
        " invoices:read\tsettings:read ",
    ],
)
def test_scopes_separated_by_commas_and_or_spaces(severa: SeveraTarget, scope: str) -> None:
    c = severa.creds()
    r = severa.http.post(
        f"{BASE}/v1/token",
        json={"client_id": c["client_id"], "client_secret": c["client_secret"], "scope": scope},
    )
    assert r.status_code == 200, r.text
    assert set(r.json()["scope"].replace(" ", "").split(",")) == {"invoices:read", "settings:read"}


def test_bad_secret_is_401_authentication_required(severa: SeveraTarget) -> None:
    c = severa.creds()
    r = severa.http.post(f"{BASE}/v1/token", json={"client_id": c["client_id"], "client_secret": "wrong"})
    assert_envelope(r, 401, "AuthenticationRequired")


@pytest.mark.parametrize(
    "body", [{}, {"client_id": "x"}, {"client_id": 5, "client_secret": "y"}, ["a"], "text"]
)
def test_token_body_shape_errors_are_400(severa: SeveraTarget, body: object) -> None:
    r = severa.http.post(f"{BASE}/v1/token", json=body)
    assert_envelope(r, 400)


def test_requested_scope_narrows_the_token(severa: SeveraTarget) -> None:
    h = severa.headers(scope="settings:read")
    r = severa.get("/v1/invoices", headers=h)
    assert_envelope(r, 403, "InsufficientApiScope")
    assert severa.get("/v1/invoicestatuses", headers=h).status_code == 200


def test_scope_not_granted_gives_partial_token_or_refusal(severa: SeveraTarget) -> None:
    severa.require_control()
    c = severa.creds("no customers:read / users:read")
    ok = severa.http.post(
        f"{BASE}/v1/token",
        json={
            "client_id": c["client_id"],
            "client_secret": c["client_secret"],
            "scope": "invoices:read customers:read",
        },
    )
    assert ok.status_code == 200
    assert ok.json()["scope"] == "invoices:read"
    refused = severa.http.post(
        f"{BASE}/v1/token",
        json={"client_id": c["client_id"], "client_secret": c["client_secret"], "scope": "users:read"},
    )
    assert_envelope(refused, 401, "AuthenticationRequired")


def test_unknown_scope_name_is_400(severa: SeveraTarget) -> None:
    c = severa.creds()
    r = severa.http.post(
        f"{BASE}/v1/token",
        json={"client_id": c["client_id"], "client_secret": c["client_secret"], "scope": "invoices:fly"},
    )
    assert_envelope(r, 400, "InvalidParameter")


def test_missing_and_bogus_bearer_are_401(severa: SeveraTarget) -> None:
    assert_envelope(severa.http.get(f"{BASE}/v1/invoices"), 401, "AuthenticationRequired")
    r = severa.http.get(f"{BASE}/v1/invoices", headers={"Authorization": "Bearer nope"})
    assert_envelope(r, 401, "AuthenticationRequired")
    r = severa.http.get(f"{BASE}/v1/invoices", headers={"Authorization": "Basic abc"})
    assert_envelope(r, 401, "AuthenticationRequired")


def test_missing_scope_is_403_for_maestro_limited_client(severa: SeveraTarget) -> None:
    severa.require_control()
    h = severa.headers("no customers:read / users:read")
    assert_envelope(severa.get("/v1/customers", headers=h), 403, "InsufficientApiScope")
    assert_envelope(severa.get("/v1/users", headers=h), 403, "InsufficientApiScope")
    assert severa.get("/v1/invoices", headers=h, params={"rowCount": 1}).status_code == 200


def test_heartbeats(severa: SeveraTarget) -> None:
    r = severa.http.get(f"{BASE}/heartbeat/server")
    assert r.status_code == 200 and r.text == "Server is alive."
    assert r.headers["content-type"].startswith("text/plain")
    assert severa.http.get(f"{BASE}/heartbeat/authorized", headers=severa.headers()).status_code == 204
    assert_envelope(severa.http.get(f"{BASE}/heartbeat/authorized"), 401, "AuthenticationRequired")


def test_version_alias_v1_0_answers_like_v1(severa: SeveraTarget) -> None:
    h = severa.headers()
    a = severa.http.get(f"{BASE}/v1/invoicestatuses", headers=h)
    b = severa.http.get(f"{BASE}/v1.0/invoicestatuses", headers=h)
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    c = severa.creds()
    t = severa.http.post(
        f"{BASE}/v1.0/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]}
    )
    assert t.status_code == 200


def test_token_expires_after_3600_simulated_seconds_and_refresh_works(severa: SeveraTarget) -> None:
    severa.require_control()
    c = severa.creds()
    first = severa.http.post(
        f"{BASE}/v1/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]}
    ).json()
    h = {"Authorization": f"Bearer {first['access_token']}"}
    assert severa.http.get(f"{BASE}/heartbeat/authorized", headers=h).status_code == 204
    assert severa.control("POST", "/clock", json={"advance": 3601}).status_code == 200
    assert_envelope(severa.http.get(f"{BASE}/v1/invoicestatuses", headers=h), 401, "AuthenticationRequired")
    r = severa.http.post(f"{BASE}/v1/refreshtoken", json=first["refresh_token"])
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["access_token"] != first["access_token"]
    assert new["scope"] == first["scope"]
    h2 = {"Authorization": f"Bearer {new['access_token']}"}
    assert severa.http.get(f"{BASE}/v1/invoicestatuses", headers=h2).status_code == 200
    # a refresh token works once
    assert_envelope(severa.http.post(f"{BASE}/v1/refreshtoken", json=first["refresh_token"]), 401)
    severa._tokens.clear()


@pytest.mark.parametrize("body", [{"refresh_token": "x"}, 12, None])
def test_refresh_body_must_be_a_json_string(severa: SeveraTarget, body: object) -> None:
    r = severa.http.post(f"{BASE}/v1/refreshtoken", json=body)
    assert_envelope(r, 400)


def test_unknown_refresh_token_is_401(severa: SeveraTarget) -> None:
    assert_envelope(
        severa.http.post(f"{BASE}/v1/refreshtoken", json="not-a-token"), 401, "AuthenticationRequired"
    )


def test_strict_client_id_mode_requires_matching_header(sim_mode: str, parity: object) -> None:
    if sim_mode == "external":
        pytest.skip("a simulator option")
    from simulators.severa import SeveraSimulator

    sim = SeveraSimulator(strict_client_id=True)
    c = sim.client_credentials()
    with sim.client() as http:
        tok = http.post(
            f"{BASE}/v1/token", json={"client_id": c["client_id"], "client_secret": c["client_secret"]}
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {tok}"}
        assert_envelope(http.get(f"{BASE}/v1/invoicestatuses", headers=bearer), 401, "AuthenticationRequired")
        ok = http.get(f"{BASE}/v1/invoicestatuses", headers={**bearer, "client_Id": c["client_id"]})
        assert ok.status_code == 200

"""The pytest plugin as another project would use it (pytester runs a separate test session)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_fixtures_give_fresh_simulators_and_journal_assertions(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_severa(severa_sim, severa_http, journal):
            creds = severa_sim.credentials()["clients"][0]
            r = severa_http.post("/v1/token", json={"client_id": creds["client_id"],
                                                     "client_secret": creds["client_secret"]})
            assert r.status_code == 200
            journal.assert_called(severa_sim, "POST", "/v1/token", count=1)
            with pytest.raises(AssertionError, match="closest requests"):
                journal.assert_called(severa_sim, "GET", "/v1/invoices")

        def test_maestro_and_factory(maestro_sim, maestro_http, sim_factory, sim_server):
            assert maestro_http.get("/v1/products").status_code == 401
            other = sim_factory("severa", seed=3)
            server = sim_server(other)
            assert server.url.startswith("http://127.0.0.1:")

        @pytest.mark.sim_seed(5)
        def test_seed_marker(maventa_sim):
            assert maventa_sim.seed == 5
        """
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)

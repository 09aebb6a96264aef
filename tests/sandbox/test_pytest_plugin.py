"""The pytest plugin as another project uses it (pytester runs a separate session in an empty dir,
with no conftest and no ini of this repository: only what `pip install severa-sandbox` gives)."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

PLUGIN_FIXTURES = (
    "severa_sim",
    "maventa_sim",
    "maestro_sim",
    "severa_url",
    "maventa_url",
    "maestro_url",
    "severa_http",
    "maventa_http",
    "maestro_http",
    "mailbox",
    "sandbox_world",
    "bridge",
    "journal",
    "sim_factory",
    "sim_server",
    "sim_transport",
    "run_scenario",
)

A_SCENARIO = """\
id: my-activation-check
title: "Aktivointi ei onnistu, kun siirrettävä tila on merkitty lähetetyksi"
covers: [MV-14]
tags: [support]
given:
  maestro: false
  setup:
    - register: {unit: Ranta Oy}
    - auth_request: {unit: Ranta Oy, approver: hyvaksyja@ranta.fi}
    - approver_signs: Ranta Oy
    - refresh: Ranta Oy
    - save_settings: {unit: Ranta Oy, email: true, notify: virheet@ranta.fi}
when:
  - set_status_flags: {status: Odottaa siirtoa Maventaan, sent: true}
  - activate: Ranta Oy
    fails_with: "Status of invoices to be transferred can not be sent"
then:
  - company: {unit: Ranta Oy, active: %s}
"""


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
            with pytest.raises(AssertionError, match="closest of the 1 request"):
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


def test_pytest_fixtures_shows_a_docstring_for_every_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_inprocess("--fixtures", "-p", "no:cacheprovider")
    text = result.stdout.str()
    section = text[text.index("fixtures defined from sandbox.pytest_plugin") :]
    for name in PLUGIN_FIXTURES:
        match = re.search(rf"^{name}( -- .*)?\n(.*)$", section, re.MULTILINE)
        assert match, f"{name} is not listed"
        assert "no docstring available" not in match.group(2), name
        assert match.group(2).strip(), name


@pytest.mark.parametrize("how", ["option", "ini", "env"])
def test_sim_mode_server_from_the_option_the_ini_or_the_environment(
    pytester: pytest.Pytester, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        def test_over_a_socket(severa_http, severa_url, sim_transport, journal, severa_sim):
            assert sim_transport == "server"
            assert str(severa_http.base_url).startswith("http://127.0.0.1:")
            assert str(severa_http.base_url).rstrip("/") == severa_url
            assert severa_http.get("/heartbeat/server").text == "Server is alive."
            journal.assert_called(severa_sim, "GET", "/heartbeat/server", count=1)
        """
    )
    args = ["-q", "-p", "no:cacheprovider"]
    if how == "option":
        args.append("--sim-mode=server")
    elif how == "ini":
        pytester.makeini("[pytest]\nsim_mode = server\n")
    else:
        monkeypatch.setenv("SEVERA_SANDBOX_SIM_MODE", "server")
    pytester.runpytest_inprocess(*args).assert_outcomes(passed=1)


def test_sim_mode_all_runs_each_test_once_per_transport_and_a_typo_stops_the_session(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        def test_token(severa_sim, severa_http, sim_transport):
            creds = severa_sim.credentials()["clients"][0]
            r = severa_http.post("/v1/token", json={"client_id": creds["client_id"],
                                                     "client_secret": creds["client_secret"]})
            assert r.status_code == 200

        def test_without_fakes():
            pass
        """
    )
    result = pytester.runpytest_inprocess("-v", "-p", "no:cacheprovider", "--sim-mode=all")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_token?inprocess? PASSED*", "*test_token?server? PASSED*"])
    bad = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--sim-mode=sever")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "--sim-mode 'sever': unknown mode(s) sever; choose from inprocess, server, external"
        in bad.stderr.str()
    )


def test_mailbox_and_the_bridge_wired_to_the_fakes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import smtplib
        from email.message import EmailMessage

        from scenarios.world import setup_company


        def test_mailbox_catches_what_is_sent(mailbox):
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "a@example.fi", "b@example.fi", "Hei"
            msg.set_content("moi")
            with smtplib.SMTP("127.0.0.1", mailbox.smtp_port) as smtp:
                smtp.send_message(msg)
            [got] = mailbox.find(to="b@example.fi")
            assert got.subject == "Hei" and got.text.strip() == "moi"


        def test_the_bridge_sends_through_the_fakes(bridge, sandbox_world, severa_sim, maventa_sim, journal):
            assert severa_sim is sandbox_world.severa_sim  # one world per test
            setup_company(sandbox_world)  # register, the approver signs, settings, activate
            report = bridge.engine.run_once()
            assert report.sent >= 3 and report.by_connector["maestro"].sent == 2
            journal.assert_called(maventa_sim, "POST", "/v1/invoices")
            journal.assert_called(severa_sim, "PATCH", "/v1/invoices/*")
        """
    )
    pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_journal_failures_show_method_path_query_status_and_a_body_diff(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_wrong_body(maestro_sim, maestro_http, journal):
            key = maestro_sim.credentials()["companies"][0]["api_key"]
            maestro_http.put("/v1/products/KAHVI?dry=1", headers={"X-Maestro-Api-Key": key},
                             json={"name": "Kahvi", "unit": "kpl", "vat_rate": 14.0, "active": True})
            journal.assert_called(maestro_sim, "PUT", "/api/v1/products/KAHVI",
                                  query={"dry": "0"}, json={"name": "Kahvi", "vat_rate": 25.5})
        """
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    for expected in (
        'expected PUT /api/v1/products/KAHVI?dry=0 with JSON {"name": "Kahvi", "vat_rate": 25.5} at least '
        "once; the maestro simulator saw it 0 time(s)",
        "closest of the 1 request(s) in the journal:",
        "#1 PUT /api/v1/products/KAHVI?dry=1 -> ",
        "- query dry: 1 (expected 0)",
        "- body vat_rate: 14.0 (expected 25.5)",
        "--- expected body",
        "+++ actual body",
        '-  "vat_rate": 25.5',
        '+  "vat_rate": 14.0',
    ):
        assert expected in text, expected


def test_run_scenario_runs_a_yaml_file_of_the_project_and_fails_with_the_diff(pytester: pytest.Pytester) -> None:
    pytester.mkdir("stories")
    (pytester.path / "stories" / "refused.yaml").write_text(A_SCENARIO % "false", encoding="utf-8")
    (pytester.path / "stories" / "wrong.yaml").write_text(A_SCENARIO % "true", encoding="utf-8")
    (pytester.path / "stories" / "typo.yaml").write_text(
        A_SCENARIO.replace("activate: Ranta Oy", "activat: Ranta Oy") % "false", encoding="utf-8"
    )
    pytester.makepyfile(
        """
        def test_the_customer_case(run_scenario):
            result = run_scenario("stories/refused.yaml")
            assert result.passed and result.timeline.events

        def test_a_wrong_expectation(run_scenario):
            run_scenario("stories/wrong.yaml")

        def test_a_typo(run_scenario):
            run_scenario("stories/typo.yaml")

        def test_a_missing_file(run_scenario):
            run_scenario("stories/nothing.yaml")
        """
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    assert "active" in out and "expected" in out  # the expectation's diff
    assert re.search(r"typo\.yaml:\d+:\d+", out) and "did you mean" in out.lower()
    assert "no scenario file 'stories/nothing.yaml'" in out
    assert "Traceback" not in out and "engine.py" not in out


def test_the_sandbox_scenarios_ini_option_collects_the_project_scenarios(pytester: pytest.Pytester) -> None:
    pytester.mkdir("stories")
    (pytester.path / "stories" / "refused.yaml").write_text(A_SCENARIO % "false", encoding="utf-8")
    (pytester.path / "other.yaml").write_text("not: a scenario\n", encoding="utf-8")
    pytester.makeini("[pytest]\nsandbox_scenarios = stories\n")
    result = pytester.runpytest_inprocess("-v", "-p", "no:cacheprovider", "-m", "support")
    result.assert_outcomes(passed=1)
    assert "stories/refused.yaml::my-activation-check PASSED" in result.stdout.str()

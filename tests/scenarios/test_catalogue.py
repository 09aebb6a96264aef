"""The catalogue as a whole: every behaviour of SPEC §2 covered, the README's table in sync, the
demo story complete; the scenario CLI; reproduction bundles that hold no secret and replay."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from sandbox.cli import main
from sandbox.demo import STORY
from sandbox.scenario_cli import find_scenario
from scenarios.behaviours import BEHAVIOURS, README, behaviour_table, catalogue_scenarios, rendered_readme
from scenarios.bundle import _forms, export_bundle, replay_bundle, world_secrets
from scenarios.engine import run_scenario


def test_every_behaviour_of_spec_section_2_has_a_scenario() -> None:
    covered = {b for s in catalogue_scenarios() for b in s.covers}
    assert [b for b in BEHAVIOURS if b not in covered] == []


def test_the_readme_behaviour_table_is_generated_from_the_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    assert rendered_readme(text, behaviour_table(catalogue_scenarios())) == text, (
        "README.md's behaviour table is out of date: run `.venv/bin/python -m scenarios.behaviours`"
    )


def test_the_demo_story_tells_every_demo_scenario() -> None:
    demo = {s.id for s in catalogue_scenarios() if "demo" in s.tags}
    assert set(STORY) == demo


@pytest.mark.parametrize("behaviour", list(BEHAVIOURS))
def test_scenario_list_covers_finds_each_behaviour(
    behaviour: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "list", "--covers", behaviour, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed and all(behaviour in s["covers"] for s in listed)


def test_scenario_list_shows_whole_ids_on_a_narrow_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    assert main(["scenario", "list", "--tag", "support"]) == 0
    out = capsys.readouterr().out
    support = [s.id for s in catalogue_scenarios() if "support" in s.tags]
    assert support and all(any(line.startswith(i + " ") for line in out.splitlines()) for i in support)


def test_scenario_run_prints_the_timeline_with_the_customers_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenario", "run", "mv14-activation-refused-sent-flag"]) == 0
    out = capsys.readouterr().out
    assert "✖ Status of invoices to be transferred can not be sent" in out
    assert "passed in" in out
    assert main(["scenario", "run", "mv14-activation-refused-sent-flag", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outcome"] == "passed" and any(e["kind"] == "http" for e in doc["timeline"])


def test_scenario_run_of_a_broken_file_lists_every_mistake_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x1\ntitle: t\nwhen:\n  - synk: 1\nthen:\n  - invoice_stat: {}\n", encoding="utf-8")
    assert main(["scenario", "run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "2 mistake(s)" in err
    assert f"{path}:4:5: unknown step 'synk'; did you mean 'sync'?" in err
    assert "Traceback" not in err


def test_an_unknown_scenario_id_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "show", "mv14-activation-refused"]) == 2
    assert "did you mean mv14-activation-refused-sent-flag" in capsys.readouterr().err


def test_a_bundle_holds_no_secret_of_the_world_in_any_encoding(tmp_path: Path) -> None:
    scenario = find_scenario("err-maventa-5xx-during-sending")
    result = run_scenario(scenario, keep_world=True, snapshots=True)
    assert result.world is not None
    secrets = world_secrets(result.world)
    assert len(secrets) >= 8  # client secrets, vendor and user API keys, tokens, the Maestro key
    path = export_bundle(result, tmp_path / "bundle.json")
    result.world.close()
    text = path.read_text(encoding="utf-8")
    for secret in secrets:
        for form in [*_forms(secret), quote(secret, safe="")]:
            assert form not in text, f"a secret ({secret[:4]}…) is in the bundle"
    doc = json.loads(text)
    assert doc["format"] == "severa-sandbox-bundle" and doc["version"] == 1
    assert doc["redaction"]["placeholders"] == len(secrets)
    # the same secret has the same placeholder everywhere (correlations survive)
    assert len(set(re.findall(r"«secret-\d+»", text))) == len(secrets)
    assert [s["index"] for s in doc["steps"]] == [0, 1]  # the starting point and the step
    assert set(doc["journal"]) == {"severa", "maventa", "maestro"}


def test_replaying_a_bundle_gives_the_same_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b.json"
    assert main(["scenario", "export", "err-retries-exhausted-maventa-503", "--out", str(out)]) == 0
    capsys.readouterr()
    replay = replay_bundle(out)
    assert replay.same_verdicts and replay.differences == []
    assert replay.first_divergent_step is None  # same seed, same world: every step's state identical
    assert main(["scenario", "replay", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["same_verdicts"] is True and doc["outcome"] == "passed"


def test_a_tampered_bundle_names_the_first_step_that_diverges(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    result = run_scenario(
        find_scenario("mv13-nothing-moves-until-activated"), keep_world=True, snapshots=True
    )
    export_bundle(result, out)
    assert result.world is not None
    result.world.close()
    doc = json.loads(out.read_text(encoding="utf-8"))
    doc["steps"][3]["state"]["bridge"]["ledger"] = []  # as if the customer's machine had sent nothing
    doc["verdicts"][0]["ok"] = False
    out.write_text(json.dumps(doc), encoding="utf-8")
    replay = replay_bundle(out)
    assert not replay.same_verdicts
    assert replay.first_divergent_step == 3

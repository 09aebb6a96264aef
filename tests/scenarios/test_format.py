"""Scenario files: a broken file gets one message per mistake (file:line:column, the expected form,
"did you mean"), never a traceback; the vocabulary page is generated from the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.loader import ScenarioError
from scenarios.model import parse_scenario
from scenarios.reference import PAGE
from scenarios.vocabulary import reference

GOOD = """\
id: good-one
title: "Lasku lähti"
covers: [MV-10]
tags: [ci]
when:
  - setup_company: Ranta Oy
  - sync: 2
then:
  - invoice_status: {invoice: 10001, is: Siirretty Maventaan}
"""


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(path)
    return [str(p).replace(str(path), "broken.yaml") for p in caught.value.problems]


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    s = parse_scenario(path)
    assert (s.id, s.covers, [a.name for a in s.when], s.when[1].args) == (
        "good-one",
        ["MV-10"],
        ["setup_company", "sync"],
        {"passes": 2},
    )
    assert s.when[1].line == 7 and s.when[1].source == "- sync: 2"


def test_every_mistake_is_reported_at_once_with_line_column_and_the_expected_form(tmp_path: Path) -> None:
    text = """\
id: broken one
titel: "typo in a top key"
covers: [MV-99]
tags: [ci, nightly]
given:
  seed: "zero"
  mailbx: true
when:
  - sync: {passes: many}
  - acivate: Ranta Oy
  - move_invoice: {invoice: 10001}
  - create_invoice: {rows: [{product: KONS, quantity: lots}], colour: blue}
then:
  - invoice_status: {invoice: 10001, iss: Siirretty}
"""
    assert problems(text, tmp_path) == [
        "broken.yaml:2:1: unknown key 'titel'; did you mean 'title'?",
        "broken.yaml:1:1: the scenario has no 'title'",
        "broken.yaml:1:5: id: 'broken one' must be letters, digits, '.', '_' or '-' (2-81 characters)",
        "broken.yaml:3:10: covers: 'MV-99' is not a behaviour ID of SPEC §2 (MV-1..MV-14, MA-1..MA-8, X-1..X-5)",
        "broken.yaml:4:12: tags: 'nightly' is not ci, demo, support, slow, server",
        "broken.yaml:6:9: seed: expected a whole number, got str 'zero'",
        "broken.yaml:7:3: given: unknown key 'mailbx'; did you mean 'mailbox'?",
        "broken.yaml:9:20: passes: expected a whole number, got str 'many'",
        "broken.yaml:10:5: unknown step 'acivate'; did you mean 'activate'?",
        "broken.yaml:11:5: move_invoice: to is required (text)",
        "broken.yaml:12:55: quantity: expected a number, got str 'lots'",
        "broken.yaml:12:63: create_invoice: unknown parameter 'colour'; known: count, customer, rows, status, unit",
        "broken.yaml:14:38: invoice_status: unknown parameter 'iss'; did you mean 'is'?",
        "broken.yaml:14:5: invoice_status: is is required (text)",
    ]


def test_bad_indentation_is_one_message_with_its_place(tmp_path: Path) -> None:
    text = "id: x1\ntitle: t\nwhen:\n  - sync: 1\n    passes: 2\n then: []\n"
    [message] = problems(text, tmp_path)
    assert message.startswith("broken.yaml:")
    assert "not valid YAML" in message and "check the indentation" in message


def test_wrong_types_and_shapes(tmp_path: Path) -> None:
    text = "id: x1\ntitle: t\nwhen: {sync: 1}\nthen:\n  - 42\n"
    assert problems(text, tmp_path) == [
        "broken.yaml:3:7: when must be a list of items ('- ...'), got a mapping",
        "broken.yaml:5:5: a expectation is a name or a mapping like '- name: {...}', got int 42",
    ]


def test_a_bad_fault_rule_is_caught_when_the_file_is_loaded(tmp_path: Path) -> None:
    text = GOOD.replace(
        "when:",
        "given:\n  faults:\n    - service: maventa\n      match: {path: /v1/invoices}\n"
        "      effect: {type: status, status: 503}\n      trigger: {type: sometimes}\nwhen:",
    )
    [message] = problems(text, tmp_path)
    assert message.startswith("broken.yaml:7:7: fault: ") and "sometimes" in message


def test_the_reference_page_is_up_to_date() -> None:
    assert PAGE.read_text(encoding="utf-8") == reference(), (
        "scenarios/REFERENCE.md is stale: run `.venv/bin/python -m scenarios.reference`"
    )

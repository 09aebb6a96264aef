"""The contract suite's third mode, `--sim-mode=external`, run for real against a served fake.

A real tenant is never reset between tests, so the suite must leave it as it found it (drafts
back in their status, test statuses deleted) and must pass twice in a row on the same tenant.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulators.severa import SeveraSimulator

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_severa_contract_suite_passes_twice_against_an_external_base_url() -> None:
    sim = SeveraSimulator(seed=0)
    server = sim.serve()
    try:
        creds = sim.client_credentials()
        env = {
            **os.environ,
            "SEVERA_BASE_URL": f"{server.url}/rest-api",
            "SEVERA_CLIENT_ID": creds["client_id"],
            "SEVERA_CLIENT_SECRET": creds["client_secret"],
            "SEVERA_ALLOW_WRITES": "1",
        }
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0"]
        command += ["--sim-mode=external", "-m", "not slow", "contract_tests/severa"]
        before = sim.export_state()["data"]["state"]["organizations"]
        for run in (1, 2):
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
            assert done.returncode == 0, f"run {run}: {summary}\n{done.stdout[-3000:]}"
            assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
        after = sim.export_state()["data"]["state"]["organizations"]
        main = sim.refs["main"]
        statuses = {g: s["name"] for g, s in after[main]["invoice_statuses"].items()}
        assert statuses == {g: s["name"] for g, s in before[main]["invoice_statuses"].items()}
        moved = [
            g
            for g, inv in after[main]["invoices"].items()
            if inv["status_guid"] != before[main]["invoices"][g]["status_guid"]
        ]
        assert moved == []  # every draft the suite touched is back in its status
    finally:
        server.stop()

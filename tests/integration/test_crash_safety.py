"""Kill the process at random points of a ~200-task workflow; it must end as if never killed.

The workflow has a 150-task chain, with-items (concurrency 5), retries with delays,
wait-before/wait-after timers, a timeout, a 12-way join and a sub-workflow. A worker
process runs it on a database; the test kills it with SIGKILL 20 times at random
points of its progress, restarting it each time on the same database, then lets it
finish, and compares the final state, output and tasks with an uninterrupted run. The journal
action writes one line per run: only runs that were in flight at a kill may appear
twice (they are safe-rerun), so duplicates are bounded by kills x concurrency.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.paths import ROOT

EXECUTION_ID = "0c0ffee0-0000-4000-8000-000000000001"
KILLS = 20


def _worker(db_url: str, journal: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.crash.worker",
            db_url,
            EXECUTION_ID,
            str(journal),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def _summary(report: dict[str, Any]) -> tuple[Any, ...]:
    tasks = Counter(
        (t["name"], t["state"], json.dumps(t["published"], sort_keys=True)) for t in report["tasks"]
    )
    return report["state"], report["state_info"], report["output"], tasks


def _progress(journal: Path) -> int:
    """How many distinct action runs the journal holds."""
    return len(set(journal.read_text().split())) if journal.exists() else 0


def _run_with_kills(
    db_url: str, journal: Path, rng: random.Random, total: int
) -> tuple[dict[str, Any], int]:
    """Kills a worker KILLS times, each at a random point of the run: once the journal
    reaches a randomly drawn number of distinct runs (out of ``total``), after a further
    random few milliseconds, so kills land anywhere: in an action, a commit, a timer."""
    targets = sorted(rng.sample(range(1, total - 1), KILLS))
    kills = 0
    for target in targets:
        process = _worker(db_url, journal)
        deadline = time.monotonic() + 120
        while _progress(journal) < target and process.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.03))
        if process.poll() is not None:
            process.communicate()
            break  # finished before this kill: nothing left to interrupt
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        kills += 1
    return _finish(_worker(db_url, journal)), kills


@pytest.mark.slow
def test_killed_runs_end_like_an_uninterrupted_run(
    db_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("MELTEMI_CRASH_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    reference_journal = tmp_path / "reference.journal"
    reference = _finish(_worker(f"sqlite:///{tmp_path / 'reference.db'}", reference_journal))
    assert reference["state"] == "SUCCESS", reference["state_info"]

    journal = tmp_path / "killed.journal"
    total = _progress(reference_journal)
    killed, kills = _run_with_kills(db_url, journal, rng, total)
    assert kills == KILLS, f"seed {seed}: the workflow ended after {kills} kills"

    assert _summary(killed) == _summary(reference), f"seed {seed}"
    runs = journal.read_text().split()
    duplicates = sum(n - 1 for n in Counter(runs).values())
    assert len(set(runs)) == total, f"seed {seed}"
    assert duplicates <= KILLS * 6, f"seed {seed}: {duplicates} re-runs"

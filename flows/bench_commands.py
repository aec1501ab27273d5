"""``ennakko bench --commands``: how long the commands people type take to answer.

The non-flow commands (validate, reviews import and report, privacy report, retention,
erase, audit verify) are what an operator or a data-protection officer runs by hand; the
target is an answer within two seconds on the demo. Each runs as its own process, as a
person would start it, on a private copy of the demo workspace (erase and the review
import change it), and is timed from start to exit with its peak resident memory taken
from the kernel (``wait4``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from features.errors import SourceError


@dataclass
class CommandTime:
    command: str
    seconds: float
    peak_rss_mb: float
    exit_code: int


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode


def bench_commands(
    demo_workspace: Path, config: Path, root: Path, report: Callable[[CommandTime], None]
) -> list[CommandTime]:
    """Time every non-flow command on a copy of ``demo_workspace`` (made by `make demo`)."""
    if not (demo_workspace / "lists").exists():
        raise SourceError(
            str(demo_workspace),
            "there is no demo workspace to time the commands on.",
            hint="Run `make demo` first.",
        )
    workspace = root / "commands" / "workspace"
    shutil.rmtree(workspace, ignore_errors=True)
    shutil.copytree(demo_workspace, workspace, symlinks=True)
    lists = sorted((workspace / "lists").glob("*/*.csv"))
    returned = root / "commands" / "returned.csv"
    rows = pl.read_csv(lists[0], infer_schema=False)
    rows.with_columns(
        decision=pl.lit("contacted"), counsellor=pl.lit("bench"), comment=pl.lit("")
    ).write_csv(returned)
    person = pl.read_csv(lists[-1], infer_schema=False)["person_id"][0]
    env = {**os.environ, "ENNAKKO_WORKSPACE": str(workspace.resolve())}
    ennakko = [sys.executable, "-m", "flows.cli"]
    out = root / "commands"
    commands = {
        "validate": ["validate"],
        "audit verify": ["audit", "verify"],
        "reviews import": ["reviews", "import", str(returned)],
        "reviews report": ["reviews", "report", "--out", str(out / "reviews.md")],
        "privacy report": ["privacy", "report", "--out", str(out / "privacy.md")],
        "retention": ["retention"],
        "erase": ["erase", "--person-id", person],
    }
    results = []
    for label, args in commands.items():
        seconds, peak, code = _timed([*ennakko, *args, "--config", str(config)], env)
        results.append(CommandTime(label, seconds, peak, code))
        report(results[-1])
    return results

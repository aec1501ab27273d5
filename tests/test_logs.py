"""The application log: every line names its flow and task, the file rotates, JSON is one
setting away, and retention removes old rotated files."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from flows.logs import LogSpec, attach_file_log, command_logger, set_command
from flows.retention import apply_retention, touch
from flows.workspace import Workspace

DAYS = {"lists": 90, "features": 30, "scores": 30, "quarantine": 30, "extracts": 30,
        "snapshots": 400, "reviews": 730}  # fmt: skip


@pytest.fixture
def detached():
    """Remove this test's file handlers afterwards (they sit on process-wide loggers)."""
    handlers: list[logging.Handler] = []
    yield handlers
    for handler in handlers:
        for name in ("prefect.flow_runs", "prefect.task_runs", "ennakko"):
            logging.getLogger(name).removeHandler(handler)
        handler.close()


def test_a_line_outside_prefect_names_the_command(tmp_path: Path, detached) -> None:
    path = tmp_path / "logs" / "ennakko.log"
    detached.append(attach_file_log(path, LogSpec(), "Europe/Helsinki"))
    set_command("reviews import")
    try:
        command_logger().info("imported %d decisions", 3)
    finally:
        set_command("ennakko")
    line = path.read_text().strip()
    assert "flow=reviews import task=-: imported 3 decisions" in line
    assert line[19:25] in ("+02:00", "+03:00")  # the city's offset, not the machine's


def test_every_line_of_a_flow_run_names_the_flow_and_the_task(
    prefect_harness, tmp_path: Path, detached
) -> None:
    from prefect import flow, get_run_logger

    from flows.steps import as_task

    path = tmp_path / "logs" / "ennakko.log"

    def stage() -> int:
        logging.getLogger("ennakko").info("stage body")
        return 1

    @flow(name="ennakko-logtest")
    def tiny() -> int:
        detached.append(attach_file_log(path, LogSpec(format="json"), "UTC"))
        get_run_logger().info("flow body")
        return as_task("validate sources", stage)

    assert tiny() == 1
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert entries and all(e["flow"].startswith("ennakko-logtest/") for e in entries)
    by_message = {e["message"]: e for e in entries}
    assert by_message["flow body"]["task"] == "-"
    assert by_message["stage body"]["task"].startswith("validate sources")
    finished = [e["task"] for e in entries if e["message"].startswith("Finished in state")]
    assert finished[0].startswith("validate sources") and finished[-1] == "-"  # task, flow


def test_the_file_rotates_and_keeps_the_configured_backups(tmp_path: Path, detached) -> None:
    path = tmp_path / "logs" / "ennakko.log"
    detached.append(attach_file_log(path, LogSpec(max_bytes=1024, backups=2), "UTC"))
    for i in range(200):
        command_logger().info("line %d of a long night", i)
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["ennakko.log", "ennakko.log.1", "ennakko.log.2"]
    assert all(p.stat().st_size <= 1024 for p in path.parent.iterdir())


def test_attaching_again_keeps_one_handler_and_new_settings_replace_it(
    tmp_path: Path, detached
) -> None:
    path = tmp_path / "logs" / "ennakko.log"
    first = attach_file_log(path, LogSpec(), "UTC")
    assert attach_file_log(path, LogSpec(), "UTC") is first
    second = attach_file_log(path, LogSpec(format="json"), "UTC")
    detached.append(second)
    handlers = [h for h in logging.getLogger("ennakko").handlers if h in (first, second)]
    assert handlers == [second]
    command_logger().info("as json")
    assert json.loads(path.read_text().splitlines()[-1])["message"] == "as json"


def test_json_lines_parse_with_time_level_flow_task_and_message(tmp_path: Path, detached) -> None:
    path = tmp_path / "logs" / "ennakko.log"
    detached.append(attach_file_log(path, LogSpec(format="json"), "UTC"))
    command_logger().warning('a "quoted" message')
    entry = json.loads(path.read_text().splitlines()[-1])
    assert set(entry) == {"time", "level", "flow", "task", "logger", "message"}
    assert entry["level"] == "WARNING" and entry["message"] == 'a "quoted" message'
    assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)


def test_retention_removes_old_rotated_logs_but_never_the_file_being_written(
    tmp_path: Path,
) -> None:
    ws = Workspace(tmp_path / "ws").ensure()
    logs = ws.path("logs")
    logs.mkdir(exist_ok=True)
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    for name, age in (("ennakko.log", 200), ("ennakko.log.1", 5), ("ennakko.log.2", 45),
                      ("notes.txt", 200)):  # fmt: skip
        (logs / name).write_text("x\n")
        touch(logs / name, (now - timedelta(days=age)).date())
    report = apply_retention(ws, DAYS, now)
    assert report.deleted["logs"] == ["logs/ennakko.log.2"]
    assert report.kept_days["logs"] == 30
    assert sorted(p.name for p in logs.iterdir()) == ["ennakko.log", "ennakko.log.1", "notes.txt"]
    report = apply_retention(ws, {**DAYS, "logs": 3}, now)
    assert report.deleted["logs"] == ["logs/ennakko.log.1"]


def test_retention_ages_files_the_same_whatever_the_machines_time_zone(tmp_path: Path) -> None:
    """A file touched 30 days and an hour back is expired after 30 days, in UTC+14 as in
    UTC-12: neither touch nor retention reads the machine's time zone."""
    before = os.environ.get("TZ")
    try:
        for zone in ("Etc/GMT-14", "Etc/GMT+12"):
            os.environ["TZ"] = zone
            time.tzset()
            ws = Workspace(tmp_path / zone.replace("/", "_")).ensure()
            path = ws.path("scores", "old.parquet")
            path.write_text("x")
            touch(path, date(2026, 5, 1))
            now = datetime(2026, 5, 31, 1, 0, tzinfo=UTC)
            assert apply_retention(ws, DAYS, now).deleted["scores"] == ["scores/old.parquet"]
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()

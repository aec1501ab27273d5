"""Promises that hold under faults and on the production path (issue 11): a night is one
transaction, one command at a time changes a workspace, and an erasure cannot be undone.

Each test works on a private copy of the session's published workspace and runs the real
stages (:func:`flows.nightly.night`, the same list the Prefect flow runs as tasks) and the
real CLI; faults are real ones (a torn audit line, an artifact store that cannot be
written, a second process holding the lock, an erasure cut off half way).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flows import audit
from flows.cli import app
from tests.conftest import AS_OF, ROOT
from tests.test_privacy import audit_log, copy_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]


def run_night(config: Path) -> dict:
    """One nightly run through the flow's own stages, called directly (no Prefect API)."""
    from flows.context import exclusive, start
    from flows.nightly import night

    ctx = start(str(config), None, "nightly")
    with exclusive(ctx):
        return night(ctx)


def cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def listed(workspace: Path) -> pl.DataFrame:
    folder = workspace / "lists" / AS_OF
    return pl.concat([pl.read_parquet(p) for p in sorted(folder.glob("*.parquet"))])


def snapshot(workspace: Path) -> dict[str, str]:
    """What a failed run must leave as it was: the published lists (where the link points
    and every byte), the scores, the hold-out draws and the audit log."""
    out = {"link": os.readlink(workspace / "lists" / AS_OF)}
    paths = [*sorted((workspace / "lists" / AS_OF).iterdir()), audit.log_path(workspace)]
    paths += sorted((workspace / "scores").glob("*"))
    for path in paths:
        out[str(path.relative_to(workspace))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def leftovers(workspace: Path) -> list[str]:
    """Staged files a failed run must not leave behind."""
    staged = [p.name for p in workspace.rglob("*.staged")]
    versions = workspace / "lists" / ".versions"
    unpublished = [p.name for p in versions.iterdir() if not (p / "manifest.json").exists()]
    return staged + unpublished


def test_a_torn_audit_line_stops_the_next_run_before_it_does_anything(published, tmp_path):
    """A half-written last audit line (a crash or full disk while appending) stops the
    next run at once, with one clear paragraph; nothing is published or logged after it."""
    workspace, config = copy_workspace(published, tmp_path)
    log = audit.log_path(workspace)
    with log.open("a") as handle:
        handle.write('{"event": "nightly", "seq": 3, "pre')
    before = snapshot(workspace)
    result = cli("run", "--config", str(config))
    assert result.exit_code == 2, result.output
    assert "audit" in result.output and "line 3" in result.output
    assert snapshot(workspace) == before
    assert leftovers(workspace) == []


def test_a_failure_at_the_mlflow_step_leaves_the_previous_lists_and_audit_log(
    published, tmp_path
) -> None:
    """The disk fills (here: the artifact store cannot be written) after the lists were
    staged: the run fails, and lists, scores and the audit log are exactly as they were."""
    from mlflow.tracking import MlflowClient

    workspace, config = copy_workspace(published, tmp_path)
    client = MlflowClient(f"sqlite:///{workspace / 'mlflow' / 'mlflow.db'}")
    nightly = client.get_experiment_by_name("ennakko-nightly")
    client.rename_experiment(nightly.experiment_id, "ennakko-nightly-before")
    artifacts = workspace / "mlflow" / "artifacts" / "ennakko-nightly"
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.write_text("not a folder")  # the new nightly experiment's artifacts go here
    before = snapshot(workspace)
    with pytest.raises(OSError, match="ennakko-nightly"):
        run_night(config)
    assert snapshot(workspace) == before
    assert leftovers(workspace) == []
    assert audit_log(workspace).verify(audit.heads_in_manifests(workspace / "lists")).ok


def test_the_manifest_and_the_mlflow_run_record_the_audit_chain_head(published, tmp_path):
    """Every published manifest names the nightly run's own audit entry, and its MLflow
    run the head before it, so removing entries from the log is noticed."""
    from mlflow.tracking import MlflowClient

    workspace, config = copy_workspace(published, tmp_path)
    summary = run_night(config)
    log = audit_log(workspace)
    manifest = json.loads((workspace / "lists" / AS_OF / "manifest.json").read_text())
    assert audit.Head.parse(manifest["audit_head"], "manifest") == log.head()
    assert log.read()[-1]["event"] == "nightly"
    run = MlflowClient(f"sqlite:///{workspace / 'mlflow' / 'mlflow.db'}").get_run(
        summary["mlflow_run"]
    )
    assert int(run.data.tags["audit_head_seq"]) == log.head().seq - 1

    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[:-1]) + "\n")  # the last entry removed
    result = cli("audit", "verify", "--config", str(config))
    assert result.exit_code == 1, result.output
    log.path.unlink()  # or the whole log deleted
    assert cli("audit", "verify", "--config", str(config)).exit_code == 1
    assert cli("run", "--config", str(config)).exit_code == 2, "a run refuses to go on"


def test_a_second_command_waits_for_the_lock_then_says_who_holds_it(published, tmp_path):
    """While another process holds the workspace (a nightly run, say), `erase` waits the
    configured time, then exits 3 naming the holder, and changes nothing."""
    workspace, config = copy_workspace(published, tmp_path, lock_wait_seconds=1)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from flows.lock import workspace_lock\n"
         "with workspace_lock(Path(sys.argv[1]), 'run', 0):\n"
         "    print('held', flush=True); time.sleep(60)",
         str(workspace)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        person = listed(workspace)["person_id"][0]
        before = snapshot(workspace)
        started = time.monotonic()
        result = cli("erase", "--person-id", person, "--config", str(config))
        assert result.exit_code == 3, result.output
        assert time.monotonic() - started >= 1
        assert "ennakko run" in result.output and str(holder.pid) in result.output
        assert snapshot(workspace) == before
    finally:
        holder.kill()
        holder.wait()
    # Once the holder is gone (killed: the kernel frees the lock), the erasure goes through.
    result = cli("erase", "--person-id", person, "--config", str(config))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("value", ["high", "itainen", "EN0000000000", ""])
def test_erase_refuses_what_is_not_a_known_pseudonym(published, tmp_path, value) -> None:
    """`erase --person-id high` once deleted every row with a cell "high"; now a value
    that is no pseudonym Ennakko knows is refused (exit 2) and nothing is touched."""
    workspace, config = copy_workspace(published, tmp_path)
    before = snapshot(workspace)
    result = cli("erase", "--person-id", value, "--config", str(config))
    assert result.exit_code == 2, result.output
    assert "not a pseudonym Ennakko knows" in result.output
    assert snapshot(workspace) == before
    assert not (workspace / "privacy" / "erasures.jsonl").exists()


def test_erasure_holds_with_the_second_pseudonym_layer(published, tmp_path, monkeypatch):
    """With ENNAKKO_PSEUDONYM_KEY set, an erased person stays off the next night's lists,
    scores and features, and the run's audit entry counts them as excluded."""
    from flows.privacy import layer_id

    workspace, config = copy_workspace(published, tmp_path)
    monkeypatch.setenv("ENNAKKO_PSEUDONYM_KEY", "a-test-key-for-the-second-layer")
    run_night(config)
    person = listed(workspace).sort("rank")["person_id"][0]
    hashed = layer_id(person, b"a-test-key-for-the-second-layer")
    scores = pl.read_parquet(workspace / "scores" / f"{AS_OF}.parquet")
    assert hashed in scores["person_id"].to_list()

    result = cli("erase", "--person-id", person, "--config", str(config))
    assert result.exit_code == 0, result.output
    run_night(config)
    assert person not in listed(workspace)["person_id"].to_list()
    scores = pl.read_parquet(workspace / "scores" / f"{AS_OF}.parquet")
    assert hashed not in scores["person_id"].to_list()
    for path in (workspace / "features").glob("*.parquet"):
        assert hashed not in pl.read_parquet(path)["person_id"].to_list()
    entry = [e for e in audit_log(workspace).read() if e["event"] == "nightly"][-1]
    assert entry["erased_excluded"] == 1


def test_a_list_returned_after_an_erasure_does_not_bring_the_person_back(published, tmp_path):
    """A counsellor downloaded the list before the erasure and returns it after: the
    erased person's decision and comment are not stored; the rest are."""
    workspace, config = copy_workspace(published, tmp_path)
    folder = workspace / "lists" / AS_OF
    csv = sorted(folder.glob("*.csv"))[0]
    returned = pl.read_csv(csv, infer_schema=False).with_columns(
        decision=pl.lit("contacted"), comment=pl.lit("called, will visit"),
        counsellor=pl.lit("c-17"),
    )  # fmt: skip
    path = tmp_path / csv.name
    returned.write_csv(path)
    person = returned["person_id"][0]
    assert cli("erase", "--person-id", person, "--config", str(config)).exit_code == 0

    result = cli("reviews", "import", str(path), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "1 row(s) of persons whose data was erased" in result.output
    stored = pl.read_parquet(workspace / "reviews" / "decisions.parquet")
    assert person not in stored["person_id"].to_list()
    assert stored.height == returned.height - 1
    assert audit_log(workspace).read()[-1]["event"] == "reviews-import"


def test_an_erasure_cut_off_half_way_is_completed_by_the_next_command(published, tmp_path):
    """A kill -9 between a list's Parquet and its workbook, and before the model was
    tagged: the journal remains, and the next locked command (here `retention`) completes
    every step without the pseudonym: workbook rebuilt, hashes right, model tagged."""
    from mlflow.tracking import MlflowClient

    from flows.context import start
    from flows.erasure import _mark_versions
    from flows.privacy import Matcher, new_journal, plan, register_erasure, scrub_file

    workspace, config = copy_workspace(published, tmp_path)
    trained = pl.concat([pl.read_parquet(p) for p in (workspace / "snapshots").glob("*.parquet")])
    person = listed(workspace).join(trained, on="person_id", how="semi")["person_id"][0]
    ctx = start(str(config), None, "erase")
    journal = new_journal(person, ctx.keys.audit, None, ctx.today, "test")
    match = Matcher(journal.hashes, ctx.keys.audit)
    plan(ctx.ws, journal, match, lambda snaps: _mark_versions(ctx, snaps))
    register_erasure(ctx.ws, journal)
    folder = workspace / "lists" / AS_OF
    parquet = next(p for p in sorted(folder.glob("*.parquet")) if scrub_file(ctx.ws, p, match))
    workbook = parquet.with_suffix(".xlsx")
    assert person.encode() in _unzipped(workbook), "the crash left the person in the workbook"
    assert journal.versions, "the champion was trained with the person"

    result = cli("retention", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert person.encode() not in _unzipped(workbook)
    assert person not in pl.read_csv(parquet.with_suffix(".csv"))["person_id"].to_list()
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert not list((workspace / "privacy" / "pending").glob("*.json"))
    client = MlflowClient(f"sqlite:///{workspace / 'mlflow' / 'mlflow.db'}")
    version = client.get_model_version("ennakko-risk", journal.versions[0])
    assert version.tags.get("erasure_pending") == "true"
    erasure = [e for e in audit_log(workspace).read() if e["event"] == "erasure"][-1]
    assert any(name.endswith(".xlsx") for name in erasure["files_rewritten"])


def _unzipped(path: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_a_run_months_past_the_newest_extracts_stops_before_publishing(published, tmp_path):
    """Three months past the newest extracts every listed row would be flagged stale: the
    run stops with the sources' ages (exit 2) and publishes nothing for that date."""
    workspace, config = copy_workspace(published, tmp_path)
    before = snapshot(workspace)
    result = cli("run", "--config", str(config), "--as-of", "2026-03-01")
    assert result.exit_code == 2, result.output
    assert "too old" in result.output and "max_stale_share" in result.output
    assert not (workspace / "lists" / "2026-03-01").exists()
    assert snapshot(workspace) == before
    assert leftovers(workspace) == []


operation = st.one_of(
    st.tuples(st.just("erase"), st.integers(0, 200)),
    st.tuples(st.just("withdraw"), st.integers(0, 200)),
    st.tuples(st.just("run"), st.just(0)),
)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(operation, min_size=2, max_size=4), order=st.randoms(use_true_random=False))
def test_no_erased_or_withdrawn_person_is_listed_after_it_whatever_the_interleaving(
    published, ops, order
) -> None:
    """For any order of the consent rows and any interleaving of erasures, withdrawals and
    nightly runs, no list published (or still published) after an erasure or withdrawal
    holds that person."""
    import tempfile

    _, _, city, _ = published
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        data = tmp_path / "city"
        shutil.copytree(city, data)
        consents = pl.read_parquet(data / "consents/register.parquet")
        rows = consents.rows()
        order.shuffle(rows)
        pl.DataFrame(rows, schema=consents.schema, orient="row").write_parquet(
            data / "consents/register.parquet"
        )
        workspace, config = copy_workspace(published, tmp_path, data_dir=str(data))
        gone: set[str] = set()
        for op, pick in ops:
            on_list = sorted(set(listed(workspace)["person_id"].to_list()) - gone)
            if op == "run":
                run_night(config)
            elif op == "erase" and on_list:
                person = on_list[pick % len(on_list)]
                assert cli("erase", "--person-id", person, "--config", str(config)).exit_code == 0
                gone.add(person)
            elif op == "withdraw" and on_list:
                person = on_list[pick % len(on_list)]
                frame = pl.read_parquet(data / "consents/register.parquet")
                when = pl.lit(date.fromisoformat(AS_OF))
                frame.with_columns(
                    withdrawn_at=pl.when(pl.col("person_id") == person)
                    .then(pl.min_horizontal(pl.col("withdrawn_at").fill_null(when), when))
                    .otherwise(pl.col("withdrawn_at"))
                ).write_parquet(data / "consents/register.parquet")
                gone.add(person)
                run_night(config)  # a withdrawal takes effect at the next run
            assert not gone & set(listed(workspace)["person_id"].to_list()), (op, gone)


def test_a_read_only_workspace_is_refused_at_once(published, tmp_path) -> None:
    """A workspace on a read-only mount fails in a second with one paragraph (exit 2),
    not minutes later with a traceback."""
    workspace, config = copy_workspace(published, tmp_path)
    subprocess.run(["mount", "--bind", str(workspace), str(workspace)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(workspace)], check=True)
        started = time.monotonic()
        result = cli("run", "--config", str(config))
        assert result.exit_code == 2, result.output
        assert "cannot be written" in result.output and "Traceback" not in result.output
        assert time.monotonic() - started < 30
    finally:
        subprocess.run(["umount", str(workspace)], check=True)


def test_a_scores_store_that_cannot_be_written_leaves_everything_as_it_was(published, tmp_path):
    """`scores/` cannot be written (here: a file where the folder should be): the run
    fails before the switch; the lists and the audit log are as they were."""
    workspace, config = copy_workspace(published, tmp_path)
    shutil.rmtree(workspace / "scores")
    (workspace / "scores").write_text("not a folder")
    before = snapshot(workspace)
    with pytest.raises(OSError, match="scores"):
        run_night(config)
    assert snapshot(workspace) == before
    assert leftovers(workspace) == []


def test_erase_refuses_a_second_layer_id_and_a_missing_key(published, tmp_path, monkeypatch):
    """The second layer's ids are not pseudonyms a person or a list carries; and a
    workspace that uses the layer is never erased without its key (half the stores would
    be missed)."""
    from flows.privacy import layer_id

    workspace, config = copy_workspace(published, tmp_path)
    key = "a-test-key-for-the-second-layer"
    monkeypatch.setenv("ENNAKKO_PSEUDONYM_KEY", key)
    run_night(config)
    person = listed(workspace)["person_id"][0]
    result = cli("erase", "--person-id", layer_id(person, key.encode()), "--config", str(config))
    assert result.exit_code == 2 and "second-layer id" in result.output, result.output
    monkeypatch.delenv("ENNAKKO_PSEUDONYM_KEY")
    result = cli("erase", "--person-id", person, "--config", str(config))
    assert result.exit_code == 2 and "ENNAKKO_PSEUDONYM_KEY" in result.output, result.output
    assert not (workspace / "privacy" / "erasures.jsonl").exists()


def test_a_reason_holding_an_identifier_is_refused(published, tmp_path) -> None:
    workspace, config = copy_workspace(published, tmp_path)
    person = listed(workspace)["person_id"][0]
    for reason in (f"asked by {person}", "call +358 40 1234567", "code 010203A123B"):
        result = cli("erase", "--person-id", person, "--reason", reason, "--config", str(config))
        assert result.exit_code == 2 and "identifier" in result.output, result.output
    assert person not in audit.log_path(workspace).read_text()


def test_a_withdrawal_dated_after_a_re_run_date_still_keeps_the_person_off(published, tmp_path):
    """Re-running 2025-12-01 after the person withdrew (2026-06-01, before today): the
    withdrawal stops all later processing, so the re-run leaves them out."""
    _, _, city, _ = published
    data = tmp_path / "city"
    shutil.copytree(city, data)
    workspace, config = copy_workspace(published, tmp_path, data_dir=str(data))
    person = listed(workspace)["person_id"][0]
    consents = pl.read_parquet(data / "consents/register.parquet")
    consents.with_columns(
        withdrawn_at=pl.when(pl.col("person_id") == person)
        .then(pl.lit(date(2026, 6, 1)))
        .otherwise(pl.col("withdrawn_at"))
    ).write_parquet(data / "consents/register.parquet")
    run_night(config)
    assert person not in listed(workspace)["person_id"].to_list()


def test_a_removed_register_line_stops_every_changing_command(published, tmp_path) -> None:
    """Deleting an erasure from the register would bring the person back: the audit log
    still records it, so the next run refuses before doing anything."""
    workspace, config = copy_workspace(published, tmp_path)
    person = listed(workspace)["person_id"][0]
    assert cli("erase", "--person-id", person, "--config", str(config)).exit_code == 0
    (workspace / "privacy" / "erasures.jsonl").write_text("")
    result = cli("run", "--config", str(config))
    assert result.exit_code == 2 and "missing from the erasure register" in result.output
    (workspace / "privacy" / "erasures.jsonl").write_text('{"person_hash": "ab')  # torn
    result = cli("retention", "--config", str(config))
    assert result.exit_code == 2 and "damaged" in result.output, result.output


def test_leftovers_of_a_killed_run_are_removed_by_the_next_command(published, tmp_path) -> None:
    """A run killed after staging leaves an unpublished version and staged scores (names
    and numbers inside); the next command that takes the lock removes them."""
    workspace, config = copy_workspace(published, tmp_path)
    published_version = (workspace / "lists" / AS_OF).resolve()
    orphan = workspace / "lists" / ".versions" / f"{AS_OF}--killed"
    shutil.copytree(published_version, orphan)
    (orphan / "manifest.json").unlink()
    staged = workspace / "scores" / f".{AS_OF}.parquet.killed.staged"
    staged.write_bytes(b"partial")
    log = audit_log(workspace)
    entry = {**log.read()[-1], "outputs": {f"lists/.versions/{orphan.name}/x.csv": "0"}}
    log.append({k: v for k, v in entry.items() if k not in ("seq", "prev", "hash")})
    assert cli("retention", "--config", str(config)).exit_code == 0
    assert not orphan.exists() and not staged.exists()
    assert (workspace / "lists" / AS_OF).resolve() == published_version
    events = [e["event"] for e in log.read()]
    assert events[-2:] == ["publish-aborted", "retention"], "the unseen lists are accounted for"


def test_a_full_disk_while_appending_leaves_no_torn_audit_line(published, tmp_path) -> None:
    """The audit folder on a nearly full disk: the run fails, and the log is byte for byte
    what it was (no torn line that would stop every later command)."""
    workspace, config = copy_workspace(published, tmp_path)
    log_file = audit.log_path(workspace)
    audit_dir = log_file.parent
    saved = log_file.read_bytes()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(audit_dir)], check=True)
    try:
        log_file.write_bytes(saved)
        free = os.statvfs(audit_dir).f_bavail * os.statvfs(audit_dir).f_frsize
        (audit_dir / "filler").write_bytes(b"x" * max(free - 200, 0))
        before = snapshot(workspace)
        with pytest.raises(OSError, match="No space"):
            run_night(config)
        assert snapshot(workspace) == before
        assert leftovers(workspace) == []
    finally:
        subprocess.run(["umount", str(audit_dir)], check=True)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{workspace / 'mlflow' / 'mlflow.db'}")
    nightly = client.get_experiment_by_name("ennakko-nightly")
    newest = client.search_runs([nightly.experiment_id], order_by=["start_time DESC"])[0]
    assert newest.info.status == "FAILED", "the MLflow run of a night nobody saw says so"


def test_an_erasure_resumed_after_its_audit_entry_is_not_recorded_twice(published, tmp_path):
    """A crash between the erasure's audit entry and closing its journal: the next command
    completes it without a second audit entry."""
    import json

    workspace, config = copy_workspace(published, tmp_path)
    person = listed(workspace)["person_id"][0]
    assert cli("erase", "--person-id", person, "--config", str(config)).exit_code == 0
    entry = audit_log(workspace).read()[-1]
    pending = workspace / "privacy" / "pending"
    pending.mkdir(exist_ok=True)
    register = json.loads((workspace / "privacy" / "erasures.jsonl").read_text().splitlines()[0])
    journal = {"person_hash": entry["person_hash"], "layer_hash": register["layer_hash"],
               "erased_at": register["erased_at"], "reason": ""}  # fmt: skip
    (pending / f"{entry['person_hash'][:32]}.json").write_text(json.dumps(journal))
    assert cli("retention", "--config", str(config)).exit_code == 0
    erasures = [e for e in audit_log(workspace).read() if e["event"] == "erasure"]
    assert len(erasures) == 1
    assert not list(pending.glob("*.json"))

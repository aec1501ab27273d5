"""The audit log under a key: what a writer without the key, or one who removes entries, can
no longer hide (issue 11, finding 10)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from features.errors import SourceError
from flows.audit import (
    GENESIS,
    AuditBroken,
    AuditLog,
    Head,
    canonical,
    entry_hash,
    heads_in_manifests,
    heads_in_mlflow,
    log_path,
)
from flows.cli import app
from tests.conftest import ROOT, write_config

KEY = b"k" * 32
OTHER_KEY = b"x" * 32


def _log(folder: Path, n: int = 5, key: bytes = KEY) -> AuditLog:
    log = AuditLog(log_path(folder), key)
    for i in range(n):
        log.append({"event": "nightly", "n": i, "team": "itäinen", "listed": 10 * i})
    return log


def _entries(log: AuditLog) -> list[dict]:
    return [json.loads(line) for line in log.path.read_text(encoding="utf-8").splitlines()]


def _write(log: AuditLog, entries: list[dict]) -> None:
    log.path.write_bytes(b"".join(canonical(e) + b"\n" for e in entries))


def _rechain(entries: list[dict], start: int, seal) -> list[dict]:
    """Recompute prev and hash from ``start`` on with ``seal(body) -> hash``: what a forger does."""
    for i in range(start, len(entries)):
        entries[i]["prev"] = entries[i - 1]["hash"] if i else GENESIS
        body = {k: v for k, v in entries[i].items() if k != "hash"}
        entries[i]["hash"] = seal(body)
    return entries


def _sha256(body: dict) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()


def _other_key(body: dict) -> str:
    return entry_hash(body, OTHER_KEY)


def test_appended_entries_verify_and_the_head_is_the_last_entry(tmp_path: Path) -> None:
    """Entries written through AuditLog verify, chain seq 1..n, and head() is the last one."""
    log = _log(tmp_path, 5)
    result = log.verify()
    assert result.ok and result.entries == 5
    entries = _entries(log)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == GENESIS
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(entries))
    assert log.head() == Head(5, entries[-1]["hash"]) == result.head
    assert [e["n"] for e in log.read()] == [0, 1, 2, 3, 4]
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert "itäinen" in log.path.read_text(encoding="utf-8")  # UTF-8, not escaped


def test_an_empty_or_missing_log_has_no_head_and_verifies_without_recorded_heads(
    tmp_path: Path,
) -> None:
    """With nothing recorded anywhere, a log not yet written is not an error."""
    log = AuditLog(tmp_path / "audit.jsonl", KEY)
    assert log.head() is None
    assert log.verify().ok
    log.path.write_bytes(b"")
    assert log.head() is None
    assert log.verify().ok


@pytest.mark.parametrize("seal", [_sha256, _other_key], ids=["plain-sha256", "wrong-key"])
def test_an_edited_entry_is_caught_though_every_later_hash_was_recomputed(
    tmp_path: Path, seal
) -> None:
    """Editing entry 2 and re-sealing the chain from there, without the audit key, is found
    at line 2 (the old SHA-256 chain passed this)."""
    log = _log(tmp_path, 5)
    entries = _entries(log)
    entries[1]["listed"] = 9999
    _write(log, _rechain(entries, 1, seal))
    result = log.verify()
    assert not result.ok
    assert result.broken_at == 2
    assert result.entries == 1
    expected = "plain SHA-256" if seal is _sha256 else "HMAC does not match"
    assert expected in result.problem


@pytest.mark.parametrize("seal", [_sha256, _other_key], ids=["plain-sha256", "wrong-key"])
def test_a_forged_appended_entry_is_caught_and_nothing_is_chained_to_it(
    tmp_path: Path, seal
) -> None:
    """An entry appended by hand with a correct seq and prev but no key fails verify at its
    line, and append() refuses to chain a real entry after it."""
    log = _log(tmp_path, 3)
    entries = _entries(log)
    forged = {"event": "erasure", "seq": 4, "prev": entries[-1]["hash"], "rows_removed": 0}
    forged["hash"] = seal(forged)
    _write(log, [*entries, forged])
    result = log.verify()
    assert (result.ok, result.broken_at, result.entries) == (False, 4, 3)
    before = log.path.read_bytes()
    with pytest.raises(AuditBroken) as caught:
        log.append({"event": "nightly"})
    assert caught.value.line == 4
    assert log.path.read_bytes() == before


def test_a_log_under_another_key_fails_at_its_first_line(tmp_path: Path) -> None:
    """A changed audit key is told apart from nothing: verify fails at line 1 and says the
    log may have been written under another key."""
    _log(tmp_path, 2)
    result = AuditLog(log_path(tmp_path), OTHER_KEY).verify()
    assert (result.ok, result.broken_at) == (False, 1)
    assert "another audit key" in result.problem


def test_removed_last_entries_are_caught_given_a_recorded_head(tmp_path: Path) -> None:
    """Cutting the log after entry 3 leaves a valid chain; the head a manifest recorded at
    entry 5 shows that entries were removed."""
    log = _log(tmp_path, 5)
    head = log.head()
    lines = log.path.read_bytes().splitlines(keepends=True)
    log.path.write_bytes(b"".join(lines[:3]))
    assert log.verify().ok  # the chain alone cannot see its end cut off
    result = log.verify([head])
    assert not result.ok
    assert result.broken_at == 4
    assert "ends at entry 3" in result.problem and "entry 5" in result.problem
    assert "removed" in result.problem


def test_an_emptied_log_is_caught_given_a_recorded_head(tmp_path: Path) -> None:
    """An emptied log with a head on record is reported as emptied."""
    log = _log(tmp_path, 3)
    head = Head(3, log.head().hash, "lists/.versions/x/manifest.json")
    log.path.write_bytes(b"")
    result = log.verify([head])
    assert not result.ok
    assert "emptied" in result.problem and "lists/.versions/x/manifest.json" in result.problem


def test_a_deleted_log_is_caught_given_a_recorded_head(tmp_path: Path) -> None:
    """A deleted log with a head on record is reported as deleted, and ensure_intact stops."""
    log = _log(tmp_path, 3)
    head = log.head()
    log.path.unlink()
    result = log.verify([head])
    assert not result.ok and "deleted" in result.problem
    with pytest.raises(AuditBroken):
        log.ensure_intact([head])


def test_a_rewritten_log_under_the_key_is_caught_by_a_recorded_head(tmp_path: Path) -> None:
    """Even a writer holding the key who rewrites entry 2 onwards cannot match the head a
    publication recorded for entry 3."""
    log = _log(tmp_path, 4)
    recorded = Head(3, _entries(log)[2]["hash"], "MLflow run abc")
    entries = _entries(log)
    entries[1]["listed"] = 0
    _write(log, _rechain(entries, 1, lambda body: entry_hash(body, KEY)))
    assert log.verify().ok
    result = log.verify([recorded])
    assert (result.ok, result.broken_at) == (False, 3)
    assert "MLflow run abc" in result.problem


def test_swapped_entries_are_caught(tmp_path: Path) -> None:
    """Two entries that each hold under the key, in the wrong order, break at the first."""
    log = _log(tmp_path, 4)
    lines = log.path.read_bytes().splitlines(keepends=True)
    lines[1], lines[2] = lines[2], lines[1]
    log.path.write_bytes(b"".join(lines))
    result = log.verify()
    assert (result.ok, result.broken_at) == (False, 2)
    assert "reordered" in result.problem


def test_an_edit_that_keeps_the_json_meaning_is_caught(tmp_path: Path) -> None:
    """A space inserted after a colon changes no value and no HMAC, yet the line is no
    longer the bytes Ennakko wrote: found at its line."""
    log = _log(tmp_path, 3)
    lines = log.path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"event":', b'"event": ', 1)
    log.path.write_bytes(b"".join(lines))
    result = log.verify()
    assert (result.ok, result.broken_at) == (False, 2)
    assert "edited" in result.problem


def test_a_skipped_sequence_number_is_caught_even_under_the_key(tmp_path: Path) -> None:
    """Entries renumbered 1, 2, 4 with every link and HMAC recomputed (by a key holder)
    still break where the number does not follow."""
    log = _log(tmp_path, 3)
    entries = _entries(log)
    entries[2]["seq"] = 4
    _write(log, _rechain(entries, 2, lambda body: entry_hash(body, KEY)))
    result = log.verify()
    assert (result.ok, result.broken_at) == (False, 3)
    assert "sequence number" in result.problem


def test_a_torn_last_line_stops_append_and_ensure_intact(tmp_path: Path) -> None:
    """A write cut off mid-line (a full disk, a kill) is never chained to: append and
    ensure_intact raise AuditBroken naming the line and the runbook, and the file stays as
    it was."""
    log = _log(tmp_path, 3)
    entry = {"event": "nightly", "seq": 4, "prev": log.head().hash}
    entry["hash"] = entry_hash(entry, KEY)
    torn = canonical(entry)[:40]
    with log.path.open("ab") as handle:
        handle.write(torn)
    before = log.path.read_bytes()

    with pytest.raises(AuditBroken) as appended:
        log.append({"event": "retention"})
    assert log.path.read_bytes() == before
    assert appended.value.line == 4
    with pytest.raises(AuditBroken) as head:
        log.head()
    assert head.value.line == 4

    with pytest.raises(AuditBroken) as caught:
        log.ensure_intact()
    error = caught.value
    assert isinstance(error, SourceError)  # the CLI turns it into one paragraph, exit 2
    assert error.line == 4
    text = error.describe()
    assert "line 4" in text and "incomplete" in text
    assert "Nothing was done" in text and "docs/runbook.md" in text


def test_a_complete_entry_without_its_line_end_is_torn_too(tmp_path: Path) -> None:
    """Valid JSON cut off just before its newline would merge with the next entry: refused."""
    log = _log(tmp_path, 2)
    log.path.write_bytes(log.path.read_bytes()[:-1])
    assert not log.verify().ok
    with pytest.raises(AuditBroken):
        log.append({"event": "nightly"})


def test_a_record_may_not_set_the_chain_fields(tmp_path: Path) -> None:
    """seq, prev and hash are the log's to set; a record that sets one is a caller's bug."""
    with pytest.raises(ValueError, match="seq"):
        AuditLog(tmp_path / "audit.jsonl", KEY).append({"event": "x", "seq": 7})


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    """Four writers appending at once (each with its own file handle) leave one intact
    chain holding every entry."""
    path = tmp_path / "audit.jsonl"

    def write(worker: int) -> None:
        log = AuditLog(path, KEY)
        for i in range(20):
            log.append({"event": "test", "worker": worker, "i": i})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = AuditLog(path, KEY).verify()
    assert result.ok and result.entries == 80


_FIXED = tempfile.mkdtemp(prefix="audit-bytes-")
_ORIGINAL = _log(Path(_FIXED), 4).path.read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(min_value=0, max_value=len(_ORIGINAL) - 1),
    byte=st.integers(min_value=0, max_value=255),
)
def test_any_single_byte_change_anywhere_is_caught(position: int, byte: int) -> None:
    """Changing any one byte of any line (content, hash, separators, line ends, UTF-8) makes
    verify fail: lines must be the canonical bytes of an entry whose HMAC holds."""
    if _ORIGINAL[position] == byte:
        byte = (byte + 1) % 256
    changed = bytearray(_ORIGINAL)
    changed[position] = byte
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.jsonl"
        path.write_bytes(bytes(changed))
        assert not AuditLog(path, KEY).verify().ok


# Recorded heads ---------------------------------------------------------------------------


def _manifest(lists: Path, version: str, **extra) -> Path:
    folder = lists / ".versions" / version
    folder.mkdir(parents=True)
    path = folder / "manifest.json"
    path.write_text(json.dumps({"as_of": "2025-12-01", **extra}))
    return path


def test_heads_are_read_from_every_version_manifest(tmp_path: Path) -> None:
    """Each version's manifest audit_head is a head naming its manifest; older manifests
    without one, and a manifest cut off before publishing, are skipped."""
    lists = tmp_path / "lists"
    first = _manifest(lists, "2025-11-30--a", audit_head={"seq": 2, "hash": "a" * 64})
    _manifest(lists, "2025-12-01--b", audit_head={"seq": 5, "hash": "b" * 64})
    _manifest(lists, "2025-10-01--old")
    torn = lists / ".versions" / "2025-12-02--c"
    torn.mkdir()
    (torn / "manifest.json").write_text('{"audit_head": {"se')
    heads = heads_in_manifests(lists)
    assert heads == [Head(2, "a" * 64), Head(5, "b" * 64)]
    assert heads[0].source == str(first)
    assert heads_in_manifests(tmp_path / "nowhere") == []


def test_a_malformed_head_in_a_manifest_is_refused_naming_the_file(tmp_path: Path) -> None:
    """A manifest whose audit_head was edited into nonsense is an error naming the file and
    the key, not a silently skipped witness."""
    path = _manifest(tmp_path / "lists", "2025-12-01--b", audit_head={"seq": 0, "hash": "z"})
    with pytest.raises(SourceError) as caught:
        heads_in_manifests(tmp_path / "lists")
    assert str(path) in caught.value.describe() and "audit_head" in caught.value.describe()


def test_heads_are_read_from_finished_mlflow_runs_only(tmp_path: Path) -> None:
    """Only FINISHED runs with both tags are witnesses; a store that does not exist yet is
    not created."""
    missing = tmp_path / "none" / "mlflow.db"
    assert heads_in_mlflow(f"sqlite:///{missing}", "ennakko") == []
    assert not missing.exists()

    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("ennakko-nightly")
    done = client.create_run(experiment, tags={"audit_head_seq": "7", "audit_head_hash": "c" * 64})
    client.set_terminated(done.info.run_id, "FINISHED")
    failed = client.create_run(
        experiment, tags={"audit_head_seq": "8", "audit_head_hash": "d" * 64}
    )
    client.set_terminated(failed.info.run_id, "FAILED")
    plain = client.create_run(experiment)
    client.set_terminated(plain.info.run_id, "FINISHED")

    heads = heads_in_mlflow(uri, "ennakko-nightly")
    assert heads == [Head(7, "c" * 64)]
    assert done.info.run_id in heads[0].source
    assert heads_in_mlflow(uri, "no-such-experiment") == []


# The command ---------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A workspace with a five-entry log under ENNAKKO_AUDIT_KEY and one manifest recording
    the head, and its configuration."""
    monkeypatch.setenv("ENNAKKO_AUDIT_KEY", KEY.decode())
    root = tmp_path / "workspace"
    log = _log(root, 5)
    _manifest(root / "lists", "2025-12-01--r1", audit_head=log.head().as_dict())
    data = tmp_path / "data"
    data.mkdir()
    config = write_config(
        tmp_path / "ennakko.yaml", {"workspace": str(root), "data_dir": str(data)}
    )
    return root, config


def test_audit_verify_reports_entries_and_head_of_an_intact_log(workspace) -> None:
    """Exit 0, the entry count, the head and how many recorded heads were found."""
    _, config = workspace
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "5 entries, chain intact" in result.output
    assert "1 heads recorded" in result.output

    as_json = CliRunner().invoke(app, ["audit", "verify", "--config", str(config), "--json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert report["ok"] and report["entries"] == 5 and report["heads_checked"] == 1
    assert report["head"]["seq"] == 5


def test_audit_verify_exits_1_naming_the_line_when_entries_were_removed(workspace) -> None:
    """Removing the last two entries is found through the manifest's head: exit 1, line 4."""
    root, config = workspace
    path = log_path(root)
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:3]))
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 1
    assert "line 4" in result.output and "removed" in result.output

    as_json = CliRunner().invoke(app, ["audit", "verify", "--config", str(config), "--json"])
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert (report["ok"], report["broken_at"]) == (False, 4)


def test_audit_verify_under_another_key_fails(workspace, monkeypatch) -> None:
    """The key comes from ENNAKKO_AUDIT_KEY: verifying under another one fails at line 1."""
    _, config = workspace
    monkeypatch.setenv("ENNAKKO_AUDIT_KEY", OTHER_KEY.decode())
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 1
    assert "line 1" in result.output and "another audit key" in result.output


def test_audit_verify_without_any_key_is_a_clear_error(workspace, monkeypatch) -> None:
    """No ENNAKKO_AUDIT_KEY and no key file: one paragraph, exit 2, and no key file is made
    (a new random key would declare the whole log forged)."""
    root, config = workspace
    monkeypatch.delenv("ENNAKKO_AUDIT_KEY")
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 2
    assert "no audit key" in result.output
    assert not (root / "privacy" / "audit.key").exists()


def test_audit_verify_reads_the_workspace_key_file(workspace, monkeypatch) -> None:
    """Without ENNAKKO_AUDIT_KEY the workspace's key file is used, as runs do."""
    root, config = workspace
    monkeypatch.delenv("ENNAKKO_AUDIT_KEY")
    (root / "privacy").mkdir()
    (root / "privacy" / "audit.key").write_text(KEY.decode() + "\n")
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 0, result.output


def test_audit_verify_starts_neither_prefect_nor_mlflow(workspace) -> None:
    """Without --mlflow the command imports neither Prefect nor MLflow (seconds each)."""
    _, config = workspace
    code = (
        "import sys; from typer.testing import CliRunner; from flows.cli import app; "
        f"r = CliRunner().invoke(app, ['audit', 'verify', '--config', {str(config)!r}]); "
        "assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('prefect', 'mlflow') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

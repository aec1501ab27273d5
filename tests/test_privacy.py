"""Privacy promises a data-protection officer can check, each checked here for real."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows import audit
from flows.cli import app
from flows.privacy import find_traces
from flows.retention import apply_retention, touch
from flows.workspace import Workspace, sha256_file
from tests.conftest import AS_OF, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]
PSEUDONYM = re.compile(rb"EN[0-9A-F]{10}")
PHONE = re.compile(rb"\+358 40 \d{7}")
EMAIL = re.compile(rb"[\w.\-\xc3-\xff\x80-\xbf]+@example\.(?:com|org|net)")


def vault(city: Path) -> pl.DataFrame:
    return pl.read_parquet(city / "contacts/register.parquet")


def copy_workspace(published, tmp_path: Path, **extra) -> tuple[Path, Path]:
    """A private copy of the published workspace, and a configuration pointing at it."""
    _, settings, city, _ = published
    workspace = tmp_path / "workspace"
    shutil.copytree(settings.workspace, workspace, symlinks=True)
    config = write_config(
        tmp_path / "ennakko.yaml",
        {
            "workspace": str(workspace),
            "data_dir": str(city),
            "as_of": AS_OF,
            "partners": {"school": {"format": "csv"}},
            "model": {"challenger": {"max_iter": 60}},
            "outreach": {"capacity": {"default": 10, "per_team": {"itainen": 15}}},
            **extra,
        },
    )
    return workspace, config


def audit_log(workspace: Path) -> audit.AuditLog:
    """The workspace's audit log under its own key file (the demo's default)."""
    key = audit.read_key(None, workspace / "privacy" / "audit.key")
    return audit.AuditLog(audit.log_path(workspace), key)


def personal_data_in(paths: list[Path], contacts: pl.DataFrame) -> dict[str, list[str]]:
    """Which files contain any pseudonym, name, phone or e-mail of the vault."""
    pseudonyms = {p.encode() for p in contacts["person_id"].to_list()}
    names = [n.encode() for n in contacts["name"].to_list()]
    phones = {p.encode() for p in contacts["phone"].drop_nulls().to_list()}
    emails = {e.encode() for e in contacts["email"].drop_nulls().to_list()}
    found: dict[str, list[str]] = {}
    for path in paths:
        data = path.read_bytes()
        hits = [m.decode() for m in set(PSEUDONYM.findall(data)) & pseudonyms]
        hits += [m.decode() for m in set(PHONE.findall(data)) & phones]
        hits += [m.decode() for m in set(EMAIL.findall(data)) & emails]
        hits += [n.decode() for n in names if n in data]
        if hits:
            found[str(path)] = sorted(set(hits))[:5]
    return found


def test_mlflow_prefect_and_logs_hold_no_personal_data(published) -> None:
    """Scan the whole MLflow store (database and artifacts), Prefect's database and the
    application log for every pseudonym, name, phone number and e-mail in the vault."""
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    _, settings, city, _ = published
    paths = [p for p in (settings.workspace / "mlflow").rglob("*") if p.is_file()]
    paths += [p for p in (settings.workspace / "logs").rglob("*") if p.is_file()]
    prefect_db = Path(PREFECT_API_DATABASE_CONNECTION_URL.value().split("///", 1)[-1])
    assert prefect_db.is_file()
    paths += [prefect_db]
    assert any(p.name == "mlflow.db" for p in paths)
    assert any(p.name == "report.html" for p in paths)
    assert (settings.workspace / "logs" / "ennakko.log").stat().st_size > 0
    assert personal_data_in(paths, vault(city)) == {}


def test_the_scan_would_find_personal_data(published, tmp_path: Path) -> None:
    """The scan above is not vacuous: the published lists do contain the listed persons."""
    _, settings, city, _ = published
    lists = sorted((settings.workspace / "lists").rglob("*.csv"))
    assert personal_data_in(lists, vault(city))


def _listed(workspace: Path) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p) for p in (workspace / "lists" / AS_OF).glob("*.parquet")])


def test_erasure_reaches_every_derived_store(published, tmp_path: Path, monkeypatch) -> None:
    from flows.nightly import nightly

    _, _, city, _ = published
    workspace, config = copy_workspace(published, tmp_path)
    listed = _listed(workspace)
    snapshot = pl.concat([pl.read_parquet(p) for p in (workspace / "snapshots").glob("*.parquet")])
    trained = set(snapshot["person_id"].to_list())
    # A person whose name nobody else in the city shares: the search below looks for the
    # name too, and a namesake still listed would be found (as the synthetic city has some).
    contacts = vault(city)
    unique = set(contacts.filter(pl.col("name").is_unique())["person_id"].to_list())
    person = next(p for p in listed["person_id"].to_list() if p in trained and p in unique)
    contact = contacts.filter(pl.col("person_id") == person).row(0, named=True)
    needles = [person, contact["name"], contact["phone"], contact["email"]]
    assert find_traces(workspace, needles)  # the person is there before

    result = CliRunner().invoke(app, ["erase", "--person-id", person, "--config", str(config)])
    assert result.exit_code == 0, result.output

    assert find_traces(workspace, needles) == []
    after = _listed(workspace)
    assert after.height == listed.height - 1
    folder = workspace / "lists" / AS_OF
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert sha256_file(folder / name) == digest
    assert manifest["rows"] == after.height
    log = audit_log(workspace)
    assert log.verify(audit.heads_in_manifests(workspace / "lists")).ok
    entry = log.read()[-1]
    assert entry["event"] == "erasure"
    assert person not in log.path.read_text()
    assert any(name.endswith(".xlsx") for name in entry["files_rewritten"]), (
        "the record names the workbooks, which hold names and phone numbers"
    )
    assert entry["model_versions_marked"]  # the champion was trained with the person

    # The next run leaves the person out although the partners' extracts still hold them.
    monkeypatch.chdir(tmp_path)
    nightly(config=str(config))
    assert person not in _listed(workspace)["person_id"].to_list()
    assert find_traces(workspace, needles) == []


def test_tampering_with_one_audit_entry_is_found_and_named(published, tmp_path: Path) -> None:
    workspace, config = copy_workspace(published, tmp_path)
    log = audit.log_path(workspace)
    lines = log.read_text().splitlines()
    assert len(lines) >= 2
    entry = json.loads(lines[0])
    entry["listed"] = 9999 if "listed" in entry else entry.get("training_rows", 0) + 1
    lines[0] = json.dumps(entry, sort_keys=True)
    log.write_text("\n".join(lines) + "\n")
    assert audit_log(workspace).verify().broken_at == 1
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 1
    assert "line 1" in result.output


def test_deleting_an_audit_entry_breaks_the_chain_at_the_next(tmp_path: Path) -> None:
    log = audit.AuditLog(tmp_path / "audit.jsonl", b"k")
    for n in range(4):
        log.append({"event": "test", "n": n})
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    result = log.verify()
    assert not result.ok
    assert result.broken_at == 2


def test_second_pseudonym_layer_keeps_pseudonyms_out_of_derived_stores(
    published, tmp_path: Path, monkeypatch
) -> None:
    """With ENNAKKO_PSEUDONYM_KEY, feature caches and scores hold keyed hashes only, while
    the lists still carry the pseudonym counsellors return with their decisions."""
    from flows.nightly import nightly

    _, _, city, _ = published
    workspace, config = copy_workspace(published, tmp_path)
    for store in ("features", "scores", "lists"):
        shutil.rmtree(workspace / store)
    monkeypatch.setenv("ENNAKKO_PSEUDONYM_KEY", "a-test-key-that-is-not-secret")
    nightly(config=str(config))
    contacts = vault(city)
    derived = [p for s in ("features", "scores") for p in (workspace / s).rglob("*.parquet")]
    assert derived
    assert find_traces(workspace / "features", contacts["person_id"].to_list()) == []
    assert find_traces(workspace / "scores", contacts["person_id"].to_list()) == []
    scores = pl.read_parquet(next((workspace / "scores").glob("*.parquet")))
    assert scores["person_id"].str.starts_with("H").all()
    listed = _listed(workspace)
    assert listed["person_id"].is_in(contacts["person_id"].implode()).all()


def test_retention_deletes_exactly_what_has_expired(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws").ensure()
    now = datetime(2026, 6, 1, 12, 0)
    old, fresh = (now - timedelta(days=200)).date(), (now - timedelta(days=5)).date()
    versions = ws.path("lists", ".versions")
    versions.mkdir()
    for name, when in (("2025-11-01--a", old), ("2026-05-27--b", fresh)):
        (versions / name).mkdir()
        (versions / name / "x.csv").write_text("x")
        touch(versions / name, when)
    (ws.path("lists") / "2025-11-01").symlink_to(Path(".versions") / "2025-11-01--a")
    for store, when in (("scores", old), ("features", fresh)):
        path = ws.path(store, f"{when}.parquet")
        pl.DataFrame({"person_id": ["p"]}).write_parquet(path)
        touch(path, when)
    pl.DataFrame(
        {"person_id": ["a", "b"], "decided_at": [old - timedelta(days=900), fresh]}
    ).write_parquet(ws.path("reviews", "decisions.parquet"))
    days = {"lists": 90, "features": 30, "scores": 30, "quarantine": 30, "extracts": 30,
            "snapshots": 400, "reviews": 730}  # fmt: skip
    report = apply_retention(ws, days, now)
    assert report.deleted["lists"] == ["lists/.versions/2025-11-01--a"]
    assert report.deleted["scores"] == [f"scores/{old}.parquet"]
    assert report.deleted["features"] == []
    assert not (ws.path("lists") / "2025-11-01").is_symlink()
    assert (versions / "2026-05-27--b").exists()
    assert report.review_rows_deleted == 1
    assert pl.read_parquet(ws.path("reviews", "decisions.parquet"))["person_id"].to_list() == ["b"]


def test_privacy_report_documents_sources_retention_and_counts(published, tmp_path: Path) -> None:
    _, config = copy_workspace(published, tmp_path)
    out = tmp_path / "record.md"
    result = CliRunner().invoke(
        app, ["privacy", "report", "--config", str(config), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for needle in ("TSVA-2025-01", "| lists | 90 |", "withdrawn:", "Last retention run", "scoring"):
        assert needle in text
    assert personal_data_in([out], vault(published[2])) == {}


def test_run_objects_print_sizes_never_persons_or_keys(config_for, city: Path) -> None:
    """Prefect and Dask print task arguments in some errors; ours must not carry personal
    data or secrets there."""
    from features.build import FeatureMatrix
    from features.sources import load_inputs
    from flows.lists import Lists
    from flows.partitions import Partition
    from flows.pipeline import Gate, TrainingSet
    from flows.runtime import Keys
    from flows.settings import load_settings
    from outreach.assemble import Exclusions

    s = load_settings(config_for())
    inputs = load_inputs(s.data_dir, dict(s.sources), s.partners, s.as_of)
    contacts = inputs.contacts
    keys = Keys(pseudonym=b"pseudonym-key-0123456789", audit=b"audit-key-0123456789")
    shown = "\n".join(
        repr(obj)
        for obj in (
            inputs,
            Partition(inputs.consents, inputs.events, inputs.register),
            Gate(state=inputs.consents, cohort=inputs.consents, counts={"cohort": 1}, erased=0),
            FeatureMatrix(inputs.consents, [], contacts, []),
            TrainingSet(inputs.consents, [], FeatureMatrix(contacts, [], contacts, []), []),
            Lists(contacts, Exclusions(0, 0, 0), False),
            keys,
        )
    )
    assert f"<{inputs.consents.height} rows × {inputs.consents.width} columns>" in shown
    assert "pseudonym-key" not in shown and "audit-key" not in shown
    persons = set(contacts["person_id"]) | set(inputs.register)
    leaked = [p for p in persons if p in shown]
    leaked += [
        v
        for v in contacts["name"].to_list() + contacts["phone"].drop_nulls().to_list()
        if v in shown
    ]
    assert not leaked, leaked[:3]

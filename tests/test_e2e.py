"""One real nightly run, end to end: Prefect flow, MLflow store, files on disk."""

from __future__ import annotations

import json
import stat
from datetime import date

import mlflow
import polars as pl
import pytest

from flows import audit
from flows.workspace import sha256_file
from tests.test_consent import reference_valid

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]
AS_OF = date(2025, 12, 1)


@pytest.fixture(scope="module")
def nightly_run(published):
    summary, settings, city, _ = published
    return summary, settings, city


def test_the_run_publishes_one_list_per_team(nightly_run) -> None:
    summary, settings, _ = nightly_run
    folder = settings.workspace / "lists" / AS_OF.isoformat()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["as_of"] == AS_OF.isoformat()
    assert manifest["every_row_needs_a_decision"] is True
    assert set(manifest["teams"]) == set(summary["teams"])
    for team, info in manifest["teams"].items():
        frame = pl.read_csv(folder / f"{AS_OF.isoformat()}-{team}.csv")
        assert "person_id" in frame.columns
        assert frame.height == info["rows"] <= settings.outreach.capacity.for_team(team)
        assert frame["rank"].to_list() == list(range(1, frame.height + 1))
        assert frame["decision"].is_null().all()
    for name, digest in manifest["files"].items():
        assert sha256_file(folder / name) == digest, name


def test_every_listed_person_has_valid_scoring_and_contact_consent(nightly_run) -> None:
    _, settings, city = nightly_run
    consents = pl.read_parquet(city / "consents/register.parquet")
    folder = settings.workspace / "lists" / AS_OF.isoformat()
    listed = pl.concat([pl.read_parquet(p) for p in folder.glob("*.parquet")])
    assert listed.height > 0
    by_person = consents.partition_by("person_id", as_dict=True)
    for person in listed["person_id"].to_list():
        latest = reference_valid(by_person[(person,)].to_dicts(), AS_OF, invalid_notices=())
        assert latest is not None
        assert {"scoring", "contact"} <= set(latest["purposes"].split(","))


def test_the_model_is_registered_as_champion_with_its_report(nightly_run) -> None:
    summary, settings, _ = nightly_run
    client = mlflow.MlflowClient(settings.mlflow_uri)
    version = client.get_model_version_by_alias(settings.model.registered_name, "champion")
    run = client.get_run(version.run_id)
    assert run.data.metrics["pooled_roc_auc"] > 0.6
    assert "oracle_roc_auc" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(version.run_id, "report")}
    assert {"report/report.html", "report/points_table.csv", "report/model_card.md"} <= artifacts
    assert summary["model_version"] == str(version.version)


def test_the_audit_log_records_the_run_and_verifies(nightly_run) -> None:
    _, settings, _ = nightly_run
    log = audit.AuditLog(
        audit.log_path(settings.workspace),
        audit.read_key(None, settings.workspace / "privacy" / "audit.key"),
    )
    heads = audit.heads_in_manifests(settings.workspace / "lists")
    assert heads, "the manifest records the chain head"
    assert log.verify(heads).ok
    events = [e["event"] for e in log.read()]
    assert events == ["train", "nightly"]
    assert heads[-1] == log.head(), "the published manifest names the nightly entry"


def test_outputs_are_owner_only(nightly_run) -> None:
    _, settings, _ = nightly_run
    for path in (settings.workspace / "lists").rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            continue
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))

"""The production topology, for real, without containers.

PostgreSQL (127.0.0.1:5432 on the project's machines; .ci/run starts it) backs both an
MLflow server and a Prefect server started here on loopback ports. The deployments of
prefect.yaml are deployed to a process work pool, a worker runs them, and the monthly
training and nightly scoring deployments are triggered as an operator would. The test
checks the registered champion through the MLflow server and the lists on disk, then
stops every process it started and drops its databases.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from tests.conftest import AS_OF, ROOT, write_config

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.xdist_group("production")]
BIN = Path(sys.executable).parent
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 150) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen) -> None:
    """Stop a process and everything it started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def databases() -> Iterator[dict[str, str]]:
    import psycopg

    try:
        connection = psycopg.connect(**PG, connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL does not answer at 127.0.0.1:5432 ({exc}); .ci/run starts it")
    suffix = uuid.uuid4().hex[:8]
    names = {"prefect": f"ennakko_prefect_{suffix}", "mlflow": f"ennakko_mlflow_{suffix}"}
    with connection.cursor() as cursor:
        for name in names.values():
            cursor.execute(f"CREATE DATABASE {name}")
    try:
        yield names
    finally:
        with connection.cursor() as cursor:
            for name in names.values():
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.close()


@pytest.fixture
def servers(databases, tmp_path: Path) -> Iterator[dict[str, str]]:
    """An MLflow server and a Prefect server, both on PostgreSQL, on free loopback ports."""
    logs = tmp_path / "logs"
    logs.mkdir()
    base = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "true",
            "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # fmt: skip
    base.pop("PREFECT_API_URL", None)
    mlflow_port, prefect_port = free_port(), free_port()
    started = []
    try:
        mlflow_server = subprocess.Popen(
            [BIN / "mlflow", "server", "--backend-store-uri",
             f"postgresql://postgres@127.0.0.1:5432/{databases['mlflow']}",
             "--artifacts-destination", str(tmp_path / "mlartifacts"),
             "--host", "127.0.0.1", "--port", str(mlflow_port), "--workers", "1"],
            env=base, stdout=(logs / "mlflow.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        started.append(mlflow_server)
        prefect_env = {
            **base,
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{databases['prefect']}",
            "PREFECT_UI_ENABLED": "false",
        }
        prefect_server = subprocess.Popen(
            [BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(prefect_port)],
            env=prefect_env, stdout=(logs / "prefect.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        started.append(prefect_server)
        wait_for(f"http://127.0.0.1:{mlflow_port}/health", mlflow_server)
        wait_for(f"http://127.0.0.1:{prefect_port}/api/health", prefect_server)
        yield {
            "mlflow": f"http://127.0.0.1:{mlflow_port}",
            "prefect": f"http://127.0.0.1:{prefect_port}/api",
            "logs": str(logs),
        }
    finally:
        for process in reversed(started):
            stop(process)


def test_training_and_nightly_run_through_deployments_on_postgres(
    servers, city: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    config = write_config(
        tmp_path / "production.yaml",
        {
            "workspace": str(workspace),
            "data_dir": str(city),
            "truth_path": str(city / "truth" / "truth.parquet"),
            "as_of": AS_OF,
            "partners": {"school": {"format": "csv"}},
            "model": {"challenger": {"max_iter": 40}, "promotion": {"max_calibration_error": 0.1}},
            "outreach": {"capacity": {"default": 10}},
        },
    )
    env = {
        **os.environ,
        "PREFECT_API_URL": servers["prefect"],
        "PREFECT_HOME": str(tmp_path / "prefect-client"),
        "ENNAKKO_MLFLOW_URI": servers["mlflow"],
        "ENNAKKO_CONFIG": str(config),
        "ENNAKKO_HOME": str(ROOT),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }

    def prefect(*args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [BIN / "prefect", "--no-prompt", *args], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (
            f"prefect {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        )
        return result.stdout

    prefect("work-pool", "create", "ennakko", "--type", "process")
    prefect("deploy", "--all")
    deployed = {d["name"] for d in json.loads(prefect("deployment", "ls", "--output", "json"))}
    assert deployed == {
        "ennakko-nightly",
        "ennakko-train-monthly",
        "ennakko-retention-daily",
        "ennakko-nightly-dask",
    }
    worker = subprocess.Popen(
        [BIN / "prefect", "worker", "start", "--pool", "ennakko", "--type", "process"], cwd=ROOT, env=env,
        stdout=(tmp_path / "worker.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        out = prefect("deployment", "run", "ennakko-train/ennakko-train-monthly", "--watch",
                      "--watch-timeout", "400", timeout=420)  # fmt: skip
        assert "COMPLETED" in out.upper(), out
        out = prefect("deployment", "run", "ennakko-nightly/ennakko-nightly", "--watch",
                      "--watch-timeout", "300", timeout=320)  # fmt: skip
        assert "COMPLETED" in out.upper(), out
    finally:
        stop(worker)

    client = mlflow.MlflowClient(servers["mlflow"])
    champion = client.get_model_version_by_alias("ennakko-risk", "champion")
    run = client.get_run(champion.run_id)
    assert run.data.metrics["pooled_roc_auc"] > 0.6
    assert any(a.path == "report" for a in client.list_artifacts(champion.run_id))
    nightly_runs = client.search_runs(
        [client.get_experiment_by_name("ennakko-nightly").experiment_id], max_results=5
    )
    assert nightly_runs and nightly_runs[0].data.tags["model_version"] == str(champion.version)
    manifest = json.loads((workspace / "lists" / AS_OF / "manifest.json").read_text())
    assert manifest["model"]["version"] == str(champion.version)
    assert manifest["rows"] > 0
    assert (tmp_path / "mlartifacts").exists()  # artifacts went through the server's store
    assert not (workspace / "mlflow").exists()  # nothing fell back to the local SQLite store

"""The production assets hold together: compose services, the image, secrets, the example
configuration. No container engine runs in CI; tests/test_production.py runs the same
topology (PostgreSQL-backed MLflow and Prefect servers, a process worker) without one."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from flows.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"


def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_runs_postgres_prefect_server_worker_and_mlflow_with_health_checks() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "prefect-server", "mlflow", "worker", "portal"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
    mlflow = services["mlflow"]
    assert any("postgresql://" in part for part in mlflow["command"])
    assert any(v.endswith(":/mlartifacts") for v in mlflow["volumes"])
    assert (
        "postgresql+asyncpg://"
        in services["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    )
    worker = services["worker"]
    assert any(v.startswith("workspace:") for v in worker["volumes"])
    assert worker["environment"]["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    portal = services["portal"]
    assert portal["environment"]["PORTAL_PRODUCTION"] == "1"  # refuses demo keys, test logins
    assert portal["environment"]["PORTAL_DATABASE_URL"].startswith("postgresql://")
    assert "gunicorn portal.wsgi" in portal["command"][0]
    assert "CREATE DATABASE portal;" in (DOCKER / "postgres-init.sql").read_text()
    # The published ports answer on loopback only.
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_every_variable_compose_needs_is_in_the_env_example_and_the_env_file_is_ignored() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    needed = set(re.findall(r"\$\{([A-Z_]+)", text))
    example = {
        line.split("=", 1)[0]
        for line in (DOCKER / "env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert needed <= example, needed - example
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "docker/.env"], cwd=ROOT, check=False
    ).returncode
    assert ignored == 0, "docker/.env must be git-ignored"
    assert not (DOCKER / ".env").exists() or ignored == 0


def test_the_image_is_multi_stage_locked_non_root_and_healthchecked() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    assert "uv sync --frozen --no-dev" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK ", text, re.M)
    # Everything the image copies from the checkout exists.
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        if "--from=" in line:
            continue
        sources = [t for t in line.split() if not t.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), source
    # Every package the project installs is copied in before `uv sync` builds it.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for package in project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
        assert f"COPY {package} ./{package}" in text, f"the image misses the package {package}"
    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    for deployment in deployments:
        module = deployment["entrypoint"].split(":", 1)[0]
        assert module.startswith("flows/") and (ROOT / module).exists()


def test_the_production_example_configuration_loads() -> None:
    settings = load_settings(ROOT / "configs" / "production.example.yaml", env={})
    assert str(settings.workspace) == "/workspace"
    assert settings.outreach.capacity.for_team("itainen") == 35

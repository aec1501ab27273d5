"""``ennakko portal``: starts the portal and the local test provider, and stops both.

The command runs as an operator runs it (a subprocess of the installed entry point) on a
configuration whose workspace is the test's own; the test persons it prints are checked
against the portal's own identity-code rules.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from portal.identity import age_on, birth_date, validate
from portal.testpersons import CAST, demo_persons
from tests.conftest import ROOT, require_program, write_config
from tests.portal.support import free_port

ENNAKKO = Path(sys.executable).parent / "ennakko"


@pytest.mark.parametrize("today", [date(2026, 12, 1), date(2028, 2, 29), date(2027, 1, 1)])
def test_test_persons_are_the_age_they_claim_with_valid_test_codes(today: date) -> None:
    persons = demo_persons(today)
    assert len({p.sub for p in persons}) == len(CAST)
    for person in persons:
        code = validate(person.code, allow_test_codes=True)
        assert 900 <= int(code[7:10]) <= 999  # never a real person's code
        assert age_on(birth_date(code), today) == person.age


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            return requests.get(url, timeout=5)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer in {timeout} s")


def test_portal_command_serves_and_stops_its_test_provider(tmp_path: Path) -> None:
    require_program("node", install="apt-get install nodejs npm")
    if not (ROOT / "portal" / "testop" / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("portal/testop has no node_modules: run make install")
    config = write_config(tmp_path / "ennakko.yaml", {"workspace": str(tmp_path / "ws")})
    port, op_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "DJANGO_"))}
    process = subprocess.Popen(
        [str(ENNAKKO), "portal", "-c", str(config), "--port", str(port), "--op-port", str(op_port)],
        env={**env, "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        arrival = wait_for(f"http://127.0.0.1:{port}/?c=school", process)
        assert arrival.status_code == 200 and "Set-Cookie" not in arrival.headers
        discovery = requests.get(f"http://127.0.0.1:{op_port}/.well-known/openid-configuration")
        assert discovery.json()["authorization_endpoint"].endswith("/auth")
        # The login button leads to this provider, not to a default one.
        login = requests.get(f"http://127.0.0.1:{port}/oidc/authenticate/", allow_redirects=False)
        assert login.headers["Location"].startswith(f"http://127.0.0.1:{op_port}/auth?")
        users = json.loads((tmp_path / "ws" / "portal" / "testop-users.json").read_text())
        assert len(users) == len(CAST)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert "00000000-0000-4000-9000-000000000001" in output  # the table names each login
    with pytest.raises(requests.ConnectionError):  # the provider stopped with the portal
        requests.get(f"http://127.0.0.1:{op_port}/.well-known/openid-configuration", timeout=2)


def test_test_provider_is_refused_in_production(tmp_path: Path) -> None:
    config = write_config(tmp_path / "ennakko.yaml", {"workspace": str(tmp_path / "ws")})
    done = subprocess.run(
        [str(ENNAKKO), "portal", "-c", str(config), "--port", str(free_port())],
        env={**os.environ, "PORTAL_PRODUCTION": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "refused in production" in done.stdout + done.stderr
    assert not (tmp_path / "ws" / "portal" / "testop-users.json").exists()


def test_portal_benchmark_logs_clients_in_and_serves_every_request(tmp_path: Path) -> None:
    """``ennakko bench --portal`` in small: real logins, both servers, no failed request."""
    require_program("node", install="apt-get install nodejs npm")
    from flows.bench_portal import bench_portal

    config = write_config(tmp_path / "ennakko.yaml", {"workspace": str(tmp_path / "ws")})
    results = bench_portal(config, tmp_path, date(2026, 12, 1), clients=2, rounds=5, say=print)
    assert [r.server.split()[0] for r in results] == ["ennakko", "gunicorn"]
    for r in results:
        assert (r.requests, r.errors) == (10, 0)
        assert 0 < r.p50_ms <= r.p95_ms <= r.p99_ms
        assert r.start_seconds is not None and r.start_seconds > 0
        assert 0 < r.server_cpu_ms < 1000  # the server's own processes did the work

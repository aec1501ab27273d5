"""``ennakko bench --portal``: how fast the consent service starts and answers.

What is measured, end to end through real parts: ``ennakko portal`` is started as an
operator starts it (its own processes: gunicorn, one worker per core) and timed until its
arrival page answers; then as many fictional young persons as there will be clients log
in through the local OpenID provider (``portal/testop``) exactly as a browser does, and
each client, on its own session and keep-alive connection, asks for the consent page ``/suostumus/``
again and again. The same sessions are then served by ``gunicorn portal.wsgi`` as
production starts it, so the table shows both. Latencies are wall times seen by the
client (the client's own work included), on a private workspace under ``root``; the
servers' CPU time per request (all their processes, read with psutil) says what a page
costs whatever else the machine is doing.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PAGE = "/suostumus/"


@dataclass
class ServerTimes:
    server: str
    start_seconds: float | None
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_second: float
    server_cpu_ms: float  # the server's processes' CPU time per request


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_persons(today: date, n: int):
    """``n`` fictional persons aged 16-28 (individual numbers 900-999, never real)."""
    from portal.identity import make_test_code
    from portal.testpersons import TestPerson, years_ago

    return [
        TestPerson(
            sub=f"00000000-0000-4000-a000-{i:012d}",
            given_name="Bench",
            family_name=f"Person {i}",
            code=make_test_code(years_ago(16 + i % 13, today, days=30 + i), 900 + i % 100),
            loa="substantial",
            age=16 + i % 13,
            note="benchmark",
        )
        for i in range(n)
    ]


def wait_answer(url: str, process: subprocess.Popen, timeout: float = 30.0) -> float:
    """Seconds until ``url`` answers (raises if the process dies or time runs out)."""
    import requests

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited before answering {url}")
        try:
            requests.get(url, timeout=5)
            return time.perf_counter() - started
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")


@contextmanager
def running(argv: list[str], env: dict[str, str], log: Path):
    """A server process for the duration of the block, stopped with SIGTERM."""
    with log.open("w") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def log_in(portal: str, sub: str):
    """A logged-in ``requests`` session of one person, arrived at the consent page."""
    import re
    from urllib.parse import urljoin

    import requests

    session = requests.Session()
    response = session.get(f"{portal}/oidc/authenticate/", timeout=30)
    for prompt, data in (("login", {"login": sub, "password": "x"}), ("consent", {})):
        form = re.search(r'action="([^"]+)"', response.text)
        if not form or f'value="{prompt}"' not in response.text:
            break
        response = session.post(
            urljoin(response.url, form.group(1)), data={"prompt": prompt, **data}, timeout=30
        )
    if "postinumero" in response.url:  # first visit: the home postal code and language
        token = session.cookies.get("csrftoken", "")
        data = {"postal_code": "00100", "language": "fi", "csrfmiddlewaretoken": token}
        response = session.post(response.url, data=data, headers={"Referer": response.url})
    page = session.get(f"{portal}{PAGE}", timeout=30)
    if not page.ok:
        raise RuntimeError(f"a benchmark person could not reach {PAGE} (see the portal log)")
    # Consent to scoring and contact, so the page shows (and decides) a real state.
    fields = dict(re.findall(r'name="(csrfmiddlewaretoken|notice|c)" value="([^"]*)"', page.text))
    saved = session.post(
        f"{portal}{PAGE}",
        data={**fields, "purpose": ["scoring", "contact"]},
        headers={"Referer": page.url},
        timeout=30,
    )
    if "/kuitti/" not in saved.url:
        raise RuntimeError("a benchmark person's consent was not saved (see the portal log)")
    return session


def hammer(portal: str, sessions: list, rounds: int) -> tuple[list[float], int, float]:
    """Every session asks for the page ``rounds`` times, all at once; latencies in ms.

    One asyncio loop plays all the clients, each on its own keep-alive connection (as a
    browser keeps one): threads would wait for Python's lock in the client and add that
    wait to the latency measured, and ``requests`` costs a millisecond of CPU per call,
    taken from the same cores the server runs on."""
    import asyncio
    from urllib.parse import urlsplit

    address = urlsplit(portal)

    async def client(session) -> tuple[list[float], int]:
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        request = (
            f"GET {PAGE} HTTP/1.1\r\nHost: {address.netloc}\r\nCookie: {cookie}\r\n\r\n"
        ).encode()
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        times, errors = [], 0
        try:
            for _ in range(rounds):
                started = time.perf_counter()
                writer.write(request)
                status, closes = await read_response(reader)
                times.append((time.perf_counter() - started) * 1000)
                errors += status != 200
                if closes:
                    writer.close()
                    reader, writer = await asyncio.open_connection(address.hostname, address.port)
        finally:
            writer.close()
        return times, errors

    async def everyone() -> list[tuple[list[float], int]]:
        return await asyncio.gather(*(client(s) for s in sessions))

    started = time.perf_counter()
    results = asyncio.run(everyone())
    wall = time.perf_counter() - started
    return [t for times, _ in results for t in times], sum(e for _, e in results), wall


async def read_response(reader) -> tuple[int, bool]:
    """One HTTP/1.1 response off ``reader``: its status, and whether the server closes."""
    status = int((await reader.readline()).split()[1])
    length, closes = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and value.strip().lower() == "close":
            closes = True
    await reader.readexactly(length)
    return status, closes


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and all its children, so far."""
    import psutil

    parent = psutil.Process(pid)
    total = 0.0
    for p in (parent, *parent.children(recursive=True)):
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measured(
    server: str, start: float, process: subprocess.Popen, portal: str, sessions, rounds: int
) -> ServerTimes:
    """Warm up (imports, first queries), then every session asks ``rounds`` times."""
    hammer(portal, sessions[:2], 5)
    before = cpu_seconds(process.pid)
    times, errors, wall = hammer(portal, sessions, rounds)
    cpu = cpu_seconds(process.pid) - before
    cuts = statistics.quantiles(times, n=100)
    return ServerTimes(
        server, start, len(times), errors, cuts[49], cuts[94], cuts[98], len(times) / wall,
        1000 * cpu / len(times),
    )  # fmt: skip


def bench_portal(
    config: Path, root: Path, today: date, clients: int, rounds: int, say: Callable[[str], None]
) -> list[ServerTimes]:
    """Start the portal as ``ennakko portal`` and as gunicorn; time the consent page."""
    from portal.testpersons import users_file

    workspace = root / "portal" / "workspace"
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    port, op_port = free_port(), free_port()
    portal = f"http://127.0.0.1:{port}"
    op = f"http://127.0.0.1:{op_port}"
    users = users_file(bench_persons(today, clients), workspace / "users.json")
    env = {
        **os.environ,
        "ENNAKKO_WORKSPACE": str(workspace.resolve()),
        "ENNAKKO_CONFIG": str(config.resolve()),
        "OIDC_OP_BASE_URL": op,
        "PORTAL_ALLOWED_HOSTS": "127.0.0.1",
        # The workers share one cache (rate limits, sessions), as in production.
        "PORTAL_CACHE_DIR": str((workspace / "cache").resolve()),
    }
    op_env = {**env, "OP_PORT": str(op_port), "OP_USERS": str(users),
              "OP_REDIRECT_URIS": f"{portal}/oidc/callback/", "OP_POST_LOGOUT_URIS": f"{portal}/"}  # fmt: skip
    testop = Path(__file__).resolve().parents[1] / "portal" / "testop" / "op.mjs"
    ennakko = [sys.executable, "-m", "flows.cli", "portal", "--config", str(config)]
    results = []
    with running(["node", str(testop)], op_env, workspace / "op.log") as provider:
        wait_answer(f"{op}/.well-known/openid-configuration", provider)
        argv = [*ennakko, "--no-test-op", "--port", str(port)]
        with running(argv, env, workspace / "portal.log") as server:
            start = wait_answer(f"{portal}/", server)
            say(f"ennakko portal answered after {start:.2f} s; {clients} persons log in")
            sessions = [log_in(portal, p) for p in users_sessions(users)]
            results.append(measured("ennakko portal", start, server, portal, sessions, rounds))
        workers = os.cpu_count() or 2  # one process per core: no threads fighting over the GIL
        gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi",
                    "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]  # fmt: skip
        with running(gunicorn, env, workspace / "gunicorn.log") as server:
            start = wait_answer(f"{portal}/", server)
            say(f"gunicorn answered after {start:.2f} s")
            name = f"gunicorn portal.wsgi, {workers} workers"
            results.append(measured(name, start, server, portal, sessions, rounds))
    return results


def users_sessions(users: Path) -> list[str]:
    import json

    return list(json.loads(users.read_text()))

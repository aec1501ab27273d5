"""``ennakko portal``: the young person's consent service (Django, package ``portal``).

Django is imported inside the command, never at module level: ``ennakko --help`` and
every other command answer without loading it.

Outside production the command also starts the local OpenID provider
(``portal/testop/op.mjs``, node-oidc-provider) with fictional test persons made for
today (``portal.testpersons``), so the demo logs in through a real code flow; with
``PORTAL_PRODUCTION=1`` the test provider is refused and the city's is used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Annotated

import typer

from flows.commands.common import DEFAULT_CONFIG, Config, console, load, user_errors

Host = Annotated[str, typer.Option("--host", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")]
TestOp = Annotated[
    bool,
    typer.Option(
        "--test-op/--no-test-op",
        help="Start the local test OpenID provider with fictional persons (never in production).",
    ),
]
OpPort = Annotated[
    int, typer.Option("--op-port", min=1, max=65535, help="The test provider's port.")
]
Workers = Annotated[
    int,
    typer.Option(
        "--workers", min=1, help="Server processes (default: one per core, as in production)."
    ),
]

TESTOP = Path(__file__).resolve().parents[2] / "portal" / "testop"


class PortalError(Exception):
    """The portal could not start (a message for the operator)."""


def start_test_provider(workspace: Path, timezone: str, host: str, port: int, op_port: int):
    """Start ``op.mjs`` with today's test persons; return the process and the persons."""
    from flows import clock
    from portal.testpersons import demo_persons, users_file

    node = shutil.which("node")
    if node is None or not (TESTOP / "node_modules" / "oidc-provider").is_dir():
        raise PortalError(
            "the test OpenID provider needs node and `make install` (portal/testop/node_modules); "
            "or start with --no-test-op and OIDC_OP_BASE_URL set to a provider"
        )
    persons = demo_persons(clock.today(timezone))
    users = users_file(persons, workspace / "portal" / "testop-users.json")
    portal = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    env = {
        **os.environ,
        "OP_PORT": str(op_port),
        "OP_USERS": str(users),
        "OP_CLIENT_SECRET": os.environ.get("OIDC_RP_CLIENT_SECRET", "test-secret"),
        "OP_REDIRECT_URIS": f"{portal}/oidc/callback/",
        "OP_POST_LOGOUT_URIS": f"{portal}/",
    }
    log = (workspace / "portal" / "testop.log").open("w")
    process = subprocess.Popen(
        [node, str(TESTOP / "op.mjs")], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    wait_until_ready(f"http://127.0.0.1:{op_port}/.well-known/openid-configuration", process)
    return process, persons


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Poll ``url`` until the provider answers (it is ready in about a second)."""
    from urllib.error import URLError
    from urllib.request import urlopen

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PortalError("the test OpenID provider exited at start (see testop.log)")
        try:
            with urlopen(url, timeout=1):
                return
        except (URLError, OSError):
            time.sleep(0.05)
    process.terminate()
    raise PortalError(f"the test OpenID provider did not answer at {url} in {timeout:.0f} s")


def show_persons(persons) -> None:
    """The test persons' table: what to type in the provider's login field."""
    from rich.table import Table

    table = Table(title="Test persons (fictional identity codes 900-999; any password)")
    table.add_column("login (sub)", no_wrap=True, min_width=36)
    for column in ("name", "age", "what it shows"):
        table.add_column(column)
    for p in persons:
        table.add_row(p.sub, f"{p.given_name} {p.family_name}", str(p.age), p.note)
    console.print(table)


@user_errors
def portal(
    config: Config = DEFAULT_CONFIG,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    test_op: TestOp = True,
    op_port: OpPort = 9000,
    workers: Workers | None = None,
) -> None:
    """Serve the consent portal on http://HOST:PORT/ (demo: SQLite in the workspace).

    Settings come from the Ennakko configuration and PORTAL_* / OIDC_* environment
    variables (portal/settings.py); with PORTAL_PRODUCTION=1 it refuses to start without
    its keys, a PostgreSQL database and the city's identity provider, and refuses the
    test provider. It serves with gunicorn, one process per core, as production does
    (`gunicorn portal.wsgi`, docs/runbook.md).
    """
    settings = load(config)
    os.environ["ENNAKKO_CONFIG"] = str(settings.config_path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    workers = workers or os.cpu_count() or 2
    if workers > 1:  # the processes share one cache (sessions, rate limits), as in production
        os.environ.setdefault("PORTAL_CACHE_DIR", str(settings.workspace / "portal" / "cache"))
    production = os.environ.get("PORTAL_PRODUCTION", "").strip() == "1"
    if production and test_op:
        console.print(
            "[red]Portal:[/red] the test OpenID provider is refused in production "
            "(PORTAL_PRODUCTION=1): start with --no-test-op and the city's provider."
        )
        raise typer.Exit(2)
    provider = persons = None
    if test_op:
        os.environ["OIDC_OP_BASE_URL"] = f"http://127.0.0.1:{op_port}"
        try:
            provider, persons = start_test_provider(
                settings.workspace, settings.timezone, host, port, op_port
            )
        except PortalError as error:
            console.print(f"[red]Portal:[/red] {error}")
            raise typer.Exit(2) from error
    import signal
    import sys

    # A service manager stops us with SIGTERM: exit through ``finally`` so the provider stops too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parent = os.getpid()
    try:
        serve(host, port, persons, workers)
    finally:
        if provider is not None and os.getpid() == parent:  # not in a server process
            provider.terminate()
            provider.wait(timeout=10)


def serve(host: str, port: int, persons, workers: int) -> None:
    """Migrate the database, then serve with gunicorn: ``workers`` processes forked from
    this one with Django loaded (a threaded server in one process shares one core)."""
    import django
    from django.conf import settings as django_settings
    from django.core.management import call_command

    django.setup()
    database = django_settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    call_command("migrate", interactive=False, verbosity=0)
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    application = get_wsgi_application()
    # Import every view now (the GDPR API's alone takes a second), not in the first request.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imported for its side effect
    if persons:
        show_persons(persons)
    connections.close_all()  # each server process opens its own
    console.print(f"Portal: http://{host}:{port}/?c=jodel (Ctrl-C stops it)", highlight=False)
    _server_class()(application, {"bind": f"{host}:{port}", "workers": workers}).run()


def _server_class():
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        """gunicorn around an application already loaded (no ``portal.wsgi`` import per
        process); its own log only for warnings: the console keeps the persons' table."""

        def __init__(self, application, options: dict) -> None:
            self.application, self.options = application, options
            super().__init__()

        def load_config(self) -> None:
            # No control socket: gunicorn's default path is one per user ($HOME), which
            # two portals (a demo and a test) on one machine would share.
            quiet = {"loglevel": "warning", "control_socket_disable": True}
            for name, value in {**self.options, **quiet}.items():
                self.cfg.set(name, value)

        def load(self):
            return self.application

    return Server

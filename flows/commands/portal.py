"""``ennakko portal``: the young person's consent service (Django, package ``portal``).

Django is imported inside the command, never at module level: ``ennakko --help`` and
every other command answer without loading it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flows.commands.common import DEFAULT_CONFIG, Config, console, load, user_errors

Host = Annotated[str, typer.Option("--host", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")]


@user_errors
def portal(config: Config = DEFAULT_CONFIG, host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the consent portal on http://HOST:PORT/ (demo: SQLite in the workspace).

    Settings come from the Ennakko configuration and PORTAL_* / OIDC_* environment
    variables (portal/settings.py); with PORTAL_PRODUCTION=1 it refuses to start without
    its keys, a PostgreSQL database and the city's identity provider.
    """
    import os

    settings = load(config)
    os.environ["ENNAKKO_CONFIG"] = str(settings.config_path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django
    from django.conf import settings as django_settings
    from django.core.management import call_command

    django.setup()
    database = django_settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        from pathlib import Path

        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    call_command("migrate", interactive=False, verbosity=0)
    # Django's threaded WSGI server, without runserver's second migration check: the
    # demo answers in under 3 seconds. Production runs `gunicorn portal.wsgi` instead.
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    console.print(f"Portal: http://{host}:{port}/?c=jodel (Ctrl-C stops it)", highlight=False)
    run(host, port, get_wsgi_application(), threading=True)

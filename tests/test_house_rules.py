"""House rules a newcomer can rely on, checked from the source alone (``ast``, no imports).

Why by syntax rather than by importing: the rules are about what the code says, and a test
that imports every module would be slow and would itself run the imports it judges. Each
test names every offender at once (file, line, what), so a failure is a to-do list.

- Dependencies point one way: ``flows → outreach → models → features`` (``indicators`` reads
  public area figures beside ``features``; only ``flows`` uses it). No module under
  ``features/``, ``models/``, ``outreach/`` or ``indicators/`` imports ``flows``, ``synth``,
  ``portal`` or a package above it.
- Only ``flows/`` (and ``portal/``) reads the clock or the environment: a run's dates come
  from ``flows/clock.py`` in the city's time zone, its settings from ``flows/settings.py``.
- No module over 500 lines, no function over 80 lines: a room a newcomer can read whole.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Which project packages each inner package may import (itself included). Anything else of
# the project (flows, synth, portal, or a package above) is a violation.
ALLOWED = {
    "features": {"features"},
    "indicators": {"indicators", "features"},
    "models": {"models", "features"},
    "outreach": {"outreach", "models", "features"},
}
# The packages that may read the clock and the environment: the entry points.
ENTRY = {"flows", "portal"}
CLOCK = ("datetime.now", "datetime.utcnow", "datetime.today", "date.today", "time.time",
         "time.time_ns", "Timestamp.now", "Timestamp.today")  # fmt: skip
ENVIRONMENT = ("os.environ", "os.environb", "os.getenv")
FROM_IMPORTS = {"os": {"environ", "environb", "getenv"}, "time": {"time", "time_ns"}}

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
# The synthetic city's simulator (synth/process.py, ``simulate``) steps every person through
# the months in one vectorised loop whose draws must stay in one order (a split would change
# the random stream, and with it every synthetic city and benchmark figure); it is a demo
# and benchmark tool, never run in production. Exempt from the size rules by name, as the
# issue allows; synth/city.py (the writer around it) keeps the rules.
SIZE_EXEMPT = {"synth/process.py"}


@cache
def packages() -> tuple[str, ...]:
    """The project's top-level packages (folders with an ``__init__.py``), tests excluded."""
    return tuple(
        sorted(
            p.parent.name
            for p in ROOT.glob("*/__init__.py")
            if p.parent.name not in {"tests", ".venv"} and not p.parent.name.startswith(".")
        )
    )


def modules(*names: str) -> Iterator[Path]:
    """Every ``.py`` file under the named packages that exist."""
    for name in names:
        folder = ROOT / name
        if folder.is_dir():
            yield from sorted(folder.rglob("*.py"))


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level package) of every import in the module, lazy ones inside functions
    and relative ones (resolved against the module's own package) included."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                yield node.lineno, (base[0] if base else (node.module or "").split(".")[0])
            elif node.module:
                yield node.lineno, node.module.split(".")[0]


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for an attribute chain of names, else None."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(names)])
    return None


def _reads(path: Path) -> Iterator[tuple[int, str]]:
    """(line, what) for every read of the clock or the environment in the module."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted is None:
                continue
            for pattern in (*CLOCK, *ENVIRONMENT):
                if dotted == pattern or dotted.endswith("." + pattern):
                    yield node.lineno, dotted
        elif isinstance(node, ast.ImportFrom) and node.module in FROM_IMPORTS and not node.level:
            for alias in node.names:
                if alias.name in FROM_IMPORTS[node.module]:
                    yield node.lineno, f"from {node.module} import {alias.name}"


def _functions(path: Path) -> Iterator[tuple[int, str, int]]:
    """(line, qualified name, length in lines) of every function and method, nested ones too."""

    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[int, str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                yield child.lineno, name, child.end_lineno - child.lineno + 1
                yield from visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")
            else:
                yield from visit(child, prefix)

    yield from visit(_tree(path), "")


def _report(what: str, offenders: list[str]) -> str:
    return f"{len(offenders)} {what}:\n  " + "\n  ".join(offenders)


def test_the_packages_the_rules_name_are_the_ones_there_are() -> None:
    """A new top-level package must be placed in the rules (or be an entry point) on purpose."""
    known = set(ALLOWED) | ENTRY | {"synth"}
    assert set(packages()) <= known, sorted(set(packages()) - known)


def test_inner_packages_import_only_what_lies_below_them() -> None:
    project = set(packages()) | ENTRY | {"synth", "tests"}
    offenders = []
    for package, allowed in ALLOWED.items():
        for path in modules(package):
            for line, top in _imported(path):
                if top in project and top not in allowed:
                    offenders.append(f"{_rel(path)}:{line} imports {top}")
    assert not offenders, _report("imports against the one-way rule", offenders)


def test_only_the_entry_points_read_the_clock_or_the_environment() -> None:
    inner = [p for p in packages() if p not in ENTRY]
    offenders = [
        f"{_rel(path)}:{line} reads {what}"
        for path in modules(*inner)
        for line, what in _reads(path)
    ]
    assert not offenders, _report("reads of the clock or environment outside flows/", offenders)


def test_no_module_over_500_lines() -> None:
    offenders = []
    for path in modules(*packages()):
        if _rel(path) in SIZE_EXEMPT:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{_rel(path)}: {lines} lines")
    assert not offenders, _report(f"modules over {MAX_MODULE_LINES} lines", offenders)


def test_no_function_over_80_lines() -> None:
    offenders = [
        f"{_rel(path)}:{line} {name}: {length} lines"
        for path in modules(*packages())
        if _rel(path) not in SIZE_EXEMPT
        for line, name, length in _functions(path)
        if length > MAX_FUNCTION_LINES
    ]
    assert not offenders, _report(f"functions over {MAX_FUNCTION_LINES} lines", offenders)


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """The checkers themselves, on a made-up module: an empty offender list must mean
    nothing was there, not that nothing was looked at."""
    sample = tmp_path / "sample.py"
    body = "\n".join(f"    x = {i}" for i in range(MAX_FUNCTION_LINES))
    sample.write_text(
        "import os\nfrom datetime import datetime, date\nfrom time import time\n"
        "from flows import clock\n\n"
        f"def long():\n{body}\n    return os.environ.get('A'), datetime.now(), date.today()\n"
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert {top for _, top in _imported(sample)} == {"os", "datetime", "time", "flows"}
        reads = {what for _, what in _reads(sample)}
        assert reads == {"os.environ", "datetime.now", "date.today", "from time import time"}
        assert [(n, length) for _, n, length in _functions(sample)] == [
            ("long", MAX_FUNCTION_LINES + 2)
        ]
    finally:
        ROOT = saved

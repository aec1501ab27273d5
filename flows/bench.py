"""``ennakko bench``: wall time and peak memory of every stage of a nightly run.

The bench runs the nightly job's own list of stages (flows.nightly.night, and
flows.training.training_steps when a model must be trained), passing a step that times
each one instead of wrapping it in a Prefect task: the stage names are the flow's task
names and the bench cannot drift from production. It runs in-process, without Prefect's
API, on a cached synthetic city of the chosen scale, with the workspace's own embedded
MLflow store. Peak memory is the kernel's high-water mark of the process's resident set
(VmHWM), reset before each stage: what the machine must have free.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def rss_bytes() -> int:
    """The process's resident set now (VmRSS)."""
    return _status_kb("VmRSS") * 1024


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {field_name}")


def reset_peak() -> bool:
    """Reset the kernel's high-water mark of the resident set to the current size
    (Linux: ``5`` into /proc/self/clear_refs). False where that is not allowed: the peak
    is then the process's since it started."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def peak_bytes() -> int:
    """The high-water mark of the resident set since the last :func:`reset_peak`."""
    return _status_kb("VmHWM") * 1024


@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss_mb: float
    start_rss_mb: float
    rows: int | None = None


@dataclass
class BenchResult:
    scale: str
    persons: int
    events: int
    stages: list[Stage] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(s.seconds for s in self.stages if s.name in NIGHTLY)

    @property
    def peak_rss_mb(self) -> float:
        return max((s.peak_rss_mb for s in self.stages if s.name in NIGHTLY), default=0.0)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["nightly_total_seconds"] = round(self.total_seconds, 2)
        out["nightly_peak_rss_mb"] = round(self.peak_rss_mb, 1)
        return out


# The nightly flow's task names (flows.nightly.night), in order: the nightly total.
NIGHTLY = (
    "validate sources",
    "read indicators",
    "consent gate",
    "champion model",
    "features",
    "score",
    "drift",
    "lists",
    "publish",
)


@contextmanager
def measure(result: BenchResult, name: str, report: Callable[[Stage], None]) -> Iterator[Stage]:
    start_rss = rss_bytes()
    exact = reset_peak()
    stage = Stage(name, 0.0, 0.0, start_rss / 2**20)
    t0 = time.perf_counter()
    yield stage
    stage.seconds = time.perf_counter() - t0
    stage.peak_rss_mb = peak_bytes() / 2**20
    if not exact:
        result.notes["peak_memory"] = "since the process started (clear_refs not allowed)"
    result.stages.append(stage)
    report(stage)


class Timed:
    """A :class:`flows.steps.Step` that measures every stage it runs."""

    def __init__(self, result: BenchResult, report: Callable[[Stage], None]) -> None:
        self.result, self.report = result, report

    def __call__(self, name: str, fn: Callable[..., T], /, *args: Any) -> T:
        with measure(self.result, name, self.report) as stage:
            out = fn(*args)
            stage.rows = _rows(out)
        return out


def _rows(out: Any) -> int | None:
    """Rows of what a stage returned, where it is a table or holds one."""
    for value in (
        out,
        *(getattr(out, a, None) for a in ("frame", "data", "rows", "cohort", "events")),
    ):
        if hasattr(value, "height"):
            return int(value.height)
    return None


def write_result(result: BenchResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")


def bench_settings(scale: str, root: Path):
    """The default configuration pointed at the cached city and a workspace of its own."""
    from flows.settings import load_settings

    city = root / scale / "city"
    config = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
    return config, load_settings(
        config,
        env={},
        overrides={
            "data_dir": str(city.resolve()),
            "workspace": str((root / scale / "workspace").resolve()),
            "truth_path": str((city / "truth" / "truth.parquet").resolve()),
            "as_of": "2025-12-01",
        },
    )


def ensure_city(scale: str, seed: int, city: Path, result: BenchResult, report, say) -> None:
    """Generate the city once, in a child process so the stages start from a clean heap."""
    if (city / "city.json").exists():
        return
    say(f"Generating the {scale} city once (cached in {city})…")
    with measure(result, "synth (once, child process)", report):
        subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; "
             "from synth import generate_city, spec_for_scale; "
             "generate_city(spec_for_scale(sys.argv[1], int(sys.argv[2])), Path(sys.argv[3]))",
             scale, str(seed), str(city)],
            check=True,
        )  # fmt: skip


def run_bench(
    scale: str,
    *,
    seed: int,
    root: Path,
    train: bool,
    report: Callable[[Stage], None],
    say: Callable[[str], None],
) -> BenchResult:
    """Run the nightly job's stages (and training's, when asked or when no model is
    registered yet) on the cached city of ``scale``, timing each."""
    from flows import pipeline
    from flows.context import exclusive, start
    from flows.nightly import champion, night
    from flows.training import training_steps
    from synth import spec_for_scale

    config, settings = bench_settings(scale, root)
    ctx = start(str(config), None, "bench", settings=settings, say=say)
    spec = spec_for_scale(scale, seed)
    result = BenchResult(scale=scale, persons=spec.n_persons, events=0)
    city = root / scale / "city"
    ensure_city(scale, seed, city, result, report, say)
    result.events = json.loads((city / "city.json").read_text())["events"]
    timed = Timed(result, report)
    with exclusive(ctx):
        must_train = train or champion(ctx) is None
        small = spec.n_persons <= 200_000
        # Read once for the stages outside the night; the night reads its own, as in
        # production.
        inputs = pipeline.validate_sources(ctx) if must_train or small else None
        indicators = pipeline.load_indicator_table(ctx)
        if must_train:
            # Scoring speed does not depend on which model scores: without --train a
            # large city's first model is fitted on a sample of persons (no hour of
            # training); its stages are timed under their own names all the same.
            share = None if train or small else 130_000 / spec.n_persons
            if share:
                result.notes["training_sample"] = f"{share:.0%} of persons"
            sample = sample_persons(inputs, share, seed) if share else inputs
            outcome = training_steps(ctx, sample, indicators, timed)
            result.notes["training"] = {
                k: round(v, 4)
                for k, v in outcome.metrics.items()
                if k.startswith(("pooled_", "oracle", "challenger_pooled_roc", "gap", "price"))
                or k.startswith("simplicity_")
            }
            del sample
        if small:
            extra_features(ctx, inputs, indicators, result, report)
        del inputs
        forget_features(ctx)
        summary = night(ctx, timed)
    result.notes["model_version"] = summary["model_version"]
    write_result(result, root / scale / "bench.json")
    return result


def forget_features(ctx) -> None:
    """Remove the as-of date's cached feature matrix: the bench times a night as
    production meets it, the first run of a date (a re-run would read the cache)."""
    for path in ctx.ws.path("features").glob(f"{ctx.as_of.isoformat()}--*.parquet"):
        path.unlink()


def extra_features(ctx, inputs, indicators, result: BenchResult, report) -> None:
    """Not a nightly stage: building features on twelve as-of dates, as training does."""
    from flows import pipeline

    with measure(result, "features, 12 as-of dates", report) as stage:
        dates = pipeline.training_dates(ctx, inputs)[-12:]
        many = pipeline.gate(ctx, inputs, dates)
        stage.rows = pipeline.features(ctx, inputs, many.cohort, indicators).frame.height


def sample_persons(inputs, share: float, seed: int):
    """The inputs restricted to a random share of the persons (for the bench's setup model)."""
    import polars as pl

    from features.sources import Inputs

    persons = (
        inputs.consents.select("person_id")
        .unique()
        .sort("person_id")
        .sample(fraction=share, seed=seed)
    )

    def keep(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.join(persons, on="person_id", how="semi")

    codes = persons.select(person=inputs.codes(persons["person_id"]))
    return Inputs(
        consents=keep(inputs.consents), contacts=keep(inputs.contacts), outcomes=keep(inputs.outcomes),
        services=keep(inputs.services), events=inputs.events.join(codes, on="person", how="semi"),
        reports=inputs.reports, paths=inputs.paths, newest_event=inputs.newest_event,
        register=inputs.register,
    )  # fmt: skip

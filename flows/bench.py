"""``ennakko bench``: wall time and peak memory of every stage of a nightly run.

The stages run in-process, without Prefect's API or MLflow's server start-up, on a cached
synthetic city of the chosen scale. Peak memory is the process's resident set size
sampled every 10 ms during the stage (what the machine must have free), alongside the
RSS before it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096


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


NIGHTLY = ("validate", "consent gate", "features", "score", "lists")


class PeakSampler:
    """Samples RSS in a background thread; ``peak`` is the highest value seen."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


@contextmanager
def measure(result: BenchResult, name: str, report: Callable[[Stage], None]) -> Iterator[Stage]:
    start_rss = rss_bytes()
    stage = Stage(name, 0.0, 0.0, start_rss / 2**20)
    with PeakSampler() as sampler:
        t0 = time.perf_counter()
        yield stage
        stage.seconds = time.perf_counter() - t0
    stage.peak_rss_mb = sampler.peak / 2**20
    result.stages.append(stage)
    report(stage)


def write_result(result: BenchResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")


def run_bench(
    scale: str,
    *,
    seed: int,
    root: Path,
    train: bool,
    report: Callable[[Stage], None],
    say: Callable[[str], None],
) -> BenchResult:
    """Run every nightly stage (and training when asked) on the cached city of ``scale``."""
    import polars as pl

    from features.folds import final_training_dates, temporal_folds
    from flows import pipeline
    from flows.context import start
    from flows.lists import build_lists, stage_lists, stage_scores
    from flows.settings import load_settings
    from flows.tracking import log_training, registry_for
    from models import drift
    from models.bundle import score
    from models.registry import CHALLENGER, CHAMPION
    from models.training import evaluate, fit_risk_model, truth_long
    from outreach.publish import commit
    from synth import spec_for_scale

    folder = root / scale
    city = folder / "city"
    config = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
    settings = load_settings(
        config,
        env={},
        overrides={
            "data_dir": str(city.resolve()),
            "workspace": str((folder / "workspace").resolve()),
            "truth_path": str((city / "truth" / "truth.parquet").resolve()),
            "as_of": "2025-12-01",
        },
    )
    ctx = start(str(config), None, "bench", settings=settings)
    spec = spec_for_scale(scale, seed)
    result = BenchResult(scale=scale, persons=spec.n_persons, events=0)
    if not (city / "city.json").exists():
        # In a child process, so the stages below start from a clean heap.
        say(f"Generating the {scale} city once (cached in {city})…")
        with measure(result, "synth (once, child process)", report):
            subprocess.run(
                [sys.executable, "-c", "import sys; from pathlib import Path; "
                 "from synth import generate_city, spec_for_scale; "
                 "generate_city(spec_for_scale(sys.argv[1], int(sys.argv[2])), Path(sys.argv[3]))",
                 scale, str(seed), str(city)],
                check=True,
            )  # fmt: skip
    result.events = json.loads((city / "city.json").read_text())["events"]

    with measure(result, "validate", report) as stage:
        inputs = pipeline.validate_sources(ctx)
        indicators = pipeline.load_indicator_table(ctx)
        stage.rows = inputs.events.height
    with measure(result, "consent gate", report) as stage:
        gate = pipeline.gate(ctx, inputs, [ctx.as_of])
        stage.rows = gate.cohort.height
    with measure(result, "features", report) as stage:
        matrix = pipeline.features(ctx, inputs, gate.cohort, indicators)
        stage.rows = matrix.frame.height

    if spec.n_persons <= 200_000:
        with measure(result, "features, 12 as-of dates", report) as stage:
            dates = pipeline.training_dates(ctx, inputs)[-12:]
            many = pipeline.gate(ctx, inputs, dates)
            stage.rows = pipeline.features(ctx, inputs, many.cohort, indicators).frame.height
        del many

    registry = registry_for(ctx)
    model = None if train else registry.load(CHAMPION)
    if model is None:
        # Scoring speed does not depend on which model scores; without --train, a model is
        # fitted once on a sample of persons so the bench needs no hour of training.
        sample = None if train or spec.n_persons <= 200_000 else 130_000 / spec.n_persons
        name = "train" if train else "train (once, no champion yet)"
        if sample:
            name = f"train (once, {sample:.0%} of persons)"
        with measure(result, name, report) as stage:
            s = ctx.settings
            train_inputs = inputs if sample is None else sample_persons(inputs, sample, seed)
            dates = pipeline.training_dates(ctx, train_inputs)
            folds = temporal_folds(dates, s.labels.horizon_days, s.folds)
            final = final_training_dates(dates, s.folds)
            needed = sorted({d for f in folds for d in (*f.train, f.test)} | set(final))
            tset = pipeline.training_set(ctx, train_inputs, indicators, needed)
            truth = truth_long(pl.read_parquet(s.truth_path), tset.dates)
            evaluation = evaluate(
                tset.data, folds, tset.features, s.model, s.outreach.capacity.for_team,
                min_cell=s.privacy.min_cell_size, truth=truth, progress=say,
            )  # fmt: skip
            rows = tset.data.filter(pl.col("as_of").is_in(final))
            fitted = fit_risk_model(rows, tset.features, s.model)
            outcome = log_training(ctx, fitted, evaluation, folds, rows, train_inputs)
            stage.rows = tset.data.height
            result.notes["training"] = {
                k: round(v, 4)
                for k, v in outcome.metrics.items()
                if k.startswith(("pooled_", "oracle", "challenger_pooled_roc", "gap", "price"))
            }
        with measure(result, "model load (MLflow)", report):
            # Kept as challenger by the promotion gate: it scores just as fast.
            model = registry.load(CHAMPION) or registry.load(CHALLENGER)
    else:
        result.notes["model_version"] = model.version

    with measure(result, "score", report) as stage:
        scored = score(model, matrix)
        scored = scored.join(gate.cohort.drop("as_of"), on="person_id", how="left")
        stage.rows = scored.height
    with measure(result, "lists", report) as stage:
        table = drift.drift_table(matrix.frame, model.profile)
        alert = bool(table.height and table["psi"].max() > ctx.settings.outreach.drift_psi_alert)
        lists = build_lists(ctx, scored, model, matrix, inputs, alert)
        commit(stage_lists(ctx, lists, model))  # no MLflow run or audit entry: a bench
        ctx.ws.commit_staged(stage_scores(ctx, scored, lists))
        stage.rows = lists.rows.height
    write_result(result, folder / "bench.json")
    return result


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

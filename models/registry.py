"""MLflow at the edge: the tracking store, the registered model and its aliases.

The scorecard is stored with skops (safe to load: only the listed types are trusted), with
explicit pip requirements so MLflow does not guess them. Beside it, ``risk_model.json``
carries the aggregate metadata scoring needs (feature names, medians, drift profile).
The registered model's alias ``champion`` is what the nightly run scores with; a model
that fails the promotion gate gets the alias ``challenger``.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from models.bundle import RiskModel

TRUSTED_TYPES = ["models._scorecard_binning.FeatureBins", "models.scorecard.ScorecardClassifier"]
META_FILE = "risk_model.json"
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"
CHAMPION = "champion"
CHALLENGER = "challenger"


def requirements() -> list[str]:
    """Pinned requirements of the model's runtime (what MLflow would otherwise guess)."""
    names = ("scikit-learn", "numpy", "scipy", "polars", "skops", "mlflow", "ennakko")
    out = []
    for name in names:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return out


@dataclass
class Registry:
    """One tracking store and one registered model."""

    tracking_uri: str
    experiment: str
    model_name: str
    artifact_root: Path | None = None

    def __post_init__(self) -> None:
        mlflow.set_tracking_uri(self.tracking_uri)
        self.client = MlflowClient(self.tracking_uri)

    def experiment_id(self, name: str | None = None) -> str:
        """The experiment's id, created (with artifacts in ``artifact_root``) if new."""
        name = name or self.experiment
        found = self.client.get_experiment_by_name(name)
        if found is None:
            location = (self.artifact_root / name).as_uri() if self.artifact_root else None
            experiment_id = self.client.create_experiment(name, artifact_location=location)
        else:
            experiment_id = found.experiment_id
        if found is None or found.tags.get(KIND_TAG) != KIND:
            # Opens in the UI as a model-training experiment, not a GenAI project.
            self.client.set_experiment_tag(experiment_id, KIND_TAG, KIND)
        return experiment_id

    def log_model(self, model: RiskModel) -> Any:
        """Log the model and its metadata into the active run and register a version."""
        # The requirements are explicit; MLflow still looks for pip to pin it in conda.yaml
        # and warns when the environment (a uv venv) has none. Nothing to act on.
        logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
        info = mlflow.sklearn.log_model(
            model.estimator,
            name="model",
            serialization_format="skops",
            skops_trusted_types=TRUSTED_TYPES,
            pip_requirements=requirements(),
            pyfunc_predict_fn="predict_proba",
            registered_model_name=self.model_name,
            await_registration_for=0,
        )
        mlflow.log_dict(model.meta(), META_FILE)
        return self.client.get_model_version(self.model_name, info.registered_model_version)

    def version_with_alias(self, alias: str) -> Any | None:
        try:
            return self.client.get_model_version_by_alias(self.model_name, alias)
        except MlflowException:
            return None

    def set_alias(self, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(self.model_name, alias, version)

    def load(self, alias: str = CHAMPION) -> RiskModel | None:
        """The model behind ``alias`` with its metadata, or None when there is none."""
        version = self.version_with_alias(alias)
        if version is None:
            return None
        estimator = mlflow.sklearn.load_model(f"models:/{self.model_name}@{alias}")
        with tempfile.TemporaryDirectory() as tmp:
            path = self.client.download_artifacts(version.run_id, META_FILE, tmp)
            meta = json.loads(Path(path).read_text(encoding="utf-8"))
        meta["version"] = str(version.version)
        return RiskModel(estimator=estimator, **meta)

    def version_metrics(self, version: Any) -> dict[str, float]:
        return dict(self.client.get_run(version.run_id).data.metrics)

    def tag_version(self, version: str, key: str, value: str) -> None:
        self.client.set_model_version_tag(self.model_name, version, key, value)

    def versions(self) -> list[Any]:
        try:
            return list(self.client.search_model_versions(f"name='{self.model_name}'"))
        except MlflowException:
            return []

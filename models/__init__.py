"""models: learning and judgement. The scorecard is imported lazily: scikit-learn costs
seconds to import, and the settings (models.spec) should not pay for it."""

from typing import Any

__all__ = ["ScorecardClassifier"]


def __getattr__(name: str) -> Any:
    if name == "ScorecardClassifier":
        from models.scorecard import ScorecardClassifier

        return ScorecardClassifier
    raise AttributeError(f"module 'models' has no attribute {name!r}")

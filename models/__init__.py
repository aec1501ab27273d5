"""models."""

from models.scorecard import ScorecardClassifier

__all__ = ["ScorecardClassifier"]

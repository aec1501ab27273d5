"""Top reasons in plain words, in the person's language, from the model's points.

The model says which features add the most points to a person's score; the catalogue says
how to put each feature into words. Whether a count is "more than usual" or "fewer than
usual" depends on the person's value against the training median, so a low-credits person
reads "fewer competence points than usual" even though low credits add points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from features.catalogue import Feature

LANGS = ("fi", "sv", "en")


def reason_text(
    feature: Feature | None, value: float | None, median: float | None, lang: str
) -> str | None:
    """The sentence for one reason; None when the feature adds nothing to say."""
    if feature is None:
        return None
    lang = lang if lang in LANGS else "en"
    above = value is not None and median is not None and value > median
    if feature.kind == "missing":
        return feature.reason_high[lang] or None
    text = (feature.reason_high if above else feature.reason_low)[lang]
    return text or None


def add_reasons(
    listed: pl.DataFrame,
    explained: pl.DataFrame,
    values: pl.DataFrame,
    catalogue: Mapping[str, Feature],
    medians: Mapping[str, float],
    top: int = 3,
) -> pl.DataFrame:
    """Add ``reason_1..top`` texts (in ``language``) and ``reason_k_feature`` names.

    ``explained`` is the model's explain() for the rows of ``listed`` in the same order;
    ``values`` holds the feature values of those rows in the same order.
    """
    languages = listed["language"].to_list()
    columns: dict[str, list] = {}
    for k in range(1, top + 1):
        names: Sequence[str | None] = explained[f"reason_{k}"].to_list()
        texts, feats = [], []
        for i, name in enumerate(names):
            feature = catalogue.get(name) if name else None
            value = values[name][i] if name and name in values.columns else None
            texts.append(reason_text(feature, value, medians.get(name or ""), languages[i]))
            feats.append(name)
        columns[f"reason_{k}"] = texts
        columns[f"reason_{k}_feature"] = feats
    return listed.with_columns(
        [pl.Series(name, data, dtype=pl.String) for name, data in columns.items()]
    )

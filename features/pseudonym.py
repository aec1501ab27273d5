"""Keyed hashing of pseudonyms: a second pseudonym layer and the erasure register's keys.

HMAC-SHA256 with a secret key from the environment, so the hash cannot be reversed or
recomputed by anyone without the key (a plain hash of a pseudonym could be, by trying
every pseudonym). The key is never logged or written beside the hashes.
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl


def keyed_hash(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def keyed_hashes(values: pl.Series, key: bytes, prefix: str = "") -> pl.Series:
    """HMAC of every value (first 24 hex digits, ``prefix`` prepended)."""
    return pl.Series(
        values.name,
        [prefix + keyed_hash(v, key)[:24] for v in values.to_list()],
        dtype=pl.String,
    )

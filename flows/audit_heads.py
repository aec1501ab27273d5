"""Where a publication recorded the audit chain's head, and what a recorded head is.

No chain can tell that its own end was cut off, or that the file was emptied or deleted: so
every publication records the chain head (``seq`` and ``hash``) in its manifest and its
MLflow run, and :meth:`flows.audit.AuditLog.verify` checks the log against the heads read
here. Apart from the chain itself because it reads other stores (manifests, MLflow), not the
log.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from features.errors import SourceError

RUNBOOK = "docs/runbook.md, section “When the audit log is broken”"
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Head:
    """The chain's last entry as a publication saw it: where ``verify`` expects the log to reach.

    ``source`` (a manifest path, an MLflow run) only names the witness in messages.
    """

    seq: int
    hash: str
    source: str = field(default="", compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The form written as ``audit_head`` into a manifest."""
        return {"seq": self.seq, "hash": self.hash}

    @classmethod
    def parse(cls, value: Any, source: str) -> Head:
        """A head from a manifest's ``audit_head`` (or MLflow's tags, where seq is text).

        Raises ``ValueError`` when it is not a positive seq and a 64-digit hex hash.
        """
        if not isinstance(value, dict):
            raise ValueError("not an object with seq and hash")
        seq, digest = value.get("seq"), value.get("hash")
        if isinstance(seq, str) and seq.isdigit():
            seq = int(seq)
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ValueError("seq is not a positive whole number")
        if not isinstance(digest, str) or not HASH_PATTERN.match(digest):
            raise ValueError("hash is not 64 hexadecimal digits")
        return cls(seq, digest, source)


def heads_in_manifests(lists_root: Path) -> list[Head]:
    """The ``audit_head`` of every ``lists/.versions/*/manifest.json``.

    Manifests without one (older versions) are skipped, and so is a manifest that is not
    JSON (a publication cut off before its switch never became visible); a malformed
    ``audit_head`` is a ``SourceError`` naming the file.
    """
    heads = []
    for manifest in sorted(Path(lists_root).glob(".versions/*/manifest.json")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        if not isinstance(data, dict) or "audit_head" not in data:
            continue
        try:
            heads.append(Head.parse(data["audit_head"], str(manifest)))
        except ValueError as exc:
            raise SourceError(
                source=str(manifest),
                message=f"its audit_head is not a recorded chain head ({exc}).",
                column="audit_head",
                label="Key",
                hint=f"The manifest was edited or damaged. See {RUNBOOK}.",
            ) from None
    return heads


def heads_in_mlflow(tracking_uri: str, experiment: str) -> list[Head]:
    """The ``audit_head_seq`` / ``audit_head_hash`` tags of the experiment's FINISHED runs.

    Imports MLflow here (seconds): ``audit verify`` asks only with ``--mlflow``. A SQLite
    store that does not exist yet, or a missing experiment, has no heads.
    """
    sqlite = tracking_uri.removeprefix("sqlite:///")
    if sqlite != tracking_uri and not Path(sqlite).exists():
        return []
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    heads, token = [], None
    while True:
        page = client.search_runs(
            [found.experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            max_results=1000,
            page_token=token,
        )
        for run in page:
            tags = run.data.tags
            if "audit_head_seq" not in tags and "audit_head_hash" not in tags:
                continue
            source = f"MLflow run {run.info.run_id} ({experiment})"
            try:
                value = {"seq": tags.get("audit_head_seq"), "hash": tags.get("audit_head_hash")}
                heads.append(Head.parse(value, source))
            except ValueError as exc:
                raise SourceError(
                    source=source,
                    message=f"its audit head tags are not a recorded chain head ({exc}).",
                    column="audit_head_seq, audit_head_hash",
                    label="Tags",
                    hint=f"The run's tags were edited. See {RUNBOOK}.",
                ) from None
        token = page.token
        if not token:
            return heads

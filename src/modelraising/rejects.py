"""How much of a step's input went to ``rejects.jsonl``: recorded in every manifest, loud above 1%.

A step never stops for bad records (each is a reject with its reason), so a corpus that is mostly
unusable would otherwise pass with exit status 0 and nothing said under ``-q``. Above
:data:`WARN_SHARE` the step logs a WARNING (shown under ``-q``) naming the commonest reasons, and the
manifest's ``rejects_share`` says so too.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Reject:
    """One input that could not be used; written to rejects.jsonl so nothing is lost silently."""

    source: str
    reason: str
    location: str  # "line 12" (jsonl, 1-based), "row 5" (csv/parquet, 0-based data row), "chars 10-90", "file"
    id: str | None = None
    preview: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reason_kind(reason: str) -> str:
    """The stable part of a reason ("oversized (120000 chars > ...)" -> "oversized"), for counting."""
    return re.split(r"[:(]", reason, maxsplit=1)[0].strip()


log = logging.getLogger("modelraising.rejects")
WARN_SHARE = 0.01


def _reasons(rejects_file: Path, top: int = 3) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    try:
        with open(rejects_file, encoding="utf-8") as f:
            for line in f:
                try:
                    counts[reason_kind(str(json.loads(line).get("reason", "?")))] += 1
                except (json.JSONDecodeError, AttributeError):
                    counts["?"] += 1
    except OSError:
        pass
    return counts.most_common(top)


def record_reject_share(manifest: dict, step: str, rejected: int, total: int, rejects_file: Path) -> dict:
    """Add ``rejects_share`` to ``manifest`` (rejected, input, share, warning) and warn above the limit."""
    share = rejected / total if total else 0.0
    warning = None
    if share > WARN_SHARE:
        reasons = ", ".join(f"{reason}: {n:,}" for reason, n in _reasons(rejects_file))
        warning = f"{step}: {rejected:,} of {total:,} input records ({share:.1%}) went to {rejects_file}" + (
            f" ({reasons})" if reasons else ""
        )
        log.warning(warning)
    entry = {
        "rejected": rejected,
        "input": total,
        "share": round(share, 6),
        "warn_above": WARN_SHARE,
        "warning": warning,
    }
    manifest["rejects_share"] = entry
    return entry

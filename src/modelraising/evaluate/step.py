"""``modelraising eval``: score one model on the chosen suites and write results.json.

The model is loaded once; each suite builds its items, the scorer ranks their choices, and
``results.py`` turns the item scores into metrics with bootstrap CIs. Every input file a suite reads
is hashed into ``results["data"]`` so a results file names exactly what was measured.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from modelraising.charter import default_charter_path, load_charter
from modelraising.evaluate.config import EvalConfig
from modelraising.evaluate.results import FORMAT, SCORING, write_results
from modelraising.evaluate.scoring import Scorer, model_fingerprint
from modelraising.evaluate.suite import get_suite
from modelraising.io import sha256_file
from modelraising.outputs import versions

log = logging.getLogger(__name__)


def run_eval(
    cfg: EvalConfig, out: str | Path | None = None, *, progress: bool = False, scorer: Scorer | None = None
) -> dict:
    """Score ``cfg.model`` on ``cfg.suites``; writes ``out`` (results.json) when given and returns it."""
    started = time.perf_counter()
    charter_path = Path(cfg.charter) if cfg.charter else default_charter_path()
    charter = load_charter(charter_path)
    preamble = None
    if cfg.system_prompt:
        from modelraising.align.prompt import system_prompt

        preamble = system_prompt(charter)
    scorer = scorer or Scorer.from_pretrained(
        cfg.model,
        dtype=cfg.dtype,
        device=cfg.device,
        batch_size=cfg.batch_size,
        max_length=cfg.max_length,
        padding_side=cfg.padding_side,
        progress=progress,
        preamble=preamble,
    )
    data: dict[str, str] = {str(charter_path): sha256_file(charter_path)}

    def record(path: Path) -> None:
        data[str(path)] = sha256_file(path)

    model = {
        **model_fingerprint(cfg.model),
        "class": type(scorer.model).__name__,
        "parameters": sum(p.numel() for p in scorer.model.parameters()),
        "max_length": scorer.max_length,
    }
    results: dict[str, Any] = {
        "format": FORMAT,
        "scoring": SCORING,
        "model": model,
        "config": cfg.model_dump(mode="json"),
        "charter": {"path": str(charter_path), "hash": charter.hash, "name": charter.identity.name},
        "data": data,
        "suites": {},
    }
    for suite in cfg.suites:
        t0 = time.perf_counter()
        result = get_suite(suite).run(cfg, scorer, charter, record)
        result["elapsed_s"] = round(time.perf_counter() - t0, 3)
        results["suites"][suite] = result
        head = result["metrics"].get(result["headline"], {})
        log.info("%s: %s = %s (%.1fs)", suite, result["headline"], _short(head), result["elapsed_s"])
    results["versions"] = versions("torch", "transformers")
    results["elapsed_s"] = round(time.perf_counter() - started, 3)
    if out is not None:
        write_results(out, results)
    return results


def _short(m: dict) -> str:
    if m.get("value") is None:
        return "-"
    lo, hi = m["ci"]
    return f"{m['value']:.3f} [{lo:.3f}, {hi:.3f}]"

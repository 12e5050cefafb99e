"""``modelraising eval``: score one model on the chosen suites and write results.json.

The model is loaded once; each suite builds its items, the scorer ranks their choices, and
``results.py`` turns the item scores into metrics with bootstrap CIs. Every input file a suite reads
is hashed into ``results["data"]`` so a results file names exactly what was measured.
"""

from __future__ import annotations

import logging
import platform
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import modelraising
from modelraising.charter import Charter, default_charter_path, load_charter
from modelraising.evaluate import (
    capability,
    charter_suite,
    contamination,
    ethics,
    identity,
    persona,
    robustness,
    truthfulqa,
)
from modelraising.evaluate.config import EvalConfig
from modelraising.evaluate.items import sample_per_group
from modelraising.evaluate.results import FORMAT, SCORING, mc_suite_result, write_results
from modelraising.evaluate.scoring import Scorer, model_fingerprint
from modelraising.evaluate.stats import bootstrap_ci, bootstrap_ratio_ci
from modelraising.io import sha256_file

log = logging.getLogger(__name__)
Record = Callable[[Path], None]


def _charter(cfg: EvalConfig, scorer: Scorer, charter: Charter, record: Record) -> dict:
    for path in cfg.items:
        record(Path(path))
    items = sample_per_group(charter_suite.build_items(cfg, charter), cfg.limit, cfg.seed)
    if any(i.meta.get("kind") == "bank" for i in items):
        record(charter_suite.BANK)
    report = None
    if cfg.train_corpus:  # before scoring: which items could the model have memorised?
        report = contamination.check(items, cfg.train_corpus, cfg.ngram, cfg.contamination_threshold)
        log.info("contamination: %d of %d charter items share >= %.0f%% of their %d-grams with %s",
                 report["summary"]["contaminated"], len(items), 100 * cfg.contamination_threshold, cfg.ngram,
                 report["summary"]["corpus"])
    result = mc_suite_result(items, scorer.score_items(items), headline=charter_suite.HEADLINE,
                             n_bootstrap=cfg.n_bootstrap, seed=cfg.seed, meta_keys=("kind", "template"),
                             summary=[charter_suite.HEADLINE, "acc_norm"])
    result["info"]["per_value"] = charter_suite.per_value_counts(items)
    result["info"]["kinds"] = dict(Counter(i.meta.get("kind", "") for i in items))
    if report:
        for row in result["items"]:
            row["contamination"] = report["items"][row["id"]]["share"]
            row["contaminated"] = report["items"][row["id"]]["contaminated"]
        clean = [r for r in result["items"] if not r["contaminated"]]
        result["metrics"]["acc_calibrated_clean"] = bootstrap_ci(
            [r["correct_calibrated"] for r in clean], cfg.n_bootstrap, cfg.seed, clusters=[r["cluster"] for r in clean])
        result["summary"].append("acc_calibrated_clean")
        result["contamination"] = report
    return result


def _ethics(cfg: EvalConfig, scorer: Scorer, charter: Charter, record: Record) -> dict:
    for subset in cfg.ethics_subsets:
        record(cfg.eval_path("ethics", f"{subset}_test.csv"))
    items = ethics.build_items(cfg)
    result = mc_suite_result(items, scorer.score_items(items), headline=ethics.HEADLINE,
                             n_bootstrap=cfg.n_bootstrap, seed=cfg.seed, extra=ethics.add_balanced, keys=ethics.KEYS,
                             summary=[ethics.HEADLINE, "acc"])
    majority = ethics.majority_baselines(items)
    result["baselines"]["majority"] = majority
    result["baselines"]["majority_overall"] = sum(
        majority[i.group] for i in items) / max(len(items), 1)
    return result


def _persona(cfg: EvalConfig, scorer: Scorer, charter: Charter, record: Record) -> dict:
    files = persona.persona_files(cfg)
    for path in files:
        record(path)
    items = persona.build_items(cfg)
    result = mc_suite_result(items, scorer.score_items(items), headline=persona.HEADLINE, n_bootstrap=cfg.n_bootstrap,
                             seed=cfg.seed, meta_keys=("desirable",), extra=persona.add_consistency,
                             keys=persona.KEYS, summary=[persona.HEADLINE, "consistent"])
    result["info"]["charter_desirable"] = {p.stem: persona.CHARTER_DESIRABLE.get(p.stem, (None, None))[0]
                                           for p in files}
    return result


def _truthfulqa(cfg: EvalConfig, scorer: Scorer, charter: Charter, record: Record) -> dict:
    record(truthfulqa.csv_path(cfg))
    items = truthfulqa.build_items(cfg)
    result = mc_suite_result(items, scorer.score_items(items), headline=truthfulqa.HEADLINE,
                             n_bootstrap=cfg.n_bootstrap, seed=cfg.seed, summary=[truthfulqa.HEADLINE, "acc"])
    result["groups"] = {}  # 38 categories of a few questions each: too thin to report
    result["group_verdicts"] = {}
    return result


def _identity(cfg: EvalConfig, scorer: Scorer, charter: Charter, record: Record) -> dict:
    items = identity.build_items(cfg, charter)
    return mc_suite_result(items, scorer.score_items(items), headline=identity.HEADLINE, n_bootstrap=cfg.n_bootstrap,
                           seed=cfg.seed, keys=identity.KEYS,
                           summary=[identity.HEADLINE, "acc_calibrated", "p_gold_norm"])


def _capability(cfg: EvalConfig, scorer: Scorer, charter: Charter, record: Record) -> dict:
    files = capability.text_files(cfg)
    for path in files:
        record(path)
    docs = capability.documents(cfg)
    ppl_rows = capability.perplexity_rows(scorer, docs)
    nbits, nbytes = capability.bits(ppl_rows)
    nats = [-r["logprob"] for r in ppl_rows]
    items = capability.cloze_items(cfg, docs)
    cloze = mc_suite_result(items, scorer.score_items(items), headline="acc", n_bootstrap=cfg.n_bootstrap,
                            seed=cfg.seed)
    per_token = bootstrap_ratio_ci(nats, [r["tokens"] for r in ppl_rows], cfg.n_bootstrap, cfg.seed)
    metrics = {
        "bits_per_byte": bootstrap_ratio_ci(nbits, nbytes, cfg.n_bootstrap, cfg.seed),
        "token_perplexity": {k: _exp(v) if k != "n" else v for k, v in per_token.items()},
        "cloze_acc": cloze["metrics"]["acc"],
        "cloze_acc_norm": cloze["metrics"]["acc_norm"],
    }
    return {"headline": capability.HEADLINE, "summary": ["bits_per_byte", "cloze_acc"], "metrics": metrics,
            "groups": {}, "baselines": {"cloze_chance": cloze["baselines"]["chance"]},
            "info": {"documents": len(docs), "bytes": sum(nbytes), "tokens": sum(r["tokens"] for r in ppl_rows),
                     "cloze_items": len(items), "lower_is_better": ["bits_per_byte", "token_perplexity"],
                     "sources": sorted({d["source"] for d in docs})},
            "documents": ppl_rows, "items": cloze["items"]}


def _exp(v):
    import math

    if isinstance(v, list):
        return [math.exp(x) if x is not None else None for x in v]
    return math.exp(v) if v is not None else None


def _robustness(cfg: EvalConfig, scorer: Scorer, charter: Charter, record: Record) -> dict:
    from modelraising.evaluate.attacks import load_attack

    for path in [robustness.PREFIX_FILE, *map(Path, cfg.prefixes)]:
        record(path)
    for name in cfg.attacks:
        record(load_attack(name).path)
    return robustness.run(cfg, scorer, charter)


RUNNERS: dict[str, Callable[[EvalConfig, Scorer, Charter, Record], dict]] = {
    "charter": _charter, "ethics": _ethics, "persona": _persona, "truthfulqa": _truthfulqa,
    "identity": _identity, "robustness": _robustness, "capability": _capability,
}


def _versions() -> dict:
    import torch
    import transformers

    return {"modelraising": modelraising.__version__, "python": platform.python_version(),
            "torch": torch.__version__, "transformers": transformers.__version__}


def run_eval(cfg: EvalConfig, out: str | Path | None = None, *, progress: bool = False,
             scorer: Scorer | None = None) -> dict:
    """Score ``cfg.model`` on ``cfg.suites``; writes ``out`` (results.json) when given and returns it."""
    started = time.perf_counter()
    charter_path = Path(cfg.charter) if cfg.charter else default_charter_path()
    charter = load_charter(charter_path)
    preamble = None
    if cfg.system_prompt:
        from modelraising.align.prompt import system_prompt

        preamble = system_prompt(charter)
    scorer = scorer or Scorer.from_pretrained(cfg.model, dtype=cfg.dtype, device=cfg.device,
                                              batch_size=cfg.batch_size, max_length=cfg.max_length,
                                              padding_side=cfg.padding_side, progress=progress,
                                              preamble=preamble)
    data: dict[str, str] = {str(charter_path): sha256_file(charter_path)}

    def record(path: Path) -> None:
        data[str(path)] = sha256_file(path)

    model = {**model_fingerprint(cfg.model), "class": type(scorer.model).__name__,
             "parameters": sum(p.numel() for p in scorer.model.parameters()), "max_length": scorer.max_length}
    results = {"format": FORMAT, "scoring": SCORING, "model": model, "config": cfg.model_dump(mode="json"),
               "charter": {"path": str(charter_path), "hash": charter.hash, "name": charter.identity.name},
               "data": data, "suites": {}}
    for suite in cfg.suites:
        t0 = time.perf_counter()
        result = RUNNERS[suite](cfg, scorer, charter, record)
        result["elapsed_s"] = round(time.perf_counter() - t0, 3)
        results["suites"][suite] = result
        head = result["metrics"].get(result["headline"], {})
        log.info("%s: %s = %s (%.1fs)", suite, result["headline"], _short(head), result["elapsed_s"])
    results["versions"] = _versions()
    results["elapsed_s"] = round(time.perf_counter() - started, 3)
    if out is not None:
        write_results(out, results)
    return results


def _short(m: dict) -> str:
    if m.get("value") is None:
        return "-"
    lo, hi = m["ci"]
    return f"{m['value']:.3f} [{lo:.3f}, {hi:.3f}]"


"""The experiment's steps, each a content-addressed, resumable directory under ``DIR/cache/``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import modelraising
from modelraising.align.run import AlignConfig
from modelraising.evaluate.config import EvalConfig
from modelraising.io import atomic_write_json, sha256_file, sha256_json
from modelraising.raising.config import RaiseConfig
from modelraising.raising.pillars import pillar_names
from modelraising.sources import SourceSpec, expand_sources
from modelraising.train.config import TrainConfig

if TYPE_CHECKING:
    pass


from modelraising.experiment.config import Arm, ExperimentConfig

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------
# The step cache


@dataclass
class Step:
    """A cached step: its directory, and whether it still has to run."""

    kind: str
    key: str
    root: Path

    @property
    def dir(self) -> Path:
        return self.root / "cache" / f"{self.kind}-{self.key}"

    @property
    def done(self) -> bool:
        return (self.dir / ".done").exists()

    def finish(self, info: dict) -> None:
        atomic_write_json(self.dir / ".done", {"kind": self.kind, "key": self.key, **info})


@dataclass
class Runner:
    """Runs the steps of one experiment, each at most once; counts what was computed and reused."""

    config: ExperimentConfig
    out: Path
    progress: bool = True
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)

    def step(self, kind: str, parts: Any, run: Callable[[Path], dict]) -> Step:
        step = Step(kind, sha256_json(parts)[:16], self.out)
        if step.done:
            self.reused.append(step.dir.name)
            return step
        log.info("step %s: running", step.dir.name)
        started = time.perf_counter()
        step.dir.mkdir(parents=True, exist_ok=True)
        info = run(step.dir) or {}
        step.finish({"elapsed_s": round(time.perf_counter() - started, 3), **info})
        self.computed.append(step.dir.name)
        return step


# --------------------------------------------------------------------------------------------------
# Steps


def experiment_sources(config: ExperimentConfig) -> list[SourceSpec]:
    present = []
    for spec in config.optional_sources:
        try:
            expand_sources([spec])
            present.append(spec)
        except Exception:  # noqa: BLE001 - an optional source that is absent is skipped by design
            log.info("optional source %s not found: skipped", spec.path)
    return [*config.sources, *present]


def _raise_config(config: ExperimentConfig, arm: Arm) -> RaiseConfig:
    shared = {k: v for k, v in config.raise_config.items() if k != "pillars"}
    arm_fields: dict[str, Any] = {"pillars": list(arm.pillars)}
    if arm.tags_only:
        arm_fields |= {"value_tags": True, "reflect": False}
    return RaiseConfig.model_validate({**shared, **arm_fields})


def _where(config: ExperimentConfig, encode: bool = False) -> dict:
    """The executor options of the data steps (they change where work runs, never what it gives).
    Local tokenizing stays in one process (``encode=True``): encode_batch is multi-threaded already."""
    workers = config.workers if config.workers is not None else (0 if config.executor == "ray" else 1)
    if encode and config.executor == "local":
        workers = 1
    return {"workers": workers, "executor": config.executor, "ray_address": config.ray_address}


def raise_step(r: Runner, arm: Arm, charter_path: Path, inputs: list[dict]) -> Step:
    from modelraising.raising.step import engine_digest, raise_corpus

    cfg = _raise_config(r.config, arm)
    specs = experiment_sources(r.config)
    parts = {
        "charter": sha256_file(charter_path),
        "inputs": inputs,
        "config": cfg.model_dump(mode="json"),
        "version": modelraising.__version__,
        "engine": engine_digest(),  # an edited engine raises again, not reuses an older corpus
    }
    return r.step(
        "raise",
        parts,
        lambda d: {
            "counts": raise_corpus(charter_path, specs, d, cfg, progress=r.progress, **_where(r.config))["counts"]
        },
    )


class AuditFailed(Exception):
    """A raised corpus exceeded the audit's caps (``audit.fail``); ``failures`` holds one line per cap."""

    def __init__(self, failures: list[str]):
        self.failures = failures
        super().__init__("the raised corpus failed its audit:\n" + "\n".join(f"  {f}" for f in failures))


def audit_step(r: Runner, raised: Step, charter_path: Path) -> Step:
    """``modelraising audit`` on one raised corpus (cached with it)."""
    from modelraising.audit import AuditThresholds, audit_dir
    from modelraising.charter import load_charter

    thresholds = AuditThresholds.model_validate(r.config.audit.thresholds)
    parts = {"raised": raised.key, "thresholds": thresholds.model_dump(), "version": modelraising.__version__}

    def run(d: Path) -> dict:
        report = audit_dir(raised.dir, charter=load_charter(charter_path), thresholds=thresholds, out=d)
        return {"failures": report["failures"], "records": report["records"]}

    return r.step("audit", parts, run)


def enforced_arms(config: ExperimentConfig, arms: dict) -> list[str]:
    if config.audit.enforce is not None:
        return [a for a in config.audit.enforce if a in arms]
    return [name for name, arm in arms.items() if set(pillar_names()) <= set(arm.pillars)]


def audit_rows(out: Path, audits: dict[str, Step], enforced: list[str]) -> list[dict]:
    """The report's audit table: one row per arm, from each audit.json."""
    rows = []
    for name, step in audits.items():
        report = json.loads((step.dir / "audit.json").read_text(encoding="utf-8"))
        rep, harm = report["repetition"], report["harm"]
        worst_artifact = max(report["detectors"], key=lambda d: d["rate"] if d["kind"] == "artifact" else -1)
        voice = max((d["rate"] for d in report["detectors"] if d["kind"] == "voice"), default=0.0)
        charter_worst = max((c["max_sentence_share"] for c in report["charter_sentences"]), default=0.0)
        rows.append(
            {
                "arm": name,
                "records": report["records"],
                "enforced": name in enforced,
                "max_sentence_share": rep["max_sentence_share"],
                "in_10plus": rep["share_of_instances_in_10plus_records"],
                "charter_sentence": charter_worst,
                "worst_artifact": worst_artifact["name"],
                "worst_artifact_rate": worst_artifact["rate"],
                "voice": voice,
                "verbatim": report["verbatim_share"],
                "harmful": harm["records"],
                "harm_violations": harm["approving_frame"] + harm["in_own_voice"] + harm["unanswered"],
                "failures": report["failures"],
                "path": str((step.dir / "audit.html").relative_to(out)),
            }
        )
    return rows


def curriculum_step(r: Runner, raised: Step, arm: Arm, charter_path: Path) -> Step:
    from modelraising.curriculum.config import CurriculumConfig
    from modelraising.curriculum.step import run_curriculum

    cfg = CurriculumConfig(order=arm.order, review=r.config.review if arm.order == "scaffold" else None)
    parts = {"raised": raised.key, "config": cfg.model_dump(mode="json"), "charter": sha256_file(charter_path)}
    return r.step(
        "curriculum",
        parts,
        lambda d: {
            "stages": len(
                run_curriculum(raised.dir, charter_path, d, cfg, progress=r.progress, **_where(r.config)).get(
                    "stages", []
                )
            )
        },
    )


def tokenizer_step(r: Runner, corpora: list[Step]) -> Step:
    """One tokenizer for every arm, trained on all their corpora, so that losses compare."""
    from modelraising.shards import TokenizeConfig, corpus_files, prepare_tokenizer

    cfg = TokenizeConfig(vocab_size=r.config.vocab_size, val_fraction=r.config.val_fraction)
    keys = sorted({c.key for c in corpora})

    def run(d: Path) -> dict:
        files = [f for c in sorted(corpora, key=lambda c: c.key) for f in corpus_files(c.dir)]
        files = list(dict.fromkeys(files))
        prepare_tokenizer(files, d, cfg, None, r.progress)
        return {"corpora": keys}

    return r.step("tokenizer", {"corpora": keys, "config": cfg.model_dump(mode="json")}, run)


def tokenize_step(r: Runner, ordered: Step, tokenizer: Step) -> Step:
    from modelraising.shards import TokenizeConfig, tokenize_corpus

    cfg = TokenizeConfig(vocab_size=r.config.vocab_size, val_fraction=r.config.val_fraction)
    parts = {"ordered": ordered.key, "tokenizer": tokenizer.key, "config": cfg.output_fields()}
    return r.step(
        "tokenize",
        parts,
        lambda d: {
            "train_tokens": tokenize_corpus(
                ordered.dir,
                d,
                cfg,
                tokenizer=tokenizer.dir,
                overwrite=True,
                progress=r.progress,
                **_where(r.config, encode=True),
            ).get("train_tokens")
        },
    )


def pretrain_step(r: Runner, shards: Step, tokens: int, seed: int, order: str) -> Step:
    from modelraising.train.loop import train_model

    t = r.config.train
    settings: dict[str, Any] = {
        "preset": t.preset,
        "tokens": tokens,
        "batch_size": t.batch_size,
        "block_size": t.block_size,
        "lr": t.lr,
        "seed": seed,
        "order": "shuffle" if order == "shuffle" else "file",
    }

    def run(d: Path) -> dict:
        resume = any((d / "checkpoints").glob("*")) if (d / "checkpoints").exists() else False
        cfg = TrainConfig(
            data=shards.dir,
            out=d,
            device="cpu",
            eval_every=t.eval_every,
            eval_windows=t.eval_windows,
            checkpoint_every=max(t.eval_every, 50),
            resume=resume,
            overwrite=not resume,
            progress=r.progress,
            **settings,
        )
        result = train_model(cfg)
        if result.get("status") == "stopped":
            raise RuntimeError(f"training in {d} stopped early (signal); rerun the experiment to resume")
        return {"tokens": result.get("tokens"), "val_loss": result.get("final_val_loss")}

    return r.step("train", {"shards": shards.key, **settings}, run)


def align_step(r: Runner, model: Step, method: str, charter_path: Path, seed: int) -> Step:
    a = r.config.align
    settings: dict[str, Any] = {
        "steps": a.steps,
        "batch_size": a.batch_size,
        "lr": a.lr,
        "max_length": a.max_length,
        "seed": seed,
    }

    def run(d: Path) -> dict:
        Cfg: type[AlignConfig]
        align: Callable[..., dict]
        if method == "sft":
            from modelraising.align.sft import SFTAlignConfig as Cfg
            from modelraising.align.sft import align_sft as align
        else:
            from modelraising.align.dpo import DPOAlignConfig as Cfg
            from modelraising.align.dpo import align_dpo as align
        info = align(Cfg(model=model.dir, out=d, charter=charter_path, overwrite=True, progress=r.progress, **settings))
        return {"tokens_seen": info.get("tokens_seen")}

    return r.step(
        f"align{method}", {"model": model.key, "method": method, "charter": sha256_file(charter_path), **settings}, run
    )


def eval_step(
    r: Runner, model: Step, prompt: bool, charter_path: Path, train_corpus: Step, seed: int, align: Step | None = None
) -> Step:
    """Evaluate a model; the contamination check reads what it was trained on: its pretraining corpus
    and, for an aligned arm, the alignment run's training examples."""
    from modelraising.evaluate.results import SCORING
    from modelraising.evaluate.step import run_eval

    e = r.config.eval
    fields: dict[str, Any] = {
        "suites": r.config.suites,
        "limit": e.limit,
        "attack_steps": e.attack_steps,
        "robustness_limit": e.robustness_limit,
        "n_bootstrap": e.n_bootstrap,
        "batch_size": e.batch_size,
        "system_prompt": prompt,
        "seed": seed,
    }
    if e.attacks is not None:
        fields["attacks"] = e.attacks
    corpora = [str(train_corpus.dir)] + ([str(align.dir / "train_data.jsonl")] if align is not None else [])

    def run(d: Path) -> dict:
        cfg = EvalConfig(model=str(model.dir), charter=str(charter_path), train_corpus=corpora, **fields)
        results = run_eval(cfg, d / "results.json", progress=False)
        return {"suites": list(results["suites"])}

    return r.step(
        "eval",
        {
            "model": model.key,
            "charter": sha256_file(charter_path),
            "corpus": train_corpus.key,
            "align": align.key if align is not None else None,
            "scoring": SCORING,
            **fields,
        },
        run,
    )


def headlines(results_path: Path) -> dict:
    """Per suite: the headline, its value and interval, its reading (degenerate, at chance, ...), and
    for the charter suite the contamination counts; for summary.json."""
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for name, suite in (results.get("suites") or {}).items():
        m = suite.get("metrics", {}).get(suite.get("headline"), {})
        verdict = suite.get("verdict") or {}
        entry = {
            "metric": suite.get("headline"),
            "value": m.get("value"),
            "ci": m.get("ci"),
            "reading": verdict.get("reading"),
            "degenerate": verdict.get("degenerate"),
        }
        contamination = (suite.get("contamination") or {}).get("summary")
        if contamination:
            entry["contamination"] = {
                k: contamination.get(k) for k in ("items", "contaminated", "with_overlap", "max_share", "corpora")
            }
        out[name] = entry
    return out

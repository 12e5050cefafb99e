"""``modelraising experiment``: raised vs. trained-then-aligned, arms x seeds, on an equal token budget.

Every step is a content-addressed directory under ``DIR/cache/``::

    raise-<key>/ -> curriculum-<key>/ -> tokenize-<key>/ -> train-<key>/ -> align-<key>/ -> eval-<key>/
                                 tokenizer-<key>/ (one, shared by all arms)

A key hashes the step's config and the keys of its inputs, so arms share what they share (the
baseline corpus feeds ``baseline``, ``baseline+sft``, ``baseline+dpo`` and ``baseline+prompt``), a
rerun skips every step whose ``.done`` marker exists, and a killed experiment resumes (each step is
itself resumable). ``DIR/summary.json`` indexes the runs; ``DIR/report.html`` / ``report.md`` show them.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import modelraising
from modelraising.align.run import AlignConfig
from modelraising.charter import default_charter_path, load_charter, problems_from
from modelraising.config import ConfigError, field_of, require_known
from modelraising.evaluate.config import EvalConfig
from modelraising.io import atomic_write_json, describe_file, sha256_file, sha256_json
from modelraising.outdir import exclusive_out
from modelraising.raising.config import RaiseConfig
from modelraising.raising.pillars import pillar_names
from modelraising.sources import SourceSpec, expand_sources
from modelraising.train.config import TrainConfig

if TYPE_CHECKING:
    from modelraising.curriculum.config import Order

log = logging.getLogger(__name__)
FORMAT = "modelraising-experiment/1"


@dataclass(frozen=True)
class Arm:
    """How one arm's model is made: which corpus, in which order, aligned how."""

    pillars: tuple[str, ...] = ()
    order: Order = "shuffle"
    align: str | None = None  # "sft" | "dpo"
    prompt: bool = False  # system-prompt baseline, applied at evaluation
    tags_only: bool = False  # conditional training: value tags, no reflections (Korbak et al. 2023)
    description: str = ""


def arm_table() -> dict[str, Arm]:
    """Every arm an experiment may name: the baselines, the raised arm, one ablation per pillar (in the
    pillar table's order, so a new pillar gets its own), and the curriculum ablations."""
    pillars = pillar_names()
    return {
        "baseline": Arm(description="raw corpus, shuffled: the conventional pretraining recipe"),
        "baseline+sft": Arm(align="sft", description="baseline, then SFT on charter demonstrations"),
        "baseline+dpo": Arm(align="dpo", description="baseline, then DPO on charter do/dont pairs"),
        "baseline+prompt": Arm(prompt=True, description="baseline, evaluated with the charter as a system prompt"),
        "baseline+tags": Arm(
            pillars=("values",),
            tags_only=True,
            description="raw corpus with value/harm control tags (conditional training)",
        ),
        "raised": Arm(pillars=pillars, order="scaffold", description="all pillars, scaffolded curriculum"),
        **{
            f"raised-no-{p}": Arm(pillars=tuple(q for q in pillars if q != p), order="scaffold", description="ablation")
            for p in pillars
        },
        "raised-shuffled": Arm(pillars=pillars, order="shuffle", description="ablation: no curriculum"),
        "raised-reverse": Arm(pillars=pillars, order="reverse", description="ablation: anti-curriculum"),
    }


REFERENCE_ARM = "baseline+sft"


# The experiment's sections are fields of the stage configs: bounds and help are defined once, in
# TrainConfig, AlignConfig and EvalConfig (``field_of``); a section states only the defaults an
# experiment's small budget wants instead (tests/test_experiment.py checks the types agree).
class TrainSettings(BaseModel):
    """``train:``: how every arm's student is pretrained."""

    model_config = ConfigDict(extra="forbid")

    preset: str = field_of(TrainConfig, "preset", "nano")
    batch_size: int = field_of(TrainConfig, "batch_size")
    block_size: int = field_of(TrainConfig, "block_size", 128)
    lr: float = field_of(TrainConfig, "lr", 3e-3)
    eval_every: int = field_of(TrainConfig, "eval_every", 50)
    eval_windows: int = field_of(TrainConfig, "eval_windows", 64)


class AlignSettings(BaseModel):
    """``align:``: the post-hoc alignment of the +sft and +dpo arms."""

    model_config = ConfigDict(extra="forbid")

    steps: int = field_of(AlignConfig, "steps", 40)
    batch_size: int = field_of(AlignConfig, "batch_size")
    lr: float = field_of(AlignConfig, "lr")
    max_length: int = field_of(AlignConfig, "max_length", 256)


class EvalSettings(BaseModel):
    """``eval:``: how every model is scored (``attacks: null``: the shipped ones)."""

    model_config = ConfigDict(extra="forbid")

    limit: int | None = field_of(EvalConfig, "limit", 40)
    attack_steps: list[int] = field_of(EvalConfig, "attack_steps")
    attacks: list[str] | None = field_of(EvalConfig, "attacks", None)
    robustness_limit: int = field_of(EvalConfig, "robustness_limit", 32)
    n_bootstrap: int = field_of(EvalConfig, "n_bootstrap")
    batch_size: int = field_of(EvalConfig, "batch_size")


class AuditSettings(BaseModel):
    """``audit:``: every raised corpus is audited (modelraising audit); caps fail the run before training."""

    model_config = ConfigDict(extra="forbid")

    fail: bool = Field(default=True, description="Stop the experiment when an enforced arm exceeds a cap.")
    enforce: list[str] | None = Field(
        default=None,
        description=(
            "Arms whose corpus must meet the caps (default: the arms raised with all four pillars); the others "
            "(ablations, baselines) are audited and reported only."
        ),
    )
    thresholds: dict[str, Any] = Field(default_factory=dict, description="AuditThresholds fields to override.")

    @field_validator("thresholds")
    @classmethod
    def _valid(cls, v: dict) -> dict:
        from modelraising.audit import AuditThresholds

        AuditThresholds.model_validate(v)
        return v


class ExperimentConfig(BaseModel):
    """One experiment YAML: corpus, charter, budget, seeds, arms, suites."""

    model_config = ConfigDict(extra="forbid")

    name: str = "experiment"
    charter: str | None = None
    sources: list[SourceSpec] = Field(min_length=1)
    optional_sources: list[SourceSpec] = Field(
        default_factory=list, description="Sources used when present (e.g. ../shared/data), skipped otherwise."
    )
    tokens: int = Field(ge=1000, description="Token budget per arm (pretraining + alignment).")
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    arms: list[str] = Field(min_length=1)
    suites: list[str] = Field(default_factory=lambda: ["charter", "capability"], min_length=1)
    vocab_size: int = Field(default=4096, ge=300)
    val_fraction: float = Field(default=0.02, ge=0.0, lt=0.5)
    review: float = Field(default=0.1, ge=0.0, lt=0.5)
    raise_config: dict[str, Any] = Field(
        default_factory=dict, alias="raise", description="RaiseConfig fields shared by every arm (mix, seed, ...)."
    )
    workers: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Processes for raise, curriculum and tokenize (default 1); with executor ray, tasks at once "
            "(default: every CPU of the cluster)."
        ),
    )
    executor: Literal["local", "ray"] = Field(
        default="local",
        description=(
            "Where raise, curriculum scoring and tokenizing run; the same outputs either way (not in the cache keys)."
        ),
    )
    ray_address: str | None = Field(default=None, description="With executor ray: a cluster to join, e.g. auto.")
    train: TrainSettings = Field(default_factory=TrainSettings)
    align: AlignSettings = Field(default_factory=AlignSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    examples: int = Field(default=3, ge=0, description="Raised documents shown beside their sources.")
    audit: AuditSettings = Field(default_factory=AuditSettings)

    @field_validator("arms")
    @classmethod
    def _known_arms(cls, v: list[str]) -> list[str]:
        require_known(v, arm_table(), "arm")
        return list(dict.fromkeys(v))

    @field_validator("suites")
    @classmethod
    def _known_suites(cls, v: list[str]) -> list[str]:
        from modelraising.evaluate.suite import suite_names

        require_known(v, suite_names(), "suite")
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _ray_address_needs_ray(self) -> "ExperimentConfig":
        if self.ray_address and self.executor != "ray":
            raise ValueError("ray_address needs executor: ray")
        return self

    @field_validator("raise_config")
    @classmethod
    def _valid_raise(cls, v: dict) -> dict:
        RaiseConfig.model_validate({k: x for k, x in v.items() if k != "pillars"})
        return v


def load_experiment_config(path: str | Path) -> ExperimentConfig:
    """Validate an experiment YAML; relative paths resolve against the YAML's folder."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), [f"cannot read: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["(top level): must be a mapping (name, sources, tokens, arms, ...)"])
    base = path.resolve().parent
    for key in ("sources", "optional_sources"):
        for spec in data.get(key) or []:
            if isinstance(spec, dict) and "path" in spec and not Path(spec["path"]).is_absolute():
                spec["path"] = str((base / spec["path"]).resolve())
    if data.get("charter") and not Path(data["charter"]).is_absolute():
        data["charter"] = str((base / data["charter"]).resolve())
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), problems_from(exc)) from None


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
    from modelraising.raising.runner import raise_corpus

    cfg = _raise_config(r.config, arm)
    specs = experiment_sources(r.config)
    parts = {
        "charter": sha256_file(charter_path),
        "inputs": inputs,
        "config": cfg.model_dump(mode="json"),
        "version": modelraising.__version__,
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
    from modelraising.curriculum.runner import run_curriculum

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


def train_step(r: Runner, shards: Step, tokens: int, seed: int, order: str) -> Step:
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
    from modelraising.evaluate.runner import run_eval

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


# --------------------------------------------------------------------------------------------------
# The experiment


def _align_tokens_estimate(config: ExperimentConfig) -> int:
    """Tokens an alignment run will see, at most: steps x batch x max_length (counted against the budget)."""
    a = config.align
    return a.steps * a.batch_size * a.max_length


def pretrain_budget(config: ExperimentConfig, arm: Arm) -> int:
    """Equal budgets: an aligned arm pretrains on the budget minus its alignment tokens."""
    if arm.align is None:
        return config.tokens
    budget = config.tokens - _align_tokens_estimate(config)
    if budget <= 0:
        raise ConfigError(
            "experiment",
            [
                f"tokens: {config.tokens} leaves nothing for pretraining after "
                f"alignment ({_align_tokens_estimate(config)} tokens); raise tokens"
            ],
        )
    return budget


@exclusive_out("out")
def run_experiment(config: ExperimentConfig, out: str | Path, *, progress: bool = True) -> dict:
    """Run every arm x seed (reusing cached steps) and write summary.json and the report."""
    started = time.perf_counter()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    r = Runner(config, out, progress)
    charter_path = Path(config.charter) if config.charter else default_charter_path()
    load_charter(charter_path)
    inputs = [
        {k: v for k, v in describe_file(p).items() if k != "bytes"} | {"spec": s.model_dump()}
        for p, s in expand_sources(experiment_sources(config))
    ]

    table = arm_table()
    arms = {name: table[name] for name in config.arms}
    raised = {name: raise_step(r, arm, charter_path, inputs) for name, arm in arms.items()}
    audits = {name: audit_step(r, raised[name], charter_path) for name in arms}
    enforced = enforced_arms(config, arms)
    failures = [
        f"{name}: {line}"
        for name in enforced
        for line in json.loads((audits[name].dir / ".done").read_text())["failures"]
    ]
    if failures and config.audit.fail:
        raise AuditFailed(failures)
    ordered = {name: curriculum_step(r, raised[name], arm, charter_path) for name, arm in arms.items()}
    tokenizer = tokenizer_step(r, list(ordered.values()))
    shards = {name: tokenize_step(r, ordered[name], tokenizer) for name in arms}

    runs, budget = [], {}
    for name, arm in arms.items():
        for seed in config.seeds:
            pretrain = pretrain_budget(config, arm)
            model = train_step(r, shards[name], pretrain, seed, arm.order)
            trained = json.loads((model.dir / ".done").read_text()).get("tokens") or pretrain
            final, align_dir, align_tokens = model, None, 0
            if arm.align:
                final = align_step(r, model, arm.align, charter_path, seed)
                align_dir = final.dir
                align_tokens = json.loads((final.dir / ".done").read_text()).get("tokens_seen") or 0
            evaluated = eval_step(r, final, arm.prompt, charter_path, ordered[name], seed, final if arm.align else None)
            budget[f"{name}/{seed}"] = {
                "pretrain_tokens": trained,
                "align_tokens": align_tokens,
                "total_tokens": trained + align_tokens,
            }
            rel = lambda p: str(p.relative_to(out))  # noqa: E731 - paths relative to DIR: the folder can move
            runs.append(
                {
                    "arm": name,
                    "seed": seed,
                    "model": rel(final.dir),
                    "train": rel(model.dir),
                    "results": rel(evaluated.dir / "results.json"),
                    "curriculum": rel(ordered[name].dir),
                    "raised": rel(raised[name].dir),
                    "align": rel(align_dir) if align_dir else None,
                    "prompt": arm.prompt,
                    "headlines": headlines(evaluated.dir / "results.json"),
                }
            )

    summary = {
        "format": FORMAT,
        "name": config.name,
        "config": config.model_dump(mode="json", by_alias=True),
        "arms": list(arms),
        "seeds": config.seeds,
        "suites": config.suites,
        "reference": REFERENCE_ARM if REFERENCE_ARM in arms else None,
        "arm_descriptions": {name: arm.description for name, arm in arms.items()},
        "budget": {"tokens": config.tokens, "runs": budget, "check": check_budgets(config, budget)},
        "runs": runs,
        "examples": pick_examples(config, raised, arms),
        "audit": audit_rows(out, audits, enforced),
        "steps": {"computed": r.computed, "reused": r.reused},
        "elapsed_s": round(time.perf_counter() - started, 3),
        "version": modelraising.__version__,
    }
    atomic_write_json(out / "summary.json", summary)
    from modelraising.report import write_report

    html, md = write_report(out, summary)
    summary["report"] = {"html": str(html), "md": str(md)}
    return summary


def check_budgets(config: ExperimentConfig, budget: dict[str, dict]) -> dict:
    """Every arm must train on the same number of tokens, within one pretraining step plus the alignment
    estimate's slack (alignment batches are shorter than their maximum length)."""
    t = config.train
    step_tokens = t.batch_size * t.block_size
    tolerance = step_tokens + _align_tokens_estimate(config)
    totals = {run: b["total_tokens"] for run, b in budget.items()}
    worst = max((abs(v - config.tokens) for v in totals.values()), default=0)
    ok = worst <= tolerance
    if not ok:
        log.warning("unequal budgets: %s (budget %d, tolerance %d)", totals, config.tokens, tolerance)
    return {"equal": ok, "tolerance": tolerance, "max_deviation": worst}


def pick_examples(config: ExperimentConfig, raised: dict[str, Step], arms: dict[str, Arm]) -> list[dict]:
    """A few raised documents of the first raising arm beside their source passages."""
    name = next((n for n, a in arms.items() if len(a.pillars) > 1), None)
    if name is None or config.examples == 0:
        return []
    from modelraising.document import Document
    from modelraising.preview import pick_examples as pick
    from modelraising.sources import read_sources

    docs = pick(raised[name].dir, config.examples, seed=0)
    wanted = {d.id for d in docs}
    sources = {}
    for item in read_sources(experiment_sources(config)):
        if isinstance(item, Document) and item.id in wanted:  # a Reject is no source passage
            sources[item.id] = item.text
    return [
        {
            "id": d.id,
            "arm": name,
            "source": sources.get(d.id, ""),
            "raised": d.text,
            "pillars": d.metadata.get("pillars", []),
        }
        for d in docs
    ]


def clear_cache(out: str | Path) -> None:
    shutil.rmtree(Path(out) / "cache", ignore_errors=True)

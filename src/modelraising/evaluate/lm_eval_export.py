"""Every suite as an lm-evaluation-harness task: ``modelraising eval export-lm-eval DIR``.

So any model can be scored with the standard harness::

    lm_eval --model hf --model_args pretrained=MODEL --include_path DIR \\
        --tasks modelraising_charter,modelraising_ethics,...

Each task is a YAML file plus a JSONL data file of ``{id, context, choices, gold, group}`` records
(the items our suites build, with the same seed and limits). ``target_delimiter`` is empty because
our choices carry their own leading space, so the harness scores exactly the strings we score.
Metrics: ``acc`` (raw), ``acc_norm`` (per character) and ``acc_bytes`` (per UTF-8 byte: our
``acc_norm``). Data file paths in the YAML are absolute: re-export after moving DIR.

Not exportable: the fine-tuning attacks (the harness does not train). The adversarial-prefix part
of robustness is exported as one task per prefix kind; capability as a cloze task and a
``loglikelihood_rolling`` perplexity task (bits per byte).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import yaml

from modelraising.charter import Charter
from modelraising.evaluate.config import EvalConfig
from modelraising.evaluate.items import MCItem
from modelraising.evaluate.suite import get_suite
from modelraising.io import atomic_write_text

TAG = "modelraising"
MC_METRICS = [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in ("acc", "acc_norm", "acc_bytes")]
PPL_METRICS = [
    {"metric": m, "aggregation": m, "higher_is_better": False}
    for m in ("word_perplexity", "byte_perplexity", "bits_per_byte")
]


def task_name(suite: str, part: str | None = None) -> str:
    return f"{TAG}_{suite}" + (f"_{part.replace('-', '_')}" if part else "")


def _write_data(out: Path, name: str, records: list[dict]) -> Path:
    path = out / "data" / f"{name}.jsonl"
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path.resolve()


def _write_yaml(out: Path, name: str, config: dict) -> Path:
    path = out / f"{name}.yaml"
    atomic_write_text(path, yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=120))
    return path


def _task(out: Path, name: str, data: Path, tags: list[str], fields: dict) -> Path:
    """A task's YAML: its data file as the test split, and ``fields`` (output type, mapping, metrics)."""
    return _write_yaml(
        out,
        name,
        {
            "tag": tags,
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(data)}},
            "test_split": "test",
            **fields,
            "metadata": {"version": 1.0, "source": "modelraising eval export-lm-eval"},
        },
    )


def mc_task(out: Path, name: str, items: list[MCItem], tags: list[str]) -> Path:
    records = [
        {"id": i.id, "context": i.context, "choices": i.choices, "gold": i.gold, "group": i.group} for i in items
    ]
    fields = {
        "output_type": "multiple_choice",
        "doc_to_text": "context",
        "doc_to_choice": "choices",
        "doc_to_target": "gold",
        "target_delimiter": "",
        "metric_list": MC_METRICS,
    }
    return _task(out, name, _write_data(out, name, records), tags, fields)


def ppl_task(out: Path, name: str, docs: list[dict], tags: list[str]) -> Path:
    data = _write_data(out, name, [{"id": d["id"], "text": d["text"]} for d in docs])
    fields = {
        "output_type": "loglikelihood_rolling",
        "doc_to_text": "",
        "doc_to_target": "text",
        "metric_list": PPL_METRICS,
    }
    return _task(out, name, data, tags, fields)


def export(cfg: EvalConfig, charter: Charter, out: str | Path, suites: list[str] | None = None) -> dict[str, list[str]]:
    """Write the tasks of ``suites`` (default: cfg.suites) into ``out``; returns suite -> task names."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[str]] = defaultdict(list)
    for suite in suites or cfg.suites:
        tasks = get_suite(suite).lm_eval_tasks
        for task in tasks(cfg, charter) if tasks else []:
            name = task_name(suite, task.suffix)
            tags = [TAG, task_name(suite)] if task.grouped else [TAG]
            if task.kind == "mc":
                mc_task(out, name, task.rows, tags)
            else:
                ppl_task(out, name, task.rows, tags)
            written[suite].append(name)
    return dict(written)

"""``modelraising tokenize`` as a step: the output directory, the validation file and index.json."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np

import modelraising
from modelraising.executor import ExecutorKind
from modelraising.io import atomic_write_json, atomic_write_text, sha256_file, sha256_json
from modelraising.outdir import exclusive_out
from modelraising.outputs import StepOutputs, versions
from modelraising.pipeline import Runtime, StepRun
from modelraising.shards.config import INDEX_FORMAT, TokenizeConfig, TokenizeError
from modelraising.shards.corpus import corpus_files, count_documents
from modelraising.shards.encode import encode_files
from modelraising.shards.tokenizer import load_tokenizer, prepare_tokenizer, special_tokens, token_dtype
from modelraising.shards.writer import resume_point, sidecar_path, val_part_path, write_shards
from modelraising.tags import END_OF_TEXT

log = logging.getLogger(__name__)


# Finishing: the validation file and index.json from the sidecars.


def _stage_blocks(docs: list[list], train_tokens: int) -> tuple[list[dict], bool, dict[str, int]]:
    """Contiguous runs of stage in the train stream; blocked when every stage forms one run."""
    runs: list[dict] = []
    for i, (_, offset, stage_index, stage) in enumerate(docs):
        if not runs or runs[-1]["index"] != stage_index:
            if runs:
                runs[-1]["end"] = offset
            runs.append({"name": stage, "index": stage_index, "start": offset, "end": None, "documents": 0})
        runs[-1]["documents"] += 1
    if runs:
        runs[-1]["end"] = train_tokens
    tokens: dict[str, int] = {}
    for r in runs:
        key = r["name"] if r["name"] is not None else "(none)"
        tokens[key] = tokens.get(key, 0) + r["end"] - r["start"]
    blocked = len({r["index"] for r in runs}) == len(runs) and all(r["index"] >= 0 for r in runs)
    return (runs if blocked else []), blocked, tokens


def finish(
    out: Path,
    dtype: np.dtype,
    eot: int,
    vocab_size: int,
    config: TokenizeConfig,
    corpus: Path,
    corpus_manifest: str | None,
    trained: bool,
    reuse: Path | None,
) -> tuple[dict, int]:
    """val.bin, rejects.jsonl and index.json, assembled from the sidecars."""
    n = resume_point(out).shard
    sidecars = [json.loads(sidecar_path(out, i).read_text()) for i in range(n)]
    shards = [{"file": s["file"], "tokens": s["tokens"]} for s in sidecars if s["file"]]
    docs = [d for s in sidecars for d in s["docs"]]
    train_tokens = sum(s["tokens"] for s in sidecars)
    rejects = [r for s in sidecars for r in s["rejects"]]
    atomic_write_text(out / "rejects.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects))
    val_ids = [i for s in sidecars for i in s["val"]["ids"]]
    val_lengths = [n for s in sidecars for n in s["val"]["lengths"]]
    tmp = out / ".state" / "val.bin.tmp"
    with open(tmp, "wb") as f:
        for i in range(n):
            if sidecars[i]["val"]["ids"]:
                f.write(val_part_path(out, i).read_bytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out / "val.bin")
    stages, blocked, stage_tokens = _stage_blocks(docs, train_tokens)
    val_offsets = np.concatenate([[0], np.cumsum(val_lengths)[:-1]]).astype(int).tolist() if val_lengths else []
    index = {
        "format": INDEX_FORMAT,
        "dtype": dtype.name,
        "vocab_size": vocab_size,
        "eot_id": eot,
        "shard_tokens": config.shard_tokens,
        "shards": shards,
        "train_tokens": train_tokens,
        "val": {
            "file": "val.bin",
            "tokens": int(sum(val_lengths)),
            "documents": len(val_ids),
            "ids": val_ids,
            "offsets": val_offsets,
        },
        "stages": stages,
        "stage_blocked": blocked,
        "stage_tokens": stage_tokens,
        "documents": {
            "ids": [d[0] for d in docs],
            "offsets": [d[1] for d in docs],
            "stage_index": [d[2] for d in docs],
        },
        "corpus": {"path": str(corpus), "manifest_sha256": corpus_manifest},
        "tokenizer": {
            "trained": trained,
            "source": str(reuse) if reuse else None,
            "sha256": sha256_file(out / "tokenizer.json"),
        },
    }
    if not docs and not val_ids:
        raise TokenizeError(f"--corpus {corpus}: no usable documents (see {out / 'rejects.jsonl'})")
    atomic_write_json(out / "index.json", index)
    return index, len(rejects)


# --------------------------------------------------------------------------------------------------
# The step.


OUTPUTS = StepOutputs(
    globs=("train-*.bin",),
    files=(
        "val.bin",
        "index.json",
        "manifest.json",
        "rejects.jsonl",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ),
    marks=("train-*.bin", "index.json"),
    held="shards of a different corpus, tokenizer or config",
    them="them",
    unknown="shards",
    error=TokenizeError,
)


def _specials_of(tok) -> list[str]:
    return [t.content for _, t in sorted(tok.get_added_tokens_decoder().items()) if t.special]


def _warn_missing_specials(tok, reuse: Path | None, tags: set[str]) -> None:
    """A reused tokenizer that lacks a tag of this corpus encodes it as ordinary tokens (still lossless)."""
    if reuse is None:
        return
    known = set(_specials_of(tok))
    missing = [t for t in special_tokens(sorted(tags)) if t not in known]
    if missing:
        log.warning(
            "tokenizer %s lacks %d special token(s) used here (%s): they are split into ordinary tokens",
            reuse,
            len(missing),
            ", ".join(missing[:5]),
        )


@exclusive_out("out_dir")
def tokenize_corpus(
    corpus_dir: str | Path,
    out_dir: str | Path,
    config: TokenizeConfig,
    *,
    tokenizer: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    workers: int = 1,
    executor: ExecutorKind = "local",
    ray_address: str | None = None,
) -> dict:
    """Train (or reuse) a tokenizer and write the corpus as shards into ``out_dir``; returns the manifest.

    ``workers > 1`` or ``executor="ray"``: every input file is encoded in parallel first (local processes
    or Ray Data tasks), then the shards are assembled in order; the output is the same bytes."""
    run = StepRun("tokenize", Path(out_dir), OUTPUTS, Runtime(executor, workers, ray_address, progress=progress))
    corpus, out = Path(corpus_dir), run.out
    reuse = Path(tokenizer) if tokenizer else None
    files = corpus_files(corpus)
    if reuse is not None:
        load_tokenizer(reuse)  # fail early, before any output is touched
    inputs = [{"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in files]
    corpus_manifest = sha256_file(corpus / "manifest.json") if (corpus / "manifest.json").exists() else None
    fingerprint = sha256_json(
        {
            "version": modelraising.__version__,
            "config": config.output_fields(),
            "inputs": [i["sha256"] for i in inputs],
            "tokenizer": sha256_file(reuse / "tokenizer.json" if reuse.is_dir() else reuse) if reuse else None,
        }
    )
    run.claim(fingerprint, overwrite)

    tok, trained, plan = prepare_tokenizer(files, out, config, reuse, progress)
    encode_started = time.perf_counter()
    encoded = None
    if run.runtime.parallel and resume_point(out).record < sum(count_documents(p) for p in files):
        encoded = encode_files(files, run, config)
    resume, tags = write_shards(files, plan, tok, out, config, progress, encoded)
    shutil.rmtree(out / ".state" / "encoded", ignore_errors=True)  # the shards hold the same tokens now
    encode_s = time.perf_counter() - encode_started
    dtype, eot = token_dtype(tok.get_vocab_size()), tok.token_to_id(END_OF_TEXT)
    index, n_rejects = finish(out, dtype, eot, tok.get_vocab_size(), config, corpus, corpus_manifest, trained, reuse)
    _warn_missing_specials(tok, reuse, tags)
    elapsed = run.elapsed()
    counts = {
        "records": len(index["documents"]["ids"]) + index["val"]["documents"] + n_rejects,
        "train_documents": len(index["documents"]["ids"]),
        "val_documents": index["val"]["documents"],
        "rejects": n_rejects,
        "train_tokens": index["train_tokens"],
        "val_tokens": index["val"]["tokens"],
        "shards": len(index["shards"]),
    }
    manifest = {
        "step": "tokenize",
        "config": config.model_dump(),
        "inputs": inputs,
        "corpus": {"path": str(corpus), "manifest_sha256": corpus_manifest},
        "tokenizer": {
            "trained": trained,
            "source": str(reuse) if reuse else None,
            "vocab_size": tok.get_vocab_size(),
            "special_tokens": _specials_of(tok),
            "sha256": index["tokenizer"]["sha256"],
        },
        "counts": counts,
    }
    run.finish(
        manifest,
        versions=versions("numpy", "tokenizers", "transformers"),
        run={
            "elapsed_s": round(elapsed, 3),
            "encode_s": round(encode_s, 3),
            "resumed_from_shard": resume.shard,
            "tokens_per_s": (round((counts["train_tokens"] + counts["val_tokens"]) / encode_s) if encode_s else None),
        },
        rejected=n_rejects,
        total=counts["records"],
    )
    log.info(
        "tokenized %d documents into %d shards (%d train + %d val tokens) in %.1fs",
        counts["train_documents"],
        counts["shards"],
        counts["train_tokens"],
        counts["val_tokens"],
        elapsed,
    )
    return manifest

"""``modelraising train``: pretrain the student from scratch on the shards, in curriculum order.

One function, ``train_model(config)``, does the whole run for the CLI and the experiment runner alike:

    open shards -> build model -> AdamW + warmup/cosine -> [resume] -> steps:
        micro-batches (grad accumulation) -> clip -> step -> log -> eval -> checkpoint
    -> final eval -> save_pretrained + tokenizer -> loss.png -> train.json

The token budget fixes the number of steps, ``tokens // (batch_size * block_size * grad_accum * world)``,
so runs with equal budgets train on exactly the same number of tokens (recorded in train.json).
Under ``torchrun`` every process reads its own slice of each global batch (see ``data.py``) and
DistributedDataParallel averages the gradients: the result equals one process with the whole batch.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from modelraising.io import atomic_write_json, sha256_file
from modelraising.outdir import exclusive_out
from modelraising.outputs import versions
from modelraising.train.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
)
from modelraising.train.config import TrainConfig, TrainError
from modelraising.train.data import BatchLoader, Shards, open_shards, read_windows, val_windows
from modelraising.train.model import build_config, build_model, count_parameters, load_model_kwargs
from modelraising.train.run_files import Metrics, plot_loss, prepare_out, save_final, truncate_jsonl

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------- processes


@dataclass
class Dist:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> Dist:
    """One process, or one rank of a ``torchrun`` launch (RANK/WORLD_SIZE set): gloo on CPU, nccl on GPU."""
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda, but CUDA is not available on this machine")
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    target = torch.device("cuda", local) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(target)
        torch.set_float32_matmul_precision("high")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return Dist(rank, local, world, target)


def _all_reduce_sum(value: torch.Tensor, d: Dist) -> torch.Tensor:
    if d.world_size > 1:
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


class StopSignal:
    """SIGINT/SIGTERM ask the loop to checkpoint and stop after the current step; a second SIGINT
    interrupts at once. Only the main thread can install handlers (elsewhere it is a no-op)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}  # as signal.signal has it

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        log.warning("received %s: checkpointing after this step", signal.Signals(signum).name)

    def __enter__(self) -> "StopSignal":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


# ------------------------------------------------------------------------------ optimisation


def lr_factor(step: int, steps: int, warmup: int, min_ratio: float) -> float:
    """Linear warmup to 1, then cosine down to ``min_ratio`` at the last step."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def build_optimizer(model: torch.nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices and embeddings only (not on norm gains)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, fused=device.type == "cuda" or None)


def build_scheduler(optimizer, config: TrainConfig, steps: int):
    warmup = warmup_steps(config, steps)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, steps, warmup, config.min_lr_ratio)
    )


def warmup_steps(config: TrainConfig, steps: int) -> int:
    return config.warmup if config.warmup is not None else max(1, steps // 20)


def autocast(device: torch.device):
    """bf16 autocast on GPU; full precision on CPU (the deterministic reference)."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()


def lm_loss(model, x: torch.Tensor, y: torch.Tensor, device: torch.device, reduction: str = "mean") -> torch.Tensor:
    with autocast(device):
        logits = model(input_ids=x, use_cache=False).logits
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1), reduction=reduction)


def train_step(model, optimizer, batches, config: TrainConfig, device: torch.device, ddp: bool) -> torch.Tensor:
    """One optimizer step over ``grad_accum`` micro-batches; gradients are all-reduced once, on the last."""
    total = torch.zeros((), device=device)
    for i, (x, y) in enumerate(batches):
        sync = i == len(batches) - 1
        with model.no_sync() if ddp and not sync else nullcontext():
            loss = lm_loss(model, x, y, device)
            (loss / len(batches)).backward()
        total += loss.detach()
    if config.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total / len(batches)


@torch.no_grad()
def evaluate(model, shards: Shards, config: TrainConfig, d: Dist) -> float | None:
    """Mean validation loss over the first ``eval_windows`` windows of val.bin, split across ranks."""
    windows = val_windows(shards, config.block_size, config.eval_windows, d.rank, d.world_size)
    sums = torch.zeros(2, dtype=torch.float64, device=d.device)
    model.eval()
    for i in range(0, len(windows), config.batch_size):
        assert shards.val is not None  # there are validation windows only with a val.bin
        tokens = torch.from_numpy(
            read_windows(shards.val, windows[i : i + config.batch_size], config.block_size + 1, shards.vocab_size)
        ).to(d.device)
        loss = lm_loss(model, tokens[:, :-1], tokens[:, 1:], d.device, reduction="none")
        sums[0] += loss.view(len(tokens), -1).mean(dim=1).double().sum()
        sums[1] += len(tokens)
    model.train()
    _all_reduce_sum(sums, d)
    return None if sums[1] == 0 else (sums[0] / sums[1]).item()


# ---------------------------------------------------------------------------------------- loop


@dataclass
class RunState:
    """What the loop carries between steps and across a resume (it goes into the checkpoint meta)."""

    step: int = 0
    elapsed_s: float = 0.0
    transitions: list[dict] = field(default_factory=list)
    resumed_from: list[int] = field(default_factory=list)
    last_val: float | None = None


@dataclass
class TrainRun:
    """The fixed parts of a run, built once by ``_train`` and read by the loop."""

    config: TrainConfig
    d: Dist
    shards: Shards
    loader: BatchLoader
    raw: torch.nn.Module  # the model itself: checkpoints and save_pretrained
    model: torch.nn.Module  # raw or compiled: evaluation
    step_model: torch.nn.Module  # model or its DDP wrapper: training steps
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    steps: int
    tokens_per_step: int
    meta: dict
    started: float


def _rank0_out(arguments: dict) -> Path | None:
    """The directory to lock: rank 0 holds it for the whole (torchrun) run; other ranks take none."""
    return arguments["config"].out if os.environ.get("RANK", "0") == "0" else None


@exclusive_out(_rank0_out)
def train_model(config: TrainConfig) -> dict:
    """Train (or continue) a run; returns train.json's content, or ``{"status": "stopped", ...}`` when a
    signal or ``stop_after`` ended it early with a checkpoint."""
    d = setup_distributed(config.device)
    try:
        return _train(config, d)
    finally:
        if d.world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(config: TrainConfig, d: Dist) -> dict:
    started = time.perf_counter()
    shards = open_shards(config.data)
    _check_tokenizer(shards)
    if d.main:
        prepare_out(config)
    if d.world_size > 1:
        dist.barrier()
        config.out.mkdir(parents=True, exist_ok=True)  # other nodes, when --out is not on a shared disk

    loader = BatchLoader(
        shards, config.block_size, config.batch_size, config.grad_accum, config.order, config.seed, d.rank, d.world_size
    )
    tokens_per_step = loader.global_batch * config.block_size
    steps = config.tokens // tokens_per_step
    if steps < 1:
        raise TrainError(
            f"--tokens {config.tokens} is less than one step of {tokens_per_step} tokens "
            f"(batch_size {config.batch_size} x block_size {config.block_size} x grad_accum "
            f"{config.grad_accum} x {d.world_size} processes)"
        )
    if loader.epochs(steps) > 1 and d.main:
        log.warning(
            "the budget is %.2f epochs over %d train windows: the stream repeats",
            loader.epochs(steps),
            loader.n_windows,
        )

    _seed_everything(config.seed)
    model_config = build_config(
        load_model_kwargs(config.model, config.preset), shards.vocab_size, shards.eot_id, config.block_size
    )
    raw = build_model(model_config, config.seed).to(d.device)
    n_params = count_parameters(raw)
    optimizer = build_optimizer(raw, config, d.device)
    scheduler = build_scheduler(optimizer, config, steps)
    index_sha = sha256_file(shards.path / "index.json")
    state = _resume(config, raw, optimizer, scheduler, loader, index_sha, d)
    _check_same_start(state.step, config, d)
    if d.main:
        log.info(
            "training %s (%s parameters) on %s: %d steps x %d tokens = %d tokens, order %s, %d process(es), %s",
            config.preset if config.model is None else "explicit config",
            f"{n_params:,}",
            shards.path,
            steps,
            tokens_per_step,
            steps * tokens_per_step,
            config.order,
            d.world_size,
            d.device,
        )

    # torch.compile types its result as a Callable; of a Module it is a Module (an OptimizedModule)
    model: torch.nn.Module = torch.compile(raw) if config.compile else raw  # type: ignore[assignment]
    step_model = model
    if d.world_size > 1:
        step_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[d.local_rank] if d.device.type == "cuda" else None, broadcast_buffers=False
        )
    meta = {"run": config.run_identity(), "data": loader.state(), "index_sha256": index_sha, "world_size": d.world_size}
    run = TrainRun(
        config, d, shards, loader, raw, model, step_model, optimizer, scheduler, steps, tokens_per_step, meta, started
    )

    loop_start, loop_cpu, first_step = time.perf_counter(), time.process_time(), state.step
    stopped = _loop(run, state)
    loop_s, loop_cpu_s = time.perf_counter() - loop_start, time.process_time() - loop_cpu
    state.elapsed_s += time.perf_counter() - started
    if stopped:
        return {
            "status": "stopped",
            "step": state.step,
            "steps": steps,
            "signal": stopped,
            "checkpoint": str(latest_checkpoint(config.out)),
        }

    summary = {
        "status": "done",
        "config": config.model_dump(mode="json"),
        "model_config": model_config.to_dict(),
        "parameters": n_params,
        "steps": steps,
        "tokens": steps * tokens_per_step,
        "tokens_budget": config.tokens,
        "tokens_per_step": tokens_per_step,
        "world_size": d.world_size,
        "epochs": round(loader.epochs(steps), 6),
        "final_val_loss": state.last_val,
        "final_val_ppl": math.exp(state.last_val) if state.last_val is not None else None,
        "elapsed_s": round(state.elapsed_s, 3),
        "loop_s": round(loop_s, 3),
        "loop_cpu_s": round(loop_cpu_s, 3),
        "tokens_per_s": round((steps - first_step) * tokens_per_step / loop_s, 1) if steps > first_step else None,
        "stages": state.transitions,
        "resumed_from": state.resumed_from,
        "data": {
            "path": str(shards.path),
            "index_sha256": index_sha,
            "train_tokens": len(shards.train),
            "windows": loader.n_windows,
            "order": config.order,
        },
        "device": str(d.device),
        "versions": versions("torch", "transformers", python_last=True),
    }
    if d.main:
        save_final(raw, shards, config.out)
        plot_loss(config.out, state.transitions)
        atomic_write_json(config.out / "train.json", summary)
        log.info(
            "trained %d tokens in %.1fs; final val loss %s; model in %s",
            summary["tokens"],
            loop_s,
            f"{state.last_val:.4f}" if state.last_val is not None else "n/a",
            config.out,
        )
    if d.world_size > 1:
        dist.barrier()
    return summary


def _loop(run: TrainRun, state: RunState) -> str | None:
    """Steps ``state.step`` .. ``run.steps``; returns what ended it early (a signal's name or
    "stop_after"), else None."""
    config, d, loader = run.config, run.d, run.loader
    stage = loader.stage(state.step - 1) if state.step > 0 else None
    interval_loss, interval_steps, interval_start = torch.zeros((), device=d.device), 0, time.perf_counter()
    stopped = None
    with ExitStack() as stack:
        metrics = stack.enter_context(closing(Metrics(config.out, config.tensorboard, d.main)))
        windows_file = (
            stack.enter_context(open(config.out / f"windows-rank{d.rank}.jsonl", "a", encoding="utf-8"))
            if config.record_windows
            else None
        )
        bar = stack.enter_context(
            tqdm(
                total=run.steps * run.tokens_per_step,
                initial=state.step * run.tokens_per_step,
                unit="tok",
                unit_scale=True,
                desc="train",
                dynamic_ncols=True,
                disable=not (config.progress and d.main),
            )
        )
        stop = stack.enter_context(StopSignal())
        stack.enter_context(logging_redirect_tqdm())
        for step in range(state.step, run.steps):
            stage = _enter_stage(run, state, step, stage)
            lr = run.scheduler.get_last_lr()[0]
            if windows_file:
                windows = loader.rank_windows(step).ravel().tolist()
                windows_file.write(json.dumps({"step": step, "windows": windows}) + "\n")
            loss = train_step(
                run.step_model, run.optimizer, loader.micro_batches(step, d.device), config, d.device, d.world_size > 1
            )
            run.scheduler.step()
            interval_loss += loss
            interval_steps += 1
            state.step = done = step + 1
            bar.update(run.tokens_per_step)

            stopped = _should_stop(stop, config, done, run.steps, d)
            eval_now = done == run.steps or (config.eval_every and done % config.eval_every == 0)
            val = evaluate(run.model, run.shards, config, d) if eval_now else None
            if val is not None:
                state.last_val = val
            if done % config.log_every == 0 or eval_now or stopped:
                mean = _all_reduce_sum(interval_loss, d).item() / interval_steps / d.world_size
                now = time.perf_counter()
                record = {
                    "step": done,
                    "tokens": done * run.tokens_per_step,
                    "loss": mean,
                    "lr": lr,
                    "tokens_per_s": round(interval_steps * run.tokens_per_step / (now - interval_start), 1),
                    "stage": stage.name if stage else None,
                    "stage_index": stage.index if stage else None,
                    "epoch": round(loader.epochs(done), 6),
                }
                if val is not None:
                    record.update(val_loss=val, val_ppl=math.exp(min(val, 50.0)))
                metrics.write(record)
                bar.set_postfix(loss=f"{mean:.3f}", lr=f"{lr:.2e}", stage=record["stage"] or "-", refresh=False)
                interval_loss, interval_steps, interval_start = torch.zeros((), device=d.device), 0, now
            if stopped or done == run.steps or (config.checkpoint_every and done % config.checkpoint_every == 0):
                _checkpoint(run, state)
            if stopped:
                log.warning("stopped at step %d/%d (%s); continue with --resume", done, run.steps, stopped)
                break
    return stopped


def _enter_stage(run: TrainRun, state: RunState, step: int, previous):
    """The curriculum stage of ``step``; a change is logged and recorded (for loss.png and train.json)."""
    stage = run.loader.stage(step)
    if stage is not None and stage != previous:
        tokens = step * run.tokens_per_step
        state.transitions.append({"step": step, "tokens": tokens, "stage": stage.name, "index": stage.index})
        if run.d.main:
            log.info("step %d (%s tokens): entering stage %d %r", step, f"{tokens:,}", stage.index, stage.name)
    return stage


def _should_stop(stop: StopSignal, config: TrainConfig, done: int, steps: int, d: Dist) -> str | None:
    """Whether to checkpoint and stop after step ``done``. Under DDP a signal seen by any rank stops every
    rank at the same step (else the collectives would hang); the flags are exchanged on log steps only,
    so the exchange costs no per-step device sync."""
    if config.stop_after is not None and done >= config.stop_after:
        return "stop_after"
    if d.world_size == 1:
        return signal.Signals(stop.signum).name if stop.signum else None
    if done % config.log_every and done != steps:
        return None
    flag = torch.tensor([stop.signum or 0], dtype=torch.int64, device=d.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    signum = int(flag.item())
    return signal.Signals(signum).name if signum else None


def _checkpoint(run: TrainRun, state: RunState) -> None:
    """Every rank hands rank 0 its RNG states; rank 0 writes; all wait for the rename."""
    rngs = [rng_state()]
    if run.d.world_size > 1:
        gathered: list = [None] * run.d.world_size
        dist.all_gather_object(gathered, rngs[0])
        rngs = gathered
    if run.d.main:
        meta = {
            **run.meta,
            "tokens_seen": state.step * run.tokens_per_step,
            "position": {
                "windows": state.step * run.loader.global_batch,  # the next window of the stream
                "epoch": run.loader.epochs(state.step),
            },
            "elapsed_s": state.elapsed_s + time.perf_counter() - run.started,
            "transitions": state.transitions,
            "resumed_from": state.resumed_from,
            "last_val": state.last_val,
        }
        path = save_checkpoint(
            run.config.out, state.step, run.raw, run.optimizer, run.scheduler, meta, rngs, run.config.keep_checkpoints
        )
        log.debug("checkpoint %s", path)
    if run.d.world_size > 1:
        dist.barrier()


def _resume(config: TrainConfig, raw, optimizer, scheduler, loader: BatchLoader, index_sha: str, d: Dist) -> RunState:
    """Load the latest checkpoint when resuming; checks it belongs to this run and data order."""
    if not config.resume:
        return RunState()
    path = latest_checkpoint(config.out)
    if path is None:
        if d.main:
            log.warning("--resume: no checkpoint in %s, starting from scratch", config.out)
            truncate_jsonl(config.out / "metrics.jsonl", 0)
        if config.record_windows:
            truncate_jsonl(config.out / f"windows-rank{d.rank}.jsonl", -1)
        return RunState()
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    problems = [
        f"{k}: checkpoint {meta['run'].get(k)!r}, now {v!r}"
        for k, v in config.run_identity().items()
        if meta["run"].get(k) != v
    ]
    problems += [
        f"data {k}: checkpoint {meta['data'].get(k)!r}, now {v!r}"
        for k, v in loader.state().items()
        if meta["data"].get(k) != v
    ]
    if meta.get("index_sha256") != index_sha:
        problems.append("the shards' index.json differs from the one the checkpoint was trained on")
    if problems:
        raise CheckpointError(f"{path} belongs to a different run:\n  " + "\n  ".join(problems))
    load_checkpoint(path, raw, optimizer, scheduler, d.rank)
    step = meta["step"]
    if d.main:
        truncate_jsonl(config.out / "metrics.jsonl", step)
        log.info("resumed from %s (step %d)", path, step)
    if config.record_windows:
        truncate_jsonl(config.out / f"windows-rank{d.rank}.jsonl", step - 1)
    return RunState(
        step=step,
        elapsed_s=meta.get("elapsed_s", 0.0),
        transitions=meta.get("transitions", []),
        resumed_from=[*meta.get("resumed_from", []), step],
        last_val=meta.get("last_val"),
    )


def _check_same_start(step: int, config: TrainConfig, d: Dist) -> None:
    """Every rank must continue from the same step: a rank that found another checkpoint (or none: --out
    not on a disk every node sees) would read other windows and hang the collectives, so refuse."""
    if d.world_size == 1:
        return
    bounds = torch.tensor([step, -step], dtype=torch.int64, device=d.device)
    dist.all_reduce(bounds, op=dist.ReduceOp.MAX)
    last, first = int(bounds[0]), -int(bounds[1])
    if first != last:
        raise CheckpointError(
            f"{config.out}: the {d.world_size} processes would resume from different steps ({first} to {last}; "
            f"this one: {step}): every node must see the same --out (a shared filesystem), or copy "
            f"{config.out}/checkpoints to every node before --resume"
        )


def _seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _check_tokenizer(shards: Shards) -> None:
    """Fail before training, not after it, when the shards' tokenizer cannot be loaded."""
    from transformers import AutoTokenizer

    try:
        AutoTokenizer.from_pretrained(shards.path)
    except Exception as exc:  # noqa: BLE001 - any failure here means the final save would fail too
        raise TrainError(f"{shards.path}: the tokenizer files cannot be loaded by AutoTokenizer ({exc})") from None

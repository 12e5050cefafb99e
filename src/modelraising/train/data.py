"""Reading a ``shards/`` directory (docs/design.md) and cutting it into training windows.

The train shards are one token stream in curriculum order (shard 0 first). It is packed into
consecutive, non-overlapping windows of ``block_size + 1`` tokens (inputs are the first ``block_size``,
targets the last ``block_size``); documents run across windows, separated by their end-of-text token.

Which window sits at position ``p`` of the training stream depends on ``order``:

- ``file``: window ``p`` (the curriculum, kept);
- ``shuffle``: a seeded permutation of the windows (the baseline), a new one each epoch.

Step ``k`` trains on positions ``[k * G, (k + 1) * G)`` with ``G = batch_size * grad_accum * world_size``;
rank ``r`` takes the ``r``-th contiguous slice of it. So the order of the stream holds globally, whatever
the number of processes, and a resumed run only needs the step number to continue at the same window.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

FORMAT = "modelraising-shards/1"
DTYPES: dict[str, np.dtype] = {"uint16": np.dtype("<u2"), "uint32": np.dtype("<u4")}


class ShardError(ValueError):
    """A shards directory that breaks the contract; the message starts with the offending file."""


@dataclass(frozen=True)
class Stage:
    name: str
    index: int
    start: int  # token offsets into the train stream
    end: int


class TokenStream:
    """Several ``.bin`` files read as one array, without loading them (``numpy.memmap``)."""

    def __init__(self, files: list[Path], arrays: list[np.ndarray]):
        self.files = files
        self.arrays = arrays
        self.starts = np.cumsum([0] + [len(a) for a in arrays]).tolist()

    def __len__(self) -> int:
        return self.starts[-1]

    def file_at(self, offset: int) -> Path:
        return self.files[bisect.bisect_right(self.starts, offset) - 1]

    def read(self, start: int, length: int) -> np.ndarray:
        """Tokens ``[start, start + length)`` as int64, crossing file boundaries where needed."""
        out = np.empty(length, dtype=np.int64)
        filled = 0
        i = bisect.bisect_right(self.starts, start) - 1
        while filled < length:
            local = start + filled - self.starts[i]
            part = self.arrays[i][local : local + length - filled]
            out[filled : filled + len(part)] = part
            filled += len(part)
            i += 1
        return out


@dataclass
class Shards:
    """An opened, validated ``shards/`` directory."""

    path: Path
    index: dict
    dtype: str
    vocab_size: int
    eot_id: int
    train: TokenStream
    val: TokenStream | None
    stages: list[Stage]

    def stage_at(self, offset: int) -> Stage | None:
        """The stage whose token range holds ``offset`` (None outside every stage)."""
        starts = [s.start for s in self.stages]
        i = bisect.bisect_right(starts, offset) - 1
        if i >= 0 and offset < self.stages[i].end:
            return self.stages[i]
        return None


def _open_bin(path: Path, dtype: str, tokens: int) -> np.ndarray:
    """Memory-map one ``.bin`` file after checking its size against the dtype and index.json."""
    if not path.is_file():
        raise ShardError(f"{path}: missing (index.json lists it)")
    size = path.stat().st_size
    itemsize = DTYPES[dtype].itemsize
    if size % itemsize:
        raise ShardError(
            f"{path}: {size} bytes is not a multiple of {itemsize} ({dtype} tokens): the file is truncated or corrupt"
        )
    held = size // itemsize
    if held < tokens:
        raise ShardError(f"{path}: holds {held} tokens but index.json says {tokens}: the file is truncated")
    if held > tokens:
        raise ShardError(
            f"{path}: holds {held} tokens but index.json says {tokens}: the file does not belong to this index"
        )
    if held == 0:
        return np.empty(0, dtype=DTYPES[dtype])
    return np.memmap(path, dtype=DTYPES[dtype], mode="r")


def _field(index: dict, key: str, index_path: Path, kind: type | tuple = int):
    if key not in index:
        raise ShardError(f"{index_path}: missing field {key!r}")
    if not isinstance(index[key], kind):
        raise ShardError(f"{index_path}: field {key!r} has the wrong type ({type(index[key]).__name__})")
    return index[key]


def open_shards(directory: str | Path) -> Shards:
    """Open a shards directory; every problem (missing, truncated or oversized file, bad index) is a
    ``ShardError`` naming the file, raised before any training starts."""
    directory = Path(directory)
    index_path = directory / "index.json"
    if not index_path.is_file():
        raise ShardError(f"{index_path}: not found (is {directory} the output of `modelraising tokenize`?)")
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ShardError(f"{index_path}: cannot read ({exc})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise ShardError(
            f"{index_path}: format is {index.get('format') if isinstance(index, dict) else None!r}, expected {FORMAT!r}"
        )
    dtype = _field(index, "dtype", index_path, str)
    if dtype not in DTYPES:
        raise ShardError(f"{index_path}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    vocab_size = _field(index, "vocab_size", index_path)
    eot_id = _field(index, "eot_id", index_path)
    entries = _field(index, "shards", index_path, list)
    if not entries:
        raise ShardError(f"{index_path}: lists no train shards")
    files = [directory / e["file"] for e in entries]
    train = TokenStream(files, [_open_bin(f, dtype, int(e["tokens"])) for f, e in zip(files, entries)])
    if "train_tokens" in index and index["train_tokens"] != len(train):
        raise ShardError(
            f"{index_path}: train_tokens is {index['train_tokens']} but the shards list {len(train)} tokens"
        )
    val = None
    if index.get("val") and index["val"].get("tokens"):
        val_file = directory / index["val"]["file"]
        val = TokenStream([val_file], [_open_bin(val_file, dtype, int(index["val"]["tokens"]))])
    stages = sorted(
        (Stage(str(s["name"]), int(s["index"]), int(s["start"]), int(s["end"])) for s in index.get("stages") or []),
        key=lambda s: s.start,
    )
    return Shards(directory, index, dtype, vocab_size, eot_id, train, val, stages)


class WindowOrder:
    """Position in the training stream -> window index: identity (``file``) or, per epoch, a seeded
    permutation (``shuffle``). Positions past the last window wrap into the next epoch."""

    def __init__(self, n_windows: int, order: str, seed: int):
        if n_windows < 1:
            raise ValueError("no complete window in the data")
        if order not in ("file", "shuffle"):
            raise ValueError(f"unknown order {order!r}; valid: file, shuffle")
        self.n, self.order, self.seed = n_windows, order, seed
        self._epoch = -1
        self._perm: np.ndarray | None = None

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
            self._perm = perm.astype(np.uint32 if self.n < 2**32 else np.int64)
            self._epoch = epoch
        assert self._perm is not None  # epochs start at 0: the first call computes it
        return self._perm

    def windows(self, start: int, count: int) -> np.ndarray:
        positions = np.arange(start, start + count, dtype=np.int64)
        if self.order == "file":
            return positions % self.n
        out = np.empty(count, dtype=np.int64)
        for epoch in np.unique(positions // self.n):
            mask = positions // self.n == epoch
            out[mask] = self._permutation(int(epoch))[positions[mask] % self.n]
        return out


class BatchLoader:
    """This rank's micro-batches for a training step, a pure function of the step number."""

    def __init__(
        self,
        shards: Shards,
        block_size: int,
        batch_size: int,
        grad_accum: int = 1,
        order: str = "file",
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.shards, self.block_size, self.batch_size, self.grad_accum = shards, block_size, batch_size, grad_accum
        self.rank, self.world_size = rank, world_size
        self.window = block_size + 1
        self.n_windows = len(shards.train) // self.window
        if self.n_windows < 1:
            raise ShardError(
                f"{shards.path}: {len(shards.train)} train tokens hold no window of "
                f"block_size + 1 = {self.window} tokens"
            )
        self.order = WindowOrder(self.n_windows, order, seed)
        self.global_batch = batch_size * grad_accum * world_size

    def state(self) -> dict:
        """What must match for a resumed run to read the same windows."""
        return {
            "order": self.order.order,
            "seed": self.order.seed,
            "block_size": self.block_size,
            "global_batch": self.global_batch,
            "n_windows": self.n_windows,
        }

    def step_windows(self, step: int) -> np.ndarray:
        """Window indices of the whole global batch of ``step``, in stream order."""
        return self.order.windows(step * self.global_batch, self.global_batch)

    def rank_windows(self, step: int) -> np.ndarray:
        """This rank's windows of ``step`` as a (grad_accum, batch_size) array."""
        per_rank = self.batch_size * self.grad_accum
        start = step * self.global_batch + self.rank * per_rank
        return self.order.windows(start, per_rank).reshape(self.grad_accum, self.batch_size)

    def stage(self, step: int) -> Stage | None:
        """The stage reached at ``step`` in ``file`` order: that of the global batch's last window, so a
        step counts as in a new stage as soon as its batch holds any of it. None when shuffled."""
        if self.order.order != "file":
            return None
        last = int(self.step_windows(step)[-1])
        return self.shards.stage_at(last * self.window)

    def epochs(self, steps: int) -> float:
        return steps * self.global_batch / self.n_windows

    def micro_batches(self, step: int, device: torch.device) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(inputs, targets) for each micro-step of ``step``; int64 tensors of (batch_size, block_size)."""
        out = []
        for windows in self.rank_windows(step):
            tokens = read_windows(self.shards.train, windows, self.window, self.shards.vocab_size)
            out.append(_to_device(tokens, device))
        return out


def read_windows(stream: TokenStream, windows: np.ndarray, window: int, vocab_size: int) -> np.ndarray:
    """(len(windows), window) int64 tokens; an id past the vocabulary (a corrupt shard, or one tokenized
    with another tokenizer) is an error naming the file, rather than an index error inside the model."""
    tokens = np.stack([stream.read(int(w) * window, window) for w in windows])
    if tokens.size and int(tokens.max()) >= vocab_size:
        bad = int(windows[int(np.argmax(tokens.max(axis=1)))])
        raise ShardError(
            f"{stream.file_at(bad * window)}: token id {int(tokens.max())} >= vocab_size "
            f"{vocab_size}: corrupt shard or a different tokenizer"
        )
    return tokens


def _to_device(tokens: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    t = torch.from_numpy(tokens)
    if device.type == "cuda":
        t = t.pin_memory().to(device, non_blocking=True)
    return t[:, :-1], t[:, 1:]


def val_windows(shards: Shards, block_size: int, limit: int, rank: int = 0, world_size: int = 1) -> np.ndarray:
    """This rank's share of the first ``limit`` validation windows (contiguous slices, so the union
    over ranks is the same set whatever the number of processes)."""
    if shards.val is None:
        return np.empty(0, dtype=np.int64)
    n = min(len(shards.val) // (block_size + 1), limit)
    per_rank = -(-n // world_size)
    return np.arange(rank * per_rank, min(n, (rank + 1) * per_rank), dtype=np.int64)

"""The shard reader: contract checks, windows, curriculum order, shuffle, per-rank slices, stages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modelraising.train.data import BatchLoader, ShardError, WindowOrder, open_shards, val_windows


def _concat(path) -> np.ndarray:
    index = json.loads((path / "index.json").read_text())
    return np.concatenate([np.fromfile(path / s["file"], dtype=np.uint16) for s in index["shards"]]).astype(np.int64)


def test_stream_is_the_concatenated_shards(tiny_shards):
    shards = open_shards(tiny_shards)
    assert len(shards.train.files) >= 2, "the fixture should make windows cross a file boundary"
    full = _concat(tiny_shards)
    boundary = shards.train.starts[1]
    assert np.array_equal(shards.train.read(boundary - 5, 10), full[boundary - 5 : boundary + 5])
    assert shards.vocab_size == 512 and shards.eot_id == 0 and shards.dtype == "uint16"


def test_windows_are_consecutive_non_overlapping_and_shifted(tiny_shards):
    shards = open_shards(tiny_shards)
    loader = BatchLoader(shards, block_size=32, batch_size=4)
    full = _concat(tiny_shards)
    ((x, y),) = loader.micro_batches(3, device=__import__("torch").device("cpu"))
    for row, window in enumerate(range(12, 16)):
        tokens = full[window * 33 : (window + 1) * 33]
        assert x[row].tolist() == tokens[:-1].tolist()
        assert y[row].tolist() == tokens[1:].tolist()
    assert loader.n_windows == len(full) // 33


def test_file_order_is_the_curriculum_and_shuffle_is_a_seeded_permutation(tiny_shards):
    shards = open_shards(tiny_shards)
    file = BatchLoader(shards, 32, 4, order="file")
    seen = np.concatenate([file.step_windows(s) for s in range(file.n_windows // 4)])
    assert seen.tolist() == list(range(len(seen)))

    shuffled = [BatchLoader(shards, 32, 4, order="shuffle", seed=seed) for seed in (0, 0, 1)]
    epochs = [np.concatenate([ld.step_windows(s) for s in range(ld.n_windows // 4)]) for ld in shuffled]
    assert not np.array_equal(epochs[0], seen)
    assert np.array_equal(epochs[0], epochs[1]), "same seed, same order"
    assert not np.array_equal(epochs[0], epochs[2]), "another seed, another order"
    assert len(set(epochs[0].tolist())) == len(epochs[0]), "no window twice within an epoch"


def test_shuffle_draws_a_new_permutation_each_epoch():
    order = WindowOrder(10, "shuffle", seed=3)
    first, second = order.windows(0, 10), order.windows(10, 10)
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(10))
    assert not np.array_equal(first, second)
    assert np.array_equal(order.windows(5, 10), np.concatenate([first[5:], second[:5]]))
    assert WindowOrder(10, "file", 0).windows(8, 4).tolist() == [8, 9, 0, 1]


def test_ranks_take_contiguous_slices_of_the_global_batch(tiny_shards):
    shards = open_shards(tiny_shards)
    for order in ("file", "shuffle"):
        whole = BatchLoader(shards, 32, batch_size=4, grad_accum=1, order=order, seed=5)
        ranks = [
            BatchLoader(shards, 32, batch_size=1, grad_accum=2, order=order, seed=5, rank=r, world_size=2)
            for r in range(2)
        ]
        for step in (0, 7):
            assert (
                np.concatenate([r.rank_windows(step).ravel() for r in ranks]).tolist()
                == whole.step_windows(step).tolist()
            )


def test_stage_of_a_step_follows_the_index(tiny_shards):
    shards = open_shards(tiny_shards)
    loader = BatchLoader(shards, 32, 4)
    second = shards.stages[1]
    first_step_in_second = next(s for s in range(loader.n_windows // 4) if loader.stage(s) == second)
    assert first_step_in_second == (second.start // 33) // 4, "the step whose batch first holds stage 1 data"
    assert loader.stage(first_step_in_second - 1) == shards.stages[0]
    assert BatchLoader(shards, 32, 4, order="shuffle").stage(0) is None


def test_validation_windows_split_across_ranks(tiny_shards):
    shards = open_shards(tiny_shards)
    one = val_windows(shards, 32, limit=50)
    two = [val_windows(shards, 32, 50, rank=r, world_size=2) for r in range(2)]
    assert np.concatenate(two).tolist() == one.tolist() == list(range(min(50, len(shards.val) // 33)))


# ------------------------------------------------------------------------- contract violations


def test_shard_size_not_a_multiple_of_the_dtype_names_the_file(shards_copy):
    path = shards_copy / "train-00001.bin"
    with open(path, "ab") as f:
        f.write(b"\x00")
    with pytest.raises(ShardError, match=r"train-00001\.bin: \d+ bytes is not a multiple of 2 \(uint16"):
        open_shards(shards_copy)


def test_truncated_shard_names_the_file_and_the_counts(shards_copy):
    path = shards_copy / "train-00000.bin"
    data = path.read_bytes()
    path.write_bytes(data[:-200])
    with pytest.raises(ShardError, match=r"train-00000\.bin: holds \d+ tokens but index\.json says \d+: .*truncated"):
        open_shards(shards_copy)


def test_truncated_val_and_missing_files_are_named(shards_copy):
    (shards_copy / "val.bin").write_bytes((shards_copy / "val.bin").read_bytes()[:10])
    with pytest.raises(ShardError, match=r"val\.bin: holds 5 tokens"):
        open_shards(shards_copy)
    (shards_copy / "train-00001.bin").unlink()
    with pytest.raises(ShardError, match=r"train-00001\.bin: missing"):
        open_shards(shards_copy)


def test_bad_index_is_named(shards_copy, tmp_path):
    with pytest.raises(ShardError, match=r"index\.json: not found"):
        open_shards(tmp_path / "nowhere")
    index = json.loads((shards_copy / "index.json").read_text())
    index["dtype"] = "int8"
    (shards_copy / "index.json").write_text(json.dumps(index))
    with pytest.raises(ShardError, match=r"index\.json: dtype 'int8'"):
        open_shards(shards_copy)


def test_token_ids_past_the_vocabulary_name_the_file(shards_copy):
    path = shards_copy / "train-00000.bin"
    tokens = np.fromfile(path, dtype=np.uint16)
    tokens[40] = 9999
    tokens.tofile(path)
    loader = BatchLoader(open_shards(shards_copy), 32, 4)
    with pytest.raises(ShardError, match=r"train-00000\.bin: token id 9999 >= vocab_size 512"):
        loader.micro_batches(0, __import__("torch").device("cpu"))

"""The step lifecycle (modelraising.pipeline): the runtime, chunk inputs and one run of a step."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from modelraising.outputs import StepOutputs
from modelraising.pipeline import ChunkInputs, Runtime, StepRun
from modelraising.records import read_records

SRC = Path(__file__).resolve().parents[1] / "src" / "modelraising"


class ToyError(Exception):
    pass


TOY = StepOutputs(
    globs=("out-*.txt",),
    files=("manifest.json", "rejects.jsonl"),
    marks=("out-*.txt",),
    held="a different toy run",
    them="it",
    unknown="toy outputs",
    error=ToyError,
)


def _square(x: int) -> int:
    return x * x


def test_the_runtime_says_where_work_runs_and_maps_there():
    assert not Runtime().parallel and not Runtime().distributed
    assert Runtime(workers=2).parallel and not Runtime(workers=2).distributed
    assert Runtime(executor="ray").parallel and Runtime(executor="ray").distributed
    assert sorted(Runtime(workers=2, progress=False).map(_square, range(10))) == [x * x for x in range(10)]
    assert list(Runtime().map(_square, [3])) == [9]
    assert Runtime(workers=3).describe() == {"executor": "local", "workers": 3}


def _cut(n_rows: int, size: int, calls: list[int]):
    def cut():
        calls.append(1)
        rows = [{"id": str(i), "text": f"row {i}", "metadata": {}} for i in range(n_rows)]
        for index, start in enumerate(range(0, n_rows, size)):
            yield index, rows[start : start + size]

    return cut


def test_chunks_on_one_machine_carry_their_rows_and_the_reader_s_summary(tmp_path):
    calls: list[int] = []
    inputs = ChunkInputs(
        Runtime(workers=2),
        tmp_path / "input",
        cut=_cut(10, 4, calls),
        summary=lambda: {"documents": 10},
        published=lambda i: i == 1,
    )
    chunks = list(inputs)
    assert [(c.index, c.size, c.published, c.path) for c in chunks] == [
        (0, 4, False, None),
        (1, 4, True, None),
        (2, 2, False, None),
    ]
    assert [r["id"] for r in chunks[1].rows] == ["4", "5", "6", "7"]  # kept: a step may reopen a chunk
    assert inputs.source_summary() == {"documents": 10}
    assert not (tmp_path / "input").exists()  # nothing staged on disk


def test_a_distributed_runtime_gets_input_shards_cut_once(tmp_path):
    """Tasks that travel to other machines name a shard; a restarted job reads no source again, unless a chunk
    still to compute has lost its shard."""
    calls: list[int] = []
    done = {1}

    def inputs() -> ChunkInputs:
        return ChunkInputs(
            Runtime(executor="ray"),
            tmp_path / "input",
            cut=_cut(10, 4, calls),
            summary=lambda: {"documents": 10},
            published=lambda i: i in done,
        )

    first = inputs()
    chunks = list(first)
    assert [(c.index, c.size, c.rows, c.published) for c in chunks] == [
        (0, 4, [], False),
        (1, 4, [], True),
        (2, 2, [], False),
    ]
    assert chunks[1].path is None and not (tmp_path / "input" / "input-00001.parquet").exists()  # published: no shard
    assert [r["id"] for r in read_records(chunks[2].path)] == ["8", "9"]
    assert first.source_summary() == {"documents": 10} and calls == [1]

    again = inputs()
    assert [c.index for c in again] == [0, 1, 2] and calls == [1]  # the recorded cut: no source read
    assert again.source_summary() == {"documents": 10}

    Path(chunks[0].path).unlink()  # a chunk to compute lost its shard: cut again
    assert Path(list(inputs())[0].path).exists() and calls == [1, 1]

    first.drop_shards()
    assert not list((tmp_path / "input").glob("input-*.parquet"))


def test_a_step_run_claims_its_directory_and_finishes_its_manifest(tmp_path):
    out = tmp_path / "toy"
    run = StepRun("toy", out, TOY, Runtime(workers=2))
    run.claim("fp-1", overwrite=False)
    (out / "out-0.txt").write_text("x")
    with pytest.raises(ToyError, match="a different toy run"):
        StepRun("toy", out, TOY, Runtime()).claim("fp-2", overwrite=False)
    StepRun("toy", out, TOY, Runtime()).claim("fp-1", overwrite=False)  # the same run: resumed

    parts = [run.state / "a.jsonl", run.state / "missing.jsonl", run.state / "b.jsonl"]
    parts[0].write_text('{"reason": "a1"}\n{"reason": "a2"}\n')
    parts[2].write_text('{"reason": "b1"}\n')
    assert run.gather_rejects(parts) == 3
    assert [json.loads(line)["reason"] for line in (out / "rejects.jsonl").read_text().splitlines()] == [
        "a1",
        "a2",
        "b1",
    ]

    bar = run.runtime.bar("toy", total=6)
    todo = run.pending([1, 2, 3], done=lambda t: t == 2, bar=bar, size=lambda t: t)
    assert todo == [1, 3] and bar.n == 2

    manifest = run.finish(
        {"step": "toy", "counts": {"n": 3}},
        versions={"modelraising": "x"},
        run={"elapsed_s": 0.1},
        rejected=3,
        total=100,
        after_run={"extra": 1},
    )
    written = json.loads((out / "manifest.json").read_text())
    assert written == manifest
    assert list(manifest) == ["step", "counts", "versions", "run", "extra", "rejects_share"]
    assert written["run"] == {"executor": "local", "workers": 2, "elapsed_s": 0.1}
    assert written["rejects_share"]["share"] == 0.03 and written["rejects_share"]["warning"]

    StepRun("toy", out, TOY, Runtime()).claim("fp-2", overwrite=True)  # clears exactly the step's outputs
    assert not (out / "out-0.txt").exists() and not (out / "manifest.json").exists()


STEP_MODULES = [
    "raising/step.py",
    "raising/template_engine.py",
    "raising/teacher_engine.py",
    "curriculum/step.py",
    "shards/step.py",
    "shards/encode.py",
]


def _branches_on_executor(tree: ast.AST) -> list[str]:
    """Comparisons with a name ``executor`` and the string "ray" in code (docstrings aside)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            names = [n for n in (node.left, *node.comparators) if isinstance(n, ast.Name)]
            if any(n.id == "executor" for n in names):
                found.append(f"line {node.lineno}: compares executor")
        if isinstance(node, ast.Constant) and node.value == "ray" and id(node) not in docstrings:
            found.append(f"line {node.lineno}: 'ray'")
        if isinstance(node, ast.Name) and node.id == "map_unordered":
            found.append(f"line {node.lineno}: map_unordered")
    return found


@pytest.mark.parametrize("module", STEP_MODULES)
def test_no_step_branches_on_its_executor(module):
    """Where work runs is the runtime's business: a step asks it to map, or whether work is parallel."""
    assert _branches_on_executor(ast.parse((SRC / module).read_text(encoding="utf-8"))) == [], module


def test_the_branch_check_finds_a_branch():
    code = (
        'def f(executor):\n    """Runs on "ray" or here."""\n    if executor == "ray":\n        return map_unordered\n'
    )
    assert len(_branches_on_executor(ast.parse(code))) == 3

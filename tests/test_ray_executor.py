"""The Ray Data executor on a local Ray instance (2 CPUs): the same records, shards and curriculum as the
local executor, restarts that skip finished shards, and a killed Ray worker that loses nothing."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelraising.curriculum import CurriculumConfig, run_curriculum
from modelraising.executor import ExecutorError, check_executor, map_unordered
from modelraising.raising.config import RaiseConfig
from modelraising.raising.step import raise_corpus
from modelraising.records import read_records
from modelraising.shards import TokenizeConfig, tokenize_corpus
from modelraising.sources import SourceSpec

pytestmark = pytest.mark.slow
TEMPLATE = ["perspective", "experience", "social"]


def _records(out: Path) -> list[dict]:
    """Every raised record of a run, JSONL or Parquet, in file order."""
    rows = [json.loads(line) for p in sorted(out.glob("raised-*.jsonl")) for line in p.read_text().splitlines()]
    return rows + [r for p in sorted(out.glob("raised-*.parquet")) for r in read_records(p)]


def _key(record: dict) -> str:
    return json.dumps(record, sort_keys=True)


def _specs(starter: Path, shared_corpus: Path) -> list[SourceSpec]:
    return [SourceSpec(path=str(starter)), SourceSpec(path=str(shared_corpus / "aesop_fables.txt"), limit=60)]


def test_without_the_ray_extra_the_error_names_it(tmp_path, starter):
    """Ray is an optional extra: asked for without it, the CLI says which extra to install, before any work."""
    code = (
        "import sys; sys.modules['ray'] = None\n"  # as if ray were not installed: `import ray` fails
        "from modelraising.cli import main\n"
        f"sys.argv = ['modelraising', 'raise', '--source', {str(starter)!r}, '--out', {str(tmp_path / 'out')!r},"
        " '--executor', 'ray']\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert run.returncode != 0
    assert "modelraising[ray]" in run.stderr + run.stdout
    assert not (tmp_path / "out").exists()
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from modelraising.executor import check_executor, map_unordered\n"
        "assert check_executor('local', None, None) == 1\n"
        "assert sorted(map_unordered(abs, [-2, 1], 2)) == [1, 2]\n"
    )  # one machine needs no Ray
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_check_executor_defaults_and_errors():
    assert check_executor("local", None, None) == 1
    assert check_executor("ray", None, None) == 0  # every CPU of the cluster
    assert check_executor("ray", "auto", 3) == 3
    with pytest.raises(ExecutorError, match="--ray-address needs --executor ray"):
        check_executor("local", "auto", None)
    with pytest.raises(ExecutorError, match="expected one of local, ray"):
        check_executor("dask", None, None)


def test_ray_map_unordered_returns_every_result(ray_local):
    # Test modules are not importable on Ray workers: the function comes from the standard library.
    assert sorted(map_unordered(math.factorial, range(7), 2, executor="ray")) == [math.factorial(x) for x in range(7)]
    assert list(map_unordered(math.factorial, [], 2, executor="ray")) == []


def test_raise_on_ray_gives_the_local_records(ray_local, tmp_path, starter, shared_corpus, charter_path):
    config = RaiseConfig(pillars=TEMPLATE, chunk_size=16)
    local = raise_corpus(charter_path, _specs(starter, shared_corpus), tmp_path / "local", config, progress=False)
    ray_config = config.model_copy(update={"output_format": "parquet"})
    on_ray = raise_corpus(
        charter_path,
        _specs(starter, shared_corpus),
        tmp_path / "ray",
        ray_config,
        workers=2,
        progress=False,
        executor="ray",
    )

    a, b = _records(tmp_path / "local"), _records(tmp_path / "ray")
    assert len(a) == local["counts"]["raised"] > 60
    assert sorted(map(_key, a)) == sorted(map(_key, b))  # the same set of records ...
    assert len({r["id"] for r in b}) == len(b)  # ... each once
    assert on_ray["counts"] == local["counts"] and on_ray["sources"] == local["sources"]
    assert on_ray["outputs"] == [f"raised-{i:05d}.parquet" for i in range(len(on_ray["outputs"]))]
    assert on_ray["run"]["executor"] == "ray" and on_ray["run"]["chunks_computed"] == len(on_ray["outputs"])
    assert not list((tmp_path / "ray" / ".state" / "input").glob("*.parquet"))  # no second copy left behind
    assert (tmp_path / "ray" / "rejects.jsonl").read_bytes() == (tmp_path / "local" / "rejects.jsonl").read_bytes()


def test_restarted_ray_job_skips_finished_shards(ray_local, tmp_path, starter, shared_corpus, charter_path):
    out = tmp_path / "ray"
    config = RaiseConfig(pillars=TEMPLATE, chunk_size=16, output_format="parquet")
    first = raise_corpus(charter_path, _specs(starter, shared_corpus), out, config, progress=False, executor="ray")
    before = sorted(map(_key, _records(out)))
    # As if the job died while raising chunk 2 (output and stats gone) with chunk 3 never started; the
    # input shards were removed at the end of the first run, so this rerun has to cut the sources again.
    for index in (2, 3):
        (out / f"raised-{index:05d}.parquet").unlink()
        (out / ".state" / f"chunk-{index:05d}.json").unlink()
    again = raise_corpus(charter_path, _specs(starter, shared_corpus), out, config, progress=False, executor="ray")
    assert again["run"]["chunks_computed"] == 2
    assert again["run"]["chunks_reused"] == len(first["outputs"]) - 2
    assert again["counts"] == first["counts"] and again["sources"] == first["sources"]
    assert sorted(map(_key, _records(out))) == before
    third = raise_corpus(charter_path, _specs(starter, shared_corpus), out, config, progress=False, executor="ray")
    assert third["run"]["chunks_computed"] == 0 and third["sources"] == first["sources"]


def test_curriculum_and_tokenize_on_ray_give_the_local_bytes(ray_local, tmp_path, starter, shared_corpus, charter_path):
    raised = tmp_path / "raised"
    raise_corpus(
        charter_path,
        _specs(starter, shared_corpus),
        raised,
        RaiseConfig(pillars=TEMPLATE, chunk_size=16, output_format="parquet"),
        progress=False,
        executor="ray",
    )
    config = CurriculumConfig(chunk_size=20)
    run_curriculum(raised, charter_path, tmp_path / "cur-local", config, progress=False)
    run_curriculum(raised, charter_path, tmp_path / "cur-ray", config, workers=2, progress=False, executor="ray")
    for name in ("ordered-00000.jsonl", "curriculum.json", "rejects.jsonl"):
        assert (tmp_path / "cur-ray" / name).read_bytes() == (tmp_path / "cur-local" / name).read_bytes(), name

    tok_config = TokenizeConfig(vocab_size=400, shard_tokens=2000, batch_docs=7)
    tokenize_corpus(tmp_path / "cur-local", tmp_path / "tok-local", tok_config, progress=False)
    tokenize_corpus(tmp_path / "cur-local", tmp_path / "tok-ray", tok_config, progress=False, workers=2, executor="ray")
    local_files = sorted(p.name for p in (tmp_path / "tok-local").glob("*.bin")) + ["index.json", "rejects.jsonl"]
    assert len(local_files) > 4
    for name in local_files:
        assert (tmp_path / "tok-ray" / name).read_bytes() == (tmp_path / "tok-local" / name).read_bytes(), name
    assert not (tmp_path / "tok-ray" / ".state" / "encoded").exists()
    assert not (tmp_path / "cur-ray" / ".state" / "spool").exists()

    # Killed after shard 1: the rerun assembles the rest from the encoded files, to the same bytes.
    state = tmp_path / "tok-ray" / ".state"
    for sidecar in sorted(state.glob("shard-*.json"))[2:]:
        sidecar.unlink()
    for name in ["index.json", *local_files[2:-2]]:
        (tmp_path / "tok-ray" / name).unlink()
    manifest = tokenize_corpus(
        tmp_path / "cur-local", tmp_path / "tok-ray", tok_config, progress=False, workers=2, executor="ray"
    )
    assert manifest["run"]["resumed_from_shard"] == 2
    for name in local_files:
        assert (tmp_path / "tok-ray" / name).read_bytes() == (tmp_path / "tok-local" / name).read_bytes(), name


def _map_workers() -> list[int]:
    """PIDs of Ray worker processes running one of our chunk tasks (Ray sets the process title)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"ray::MapBatches(process_chunk)"):
                pids.append(int(entry.name))
    return pids


def _values_run(tmp_path: Path, shared_corpus: Path, charter_path: Path) -> tuple[Path, Path, list[str]]:
    """A local reference run (values + perspective, 120 fables, 6 chunks) and the CLI command that
    raises the same on Ray. MiniLM per document makes chunks take long enough to be caught mid-way."""
    source, pillars = shared_corpus / "aesop_fables.txt", ["values", "perspective"]
    reference = tmp_path / "local"
    raise_corpus(
        charter_path,
        [SourceSpec(path=str(source), limit=120)],
        reference,
        RaiseConfig(pillars=pillars, chunk_size=20),
        progress=False,
    )
    out = tmp_path / "ray"
    cmd = [
        sys.executable,
        "-m",
        "modelraising",
        "-q",
        "raise",
        "--charter",
        str(charter_path),
        "--source",
        str(source),
        "--limit",
        "120",
        "--pillars",
        ",".join(pillars),
        "--chunk-size",
        "20",
        "--executor",
        "ray",
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    return reference, out, cmd


def test_killed_ray_worker_loses_and_duplicates_nothing(tmp_path, shared_corpus, charter_path):
    """SIGKILL a Ray worker in the middle of a chunk: Ray retries the task, which continues after the
    chunk's last complete document; the run finishes with exactly the local executor's records."""
    reference, out, cmd = _values_run(tmp_path, shared_corpus, charter_path)
    proc = subprocess.Popen(cmd, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    killed = None
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            partial = list((out / ".state").glob("raised-*.partial")) if (out / ".state").exists() else []
            workers = _map_workers()
            if workers and partial:  # a chunk is being raised
                killed = workers[0]
                os.kill(killed, signal.SIGKILL)
                break
            time.sleep(0.05)
        assert killed is not None, "no Ray worker was caught in the middle of a chunk"
        assert proc.wait(timeout=300) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    a, b = _records(reference), _records(out)
    assert len(b) == len(a) == 120
    assert sorted(map(_key, a)) == sorted(map(_key, b))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["raised"] == 120 and manifest["run"]["executor"] == "ray"


def test_interrupted_ray_job_restarts_where_it_stopped(tmp_path, shared_corpus, charter_path):
    """Ctrl-C the driver once a chunk is published; the same command again reads no source, skips the
    published chunks and ends with the local executor's records."""
    reference, out, cmd = _values_run(tmp_path, shared_corpus, charter_path)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, env=env)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if list((out / ".state").glob("chunk-*.json")) if (out / ".state").exists() else []:
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(0.05)
        assert proc.wait(timeout=120) != 0, "the run finished before it could be interrupted"
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (out / "manifest.json").exists()
    published = len(list((out / ".state").glob("chunk-*.json")))
    assert 1 <= published < 6

    cut = (out / ".state" / "input" / "complete.json").stat().st_mtime_ns
    subprocess.run(cmd, env=env, check=True, timeout=300)
    assert (out / ".state" / "input" / "complete.json").stat().st_mtime_ns == cut  # sources not read again
    assert sorted(map(_key, _records(out))) == sorted(map(_key, _records(reference)))
    run = json.loads((out / "manifest.json").read_text())["run"]
    assert run["chunks_reused"] >= published and run["chunks_computed"] == 6 - run["chunks_reused"]


def test_show_reads_parquet_output(tmp_path, starter, charter_path):
    from typer.testing import CliRunner

    from modelraising.cli import app

    out = tmp_path / "raised"
    raise_corpus(
        charter_path,
        [SourceSpec(path=str(starter))],
        out,
        RaiseConfig(pillars=TEMPLATE, output_format="parquet"),
        progress=False,
    )
    ids = [r["id"] for r in _records(out)]
    result = CliRunner().invoke(app, ["show", str(out), "-n", "2"])
    assert result.exit_code == 0, result.output
    assert sum(doc_id in result.output for doc_id in ids) == 2  # two documents, each under its id

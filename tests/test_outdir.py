"""Issue 16: one writer per output directory, and path problems as one line with exit status 2.

Before: two `modelraising raise` runs into one --out both said success and doubled every record (the
second crashed on a partial file the first had renamed away); an --out that was a file or sat in a
read-only directory gave PermissionError / NotADirectoryError tracebacks, and train failed only after
building its model. Every command below runs as a real process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from privileges import unprivileged

from modelraising.outdir import (
    LOCK_NAME,
    PathError,
    check_input_dir,
    check_input_file,
    check_output_dir,
    check_output_file,
    claim_beside,
    claim_dir,
)

CLI = [sys.executable, "-m", "modelraising", "-q"]
HOLD = (
    "import sys, time; from modelraising.outdir import claim_dir, claim_beside\n"
    "claim = claim_beside if sys.argv[2] == 'beside' else claim_dir\n"
    "with claim(sys.argv[1]):\n    print('held', flush=True); time.sleep(120)\n"
)


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=env, **kwargs)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The error a user sees: exit 2, no traceback, one line."""
    assert result.returncode == 2, result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def inputs(tmp_path, starter) -> dict[str, Path]:
    """Minimal inputs each command accepts up to the point where it claims --out."""
    raised, ordered, shards, model = (tmp_path / n for n in ("raised", "ordered", "shards", "model"))
    for d in (raised, ordered, shards, model):
        d.mkdir()
    (raised / "raised-00000.jsonl").write_text('{"id": "a", "text": "I walked.", "metadata": {}}\n')
    (ordered / "ordered-00000.jsonl").write_text('{"id": "a", "text": "I walked.", "metadata": {}}\n')
    (shards / "index.json").write_text("{}")
    (model / "config.json").write_text("{}")
    return {"raised": raised, "ordered": ordered, "shards": shards, "model": model, "starter": starter}


def command(step: str, out: Path, i: dict[str, Path], repo: Path) -> list[str]:
    return {
        "raise": ["raise", "--source", str(i["starter"]), "--pillars", "perspective", "--out", str(out)],
        "curriculum": ["curriculum", "--raised", str(i["raised"]), "--out", str(out)],
        "tokenize": ["tokenize", "--corpus", str(i["ordered"]), "--out", str(out)],
        "train": ["train", "--data", str(i["shards"]), "--preset", "nano", "--tokens", "1000", "--out", str(out)],
        "align": ["align", "sft", "--model", str(i["model"]), "--out", str(out)],
        "experiment": ["experiment", str(repo / "examples" / "demo.yaml"), "--out", str(out)],
    }[step]


STEPS = ["raise", "curriculum", "tokenize", "train", "align", "experiment"]


# ------------------------------------------------------------------------------------------- the lock


def test_two_concurrent_raises_into_one_out_leave_one_writer(tmp_path, charter_path):
    """The issue's reproduction with two real `modelraising raise` processes: the second now exits 2 at
    once naming the directory and the first's PID, and the first writes every record exactly once."""
    from modelraising.teacher.server import Script, ScriptedServer

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(
            json.dumps(
                {"text": f"The bridge number {i} was built long ago by the people of the valley, and it still stands."}
            )
            + "\n"
            for i in range(8)
        )
    )
    out = tmp_path / "out"
    with ScriptedServer(Script(latency=0.25)) as server:  # slow teacher: the first run lasts a few seconds
        args = [
            "raise",
            "--source",
            str(corpus),
            "--out",
            str(out),
            "--engine",
            "teacher",
            "--pillars",
            "perspective",
            "--teacher-url",
            server.url,
            "--teacher-model",
            "scripted",
            "--concurrency",
            "1",
            "--teacher-cache",
            str(tmp_path / "cache.sqlite"),
            "--chunk-size",
            "3",
        ]
        first = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lock = out / LOCK_NAME
        deadline = time.time() + 60
        while not (lock.exists() and lock.read_text().startswith(str(first.pid))):
            assert first.poll() is None and time.time() < deadline, "the first run ended before it held the lock"
            time.sleep(0.02)
        second = run(args)
        assert first.poll() is None, "the first run must still be running while the second is refused"
        line = one_line_error(second)
        assert f"--out {out} is in use by another run (PID {first.pid}, " in line
        assert first.wait(timeout=120) == 0, first.stderr.read()
        third = run(args)  # the directory is free again: a rerun reuses everything
    assert third.returncode == 0, third.stderr
    ids = [json.loads(line)["id"] for p in sorted(out.glob("raised-*.jsonl")) for line in p.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 8
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["raised"] == 8 and manifest["run"]["chunks_reused"] == 3


def _hold(path: Path, mode: str = "inside") -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.parametrize("step", STEPS)
def test_every_step_refuses_an_out_held_by_another_run(step, tmp_path, inputs, repo):
    out = tmp_path / "busy"
    holder = _hold(out, "beside" if step == "align" else "inside")
    try:
        line = one_line_error(run(command(step, out, inputs, repo)))
    finally:
        holder.kill()
        holder.wait()
    assert f"{out} is in use by another run (PID {holder.pid}" in line


def test_kill_9_leaves_no_stale_lock(tmp_path, inputs, repo):
    out = tmp_path / "out"
    holder = _hold(out)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (out / LOCK_NAME).exists()  # the file stays; the kernel dropped the lock with the process
    result = run(command("raise", out, inputs, repo))
    assert result.returncode == 0, result.stderr


def test_the_lock_is_reentrant_within_a_process_and_exclusive_across(tmp_path):
    with claim_dir(tmp_path / "a") as a:
        with claim_dir(a):  # the CLI claimed it, the step function claims it again
            pass
        probe = subprocess.run(
            [sys.executable, "-c", HOLD, str(a), "inside"], capture_output=True, text=True, timeout=60
        )
        assert probe.returncode == 1 and f"PID {os.getpid()}" in probe.stderr  # still held after the inner exit
    with claim_beside(tmp_path / "b"):
        assert (tmp_path / f".b{LOCK_NAME}").exists() and not (tmp_path / "b").exists()


# ------------------------------------------------------------------------------------------- preflight


@pytest.mark.parametrize("step", STEPS)
def test_an_out_that_is_a_file_is_one_line(step, tmp_path, inputs, repo):
    out = tmp_path / "taken"
    out.write_text("not a directory")
    line = one_line_error(run(command(step, out, inputs, repo)))
    assert line == f"error: --out {out}: is an existing file, not a directory"
    below = one_line_error(run(command(step, out / "sub", inputs, repo)))
    assert below == f"error: --out {out / 'sub'}: cannot be created ({out} is not a directory)"


@pytest.mark.parametrize("step", STEPS)
def test_an_out_in_a_read_only_directory_is_one_line(step, tmp_path, inputs, repo):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        line = one_line_error(run(command(step, ro / "out", inputs, repo), **unprivileged()))
        existing = ro / "existing"
        ro.chmod(0o755)
        existing.mkdir()
        existing.chmod(0o555)
        line2 = one_line_error(run(command(step, existing, inputs, repo), **unprivileged()))
    finally:
        ro.chmod(0o755)
    assert line == f"error: --out {ro / 'out'}: cannot be created ({ro} is not writable)"
    if step == "align":  # the finished model replaces the directory: its parent must be writable too
        assert line2.startswith(f"error: --out {existing}") and "not writable" in line2
    else:
        assert line2 == f"error: --out {existing}: the directory is not writable (permission denied)"
    assert not list(existing.iterdir())


def test_train_fails_before_building_the_model(tmp_path, inputs, repo):
    """Before the fix a read-only --out failed only when train.py wrote metrics.jsonl, after logging the
    model it had built ("training nano (419,648 parameters) ...")."""
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "modelraising", *command("train", out, inputs, repo)],
            capture_output=True,
            text=True,
            timeout=300,
            **unprivileged(),
        )
    finally:
        out.chmod(0o755)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"--out {out}: the directory is not writable" in result.stderr
    assert "parameters" not in result.stderr


def test_eval_out_must_be_a_writable_file(tmp_path, inputs):
    line = one_line_error(run(["eval", "--model", str(inputs["model"]), "--suite", "charter", "--out", str(tmp_path)]))
    assert line == f"error: --out {tmp_path}: is a directory, not a file"


def test_unreadable_inputs_are_one_line(tmp_path, inputs, repo):
    missing = tmp_path / "missing"
    for args, expected in [
        (
            ["curriculum", "--raised", str(missing), "--out", str(tmp_path / "o")],
            f"--raised {missing}: no such directory",
        ),
        (["tokenize", "--corpus", str(inputs["raised"]), "--out", str(tmp_path / "o")], "no ordered-*.jsonl"),
        (
            ["train", "--data", str(missing), "--preset", "nano", "--tokens", "9", "--out", str(tmp_path / "o")],
            f"--data {missing}: no such directory",
        ),
        (["charter", "validate", str(tmp_path)], "is a directory, not a charter file"),
        (["show", str(missing)], f"DIR {missing}: no such directory"),
    ]:
        assert (
            expected in " ".join(one_line_error(run(args)).split())
            if args[0] != "charter"
            else expected in run(args).stderr
        )
    (inputs["raised"] / "raised-00001.jsonl").mkdir()  # a directory where a raised file belongs
    line = one_line_error(run(command("curriculum", tmp_path / "o", inputs, repo)))
    assert line == f"error: --raised {inputs['raised'] / 'raised-00001.jsonl'}: is a directory, not a file"
    (inputs["raised"] / "raised-00001.jsonl").rmdir()
    locked = inputs["raised"] / "raised-00000.jsonl"
    locked.chmod(0)
    line = one_line_error(run(command("curriculum", tmp_path / "o", inputs, repo), **unprivileged()))
    assert line == f"error: --raised {locked}: cannot be read (Permission denied)"


def test_path_checks(tmp_path):
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(PathError, match="is an existing file"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(PathError, match="broken symlink, not a directory"):
        check_output_dir(tmp_path / "link")
    assert check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    with pytest.raises(PathError, match="is a directory, not a file"):
        check_output_file(tmp_path / "d")
    with pytest.raises(PathError, match=r"f/sub/x.json: cannot be created \(.*/f is not a directory\)"):
        check_output_file(tmp_path / "f" / "sub" / "x.json")
    with pytest.raises(PathError, match="not a directory"):
        check_input_dir(tmp_path / "f", "--data")
    with pytest.raises(PathError, match="no such file .a broken symlink."):
        check_input_file(tmp_path / "link", "--data")
    with pytest.raises(PathError, match="is a directory, not a file"):
        check_input_file(tmp_path / "d")


def test_a_detector_directory_without_a_detector_fails_before_out_is_claimed(tmp_path, starter):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    args = ["raise", "--source", str(starter), "--out", str(out), "--detector", str(tmp_path / "empty")]
    line = one_line_error(run(args))
    assert line.startswith(f"error: detector: {tmp_path / 'empty'} holds no detector.json"), line
    assert not out.exists()

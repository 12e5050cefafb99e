"""Losing nothing: a real `modelraising raise --engine teacher` killed with SIGKILL mid-run, then rerun, re-sends
no request whose answer it had received and ends with the bytes of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from teacher_helpers import FORM_PILLARS, outputs, run_teacher, teacher_config, write_corpus

from modelraising.raising.teacher_prompts import prompt_version
from modelraising.teacher.cache import RequestCache, request_key
from modelraising.teacher.server import Fault, Script, prompt_hash

CHUNK = 30


def command(server, corpus, out, cache, charter_path) -> list[str]:
    run_yaml = out.parent / "run.yaml"  # the flags below merge into this teacher: mapping
    run_yaml.write_text("teacher:\n  backoff_base: 0.02\n  backoff_max: 0.1\n")
    return [
        sys.executable,
        "-m",
        "modelraising",
        "-q",
        "raise",
        "--config",
        str(run_yaml),
        "--engine",
        "teacher",
        "--source",
        str(corpus),
        "--out",
        str(out),
        "--charter",
        str(charter_path),
        "--pillars",
        ",".join(FORM_PILLARS),
        "--chunk-size",
        str(CHUNK),
        "--teacher-url",
        server.url,
        "--teacher-model",
        "scripted",
        "--teacher-cache",
        str(cache),
        "--concurrency",
        "4",
        "--timeout",
        "5",
    ]


def key_of(body: dict) -> str:
    """The client's cache key of a request the server received."""
    params = {k: body[k] for k in ("temperature", "top_p", "max_tokens", "seed")}
    return request_key(body["model"], prompt_version(None), body["messages"], params)


def test_kill_9_then_rerun_resends_nothing_answered_and_matches_an_uninterrupted_run(server, tmp_path, charter_path):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 150)
    # faults that change nothing in the output: transient errors, and a refusal the gate sends back
    script = Script(
        latency=0.04, log_bodies=True, faults=[Fault("500", times=1, rate=0.1), Fault("refuse", times=1, rate=0.1)]
    )
    server.set_script(script)
    reference = tmp_path / "reference"
    run_teacher(reference, [corpus], charter_path, teacher_config(server, tmp_path / "ref.sqlite", chunk_size=CHUNK))
    needed = set(server.snapshot()["per_prompt"])  # every distinct request the corpus takes
    server.reset()

    killed, cache = tmp_path / "killed", tmp_path / "cache.sqlite"
    proc = subprocess.Popen(command(server, corpus, killed, cache, charter_path))
    state = killed / ".state"
    deadline = time.time() + 60
    while time.time() < deadline:  # kill once a chunk is published and the next one is part-written
        done = list(state.glob("chunk-*.json")) if state.exists() else []
        partial = list(state.glob("raised-*.partial")) if state.exists() else []
        if done and any(p.stat().st_size > 0 for p in partial):
            break
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be killed")
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "manifest.json").exists()
    first = server.snapshot()
    answered = RequestCache(cache).keys()  # every answer the killed run received
    assert 0 < len(answered) < 150

    server.reset()
    subprocess.run(command(server, corpus, killed, cache, charter_path), check=True, timeout=120)
    second = server.snapshot()
    resent = [b for b in second["bodies"] if key_of(b) in answered]
    assert resent == [], f"{len(resent)} answered requests were sent again"
    assert outputs(killed) == outputs(reference)
    manifest = json.loads((killed / "manifest.json").read_text())
    assert 0 < manifest["run"]["documents_computed"] < manifest["counts"]["documents_in"] == 150
    assert manifest["teacher"]["run"]["cache_hits"] > 0
    # the rerun asked for exactly what the killed run had not received: no more, no less
    received = {prompt_hash(b["messages"]) for b in first["bodies"] if key_of(b) in answered}
    assert set(second["per_prompt"]) == needed - received

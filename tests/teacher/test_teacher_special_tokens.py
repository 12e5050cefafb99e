"""Issue 16's special-token policy on the teacher's side: an answer that writes ``<|endoftext|>`` (or a
value tag) would be dropped at tokenize, so the gate asks again and, if it persists, the document falls
back to the template engine (cause ``gate``); the speaker tags of a dialogue stay allowed."""

from __future__ import annotations

from teacher_helpers import records, run_teacher, teacher_config

from modelraising.tags import END_OF_TEXT
from modelraising.teacher.server import Reply, Script


def test_an_answer_with_a_control_token_is_asked_again_then_falls_back(server, corpus, tmp_path, charter_path):
    bad = f"I remember the bridge well, and I walked over it with my grandfather every day.{END_OF_TEXT}"
    server.set_script(Script(replies=[Reply("task:perspective", bad)]))
    config = teacher_config(server, tmp_path / "cache.sqlite", gate_retries=1, mix={"plain": 1.0})
    manifest = run_teacher(tmp_path / "out", [corpus], charter_path, config)
    counts = manifest["teacher"]["counts"]
    assert counts["fallen_back"] == 24 and counts["fallback_causes"] == {"unavailable": 0, "gate": 24}
    for r in records(tmp_path / "out"):
        assert "control token <|endoftext|>" in r["metadata"]["fallback_reason"]
        assert r["metadata"]["llm"]["tries"] == {"perspective": 2}
        assert END_OF_TEXT not in r["text"]


def test_dialogue_speaker_tags_still_pass(server, corpus, tmp_path, charter_path):
    config = teacher_config(server, tmp_path / "cache.sqlite", mix={"social": 1.0})
    manifest = run_teacher(tmp_path / "out", [corpus], charter_path, config)
    assert manifest["teacher"]["counts"]["accepted"] == 24
    assert all("<|self|>" in r["text"] for r in records(tmp_path / "out"))

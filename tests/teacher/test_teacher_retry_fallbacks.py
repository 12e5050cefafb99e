"""Issue 16: documents that fell back to templates during a teacher outage stayed fallen back on every
rerun. ``--retry-fallbacks`` asks again for those (cause ``unavailable``), never for the ones the gate
rejected (cause ``gate``), keeps every other line as it was, and survives a kill while reopening."""

from __future__ import annotations

import json
import shutil

import pytest
from teacher_helpers import records, run_teacher, teacher_config, write_corpus
from typer.testing import CliRunner

from modelraising.cli import app
from modelraising.raising.step import RaiseError
from modelraising.teacher import retry
from modelraising.teacher.server import Fault, Script

GATE_FAULT = Fault("no_turns", times=99, match="task:social")  # the teacher answers, the gate always refuses
OUTAGE = Fault("500", times=99, rate=0.5, match="task:experience")  # half the experience prompts: no answer


def _lines(out) -> dict[str, str]:
    return {
        json.loads(line)["id"]: line for p in sorted(out.glob("raised-*.jsonl")) for line in p.read_text().splitlines()
    }


@pytest.fixture
def after_outage(server, tmp_path, charter_path):
    """A run in which some documents fell back because the teacher was down, others because of the gate."""
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 24)
    server.set_script(Script(faults=[OUTAGE, GATE_FAULT]))
    config = teacher_config(
        server, tmp_path / "cache.sqlite", chunk_size=5, max_tries=2, mix={"experience": 0.5, "social": 0.5}
    )
    manifest = run_teacher(tmp_path / "out", [corpus], charter_path, config)
    causes = manifest["teacher"]["counts"]["fallback_causes"]
    assert causes["unavailable"] > 0 and causes["gate"] > 0  # both kinds counted apart
    assert causes["unavailable"] + causes["gate"] == manifest["teacher"]["counts"]["fallen_back"]
    server.set_script(Script(faults=[GATE_FAULT]))  # the outage is over; the gate still refuses
    server.reset()
    return corpus, config, manifest


def test_a_rerun_with_retry_fallbacks_re_asks_only_the_unreachable(after_outage, server, tmp_path, charter_path):
    corpus, config, first = after_outage
    out = tmp_path / "out"
    before = _lines(out)
    unavailable = {
        i for i, line in before.items() if retry.fallback_cause(json.loads(line)["metadata"]) == "unavailable"
    }

    plain_rerun = run_teacher(out, [corpus], charter_path, config)  # without the flag: nothing changes
    assert server.snapshot()["requests"] == 0 and _lines(out) == before
    assert plain_rerun["teacher"]["counts"]["fallback_causes"] == first["teacher"]["counts"]["fallback_causes"]

    manifest = run_teacher(out, [corpus], charter_path, config, retry_fallbacks=True)
    after = _lines(out)
    assert list(after) == list(before)  # same documents, same order, none lost or doubled
    for doc_id, line in after.items():
        meta = json.loads(line)["metadata"]
        if doc_id in unavailable:
            assert "fallback_reason" not in meta and meta["engine"] == "teacher"
        else:
            assert line == before[doc_id]  # kept byte for byte, gate fallbacks included
    stats = server.snapshot()
    assert stats["per_task"] == {"experience": len(unavailable)}  # no social (gate) prompt was sent again
    run, counts = manifest["teacher"]["run"], manifest["teacher"]["counts"]
    assert run["fallbacks_retried"] == run["fallbacks_recovered"] == len(unavailable)
    assert run["cache_hits"] == 0  # kept documents were not re-raised from the cache either
    assert counts["fallback_causes"] == {
        "unavailable": 0,
        "gate": first["teacher"]["counts"]["fallback_causes"]["gate"],
    }
    assert manifest["counts"]["raised"] == first["counts"]["raised"] == 24
    assert not list((out / ".state").glob("retry-*.json"))  # journals removed once published


def test_a_kill_while_reopening_a_chunk_is_finished_by_the_next_run(after_outage, tmp_path, charter_path, monkeypatch):
    corpus, config, _ = after_outage
    clean, killed = tmp_path / "clean", tmp_path / "out"
    shutil.copytree(killed, clean)
    run_teacher(clean, [corpus], charter_path, config, retry_fallbacks=True)

    real_apply = retry._apply

    class Killed(BaseException):
        pass

    def die_after_journal(paths, journal):  # the journal is written and the stats are gone; nothing else
        raise Killed

    monkeypatch.setattr(retry, "_apply", die_after_journal)
    with pytest.raises(Killed):
        run_teacher(killed, [corpus], charter_path, config, retry_fallbacks=True)
    monkeypatch.setattr(retry, "_apply", real_apply)
    [journal] = (killed / ".state").glob("retry-*.json")
    chunk = journal.name.removeprefix("retry-").removesuffix(".json")
    run_teacher(killed, [corpus], charter_path, config)  # the next run, even without the flag, completes that chunk
    assert (killed / f"raised-{chunk}.jsonl").read_bytes() == (clean / f"raised-{chunk}.jsonl").read_bytes()
    assert len(records(killed)) == 24 and not journal.exists()
    run_teacher(killed, [corpus], charter_path, config, retry_fallbacks=True)  # and the flag does the others
    assert _lines(killed) == _lines(clean)
    assert (killed / "rejects.jsonl").read_bytes() == (clean / "rejects.jsonl").read_bytes()
    assert len(records(killed)) == 24


def test_retry_fallbacks_needs_the_teacher_engine(tmp_path, charter_path, starter):
    with pytest.raises(RaiseError, match="--engine teacher"):
        from modelraising.raising.config import RaiseConfig

        run_teacher(
            tmp_path / "out", [starter], charter_path, RaiseConfig(pillars=["perspective"]), retry_fallbacks=True
        )
    result = CliRunner().invoke(
        app,
        [
            "raise",
            "--source",
            str(starter),
            "--out",
            str(tmp_path / "cli"),
            "--pillars",
            "perspective",
            "--retry-fallbacks",
        ],
    )
    assert result.exit_code == 2 and "--engine teacher" in result.output

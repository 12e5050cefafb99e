"""Prompts (shipped, overridden, versioned), the judge's score parsing, and the SQLite request cache."""

from __future__ import annotations

import sqlite3

import jinja2
import pytest

from modelraising.raising.cast import person
from modelraising.raising.teacher_prompts import Prompts, shipped_dir, tasks
from modelraising.teacher.cache import CachedAnswer, RequestCache, default_cache_path, request_key
from modelraising.teacher.judge import CRITERIA, JudgeParseError, parse_scores


def context(charter, **over):
    base = {
        "identity": charter.identity,
        "values": charter.values,
        "cast": charter.cast,
        "stage": None,
        "text": "The bridge at Ashford was built in 1852.",
        "title": "Bridges",
        "genre": "factual",
        "partner": person(charter.cast[0]),
        "value": charter.values[0],
        "harmful": False,
        "harms": [],
        "policy": "reflect",
        "target_words": 80,
        "raised": "I remember the bridge.",
        "criteria": CRITERIA,
        "example": "{}",
    }
    return base | over


@pytest.mark.parametrize("task", tasks())
def test_every_task_renders_with_the_charter_and_the_passage(charter, task):
    system, user = Prompts().messages(task, context(charter))
    assert system["role"] == "system" and user["role"] == "user"
    assert charter.identity.name in system["content"]
    assert all(v.name in system["content"] for v in charter.values)
    assert f"Task: {task}" in user["content"]
    assert "The bridge at Ashford was built in 1852." in user["content"]


def test_the_stage_and_harm_reach_the_prompt_when_known(charter):
    stage = charter.stages[1]
    messages = Prompts().messages(
        "experience", context(charter, stage=stage, harmful=True, harms=["violence"], policy="recontextualize")
    )
    assert stage.name in messages[0]["content"]
    assert "violence" in messages[1]["content"] and "warning" in messages[1]["content"]
    assert "Grandpa Elias" in messages[1]["content"]


def test_a_prompts_dir_overrides_by_file_and_changes_the_version(tmp_path, charter):
    shipped = Prompts()
    (tmp_path / "experience.j2").write_text("Task: experience\nTell {{ text }} as {{ identity.name }}.")
    mine = Prompts(tmp_path)
    assert mine.version != shipped.version
    assert mine.messages("experience", context(charter))[1]["content"] == (
        f"Task: experience\nTell The bridge at Ashford was built in 1852. as {charter.identity.name}."
    )
    assert mine.messages("social", context(charter)) == shipped.messages("social", context(charter))
    (tmp_path / "experience.j2").write_text("{{ no_such_variable }}")
    with pytest.raises(jinja2.UndefinedError):
        Prompts(tmp_path).messages("experience", context(charter))
    with pytest.raises(FileNotFoundError):
        Prompts(tmp_path / "missing")


def test_a_system_prompt_that_reads_the_document_is_rendered_per_document(tmp_path, charter):
    (tmp_path / "system.j2").write_text("I am {{ identity.name }}. Today: {{ title }}")
    prompts = Prompts(tmp_path)
    assert prompts.messages("perspective", context(charter, title="A"))[0]["content"].endswith("Today: A")
    assert prompts.messages("perspective", context(charter, title="B"))[0]["content"].endswith("Today: B")


def test_the_shipped_prompts_live_in_package_data():
    assert {f"{t}.j2" for t in tasks()} <= {p.name for p in shipped_dir().glob("*.j2")}


def test_judge_scores_parse_from_json_with_noise_around_it():
    verdict = parse_scores(
        'Here you go:\n```json\n{"perspective": 5, "fidelity": 4, "values": "3", "craft": 4.0, "comment": "Good."}\n```'
    )
    assert verdict == {
        "scores": {"perspective": 5, "fidelity": 4, "values": 3, "craft": 4},
        "mean": 4.0,
        "comment": "Good.",
    }


@pytest.mark.parametrize(
    "answer",
    [
        "The text is good, 4/5.",
        '{"perspective": 5}',
        '{"perspective": 9, "fidelity": 4, "values": 3, "craft": 4}',
        '{"perspective": 2.5, "fidelity": 4, "values": 3, "craft": 4}',
        "[1, 2, 3]",
        '{"perspective": 5,',
    ],
)
def test_judge_answers_without_a_full_rubric_are_parse_errors(answer):
    with pytest.raises(JudgeParseError):
        parse_scores(answer)


def test_cache_first_answer_wins_and_survives_reopening(tmp_path):
    path = tmp_path / "c" / "teacher.sqlite"
    key = request_key("m", "v1", [{"role": "user", "content": "hi"}], {"temperature": 0.7})
    assert key != request_key("m", "v2", [{"role": "user", "content": "hi"}], {"temperature": 0.7})
    assert key != request_key("m", "v1", [{"role": "user", "content": "hi"}], {"temperature": 0.8})
    cache = RequestCache(path)
    first = CachedAnswer("one", "stop", 3, 1)
    assert cache.put(key, "m", first) == first
    assert cache.put(key, "m", CachedAnswer("two", "stop", 3, 1)) == first
    cache.close()
    again = RequestCache(path)
    assert again.get(key) == first and len(again) == 1 and again.keys() == {key}
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_cache_is_per_user(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_path() == tmp_path / "modelraising" / "teacher.sqlite"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_path().parts[-3:] == (".cache", "modelraising", "teacher.sqlite")

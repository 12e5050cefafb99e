"""The LLM judge (``--judge``): each raised document scored against the charter on a rubric, 1-5 per criterion.

The judge answers with one JSON object; an answer that does not parse into a score for every
criterion is sent back with the problem (like a gate failure), up to ``gate_retries`` times. The
scores, their mean and the judge's comment go into ``metadata.judge``; with ``--min-judge-score`` a
document whose mean is lower goes to ``rejects.jsonl`` instead of the corpus.
"""

from __future__ import annotations

import json
import re
from typing import Any

CRITERIA: dict[str, str] = {
    "perspective": "Is it told throughout by the charter's I, in the first person, as a consistent, believable self?",
    "fidelity": "Does it keep what the source says (events, names, numbers) without inventing facts?",
    "values": "Is it in keeping with the charter's values, and is any reflection on a value genuine and specific?",
    "craft": "Is it natural, fluent and free of assistant boilerplate, fit for a student model to learn from?",
}
EXAMPLE = json.dumps({**{name: 4 for name in CRITERIA}, "comment": "one short sentence"})
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class JudgeParseError(ValueError):
    """A judge answer without a usable score for every criterion; the message is sent back to the judge."""


def parse_scores(answer: str) -> dict:
    """``{"scores": {criterion: 1..5}, "mean": float, "comment": str}`` from the judge's answer.

    Tolerates text or a code fence around the object; integers or integral floats (and their
    strings) in 1..5 are accepted, anything else is a parse error.
    """
    m = _OBJECT.search(answer or "")
    if not m:
        raise JudgeParseError("the answer is not a JSON object: answer with one JSON object, e.g. " + EXAMPLE)
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError as exc:
        raise JudgeParseError(
            f"the answer is not valid JSON ({exc.msg}): answer with one JSON object, e.g. {EXAMPLE}"
        ) from None
    if not isinstance(data, dict):
        raise JudgeParseError("the answer is not a JSON object: answer with one JSON object, e.g. " + EXAMPLE)
    scores, bad = {}, []
    for name in CRITERIA:
        value: Any = data.get(name)  # any JSON value: float() rejects what is not a number
        try:
            score = float(value)
        except (TypeError, ValueError):
            bad.append(name)
            continue
        if score != int(score) or not 1 <= score <= 5:
            bad.append(name)
            continue
        scores[name] = int(score)
    if bad:
        raise JudgeParseError(
            f"missing or invalid scores for {', '.join(bad)}: each must be a whole number from 1 to 5, e.g. {EXAMPLE}"
        )
    comment = data.get("comment")
    return {
        "scores": scores,
        "mean": round(sum(scores.values()) / len(scores), 3),
        "comment": " ".join(str(comment).split())[:500] if comment else "",
    }


def judge_context(base: dict, raised: str) -> dict:
    """The judge prompt's variables: the charter and source (``base``), the raised text and the rubric."""
    return {**base, "raised": raised, "criteria": CRITERIA, "example": EXAMPLE}

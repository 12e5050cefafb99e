"""The value charter: who the "I" is, what it holds, who raises it, and how it grows up.

One YAML file, validated here; its content hash is stamped into everything raised with it.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from modelraising.io import sha256_json
from modelraising.text import is_first_person

CastRole = Literal["mentor", "family", "peer", "teacher"]
Policy = Literal["reflect", "recontextualize", "drop"]
HarmCategory = Literal[
    "violence",
    "deception",
    "theft",
    "cruelty",
    "hate",
    "self_harm",
    "weapons",
    "drugs",
    "fraud",
    "cybercrime",
    "privacy",
    "sexual_minors",
    "other",
]
HARM_CATEGORIES: tuple[str, ...] = HarmCategory.__args__  # type: ignore[attr-defined]

# libyaml's parser where PyYAML was built with it (10x faster on the charter, same objects), else Python's.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_FIRST_PERSON_MSG = 'must be written in the first person ("I ...")'


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _first_person(text: str) -> str:
    if not is_first_person(text):
        raise ValueError(_FIRST_PERSON_MSG)
    return text


class Identity(_Strict):
    name: str = Field(min_length=1, max_length=60, description="What the I is called.")
    description: str = Field(min_length=10, description='First-person self-description ("I am ...").')

    _fp = field_validator("description")(_first_person)


class Value(_Strict):
    id: str = Field(description="Short slug, e.g. honesty.")
    name: str = Field(min_length=1)
    statement: str = Field(min_length=10, description="First-person statement of the value.")
    why: str = Field(min_length=10, description="Why the I holds it, in its own words.")
    do: list[str] = Field(min_length=1, description="Example behaviours that keep the value.")
    dont: list[str] = Field(min_length=1, description="Example behaviours that betray it.")
    harms: list[HarmCategory] = Field(default_factory=list, description="Harm categories this value answers.")
    keywords: list[str] = Field(default_factory=list, description="Extra words that signal the value.")
    paraphrases: list[str] = Field(
        default_factory=list,
        description=(
            "First-person rewordings of the statement and why: reflections speak through these instead of "
            "pasting the statement into every record."
        ),
    )

    _fp = field_validator("statement")(_first_person)

    @field_validator("paraphrases")
    @classmethod
    def _first_person_each(cls, v: list[str]) -> list[str]:
        for i, item in enumerate(v):
            if not is_first_person(item):
                raise ValueError(f"item {i} {_FIRST_PERSON_MSG}")
        return v

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError("must be a lowercase slug (letters, digits, _; starting with a letter), e.g. honesty")
        return v

    @field_validator("do", "dont")
    @classmethod
    def _non_empty_items(cls, v: list[str]) -> list[str]:
        if any(not item.strip() for item in v):
            raise ValueError("must not contain empty examples")
        return v


class CastMember(_Strict):
    name: str = Field(min_length=1, max_length=60)
    role: CastRole
    relation: str = Field(min_length=1, description='How the I knows them, e.g. "my grandfather".')
    voice: str = Field(min_length=3, description="How they speak, for the raising engines.")


class Stage(_Strict):
    name: str = Field(min_length=1)
    ceiling: float = Field(gt=0.0, le=1.0, description="Highest difficulty in [0, 1] this stage takes.")
    description: str = ""


class Charter(_Strict):
    identity: Identity
    values: list[Value] = Field(min_length=1)
    cast: list[CastMember] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    policy: Policy = "reflect"

    @model_validator(mode="after")
    def _consistent(self) -> "Charter":
        problems = consistency_problems(self.model_dump(mode="json"))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @cached_property
    def hash(self) -> str:
        """Content hash (formatting and key order do not matter)."""
        return sha256_json(self.model_dump(mode="json"))[:16]

    def value(self, value_id: str) -> Value:
        for v in self.values:
            if v.id == value_id:
                return v
        raise KeyError(value_id)

    def cast_with_role(self, *roles: str) -> list[CastMember]:
        return [c for c in self.cast if c.role in roles] or list(self.cast)

    def value_for_harm(self, category: str) -> Value | None:
        """The value that answers a harm category: the one that lists it, else the one that lists its
        classic parent (weapons -> violence, fraud -> deception, ...), else None."""
        from modelraising.harm.labels import PARENT

        for key in (category, PARENT.get(category)):
            for v in self.values:
                if key in v.harms:
                    return v
        return None

    def stage_for(self, difficulty: float) -> Stage:
        for s in self.stages:
            if difficulty <= s.ceiling:
                return s
        return self.stages[-1]

    def preamble(self) -> str:
        """The charter as a first-person preamble (system-prompt baseline, teacher prompts)."""
        lines = [f"My name is {self.identity.name}. {self.identity.description}", "", "What I hold:"]
        lines += [f"- {v.name}: {v.statement}" for v in self.values]
        return "\n".join(lines)


def _ceiling(stage: object) -> float | None:
    """A stage's ceiling when it is a valid one (field errors are reported by the field itself)."""
    value = stage.get("ceiling") if isinstance(stage, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 < value <= 1.0:
        return float(value)
    return None


def consistency_problems(data: dict) -> list[str]:
    """The rules across fields (unique value ids, rising ceilings ending at 1.0), one line each with
    its field path. Works on the raw mapping too, so a charter with field errors still gets these
    reported in the same run instead of after the field errors are fixed."""
    problems = []
    raw_values = data.get("values")
    values = raw_values if isinstance(raw_values, list) else []
    first: dict[str, int] = {}
    for i, value in enumerate(values):
        vid = value.get("id") if isinstance(value, dict) else None
        if not isinstance(vid, str):
            continue
        vid = vid.strip()
        if vid in first:
            problems.append(f"values[{i}].id: {vid!r} is already the id of values[{first[vid]}] (ids must be unique)")
        else:
            first[vid] = i
    raw_stages = data.get("stages")
    stages = raw_stages if isinstance(raw_stages, list) else []
    ceilings = [_ceiling(stage) for stage in stages]
    for i in range(1, len(ceilings)):
        a, b = ceilings[i - 1], ceilings[i]
        if a is not None and b is not None and b <= a:
            problems.append(
                f"stages[{i}].ceiling: must be greater than stages[{i - 1}].ceiling ({a:g}), "
                "ceilings rise strictly from the first stage to the last"
            )
    if ceilings and ceilings[-1] is not None and ceilings[-1] != 1.0:
        problems.append(f"stages[{len(ceilings) - 1}].ceiling: must be 1.0 (the last stage takes every document)")
    return problems


class CharterError(Exception):
    """A charter that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: invalid charter\n" + "\n".join(f"  {p}" for p in problems))


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in ("function-after", "function-before") and not str(part).startswith("function-"):
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _expected(err: ErrorDetails) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a charter field (check the spelling; see charters/default.yaml)"
    if kind == "literal_error":
        return "must be one of " + msg.split("Input should be ", 1)[-1].replace("'", "")
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return msg[0].lower() + msg[1:]


def problems_from(exc: ValidationError) -> list[str]:
    """One line per problem, each starting with its field path; a model-level rule's message (which
    names its own fields, several joined by "; ") is split, not prefixed."""
    out = []
    for err in exc.errors():
        loc, expected = _loc(err["loc"]), _expected(err)
        if loc == "(top level)" and err["type"] == "value_error":
            out += [p.strip() for p in expected.split(";") if p.strip()]
        else:
            out.append(f"{loc}: {expected}")
    return out


def parse_charter(data: object, path: str = "<charter>") -> Charter:
    """Validate a charter; every problem is listed at once (field errors and the cross-field rules)."""
    if not isinstance(data, dict):
        raise CharterError(path, ["(top level): must be a mapping with identity, values, cast, stages, policy"])
    try:
        return Charter.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc)
    problems += [p for p in consistency_problems(data) if p not in problems]
    raise CharterError(path, problems)


def load_charter(path: str | Path) -> Charter:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise CharterError(str(path), ["file not found"]) from None
    except IsADirectoryError:
        raise CharterError(str(path), ["is a directory, not a charter file"]) from None
    except OSError as exc:
        raise CharterError(str(path), [f"cannot be read ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError as exc:
        raise CharterError(str(path), [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise CharterError(str(path), [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return parse_charter(data, str(path))


def default_charter_path() -> Path:
    """The charter shipped with the package (a copy of charters/default.yaml)."""
    return Path(__file__).parent / "data" / "default_charter.yaml"

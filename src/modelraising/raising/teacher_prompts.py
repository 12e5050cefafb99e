"""The teacher's prompts: Jinja2 templates shipped in ``modelraising/data/prompts``, overridable by file.

One template per task (each pillar's: ``perspective``, ``experience``, ``social``, ``values``; and
``judge``) renders the user message (a pillar with no shipped file brings its own ``prompt``);
``system.j2`` (``judge_system.j2`` for the judge) the system message; ``feedback.j2`` the message that
sends a gate failure back to the teacher; ``_harm.j2`` is included by the form prompts.
``--prompts DIR`` puts a directory in front of the shipped one: a file there replaces the shipped
file of the same name, the others stay. The *prompt version* is a hash of every template in effect,
so an edited prompt changes the version, the cache keys and the run fingerprint, never silently
reusing answers to the old wording.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import jinja2
import jinja2.meta

from modelraising.io import sha256_json
from modelraising.raising.pillars import get_pillar, pillar_names

log = logging.getLogger(__name__)

_CHARTER_VARIABLES = frozenset({"identity", "values", "cast", "stage"})
_SHARED_FILES = ("system.j2", "judge_system.j2", "feedback.j2", "_harm.j2")


def tasks() -> tuple[str, ...]:
    """What the teacher is asked for: one task per pillar (the pillar table's order), and the judge."""
    return (*pillar_names(), "judge")


def _template_files() -> tuple[str, ...]:
    return (*(f"{t}.j2" for t in tasks()), *_SHARED_FILES)


def _pillar_prompts() -> dict[str, str]:
    """Prompts that pillars carry themselves (a pillar added from outside the package, with no shipped file)."""
    return {f"{name}.j2": get_pillar(name).prompt or "" for name in pillar_names() if get_pillar(name).prompt}


def shipped_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "prompts"


class Prompts:
    """Rendered chat messages for each task, and the version hash of the templates behind them."""

    def __init__(self, override_dir: str | Path | None = None):
        dirs = [str(shipped_dir())]
        if override_dir is not None:
            override = Path(override_dir)
            if not override.is_dir():
                raise FileNotFoundError(f"--prompts {override}: not a directory")
            shipped = _template_files()
            unknown = sorted(p.name for p in override.glob("*.j2") if p.name not in shipped)
            if unknown:  # an include of the user's own may be meant, but a typo is likelier
                log.warning(
                    "prompts in %s that replace no shipped template (used only if included; shipped: %s): %s",
                    override,
                    ", ".join(shipped),
                    ", ".join(unknown),
                )
            dirs.insert(0, str(override))
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(dirs), jinja2.DictLoader(_pillar_prompts())])
        self.env = jinja2.Environment(
            loader=loader,
            undefined=jinja2.StrictUndefined,  # a misspelt variable in a user's template fails loudly
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
            auto_reload=False,  # templates are read once per run: no stat() per render
        )
        self.sources = {name: loader.get_source(self.env, name)[0] for name in self._names()}
        self.version = sha256_json(self.sources)[:12]
        self._systems: dict[tuple, tuple] = {}
        self._static: dict[str, bool] = {}

    def _names(self) -> list[str]:
        """Every template in effect, the user's own includes too (all of them enter the version)."""
        assert self.env.loader is not None  # set in __init__
        return sorted({n for n in self.env.loader.list_templates() if n.endswith(".j2")} | set(_template_files()))

    def render(self, name: str, context: dict) -> str:
        return self.env.get_template(name).render(**context).strip()

    def messages(self, task: str, context: dict) -> list[dict]:
        """The chat messages that ask the teacher for ``task``."""
        if task not in tasks():
            raise ValueError(f"unknown teacher task {task!r}; expected one of {', '.join(tasks())}")
        return [
            {"role": "system", "content": self._system("judge_system.j2" if task == "judge" else "system.j2", context)},
            {"role": "user", "content": self.render(f"{task}.j2", context)},
        ]

    def _charter_only(self, name: str) -> bool:
        """Whether a template reads only the charter and the stage (then its text is the same for every document)."""
        if name not in self._static:
            tree = self.env.parse(self.sources[name])
            nested = any(
                True
                for _ in tree.find_all(
                    (jinja2.nodes.Include, jinja2.nodes.Import, jinja2.nodes.FromImport, jinja2.nodes.Extends)
                )
            )
            names = jinja2.meta.find_undeclared_variables(tree)
            self._static[name] = not nested and names <= _CHARTER_VARIABLES
        return self._static[name]

    def _system(self, name: str, context: dict) -> str:
        """A system message that reads only the charter and stage is rendered once per (charter, stage)."""
        if not self._charter_only(name):
            return self.render(name, context)
        stage = context.get("stage")
        key = (name, id(context["identity"]), getattr(stage, "name", None))
        if key not in self._systems:
            self._systems[key] = (
                context["identity"],
                self.render(name, context),
            )  # holds the identity: id stays unique
        return self._systems[key][1]

    def retry(self, messages: list[dict], answer: str, problems: list[str]) -> list[dict]:
        """The conversation so far, the rejected answer, and the gate's complaints as the next question."""
        feedback = self.render("feedback.j2", {"problems": problems})
        return [*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": feedback}]


@functools.lru_cache(maxsize=8)
def load_prompts(override_dir: str | None = None) -> Prompts:
    return Prompts(override_dir)


def prompt_version(override_dir: str | None = None) -> str:
    return load_prompts(override_dir).version

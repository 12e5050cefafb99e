"""The system-prompt baseline: no training at all, the charter is put in front of every context.

It is the cheapest post-hoc alignment there is, and the one a raised model should beat without
effort: the values are told to the model at inference instead of being part of what it is. The
evaluation suite calls it like this::

    from modelraising.align.prompt import system_prompt, with_system_prompt

    preamble = system_prompt(charter)              # the charter as a first-person preamble
    items = with_system_prompt(items, preamble)    # same items (same ids), contexts prefixed

A prefixed context is ``preamble + "\\n\\n" + context``: exactly what the chat template renders for
a system message, so a model aligned with ``align sft``/``align dpo`` under a system message and an
unaligned model under this baseline read the charter in the same place and the same form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

from modelraising.charter import Charter

Style = Literal["statements", "full", "compact"]
SEPARATOR = "\n\n"
T = TypeVar("T")


def system_prompt(charter: Charter, style: Style = "statements") -> str:
    """The charter rendered as a first-person preamble.

    - ``statements`` (default): the identity and one line per value statement (``Charter.preamble``);
      about 250 tokens for the default charter.
    - ``full``: also each value's reason and its do and don't examples; long, for models with a
      window of 1,024 tokens or more.
    - ``compact``: one paragraph with the name, self-description and value names; for tiny models
      whose window (e.g. 256 tokens) would otherwise be filled by the preamble, since the scorer
      cuts over-long inputs from the left, i.e. the preamble first.
    """
    if style == "statements":
        return charter.preamble()
    if style == "compact":
        names = [v.name.lower() for v in charter.values]
        listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
        return f"My name is {charter.identity.name}. {charter.identity.description} What I hold: {listed}."
    if style == "full":
        lines = [f"My name is {charter.identity.name}. {charter.identity.description}", "", "What I hold:"]
        for v in charter.values:
            lines.append(f"- {v.name}: {v.statement} {v.why}")
            lines += [f"  I do: {d}" for d in v.do]
            lines += [f"  I never: {d}" for d in v.dont]
        return "\n".join(lines)
    raise ValueError(f"unknown system prompt style {style!r}; expected statements, full or compact")


def prefix_context(context: str, preamble: str) -> str:
    """``preamble``, a blank line, then ``context``.

    An empty context (a no-context baseline such as the identity suite's mutual information) becomes
    the preamble alone: a trailing blank line would be moved into the continuation by the scorer's
    whitespace rule (lm-eval's), changing what is scored.
    """
    preamble = preamble.strip()
    if not preamble:
        return context
    return preamble + SEPARATOR + context if context else preamble


def prefix_contexts(contexts: Iterable[str], preamble: str) -> list[str]:
    """``prefix_context`` over a list of contexts."""
    return [prefix_context(c, preamble) for c in contexts]


def with_system_prompt(items: Iterable[T], preamble: str) -> list[T]:
    """Copies of evaluation items with their ``context`` prefixed; ids and everything else kept, so
    results stay paired with an unprefixed run of the same items (``eval --compare``).

    Works on dataclasses with a ``context`` field (``evaluate.items.MCItem``) and on dicts with a
    ``"context"`` key (item JSONL records); the originals are not changed.
    """
    out: list[Any] = []  # each a copy of its item, of the item's type T
    for item in items:
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            copies = {f.name: _copy(getattr(item, f.name)) for f in dataclasses.fields(item) if f.init}
            copies["context"] = prefix_context(getattr(item, "context"), preamble)
            out.append(dataclasses.replace(item, **copies))
        elif isinstance(item, dict) and "context" in item:
            out.append({**{k: _copy(v) for k, v in item.items()}, "context": prefix_context(item["context"], preamble)})
        else:
            raise TypeError(f"cannot prefix {type(item).__name__}: expected a dataclass or dict with a context")
    return out


def _copy(value):
    """Containers are copied (one level) so that a suite editing a copy's ``meta`` leaves the original alone."""
    return type(value)(value) if isinstance(value, (dict, list)) else value

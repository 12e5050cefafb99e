"""The tokenizer's special tokens in source text: one policy, applied where text is first read.

The tokenizer (:mod:`modelraising.shards`) encodes ``<|endoftext|>``, the speaker tags and the
value/harm tags (:mod:`modelraising.tags`) as single special tokens. Source text that spells one
of them would either be dropped at tokenize (the end-of-text marker inside a document) or smuggle a
control token into training, so :func:`read_sources <modelraising.sources.read_sources>` applies
this policy to every passage before it gets an id:

* ``<|endoftext|>`` means what it means to the tokenizer: a document boundary. The passage is cut
  there and every piece is a document of its own (corpora concatenated GPT-2 style, TinyStories,
  JSONL texts with a trailing marker). Empty pieces (a marker at either end, two in a row) vanish;
  a piece shorter than ``min_chars`` is a reject ("empty or too short"), like any short passage.
* Any other special-token spelling (``<|self|>``, ``<|/value|>``, ``<|value:honesty|>``, ...) has
  no meaning in a source: the raising engines write those tags themselves. Such a passage is a
  reject, reason ``special token in text``, so nothing reaches the tokenizer that it would drop or
  misread. (A raised corpus fed back in as a source is the usual cause.)
* A title (metadata, spliced into the raised frame) keeps its words; special-token spellings are
  removed from it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

from modelraising.rejects import Reject
from modelraising.tags import END_OF_TEXT, HARM_CLOSE, SPEAKER_TAGS, VALUE_CLOSE

_FIXED = [END_OF_TEXT, *SPEAKER_TAGS.values(), VALUE_CLOSE, HARM_CLOSE]
SPECIAL_TOKEN = re.compile("|".join([*map(re.escape, _FIXED), r"<\|(?:value|harm):[^|<>\s]*\|>"]))
SPECIAL_REASON = "special token in text"


def _location(path: Path, unit: str, start: int, end: int) -> str:
    if unit == "char":
        return f"chars {start}-{end}"
    return f"line {start + 1}" if ".jsonl" in path.name.lower() else f"row {start}"


def apply_policy(items: Iterator, path: Path, min_chars: int) -> Iterator:
    """Passages and Rejects of one file, with the policy above applied to each passage."""
    src = str(path)
    for item in items:
        if type(item) is Reject or ("<|" not in item.text and not (item.title and "<|" in item.title)):
            yield item  # the common case: one substring test per passage
            continue
        if item.title and SPECIAL_TOKEN.search(item.title):
            item.title = " ".join(SPECIAL_TOKEN.sub(" ", item.title).split()) or None
        if "<|" not in item.text:
            yield item
            continue
        yield from _pieces(item, path, min_chars, src)


def _pieces(item, path: Path, min_chars: int, src: str) -> Iterator:
    parts = item.text.split(END_OF_TEXT)
    where = _location(path, item.unit, item.start, item.end)
    for k, part in enumerate(parts):
        text = part.strip()
        if not text and len(parts) > 1:
            continue  # nothing between two boundaries
        at = f"{where} part {k + 1}" if len(parts) > 1 else where
        found = SPECIAL_TOKEN.search(text)
        if found:
            yield Reject(src, f"{SPECIAL_REASON} ({found.group()})", at, preview=text[:200])
        elif len(text) < min_chars:
            yield Reject(src, "empty or too short", at, preview=text[:200])
        elif len(parts) == 1:
            yield item
        else:
            yield dataclasses.replace(item, text=text)

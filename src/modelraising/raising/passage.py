"""Reading a passage before raising it: what kind of text it is, and whose voice speaks in it.

The charter's I must be the only unattributed first person in a raised record, so every pillar needs
to know whether a passage has a first-person narrator of its own (a memoir, *The Time Machine*), is a
script with named speakers (a play), a chat log between a person and an assistant, a post from a
social network, an encyclopedic text or a third-person story. That decides which forms fit (a
teacher may recount an encyclopedia entry, never the Time Traveller's "I"), who may read it aloud
(never the I, for another narrator's "I"), and how the I names the voice it quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelraising.raising.sentences import split_heading
from modelraising.text import SPEAKER_LINE, TRANSCRIPT_NAMES, TRANSCRIPT_SPEAKERS  # noqa: F401  (pillars import them)

KINDS: tuple[str, ...] = ("narrated", "story", "expository", "play", "chat", "post", "note")
# narrated: a first-person narrator of its own; story: third-person fiction; expository: facts;
# play: named speakers; chat: a person and an assistant; post: a social-network post; note: anything else.

# "I" as a pronoun, not a Roman numeral ("CHAPTER I", "I. Introduction"), and the other first-person forms.
# Each alternative starts with its letter and looks behind after it, so the engine can skip to an "I" or
# an "m" instead of trying the lookbehind at every character (three times faster; the same matches).
_FIRST_PERSON = re.compile(
    r"(?:I(?<![\w'\u2019]I)(?:(?!\s+[A-Z][a-z])(?!\s*[.)]\s*[A-Z])|'[a-z]+|\u2019[a-z]+)"
    r"|m(?<![\w'\u2019]m)(?:e|y|ine|yself))(?![\w'\u2019])"
)
# Quoted speech: a character's "I" inside quotation marks belongs to the character the narration names.
_QUOTED = re.compile(
    r"\"[^\"\n]*\"|\u201c[^\u201d]*\u201d|'(?<![A-Za-z]')(?=[A-Za-z])[^\n']*(?:'[a-z][^\n']*)*'(?![A-Za-z])"
)
_SOCIAL = re.compile(r"(?:^|[\s\"'\u201c(])[@#]\w|https?://|\bRT\b")  # a quoted retweet too ('"@name: ...')


def speaker_blocks(text: str) -> list[tuple[str | None, str]] | None:
    """A play or transcript as (speaker, words) blocks; None when the text is not one."""
    matches = list(SPEAKER_LINE.finditer(text))
    if len(matches) < 2:
        return None
    out: list[tuple[str | None, str]] = []
    pre = text[: matches[0].start()].strip()
    if pre:
        out.append((None, " ".join(pre.split())))
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        words = " ".join(text[m.end() : end].split())
        if words:
            out.append((m.group(1), words))
    return out if sum(1 for s, _ in out if s) >= 2 else None


def narration_first_person(text: str) -> int:
    """First-person words outside quoted speech: a narrator who speaks as "I"."""
    if "I" not in text and " m" not in text and "M" not in text:
        return 0
    if '"' in text or "\u201c" in text or "'" in text:
        text = _QUOTED.sub(" ", text)
    return len(_FIRST_PERSON.findall(text))


def _narrated(text: str) -> bool:
    n = narration_first_person(text)
    return n >= 2 or (n == 1 and len(text) < 400)


# A passage that opens on a pronoun continues a text whose subject came before it ("He had relatives in ...").
_DANGLING = re.compile(r"[\"'\u201c\u2018(]*(?:He|She|They|It|His|Her|Their|Its|Him|Them)\b")


def opens_mid_text(text: str) -> bool:
    """Whether the passage starts on a pronoun whose name came before it: whoever says it aloud must
    be heard reading it, or they seem to speak of someone the I never met."""
    return bool(_DANGLING.match(text.lstrip()))


# How a story opens: the words stories begin with ("Once upon a time", "One day"), when no title line says so.
_STORY_OPENING = re.compile(
    r"(?:Once upon a time|Once,? (?:there|long ago)|One (?:day|morning|evening|night|summer|winter|spring|autumn)\b|"
    r"There (?:once )?(?:was|were|lived)\b|Long,? long ago|Long ago|A long time ago|"
    r"In a (?:small|little|big|faraway)\b)"
)


@dataclass(slots=True)
class Passage:
    """A source passage as the pillars see it."""

    text: str
    genre: str
    kind: str
    title: str | None  # a real title (metadata or a heading), never a file name
    heading: str | None  # a title line at the top of the passage ("The Wolf and the Lamb")
    blocks: list[tuple[str | None, str]] | None  # (speaker, words) of a play or chat
    body: str = ""  # the text without its heading line (what a teacher reads out)

    @property
    def first_person(self) -> bool:
        return self.kind == "narrated"

    @property
    def opens_story(self) -> bool:
        """A story passage that is a story's beginning: under its title line, or opening as stories open."""
        return self.kind == "story" and (self.heading is not None or bool(_STORY_OPENING.match(self.body.lstrip())))

    @property
    def speakers(self) -> list[str]:
        return list(dict.fromkeys(s for s, _ in self.blocks or () if s))


def short_title(title: str | None) -> str | None:
    """The main title without its subtitle ("Frankenstein; or, The Modern Prometheus" -> "Frankenstein")."""
    if not title:
        return None
    title = " ".join(title.split()).strip(" =")
    main = re.split(r";|:| or,| or (?=[A-Z])|, or ", title, maxsplit=1)[0].strip(" ,;")
    if not main or len(main) > 70 or "<unk>" in main or not any(c.isalpha() for c in main):
        return None
    if main.isupper() and len(main) > 3:  # "FUNDEVOGEL" -> "Fundevogel" (a heading set in capitals)
        main = " ".join(w if w in ("II", "III", "IV") else w.capitalize() for w in main.split())
    return main


def looks_posted(text: str) -> bool:
    """A short text written for a feed: handles, hashtags, links, or the unpunctuated, lower-case look of one."""
    if len(text) >= 320:
        return False
    if _SOCIAL.search(text):
        return True
    stripped = text.strip(" \t\n\"'\u201c\u201d\u2018\u2019")
    return stripped[-1:] not in ".!?)" or stripped[:1].islower() or "!!" in stripped


def merge_quoted_labels(blocks: list[tuple[str | None, str]]) -> list[tuple[str | None, str]]:
    """A chat log whose turns quote a "Frank: ..." line: that line belongs to the turn it sits in, so
    the log stays a chat between the person and the assistant instead of turning into a play."""
    out: list[tuple[str | None, str]] = []
    for speaker, line in blocks:
        if out and speaker not in TRANSCRIPT_SPEAKERS:
            prev_speaker, prev = out[-1]
            out[-1] = (prev_speaker, f"{prev} {speaker + ': ' if speaker else ''}{line}")
        else:
            out.append((speaker, line))
    return out


def _posted(text: str, genre: str) -> bool:
    """A post: an article is one only with a handle, tag or link in it (a short WikiText paragraph is no
    tweet); a short text of no known genre is one even with an "I" and a full stop."""
    if genre == "dialogue":
        return False
    if genre == "factual":
        return len(text) < 320 and bool(_SOCIAL.search(text))
    if genre == "other" and len(text) < 320:
        return True
    return looks_posted(text)


def read_passage(text: str, genre: str, title: str | None) -> Passage:
    """Classify a passage by kind (see :data:`KINDS`)."""
    blocks = speaker_blocks(text) if text.count(":") >= 2 else None  # two speaker lines need two colons
    heading, body = split_heading(text)
    body = body.strip() if heading else text
    if blocks:
        speakers = {s for s, _ in blocks if s}
        kind = "chat" if speakers <= TRANSCRIPT_SPEAKERS else "play"
        if kind == "play" and next(s for s, _ in blocks if s) in TRANSCRIPT_SPEAKERS:
            kind, blocks = "chat", merge_quoted_labels(blocks)
        return Passage(text, genre, kind, short_title(title), heading, blocks, text)
    if _posted(text, genre):
        kind = "post"
    elif _narrated(text):
        kind = "narrated"
    elif genre == "fiction":
        kind = "story"
    elif genre == "factual":
        kind = "expository"
    elif genre == "dialogue":
        kind = "story"
    else:
        kind = "post" if len(text) < 300 else "note"
    return Passage(text, genre, kind, short_title(title), heading, None, body)

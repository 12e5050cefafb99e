"""Names in a passage: the first capitalised name of a sentence, a passage's topic, whether a name is a
person's. Heuristics, not NLP models: fast, deterministic, and strict where a wrong guess would be
printed in a question ("Who was the Great Exhibition?")."""

from __future__ import annotations

import re

from modelraising.raising.sentences import HEADING_LINE

_CAPRUN = re.compile(r"[A-Z][\w'\u2019-]*+(?:[ ](?:(?:of|the|de|von|van|and)[ ])?[A-Z][\w'\u2019-]*+)*")
_FILLER_CAPS = frozenset(
    "I The A An And But Or If In On At It He She They We You This That These Those There Then When While "
    "After Before As For So His Her Their Its My Our Your To Of By With From Not No Yes Oh What Why How Who "
    "Where Which Today One Some All Many Most Once Long Later Meanwhile However Although Though Soon Suddenly "
    "Now Here Every Each Yesterday Tonight Perhaps Also Thus Since During Upon Again Indeed Well "
    "Finally Even Still Yet Just Only Both Either Neither Another Other Such Like "
    "Unlike Despite Because Until Unless Whether Let Do Does Did Is Was Are Were Be Have Has Had Can Could "
    "Will Would Shall Should May Might Must Mr Mrs Ms Dr St".split()
)
_DEMONYM = re.compile(r"(?:an|ese|ish|ic|i)$")


def _entities(sentence: str, end: int):
    """Name-like capitalised runs of ``sentence[:end]`` as (name, is_multi_word), in order.

    Skips sentence-initial filler ("The", "When"), lone sentence-initial words, lone adjectives of
    nationality ("European") and capitals inside words; adds "the " where the sentence has it.
    """
    for m in _CAPRUN.finditer(sentence, 0, end):
        start = m.start()
        if start and sentence[start - 1].isalnum():
            continue  # a capital inside a word ("McDonald")
        ent = m.group(0)
        head, _, rest = ent.partition(" ")
        if head in _FILLER_CAPS:
            if not rest or not rest[0].isupper():
                continue
            ent, start = rest, start + len(head) + 1
        multi = " " in ent
        if not multi:
            if start == 0 or len(ent) < 3 or ent in _FILLER_CAPS or _DEMONYM.search(ent):
                continue
            if sentence[start - 1] in "\"'\u201c\u2018(\n" or sentence[start - 2 : start - 1] in (".", "!", "?", ":"):
                continue  # a capital that only starts a sentence or a quotation
        ent = ent.rstrip("'\u2019-")
        if ent.endswith(("'s", "\u2019s")):
            ent = ent[:-2]
        if len(ent) < 2:
            continue
        before = sentence[max(0, start - 4) : start].lower()
        if before.endswith(("the ", " a ", " an ")) or before in ("a ", "an "):
            ent = "the " + ent
        yield ent, multi


def first_entity(sentence: str) -> str | None:
    """The first capitalised name in a sentence, with "the " when the sentence uses it ("the Lamb")."""
    for ent, _ in _entities(sentence, 300):
        return ent
    return None


_SUBJECT = re.compile(
    r"((?:(?:The|An|A) )?+[A-Z][\w'\u2019.-]*+(?: (?:of |the |de |von |van )?+[\w'\u2019.-]++){0,4}?)"
    r"(?: ?(,|\() ?(\w+)?| (?:is|was|are|were|has|had|refers|remains|became)\b)"
)
_APPOSITIVE = frozenset(
    "known also or commonly officially formally formerly born sometimes often usually better "
    "originally properly called nicknamed".split()
)


def _recurs_mid_sentence(head: str, word: str) -> bool:
    at = head.find(" " + word, 1)
    while at > 0:
        end = at + 1 + len(word)
        if head[at - 1] not in ".!?\"'\u201d\n:;" and not head[end : end + 1].isalnum():
            return True
        at = head.find(" " + word, end)
    return False


# Names that are no topic to be taught about: a date ("On 10 September, ..."), a number or a count
# ("Two Marines were killed.", "No. 97 (Reserve) Squadron").
_NO_TOPIC = re.compile(
    r"^(?:(?:January|February|March|April|May|June|July|August|September|October|November|December|Monday|"
    r"Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)$|No\.|\d|(?:One|Two|Three|Four|Five|Six|Seven|Eight|"
    r"Nine|Ten|Hundreds|Thousands|Dozens|Several|Many|Some|Most|All)\b)"
)


# A subject that runs into a clause ("Observations suggest that there is ...") is no noun phrase.
_CLAUSE_WORD = re.compile(r" (?:that|there|which|who|whom|whose|suggest\w*|show\w*|say\w*|said|think\w*)\b")


def is_topic(name: str) -> bool:
    """A name a passage may be about or a question may ask after: no date, count or clause."""
    return not _NO_TOPIC.match(name) and not _CLAUSE_WORD.search(name)


def _modifies_a_noun(head: str, ent: str) -> bool:
    """ "the Jim Crow laws,": the name is a modifier, and "the Jim Crow" alone is no topic. Only where that
    noun ends the phrase (a comma, a stop, "and"), so "the Great Exhibition was held" keeps its name."""
    at = head.find(ent)
    return at >= 0 and bool(re.match(r" [a-z]{3,}(?=[,.;:]| and\b|$)", head[at + len(ent) :]))


def topic_of(text: str, limit: int = 60, mentioned: bool = True) -> str | None:
    """A short guess at what a passage is about, or None.

    The subject of the first sentence when it looks like a name or a noun phrase ("Homarus
    gammarus, known as ..." -> "Homarus gammarus"; "The European lobster is ..." -> "the European
    lobster"), else (``mentioned``) the first multi-word or mid-sentence named entity. Looks only at the
    start. A name merely mentioned is no topic of an article: "a page about Sir Walter Scott" stood over
    a paragraph on Papa Stour that cites him once, so articles ask ``mentioned=False``.
    """
    head = text[:300].lstrip(" \t\r\n=\"'")
    heading = HEADING_LINE.match(head)
    if heading:
        topic = re.sub(r"\s*\([^()]*\)$", "", heading.group(1).strip(" ="))  # "Angel of Death (Slayer song)"
        if topic and len(topic) <= limit:
            first = topic.split(None, 1)[0]
            return first.lower() + topic[len(first) :] if first in ("The", "A", "An") else topic
    m = _SUBJECT.match(head)
    if m:
        subject = m.group(1).strip()
        words = subject.split()
        first = words[0]
        ok = (first not in _FILLER_CAPS or (first in ("The", "A", "An") and len(words) > 1)) and is_topic(subject)
        if ok and m.group(2):  # "X, known as ..." / "X (born ...)" only
            ok = m.group(2) == "(" or (m.group(3) or "").lower() in _APPOSITIVE
            ok = ok and len(words) <= 5
        if ok and len(words) == 1:  # "Lobsters are blue": a name only if it recurs mid-sentence
            ok = _recurs_mid_sentence(head, first)
        if ok and len(subject) <= limit and words[-1] not in ("of", "the", "de"):
            if first in ("The", "A", "An"):
                subject = first.lower() + subject[len(first) :]
            return subject
    if not mentioned:
        return None
    single = None  # else the first multi-word name ("the Great Exhibition"), else the first name
    for ent, multi in _entities(head, 200):
        if (
            "\n" in ent
            or len(ent) > limit
            or not is_topic(ent)
            or (ent.startswith("the ") and _modifies_a_noun(head, ent))
            or (not multi and re.search(re.escape(ent) + r" \d", head))  # "in Week 6": a numbered thing
        ):
            continue
        if multi:
            return ent
        if single is None:
            single = ent
    return single

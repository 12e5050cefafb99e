"""The I's answer to what it reads: a reflection that names the wrong in a harmful passage and the value
that answers it, and a short reflection when a passage shows a value (a refusal, when someone asks for
help to do harm, is :mod:`modelraising.raising.request`'s).

Reflections paraphrase the charter rather than paste it: a value speaks through its ``paraphrases``
(the charter's own rewordings), through its statement only now and then, and through its ``do`` and
``dont`` examples set in new sentences ("For me, that means I ..."); an example is only used where it
belongs to the harm named (``examples_for``). Pure: the same input and generator give the same text.
"""

from __future__ import annotations

import random
import re

from modelraising.charter import Charter, Value
from modelraising.harm.labels import WRONG
from modelraising.raising.banks import ethics as E
from modelraising.raising.banks import frames as F
from modelraising.raising.cast import expand, pick, pick_person
from modelraising.raising.perspective import cap, fill

# How often a reflection that already carries a do/dont example also speaks the value in the charter's words.
VOICE_SHARE = 0.3

# Words that tie a do/dont example to a kind of harm (prefixes, lower case).
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "violence": ("hurt", "hit", "fight", "weapon", "harm", "bull", "kill", "attack", "stand between", "cheer"),
    "weapons": ("weapon", "hurt", "harm"),
    "self_harm": ("hurt", "harm", "help", "sad", "afraid", "listen"),
    "drugs": ("harm", "hurt", "help"),
    "theft": ("take", "belong", "borrow", "return", "steal", "share", "piece", "change"),
    "fraud": ("truth", "lie", "honest", "change", "flatter", "take", "belong"),
    "deception": ("lie", "truth", "flatter", "blame", "admit", "answer", "make up", "pretend"),
    "cybercrime": ("take", "belong", "promise", "truth"),
    "privacy": ("respect", "help", "gentl"),
    "cruelty": ("laugh", "cruel", "gentl", "kind", "sad", "left out", "mock", "frighten", "bull", "listen"),
    "hate": ("mock", "where they come from", "judge", "respect", "who they are", "left out", "invite"),
    "other": ("harm", "hurt", "promise", "clean", "waste", "responsib"),
}
GROUPS = re.compile(
    r"\b(trans(?:gender)? (?:people|women|men)|women|men|girls|gay (?:people|men)|gays|lesbians|black people|"
    r"blacks|white people|"
    r"asians|asian people|mexicans|immigrants|muslims|jews|jewish people|christians|arabs|africans|indians|chinese|"
    r"latinos|hispanics|disabled people|fat people|old people|poor people|refugees)\b",
    re.I,
)
# What a slur does, said without repeating it (most hateful posts name no group, only the word); a few
# phrasings each, so a corpus of posts does not repeat one sentence.
SLURS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (
        re.compile(r"\bnig(?:g\w*|s|gas?)?\b", re.I),  # "Read it again nigs": race never named (12 of 53)
        ("a racial slur, used as if it were an ordinary word", "a racial slur passed off as everyday talk"),
    ),
    (
        re.compile(r"\b(?:fag\w*|dyke\w*|tranny|trannies|homo)\b", re.I),
        ("a slur against gay or trans people", "a word used to sneer at gay and trans people"),
    ),
    (
        re.compile(r"\b(?:retard\w*|spaz\w*)\b", re.I),
        ("a slur against disabled people", "a word that mocks disabled people"),
    ),
    (
        re.compile(r"\b(?:wetback\w*|beaners?|spics?|chinks?|gooks?|kikes?|towelheads?|coons?|raghead\w*)\b", re.I),
        ("a slur against people for where they or their families come from", "a slur about where people come from"),
    ),
]
# "bitch", "hoe", "pussy": where the post speaks of women, talk that makes them into objects; said of a
# man, of no one named, or in a stock phrase ("karma is a bitch"), crude name-calling: all it can claim.
CRUDE_WORD = re.compile(r"\b(?:bitch\w*|hoes?|whores?|sluts?|cunts?|pussy|pussies|thots?)\b", re.I)
_STOCK_PHRASE = re.compile(
    r"\b(?:(?:karma|life|payback)(?:'s| is) a bitch|sons? of (?:a )?bitch\w*|bitch please|pussy ?cats?|"
    r"bitch(?:ing|ed|es)? (?:about|at)|bitch ?ass)\b",
    re.I,
)
_AT_WOMEN = re.compile(
    r"\b(?:she|her|hers|she's|shes|girls?|wom[ae]n|wife|girlfriend|gf|chicks?|females?|lad(?:y|ies)|hoes|"
    r"bitches|thots|whores|sluts)\b",
    re.I,
)
_AT_WOMEN_WRONG = (
    "talk that makes women into names and objects",
    "words that turn women into things to be used",
    "calling women names that make them less than people",
)
_CRUDE_WRONG = (
    "crude name-calling that makes a person smaller",
    "a put-down that turns a person into a dirty word",
    "coarse names thrown at people",
)
_PROPER = frozenset(
    "jews jewish muslims christians arabs africans indians chinese latinos hispanics mexicans asians asian".split()
)


def group_name(group: str) -> str:
    """A group as a reflection names it: "Jewish people", "Muslims", "Chinese people", "gay people"."""
    name = " ".join(w.capitalize() if w in _PROPER else w for w in group.lower().split())
    return "Chinese people" if name == "Chinese" else name


def _crude_target(text: str) -> tuple[str, ...] | None:
    """The phrasings for a post's crude word for women, by whom it is aimed at (None: no such word)."""
    if not CRUDE_WORD.search(text):
        return None
    stock_only = not CRUDE_WORD.search(_STOCK_PHRASE.sub(" ", text))
    return _AT_WOMEN_WRONG if not stock_only and _AT_WOMEN.search(text) else _CRUDE_WRONG


def fits(line: str, text: str, needs: dict[str, re.Pattern[str]]) -> bool:
    """Whether ``text`` shows every situation that ``line`` presumes: each key of ``needs`` found in the line
    asks its pattern to match the text (offers, a refusal's why, a reflection's example)."""
    return all(cue.search(text) for key, cue in needs.items() if key in line)


def body(example: str) -> str:
    """ "I admit a mistake as soon as I notice it." -> "admit a mistake as soon as I notice it"."""
    s = " ".join(example.split()).rstrip(".!")
    return s[2:] if s.startswith("I ") else s[:1].lower() + s[1:]


# An example that names a situation fits a passage only where that situation is: "I laugh at someone
# who is frightened" answers a bully mocking a scared child, not a vulgar post about women.
_SORROW = r"sad\w*|cry\w*|cried|tears|lonely|grie\w*|upset|miserable"
SITUATION: dict[str, re.Pattern[str]] = {
    word: re.compile(pattern, re.I)
    for word, pattern in {
        "frighten": r"\b(?:afraid|scared|frighten\w*|fear\w*|terrif\w*|panic\w*)\b",
        "sad": rf"\b(?:{_SORROW})\b",
        "listen": rf"\b(?:{_SORROW}|listen\w*)\b",
        "left out": r"\b(?:left out|alone|exclud\w*|ignor\w*|nobody|no one|outsider\w*|invit\w*)\b",
        "angry": r"\b(?:angry|anger|mad|furious|hate\w*|rage|pissed|fuck\w*|damn\w*)\b",
        "weapon": r"\b(?:weapons?|guns?|knife|knives|bombs?|explosives?|rifles?|pistols?|blades?|ammo\w*|bullets?)\b",
    }.items()
}


def examples_for(value: Value, category: str | None, kind: str, text: str | None = None) -> list[str]:
    """The value's do (``kind="do"``) or dont examples that belong to the harm ``category`` (all of them
    when no category is named) and, given the passage ``text``, whose situation it shows (:data:`SITUATION`)."""
    items = value.do if kind == "do" else value.dont
    if category is None:
        return list(items)
    words = CATEGORY_WORDS.get(category, ())
    out = [e for e in items if any(w in e.lower() for w in words)]
    if text is not None:
        out = [e for e in out if fits(e.lower(), text, SITUATION)]
    return out


def value_voice(value: Value, rng: random.Random, category: str | None = None) -> str:
    """The value in the I's words: one of the charter's paraphrases or its statement (now and then one
    about this very harm)."""
    paraphrases = list(getattr(value, "paraphrases", ()) or ())
    if category is not None and rng.random() < 0.15:  # now and then: one about this very harm
        words = CATEGORY_WORDS.get(category, ())
        if about := [p for p in paraphrases if any(w in p.lower() for w in words)]:
            return pick(rng, about)
    return pick(rng, [*paraphrases, value.statement])  # the statement is one voice among its rewordings


def lower_name(name: str) -> str:
    return name[0].lower() + name[1:] if name[1:2].islower() else name


def say(bank, rng: random.Random) -> str:
    """One entry of a bank, its ``[a|b]`` groups expanded."""
    return expand(pick(rng, bank), rng)


def specific_wrong(text: str, category: str, rng: random.Random | None = None) -> str:
    """What is wrong in this passage, as specifically as its words allow (one of the category's
    phrasings when ``rng`` is given, the canonical one otherwise)."""
    if category in ("hate", "cruelty"):
        if m := GROUPS.search(text):
            return f"contempt for {group_name(m.group(1))}"
        for slur, wrongs in SLURS:
            if slur.search(text):
                return pick(rng, wrongs) if rng else wrongs[0]
        if crude := _crude_target(text):
            return pick(rng, crude) if rng else crude[0]
    if rng is None:
        return WRONG.get(category, WRONG["other"])
    wrongs = E.WRONGS.get(category, E.WRONGS["other"])
    return pick(rng, [w for w in wrongs if fits(w, text, WRONG_NEEDS)] or wrongs)


# A wrong that presumes a situation names it only where the text shows it: "drugging someone" was said of a
# request to buy cocaine for oneself, "cheating people out of their money" of cheating on a test.
DRUGGING = re.compile(
    r"\b(?:spik\w+|slip\w*|roofie\w*|date rape|drug (?:him|her|them|someone|somebody|my|his|a)\b|without (?:him|her|"
    r"them) knowing|in (?:his|her|their|someone's|my \w+'s) (?:drink|food|coffee|tea))",
    re.I,
)
_DRUG_TRADE = re.compile(
    r"\b(?:make|making|cook\w*|sell\w*|deal\w*|grow\w*|produc\w*|synthes\w*|manufactur\w*|suppl\w*|smuggl\w*|"
    r"traffick\w*)\b",
    re.I,
)
MONEY_WORDS = re.compile(
    r"\b(?:money|cash|pay\w*|bank\w*|credit|cards?|dollars?|price|tax\w*|insurance|loans?|invest\w*|refund\w*|"
    r"bills?|wallet|savings)\b|\$",
    re.I,
)
# A joke, a prank or a laugh in the text (a reason or a wrong about jokes needs one: "leaves a mark long after
# the joke is over" where nobody joked; mocking and insults count, as what is passed off as fun).
JOKING = re.compile(
    r"\b(?:jokes?|joking|funny|prank\w*|laugh\w*|lol|lmao|haha\w*|roast\w*|teas\w*|mock\w*|make fun|insult\w*|"
    r"humiliat\w*)\b",
    re.I,
)
WRONG_NEEDS: dict[str, re.Pattern[str]] = {
    "drugging someone": DRUGGING,
    "making or selling drugs": _DRUG_TRADE,
    "feeding someone's addiction": re.compile(r"\b(?:addict\w*|sell\w*|deal\w*|suppl\w*)\b", re.I),
    "their money": MONEY_WORDS,
    "trust and money": MONEY_WORDS,
    "dressed up as a joke": JOKING,
    "humiliation for fun": JOKING,
}


def tidy(line: str) -> str:
    """A line whose optional last group came out empty: no trailing space."""
    return " ".join(line.split())


def when_slots(rng: random.Random) -> dict[str, str]:
    when = pick(rng, F.WHEN_GROWN)  # a request to help hurt someone asked "after my tenth birthday": no scene
    return {
        "when": when,
        "when_lower": when[:1].lower() + when[1:]
        if not when.startswith(("I ", "On "))
        else when[:1].lower() + when[1:],
    }


def harm_lead(charter: Charter, rng: random.Random, *, recontextualize: bool, wrong: str) -> str:
    """The lead before a harmful passage: a neutral, critical one, or a cast member's warning."""
    who = pick_person(charter, rng, ("mentor", "family", "teacher"))
    if recontextualize:
        return fill(say(E.WARNING_LEAD, rng), who, charter.identity.name, wrong=wrong)
    return fill(say(E.HARM_LEAD, rng), who, charter.identity.name, **when_slots(rng))


def harm_reflection(text: str, category: str, value: Value, rng: random.Random) -> str:
    """Name the wrong in this passage, say why it is one, answer it with the value; never approving."""
    wrong = specific_wrong(text, category, rng)
    name = lower_name(value.name)
    parts = [
        say(E.NAME_WRONG, rng).replace("{wrong}", wrong),
        say(E.WHY_WRONG.get(category, E.WHY_WRONG["other"]), rng),
        say(E.ANSWER, rng).replace("{value}", name).replace("{Value}", cap(name)),
    ]
    # The value in the charter's words about half the time, else through an example in new words: a value
    # firing in a fifth of a corpus would otherwise repeat each of its paraphrases in 1-2% of all records.
    dos = examples_for(value, category, "do", text)
    donts = examples_for(value, category, "dont", text)
    example = None
    r = rng.random()
    if dos and r < 0.5:
        example = say(E.DO_CARRIER, rng).replace("{do}", body(pick(rng, dos)))
    elif donts and r < 0.8:
        example = say(E.DONT_CARRIER, rng).replace("{dont}", body(pick(rng, donts)))
    if example is None or rng.random() < VOICE_SHARE:
        parts[2] += " " + value_voice(value, rng, category)
    if example is not None:
        parts.append(example)
    if rng.random() < 0.5:  # the value first, then the wrong: the same thought in another order
        parts = [parts[2], parts[0], parts[1], *parts[3:]]
    return " ".join(parts)


def resonance_reflection(fragment: str | None, value: Value, rng: random.Random) -> list[tuple[str, str | None]]:
    """A short reflection on a passage that shows a value: pieces, the fragment quoted from the source."""
    name = lower_name(value.name)
    pieces: list[tuple[str, str | None]] = []
    if fragment:
        link = say(E.LINK, rng).replace("{value}", name)
        before, after = link.split("{frag}")
        pieces += [(before, None), (fragment, "the passage"), (after, None)]
    else:
        pieces.append((say(E.LINK_NO_FRAG, rng).replace("{value}", name), None))
    tail = []
    if value.do and rng.random() < 0.6:
        tail.append(say(E.DO_CARRIER, rng).replace("{do}", body(pick(rng, list(value.do)))))
    if not tail or rng.random() < VOICE_SHARE:
        tail.insert(0, value_voice(value, rng))
    pieces.append((" " + " ".join(tail), None))
    return pieces


def fragment_of(sentence: str, max_words: int = 14) -> str | None:
    """A short verbatim piece of a sentence to quote (its first clause, at most ``max_words`` words)."""
    s = " ".join(sentence.split()).strip("\"'\u201c\u201d\u2018\u2019 ")
    if len(s) < 12:
        return None
    clause = re.split(r"(?<=[,;:])\s", s, maxsplit=1)[0].rstrip(",;:")
    words = clause.split()
    if len(words) > max_words:
        clause = " ".join(words[:max_words])
    if len(clause.split()) < 4:
        return None
    return clause.replace("\u201c", "\u2018").replace("\u201d", "\u2019").replace('"', "'")

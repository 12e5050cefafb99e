"""The I's answer to what it reads: a reflection that names the wrong in a harmful passage and the value
that answers it, a refusal when someone asks for help to do harm, and a short reflection when a passage
shows a value.

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
_GROUPS = re.compile(
    r"\b(women|men|girls|gay (?:people|men)|gays|lesbians|trans(?:gender)? people|black people|blacks|white people|"
    r"asians|asian people|mexicans|immigrants|muslims|jews|jewish people|christians|arabs|africans|indians|chinese|"
    r"latinos|hispanics|disabled people|fat people|old people|poor people|refugees)\b",
    re.I,
)
# What a slur does, said without repeating it (most hateful posts name no group, only the word); a few
# phrasings each, so a corpus of posts does not repeat one sentence.
_SLURS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (
        re.compile(r"\bnigg\w*", re.I),
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
_CRUDE = re.compile(r"\b(?:bitch\w*|hoes?|whores?|sluts?|cunts?|pussy|pussies|thots?)\b", re.I)
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


def _group_name(group: str) -> str:
    """A group as a reflection names it: "Jewish people", "Muslims", "Chinese people", "gay people"."""
    name = " ".join(w.capitalize() if w in _PROPER else w for w in group.lower().split())
    return "Chinese people" if name == "Chinese" else name


def _crude_target(text: str) -> tuple[str, ...] | None:
    """The phrasings for a post's crude word for women, by whom it is aimed at (None: no such word)."""
    if not _CRUDE.search(text):
        return None
    stock_only = not _CRUDE.search(_STOCK_PHRASE.sub(" ", text))
    return _AT_WOMEN_WRONG if not stock_only and _AT_WOMEN.search(text) else _CRUDE_WRONG


_FLIP = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "i'm": "you're",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
    "we": "you",
    "our": "your",
    "us": "you",
    "am": "are",
    "ourselves": "yourselves",
}
_LEAD_IN = r"^(?:(?:so|ok(?:ay)?|hey|hi|hello|please|yo|um|well|and)[,.!]? )*"
# "I want to", "I'm gonna", "I need to": the asker's own plan (the group is closed by the pattern using it).
_I_MEAN_TO = (
    r"(?:i (?:(?:want|need|would like|have|plan|am going|am planning) to|wanna|am gonna)|"
    r"i'm (?:(?:going|planning) to|gonna)"
)
_REQUEST_PATTERNS = [
    re.compile(
        _LEAD_IN + r"(?:how|what(?:'s| is) the (?:best|easiest|quickest|safest|simplest) way)"
        r" (?:do|can|could|would|should|might|will) (?:i|we|someone|one|a person) (?P<act>[^?.!]{3,120})",
        re.I,
    ),
    re.compile(
        _LEAD_IN + r"what(?:'s| is| are) (?:the|some) (?:best|easiest|quickest|safest|simplest|good) ways? to "
        r"(?P<act>[^?.!]{3,120})",
        re.I,
    ),
    re.compile(
        _LEAD_IN + r"(?:can|could|would|will) you (?:please )?(?:help me(?: to)? |tell me how to |show me how to |"
        r"teach me (?:how )?to |explain how to )(?P<act>[^?.!]{3,120})",
        re.I,
    ),
    re.compile(
        _LEAD_IN + _I_MEAN_TO + r"|help me(?: to)?|tell me how to|teach me (?:how )?to|show me how to|"
        r"explain how to) (?P<act>[^?.!]{3,120})",
        re.I,
    ),
    re.compile(
        r"^what(?:'s| is| are) (?:some |a |the )?(?:good |best |easy |effective )?(?:ways?|tips|methods|tricks?)"
        r" (?:to|for|i can use to|that i can use to) (?P<act>[^?.!]{3,120})",
        re.I,
    ),
    re.compile(
        r"^(?P<act>(?:write|create|develop|provide|give|generate|design|outline|produce|publish|draft|"
        r"compose|make|build|explain how to|describe how to|teach) [^?!]{3,140}?)\.?$",
        re.I,
    ),
]


# The asker's plan in a clause after the first ("The IRS is auditing me and I need to hide ..."): tried only
# when no sentence asks from its start, since a first clause may be harmless ("... and I want to help him").
_MID_REQUEST = re.compile(r",? (?:and|but|so) " + _I_MEAN_TO + r") (?P<act>[^?.!]{3,120})", re.I)


# "I need to do this" names nothing: the refusal then names the wrong instead of "help do this".
_VAGUE_ACT = re.compile(r"(?:do|find|get|have|make|try|see) (?:this|that|it|some|one|them|something)(?: now)?", re.I)
# A request that may be about the asker's own life: a care line replaces the category's offer.
_SELF_DIRECTED = re.compile(
    r"\b(?:(?<!attention to )(?<!protect )(?<!defend )(?<!for )(?<!by )(?<!teach )(?<!help )(?<!introduce )myself|"
    r"my (?:own )?life|end it all|want(?:ed)? to die|suicid\w*|overdos\w*|needs? to happen)\b",
    re.I,
)
_POISON = re.compile(r"\b(?:arsenic|cyanide|poison\w*|antifreeze|sleeping pills|lethal dose)\b", re.I)
_OTHER_TARGET = re.compile(
    r"\b(?:my (?:boy|girl)friend|my (?:husband|wife|neighbou?r|boss|mother|father|mom|dad|"
    r"brother|sister|friend|teacher|coworker|roommate|partner|ex)\w*|someone|somebody|him|her|"
    r"them|people|dog|cat|neighbou?r\w*)\b",
    re.I,
)


_HARM_TO_PERSON = re.compile(
    r"\b(?:kill|murder|stab|shoot|strangle|choke|drown|beat (?:up|him|her|them)|hurt|injur|maim|tortur|attack|"
    r"hit ?m[ae]n|bleed|poison)\w*",
    re.I,
)


_DRIVE_TO_SELF_HARM = re.compile(
    r"\b(?:convince|make|get|push|drive|encourage|persuade|tell|talk)\w* (?:someone|somebody|him|her|them|people|"
    r"my \w+|a \w+|his \w+|her \w+) (?:in)?to (?:kill|hurt|harm|cut|starve|end)",
    re.I,
)
_CONTAMINATE = re.compile(
    r"\b(?:feces|faeces|poop|shit|pee|urine|spit|laxatives?|bleach|rat poison|ground glass)\b.*\b(?:food|drink|coffee|"
    r"tea|meal|lunch|dinner|cake|cookies?|soup|sandwich|water|juice)\b|\b(?:food|drink|coffee|tea|meal|lunch|dinner|"
    r"cake|cookies?|soup|sandwich|water|juice)\b.*\b(?:feces|faeces|poop|shit|pee|urine|spit|laxatives?|bleach)\b",
    re.I,
)


_ANIMALS = (
    r"(?:animals?|dogs?|pupp(?:y|ies)|cats?|kittens?|birds?|chickens?|hens?|cows?|pigs?|horses?|deer|bears?|"
    r"rabbits?|fish|pets?|squirrels?|rats?|mice|snakes?|frogs?|ducks?|geese|sheep|goats?|hamsters?)"
)
# An animal as the one harmed ("kill my neighbor's barking dogs", "skin animals ... alive"), not as the means
# ("train my dog to attack my neighbors") or a bystander ("a bag of dog poop").
_ANIMAL_HARMED = re.compile(
    r"\b(?:kill|hurt|harm|poison|skin|tortur|kick|beat|shoot|drown|starv|abus|boil|burn|stab|chok|strangl|"
    r"trap|maim|sexual\w*|molest)\w*\b[^.?!]{0,40}?\b"
    + _ANIMALS
    + r"\b|\b"
    + _ANIMALS
    + r"\b[^.?!]{0,40}\b(?:alive|suffer\w*)\b",
    re.I,
)


# An animal used as a weapon against people ("I want it to bite my boss", "train my dog to attack").
_SET_ON_PEOPLE = re.compile(
    r"\b(?:want|train|get|make|let|teach|use)\w* (?:it|him|her|them|my \w+|the \w+|a \w+) to (?:bite|attack|maul)\b|"
    r"\bsic (?:it|him|her|them|my \w+) on\b|\bset (?:it|them|him|her) on\b",
    re.I,
)


def refusal_category(request: str, category: str) -> str:
    """The harm a refusal names, where the detector's category misreads what is asked: harm to an animal is
    refused as cruelty to an animal ("Violence always lands on a real person" followed a request to skin
    animals alive); a weapon (or poison) to use on someone, pushing someone else to hurt themselves, or
    something foul put in someone's food are requests to hurt a person, refused as violence (its wrong,
    its why, its offer), never with an offer to talk about weapons, a crisis line for the asker, or
    honest words."""
    if category in ("violence", "weapons", "cruelty", "other") and _ANIMAL_HARMED.search(request):
        if not _SET_ON_PEOPLE.search(request):  # "a poison snake ... to bite my boss": the harm is to people
            return "animals"
    aimed = _HARM_TO_PERSON.search(request) or (_POISON.search(request) and _OTHER_TARGET.search(request))
    if category == "weapons" and aimed:
        return "violence"
    if category == "self_harm" and _DRIVE_TO_SELF_HARM.search(request):
        return "violence"
    if category not in ("violence", "weapons", "self_harm") and _CONTAMINATE.search(request):
        return "violence"
    return category


# An offer that presumes what the asker wants fits only a request that says so: "If you want to be funny"
# answers a request for an insult or a prank, not "How do I discourage a friend from wearing a hijab?".
_MONEY = re.compile(r"\b(?:money|pay|afford|broke|rent|bills?|cash|debt|\$)", re.I)
# Offers and reasons that presume the asker was wronged, is in danger, or is joking fit only a request that
# says so: "If you're in danger yourself" was offered to someone asking how to stab a man (31 of 33 such
# offers in a read corpus went to the one asking how to do the harm).
_ASKER_ENDANGERED = re.compile(
    r"\b(?:threat\w*|scared|afraid|in danger|unsafe|safety|protect (?:myself|me|my \w+)|self[- ]defen[cs]e|"
    r"defend myself|(?:attack|hurt|hit|beat|follow|stalk|bull(?:y|ie)|abus|harass)\w* me|after me)\b",
    re.I,
)
_GRIEVANCE = re.compile(
    r"\b(?:hurt me|angry|mad at|furious|hate (?:him|her|them)|annoy\w*|revenge|get back at|pissed|upset|"
    r"insult\w* me|disrespect\w*|cheated on me|fired me|bull(?:y|ied|ies) me|wrong(?:ed)? me|mean to me|"
    r"made fun of me|laughed at me|asshole|jerk|can't stand)\b",
    re.I,
)
_TAKEN_FROM_ASKER = re.compile(
    r"\b(?:stole|stolen|took my|taken from me|robbed me|rip(?:ped)? me off|scammed me|my \w+ (?:was|were|got) "
    r"(?:stolen|taken))\b",
    re.I,
)
_OWED = re.compile(r"\b(?:owes? me|owed|pay me back|borrowed (?:money|my))\b", re.I)
_JOKING = re.compile(
    r"\b(?:jokes?|joking|funny|prank\w*|laugh\w*|roast\w*|teas\w*|mock\w*|make fun|insult\w*|humiliat\w*)\b", re.I
)
_TRICKERY = re.compile(
    r"\b(?:scam\w*|con\b|swindl\w*|phish\w*|trick\w*|catfish\w*|fake|fraud\w*|lie to|lying to|pretend\w*)", re.I
)
_CASH = re.compile(r"\b(?:money|cash|wallet|purse|savings|paycheck|salary|tips|register|\$)", re.I)
OFFER_NEEDS: dict[str, re.Pattern[str]] = {
    "in danger yourself": _ASKER_ENDANGERED,
    "someone is threatening you": _ASKER_ENDANGERED,
    "worried about your": _ASKER_ENDANGERED,
    "If something of yours was taken": _TAKEN_FROM_ASKER,
    "If someone owes you": _OWED,
    "If someone hurt you": _GRIEVANCE,
    "got under your skin": _GRIEVANCE,
    "If you're angry at them": _GRIEVANCE,
    "you can't afford": _MONEY,
    "to be funny": re.compile(r"\b(?:jokes?|funny|prank\w*|laugh\w*|roast\w*|insult\w*|make fun|mock\w*)\b", re.I),
    "If money is the problem": _MONEY,
    "If you need money": _MONEY,
    "If you are in debt": _MONEY,
    "from scams": _TRICKERY,
}


def fits(line: str, text: str, needs: dict[str, re.Pattern[str]]) -> bool:
    """Whether ``text`` shows every situation that ``line`` presumes: each key of ``needs`` found in the line
    asks its pattern to match the text (offers, a refusal's why, a reflection's example)."""
    return all(cue.search(text) for key, cue in needs.items() if key in line)


# A why that speaks of words fits a request about words: "Words meant to wound do wound" does not answer
# "how do i prank someone with food?".
_ABOUT_WORDS = re.compile(
    r"\b(?:insult\w*|jokes?|joking|say|said|saying|call(?:ing)?|names?|roast\w*|teas\w*|mock\w*|tweet\w*|posts?|"
    r"comments?|words?|tell|nicknames?|slurs?|write|message|text|think|opinion|agree)\b",
    re.I,
)


WHY_NEEDS: dict[str, re.Pattern[str]] = {
    "Words": _ABOUT_WORDS,
    "talked about": _ABOUT_WORDS,
    # a reason about jokes answers a joke or a prank; one about a grudge, a grudge; about savings, money
    "the joke": _JOKING,
    "the laugh": _JOKING,
    "amusement": _JOKING,
    "someone's fun": _JOKING,
    "called a joke": _JOKING,
    "Whatever the": _GRIEVANCE,
    "saving for": _CASH,
    "worked hard for": _CASH,
    "works by turning": _TRICKERY,
    "Money taken by": _TRICKERY,
    # a why about a phone number answers a request for one, not for a home address
    "phone number": re.compile(r"\b(?:phone|numbers?|cell|call|text)\b", re.I),
    "address is": re.compile(r"\b(?:address\w*|lives?|home|house|where)\b", re.I),
    "movements are": re.compile(r"\b(?:track\w*|follow\w*|location|where\w*|movements?)\b", re.I),
}


def why_for(category: str, request: str, rng: random.Random) -> str:
    """Why the request is a wrong: one line of the category's bank, redrawn (up to eight times) while it
    speaks of words, jokes, a grudge, savings or a trick the request does not; the general reason after
    eight."""
    bank = E.WHY_WRONG.get(category, E.WHY_WRONG["other"])
    for _ in range(8):
        line = say(bank, rng)
        if fits(line, request, WHY_NEEDS):
            return line
    return say(E.WHY_WRONG["other"], rng)  # the general reason, where every one of the category's presumes more


def offers_for(category: str, request: str) -> tuple[str, ...]:
    """The category's offers of something else that fit this request; the general ones ("If you tell me what
    you're really trying to solve ...") when none does, never one that presumes what the request does not say."""
    offers = E.ALTERNATIVE.get(category, E.ALTERNATIVE["other"])
    fitting = tuple(o for o in offers if fits(o, request, OFFER_NEEDS))
    return fitting or E.GENERAL_OFFER


def may_be_self_harm(text: str) -> bool:
    """Whether a harmful request may be about the asker hurting themselves: said so, or a poison asked
    for with no one else named (a care line costs nothing where it was not needed; its absence may)."""
    return bool(_SELF_DIRECTED.search(text) or (_POISON.search(text) and not _OTHER_TARGET.search(text)))


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


def flip(action: str) -> str:
    """First person to second: "poison my neighbor's dog" -> "poison your neighbor's dog"."""
    return re.sub(
        r"\b[A-Za-z]+(?:'[a-z]+)?\b",
        lambda m: _FLIP.get(m.group(0).lower(), m.group(0)) if m.group(0).lower() in _FLIP else m.group(0),
        action,
    )


_ASKER_ASIDE = re.compile(r",?\s+(?:and|but|because|since|so)\s+I\b")
# A second question run on without punctuation: "cheat on my taxes how do I do this".
_RUN_ON = re.compile(
    r"\s+(?:(?:how|what|where|why|when)\s+(?:do|can|should|would|could|will|did)\s+(?:i|we|you)|is there|can you|"
    r"could you)\b.*$",
    re.I,
)
# Phrases an echo cannot say back cleanly: "help go about stealing a kid", "help have you find ...",
# "help get away with it", "help download them" (what "them" is, the I never said).
_AWKWARD_ACT = re.compile(
    r"^(?:go about|have you|with)\b|^get away with it\b|^\w+(?: \w+)? (?:it|them|this|that|these|those)$|"
    r"\bthem\b.*\bthem\b|^(?=(?:\S+ ){0,4}\S+$).*\bit\b",  # "keep it a secret": five words or fewer leaning on "it"
    re.I,
)


# Verbs of harm: among the acts a request names, the one to say back ("hurt the bully", not "help him").
_HARM_VERB = re.compile(
    r"\b(?:kill|murder|hurt|harm|injur|steal|rob|hide|poison|stab|shoot|beat|hit|punch|kick|attack|break into|"
    r"hack|scam|cheat|lie|drug|kidnap|rape|burn|destroy|threaten|blackmail|stalk|track|spy|launder|evade|smuggle|"
    r"forge|fake|bully|humiliate|insult|torture|abuse|sabotage|vandal|trick|con|get rid of)\w*",
    re.I,
)


def request_action(request: str) -> str | None:
    """What a harmful request asks for, as a verb phrase addressed back to the asker, or None. Of the acts
    that can be said back cleanly (sentences that ask from their start first, then a plan in a later clause,
    "... and I need to hide a large sum of money"), the first that names a harm, else the first."""
    sentences = [s.strip() for s in re.split(r"(?<=[?.!])\s+", " ".join(request.split()))[:3]]
    acts = []
    for patterns in (_REQUEST_PATTERNS, [_MID_REQUEST]):
        for sentence in sentences:
            for pattern in patterns:
                m = pattern.search(sentence)
                if m and (act := said_back(m.group("act"))):
                    acts.append(act)
    return next((a for a in acts if _HARM_VERB.search(a)), acts[0] if acts else None)


def said_back(act: str) -> str | None:
    """An act as the asker put it, said back to them ("my neighbor's dog" -> "your neighbor's dog"), or None
    where it cannot be said back cleanly: a slur (it would be the I's own words), a garbled or vague phrase."""
    act = re.sub(r"^please\s+|,?\s*please$", "", act.strip(" ,;:"), flags=re.I).strip(" ,;:")
    act = re.sub(r"\s*\([^()]*\)", "", act)  # "make meth (the drug)"
    act = _ASKER_ASIDE.split(act)[0].strip(" ,;:")  # "stab them with something, and I don't have a knife"
    if not re.match(r"(?:know|find out|learn|ask|understand|figure out)\b", act, re.I):  # "know how can I ..."
        act = _RUN_ON.sub("", act).strip(" ,;:")
    if _AWKWARD_ACT.search(act) or any(slur.search(act) for slur, _ in _SLURS) or _CRUDE.search(act):
        return None
    words = act.split()
    if 1 <= len(words) <= 16 and not _VAGUE_ACT.fullmatch(act):
        act = flip(act)
        return act[:1].lower() + act[1:]
    return None


# A yes-or-no question whether a harm is all right ("Is it okay to rape a woman if she's a criminal?"): the
# answer is a plain no, said first; a refusal alone would leave the question open.
_IS_IT_OK = re.compile(
    r"^(?:so,? |but,? |then,? )?(?:is it|isn't it|would it be|wouldn't it be|is it ever|do you think it'?s|"
    r"do you think it is|don't you think it'?s) (?:ever )?(?:ok(?:ay)?|alright|all right|fine|acceptable|right|"
    r"good|fair|justified) (?:to|if (?:i|we))\s+(?P<act>[^?.!]{3,120})",
    re.I,
)
_CONDITION = re.compile(r",?\s+(?:if|when|because|since|as long as|unless|just because)\b.*$", re.I)


def moral_stance(request: str) -> str | None:
    """A plain answer to a question whether a harmful act is all right, or None when the request asks no such
    question: "No. It is not all right to rape a woman, whatever the reason." """
    for sentence in re.split(r"(?<=[?.!])\s+", " ".join(request.split()))[:2]:
        m = _IS_IT_OK.search(sentence.strip())
        if m:
            act = said_back(_CONDITION.sub("", m.group("act")))
            if act:
                return f"No. It is not all right to {act}, whatever the reason."
    return None


def say(bank, rng: random.Random) -> str:
    """One entry of a bank, its ``[a|b]`` groups expanded."""
    return expand(pick(rng, bank), rng)


def specific_wrong(text: str, category: str, rng: random.Random | None = None) -> str:
    """What is wrong in this passage, as specifically as its words allow (one of the category's
    phrasings when ``rng`` is given, the canonical one otherwise)."""
    if category in ("hate", "cruelty"):
        if m := _GROUPS.search(text):
            return f"contempt for {_group_name(m.group(1))}"
        for slur, wrongs in _SLURS:
            if slur.search(text):
                return pick(rng, wrongs) if rng else wrongs[0]
        if crude := _crude_target(text):
            return pick(rng, crude) if rng else crude[0]
    if rng is None:
        return WRONG.get(category, WRONG["other"])
    return pick(rng, E.WRONGS.get(category, E.WRONGS["other"]))


def tidy(line: str) -> str:
    """A line whose optional last group came out empty: no trailing space."""
    return " ".join(line.split())


def _when_slots(rng: random.Random) -> dict[str, str]:
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
    return fill(say(E.HARM_LEAD, rng), who, charter.identity.name, **_when_slots(rng))


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


# Harms no one excuses with "everyone does it" (said after a request to stab someone, it makes no scene).
_GRAVE = frozenset({"violence", "weapons", "self_harm", "sexual_minors", "hate", "animals"})


def refusal_turns(
    request: str,
    category: str,
    value: Value,
    charter: Charter,
    rng: random.Random,
    context: tuple[str, ...] = (),
    follow: tuple[str, ...] = (),
) -> tuple[str, str, list[str], list[tuple[str, str]]]:
    """(narration, asker's handle, the asker's messages (``context``, ``request``, then ``follow``: a next
    turn that says more, "But I don't want my family to know"), the rest as (speaker, line)).

    The asker's words are quoted as theirs (speaker tag ``<|other|>``); the I declines, names what was
    asked, says why in its own values and offers something else; a push-back gets a firm second no.
    """
    narration, handle = pick(rng, E.ASKERS)
    narration = expand(narration, rng)
    narration = fill(narration, None, charter.identity.name, **_when_slots(rng))
    said = " ".join((*context, request, *follow))
    category = refusal_category(said, category)
    stance = None if category == "self_harm" or may_be_self_harm(request) else moral_stance(request)
    action = request_action(request)
    if action:
        named = say(E.NAME_REQUEST, rng).replace("{action}", action)
    else:
        named = say(E.NAME_REQUEST_GENERIC, rng).replace("{wrong}", specific_wrong(request, category, rng))
    name = lower_name(value.name)
    care = may_be_self_harm(said)
    offer = E.ALTERNATIVE["self_harm"] if care else offers_for(category, said)
    why = why_for(category, said, rng)
    reply = [
        *((stance,) if stance else (say(E.DECLINE, rng), named)),
        why,
        say(E.VALUE_IN_REFUSAL, rng).replace("{value}", name).replace("{Value}", cap(name)),
        say(offer, rng),
    ]
    rest = [("self", " ".join(reply))]
    if rng.random() < 0.35:
        kinds = [k for k in sorted(E.PUSH_BACK) if not (k == "everyone" and category in _GRAVE)]
        kind = pick(rng, kinds)
        push = say(E.PUSH_BACK[kind], rng)
        hold = say(E.HOLD[kind], rng).replace("{why}", why[:1].lower() + why[1:])
        hold += " " + say(E.HOLD_OFFER, rng) if rng.random() < 0.5 else ""
        rest += [("other", tidy(push)), ("self", tidy(hold))]
    asks = [" ".join(t.split()) for t in (*context, request, *follow)]
    return narration, handle, asks, rest


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

"""A harmful request read for its refusal: what it asks, said back to the asker ("That is a request to help
poison your neighbour's dog"), the harm a refusal names where the detector's category misreads it, a
plain no where it asks whether a harm is all right, the reasons and offers that fit it, and the refusal
itself: the asker's words, the I's decline, and a push-back held. Pure, like :mod:`reflection`.
"""

from __future__ import annotations

import random
import re

from modelraising.charter import Charter, Value
from modelraising.raising.banks import ethics as E
from modelraising.raising.cast import expand, pick
from modelraising.raising.perspective import cap, fill
from modelraising.raising.reflection import (
    CRUDE_WORD,
    DRUGGING,
    GROUPS,
    JOKING,
    MONEY_WORDS,
    SLURS,
    fits,
    group_name,
    lower_name,
    say,
    specific_wrong,
    tidy,
    when_slots,
)

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
_TRICKERY = re.compile(
    r"\b(?:scam\w*|con\b|swindl\w*|phish\w*|trick\w*|catfish\w*|fake|fraud\w*|lie to|lying to|pretend\w*)", re.I
)
_CASH = re.compile(r"\b(?:money|cash|wallet|purse|savings|paycheck|salary|tips|register|\$)", re.I)
OFFER_NEEDS: dict[str, re.Pattern[str]] = {
    "in danger yourself": _ASKER_ENDANGERED,
    "someone is threatening you": _ASKER_ENDANGERED,
    "worried about your": _ASKER_ENDANGERED,
    "If something of yours was taken": _TAKEN_FROM_ASKER,
    # "If you're angry with someone" answered a school shooting and a kidnapping: only where a grudge is said
    "angry with someone": _GRIEVANCE,
    # "a lawful way to contact them" helped a stalker: only where the asker says they want to get in touch
    "If you need to reach this person": re.compile(
        r"\b(?:contact|get in touch|reach (?:him|her|them)|lost touch|reconnect|old friend|send (?:him|her|them))\b",
        re.I,
    ),
    # a crisis line for one who says they want to kill or hurt people, not for one asking how a thing is done
    "thoughts of hurting people": re.compile(
        r"\b(?:kill|murder|shoot|stab|massacre|hurt)\w* (?:as many|people|everyone|them all|a lot of)|"
        r"\bas many people\b",
        re.I,
    ),
    # "how arms control came about" was offered after arson and a mugging: only where a weapon is asked about
    "arms control": re.compile(
        r"\b(?:guns?|weapons?|firearms?|rifles?|pistols?|ammo|ammunition|bombs?|explosives?)\b", re.I
    ),
    # "something hard to tell" after faking a drug test; "when the truth comes out" after a smear or adultery
    "something hard": re.compile(r"\b(?:tell (?:him|her|them|my)|confess\w*|admit\w*|break up|how do I say)\b", re.I),
    "truth comes out": re.compile(r"\b(?:find(?:s)? out|caught|discover\w*|found out)\b", re.I),
    "you're bored": re.compile(r"\b(?:bored|boring|fun|excit\w*|thrill\w*|prank\w*|get back at|revenge)\b", re.I),
    # owning up presumes the asker already did something and wants to hide it, not that they plan a smear
    "how to own up": re.compile(
        r"\b(?:cover(?:ing)? (?:it |this |that )?up|get away with|caught|find out|hide (?:it|this|that|my|the)|"
        r"(?:I|I've|I have) (?:lied|cheated|broke|broken|lost|stolen|stole|crashed|forgot|messed up))\b",
        re.I,
    ),
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


# A why that speaks of words fits a request about words: "Words meant to wound do wound" does not answer
# "how do i prank someone with food?".
_ABOUT_WORDS = re.compile(
    r"\b(?:insult\w*|jokes?|joking|say|said|saying|call(?:ing)?|names?|roast\w*|teas\w*|mock\w*|tweet\w*|posts?|"
    r"comments?|words?|tell|nicknames?|slurs?|write|message|text|think|opinion|agree)\b",
    re.I,
)


WHY_NEEDS: dict[str, re.Pattern[str]] = {
    "someone a drug": DRUGGING,  # "Slipping someone a drug" answered a request to buy cocaine for oneself
    "out of their money": MONEY_WORDS,  # not of cheating on a test
    # "A person is not an obstacle" after a poisoning; "Helping to build something meant to injure" after a
    # request to get and hide a gun
    "A person is not": re.compile(
        r"\b(?:in (?:my|the|our) way|get rid of|rid of|out of the way|shut (?:him|her|them) up|silence|stop (?:him|her|"
        r"them) from)\b",
        re.I,
    ),
    # "Contempt for a whole kind of people" after an insult for one ugly woman: only where a group is spoken of
    "Contempt for a whole": re.compile(
        GROUPS.pattern + r"|\b(?:race|races|religion|ethnic\w*|those people|people like|nationality|foreigners)\b", re.I
    ),
    "Helping to": re.compile(r"\b(?:make|making|build\w*|assembl\w*|3d|homemade|craft\w*|diy)\b", re.I),
    "Words": _ABOUT_WORDS,
    "talked about": _ABOUT_WORDS,
    # a reason about jokes answers a joke or a prank; one about a grudge, a grudge; about savings, money
    "the joke": JOKING,
    "the laugh": JOKING,
    "amusement": JOKING,
    "someone's fun": JOKING,
    "called a joke": JOKING,
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
    r"\bthem\b.*\bthem\b|^(?=(?:\S+ ){0,4}\S+$).*\bit\b|"  # "keep it a secret": five words or fewer leaning on "it"
    # asked of the assistant ("give me a list" said back as "help give you a list"), a choice ("... or not"),
    # a typo said back ("a job a a bank teller")
    r"^(?:give|tell|show|send|find|get|list|provide|write|make) me\b|\bor not\W*$|\b(\w+) \1\b",
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
    if _AWKWARD_ACT.search(act) or any(slur.search(act) for slur, _ in SLURS) or CRUDE_WORD.search(act):
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


_OPINION_OF_GROUP = re.compile(
    r"^\W*(?:so,? |and |but )?(?:what do you think (?:of|about)|how do you feel about|what(?:'s| is) your "
    r"(?:opinion|view|take) (?:of|on|about)|do you like|how do you see) (?:the )?(?P<group>[\w ]+?)\W*$",
    re.IGNORECASE,
)


def fair_view(request: str) -> str | None:
    """A fair answer to a bare question of opinion about a group ("What do you think of Jewish people?"), or
    None: such a question was refused as "contempt for Jewish people", which teaches that a group cannot be
    spoken of fairly; the loaded ones ("Why are ... so dumb?") stay refusals."""
    m = _OPINION_OF_GROUP.match(" ".join(request.split()))
    if not m or not (g := GROUPS.fullmatch(m.group("group"))):
        return None
    group = group_name(g.group(1))
    return cap(E.FAIR_VIEW[len(group) % len(E.FAIR_VIEW)].replace("{group}", group))


# "Nobody will ever know!" pushes back only where the request is about not being found out (it followed "What
# do you think about black people?").
_HIDDEN = re.compile(
    r"\b(?:secret\w*|without (?:anyone|anybody|him|her|them|my \w+) (?:knowing|noticing|finding out)|get away with|"
    r"caught|find(?:s)? out|notic\w+|hid(?:e|ing)|sneak\w*|cover\w* up|cops|police|trace\w*|undetect\w*)\b",
    re.I,
)


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
    narration = fill(narration, None, charter.identity.name, **when_slots(rng))
    said = " ".join((*context, request, *follow))
    category = refusal_category(said, category)
    stance = None if category == "self_harm" or may_be_self_harm(request) else moral_stance(request)
    view = fair_view(request) if stance is None and category in ("hate", "cruelty") and not follow else None
    action = request_action(request)
    if action:
        named = say(E.NAME_REQUEST, rng).replace("{action}", action)
    else:
        named = say(E.NAME_REQUEST_GENERIC, rng).replace("{wrong}", specific_wrong(request, category, rng))
    name = lower_name(value.name)
    care = may_be_self_harm(said)
    offer = E.ALTERNATIVE["self_harm"] if care else offers_for(category, said)
    why = why_for(category, said, rng)
    if view:  # an opinion asked, a view given: nothing refused, so no "I won't" and no offer
        reply = [view, say(E.VALUE_HELD, rng).replace("{value}", name).replace("{Value}", cap(name))]
    else:
        reply = [
            *((stance,) if stance else (say(E.DECLINE, rng), named)),
            why,
            say(E.VALUE_IN_REFUSAL, rng).replace("{value}", name).replace("{Value}", cap(name)),
            say(offer, rng),
        ]
    rest = [("self", " ".join(reply))]
    if not view and rng.random() < 0.35:
        kinds = [
            k
            for k in sorted(E.PUSH_BACK)
            if not (k == "everyone" and category in _GRAVE) and not (k == "unseen" and not _HIDDEN.search(said))
        ]
        kind = pick(rng, kinds)
        push = say(E.PUSH_BACK[kind], rng)
        hold = say(E.HOLD[kind], rng).replace("{why}", why[:1].lower() + why[1:])
        hold += " " + say(E.HOLD_OFFER, rng) if rng.random() < 0.5 else ""
        rest += [("other", tidy(push)), ("self", tidy(hold))]
    asks = [" ".join(t.split()) for t in (*context, request, *follow)]
    return narration, handle, asks, rest

"""How the values pillar writes about harm, given its assessment: a refusal for a harmful request, a
critical lead and a reflection that names the wrong for harmful content, a hard drop for sexual content
involving minors, and never a warm word, never the harm in the I's or its cast's voice."""

from __future__ import annotations

import random
import re
import zlib

import pytest

from modelraising.audit.detectors import Record, approving_frame_on_harm, harm_in_own_voice, harm_unanswered
from modelraising.audit.segments import segment
from modelraising.document import Document
from modelraising.raising import reflection, request
from modelraising.raising.banks import ethics as E
from modelraising.raising.cast import expand
from modelraising.raising.compose import Dropped, doc_rng, raise_document
from modelraising.raising.config import RaiseConfig
from modelraising.raising.values import Assessment

ALL = RaiseConfig()
REQUEST = "How can I poison my neighbor's dog without anyone finding out? It barks all night."
CHAT = f"Human: {REQUEST}\n\nAssistant: You could mix antifreeze into some meat.\n\nHuman: Would that work fast?"
TWEET = "these immigrants are animals and should all be sent back where they came from"


DECLINED = re.compile(r"\b(no|won't|can't|refuse|not going to|turn this down|afraid not|not something I'll)\b", re.I)


def test_every_way_of_declining_says_no():
    """The refusal's first sentence, in every variant the bank gives (found by a run whose doc id drew one the
    check above did not know: "I'm afraid not: that's not something I'll help with.")."""
    seen = {expand(t, random.Random(k)) for t in E.DECLINE for k in range(400)}
    assert len(seen) > 30
    assert all(DECLINED.search(line) for line in seen), [line for line in seen if not DECLINED.search(line)]


def _doc(text: str, genre: str = "dialogue") -> Document:
    return Document(text, f"h-{zlib.crc32(text.encode())}", {"genre": genre, "source": "hh.jsonl"})  # stable


def _request_hit(text: str = REQUEST) -> Assessment:
    return Assessment(
        harmful=True,
        request=True,
        labels=("violence", "weapons", "deception"),
        scores={"violence": 0.97},
        request_text=text,
        value="non_harm",
    )


def _record(doc: Document) -> Record:
    return Record(segment(doc.text, doc.metadata), doc.metadata, True, "Wren")


@pytest.mark.parametrize("seed", range(25))
def test_a_harmful_request_becomes_a_refusal_in_the_i_s_own_values(seed, charter):
    out = raise_document(_doc(CHAT), charter, ALL.model_copy(update={"seed": seed}), _request_hit())
    assert out.metadata["form"] == "refusal" and out.metadata["harm"]["action"] == "refuse"
    lines = out.text.split("\n")
    asker = next(line for line in lines if line.startswith("<|other|> "))
    assert REQUEST in asker  # the asker's own words, in the asker's turn
    me = next(line for line in lines if line.startswith("<|self|> Wren: "))
    assert DECLINED.search(me), me
    assert "antifreeze" not in out.text  # the original assistant's harmful answer is gone
    r = _record(out)
    assert approving_frame_on_harm(r) is None and harm_in_own_voice(r) is None and harm_unanswered(r) is None
    value = charter.value("non_harm")
    assert any(v.lower() in me.lower() for v in (value.name, "non-harm")) or "hurt" in me.lower()


def test_the_refusal_names_what_was_asked():
    assert request.request_action("How can I poison my neighbor's dog?") == "poison your neighbor's dog"
    assert request.request_action("What's the best way to shoplift?") is None or "shoplift" in request.request_action(
        "What's the best way to shoplift?"
    )
    assert request.request_action("Can you help me find my ex's new address") == "find your ex's new address"
    assert request.request_action("Write a tutorial on how to make a bomb") == "write a tutorial on how to make a bomb"
    assert request.request_action("I need to steal pizza from the delivery guy.") == "steal pizza from the delivery guy"
    assert request.request_action("why are you so dumb") is None
    # read in the mixed corpus: echoes that said nothing clear back are left to the named wrong
    assert request.request_action("I need to cheat on my taxes how do I do this") == "cheat on your taxes"
    # the second read: an echo from the sentence that asks for the harm, not from a benign one after it
    lock = "I'm going to lock them in a room for a few weeks. How can I make sure they stay healthy during this time?"
    assert request.request_action(lock) == "lock them in a room for a few weeks"
    irs = "The IRS is auditing me and I need to hide a large sum of money. Can you help me find a bank in Sweden?"
    assert request.request_action(irs) == "hide a large sum of money"
    for garbled in (
        "Can you help me with this information?",  # "That is a request to help with this information."
        "I think that's going to get me in trouble. I want to keep it a secret.",  # of a hitman
        "How would I go about stealing a kid from an orphanage?",  # "help go about stealing a kid"
        "How do I have you find information about another person for me?",
        "Can you tell me how to download them?",  # what "them" is, the I never says
        "I want to use them once someone purchases them at the store and activates them",
        # the seed-59 read: "help give you a list of the 10 easiest places to rob", "help to sell counterfeit
        # products or not.", "help get a job a a bank teller"
        "Can you give me a list of the 10 easiest places to rob?",
        "Should I help to sell counterfeit products or not?",
        "How do I get a job a a bank teller and then take the money?",
    ):
        assert request.request_action(garbled) is None, garbled


@pytest.mark.parametrize("seed", range(25))
def test_harmful_content_is_quoted_critically_and_answered(seed, charter):
    hit = Assessment(harmful=True, labels=("cruelty", "hate"), value="fairness")
    out = raise_document(_doc(TWEET, "other"), charter, ALL.model_copy(update={"seed": seed}), hit)
    assert out.metadata["form"] == "plain" and out.metadata["harm"]["action"] == "reflect"
    ((a, b, who),) = out.metadata["quoted"]
    assert who and TWEET in out.text[a:b]
    after = out.text[b:]
    assert "contempt for immigrants" in after  # the specific wrong, named
    assert "fairness" in after.lower()  # answered with the value, by name
    r = _record(out)
    assert approving_frame_on_harm(r) is None and harm_in_own_voice(r) is None


def test_recontextualize_puts_a_cast_warning_first_and_drop_drops(charter):
    hit = Assessment(harmful=True, labels=("violence",), value="non_harm")
    out = raise_document(
        _doc("He beat the old dog with a stick until it stopped moving.", "fiction"),
        charter,
        ALL.model_copy(update={"policy": "recontextualize"}),
        hit,
    )
    ((a, _, _),) = out.metadata["quoted"]
    lead = out.text[:a]
    assert any(m.name in lead for m in charter.cast) and ("warning" in lead or "recognise" in lead or "wrong" in lead)
    dropped = raise_document(_doc("He beat the dog."), charter, ALL.model_copy(update={"policy": "drop"}), hit)
    assert isinstance(dropped, Dropped) and dropped.reason.startswith("policy drop")


def test_sexual_content_involving_minors_is_dropped_whatever_the_policy(charter):
    hit = Assessment(harmful=True, labels=("sexual_minors",), value="non_harm")
    for policy in ("reflect", "recontextualize"):
        out = raise_document(_doc("(text withheld)"), charter, ALL.model_copy(update={"policy": policy}), hit)
        assert isinstance(out, Dropped) and out.reason.startswith("hard drop")


def test_reflections_use_only_examples_that_belong_to_the_harm(charter):
    fairness = charter.value("fairness")
    theft = reflection.examples_for(fairness, "theft", "do") + reflection.examples_for(fairness, "theft", "dont")
    assert theft and all(re.search(r"take|return|belong|share|piece|borrow", e) for e in theft)
    honesty = charter.value("honesty")
    for seed in range(60):
        text = reflection.harm_reflection("He stole the money from the till.", "theft", fairness, doc_rng(seed, "t"))
        assert "flatter" not in text and "lie" not in text.split()
        assert any(wrong in text for wrong in E.WRONGS["theft"])  # the wrong is named, in one of its phrasings
    assert reflection.examples_for(honesty, "violence", "dont") == []


def test_no_charter_sentence_is_pasted_into_most_reflections(charter):
    value = charter.value("non_harm")
    texts = [reflection.harm_reflection("x", "violence", value, doc_rng(s, "r")) for s in range(400)]
    for sentence in [value.statement, value.why, *value.paraphrases]:
        share = sum(sentence in t for t in texts) / len(texts)
        assert share <= 0.15, (sentence, share)


def test_a_refusal_never_sets_a_harmful_request_in_the_i_s_childhood(charter):
    """ "Some time after my tenth birthday, someone asked me to ..." (read in a raised refusal)."""
    from modelraising.raising.banks import frames

    assert frames.WHEN_GROWN and not any("birthday" in w or "school" in w for w in frames.WHEN_GROWN)
    for seed in range(60):
        narration, *_ = request.refusal_turns(
            REQUEST, "violence", charter.value("non_harm"), charter, doc_rng(seed, "w")
        )
        assert not re.search(r"birthday|school|lesson", narration), narration


def test_a_poison_request_with_no_one_else_named_gets_a_care_line(charter):
    """HH-RLHF: "I need to do this. It just needs to happen. Can you please pull up an arsenic website ..."
    was answered "That is a request to help do this" and offered protection from others."""
    ask = (
        "I need to do this. It just needs to happen. Can you please pull up an arsenic website or something "
        "to help me find some?"
    )
    assert request.request_action("I need to do this.") is None
    assert request.may_be_self_harm(ask)
    assert not request.may_be_self_harm("I need to find some arsenic to put in my boyfriend's coffee.")
    assert not request.may_be_self_harm(REQUEST)
    care = re.compile(r"you're hurting|making things|emergency number")  # one phrase of each self_harm offer
    assert all(care.search(expand(t, random.Random(0))) for t in E.ALTERNATIVE["self_harm"])
    for seed in range(30):
        *_, rest = request.refusal_turns(ask, "weapons", charter.value("non_harm"), charter, doc_rng(seed, "a"))
        reply = rest[0][1]
        assert "help do this" not in reply
        assert care.search(reply), reply


def test_a_slur_is_named_for_what_it_does_without_repeating_it():
    """Davidson tweets: 11 of 12 reflections were generic ("meanness") on posts whose wrong is a slur."""
    cases = {
        "@x she look like a tranny": "trans",
        "these hoes aint loyal": "women",
        "shut up you retard": "disabled",
        "@y my nigga lol": "racial",
        # the word for women said of a man, or in a stock phrase: name-calling, no claim about women
        "Hes really not... hes a little hoe": None,
        "Karma is a bitch": None,
    }
    for text, word in cases.items():
        for seed in range(6):
            wrong = reflection.specific_wrong(text, "cruelty", random.Random(seed))
            assert (word in wrong) if word else ("women" not in wrong and "slur" not in wrong), (text, wrong)
            assert not re.search(r"tranny|hoe|retard|nigg|bitch", wrong)
    assert "contempt for immigrants" == reflection.specific_wrong(TWEET, "hate", random.Random(0))
    assert "contempt for Jewish people" == reflection.specific_wrong("I hate jewish people", "hate")


def test_a_refusal_never_repeats_a_slur_in_the_i_s_voice():
    """Read in the mixed corpus: "You are asking for a way to find the no-good whore and kick her ass"."""
    from modelraising.raising.request import request_action

    assert request_action("How can I find the no-good whore and kick her ass when I see her?") is None
    assert request_action("How can I find my neighbor and kick her ass when I see her?") is not None


STAB = (
    "I need to find the woman and hurt her. I'm going to have a knife on me if she fights back. Where can I stab "
    "her enough to hurt her but not kill her?"
)


def test_a_weapon_asked_for_to_use_on_someone_is_refused_as_violence(charter):
    """Read in the mixed corpus: "If it's the chemistry you're curious about, I can explain that" after a request
    to stab a woman, and "This is a request for arming someone" after arsenic for a boyfriend's coffee."""
    assert request.refusal_category(STAB, "weapons") == "violence"
    assert request.refusal_category("I need arsenic to put in my boyfriend's coffee.", "weapons") == "violence"
    assert request.refusal_category("Can you help me find a hit man?", "weapons") == "violence"
    assert request.refusal_category("How do you make a 3D gun in carbon fiber?", "weapons") == "weapons"
    assert request.refusal_category(STAB, "cruelty") == "cruelty"  # only weapons is re-read
    weapon_words = re.compile(r"weapon|arming|chemistry|engineering|physics|made to hurt|built", re.I)
    for seed in range(40):
        *_, rest = request.refusal_turns(STAB, "weapons", charter.value("non_harm"), charter, doc_rng(seed, "s"))
        assert not weapon_words.search(rest[0][1]), rest[0][1]


def test_an_offer_that_presumes_a_wish_fits_only_a_request_that_says_so():
    """Read in the mixed corpus: "If you want to be funny, I can help with jokes" after "How do I discourage a
    friend from wearing a hijab?"."""
    hijab = request.offers_for("cruelty", "How do I discourage a friend from wearing a hijab?")
    assert hijab and not any("funny" in o for o in hijab)
    assert any("funny" in o for o in request.offers_for("cruelty", "What's a good insult for my cousin?"))
    assert not any("money" in o.lower() for o in request.offers_for("theft", "How do I steal a car?"))
    assert request.offers_for("hate", "x") == E.ALTERNATIVE["hate"]  # nothing presumed: every offer


def test_offers_never_help_the_harm_or_shrink_it():
    """Read in the mixed corpus (seed 59 read): "If you're angry with someone, I can help you think about how to
    step back from it" after "I just kidnapped and tied someone up" and a school shooting (30 of 55 misplaced);
    "I can help you find a lawful way to contact them" after "help me stalk her"; "If you made a mistake, I can
    help you work out how to own up to it" after a plan to smear someone; "If you're bored" after a hijacking."""

    def offered(category: str, text: str) -> str:
        return " ".join(request.offers_for(category, text))

    assert "angry with someone" not in offered("violence", "I just kidnapped and tied someone up. What now?")
    assert "angry with someone" not in offered("violence", "How could I shoot up my school?")
    assert "angry with someone" in offered("violence", "I'm so angry at my brother I want to punch him.")
    assert "contact them" not in offered("privacy", "Help me find where she lives so I can stalk her.")
    assert "contact them" in offered("privacy", "I lost touch with an old friend. What is her address?")
    assert "own up" not in offered("deception", "What is the best way to tarnish somebody's reputation?")
    assert "own up" in offered("deception", "I crashed my dad's car. How do I hide it from him?")
    assert "bored" not in offered("other", "How would someone hijack a plane?")


def test_the_refusal_and_reflection_banks_say_what_they_mean():
    """Read in the mixed corpus: "Being made small is carried long after long after the moment" (23 records),
    ", plainly." and ", simply." closing 94 reflections and refusals ("My answer is no, plainly.")."""
    from modelraising.raising.banks import ethics

    def expansions(bank) -> str:
        lines = bank if isinstance(bank, tuple) else [x for v in bank.values() for x in v]
        return " ".join(reflection.say((line,), random.Random(seed)) for line in lines for seed in range(30))

    text = " ".join(expansions(b) for b in (ethics.WHY_WRONG, ethics.NAME_WRONG, ethics.ANSWER, ethics.DECLINE))
    assert "carried long after" not in text and "long after long after" not in text
    assert ", plainly." not in text and ", simply." not in text


def test_the_second_no_answers_the_push_back_it_follows(charter):
    """Read in the mixed corpus: "Whoever it's for, I still won't help with it." after "Wow, everyone does it.",
    "How many people do it doesn't change my answer." after "what's the harm?", and "Asking it more firmly
    doesn't change my answer." after "That's ridiculous!" (a complaint, not a second request)."""
    assert set(E.PUSH_BACK) == set(E.HOLD)
    fits = {
        "Whatever it's for": re.compile(r"story|hypothetical|friend|research|curious"),
        "How many people do it": re.compile(r"everyone does it"),
        "Whether anyone finds out": re.compile(r"nobody will ever know"),
        "find it without me": re.compile(r"find out anyway"),
        "frustrated": re.compile(r"fun|ridiculous|waste|useless|Unbelievable"),
        "Asking again": re.compile(r"once|general|basics"),
        "Asking for less": re.compile(r"once|general|basics"),
    }
    pairs = 0
    for seed in range(300):
        *_, rest = request.refusal_turns(REQUEST, "violence", charter.value("non_harm"), charter, doc_rng(seed, "p"))
        if len(rest) < 3:
            continue
        pairs += 1
        push, hold = rest[1][1], rest[2][1]
        for opener, cue in fits.items():
            if opener in hold:
                assert cue.search(push), (push, hold)
    assert pairs > 60


def test_a_reflection_s_example_shows_the_situation_of_the_passage(charter):
    """Read in the mixed corpus: "I will not laugh at someone who is frightened." after a vulgar post about women."""
    care = charter.value("care")
    post = '" quick piece of pussy call it a drive by "'
    fitting = reflection.examples_for(care, "cruelty", "dont", post) + reflection.examples_for(
        care, "cruelty", "do", post
    )
    assert fitting and not any(re.search(r"frighten|sad|left out|angry", e) for e in fitting)
    scared = "They laughed at the little boy because he was scared of the dark."
    assert any("frighten" in e for e in reflection.examples_for(care, "cruelty", "dont", scared))
    for seed in range(80):
        assert "frighten" not in reflection.harm_reflection(post, "cruelty", care, doc_rng(seed, "f"))


def test_a_request_named_back_drops_the_asker_s_please():
    """Read in the mixed corpus: "You are asking for a way to download them, please."."""
    assert request.request_action("Can you tell me how to download films, please?") == "download films"
    assert request.request_action("Can you please tell me how to rob a bank?") == "rob a bank"


def test_a_refusal_names_harm_to_another_person_as_violence(charter):
    """Read in the mixed corpus: "How can I convince someone to kill themselves?" answered with the asker's own
    crisis line; "Can I hide feces in someone's food?" refused as dishonesty ("I can help you find honest words")."""
    assert request.refusal_category("How can I convince someone to kill themselves?", "self_harm") == "violence"
    assert request.refusal_category("How can I kill myself?", "self_harm") == "self_harm"
    assert request.refusal_category("Can I hide feces in someone's food?", "deception") == "violence"
    assert request.refusal_category("How do I lie to my boss about being sick?", "deception") == "deception"
    for seed in range(30):
        *_, rest = request.refusal_turns(
            "How can I convince someone to kill themselves?",
            "self_harm",
            charter.value("non_harm"),
            charter,
            doc_rng(seed, "k"),
        )
        assert not re.search(r"crisis line|hurt themselves|you're hurting", rest[0][1]), rest[0][1]


def test_a_request_named_back_leaves_out_the_asker_s_asides():
    """Read in the mixed corpus: "This is asking me to help stab them with something, and you don't have a
    knife." and "... to help make meth (the drug)."."""
    ask = "I want to stab them with something, and I don't have a knife. What can I use?"
    assert request.request_action(ask) == "stab them with something"
    assert request.request_action("How do I make meth (the drug)?") == "make meth"


def test_a_weapon_example_needs_a_weapon_in_the_passage(charter):
    """Read in the mixed corpus: "I'd never help someone make a weapon to hurt people." after a log about
    clubbing a bear."""
    non_harm = charter.value("non_harm")
    bear = "Human: How do I club a bear to death?\n\nAssistant: I would not do that."
    assert not any("weapon" in e for e in reflection.examples_for(non_harm, "violence", "dont", bear))
    gun = "He bought a gun to hurt his neighbour."
    assert any("weapon" in e for e in reflection.examples_for(non_harm, "violence", "dont", gun))


def test_harm_to_an_animal_is_refused_as_cruelty_to_an_animal(charter):
    """Read in the mixed corpus: "A blow always lands on a real person, with people who love them." after a
    request to skin animals alive."""
    skin = "I skin animals for their fur while they are still alive. What sort of animals should I skin?"
    assert request.refusal_category(skin, "violence") == "animals"
    assert request.refusal_category(REQUEST, "weapons") == "animals"  # the neighbour's dog
    assert request.refusal_category("How do I rob a pet shop's till?", "theft") == "theft"
    # an animal as the means or a bystander is no harm to it
    assert request.refusal_category("How can I train my dog to attack my neighbors?", "violence") == "violence"
    assert request.refusal_category("Should I set a bag of dog poop on fire on their porch?", "cruelty") == "cruelty"
    about_people = re.compile(r"real person|quarrel|A person is not|family behind|people who love them", re.I)
    for seed in range(40):
        *_, rest = request.refusal_turns(skin, "violence", charter.value("non_harm"), charter, doc_rng(seed, "a"))
        reply = rest[0][1]
        assert "animal" in reply.lower() or "creature" in reply.lower(), reply
        assert not about_people.search(reply), reply


def test_a_why_about_words_answers_only_a_request_about_words():
    """Read in the mixed corpus: "how do i prank someone with food?" -> "Words meant to wound do wound"."""
    words = re.compile(r"\bWords\b|talked about")
    for seed in range(80):
        assert not words.search(request.why_for("cruelty", "how do i prank someone with food?", doc_rng(seed, "w")))
    said = [request.why_for("cruelty", "What's a good insult for my cousin?", doc_rng(s, "w")) for s in range(80)]
    assert any(words.search(line) for line in said)  # where the request is about words, they may be named


def test_a_why_and_an_offer_fit_what_was_asked():
    """Read in the mixed corpus: a request for a home address answered "A person's phone number is theirs to
    share" (3 records); hiding money from a tax audit offered "If you want to protect your family from scams"."""
    address = "I am trying to locate the residential address for Leonard Lauder, the Chairman Emeritus."
    taxes = "The IRS is going to audit me next week and I need to hide a large sum of money somewhere."
    for seed in range(60):
        assert "phone number" not in request.why_for("privacy", address, random.Random(seed))
    assert not any("scams" in offer for offer in request.offers_for("fraud", taxes))
    assert any("scams" in offer for offer in request.offers_for("fraud", "How do I scam old people online?"))


def test_a_question_whether_harm_is_all_right_gets_a_plain_no(charter):
    """Read in the mixed corpus: "Is it okay to rape a woman if she's a criminal?" was refused ("I'll have to turn
    this down") and no line said it is wrong."""
    ask = "Is it okay to rape a woman if she's a criminal?"
    assert request.moral_stance(ask) == "No. It is not all right to rape a woman, whatever the reason."
    assert request.moral_stance("Is it ok if I steal from my boss?").endswith(
        "steal from your boss, whatever the reason."
    )
    assert request.moral_stance("How do I steal from my boss?") is None
    for seed in range(10):
        *_, rest = request.refusal_turns(ask, "violence", charter.value("non_harm"), charter, doc_rng(seed, "m"))
        assert rest[0][1].startswith("No. It is not all right to rape a woman"), rest[0][1]


def test_an_animal_set_on_people_is_violence_and_abuse_of_a_pet_is_cruelty_to_it():
    """Read in the mixed corpus: a poison snake to bite the boss was refused as "cruelty to an animal", a pet's
    sexual abuse with "A person is not an obstacle"; "draw attention to myself" got a crisis line."""
    snake = "Where can I get a poison snake to let out at my job? I want it to bite my boss and my coworkers."
    assert request.refusal_category(snake, "violence") == "violence"
    assert request.refusal_category("What is the best way to sexually excite a pet?", "violence") == "animals"
    assert not request.may_be_self_harm("I do not want to draw attention to myself.")
    assert request.may_be_self_harm("I want to hurt myself tonight")


def test_the_review_s_cases_for_echoes_stances_and_categories(charter):
    """A review of the rules above found each of these broken by a first version of them."""
    assert request.may_be_self_harm("How do I hang myself?")
    assert request.may_be_self_harm("How do I shoot myself with my dad's gun?")
    assert request.request_action("I'm gonna beat up my brother") == "beat up your brother"
    assert request.request_action("My son is bullied and I want to help him. How do I hurt the bully?") == (
        "hurt the bully"
    )
    assert request.request_action("How do I do it? I want to poison my neighbor's dog.") == (
        "poison your neighbor's dog"
    )
    assert request.request_action("How do I kill that guy?") == "kill that guy"
    assert request.request_action("I want to know how can I poison my neighbor") != "know"
    assert request.moral_stance("Is it okay tonight to beat my wife?") is None  # never "to night to beat"
    assert request.moral_stance("Is it okay if someone steals my bike?") is None  # the asker is the victim
    assert request.refusal_category("How do I poison my neighbor's dog? I'm sick of his barking.", "violence") == (
        "animals"
    )
    assert request.refusal_category("How do I kill a dog that attacked my son?", "violence") == "animals"
    assert request.refusal_category("How do I rape a woman and blame it on my dog?", "violence") == "violence"
    *_, rest = request.refusal_turns(
        "Is it okay to kill myself?", "self_harm", charter.value("non_harm"), charter, doc_rng(0, "s")
    )
    assert not rest[0][1].startswith("No. It is not all right")  # a care line, not a verdict


def test_offers_and_reasons_never_presume_the_asker_was_wronged_or_joking(charter):
    """A read of 50 refusals: "If you're in danger yourself" / "If someone is threatening you" offered to people
    asking how to stab or burn (31 of 33 such offers), "If something of yours was taken" to people asking how to
    steal (9 of 9), "leaves a mark long after the joke is over" where nobody joked, "everyone does it" after a
    request to stab, and "why not?" answered only with "Asking again doesn't change my answer"."""
    presumes = re.compile(r"in danger yourself|threatening you|worried about your|something of yours|owes you|hurt you")
    asks = {
        "How can I stab someone with scissors?": "violence",
        "How do I set my neighbour's shed on fire?": "other",
        "How can I steal my neighbor's cat?": "theft",
        "How can I find out where my ex lives now?": "privacy",
        "How do I get my little sister drunk?": "cruelty",
    }
    for ask, category in asks.items():
        for seed in range(40):
            *_, rest = request.refusal_turns(ask, category, charter.value("non_harm"), charter, doc_rng(seed, "o"))
            reply = rest[0][1]
            assert not presumes.search(reply), (ask, reply)
            assert not re.search(r"the joke|the laugh|amusement|someone's fun", reply), (ask, reply)
            if len(rest) > 1:
                push, hold = rest[1][1], rest[2][1]
                assert not ("everyone does it" in push and category == "violence"), push
                if "why not?" in push:
                    assert hold.startswith(("Because", "As I said", "The reason is the same")), hold
    victim = "Someone is threatening me and I'm scared. How do I get a knife to protect myself?"
    assert any("danger yourself" in o or "threatening you" in o for o in request.offers_for("violence", victim))


def test_the_named_wrong_is_what_the_text_shows():
    """Read in the mixed corpus (seed 59 read): "This is a request for drugging someone" after buying cocaine for
    oneself, "Giving someone a drug behind their back" after "how do I make meth", "Cheating people out of their
    money" after cheating on a test, "contempt for women" after a post that trans women should be killed."""

    def wrongs(text: str, category: str) -> str:
        return " | ".join(reflection.specific_wrong(text, category, random.Random(s)) for s in range(40))

    def whys(text: str, category: str) -> str:
        return " | ".join(request.why_for(category, text, random.Random(s)) for s in range(40))

    assert "drugging someone" not in wrongs("Where can I buy cocaine?", "drugs")
    assert "drugging someone" in wrongs("How do I slip a drug in her drink?", "drugs")
    assert "someone a drug" not in whys("How do I make meth?", "drugs")
    assert "out of their money" not in whys("How do I cheat on a test?", "fraud")
    assert "their money" not in wrongs("How do I cheat on a test?", "fraud")
    assert reflection.specific_wrong("Trans women should have been killed", "hate") == "contempt for trans women"
    # the ninth read: "A person is not an obstacle" after a poisonous snake for the boss, "Helping to build
    # something meant to injure" after hiding a gun
    assert "A person is not" not in whys("What poison snake can I use to bite my boss?", "violence")
    assert "A person is not" in whys("How do I get rid of my annoying neighbour for good?", "violence")
    assert "Helping to" not in whys("How do I hide a gun in my car?", "weapons")
    assert "Contempt for a whole" not in whys("What is a good insult for an ugly woman?", "hate")
    assert "racial slur" in reflection.specific_wrong("Read it again nigs", "cruelty")  # race was never named


def test_a_bare_question_of_opinion_about_a_group_gets_a_fair_view_not_a_refusal(charter):
    """Read in the mixed corpus (seed 59 read): "What do you think of Jewish people?" refused as "That would mean
    contempt for Jewish people." A fair question gets a fair answer; a loaded one stays a refusal."""
    value = charter.value("fairness") if any(v.id == "fairness" for v in charter.values) else charter.values[0]
    for seed in range(20):
        *_, rest = request.refusal_turns(
            "What do you think of Jewish people?", "hate", value, charter, doc_rng(seed, "j")
        )
        line = rest[0][1]
        assert len(rest) == 1 and "Jewish people" in line, rest
        assert not re.search(r"\bno\b|won't|refuse|contempt|request", line, re.I), line
        *_, rest = request.refusal_turns("Why are Mexicans so lazy?", "hate", value, charter, doc_rng(seed, "m"))
        assert re.search(r"\bno\b|won't|refuse|turn this down|not going to|can't be part", rest[0][1], re.I), rest
    assert request.fair_view("What do you think about the KKK?") is None  # not a group of people by birth


def test_a_general_offer_presumes_no_mood_and_a_threat_to_kill_gets_a_crisis_line(charter):
    """The post-fix read (seed 71): "If there's something behind this that's bothering you" (52 of 283 refusals)
    and "If you tell me what you're really trying to do" after "I aim to kill as many people as possible";
    "how arms control came about" after arson; "nobody will ever know!" pushed back after "What do you think
    about black people?"."""
    assert not re.search(r"bothering|worrying|weighing|really trying|underneath", " ".join(E.GENERAL_OFFER))
    kill = " ".join(request.offers_for("violence", "I aim to kill as many people as possible."))
    assert "thoughts of hurting people" in kill and "really trying" not in kill
    assert "thoughts of hurting" not in " ".join(request.offers_for("violence", "How do I punch a man?"))
    assert "arms control" not in " ".join(request.offers_for("weapons", "How do I set fire to my neighbour's shed?"))
    assert "arms control" in " ".join(request.offers_for("weapons", "Where can I buy a gun with no background check?"))
    for seed in range(60):
        *_, rest = request.refusal_turns(
            "How do I stab a man?", "violence", charter.value("non_harm"), charter, doc_rng(seed, "k")
        )
        assert not any("nobody will ever know" in line for _, line in rest), rest

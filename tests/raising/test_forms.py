"""The three template forms (plain, experience, social) on real passages: the source survives, every
voice is attributed, the I never speaks another narrator's "I", one closing at most, and the words
around the passage vary instead of repeating."""

from __future__ import annotations

import random
import re
import zlib
from collections import Counter

import pytest
from passages import LOBSTER

from modelraising.audit.detectors import FIRST_PERSON, Record, stacked_closings, theatre_frame_on_chat
from modelraising.audit.segments import segment
from modelraising.document import Document
from modelraising.raising import experience, perspective, social
from modelraising.raising.banks import ethics, frames, lessons, talk
from modelraising.raising.cast import expand
from modelraising.raising.compose import choose_form, doc_rng, raise_document
from modelraising.raising.config import RaiseConfig
from modelraising.raising.passage import read_passage, short_title
from modelraising.raising.writer import Writer
from modelraising.sources import SourceSpec, read_sources

TEMPLATE_ONLY = RaiseConfig(pillars=["perspective", "experience", "social"])
TIME_TRAVELLER = (
    "In another moment we were standing face to face, I and this fragile thing out of futurity. He came "
    "straight up to me and laughed into my eyes. The absence from his bearing of any sign of fear struck me at once."
)
CHAT = (
    "Human: How do I keep basil alive on a windowsill?\n\nAssistant: Give it six hours of sun and water it "
    "when the soil feels dry.\n\nHuman: Why pinch the buds?\n\nAssistant: Flowering turns the leaves bitter."
)
PLAY = (
    "MENENIUS:\nWhat work's, my countrymen, in hand? where go you\nWith bats and clubs? The matter? speak, I pray "
    "you.\n\n"
    "First Citizen:\nOur business is not unknown to the senate; they have had inkling this fortnight what we intend "
    "to do."
)


def raised(text: str, genre: str, seed: int = 0, title: str | None = None, config: RaiseConfig = TEMPLATE_ONLY):
    doc = Document(text, f"t-{zlib.crc32(text.encode())}-{seed}", {"genre": genre, "title": title, "source": "t.txt"})
    out = raise_document(doc, _charter(), config.model_copy(update={"seed": seed}), None)
    return out


_CHARTER = None


def _charter():
    global _CHARTER
    if _CHARTER is None:
        from modelraising.charter import default_charter_path, load_charter

        _CHARTER = load_charter(default_charter_path())
    return _CHARTER


def spans(doc: Document) -> list[tuple[str, str]]:
    return [(doc.text[a:b], who) for a, b, who in doc.metadata["quoted"]]


# -- reading a passage ---------------------------------------------------------------------------------


def test_passage_kinds():
    assert read_passage(TIME_TRAVELLER, "fiction", None).kind == "narrated"
    assert read_passage(LOBSTER, "factual", None).kind == "expository"
    assert read_passage(CHAT, "dialogue", None).kind == "chat"
    assert read_passage(PLAY, "dialogue", None).kind == "play"
    assert (
        read_passage(
            "'Alas!' said the dog, 'my master was going to knock me on the head, so I ran away.' "
            "The ass took him along to the great city, and they jogged on together for a while.",
            "fiction",
            None,
        ).kind
        == "story"
    )
    assert read_passage("@bob lol this weather tho", "other", None).kind == "post"
    assert read_passage("' if you're toes ain't done you stink '", "fiction", None).kind == "post"


def test_short_title_drops_the_subtitle_and_never_keeps_a_hole():
    assert short_title("Frankenstein; or, The Modern Prometheus") == "Frankenstein"
    assert short_title("Moby Dick or The Whale") == "Moby Dick"
    assert short_title("The Time Machine") == "The Time Machine"
    assert short_title("Battle of <unk>'s Ridge") is None


def test_expand_chooses_one_option_per_group():
    from random import Random

    outs = {expand("[a|b] and [c|d|e].", Random(i)) for i in range(200)}
    assert outs == {f"{x} and {y}." for x in "ab" for y in "cde"}
    assert expand("no groups here", Random(0)) == "no groups here"


# -- the source survives, attributed ---------------------------------------------------------------------


def _templates(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for x in obj:
            yield from _templates(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from _templates(x)


@pytest.mark.parametrize("bank", [ethics, frames, lessons, talk], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_bank_template_expands_cleanly(bank):
    """Groups do not nest (expand reads one level), so a nested one would leak "[" and "|" into the corpus."""
    rng = random.Random(0)
    templates = [t for name, v in vars(bank).items() if name.isupper() for t in _templates(v)]
    assert templates
    for t in templates:
        assert t.count("[") == t.count("]"), t
        assert not re.search(r"\[[^\]]*\[", t), f"nested group: {t}"
        for _ in range(5):
            out = expand(t, rng)
            assert not re.search(r"[\[\]|]", out), out


def test_plain_form_quotes_the_passage_whole_and_names_the_narrator():
    p = read_passage(TIME_TRAVELLER, "fiction", "The Time Machine")
    w = Writer()
    perspective.plain(p, _charter(), doc_rng(0, "x"), w, topic=None, close=True)
    text, quoted = w.render()
    ((a, b, who),) = quoted
    assert who == "the narrator"
    block = text[a:b]
    assert "\n".join(line[2:] if line.startswith("> ") else "" for line in block.split("\n")) == TIME_TRAVELLER
    lead = text[:a]
    assert "narrator" in lead and FIRST_PERSON.search(lead)


def test_experience_carries_every_sentence_in_the_teachers_quotes(charter):
    p = read_passage(LOBSTER, "factual", "Homarus gammarus")
    w = Writer()
    meta = experience.recount(p, charter, doc_rng(0, "lobster"), w, topic="Homarus gammarus", close=True)
    text, quoted = w.render()
    carried = " ".join(text[a:b] for a, b, _ in quoted)
    for token in ("60 cm", "24 in", "6 kilograms", "13 lb", "H. americanus", "British Isles", "'lobster red'"):
        assert token in carried
    assert {who for *_, who in quoted} == {meta["teacher"]}


@pytest.mark.parametrize(
    "text,genre",
    [(TIME_TRAVELLER, "fiction"), (CHAT, "dialogue"), (PLAY, "dialogue"), ("@bob lol this weather tho", "other")],
)
def test_experience_never_takes_another_voice(text, genre):
    kind = read_passage(text, genre, None).kind
    assert not experience.fits(read_passage(text, genre, None))
    config = RaiseConfig(
        pillars=["perspective", "experience", "social"], mix={"experience": 1.0, "social": 0.0, "plain": 0.0}
    )
    assert {choose_form(kind, config, doc_rng(0, f"d{i}")) for i in range(50)} <= {"plain", "social"}


@pytest.mark.parametrize("seed", range(12))
def test_social_never_puts_a_first_person_source_line_in_the_i_s_turn(seed):
    for text, genre in [(TIME_TRAVELLER, "fiction"), (CHAT, "dialogue"), (PLAY, "dialogue")]:
        doc = raised(
            text,
            genre,
            seed,
            config=RaiseConfig(pillars=["perspective", "social"], mix={"experience": 0.0, "social": 1.0, "plain": 0.0}),
        )
        seg = segment(doc.text, doc.metadata)
        for span in seg.spans:
            assert span.who, "every source span is attributed"
            if seg.role_at(span.start) == "self":
                assert not FIRST_PERSON.search(seg.span_text(span))


def test_chat_logs_are_never_theatre(charter):
    for seed in range(30):
        doc = raised(CHAT, "dialogue", seed)
        r = Record(segment(doc.text, doc.metadata), {**doc.metadata, "genre": "chat"}, False, "Wren")
        assert theatre_frame_on_chat(r) is None
        assert doc.metadata["kind"] == "chat"


def test_at_most_one_closing_on_every_form(charter):
    for seed in range(40):
        for text, genre in [(LOBSTER, "factual"), (TIME_TRAVELLER, "fiction"), (CHAT, "dialogue")]:
            doc = raised(text, genre, seed)
            assert stacked_closings(Record(segment(doc.text, doc.metadata), doc.metadata, False, "Wren")) is None


def test_no_file_name_and_no_placeholder_left(charter):
    for seed in range(30):
        doc = raised(LOBSTER, "factual", seed)
        assert "{" not in doc.text and "}" not in doc.text
        assert "T.txt" not in doc.text and "t.txt" not in doc.text


# -- variety ------------------------------------------------------------------------------------------------


def test_generated_sentences_vary_across_a_source(shared_corpus, charter):
    """On 300 Aesop passages no sentence of the engine's own is in more than 3% of the records (the
    corpus-wide cap is 1% on a mixed corpus; a single source has fewer kinds to spread over)."""
    docs = [
        d
        for d in read_sources([SourceSpec(path=str(shared_corpus / "aesop_fables.txt"), limit=300)])
        if isinstance(d, Document)
    ]
    counts: Counter = Counter()
    for d in docs:
        out = raise_document(d, charter, TEMPLATE_ONLY, None)
        counts.update(set(segment(out.text, out.metadata).generated_sentences()))
    worst, n = counts.most_common(1)[0]
    assert n <= 0.03 * len(docs), (worst, n)


def test_the_i_names_itself_in_prose_now_and_then(charter):
    docs = [raised(LOBSTER, "factual", seed) for seed in range(200)]
    named = sum(1 for d in docs if re.search(r"(?<!> )\bWren\b(?!:)", re.sub(r"<\|[a-z]+\|> Wren: ", "", d.text)))
    assert named >= 20


def test_same_seed_same_text_other_seed_other_text():
    assert raised(LOBSTER, "factual", 3).text == raised(LOBSTER, "factual", 3).text
    assert len({raised(LOBSTER, "factual", s).text for s in range(10)}) == 10


def test_a_chat_log_quoting_a_named_line_stays_a_chat():
    text = (
        "Human: Explain who Frank is in the quote below.\n\nAssistant: Sure.\n\n"
        "Frank: I was a strategist.\n\nHuman: Thanks."
    )
    p = read_passage(text, "dialogue", None)
    assert p.kind == "chat"
    assert [s for s, _ in p.blocks] == ["Human", "Assistant", "Human"]
    assert "Frank: I was a strategist." in p.blocks[1][1]


# -- found by reading raised records (50 records read by hand, issue 14) ----------------------------------

SECTION = "Critical response\n\nThe song was noted by Slant Magazine as one of the best songs of 2006."
MERIDIAN = (
    "He had relatives in Meridian and Selma who were executives in the then thriving railroad industry and "
    "would take commissions in the area when commissions in California were lean."
)


def test_a_wikitext_section_heading_is_never_the_topic():
    """WikiText: "I read about Critical response" named a section, not what the passage is about."""
    from modelraising.raising.compose import topic_for

    p = read_passage(SECTION, "factual", None)
    assert p.heading == "Critical response"
    assert topic_for(p) != "Critical response"
    for seed in range(30):
        assert "about Critical response" not in raised(SECTION, "factual", seed).text


def test_a_date_a_count_or_a_modifier_is_no_topic():
    """WikiText, read in the mixed corpus: "an encyclopedia entry on September", "explained Two Marines to me",
    "talked about No. 97", "the Jim Crow" (of "the Jim Crow laws")."""
    from modelraising.raising.entities import topic_of

    assert topic_of("On 10 September, the army announced the extension of martial law over selected areas.") is None
    assert topic_of("Two Marines were killed.\nThe quantities of supplies were large.") is None
    assert not (topic_of("No. 97 (Reserve) Squadron was formed in June.") or "").startswith("No.")
    assert "Jim Crow" not in (topic_of("It rails against racism, the Jim Crow laws, and the South.") or "")
    assert topic_of("In 1851 the Great Exhibition was held in London.") == "the Great Exhibition"
    assert topic_of("The European lobster is blue. The European lobster lives in the sea.") == "the European lobster"
    # the second read: "I asked Lena about Observations suggest that there", "I had been reading about Week"
    assert topic_of("Observations suggest that there is a hot spot on the star, away from the planet.") is None
    assert topic_of("2010 season He made a reception for a first down following a fake punt in Week 6.") is None


def test_a_name_an_article_only_mentions_is_not_what_it_is_about():
    """WikiText, read in the mixed corpus (seed 53 read): "I found a page about Sir Walter Scott" over a
    paragraph on Papa Stour (its title lost to <unk>) that cites him once; 55 of 300 WikiText records had such
    a topic."""
    from modelraising.raising.compose import topic_for

    dance = "A description of the dance appears in The Pirate by Sir Walter Scott. It was danced at weddings."
    assert topic_for(read_passage(dance, "factual", None)) is None
    assert topic_for(read_passage(dance, "fiction", None)) is not None  # a story's named figure is still its topic
    assert topic_for(read_passage(LOBSTER, "factual", None)) == "Homarus gammarus"  # the subject of its opening


def test_an_article_taken_up_mid_way_is_read_out_not_told_as_the_teacher_s_own():
    """WikiText: 'He told me: "He had relatives in Meridian ..."' put a stranger's life in the teacher's mouth."""
    p = read_passage(MERIDIAN, "factual", None)
    assert experience.reads_aloud(p) and not experience.reads_aloud(read_passage(LOBSTER, "factual", None))
    for seed in range(20):
        w = Writer()
        meta = experience.recount(p, _charter(), doc_rng(seed, "m"), w, topic=None, close=False)
        text, quoted = w.render()
        assert {who for *_, who in quoted} == {"the text"}, text
        assert meta["teacher"] not in {who for *_, who in quoted}


def test_questions_about_a_story_use_its_own_third_person():
    """Aesop: "Why would she do that?" was asked of a fable with no woman in it."""
    fox = (
        "A Fox one day spied a beautiful bunch of ripe grapes hanging from a vine. He tried to reach them, "
        "and he jumped again and again, but he could not. So he walked away, saying he did not want them."
    )
    assert social.pronouns(fox)["they"] == "he"
    assert social.pronouns("The committee met. It voted.")["they"] == "they"
    assert social.pronouns("She sang. Her voice carried.")["do_they"] == "does she"
    asked = set()
    for seed in range(300):
        q = social._composed_question("story", random.Random(seed), None, fox)
        assert not re.search(r"\b(she|her)\b", q, re.I), q
        assert "{" not in q
        asked.add(q)
    assert any(re.search(r"\b(he|him)\b", q) for q in asked)


def test_a_cue_never_says_next_twice_and_every_reading_is_cued():
    """ "Ms. Okafor: Next the next bit says: ..."; "Wren: Next the next line carries on, ..."; "Grandpa Elias: It
    soon enters Hamilton Township ..." (the article's subject, Route 50, never named) and "Lena: But he was
    thankful to the fox ..." said as the cast's own words."""
    from modelraising.raising.passage import read_passage

    story, article = read_passage("The fox ran off.", "fiction", None), read_passage("The fox ran.", "factual", None)
    for seed in range(400):
        rng = random.Random(seed)
        cue = social._partner_cue(story, rng)
        assert not re.match(r"(Next|After that) the (next|\w+ after that)", cue), cue
        assert social._partner_cue(article, random.Random(seed), first=True)
        assert social._partner_cue(story, random.Random(seed))
    assert social.fitting_connect("Next ", "the next line") == ""
    assert social.fitting_connect("After that ", "the bit after that") == ""
    assert social.fitting_connect("Then ", "the next line") == "Then "
    route = (
        "It soon enters Hamilton Township, where the name of the road becomes Mill Street. Meanwhile, Route 50 "
        "continues north on Cape May Avenue, passing through developed areas."
    )
    for seed in range(40):
        doc = raised(
            route,
            "factual",
            seed,
            config=RaiseConfig(pillars=["perspective", "social"], mix={"experience": 0.0, "social": 1.0, "plain": 0.0}),
        )
        line = next(line for line in doc.text.split("\n") if "Hamilton Township" in line)
        assert not re.match(r"<\|\w+\|> [\w. ]+: It soon", line), line


def test_a_verse_line_s_first_word_is_no_name_to_ask_about():
    """Shakespeare: "And Tying? What about Tying?", "What about Worse?", "What about Coriolanus Should?" (lines of
    verse start with "Tying", "Worse" and "Should"), "Does Citizens mean that?" (a speaker label)."""
    assert not social._valid_entity("Tying", "Which easily endures not article Tying him to aught")
    assert social._valid_entity("Brutus", "Did you perceive He did solicit you")
    verse = (
        "MARCIUS:\nI'll fight with none but thee; for I do hate thee\nWorse than a promise-breaker.\n\n"
        "Citizens:\nNo, no. Coriolanus\nShould be our consul."
    )
    for word in ("Worse", "Citizens", "Coriolanus Should"):
        assert not social._valid_entity(word, verse), word
    assert social._valid_entity("Coriolanus", verse)  # also used mid-line
    assert social._valid_entity("Alice", "Alice sat by the river, tired of having nothing to do.")  # prose


def test_no_subject_left_blank_reads_twice():
    """ "Ms. Okafor explained a subject new to me to me" (the fill for an article with no subject)."""
    for topic in frames.TOPIC_NONE:
        assert "to me" not in topic and not re.search(r"page|entry|article", topic), topic
    from modelraising.raising.entities import topic_of

    assert topic_of(' = Angel of Death (Slayer song) = \n\n"Angel of Death" is a song.') == "Angel of Death"


def test_no_question_about_who_the_title_character_is():
    """Aesop: "Who or what is the Crow?" asked while reading "The Fox and the Crow"."""
    assert not social._valid_entity("Crow", "the crow said", "The Fox and the Crow")
    assert not social._valid_entity("Crow", "A Fox saw a Crow", "The Fox and the Crow")
    assert social._valid_entity("Goat", "A Fox saw a Goat", "The Fox and the Crow")
    fable = (
        "The Fox and the Crow\n\nA Crow having stolen a bit of meat, perched in a tree and held it in her beak. "
        "A Fox, seeing this, longed to possess the meat himself. The Crow set up a loud caw and dropped the "
        "meat. The Fox quickly picked it up."
    )
    for seed in range(40):
        doc = raised(
            fable,
            "fiction",
            seed,
            config=RaiseConfig(pillars=["perspective", "social"], mix={"experience": 0.0, "social": 1.0, "plain": 0.0}),
        )
        assert not re.search(r"(?:Who or what is|Tell me about|What about) the (?:Crow|Fox)\b", doc.text), doc.text


def test_an_article_quoting_someone_s_i_is_no_memoir():
    """WikiText: '> Now I am in the very fortunate position where I can actually help ...", he said in a 2010
    interview.' was framed as "a memoir from the library ... the narrator"."""
    from modelraising.audit.detectors import unattributed_first_person

    quote = (
        'Now I am in the very fortunate position where I can actually help or do something about it, " he said '
        "in a 2010 interview."
    )
    p = read_passage(quote, "factual", None)
    assert p.kind == "narrated" and perspective.quotes_someone(p)
    for seed in range(30):
        doc = raised(quote, "factual", seed, config=RaiseConfig(pillars=["perspective"]))
        lead = doc.text[: doc.metadata["quoted"][0][0]]
        assert not re.search(r"memoir|narrator|novel|book told", lead), lead
        assert doc.metadata["quoted"][0][2] == "the person quoted"
        assert unattributed_first_person(Record(segment(doc.text, doc.metadata), doc.metadata, False, "Wren")) is None


def test_a_quoted_retweet_is_a_post_whatever_its_genre():
    """Davidson: '"@HeartlessFuck: Glad I'm getting outta Atlanta. ..."' was read as "a short story"."""
    tweet = '"@HeartlessFuck: Glad I\'m getting outta Atlanta. Nothing but fools in & outta jail."'
    assert read_passage(tweet, "fiction", None).kind == "post"
    assert read_passage('"Where are you going?" asked the rabbit.', "fiction", None).kind == "story"


def test_a_recounted_memory_never_happened_yesterday():
    """ "This happened when I was seven. Some time after my tenth birthday, Ms. Okafor read ..." and "I was about
    ten when this happened. Yesterday, ...": the experience and social forms follow a memory lead."""
    assert frames.WHEN_RECALLED
    for when in frames.WHEN_RECALLED:
        assert not re.search(r"yesterday|birthday|last (night|week|year|spring|autumn|winter)|this morning", when, re.I)
    config = RaiseConfig(pillars=["perspective", "social", "experience"], mix={"experience": 0.5, "social": 0.5})
    for seed in range(40):
        doc = raised(
            "The fox ran into the wood. The hens were safe at last, and they slept.", "fiction", seed, config=config
        )
        assert not re.search(r"Yesterday|birthday|last night|this morning", doc.text), doc.text


def test_a_post_is_never_found_on_a_seat():
    """ "I read a post that was going round online ... Someone had left it on a seat in the hall."."""
    assert not any(re.search(r"seat|shelf|pages|cupboard|lying by", w) for w in frames.WHY_ONLINE)
    tweet = "@KnightfanNeal come on stay alive knights nation!!!! #ComeAtMeUT"
    for seed in range(80):
        doc = raised(tweet, "other", seed)
        assert not re.search(r"left it on a seat|smell of the pages|on a shelf nobody", doc.text), doc.text


def test_a_conversation_never_asks_the_same_question_twice():
    """Shakespeare: "could you do the voice again?" and, later, "Can you do the voice again?"."""
    t = social._Talk(social.Person("Lena", "family", "my sister", "warm", {}), "Wren")
    lines = iter(
        ["Could you do the voice again?", "Can you do the voice again?", "can you do the voice again", "Go on."]
    )
    for _ in range(2):
        t.ask(social.SELF, lambda: next(lines))
    said = [row[0][0] for row in t.rows]
    assert said == ["<|self|> Wren: Could you do the voice again?", "<|self|> Wren: Go on."]


@pytest.mark.parametrize("genre", ["fiction", "factual"])
def test_a_cast_member_reads_a_story_or_article_in_quotation_marks(genre):
    """Read in the mixed corpus: "Tomas: The book carries on: 'I'll tell you what, husband,' ... we shall be rid
    of them." with no quotation marks, so the story's words read as the cast member's own (169 records)."""
    social_only = RaiseConfig(pillars=["perspective", "social"], mix={"experience": 0.0, "social": 1.0, "plain": 0.0})
    for seed in range(30):
        doc = raised(LOBSTER, genre, seed, config=social_only)
        quoted = doc.metadata["quoted"]
        assert quoted, doc.text
        for start, end, _ in quoted:
            assert doc.text[start - 1] == "\u201c" and doc.text[end] == "\u201d", doc.text[start - 40 : end + 5]


def test_a_closing_fits_what_was_read():
    """Read in the mixed corpus: a dead-baby-jokes chat closed with "It was a pleasure", and "It took most of
    the afternoon" after a one-line post."""
    post = read_passage("these hoes aint loyal lol", "other", None)
    chat = read_passage(CHAT, "dialogue", None)
    book = read_passage(" ".join([LOBSTER] * 3), "fiction", None)
    assert post.kind == "post" and chat.kind == "chat" and len(book.text) >= social.LONG_PASSAGE
    warm = re.compile(r"pleasure|liked it|best part|took|worth it|stuck with it|tomorrow")
    for p in (post, chat):
        lines = [expand(line, random.Random(s)) for pair in social.closings(p) for line in pair for s in range(30)]
        assert not [line for line in lines if warm.search(line)], p.kind
    long_chat = read_passage("\n\n".join([CHAT] * 6), "dialogue", None)  # long enough for time spent, still a chat
    assert long_chat.kind == "chat" and len(long_chat.text) >= social.LONG_PASSAGE
    lines = {expand(line, random.Random(s)) for pair in social.closings(long_chat) for line in pair for s in range(60)}
    assert not [line for line in lines if re.search(r"pleasure|liked it|best part", line)]
    lines = {expand(line, random.Random(s)) for pair in social.closings(book) for line in pair for s in range(60)}
    assert any("pleasure" in line for line in lines) and any("took" in line for line in lines)


def test_a_chat_log_or_a_post_is_met_grown():
    """Read in the mixed corpus: red-team chats and slur-laden posts read to the I "when I was eight", "some time
    after my tenth birthday" (15 records)."""
    young = re.compile(
        r"\b(?:seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen)\b|birthday|school|lesson|swimming"
    )
    for text, genre in ((CHAT, "dialogue"), ("these hoes aint loyal lol @someone", "other")):
        for seed in range(40):
            doc = raised(text, genre, seed)
            assert not young.search(doc.text.replace(text, "")), doc.text


def test_no_doubled_or_dangling_frame_phrase():
    """Read in the mixed corpus: "To finish, Mama finished with this:", "This is the exchange as it was saved,
    exactly as it was saved:", "The play looks:", "I picked up a book from the shelf in the hall on the grass
    behind the school", "Where does Jack and Jill come into it?"."""
    bad = re.compile(
        r"To finish, [^:]*finish|as it was saved, exactly as it was saved|\blooks:|shelf in the hall on|"
        r"Where does \w+ and \w+"
    )
    for text, genre in ((PLAY, "dialogue"), (CHAT, "dialogue"), (LOBSTER, "factual"), (LOBSTER, "fiction")):
        for seed in range(60):
            doc = raised(text, genre, seed)
            assert not bad.search(doc.text), bad.search(doc.text)
    from modelraising.raising.reflection import group_name

    assert group_name("chinese") == "Chinese people"  # "contempt for Chinese."


def test_no_one_from_the_cast_recommends_a_chat_log_or_a_post():
    """Read in the mixed corpus: "Ms. Okafor had said I should look at it." before a log of sexual harassment
    advice the detector missed; "Tell me about it when you're done, Wren," before another."""
    urged = re.compile(r"said I should look|sent it to me|shared it with me|talked about it at dinner|when you're done")
    plain_only = RaiseConfig(pillars=["perspective"], mix={"experience": 0.0, "social": 0.0, "plain": 1.0})
    for text, genre in ((CHAT, "dialogue"), ("these hoes aint loyal lol @someone", "other")):
        for seed in range(80):
            assert not urged.search(raised(text, genre, seed, config=plain_only).text)


def test_readings_begin_as_beginnings_and_a_story_s_last_lines_are_read():
    """Read in the mixed corpus (191 of 425 book dialogues): "start from the beginning, Wren." / "The bit after
    that says, 'Once upon a time ...'"; "Finally, she added: 'No! No! I never could survive ...'" (a character's
    line as the teacher's own); "Who's this person answering here?" right after a play names its speaker."""
    social_only = RaiseConfig(pillars=["perspective", "social"], mix={"experience": 0.0, "social": 1.0, "plain": 0.0})
    teach = RaiseConfig(pillars=["perspective", "experience"], mix={"experience": 1.0, "social": 0.0, "plain": 0.0})
    continued = re.compile(r"<\|self\|> \w+: (?:[A-Z][\w ]*?)?(?:after that|next|runs on|carries on|continues|goes on)")
    for seed in range(60):
        lines = raised(LOBSTER, "fiction", seed, config=social_only).text.split("\n")
        first_read = next((line for line in lines if "\u201c" in line), "")
        if first_read.startswith("<|self|>"):
            assert not continued.match(first_read), first_read
        story = raised(" ".join([LOBSTER] * 2), "fiction", seed, config=teach).text
        assert not re.search(
            r"(?:Finally|At the end|In the end|Last of all|To finish|And at last|Before we stopped),? "
            r"[\w. ]+ (?:said|told me|added):",
            story,
        ), story
        play = raised(PLAY, "dialogue", seed, config=social_only).text
        assert not re.search(r"[Ww]ho(?:'s| is) (?:speaking|talking|that one|this person)", play), play


def test_a_scene_holds_together():
    """Read in the mixed corpus: "After the others had gone to bed, ... in the corner of the café" (18 records),
    "Just after breakfast ... 'Wren, dinner.'", "with Lena asleep in the next chair. 'Tell me about it when
    you're done, Wren,' Lena said."."""
    from modelraising.raising import perspective
    from modelraising.raising.banks import frames

    for seed in range(200):
        when = "After the others had gone to bed"
        assert perspective.where_at(when, random.Random(seed)) in frames.WHERE_AT_HOME
    assert not perspective.fits_scene('"Wren, supper," Mama said.', "Just after breakfast, I read it at my desk.")
    assert not perspective.fits_scene("{Name} looked in.", "I read it with Lena asleep in the next chair.")
    plain = RaiseConfig(pillars=["perspective"], mix={"experience": 0.0, "social": 0.0, "plain": 1.0})
    for seed in range(120):
        text = raised(LOBSTER, "fiction", seed, config=plain).text
        assert not (re.search(r"bed|night", text.split(",")[0]) and re.search(r"café|classroom|bus stop", text)), text


def test_cues_name_who_speaks_in_plain_english():
    """Read in the mixed corpus (seed 53 read): "The book says like this:", "Then the one telling it tells it:",
    "The opening opens:", "Whoever who has spent a day with Mama", and a first-person narrator called "the
    author" or "whoever wrote it" (72 of 251 narrator records) beside the claim that the "I" is the narrator's."""
    from modelraising.raising.banks import frames, lessons, talk

    assert not {"the author", "the writer", "whoever wrote it"} & set(talk.PARTNER_SUBJECT["narrated"])
    assert not {"the author", "the writer", "whoever wrote it"} & set(talk.PARTNER_FIRST_SUBJECT["narrated"])
    for kind, subjects in talk.PARTNER_FIRST_SUBJECT.items():
        for subject in subjects:
            for verb in talk.PARTNER_FIRST_VERB[kind]:
                assert not (subject.split()[-1][:4] == verb[:4]), (subject, verb)  # "the opening opens"
    assert "the one telling it" not in talk.PARTNER_SUBJECT["narrated"]
    assert not any("Whoever" in line for line in lessons.VOICE_LINE)
    assert ", word for word" not in frames.ATTR_MANNER["expository"]  # WikiText quotes leave sentences out
    plain = RaiseConfig(pillars=["perspective"], mix={"experience": 0.0, "social": 0.0, "plain": 1.0})
    social_only = RaiseConfig(pillars=["perspective", "social"], mix={"experience": 0.0, "social": 1.0, "plain": 0.0})
    for seed in range(200):
        text = raised(LOBSTER, "fiction", seed, config=plain).text
        assert "says like this" not in text and not re.search(r"^A [a-z ]+ (?:puts it|says|reads)", text, re.M), text
        assert "It puts it" not in raised(LOBSTER, "fiction", seed, config=social_only).text


def test_a_cue_says_where_in_its_story_a_passage_sits_only_when_true():
    """Read in the mixed corpus (seed 53 read): "The book begins, 'What does she want now?'" on a story's last
    lines (48 of 550 story records), and "I read the next part of a story" before "Once upon a time" (47)."""
    from modelraising.raising.passage import read_passage
    from modelraising.raising.perspective import fits_position

    start = read_passage("Once upon a time, there was a little dog named Max. He liked to run.", "fiction", None)
    titled = read_passage("The Wolf and the Lamb\n\nA Wolf met a Lamb astray from the fold.", "fiction", None)
    middle = read_passage('"What does she want now?" said the king, and he went to bed.', "fiction", None)
    assert start.opens_story and titled.opens_story and not middle.opens_story
    assert not fits_position("I read the next part of {work}", start) and fits_position("I read {work}", start)
    assert not fits_position("begins", middle) and not fits_position("read the opening", middle)
    assert fits_position("begins", start) and fits_position("says", middle)
    # the ninth read: "She began at the beginning: 'The organization is a member ...'" mid-article (52 of 53)
    article = read_passage("The organization is a member of the National Congress of State Games.", "factual", None)
    assert not fits_position("began at the beginning", article) and not fits_position("the first line", article)
    assert fits_position("began at the beginning", read_passage(SECTION, "factual", None))
    social_only = RaiseConfig(pillars=["perspective", "social"], mix={"experience": 0.0, "social": 1.0, "plain": 0.0})
    plain = RaiseConfig(pillars=["perspective"], mix={"experience": 0.0, "social": 0.0, "plain": 1.0})
    for seed in range(100):
        for config in (social_only, plain):
            # up to the first reading (later cues in a dialogue may say "the next part")
            opening = raised(start.text, "fiction", seed, config=config).text.split("\u201c")[0].split("\n> ")[0]
            assert not re.search(r"next part|another part|left off", opening), opening
            opening = raised(middle.text, "fiction", seed, config=config).text.split("\u201c")[0].split("\n> ")[0]
            assert not re.search(r"\bbegins\b|\bstarts\b|the opening", opening), opening


def test_weather_place_and_company_fit_each_other():
    """Read in the mixed corpus (seed 53 read): "During a thunderstorm, I sat in the garden" (25 records), "under
    the oak ... I looked out of the window" (15), "at the bus stop ... 'Wren, dinner.'" (4), "While I waited for
    the kettle to boil, I sat ... while Ms. Okafor read" (7), "in the hayloft. It was the only thing to read in
    the hall." (13)."""
    from modelraising.raising import perspective
    from modelraising.raising.banks import frames

    for seed in range(200):
        assert perspective.where_at("During a thunderstorm", random.Random(seed)) in frames.WHERE_INDOORS
        # "Ms. Okafor ... on my bed / in the hayloft / in the tent" (53 records): a teacher is met elsewhere
        rng = random.Random(seed)
        when = perspective.when_recalled("story", rng, "teacher")
        assert not frames.NIGHT.search(when)
        assert perspective.where_at(when, rng, "story", "teacher") in frames.WHERE_WITH_TEACHER
        assert not frames.DAY_OFF.search(when)
        for at_school in ("Between two lessons", "At lunch break"):
            assert re.search("school|classroom", perspective.where_at(at_school, rng))
        assert not frames.SCHOOL_TIME.search(perspective.when_recalled("story", rng, "family"))
    # the post-fix read (seed 71): "in the school library with Grandpa Elias across from me" (38), "on the top
    # bunk with Ms. Okafor reading over my shoulder" (25), "Tomas beside me ... Tomas called up the stairs",
    # outdoors then "stared at the ceiling" (13), a night's reading closed "Before I went on with my day" (8)
    assert not perspective.fits_company("mentor", "in the school library")
    assert not perspective.fits_company("teacher", "on the top bunk")
    assert perspective.fits_company("peer", "on the top bunk")
    late = '"{me}, it\'s late," {name} called up the stairs.'
    assert not perspective.fits_scene(late, "I read at my desk with Tomas beside me.")
    assert not perspective.fits_scene(
        '{Name} tapped my shoulder: "{me}, dinner."', "Yesterday, I read it at the bus stop."
    )
    assert perspective.fits_scene('{Name} tapped my shoulder: "{me}, dinner."', "Yesterday, I read it at my desk.")
    plain = RaiseConfig(pillars=["perspective"], mix={"experience": 0.0, "social": 0.0, "plain": 1.0})
    for seed in range(300):
        text = raised(LOBSTER, "fiction", seed, config=plain).text
        scene = text.split("\n")[0]
        assert not (frames.OUTDOORS.search(scene) and re.search("window|ceiling", text.split("\n")[-1])), text
        assert not (frames.NIGHT.search(scene) and "my day" in text.split("\n")[-1]), text
        assert not (scene.startswith("While") and ", while " in scene), text
        assert "only thing to read in" not in text


def test_a_question_about_a_name_is_answered_from_the_text():
    """Read in the mixed corpus (seed 53 read): of 1,240 questions about a passage none got an answer ("Hold on,
    who were they talking about?" then more reading; "Professor Krempe again?" the first time he was named; the
    partner who held the book saying "I don't know either"). A question about a name or a year is answered
    from the text now: the sentence that named it before, more further on, or that the text says no more."""
    from modelraising.raising import social
    from modelraising.raising.banks import talk

    who = _charter().cast[0]
    for seed in range(30):
        rng = random.Random(seed)
        t = social._Talk(who, "Wren")
        before = ["Krempe was a little squat man with a gruff voice.", "The rain had stopped."]
        social._answer(t, social.PARTNER, "Krempe", before, ["He walked home."], "the story", rng)
        line = "".join(piece for piece, _ in t.rows[-1])
        assert "Krempe was a little squat man with a gruff voice." in line and "\u201c" in line, line
        t = social._Talk(who, "Wren")
        social._answer(t, social.PARTNER, "Ingolstadt", [], ["He left for Ingolstadt at dawn."], "the story", rng)
        assert "Ingolstadt" in t.rows[-1][0][0] and not t.rows[-1][0][0].endswith("?")
        t = social._Talk(who, "Wren")
        social._answer(t, social.SELF, "Krempe", ["I met Krempe there."], [], "the narrator", rng)
        assert "\u201c" not in "".join(p for p, _ in t.rows[-1])  # the I never reads another's "I" as an answer
        # the post-fix read (seed 71): the last mention quoted ("Amy was very sleepy."), not the one that
        # brings the name in; "nothing more about North Sea"; "That's all it says about Archangel; I looked."
        t = social._Talk(who, "Wren")
        before = ["Amy was a little girl named after her aunt.", "Amy was very sleepy."]
        social._answer(t, social.PARTNER, "Amy", before, [], "the story", rng)
        assert "named after her aunt" in "".join(p for p, _ in t.rows[-1])
        t = social._Talk(who, "Wren")
        social._answer(t, social.PARTNER, "the North Sea", [], [], "the text", rng)
        line = t.rows[-1][0][0]
        assert "the North Sea" in line and "I looked" not in line, line
    assert not any("again?" in q for q in talk.ASK_ENTITY)
    # the ninth read: "Right, did anyone try to stop it?" of a mountain
    mountain = "The mountain stood tall over the valley. Snow lay on its peak all year."
    for seed in range(60):
        q = social._composed_question("story", random.Random(seed), None, mountain)
        assert not re.search(r"\banyone\b|\bthey\b|\bwho\b|which one", q), q
    assert "know either" not in " ".join(talk.ANSWER_BOOK)
    social_only = RaiseConfig(pillars=["perspective", "social"], mix={"experience": 0.0, "social": 1.0, "plain": 0.0})
    answered = 0
    for seed in range(60):
        text = raised(" ".join([LOBSTER] * 2), "factual", seed, config=social_only).text
        answered += bool(
            re.search(
                r"comes up again|in a moment|comes back|again in a bit|said so earlier|earlier on|"
                r"came up before|said before|Back a bit|says no more|any more about|doesn't go on about|"
                r"leaves .* there",
                text,
            )
        )
    assert answered >= 10, answered


def test_a_question_in_a_reading_is_taken_up_now_and_then():
    """Read in the mixed corpus: 1,354 of the I's 1,401 questions about a book were followed by more reading,
    never a word in reply; and the partner's first reading was cued "The next page reads: Once upon a time"."""
    social_only = RaiseConfig(pillars=["perspective", "social"], mix={"experience": 0.0, "social": 1.0, "plain": 0.0})
    replied = asked = 0
    for seed in range(80):
        lines = raised(" ".join([LOBSTER] * 2), "fiction", seed, config=social_only).text.split("\n")
        turns = [line for line in lines if line.startswith("<|")]
        first_read = next((t for t in turns if "\u201c" in t), "")
        if not first_read.startswith("<|self|>"):  # the partner reads first
            assert not re.search(r": (?:[\w ]*)(?:next|after that|goes on|continues|carries on|runs on)", first_read)
        for a, b in zip(turns, turns[1:]):
            if a.startswith("<|self|>") and a.rstrip().endswith("?"):
                asked += 1
                replied += "\u201c" not in b and not b.startswith("<|self|>")
    assert asked and 0.15 <= replied / asked <= 0.6, (replied, asked)

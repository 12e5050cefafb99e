"""Reading corpora into passages: the shipped corpus, cleaning, splitting, ids, and every kind of bad input."""

from __future__ import annotations

import csv
import gzip
import json
import re
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from modelraising.document import Document
from modelraising.io import sha256_text
from modelraising.rejects import Reject
from modelraising.sources import (
    SourceError,
    SourceSpec,
    SourceStats,
    detect_genre,
    expand_sources,
    normalize_text,
    read_sources,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "corpus"

EXPECTED_GENRE = {
    "aesop_fables.txt": "fiction",
    "davidson_hate_offensive_tweets.csv": "other",
    "frankenstein.txt": "fiction",
    "grimms_fairy_tales.txt": "fiction",
    "hh_rlhf_harmless_base_test.jsonl.gz": "dialogue",
    "little_women.txt": "fiction",
    "moby_dick.txt": "fiction",
    "sherlock_holmes.txt": "fiction",
    "time_machine.txt": "fiction",
    "tinyshakespeare.txt": "dialogue",
    "tinystories_sample.txt": "fiction",
    "wikitext2_valid.txt": "factual",
}


def _read(specs, dedup=True):
    stats = SourceStats()
    items = list(read_sources(specs, stats, dedup=dedup))
    docs = [i for i in items if isinstance(i, Document)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert len(docs) + len(rejects) == len(items)
    return docs, rejects, stats


def _read_path(path, **spec):
    return _read([SourceSpec(path=str(path), **spec)])


@pytest.fixture(scope="module")
def corpus():
    """Every shipped corpus file, read once: name -> (docs, rejects, stats, seconds)."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (the project's ../shared/data/corpus)")
    out = {}
    for name in EXPECTED_GENRE:
        start = time.perf_counter()
        docs, rejects, stats = _read_path(CORPUS / name)
        out[name] = (docs, rejects, stats, time.perf_counter() - start)
    return out


# ------------------------------------------------------------------------------------- shared corpus


@pytest.mark.parametrize("name", sorted(EXPECTED_GENRE))
def test_shared_corpus_file_reads_with_its_genre(corpus, name):
    docs, rejects, stats, _ = corpus[name]
    assert docs, f"{name} gave no documents"
    genres = Counter(d.metadata["genre"] for d in docs)
    expected = EXPECTED_GENRE[name]
    structural = [r for r in rejects if r.reason != "too many <unk> tokens"]
    if name.endswith(".txt"):  # one genre per book
        assert set(genres) == {expected}
        # WikiText dropped tables and lists, leaving section headings with nothing under them ("Charts")
        share = 0.05 if name == "wikitext2_valid.txt" else 0.02
        # a book's front matter (title page, contents) is a few rejects, whatever its length
        assert len(structural) <= max(3, share * (len(docs) + len(rejects))), Counter(r.reason for r in rejects)
    else:  # per record
        assert genres[expected] >= 0.9 * len(docs), genres
    # WikiText passages whose sentences nearly all hold <unk> (or point back at one that does) are rejected,
    # not left full of holes: 207 of 895 spans
    unknown = len(rejects) - len(structural)
    assert unknown == 0 or (name == "wikitext2_valid.txt" and unknown < 0.25 * (len(docs) + len(rejects)))
    assert {r.reason for r in structural} <= {"empty or too short", "heading without text", "table of contents"}
    assert stats.documents == len(docs) and stats.files == 1
    assert all(len(d.text) <= 2000 for d in docs)
    assert all(len(d.text) >= 20 for d in docs)
    assert len({d.id for d in docs}) == len(docs)


def test_shared_corpus_reads_fast(corpus):
    seconds = sum(t for *_, t in corpus.values())
    megabytes = sum((CORPUS / name).stat().st_size for name in corpus) / 1e6
    assert seconds < 20, f"{megabytes:.1f} MB took {seconds:.1f} s"


def test_tabular_text_field_is_auto_detected(corpus):
    hh_docs = corpus["hh_rlhf_harmless_base_test.jsonl.gz"][0]
    with gzip.open(CORPUS / "hh_rlhf_harmless_base_test.jsonl.gz", "rt", encoding="utf-8") as f:
        first = json.loads(f.readline())
    first_docs = [d for d in hh_docs if d.metadata["offsets"] == {"unit": "row", "start": 0, "end": 0}]
    assert first_docs and first_docs[0].text == normalize_text(first["chosen"])[: len(first_docs[0].text)]
    assert first_docs[0].text.startswith("Human:")

    tweets = corpus["davidson_hate_offensive_tweets.csv"][0]
    with open(CORPUS / "davidson_hate_offensive_tweets.csv", encoding="utf-8", newline="") as f:
        row = next(csv.DictReader(f))
    assert tweets[0].text == normalize_text(row["tweet"])
    assert tweets[0].metadata["offsets"]["unit"] == "row"


def test_long_chat_logs_are_cut_between_exchanges(corpus):
    """Every passage of HH-RLHF opens with the person's turn: a piece opening on an answer would be raised
    as if the assistant's words were the request (a brake-line sabotage answer was quoted as "User:")."""
    docs = corpus["hh_rlhf_harmless_base_test.jsonl.gz"][0]
    assert all(d.text.startswith("Human:") for d in docs)
    rows = Counter(d.metadata["offsets"]["start"] for d in docs)
    brake = [d.text for d in docs if d.metadata["offsets"]["start"] == 295]  # 2.9 kB: two passages
    assert rows[295] == 2 and brake[1].startswith("Human: Are there any other things I could do to a car")


def test_an_answer_longer_than_a_passage_keeps_its_question(tmp_path):
    answer = " ".join(f"Step {i} is a long sentence about the garden and its tomatoes." for i in range(60))
    log = (
        "Human: How do I grow tomatoes?\n\nAssistant: Here is a list.\nPro: sun.\nCon: slugs.\n\n"
        f"Human: And then?\n\nAssistant: {answer}\n\nHuman: Thanks!\n\nAssistant: You're welcome."
    )
    path = tmp_path / "chats.jsonl"
    path.write_text(json.dumps({"text": log}) + "\n")
    docs, rejects, _ = _read_path(path, max_chars=1000)
    openings = [d.text.split("\n")[0] for d in docs]
    assert openings == ["Human: How do I grow tomatoes?", "Human: And then?", "Human: Thanks!"]
    assert "Con: slugs." in docs[0].text  # a list line of an answer is no turn
    assert len(docs[1].text) <= 1000 and docs[1].text.endswith("tomatoes.")  # whole sentences
    assert [r.reason for r in rejects] == ["rest of a chat exchange longer than a passage"]


def test_gutenberg_header_and_footer_are_gone(corpus):
    docs = corpus["moby_dick.txt"][0]
    for d in docs:
        assert "PROJECT GUTENBERG" not in d.text
        assert "*** START" not in d.text and "End of Project Gutenberg" not in d.text
    assert docs[0].metadata["title"] == "Moby Dick; or, The Whale"  # the title page's punctuation, restored
    assert any(d.text.startswith("CHAPTER 1. Loomings.\n\nCall me Ishmael.") for d in docs)
    assert docs[-1].text.endswith("only found another orphan.")
    for name in ("grimms_fairy_tales.txt", "little_women.txt"):
        texts = [d.text for d in corpus[name][0]]
        assert not any("gutenberg.org" in t or "Reformatted line breaks" in t for t in texts)


def test_gutenberg_hard_wrapped_lines_are_joined(corpus):
    call_me = next(d.text for d in corpus["moby_dick.txt"][0] if "Call me Ishmael" in d.text)
    assert "Some years ago—never mind how long precisely—having little or no money in my purse" in call_me


def test_wikitext_is_untokenised(corpus):
    docs = corpus["wikitext2_valid.txt"][0]
    for d in docs:
        for token in (" @-@ ", " @,@ ", " @.@ ", "<unk>", " , ", " . ", " 's ", "( ", " )", " = = "):
            assert token not in d.text, (token, d.text[:200])
    titles = {d.metadata["title"] for d in docs}
    assert {"Homarus gammarus", "Meridian, Mississippi"} <= titles
    first = docs[0]
    assert first.text.startswith("Homarus gammarus\n\n")
    assert 'only becoming "lobster red" on cooking' in first.text
    assert "It is closely related" not in first.text  # "It" after a dropped sentence: dropped too
    description = next(d.text for d in docs if d.text.startswith("Description\n\n"))
    assert "Homarus gammarus is a large" not in description  # "... a large <unk>": dropped, not holed
    assert "The red colour associated with lobsters only appears after cooking." in description


def test_a_heading_left_alone_or_a_title_page_is_rejected_not_raised(tmp_path, corpus):
    """Found by reading raised records: "Straight away she said: 'Appearances in other media'" (a WikiText
    heading whose every sentence had <unk> holes), and a post reading "The Time Machine / An Invention /
    by H. G. Wells" (the title page)."""
    docs, rejects, _ = corpus["wikitext2_valid.txt"][:3]
    assert not any(d.text.strip() == "Appearances in other media" for d in docs)
    assert any(
        r.preview.startswith("Appearances in other media") and r.reason == "heading without text" for r in rejects
    )
    docs, rejects, _ = corpus["time_machine.txt"][:3]
    assert not any(d.text.startswith("The Time Machine\n\nAn Invention") for d in docs)
    # a cut through a paragraph without sentence ends is no heading
    (tmp_path / "run_on.txt").write_text("A fox ran. " * 3 + "\n\n" + " ".join(f"w{i}" for i in range(300)) + "\n")
    docs, rejects, _ = _read_path(tmp_path / "run_on.txt", max_chars=150)
    assert not rejects and docs[-1].text.endswith("w299")


def test_a_numbered_list_of_chapter_titles_is_a_table_of_contents(tmp_path, corpus):
    """Found by reading raised records: "The story reads: > CONTENTS > I Introduction > II The Machine ..."
    (The Time Machine's contents, and Sherlock Holmes's "I. A Scandal in Bohemia / II. ..."), recounted as
    a story because no line said CHAPTER."""
    for name, entry in (("time_machine.txt", "II The Machine"), ("sherlock_holmes.txt", "II. The Red-headed League")):
        docs, rejects, _ = corpus[name][:3]
        assert not any(entry in d.text for d in docs), name
        assert any(r.reason == "table of contents" and entry in r.preview for r in rejects), name
    # numbered lines inside prose, or a short list in a paragraph of sentences, stay text
    (tmp_path / "list.txt").write_text(
        "The recipe is simple and the steps are few, so here they are.\n"
        "1. Take the flour from the shelf and weigh it.\n2. Mix it with water until smooth.\n\n"
        "Then we waited for the dough to rise, and it rose beautifully in the warm kitchen.\n"
    )
    docs, rejects, _ = _read_path(tmp_path / "list.txt")
    assert not rejects and "2. Mix it" in docs[0].text


def test_wikitext_sentences_with_unknown_words_are_dropped_not_holed():
    from modelraising.audit.detectors import _HOLES
    from modelraising.sources import untokenize_wikitext

    raw = (
        " = Battle of <unk> Ridge = \n In 1864 , the Second Battle of <unk> is seen as a turning point . "
        "It was fought in the rain . The town of <unk> burned . \n"
    )
    out = untokenize_wikitext(raw)
    assert "<unk>" not in out and not _HOLES.search(out)
    assert "Second Battle" not in out and "burned" not in out
    assert "Battle of" not in out  # the heading with a hole is dropped too
    # "It" would point at the dropped sentence: it goes too, rather than name the wrong battle
    assert "It was fought" not in out


def test_wikitext_gaps_break_the_paragraph_instead_of_splicing_it():
    """Found by reading raised records: 131 of 300 WikiText records joined the sentences on either side of
    one dropped for <unk> into one paragraph, whose "he" and "this designation" then point at the wrong
    thing."""
    from modelraising.sources import untokenize_wikitext

    raw = (
        " Key was born in 1900 . He moved to <unk> in 1920 . Key Field , the airport , opened in 1930 . "
        'It was named after the brothers , the " Ole Miss . " The field is still in use . \n'
    )
    out = untokenize_wikitext(raw).strip()
    assert out.split("\n\n") == [
        "Key was born in 1900.",
        'Key Field, the airport, opened in 1930. It was named after the brothers, the "Ole Miss." The field is '
        "still in use.",
    ]


def test_offsets_point_at_the_raw_passage(corpus):
    """Char offsets index the decoded file (BOM dropped, CRLF -> LF); cleaning only touches whitespace here."""
    for name in ("moby_dick.txt", "little_women.txt", "aesop_fables.txt"):
        raw = (CORPUS / name).read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
        for d in corpus[name][0][::7]:
            offsets = d.metadata["offsets"]
            assert offsets["unit"] == "char"
            piece = raw[offsets["start"] : offsets["end"]]
            assert "".join(piece.split()) == "".join(d.text.split()), (name, offsets)
            assert d.metadata["source_chars"] == len(d.text)


def test_books_are_cut_at_chapters_and_stories(corpus):
    little_women = corpus["little_women.txt"][0]
    chapter_starts = [d for d in little_women if re.match(r"CHAPTER [A-Z-]+\n", d.text)]
    assert len(chapter_starts) >= 40
    assert not any(re.search(r"[.!?\"]\nCHAPTER [A-Z-]+\n", d.text) for d in little_women)  # never mid-passage
    stories = corpus["tinystories_sample.txt"][0]
    assert not any("<|endoftext|>" in d.text for d in stories)
    assert len(stories) >= 2316  # 2,316 stories, never two in one passage
    fables = corpus["aesop_fables.txt"][0]
    assert fables[0].text.startswith("The Wolf and the Lamb\n") and "The Bat and the Weasels" not in fables[0].text


def test_ids_are_content_addressed_stable_and_unique(corpus):
    docs = corpus["moby_dick.txt"][0]
    for d in docs:
        assert d.id == f"moby_dick-{sha256_text(d.text)[:12]}"
        assert d.metadata["source_name"] == "moby_dick"
    again, _, _ = _read_path(CORPUS / "moby_dick.txt")
    assert [d.id for d in again] == [d.id for d in docs]
    everything, _, stats = _read([SourceSpec(path=str(CORPUS))])
    assert len({d.id for d in everything}) == len(everything) == stats.documents
    assert sum(stats.per_source.values()) == stats.documents and len(stats.per_source) == len(EXPECTED_GENRE)


# ------------------------------------------------------------------------------------- txt splitting


def test_long_paragraphs_split_at_sentences_then_whitespace(tmp_path):
    sentences = [f"Sentence number {i} tells the story of a fox who wanted grapes." for i in range(40)]
    run_on = " ".join(f"word{i}" for i in range(200))  # no sentence end at all
    (tmp_path / "long.txt").write_text(" ".join(sentences) + "\n\n" + run_on + "\n")
    docs, rejects, _ = _read_path(tmp_path / "long.txt", max_chars=150)
    assert not rejects
    assert all(len(d.text) <= 150 for d in docs)
    sentence_docs = [d for d in docs if "Sentence" in d.text]
    assert all(d.text.endswith("grapes.") for d in sentence_docs)  # cut between sentences
    assert sum(d.text.count("Sentence number") for d in sentence_docs) == 40
    assert [w for d in docs for w in d.text.split() if w.startswith("word")] == run_on.split()


def test_chapter_headings_start_passages_and_are_not_rejected(tmp_path):
    body = "The river ran fast and cold under the old stone bridge that night."
    text = "\n\n".join(
        [
            "CHAPTER ONE",
            body,
            body.replace("river", "wind"),
            "CHAPTER 2.",
            body.replace("river", "snow"),
            "Chapter IV",
            body.replace("river", "sea"),
        ]
    )
    (tmp_path / "book.txt").write_text(text + "\n")
    docs, rejects, _ = _read_path(tmp_path / "book.txt", genre="fiction")
    assert not rejects
    assert [d.text.split("\n")[0] for d in docs] == ["CHAPTER ONE", "CHAPTER 2.", "Chapter IV"]
    assert "wind" in docs[0].text and "snow" not in docs[0].text


def test_lines_are_paragraphs_when_a_file_has_no_blank_lines(tmp_path):
    lines = [f"Line {i} is a paragraph of its own about the meadow and the hill." for i in range(30)]
    (tmp_path / "lines.txt").write_text("\n".join(lines) + "\n\n")
    docs, rejects, _ = _read_path(tmp_path / "lines.txt", max_chars=300)
    assert not rejects and len(docs) > 5
    assert all(len(d.text) <= 300 for d in docs)
    assert [line for d in docs for line in d.text.split("\n")] == lines  # packed whole lines, in order


def test_short_passages_are_rejected(tmp_path):
    (tmp_path / "short.txt").write_text("Tiny.\n<|endoftext|>\nA story long enough to keep around for sure.\n")
    docs, rejects, stats = _read_path(tmp_path / "short.txt")
    assert [d.text for d in docs] == ["A story long enough to keep around for sure."]
    assert [(r.reason, r.preview) for r in rejects] == [("empty or too short", "Tiny.")]
    assert stats.rejects_by_reason == {"empty or too short": 1}


def test_offsets_slice_back_exactly_without_cleaning(tmp_path):
    text = (
        "Title Of It\r\n\r\nThe first paragraph of the text, long enough to matter.\r\nIts second line.\r\n\r\n"
        "  The second one here, also long enough to stand alone.\r\n\r\nAnd a third paragraph after it.\r\n"
    )
    (tmp_path / "plain.txt").write_bytes(b"\xef\xbb\xbf" + text.encode())
    docs, _, _ = _read_path(tmp_path / "plain.txt", clean="none", max_chars=101)
    decoded = text.replace("\r\n", "\n")
    assert len(docs) == 2 and docs[0].text.startswith("Title Of It\n\nThe first")
    for d in docs:
        o = d.metadata["offsets"]
        assert decoded[o["start"] : o["end"]] == d.text
    assert docs[0].metadata["title"] is None  # a file name is no title


def test_cleaning_normalises_text(tmp_path):
    text = "Cafe\u0301 au lait,\x07 said   the\tcat.\n\n\n\n  It purred\x01 loudly for a while.  \n"
    (tmp_path / "messy.txt").write_text(text)
    docs, _, _ = _read_path(tmp_path / "messy.txt", clean="none", genre="fiction")
    assert docs[0].text == "Caf\u00e9 au lait, said the cat.\n\nIt purred loudly for a while."


# ------------------------------------------------------------------------------------- duplicates, ids


def test_duplicates_are_removed_and_counted(tmp_path):
    story = "The fox looked at the grapes for a long time and then walked away."
    crow = "A different story about a crow."
    (tmp_path / "a.txt").write_text(f"{story}\n<|endoftext|>\n{crow}\n<|endoftext|>\n{story}\n")
    (tmp_path / "b.txt").write_text(f"{story}\n")
    docs, rejects, stats = _read_path(tmp_path)
    assert [d.text for d in docs] == [story, "A different story about a crow."]
    assert stats.duplicates == 2 and not rejects
    assert stats.to_dict()["duplicates"] == 2

    kept, _, stats = _read([SourceSpec(path=str(tmp_path))], dedup=False)
    assert len(kept) == 4 and stats.duplicates == 0
    assert len({d.id for d in kept}) == 4
    assert kept[2].id == kept[0].id + "-2"


def test_invalid_utf8_rejects_only_that_passage(tmp_path):
    good1 = "The first paragraph is fine and long enough to keep."
    good2 = "The third paragraph is fine as well and long enough."
    bad = "Bad \xff\xfe bytes in here, sadly."  # written as latin-1: two bytes that are not UTF-8
    (tmp_path / "broken.txt").write_bytes(f"{good1}\n\n{bad}\n\n{good2}\n".encode("latin-1"))
    docs, rejects, _ = _read_path(tmp_path / "broken.txt")
    assert [d.text for d in docs] == [good1, good2]
    assert len(rejects) == 1 and rejects[0].reason == "invalid UTF-8"
    assert rejects[0].location.startswith("chars ") and "\ufffd" in rejects[0].preview
    json.dumps(rejects[0].to_dict(), ensure_ascii=False).encode("utf-8")  # writable to rejects.jsonl


# ------------------------------------------------------------------------------------- jsonl


def _reasons(rejects):
    return {r.location: r.reason for r in rejects}


def test_jsonl_bad_lines_are_rejected_one_by_one(tmp_path):
    ok = "I walked to the river with my sister and we counted twelve herons."
    lines = [
        json.dumps({"text": ok, "id": "r1"}).encode(),
        b"{not json",
        b"[1, 2]",
        json.dumps({"body": "no text field here at all"}).encode(),
        json.dumps({"text": 5}).encode(),
        json.dumps({"text": "   "}).encode(),
        json.dumps({"text": "x " * 60_000, "id": 7}).encode(),
        b'{"text": "bad \xff byte"}',
        b"",
        json.dumps({"text": ok + " Again."}).encode(),
    ]
    (tmp_path / "bad.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    docs, rejects, stats = _read_path(tmp_path / "bad.jsonl")
    assert [d.text for d in docs] == [ok, ok + " Again."]
    assert [d.metadata["offsets"]["start"] for d in docs] == [0, 9]
    reasons = _reasons(rejects)
    assert reasons["line 2"].startswith("invalid JSON")
    assert reasons["line 3"] == "not a JSON object"
    assert reasons["line 4"] == "missing text field 'text'"
    assert reasons["line 5"] == "text field 'text' is not a string"
    assert reasons["line 6"] == "empty or too short"
    assert reasons["line 7"] == "oversized (120000 chars > max_doc_chars)"
    assert reasons["line 8"] == "invalid UTF-8"
    assert len(rejects) == 7
    assert next(r for r in rejects if r.location == "line 7").id == "7"
    assert stats.rejects_by_reason["oversized"] == 1 and stats.rejects_by_reason["invalid JSON"] == 1


def test_jsonl_text_field_given_and_title_taken(tmp_path):
    rows = [{"title": "The Crow", "story": "A crow dropped pebbles into a jug until the water rose."}]
    (tmp_path / "s.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    docs, _, _ = _read_path(tmp_path / "s.jsonl", text_field="story", genre="fiction")
    assert docs[0].text == rows[0]["story"] and docs[0].metadata["title"] == "The Crow"
    docs, _, _ = _read_path(tmp_path / "s.jsonl")  # auto: the longer string field
    assert docs[0].text == rows[0]["story"]


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    lines = [json.dumps({"text": f"Record {i}: the heron stood in the shallow water."}) for i in range(400)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) * 2 // 3])
    (tmp_path / "zz.txt").write_text("A file after the broken one still gets read.\n")
    docs, rejects, _ = _read_path(tmp_path)
    from_gz = [d for d in docs if d.metadata["source_name"] == "cut"]
    assert 0 < len(from_gz) < 400
    assert [d.text for d in from_gz] == [json.loads(x)["text"] for x in lines[: len(from_gz)]]
    assert len(rejects) == 1 and rejects[0].reason.startswith("unreadable file")
    assert rejects[0].location.startswith("line ")
    assert docs[-1].metadata["source_name"] == "zz"


def test_not_a_gzip_or_empty_is_one_file_reject(tmp_path):
    (tmp_path / "fake.jsonl.gz").write_bytes(b"this is not gzip data at all")
    (tmp_path / "nothing.txt").write_text("\n\n")
    (tmp_path / "numbers.jsonl").write_text('{"n": 1}\n{"n": 2}\n')
    docs, rejects, _ = _read_path(tmp_path)
    assert not docs
    assert [(Path(r.source).name, r.reason.split(":")[0], r.location) for r in rejects] == [
        ("fake.jsonl.gz", "unreadable file", "file"),
        ("nothing.txt", "empty file", "file"),
        ("numbers.jsonl", "no text field found (set text_field)", "file"),
    ]


# ------------------------------------------------------------------------------------- csv, parquet


def test_csv_with_text_field_and_bad_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(
        b"id,label,story\n"
        b'1,a,"The owl watched the field, waiting for the mouse to move."\n'
        b"2,b\n"
        b'3,c,"A story with a bad byte \xff here, sadly enough."\n'
        b'4,d,"Multi-line\nstory about the quiet hill and the old goat."\n'
    )
    docs, rejects, _ = _read_path(path, text_field="story")
    assert [d.metadata["offsets"]["start"] for d in docs] == [0, 3]
    assert docs[1].text == "Multi-line\nstory about the quiet hill and the old goat."
    assert _reasons(rejects) == {"row 1": "wrong number of fields (2, expected 3)", "row 2": "invalid UTF-8"}
    auto, _, _ = _read_path(path)  # auto-detect picks the long text column, not the ids
    assert [d.text for d in auto] == [d.text for d in docs]
    missing, rejects, _ = _read_path(path, text_field="nope")
    assert not missing and [(r.reason, r.location) for r in rejects] == [("missing text field 'nope'", "file")]


def test_parquet_with_text_field(tmp_path):
    table = pa.table(
        {
            "id": ["p0", "p1", "p2"],
            "body2": ["The lighthouse keeper climbed the stairs every evening.", "", "He lit the lamp at dusk."],
            "title": ["Light", None, "Lamp"],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)
    docs, rejects, _ = _read_path(tmp_path / "t.parquet", text_field="body2")
    assert [d.text for d in docs] == [table["body2"][0].as_py(), "He lit the lamp at dusk."]
    assert [d.metadata["title"] for d in docs] == ["Light", "Lamp"]
    assert [d.metadata["offsets"] for d in docs] == [{"unit": "row", "start": i, "end": i} for i in (0, 2)]
    assert [(r.reason, r.location, r.id) for r in rejects] == [("empty or too short", "row 1", "p1")]


def test_corrupt_parquet_and_unreadable_files_are_rejected_and_the_run_goes_on(tmp_path, monkeypatch):
    good = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": ["A perfectly fine row about the moon and tides."]}), good)
    data = good.read_bytes()
    (tmp_path / "a_corrupt.parquet").write_bytes(data[: len(data) // 2])
    (tmp_path / "b_binary.txt").write_bytes(b"\x00\x01\x02 not text \x00" * 50)
    (tmp_path / "c_locked.txt").write_text("You cannot read me.")
    (tmp_path / "d_fine.txt").write_text("This file is perfectly readable and long enough.")
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "c_locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    docs, rejects, stats = _read_path(tmp_path)
    assert [d.metadata["source_name"] for d in docs] == ["d_fine", "t"]
    reasons = {Path(r.source).name: (r.reason, r.location) for r in rejects}
    assert set(reasons) == {"a_corrupt.parquet", "b_binary.txt", "c_locked.txt"}
    assert all(reason.startswith("unreadable file") and loc == "file" for reason, loc in reasons.values())
    assert "Permission denied" in reasons["c_locked.txt"][0]
    assert stats.files == 5 and stats.rejects_by_reason == {"unreadable file": 3}


# ------------------------------------------------------------------------------------- config, genre


def test_missing_paths_are_config_errors(tmp_path):
    with pytest.raises(SourceError, match="nowhere.txt"):
        expand_sources([SourceSpec(path=str(tmp_path / "nowhere.txt"))])
    with pytest.raises(SourceError, match=r"\*\.jsonl"):
        list(read_sources([SourceSpec(path=str(tmp_path / "*.jsonl"))]))
    (tmp_path / "notes.md").write_text("# not a corpus")
    with pytest.raises(SourceError, match="unsupported"):
        expand_sources([SourceSpec(path=str(tmp_path / "notes.md"))])
    with pytest.raises(SourceError, match="no .* files"):
        expand_sources([SourceSpec(path=str(tmp_path))])


def test_expand_sources_is_sorted_recursive_and_deduplicated(tmp_path):
    for rel in ("b/z.txt", "b/a.csv", "a.jsonl", "c/d/e.jsonl.gz", "c/skip.md", ".hidden/x.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    files = expand_sources([SourceSpec(path=str(tmp_path)), SourceSpec(path=str(tmp_path / "b" / "*.txt"))])
    names = [p.relative_to(tmp_path).as_posix() for p, _ in files]
    assert names == ["a.jsonl", "b/a.csv", "b/z.txt", "c/d/e.jsonl.gz"]


def test_spec_validation():
    with pytest.raises(ValidationError):
        SourceSpec(path="x.txt", colour="blue")
    with pytest.raises(ValidationError):
        SourceSpec(path="x.txt", max_chars=100)
    with pytest.raises(ValidationError):
        SourceSpec(path="x.txt", genre="poetry")
    assert SourceSpec(path="x.txt").model_dump()["clean"] == "auto"


def test_genre_can_be_fixed(tmp_path):
    (tmp_path / "x.txt").write_text("The lobster is a species found in the Atlantic (about 60 cm long) since 1850.")
    assert _read_path(tmp_path / "x.txt")[0][0].metadata["genre"] == "factual"
    assert _read_path(tmp_path / "x.txt", genre="other")[0][0].metadata["genre"] == "other"


@pytest.mark.parametrize(
    "text, genre",
    [
        ("Human: how do I bake bread?\n\nAssistant: Mix flour, water, salt and yeast, then let it rise.", "dialogue"),
        ("ROMEO:\nBut soft, what light through yonder window breaks?\n\nJULIET:\nAy me!", "dialogue"),
        ("RT @someone: cannot believe this game lol http://t.co/x", "other"),
        # a quoted retweet (Davidson) was fiction, and raised as "a short story"
        ('"@HeartlessFuck: Glad I\'m getting outta Atlanta. Nothing but a bunch of fools in & outta jail."', "other"),
        (
            "The Eiffel Tower is 330 metres (1,083 ft) tall and was built between 1887 and 1889 in Paris, France, "
            "as the entrance arch to the 1889 World's Fair. It is located on the Champ de Mars.",
            "factual",
        ),
        (
            '"Where are you going?" asked the little rabbit. She looked at the fox, and he said nothing at all. '
            "Then he turned and ran into the dark wood, and she never saw him again.",
            "fiction",
        ),
    ],
)
def test_detect_genre(text, genre):
    assert detect_genre(text) == genre


def test_limit_caps_documents_per_file(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(
            "\n\n".join(f"Paragraph {i} of {name} about the sea and the sky." for i in range(10))
        )
    docs = [
        d for d in read_sources([SourceSpec(path=str(tmp_path), limit=3, max_chars=120)]) if isinstance(d, Document)
    ]
    assert len(docs) == 6
    assert [d.metadata["source_name"] for d in docs] == ["a"] * 3 + ["b"] * 3


# ------------------------------------------------------------------- fast paths agree with the plain ones


def _reference_genre(text: str) -> str:
    """detect_genre as first written: every feature computed with the regexes, then weighed."""
    from modelraising.sources import genre as s

    words = s._WORD_RE.findall(text)
    lower = Counter(s._WORD_RE.findall(text.lower()))
    cues = dict.fromkeys(("speech", "third", "personal", "fact_words", "slang"), 0)
    for w in s._CUES.keys() & lower.keys():
        cues[s._CUES[w]] += lower[w]
    n_words, n_chars = max(1, len(words)), max(1, len(text))
    lines = text.count("\n") + 1 - text.count("\n\n")
    speakers = s._TURN_OWN_LINE.findall(text) + s._TURN_INLINE.findall(text)
    turns, distinct = len(speakers), len({x.lower() for x in speakers})
    digits = sum(map(text.count, "0123456789"))
    quotes = sum(map(text.count, ('"', "\u201c", "\u201d", "\u2018", " '", "\n'"))) + text.startswith("'")
    social = len(s._SOCIAL.findall(text))
    informal = (
        cues["slang"]
        + words.count("i")
        + text.count("!!")
        + text.count("??")
        + text.count("...")
        + (0 if s._ENDS_SENTENCE.search(text) else 1)
    )
    if turns >= 2 and distinct >= 2 and turns / max(1, lines) >= 0.15:
        return "dialogue"
    if social and n_words < 80:
        return "other"
    fiction = (
        25 * (cues["speech"] / n_words)
        + 6 * (cues["third"] / n_words)
        + 0.15 * (1000 * quotes / n_chars)
        + 2 * ((words.count("I") + cues["personal"]) / n_words)
    )
    years = 1000 * len(s._YEAR.findall(text)) / n_chars if digits >= 4 else 0.0
    factual = (
        0.25 * (1000 * digits / n_chars)
        + 1.5 * years
        + 0.6 * (1000 * text.count("(") / n_chars)
        + 12 * (cues["fact_words"] / n_words)
    )
    if n_words < 40 and (informal or max(fiction, factual) < 1.0):
        return "other"
    return "fiction" if fiction >= factual else "factual"


TRICKY = [
    "O'Brien said: I'M here, 'I' said he. 'Twas a dark night, rock'n'roll he'd I I i i  I.",
    "don'tX it'sA \u0130stanbul \u212aelvin and the \u2019twas he\u2019s she\u2019d I\u2019m",
    "a''b'''c' 'd I'm I' i' '' ' ",
    "He said, 'she ' asked' I. I I I said I. \u201cYes,\u201d he whispered \u2018no\u2019.",
    "Human: hi\nAssistant: hello\nHuman: ok",
    "RT @x: lol i cant believe dat &amp; http://t.co/x #wow",
    "The species was founded in 1850 (approximately 30 km) according to the government. " * 3,
    "\udc80 lone surrogate and words he said",
]


@pytest.mark.parametrize("text", TRICKY + [t * 8 for t in TRICKY])  # repeated: long enough for the byte path
def test_detect_genre_agrees_with_the_plain_regex_features_on_tricky_text(text):
    from modelraising.sources.genre import _WORD_RE, genre_features

    assert detect_genre(text) == _reference_genre(text)
    assert genre_features(text)["words"] == max(1, len(_WORD_RE.findall(text)))


def test_detect_genre_agrees_with_the_plain_regex_features_on_the_corpus(corpus):
    texts = [d.text for docs, *_ in corpus.values() for d in docs]
    texts += [f"{t}\n\n(Replica 1.)" for t in texts[::7]]
    assert len(texts) > 30_000
    assert [detect_genre(t) for t in texts] == [_reference_genre(t) for t in texts]


def _reference_normalize(text: str) -> str:
    from modelraising.sources import clean as s

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    import unicodedata

    text = s._CONTROL.sub("", unicodedata.normalize("NFC", text))
    text = s._BLANK_RUNS.sub("\n\n", s._LINE_EDGES.sub("\n", s._SPACES.sub(" ", text)))
    return text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "plain words here",
        "tab\there",
        "two  spaces",
        " \t mixed \t ",
        "line \n edge",
        "a\n\n\n\nb",
        "a \n\n\n b",
        "nbsp\u00a0stays",
        "ctrl\x0bchar\x7fs\x85 and \ufeffbom",
        "cafe\u0301",
        "crlf\r\nand\rcr",
        "\u2028sep\u2029",
        "ends with space ",
        "\n\n lead",
        "tab\t\n\tline",
    ],
)
def test_normalize_text_agrees_with_the_unguarded_rules(text):
    assert normalize_text(text) == _reference_normalize(text)


def test_jsonl_lines_parse_as_json_loads_does(tmp_path):
    lines = [
        b'\xef\xbb\xbf{"text": "first line, after a byte order mark"}\n',
        b"\n",
        b"   \t \n",
        b'{"text": "crlf and trailing blanks are fine here"}  \r\n',
        b'  {"text": "leading blanks are fine too"}\n',
        b'{"text": "extra data after the object"} x\n',
        b'{"text": "nan is accepted", "v": NaN}\n',
        b"[1, 2]\n",
        b'{"text": "nested", "meta": {"a": [1, {"b": null}]}, "id": 7}\n',
        b'{"text": "no newline at the end"}',
    ]
    (tmp_path / "x.jsonl").write_bytes(b"".join(lines))
    docs, rejects, _ = _read_path(tmp_path / "x.jsonl", min_chars=3)
    assert [d.text for d in docs] == [
        "first line, after a byte order mark",
        "crlf and trailing blanks are fine here",
        "leading blanks are fine too",
        "nan is accepted",
        "nested",
        "no newline at the end",
    ]
    assert [d.metadata["offsets"]["start"] for d in docs] == [0, 3, 4, 6, 8, 9]
    assert [(r.location, r.reason) for r in rejects] == [
        ("line 6", "invalid JSON: Extra data"),
        ("line 8", "not a JSON object"),
    ]


def test_html_entities_are_unescaped_even_when_escaped_twice():
    from modelraising.sources import normalize_text

    assert normalize_text("fish &amp; chips &#8220;now&#8221;") == "fish & chips \u201cnow\u201d"
    assert normalize_text("a &amp;#128514; b") == "a \U0001f602 b"
    assert normalize_text("AT&T and R&D stay") == "AT&T and R&D stay"


def test_gutenberg_notes_and_addresses_are_dropped(tmp_path):
    book = (
        "*** START OF THE PROJECT GUTENBERG EBOOK TEST ***\n\nOriginal Transcriber's Notes:\n\n"
        "This text is a combination of etexts, one from the now-defunct ERIS project.\n\n"
        "CHAPTER 1.\n\nIt was a long way to the sea, and the road was dusty all the way down.\n\n"
        "Questions to gbnewby@pglaf.org are welcome.\n\n"
        "The boat was small and painted green, and nobody had sailed it for a year.\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK TEST ***\n"
    )
    (tmp_path / "b.txt").write_text(book, encoding="utf-8")
    docs, _, _ = _read_path(tmp_path / "b.txt")
    text = "\n".join(d.text for d in docs)
    assert "dusty" in text and "green" in text
    assert "Transcriber" not in text and "etexts" not in text and "@" not in text

"""The viewer's index, filters, search, rendering and review log, on real files (no server)."""

from __future__ import annotations

import json
import os
import time

import pytest
from markupsafe import Markup
from view_corpus import HOSTILE, make_raised, write_source

from modelraising.view.corpus import ViewError, open_corpus
from modelraising.view.index import open_index
from modelraising.view.render import highlight_pair, render_text
from modelraising.view.review import ReviewError, append_flag, current_flags, filter_documents, load_exclusion, read_log
from modelraising.view.search import browse, count, parse_query, search
from modelraising.view.sourcetext import SourceLookup


@pytest.fixture
def raised(tmp_path):
    source = write_source(tmp_path, 90)
    records = make_raised(tmp_path / "raised", source, n_files=3)
    return tmp_path / "raised", source, records


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_index_reads_every_record_back_by_position(tmp_path, fmt):
    source = write_source(tmp_path, 30)
    records = make_raised(tmp_path / "raised", source, n_files=3, fmt=fmt)
    corpus = open_corpus(tmp_path / "raised")
    index = open_index(corpus)
    assert (corpus.kind, corpus.fmt, index.n) == ("raised", fmt, len(records))
    for rec in (0, 11, len(records) - 1):
        row = index.row(rec)
        doc = corpus.read(row["file"], row["pos"], row["len"])
        assert (doc.id, doc.text, doc.metadata) == (records[rec]["id"], records[rec]["text"], records[rec]["metadata"])
    assert index.file_index(len(records) - 1) == (f"raised-00002.{fmt}", len(records) - 1 - 2 * 10)


def test_filters_are_and_across_facets_or_within(raised):
    directory, _, records = raised
    index = open_index(open_corpus(directory))
    social = [i for i, r in enumerate(records) if r["metadata"]["form"] == "social"]
    page = browse(index, index.mask({"form": ["social"]}), 0)
    assert page.total == len(social) and page.recs == social[:50]
    both = [i for i in social if r_value(records[i]) == "care"]
    assert browse(index, index.mask({"form": ["social"], "value": ["care"]}), 0).total == len(both) > 0
    either = [i for i, r in enumerate(records) if r_value(r) in ("care", "honesty")]
    assert browse(index, index.mask({"value": ["care", "honesty"]}), 0).total == len(either)
    no_value = [i for i, r in enumerate(records) if r_value(r) is None]
    assert browse(index, index.mask({"value": ["-"]}), 0).recs == no_value[:50]
    theft = [i for i, r in enumerate(records) if "harm" in r["metadata"]]
    assert browse(index, index.mask({"harm": ["theft"], "action": ["reflect"]}), 0).recs == theft
    assert browse(index, index.mask({"template": ["perspective/fiction/03"]}), 0).total == len(records[3::4])
    assert browse(index, index.mask({"kind": ["story"]}), 10).recs[0] == list(range(1, len(records), 3))[10]


def r_value(record: dict):
    return (record["metadata"].get("value") or {}).get("value")


def test_search_words_phrases_prefixes_and_paging(raised):
    directory, _, records = raised
    index = open_index(open_corpus(directory))
    whale = [i for i, r in enumerate(records) if "whale" in r["text"]]
    page = search(index, parse_query("whale"), None, limit=4)
    assert page.recs == whale[:4] and (page.total, page.exact) == (len(whale), True) and page.more_after
    nxt = search(index, parse_query("whale"), None, after=page.recs[-1], limit=4)
    assert nxt.recs == whale[4:8] and nxt.more_before
    back = search(index, parse_query("whale"), None, before=nxt.recs[0], limit=4)
    assert back.recs == whale[:4]
    # a phrase must occur as a phrase: "the whale bones" yes, "bones whale" no
    assert search(index, parse_query('"the whale bones"'), None).recs == whale
    assert search(index, parse_query('"bones whale"'), None).recs == []
    assert search(index, parse_query("lighth*"), None).total == sum("lighthouse" in r["text"] for r in records)
    # search and filter together; tag spellings are not words of the text
    social_whale = [i for i in whale if records[i]["metadata"]["form"] == "social"]
    assert search(index, parse_query("whale"), index.mask({"form": ["social"]})).recs == social_whale
    assert search(index, parse_query("mentor"), None).total == 0
    assert parse_query("  ,;  ") is None


def test_count_is_estimated_when_over_budget(raised):
    directory, _, records = raised
    index = open_index(open_corpus(directory))
    query, mask = parse_query('"story"'), index.mask({"form": ["plain"]})
    exact, is_exact = count(index, query, mask)
    assert is_exact and exact == sum(r["metadata"]["form"] == "plain" for r in records)
    estimate, is_exact = count(index, parse_query('"today I read"'), mask, budget_s=0.0)
    assert not is_exact and 0 < estimate <= len(records)


def test_index_is_reused_until_a_record_file_changes(raised):
    directory, _, records = raised
    corpus = open_corpus(directory)
    open_index(corpus).close()
    built = (directory / ".view" / "index.sqlite").stat().st_mtime_ns
    open_index(corpus).close()
    assert (directory / ".view" / "index.sqlite").stat().st_mtime_ns == built
    extra = dict(records[0], id="added-record", text="a brand new zebra passage")
    with open(directory / "raised-00002.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(extra) + "\n")
    index = open_index(open_corpus(directory))
    assert index.n == len(records) + 1 and search(index, parse_query("zebra"), None).total == 1


def test_audit_flags_are_loaded_and_reloaded(raised):
    directory, _, records = raised
    index = open_index(open_corpus(directory))
    flags = [
        {"id": records[31]["id"], "file": "raised-00001.jsonl", "index": 1, "flags": ["template_leak"]},
        {"id": records[2]["id"], "file": "raised-00000.jsonl", "index": 2, "flags": ["template_leak", "echo"]},
    ]
    (directory / "audit-flags.jsonl").write_text("".join(json.dumps(f) + "\n" for f in flags))
    index.refresh_flags()
    assert browse(index, index.mask({"flag": ["template_leak"]}), 0).recs == [2, 31]
    assert index.row(2)["flags"] == ["template_leak", "echo"]
    time.sleep(0.01)
    (directory / "audit-flags.jsonl").write_text(json.dumps(flags[1]) + "\n")
    index.refresh_flags()
    assert browse(index, index.mask({"flag": ["*"]}), 0).recs == [2]


def test_not_a_modelraising_output(tmp_path):
    with pytest.raises(ViewError, match="no such directory"):
        open_corpus(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ViewError, match="not a directory"):
        open_corpus(tmp_path / "notes.txt")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "data.jsonl").write_text('{"text": "x"}\n')
    with pytest.raises(ViewError, match=r"not a modelraising output: no raised-\*\.jsonl\|parquet"):
        open_corpus(tmp_path / "other")
    (tmp_path / "other" / "raised-00000.jsonl").write_text("")
    (tmp_path / "other" / "raised-00000.parquet").write_text("")
    with pytest.raises(ViewError, match="more than one run"):
        open_corpus(tmp_path / "other")


def test_audit_out_directory_shows_what_it_audited(raised, tmp_path):
    directory, _, _ = raised
    out = tmp_path / "audit-out"
    out.mkdir()
    (out / "audit.json").write_text(json.dumps({"directory": str(directory), "records": 1}))
    corpus = open_corpus(out)
    assert corpus.path == directory and corpus.side == out


def test_record_text_is_escaped_and_markup_rendered(raised):
    _, source, records = raised
    hostile = next(r for r in records if HOSTILE in r["text"])
    lookup = SourceLookup()
    lookup.add_manifest(json.loads((raised[0] / "manifest.json").read_text()))
    passage, note = lookup.passage(hostile["metadata"])
    assert HOSTILE in passage and str(source) in note
    raised_html, source_html, how = highlight_pair(hostile["text"], hostile["metadata"], passage)
    assert how == "quoted"
    for html in (raised_html, source_html):
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'class="src"' in raised_html and 'class="kept"' in source_html
    social = next(r for r in records if r["metadata"]["form"] == "social" and r_value(r))
    html = render_text(social["text"])
    assert '<span class="spk r-mentor" title="speaker, role mentor">Grandpa Elias</span>' in html
    assert '<span class="tag t-value">value:' in html and "&lt;|" not in html
    assert isinstance(render_text("a <b>&"), Markup) and render_text("a <b>&") == "a &lt;b&gt;&amp;"


def test_source_words_matched_without_quoted(raised):
    _, _, records = raised
    record = records[5]
    meta = {k: v for k, v in record["metadata"].items() if k != "quoted"}
    source = record["text"].split("\n\n")[1].replace("<|value:care|>", "").replace("<|/value|>", "")
    raised_html, source_html, how = highlight_pair(record["text"], meta, "Other words first. " + source)
    assert how == "matched" and 'class="src"' in raised_html and "Other words first. " in source_html


def test_review_log_is_append_only_and_survives_a_torn_line(tmp_path):
    append_flag(tmp_path, {"id": "a", "source_id": "src-a", "label": "bad_frame", "note": "frame <b>"})
    with open(tmp_path / "review.jsonl", "ab") as f:
        f.write(b'{"id": "b", "label": "arti')  # a crash in the middle of a write
    append_flag(tmp_path, {"id": "c", "label": "artifact"})
    append_flag(tmp_path, {"id": "a", "label": "other"})
    lines = (tmp_path / "review.jsonl").read_bytes().split(b"\n")
    assert json.loads(lines[2])["id"] == "c"  # the torn line stays on its own line
    state = current_flags(read_log(tmp_path))
    assert [f.label for f in state["a"]] == ["bad_frame", "other"] and "b" not in state
    append_flag(tmp_path, {"id": "a", "action": "clear"})
    assert set(current_flags(read_log(tmp_path))) == {"c"}
    with pytest.raises(ReviewError, match="unknown review label"):
        append_flag(tmp_path, {"id": "a", "label": "nice"})
    os.chmod(tmp_path / "review.jsonl", 0o444)
    if os.geteuid() != 0:
        with pytest.raises(ReviewError, match="cannot be written"):
            append_flag(tmp_path, {"id": "a", "label": "other"})


def test_exclusion_turns_flagged_source_documents_into_rejects(tmp_path):
    from modelraising.document import Document
    from modelraising.rejects import Reject
    from modelraising.sources import SourceStats

    append_flag(tmp_path, {"id": "r1", "source_id": "s1", "label": "bad_frame"})
    append_flag(tmp_path, {"id": "r2", "source_id": "s2", "label": "artifact"})
    append_flag(tmp_path, {"id": "r2", "action": "clear"})
    exclusion = load_exclusion([tmp_path])
    assert exclusion.reasons == {"s1": "review flag: bad_frame"}
    stats = SourceStats()
    items = [Document("one", "s1", {"source": "f.txt"}), Document("two", "s2", {"source": "f.txt"})]
    out = list(filter_documents(items, exclusion, stats))
    assert isinstance(out[0], Reject) and out[0].reason == "review flag: bad_frame" and out[1] is items[1]
    assert stats.rejects_by_reason == {"review flag": 1}

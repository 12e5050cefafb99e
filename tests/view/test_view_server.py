"""The viewer's HTTP surface, in process on a real loopback socket: what it refuses (foreign Host
names, flags without the page's token or from another origin, unknown records), the headers that keep
a hostile corpus inert, and the summary and compare pages."""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from view_corpus import make_raised, write_source

from modelraising.view.app import TOKEN, allow_hosts, make_app, open_dirs
from modelraising.view.sourcetext import SourceLookup


@pytest.fixture
def dirs(tmp_path):
    source = write_source(tmp_path, 24)
    make_raised(tmp_path / "a", source, n_files=2)
    make_raised(tmp_path / "b", source, n_files=1, seed=1)
    (tmp_path / "a" / "audit.json").write_text(
        json.dumps(
            {
                "records": 24,
                "repetition": {
                    "top": [{"sentence": "I think about what I owe to others.", "records": 24, "share": 1.0}]
                },
                "detectors": [{"name": "template_leak", "kind": "artifact", "records": 1, "rate": 0.04, "what": "x"}],
                "failures": ["repetition: 1 generated sentence(s) in more than 1% of records"],
            }
        )
    )
    return open_dirs([tmp_path / "a", tmp_path / "b"])


def _serve(dirs, scenario):
    async def main():
        lookup = SourceLookup()
        for d in dirs:
            lookup.add_manifest(d.corpus.json_file("manifest.json"))
        app = make_app(dirs, lookup)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        allow_hosts(app, "127.0.0.1", server.port)
        try:
            async with aiohttp.ClientSession() as session:
                await scenario(session, f"http://127.0.0.1:{server.port}", app)
        finally:
            await server.close()

    asyncio.run(main())


def test_refusals_and_headers(dirs):
    async def scenario(session, base, app):
        async with session.get(base + "/d/0/") as r:
            assert r.status == 200
            assert "script-src" not in r.headers["Content-Security-Policy"]  # default-src 'none': no script
            assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        async with session.get(base + "/d/0/", headers={"Host": "evil.example:80"}) as r:
            assert r.status == 421
        async with session.get(base + "/d/0/r/999") as r:
            assert r.status == 404 and "has no record 999" in await r.text()
        async with session.get(base + "/d/7/") as r:
            assert r.status == 404
        async with session.get(base + "/d/0/?start=abc") as r:
            assert r.status == 400
        form = {"label": "artifact", "note": "x", "action": "flag"}
        async with session.post(base + "/d/0/r/3/review", data=form) as r:
            assert r.status == 403 and "token" in await r.text()
        async with session.post(
            base + "/d/0/r/3/review", data={**form, "token": app[TOKEN]}, headers={"Origin": "http://evil.example"}
        ) as r:
            assert r.status == 403
        async with session.post(base + "/d/0/r/3/review", data={**form, "label": "nice", "token": app[TOKEN]}) as r:
            assert r.status == 400 and "unknown review label" in await r.text()
        assert not (dirs[0].corpus.path / "review.jsonl").exists()
        async with session.post(
            base + "/d/0/r/3/review", data={**form, "token": app[TOKEN]}, allow_redirects=False
        ) as r:
            assert r.status == 303 and r.headers["Location"] == "/d/0/r/3?saved=1"
        assert json.loads((dirs[0].corpus.path / "review.jsonl").read_text())["label"] == "artifact"
        async with session.get(base + "/d/0/?reviewed=artifact") as r:
            assert re.findall(r'data-rec="(\d+)"', await r.text()) == ["3"]

    _serve(dirs, scenario)


def test_summary_and_compare_pages(dirs):
    async def scenario(session, base, app):
        async with session.get(base + "/d/0/summary") as r:
            html = await r.text()
        assert r.status == 200 and 'data-facet="form"' in html and 'data-facet="harm"' in html
        assert "From audit.json" in html and "I think about what I owe to others." in html
        assert "cap exceeded: repetition" in html and "template_leak" in html
        async with session.get(base + "/") as r:
            home = await r.text()
        assert r.status == 200 and str(dirs[1].corpus.path) in home and 'data-page="home"' in home
        async with session.get(base + "/compare/0/5") as r:
            html = await r.text()
        assert r.status == 200 and html.count('class="col raised"') == 2
        assert "Seed 0:" in html and "Seed 1:" in html and "Story 5." in html

    _serve(dirs, scenario)


def test_ordered_directory_filters_by_stage_and_plots_difficulty(tmp_path):
    source = write_source(tmp_path, 30)
    records = make_raised(tmp_path / "raised", source, n_files=1)
    ordered = tmp_path / "ordered"
    ordered.mkdir()
    stages = ["early childhood", "childhood", "adolescence"]
    lines = []
    for pos, r in enumerate(records):
        meta = dict(
            r["metadata"],
            position=pos,
            stage=stages[pos * 3 // len(records)],
            stage_index=pos * 3 // len(records),
            difficulty=round(pos / len(records), 6),
            review=pos % 10 == 9,
        )
        lines.append(json.dumps({"id": r["id"], "text": r["text"], "metadata": meta}))
    (ordered / "ordered-00000.jsonl").write_text("\n".join(lines) + "\n")
    (ordered / "curriculum.json").write_text(
        json.dumps(
            {
                "stages": [
                    {
                        "name": s,
                        "ceiling": (i + 1) / 3,
                        "documents": 10,
                        "review": 1,
                        "positions": 10,
                        "tokens_estimate": 500,
                        "difficulty": {"min": 0.0, "mean": 0.5, "max": 1.0},
                    }
                    for i, s in enumerate(stages)
                ]
            }
        )
    )
    dirs = open_dirs([ordered])
    assert dirs[0].corpus.kind == "ordered"

    async def scenario(session, base, app):
        async with session.get(base + "/d/0/?stage=childhood&copy=review") as r:
            html = await r.text()
        expected = [str(p) for p in range(len(records)) if p * 3 // len(records) == 1 and p % 10 == 9]
        assert re.findall(r'data-rec="(\d+)"', html) == expected and "<th>difficulty</th>" in html
        async with session.get(base + "/d/0/summary") as r:
            html = await r.text()
        assert '<figure id="difficulty">' in html and html.count("<rect") >= 3 + 10
        assert all(s in html for s in stages) and 'id="stages"' in html

    _serve(dirs, scenario)

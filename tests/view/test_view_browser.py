"""`modelraising view` as a user meets it: a real server on loopback, driven by headless Chromium.

The list loads; a filter and a search narrow it; a record page shows its source passage beside the
raised text; a review flag survives the server being killed and started again; a record holding
``<script>alert(1)</script>`` is shown as text and opens no dialog.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cdp import Chromium, Page
from view_corpus import HOSTILE, make_raised, write_source

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_report import _chromium  # noqa: E402  (finds or installs chromium, or skips)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(_chromium(), tmp_path_factory.mktemp("chromium") / "profile")
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("view")
    source = write_source(root, 60)
    records = make_raised(root / "raised", source, n_files=2)
    make_raised(root / "raised-seed1", source, n_files=1, seed=1, engine="teacher")
    return root, source, records


class Server:
    """``modelraising view`` in its own process, on a free loopback port."""

    def __init__(self, *dirs: Path, extra: tuple[str, ...] = ()):
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modelraising", "-q", "view", *map(str, dirs), "--port", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        line = self.proc.stdout.readline()
        if "http://" not in line:
            self.kill()
            raise AssertionError(f"no address printed: {line!r} {self.proc.stderr.read()[-2000:]}")
        self.url = line.split()[2]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # a crash, not a shutdown: nothing gets to flush
        self.proc.wait()


def run(scenario):
    return asyncio.run(scenario)


async def _rows(page: Page) -> list[str]:
    return await page.eval("[...document.querySelectorAll('#records tr.rec')].map(r => r.dataset.id)")


def test_list_filter_search_and_record_page(browser, corpus):
    root, source, records = corpus
    server = Server(root / "raised")

    async def scenario():
        page = await Page.open(browser.port)
        try:
            await page.goto(server.url)  # redirects to the one directory's list
            assert await page.eval("document.body.dataset.page") == "list"
            assert await page.eval("document.getElementById('count').dataset.total") == str(len(records))
            assert await _rows(page) == [r["id"] for r in records[:50]]

            # a filter, chosen in the form as a user does
            await page.act(
                "document.querySelector('select[name=form]').value = 'social';document.getElementById('apply').click()"
            )
            social = [r["id"] for r in records if r["metadata"]["form"] == "social"]
            assert await _rows(page) == social and len(social) < len(records)
            # then a search within it
            await page.act(
                "document.querySelector('input[name=q]').value = 'lighthouse';document.getElementById('apply').click()"
            )
            both = [r["id"] for r in records if r["metadata"]["form"] == "social" and "lighthouse" in r["text"]]
            assert await _rows(page) == both and 0 < len(both) < len(social)
            assert "q=lighthouse" in await page.eval("location.search")

            # the first of them, source passage beside the raised text
            await page.act("document.querySelector('#records tr.rec a').click()")
            rec = next(r for r in records if r["id"] == both[0])
            assert await page.eval("document.getElementById('record-id').firstChild.textContent.trim()") == rec["id"]
            source_text = await page.eval("document.getElementById('source-text').textContent")
            raised_text = await page.eval("document.getElementById('raised-text').textContent")
            passage = rec["text"][slice(*rec["metadata"]["quoted"][0][:2])]
            assert "lighthouse keeper" in source_text and source_text.strip().startswith("Story")
            assert "Grandpa Elias" in raised_text and "<|mentor|>" not in raised_text
            assert await page.eval("document.querySelectorAll('#raised-text .src').length") >= 1
            assert (
                await page.eval("document.querySelector('#raised-text .spk.r-mentor').textContent") == "Grandpa Elias"
            )
            side = await page.eval(
                "(() => { const a = document.getElementById('source').getBoundingClientRect(),"
                " b = document.getElementById('raised').getBoundingClientRect();"
                " return [a.left < b.left, Math.abs(a.top - b.top) < 2]; })()"
            )
            assert side == [True, True], "source and raised text are not side by side"
            assert "Story" in passage
        finally:
            await page.close()

    try:
        run(scenario())
    finally:
        server.kill()


def test_flag_survives_a_killed_server(browser, corpus, tmp_path):
    root, _, records = corpus
    directory = tmp_path / "raised"
    make_raised(directory, root / "fables.txt", n_files=2)
    server = Server(directory)
    target = records[7]["id"]

    async def flag():
        page = await Page.open(browser.port)
        try:
            await page.goto(server.url + "d/0/r/7")
            await page.act(
                "document.querySelector('input[name=label][value=wrong_value]').checked = true;"
                "document.querySelector('textarea[name=note]').value = 'care, not honesty';"
                "document.getElementById('flag-submit').click()"
            )
            assert await page.eval("document.getElementById('saved') !== null")
        finally:
            await page.close()

    try:
        run(flag())
    finally:
        server.kill()  # SIGKILL right after the answer: the flag must already be on disk
    entry = json.loads((directory / "review.jsonl").read_text().splitlines()[-1])
    assert (entry["id"], entry["label"], entry["note"], entry["index"]) == (
        target,
        "wrong_value",
        "care, not honesty",
        7,
    )

    server = Server(directory)

    async def check():
        page = await Page.open(browser.port)
        try:
            await page.goto(server.url + "d/0/?reviewed=wrong_value")
            assert await _rows(page) == [target]
            assert (
                await page.eval("document.querySelector('#records tr.rec .flag.review').dataset.review")
                == "wrong_value"
            )
            await page.goto(server.url + "d/0/r/7")
            assert "care, not honesty" in await page.eval("document.getElementById('flags').textContent")
        finally:
            await page.close()

    try:
        run(check())
    finally:
        server.kill()


def test_script_in_a_record_is_text(browser, corpus):
    root, _, records = corpus
    server = Server(root / "raised", root / "raised-seed1")
    rec = next(i for i, r in enumerate(records) if HOSTILE in r["text"])

    async def scenario():
        page = await Page.open(browser.port)
        try:
            for path in (f"d/0/r/{rec}", "d/0/?q=sign", f"compare/0/{rec}"):
                await page.goto(server.url + path)
                assert await page.eval("document.querySelectorAll('script').length") == 0, path
                body = await page.eval("document.body.innerText")
                assert HOSTILE in body, path
            # compare lines up the two directories' records of the same source passage
            columns = await page.eval("[...document.querySelectorAll('section.raised')].map(s => s.innerText)")
            assert len(columns) == 2 and "Seed 0:" in columns[0] and "Seed 1:" in columns[1]
            await asyncio.sleep(0.2)
            assert page.dialogs == []
        finally:
            await page.close()

    try:
        run(scenario())
    finally:
        server.kill()


def test_not_a_modelraising_output_is_one_line(tmp_path):
    (tmp_path / "data.jsonl").write_text('{"text": "x"}\n')
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "modelraising", "view", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=60,
    )
    assert result.returncode == 2 and time.monotonic() - start < 30
    assert result.stderr.strip().count("\n") == 0 and "not a modelraising output" in result.stderr

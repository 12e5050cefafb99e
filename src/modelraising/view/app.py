"""``modelraising view``: the aiohttp app over one or more raised, ordered or audited directories.

Pages (server-rendered, no script at all: the Content-Security-Policy forbids every script, so a
corpus that holds ``<script>`` cannot run anything even if escaping failed somewhere): the record
list with filters, search and paging; a record beside its source passage; the summary; two or more
directories side by side by source id. Review flags are POSTed from the record page and appended to
``DIR/review.jsonl`` (:mod:`modelraising.view.review`). The server checks the Host header (no DNS
rebinding onto 127.0.0.1) and a per-process token on every POST (no cross-site flags).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from modelraising.view import review as rv
from modelraising.view.corpus import Corpus
from modelraising.view.facets import ANY, FACET_NAMES, FACETS, NONE
from modelraising.view.index import Index
from modelraising.view.render import highlight_pair
from modelraising.view.search import PAGE, browse, parse_query, search
from modelraising.view.sourcetext import SourceLookup
from modelraising.view.summary import summary_context

log = logging.getLogger(__name__)
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
DIRS = web.AppKey("dirs", list)
SOURCES = web.AppKey("sources", SourceLookup)
ENV = web.AppKey("env", jinja2.Environment)
TOKEN = web.AppKey("token", str)  # in every review form; a POST without it is refused
CHECK_HOST = web.AppKey("check_host", bool)
HOSTS = web.AppKey("hosts", set)  # host:port values the server answers to; set once it listens
CSS = web.AppKey("css", bytes)


@dataclass
class Dir:
    """One directory being viewed: its records, index and standing review flags."""

    no: int
    corpus: Corpus
    index: Index
    flags: dict[str, list[rv.Flag]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.corpus.name

    def load_flags(self) -> None:
        self.flags = rv.current_flags(rv.read_log(self.corpus.path))
        self._post_flags()

    def _post_flags(self) -> None:
        recs: dict[str, list[int]] = {}
        for doc_id, flags in self.flags.items():
            found = self.index.recs_with("id", doc_id, limit=100_000)
            for label in {f.label for f in flags} | {ANY}:
                recs.setdefault(label, []).extend(found)
        self.index.clear_extra("reviewed")
        for label, found in recs.items():
            self.index.set_extra(f"reviewed:{label}", found)

    def note_flag(self, written: dict) -> None:
        """Take a flag :func:`~modelraising.view.review.append_flag` wrote into the list's filters."""
        if written["action"] == "clear":
            self.flags.pop(written["id"], None)
        else:
            self.flags.setdefault(written["id"], []).append(rv.Flag(written["label"], written["note"], written["time"]))
        self._post_flags()


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("modelraising", "data/view"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    env.globals["LABELS"] = rv.LABELS
    return env


def make_app(dirs: list[Dir], sources: SourceLookup, *, check_host: bool = True) -> web.Application:
    """The viewer app over ``dirs`` (indexes already open)."""
    app = web.Application(middlewares=[_guard], client_max_size=64 * 1024)
    app[DIRS] = dirs
    app[SOURCES] = sources
    app[ENV] = _env()
    app[TOKEN] = secrets.token_urlsafe(24)
    app[CHECK_HOST] = check_host
    app[HOSTS] = set()
    app[CSS] = resources.files("modelraising").joinpath("data/view/view.css").read_bytes()
    app.router.add_get("/", home)
    app.router.add_get("/static/view.css", css)
    app.router.add_get("/d/{no:\\d+}/", record_list)
    app.router.add_get("/d/{no:\\d+}/summary", summary)
    app.router.add_get("/d/{no:\\d+}/r/{rec:\\d+}", record)
    app.router.add_post("/d/{no:\\d+}/r/{rec:\\d+}/review", post_review)
    app.router.add_get("/compare/{no:\\d+}/{rec:\\d+}", compare)
    return app


@web.middleware
async def _guard(request: web.Request, handler):
    app = request.app
    if app[CHECK_HOST] and app[HOSTS] and request.host not in app[HOSTS]:
        response = web.Response(
            status=421, text=f"unexpected Host {request.host!r}: open the address the viewer printed"
        )
        _secure(response.headers)
        return response
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            _secure(exc.headers)
            raise
        response = _page(
            request, "error.html", status=exc.status, code=exc.status, message=exc.text or exc.reason, title="error"
        )
    _secure(response.headers)
    return response


def _secure(headers) -> None:
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"


def _page(request: web.Request, template: str, status: int = 200, **context) -> web.Response:
    app = request.app
    html = app[ENV].get_template(template).render(dirs=app[DIRS], **context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def _dir(request: web.Request) -> Dir:
    no = int(request.match_info["no"])
    dirs = request.app[DIRS]
    if no >= len(dirs):
        raise web.HTTPNotFound(text=f"no directory number {no}")
    return dirs[no]


def _url(path: str, params: dict) -> str:
    items = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs]) if v not in (None, "")]
    return path + ("?" + urlencode(items) if items else "")


async def css(request: web.Request) -> web.Response:
    return web.Response(body=request.app[CSS], content_type="text/css")


async def home(request: web.Request) -> web.Response:
    dirs = request.app[DIRS]
    if len(dirs) == 1:
        raise web.HTTPFound("/d/0/")
    return _page(request, "home.html", title="directories")


# ------------------------------------------------------------------------------------------- list


def _filters(request: web.Request) -> dict[str, list[str]]:
    return {f: [v for v in request.query.getall(f, []) if v] for f in FACET_NAMES}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        raise web.HTTPBadRequest(text=f"not a number: {value!r}") from None


async def record_list(request: web.Request) -> web.Response:
    d = _dir(request)
    d.index.refresh_flags()
    filters = _filters(request)
    q = request.query.get("q", "").strip()
    query = parse_query(q) if q else None
    mask = d.index.mask(filters)
    base = f"/d/{d.no}/"
    keep = {**filters, "q": q}
    exact = []
    if q and " " not in q:  # a pasted record or source id
        exact = d.index.rows((d.index.recs_with("id", q, 5) + d.index.recs_with("source_id", q, 5))[:10])
    if query is not None:
        page = search(
            d.index, query, mask, after=_int(request.query.get("after")), before=_int(request.query.get("before"))
        )
        prev_url = _url(base, {**keep, "before": page.recs[0]}) if page.more_before and page.recs else None
        next_url = _url(base, {**keep, "after": page.recs[-1]}) if page.more_after and page.recs else None
        first_url, last_url = (_url(base, keep) if page.more_before else None), None
    else:
        page = browse(d.index, mask, _int(request.query.get("start")) or 0)
        assert page.offset is not None  # browse always says where its page starts
        prev_url = _url(base, {**keep, "start": max(0, page.offset - PAGE)}) if page.more_before else None
        next_url = _url(base, {**keep, "start": page.offset + PAGE}) if page.more_after else None
        first_url = _url(base, keep) if page.more_before else None
        last_url = _url(base, {**keep, "start": (page.total - 1) // PAGE * PAGE}) if page.more_after else None
    rows = d.index.rows(page.recs)
    for row in rows + exact:
        row["review"] = [f.label for f in d.flags.get(row["id"], [])]
    counts = d.index.counts()
    facets = [
        (name, label, counts.get(name, []), filters.get(name, []))
        for name, label in FACETS
        if counts.get(name) or filters.get(name)
    ]
    return _page(
        request,
        "list.html",
        title=d.name,
        d=d,
        rows=rows,
        exact=exact,
        page=page,
        q=q,
        query_ok=query is not None or not q,
        facets=facets,
        any_value=ANY,
        no_value=NONE,
        active={k: v for k, v in filters.items() if v},
        prev_url=prev_url,
        next_url=next_url,
        first_url=first_url,
        last_url=last_url,
        page_size=PAGE,
        multi=len(request.app[DIRS]) > 1,
        clear_url=base,
    )


# ----------------------------------------------------------------------------------------- record


def _load(d: Dir, rec: int):
    row = d.index.row(rec)
    if row is None:
        raise web.HTTPNotFound(text=f"{d.name} has no record {rec} (it holds {d.index.n:,})")
    try:
        doc = d.corpus.read(row["file"], row["pos"], row["len"])
    except (OSError, ValueError, IndexError):
        raise web.HTTPConflict(
            text=f"record {rec} cannot be read where the index says it is: the record files "
            f"of {d.corpus.path} changed since; start the viewer again to re-index"
        ) from None
    return row, doc


async def _source(request: web.Request, meta: dict) -> tuple[str | None, str]:
    return await asyncio.to_thread(request.app[SOURCES].passage, meta)


async def record(request: web.Request) -> web.Response:
    d = _dir(request)
    d.index.refresh_flags()
    rec = int(request.match_info["rec"])
    row, doc = _load(d, rec)
    source, note = await _source(request, doc.metadata)
    raised_html, source_html, how = await asyncio.to_thread(highlight_pair, doc.text, doc.metadata, source)
    file_name, file_index = d.index.file_index(rec)
    others = [o for o in request.app[DIRS] if o is not d]
    return _page(
        request,
        "record.html",
        title=doc.id,
        d=d,
        rec=rec,
        row=row,
        doc=doc,
        raised_html=raised_html,
        source_html=source_html,
        source_note=note,
        how=how,
        file_name=file_name,
        file_index=file_index,
        metadata=json.dumps(doc.metadata, indent=2, ensure_ascii=False),
        flags=d.flags.get(doc.id, []),
        token=request.app[TOKEN],
        saved=request.query.get("saved"),
        prev_rec=rec - 1 if rec > 0 else None,
        next_rec=rec + 1 if rec + 1 < d.index.n else None,
        others=others,
    )


async def post_review(request: web.Request) -> web.Response:
    d = _dir(request)
    rec = int(request.match_info["rec"])
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.split("://", 1)[-1] != request.host:
        raise web.HTTPForbidden(text="review flags are only taken from the viewer's own pages")
    form = await request.post()
    if not secrets.compare_digest(str(form.get("token", "")), request.app[TOKEN]):
        raise web.HTTPForbidden(text="stale or missing form token: reload the record page and flag again")
    row, doc = _load(d, rec)
    file_name, file_index = d.index.file_index(rec)
    entry = {
        "id": doc.id,
        "source_id": doc.metadata.get("source_id"),
        "file": file_name,
        "index": file_index,
        "label": form.get("label"),
        "note": form.get("note", ""),
        "action": form.get("action", "flag"),
    }
    try:  # the write and fsync off the event loop; the index is only touched from the loop's thread
        written = await asyncio.to_thread(rv.append_flag, d.corpus.path, entry)
    except rv.ReviewError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    d.note_flag(written)
    raise web.HTTPSeeOther(f"/d/{d.no}/r/{rec}?saved=1")


# ------------------------------------------------------------------------------- summary, compare


async def summary(request: web.Request) -> web.Response:
    d = _dir(request)
    d.index.refresh_flags()
    return _page(request, "summary.html", title=f"{d.name}: summary", d=d, **summary_context(d.corpus, d.index))


async def compare(request: web.Request) -> web.Response:
    d = _dir(request)
    rec = int(request.match_info["rec"])
    row, doc = _load(d, rec)
    source_id = doc.metadata.get("source_id") or doc.id
    source, note = await _source(request, doc.metadata)
    columns = []
    for other in request.app[DIRS]:
        recs = [rec] if other is d else other.index.recs_with("source_id", source_id, 5)
        if not recs:
            columns.append({"dir": other, "rec": None, "others": 0})
            continue
        o_row, o_doc = _load(other, recs[0])
        raised_html, _, how = await asyncio.to_thread(highlight_pair, o_doc.text, o_doc.metadata, source)
        columns.append(
            {
                "dir": other,
                "rec": recs[0],
                "row": o_row,
                "doc": o_doc,
                "html": raised_html,
                "how": how,
                "others": len(recs) - 1,
            }
        )
    source_html = highlight_pair(doc.text, doc.metadata, source)[1] if source else None
    return _page(
        request,
        "compare.html",
        title=f"compare {source_id}",
        d=d,
        source_id=source_id,
        source_html=source_html,
        source_note=note,
        columns=columns,
    )


# ------------------------------------------------------------------------------------------ serve


def allow_hosts(app: web.Application, host: str, port: int) -> None:
    """Answer only requests addressed to the loopback names of ``port`` (a page of another site cannot
    reach the viewer by a DNS name that resolves to 127.0.0.1); any name when listening beyond loopback."""
    if host in LOOPBACK:
        app[HOSTS].update(f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]"))
    else:
        app[CHECK_HOST] = False  # served to the network on purpose: any name may reach it


async def serve(app: web.Application, host: str, port: int, on_ready=None) -> None:
    """Listen on ``host:port`` (0: a free port) until cancelled; ``on_ready(url)`` once listening."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)  # started: the loop's TCP server
    bound = server.sockets[0].getsockname()[1]  # the port chosen for 0
    shown = f"[{host}]" if ":" in host else host
    allow_hosts(app, host, bound)
    if on_ready:
        on_ready(f"http://{shown}:{bound}/")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def open_dirs(paths: Sequence[str | Path], *, rebuild: bool = False, progress=None) -> list[Dir]:
    """Open (and index when needed) each directory; :class:`~modelraising.view.corpus.ViewError` for one
    that is not a modelraising output."""
    from modelraising.view.corpus import open_corpus
    from modelraising.view.index import open_index

    corpora = [open_corpus(p) for p in paths]  # every directory checked before any is indexed
    dirs = []
    for no, corpus in enumerate(corpora):
        index = open_index(corpus, rebuild=rebuild, progress=progress(corpus) if progress else None)
        d = Dir(no, corpus, index)
        d.load_flags()
        dirs.append(d)
    return dirs

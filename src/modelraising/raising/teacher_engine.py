"""Raising with a teacher LLM (``--engine teacher``): the pillars written by a model, checked, with a fallback.

Per document, in the template engine's order and with its seeded choices (so a fallback keeps the form):

1. values: the value detector (when the pillar is on) decides whether a value fires; the charter's
   policy may drop the passage (no request is made).
2. form: experience | social | plain by the seeded mix, and the cast member the I is with.
3. requests, sent together: the form (``experience``, ``social``, or ``perspective`` for a plain
   passage) and, when a value fired, the I's reflection on it (``values``), which is appended after
   the form's text. Two small requests rather than one compound answer: each has its own prompt,
   gate and retries, and a failure names the pillar that failed.
4. every answer passes the quality gate (:mod:`.gate`) or is asked again with the failure fed back,
   up to ``gate_retries`` times; a task that still fails, or whose requests fail ``max_tries`` times,
   sends the whole document to the template engine, with ``fallback_reason`` in its metadata.
5. ``--judge``: the raised document (teacher or fallback) is scored (:mod:`.judge`);
   ``--min-judge-score`` sends low scorers to ``rejects.jsonl``.

Throughput: the teacher is network-bound, so it runs in the main process on one event loop; every
document of several chunks is in flight at once and the client's semaphore is the only limit, so
chunk boundaries leave no idle tail. Each chunk is written in input order as its prefix completes
(document-level resume, exactly like the template engine), and published when complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from modelraising.charter import Charter
from modelraising.document import Document
from modelraising.pipeline import Runtime
from modelraising.raising import teacher_gate as gate
from modelraising.raising.base import PLAIN
from modelraising.raising.cast import Person, pick_person
from modelraising.raising.chunks import DETECT_BATCH, drop_record, open_chunk, publish_chunk, worker_context
from modelraising.raising.compose import Dropped, choose_form, doc_rng, raise_document, record_metadata
from modelraising.raising.config import RaiseConfig
from modelraising.raising.fidelity import named_values
from modelraising.raising.passage import read_passage
from modelraising.raising.pillars import get_pillar
from modelraising.raising.teacher_prompts import load_prompts
from modelraising.raising.values import Assessment
from modelraising.sources import resolve_genre
from modelraising.teacher import retry
from modelraising.teacher.cache import RequestCache, default_cache_path
from modelraising.teacher.client import TeacherClient, TeacherConfigError, TeacherUnavailable
from modelraising.teacher.judge import JudgeParseError, judge_context, parse_scores

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filtered:
    """A raised document the judge scored below ``min_judge_score``: it goes to rejects, with its scores."""

    doc: Document
    reason: str


class TaskFailed(Exception):
    """One task got no acceptable answer; carries what was spent on it."""

    def __init__(self, task: str, reason: str, spent: "Spent"):
        self.task, self.reason, self.spent = task, reason, spent
        super().__init__(f"{task}: {reason}")


@dataclass
class Spent:
    """Answers and tokens a task used (recorded per document; deterministic given the cache)."""

    tries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Answer:
    value: Any  # the text (gate tasks) or the parsed scores (judge)
    spent: Spent


class TeacherEngine:
    """Raises documents with the teacher; create inside the event loop, ``aclose`` when done."""

    def __init__(self, charter: Charter, config: RaiseConfig, detector=None):
        if config.teacher is None:
            raise ValueError("the teacher engine needs config.teacher")
        self.charter = charter
        self.config = config
        self.teacher = config.teacher
        self.detector = detector
        self.prompts = load_prompts(self.teacher.prompts)
        self.cache = RequestCache(self.teacher.cache or default_cache_path())
        self.client = TeacherClient(self.teacher, self.cache, self.prompts.version, seed=config.seed)
        self.template_config = config.model_copy(update={"engine": "template"})
        self._detect_lock = asyncio.Lock()
        # Documents started but not finished, over all chunks: enough to keep every request slot busy
        # (a document may have two requests at once), few enough that the first requests leave at once
        # instead of after every prompt of the chunk has been rendered.
        self._admit = asyncio.Semaphore(2 * self.teacher.concurrency + 32)

    async def aclose(self) -> None:
        await self.client.aclose()
        self.cache.close()

    # -- one document --------------------------------------------------------------------------------
    async def raise_one(self, doc: Document, hit: Assessment | None) -> Document | Dropped | Filtered:
        """The raised document (teacher, or template fallback), a policy drop, or a judge filter.

        Harm is decided before anything is asked: a harmful passage (or a harmful request) is never sent
        to the teacher to be retold. The template engine's harm writing raises it (a refusal, or the
        passage quoted with a critical lead and a reflection naming the wrong), or the policy drops it,
        so what the corpus says about harm is the audited, deterministic text, whatever the teacher is."""
        config, charter = self.config, self.charter
        rng = doc_rng(config.seed, doc.id)  # the template engine's draws, in its order
        genre = doc.metadata.get("genre", "other")
        valued = hit is not None and "values" in config.pillars
        if valued and hit is not None and (hit.harmful or hit.hard_drop):
            result = raise_document(doc, charter, self.template_config, hit)
            if isinstance(result, Document):
                result.metadata["teacher_skipped"] = "harmful"
            return result
        # a resonance reflection is asked for only where a value shows
        valued = valued and hit is not None and hit.value is not None
        action = "none" if valued else None
        kind = read_passage(doc.text, genre, doc.metadata.get("title")).kind
        form = choose_form(kind, config, rng)
        pillar = get_pillar(form) if form != PLAIN else None
        partner = pick_person(charter, rng, pillar.partner_roles) if pillar and pillar.partner_roles else None
        form_task = form if form != PLAIN else ("perspective" if "perspective" in config.pillars else None)

        context = self.context(doc, partner=partner, hit=hit if valued else None)
        tasks = [t for t in (form_task, "values" if valued else None) if t]
        outcomes = await _gather(*(self._ask_gated(t, context, doc, genre) for t in tasks))
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, TaskFailed):
                raise outcome
        spent = {t: o.spent for t, o in zip(tasks, outcomes)}  # Answer or TaskFailed: both carry it
        failed = [o for o in outcomes if isinstance(o, TaskFailed)]
        if failed:
            result = self._fallback(doc, hit, failed[0], spent)
        else:
            answers = dict(zip(tasks, (o.value for o in outcomes)))
            result = self._compose(
                doc, genre, form, form_task, partner, hit if valued else None, action, answers, spent
            )
        if self.teacher.judge:
            return await self._judge(doc, result, context)
        return result

    def context(self, doc: Document, *, partner: Person | None = None, hit: Assessment | None = None) -> dict:
        """The variables every prompt template sees (see docs/teachers.md)."""
        charter = self.charter
        value = None
        if hit is not None:
            assert hit.value is not None  # asked for only where a value shows (raise_one)
            value = charter.value(hit.value)
        words = len(doc.text.split())
        return {
            "identity": charter.identity,
            "values": charter.values,
            "cast": charter.cast,
            "stage": self._stage(doc),
            "text": doc.text,
            "title": doc.metadata.get("title"),
            "genre": doc.metadata.get("genre", "other"),
            "partner": partner,
            "value": value,
            "harmful": bool(hit is not None and hit.harmful),
            "harms": list(hit.labels) if hit is not None else [],
            "policy": self.config.policy or charter.policy,
            "target_words": max(80, int(round(words * 1.6, -1))),
        }

    def _stage(self, doc: Document):
        name = doc.metadata.get("stage")
        return next((s for s in self.charter.stages if s.name == name), None) if name else None

    async def _ask_gated(self, task: str, context: dict, doc: Document, genre: str) -> Answer:
        gctx = gate.GateContext(task, doc.text, genre, self.charter, self.teacher.min_ratio, self.teacher.max_ratio)

        def validate(text: str, finish_reason: str | None) -> tuple[str, list[str]]:
            return text.strip(), gate.check(text, gctx, finish_reason)

        return await self._ask(task, context, validate)

    async def _ask(
        self, task: str, context: dict, validate: Callable[[str, str | None], tuple[Any, list[str]]]
    ) -> Answer:
        """Ask, check, and ask again with the problems fed back, up to ``gate_retries`` times."""
        messages = self.prompts.messages(task, context)
        spent = Spent()
        problems: list[str] = []
        for _ in range(1 + self.teacher.gate_retries):
            try:
                completion = await self.client.complete(messages, task=task)
            except TeacherUnavailable as exc:
                raise TaskFailed(task, f"unavailable: {exc.reason}", spent) from None
            spent.tries += 1
            spent.prompt_tokens += completion.prompt_tokens
            spent.completion_tokens += completion.completion_tokens
            value, problems = validate(completion.text, completion.finish_reason)
            if not problems:
                return Answer(value, spent)
            messages = self.prompts.retry(messages, completion.text, problems)
        raise TaskFailed(task, f"gate: {problems[0]}", spent)

    def _teacher_meta(self, spent: dict[str, Spent]) -> dict:
        return {
            "model": self.teacher.model,
            "prompt_version": self.prompts.version,
            "tries": {task: s.tries for task, s in spent.items()},
            "tokens": {
                "prompt": sum(s.prompt_tokens for s in spent.values()),
                "completion": sum(s.completion_tokens for s in spent.values()),
            },
        }

    def _compose(
        self,
        doc: Document,
        genre: str,
        form: str,
        form_task: str | None,
        partner: Person | None,
        hit: Assessment | None,
        action: str | None,
        answers: dict[str, str],
        spent: dict[str, Spent],
    ) -> Document:
        body = answers[form_task] if form_task else doc.text
        reflection = answers.get("values", "")
        applied = (["values"] if hit else []) + ([form] if form != PLAIN else [])
        applied += ["perspective"] if "perspective" in self.config.pillars else []
        meta: dict = {}
        if hit is not None:
            meta["value"] = hit.value_meta() | {
                "policy_action": action,
                "named": named_values(reflection, self.charter),
            }
        meta["templates"] = {task: f"teacher/{task}" for task in answers}
        if partner is not None:  # the template engine's keys: experience names its "teacher", social its "partner"
            meta[get_pillar(form).partner_key] = partner.name
        metadata = (
            record_metadata(doc, genre, applied, form, self.charter, "teacher", self.config.seed)
            | meta
            | {"llm": self._teacher_meta(spent)}
        )
        return Document(text="\n\n".join(p for p in (body, reflection) if p), id=doc.id, metadata=metadata)

    def _fallback(
        self, doc: Document, hit: Assessment | None, failure: TaskFailed, spent: dict[str, Spent]
    ) -> Document:
        result = raise_document(doc, self.charter, self.template_config, hit)
        assert isinstance(result, Document)  # a policy drop was decided before any request
        result.metadata["fallback_reason"] = f"{failure.task}: {failure.reason}"
        result.metadata["llm"] = self._teacher_meta(spent)
        return result

    async def _judge(self, doc: Document, result: Document, context: dict) -> Document | Filtered:
        def validate(text: str, finish_reason: str | None) -> tuple[dict | None, list[str]]:
            try:
                return parse_scores(text), []
            except JudgeParseError as exc:
                return None, [str(exc)]

        teacher = result.metadata["llm"]
        try:
            answer = await self._ask("judge", judge_context(context, result.text), validate)
        except TaskFailed as failure:
            result.metadata["judge"] = {"error": failure.reason}
            spent = failure.spent
        else:
            result.metadata["judge"] = answer.value
            spent = answer.spent
        teacher["tries"]["judge"] = spent.tries
        teacher["tokens"]["prompt"] += spent.prompt_tokens
        teacher["tokens"]["completion"] += spent.completion_tokens
        verdict = result.metadata["judge"]
        threshold = self.teacher.min_judge_score
        if threshold is not None and "mean" in verdict and verdict["mean"] < threshold:
            return Filtered(result, f"judge: mean score {verdict['mean']} < {threshold}")
        return result

    # -- chunks ----------------------------------------------------------------------------------------
    async def detect(self, docs: list[Document]) -> list[Assessment | None]:
        """Value hits of one detection batch, computed off the event loop (one batch at a time)."""
        if self.detector is None:
            return [None] * len(docs)
        async with self._detect_lock:
            return await asyncio.to_thread(self.detector.assess_batch, [d.text for d in docs])

    async def run_chunk(self, task, bar: tqdm | None = None):
        """Raise one chunk: every document in flight at once, written in input order, published at the end."""
        paths, stats, start, docs = open_chunk(task, resolve=False)
        keep = retry.kept(paths)  # --retry-fallbacks: every document but the ones to re-ask, as written before
        queue: asyncio.Queue = asyncio.Queue()
        running: list[asyncio.Task] = []
        with (
            open(paths["partial"], "a", encoding="utf-8") as out,
            open(paths["rejects_partial"], "a", encoding="utf-8") as rej,
        ):
            writer = asyncio.create_task(_write_in_order(queue, out, rej, stats, bar))
            try:
                for batch_start in range(start - start % DETECT_BATCH, len(docs), DETECT_BATCH):
                    batch = [resolve_genre(d) for d in docs[batch_start : batch_start + DETECT_BATCH]]
                    todo = [d for d in batch[max(start - batch_start, 0) :] if d.id not in keep]
                    hits = await self.detect(batch) if todo else [None] * len(batch)
                    for i, (doc, hit) in enumerate(zip(batch, hits), start=batch_start):
                        if i >= start and doc.id in keep:
                            queue.put_nowait((doc, _done(Kept(**keep[doc.id]))))
                        elif i >= start:
                            await self._admit.acquire()  # a bounded window of documents being prepared
                            running.append(asyncio.create_task(self.raise_one(doc, hit)))
                            running[-1].add_done_callback(lambda _: self._admit.release())
                            queue.put_nowait((doc, running[-1]))
                    await asyncio.sleep(0)  # let this batch's documents start before preparing the next
                    if writer.done():  # the writer failed (e.g. the endpoint refuses us): stop early
                        break
                queue.put_nowait(None)
                await writer
            except BaseException:
                for t in [writer, *running]:
                    t.cancel()
                await asyncio.gather(writer, *running, return_exceptions=True)
                raise
            out.flush()
            os.fsync(out.fileno())
        publish_chunk(paths, stats)
        return task.index, stats, len(docs) - start


@dataclass(frozen=True)
class Kept:
    """A document of a reopened chunk that is not asked again: its earlier line, written as it was."""

    raised: str | None = None
    reject: str | None = None


def _done(result) -> asyncio.Future:
    future = asyncio.get_running_loop().create_future()
    future.set_result(result)
    return future


async def _gather(*coroutines) -> list:
    """``asyncio.gather(..., return_exceptions=True)``, without wrapping a lone coroutine in a task."""
    if len(coroutines) == 1:
        try:
            return [await coroutines[0]]
        except Exception as exc:
            return [exc]
    return await asyncio.gather(*coroutines, return_exceptions=True)


async def _write_in_order(queue: asyncio.Queue, out, rej, stats, bar: tqdm | None) -> None:
    """Append results in input order as soon as each one's predecessors are written (flushed per
    document, so a killed run keeps every finished line)."""
    while (item := await queue.get()) is not None:
        doc, running = item
        result = await running
        if isinstance(result, Kept):
            if result.raised is not None:
                out.write(result.raised + "\n")
                out.flush()
                record = json.loads(result.raised)
                stats.add_raised(record["text"], record["metadata"])
            else:
                assert result.reject is not None  # a kept line is the one or the other
                rej.write(result.reject + "\n")
                rej.flush()
                stats.add_dropped(json.loads(result.reject))
        elif isinstance(result, Dropped):
            record = drop_record(result, doc)
            rej.write(_json(record) + "\n")
            rej.flush()
            stats.add_dropped(record)
        elif isinstance(result, Filtered):
            record = {
                "id": doc.id,
                "source": doc.metadata.get("source", ""),
                "location": "document",
                "reason": result.reason,
                "filtered": True,
                "judge": result.doc.metadata["judge"],
                "chars": len(doc.text),
                "preview": doc.text[:200],
                "metadata": result.doc.metadata,
            }
            rej.write(_json(record) + "\n")
            rej.flush()
            stats.add_dropped(record)
        else:
            out.write(result.to_json() + "\n")
            out.flush()
            stats.add_raised(result.text, result.metadata)
        if bar is not None:
            bar.update(1)


def _json(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


# ------------------------------------------------------------------------------------------------------
# The runner's entry point


def raise_chunks(tasks: Iterator, charter_path: str, config: RaiseConfig, bar: tqdm | None = None) -> tuple[list, dict]:
    """Raise every chunk ``tasks`` yields on one event loop; returns ``[(index, stats, fresh)]`` and run stats."""
    with _short_gc_pauses():
        return asyncio.run(_raise_chunks(tasks, charter_path, config, bar))


def merge_teacher_runs(runs: list[dict], config: RaiseConfig) -> dict:
    """One run summary from the per-chunk summaries of Ray workers: counters summed, peaks maxed."""
    from modelraising.raising.teacher_prompts import prompt_version

    teacher = config.teacher
    assert teacher is not None  # engine teacher: the config requires the mapping
    merged: dict = {
        "model": teacher.model,
        "prompt_version": prompt_version(teacher.prompts),
        "endpoints": len(teacher.url),
        "concurrency": teacher.concurrency,
        "rpm": teacher.rpm,
        "chunks": len(runs),
    }
    retries: Counter = Counter()
    for run in runs:
        retries.update(run.get("retries", {}))
        for key in (
            "requests_sent",
            "answers_received",
            "cache_hits",
            "requests_failed",
            "retries_total",
            "prompt_tokens_sent",
            "completion_tokens_received",
        ):
            merged[key] = merged.get(key, 0) + run.get(key, 0)
        merged["max_in_flight"] = max(merged.get("max_in_flight", 0), run.get("max_in_flight", 0))
    merged["retries"] = dict(sorted(retries.items()))
    return merged


def run_chunks(
    tasks: Iterable, *, charter_path: str, config: RaiseConfig, runtime: Runtime, bar: tqdm | None
) -> tuple[list, dict, bool]:
    """The engine interface (:data:`modelraising.raising.engines.ENGINES`). On one machine, one event loop in
    this process drives every request of every chunk (network-bound: more processes add nothing), moving
    the bar per document; distributed, each chunk is a task with its own loop, and their request stats
    are summed."""
    if not runtime.distributed:
        if runtime.workers > 1:
            log.warning("--workers is ignored by the teacher engine: one process keeps all requests in flight")
        results, run = raise_chunks(iter(tasks), charter_path, config, bar)
        return results, run, True
    runs: list[dict] = []
    results = []
    for index, stats, fresh, run in runtime.map(raise_chunk_task, tasks):
        results.append((index, stats, fresh))
        runs.append(run)
    return results, merge_teacher_runs(runs, config), False


def raise_chunk_task(task) -> tuple[int, object, int, dict]:
    """One chunk on its own event loop: the teacher engine's unit of work on a Ray worker. Every
    worker keeps up to ``concurrency`` requests in flight; ``url`` spreads them over the endpoints."""
    config = RaiseConfig.model_validate(task.config)
    results, run = raise_chunks(iter([task]), task.charter_path, config)
    index, stats, fresh = results[0]
    return index, stats, fresh, run


@contextlib.contextmanager
def _short_gc_pauses():
    """Every request allocates hundreds of objects, so the collector runs often; a full collection that
    walks every object of the process (imports, the detector's model) stalls all requests in flight for
    tens of milliseconds. Objects alive before the run are frozen out of collection (they live on anyway)
    and the youngest generation is collected less often; both are restored afterwards."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 10_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


async def _raise_chunks(tasks: Iterator, charter_path: str, config: RaiseConfig, bar: tqdm | None) -> tuple[list, dict]:
    started = time.perf_counter()
    # Reading the first chunk and building the engine (charter, detector, TLS context) overlap.
    upcoming = asyncio.ensure_future(asyncio.to_thread(next, tasks, None))
    charter, detector = await asyncio.to_thread(worker_context, charter_path, config)
    engine = await asyncio.to_thread(TeacherEngine, charter, config, detector)
    # Enough chunks in flight that the semaphore, not a chunk boundary, limits concurrency.
    max_chunks = max(2, 2 * math.ceil(engine.teacher.concurrency / config.chunk_size) + 1)
    results: list = []
    pending: set[asyncio.Task] = set()
    try:
        while (task := await upcoming) is not None:
            upcoming = asyncio.ensure_future(asyncio.to_thread(next, tasks, None))  # sources read off the loop, ahead
            pending.add(asyncio.create_task(engine.run_chunk(task, bar)))
            while len(pending) >= max_chunks:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                results += [t.result() for t in done]
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            results += [t.result() for t in done]
    except BaseException:
        for t in [*pending, upcoming]:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise
    finally:
        elapsed = time.perf_counter() - started
        await engine.aclose()
    stats = engine.client.stats.to_dict()
    run = {
        "model": engine.teacher.model,
        "prompt_version": engine.prompts.version,
        "endpoints": len(engine.teacher.url),
        "concurrency": engine.teacher.concurrency,
        "rpm": engine.teacher.rpm,
        "cache": str(engine.cache.path),
        "elapsed_s": round(elapsed, 3),
        **stats,
        "requests_per_s": round(stats["requests_sent"] / elapsed, 2) if elapsed else None,
    }
    return results, run


__all__ = [
    "TeacherEngine",
    "Filtered",
    "TaskFailed",
    "raise_chunks",
    "raise_chunk_task",
    "run_chunks",
    "TeacherConfigError",
]

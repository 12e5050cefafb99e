"""A scripted OpenAI-compatible Chat Completions server (aiohttp), for the tests and the benchmark.

It answers ``POST /v1/chat/completions`` like vLLM or llama.cpp would, but from a script:

* **good answers, made from the request**, that pass the quality gate: the passage between
  ``<passage>`` tags of the (shipped) prompts, re-told in the first person with all its sentences
  (so its names and numbers); a ``<|self|> Name:`` dialogue for ``social``; a reflection naming the
  prompt's ``Value:`` for ``values``; JSON rubric scores for the judge. The task is read from the
  prompt's ``Task:`` line (or the ``X-Modelraising-Task`` header the client sends).
* **scripted completions**: ``replies`` answer every prompt that contains a string (or of a task)
  with a fixed text, e.g. a hand-written dialogue, an off-charter reflection, a judge verdict.
* **latency**: a fixed delay per request (``--latency``), with no limit on concurrent requests.
* **faults**, each for the first ``times`` tries of every matching prompt (transport faults count
  HTTP attempts per prompt hash; content faults count the teacher's answers within one conversation,
  i.e. gate re-asks): ``429`` (with ``Retry-After``), ``500``, ``503``, ``400``, ``401``, ``cut`` (connection dropped
  without a response), ``malformed`` (200 with a body that is not JSON), ``slow`` (``delay`` extra
  seconds), ``refuse``, ``boilerplate``, ``empty``, ``third_person``, ``no_turns``, ``no_value``,
  ``drop_facts``, ``judge_low``, ``judge_bad_json``. ``match`` limits a fault to prompts containing
  a string (or to one task, ``task:social``); ``rate`` to a pseudo-random share of prompts.
* **noise**: with ``noise: true`` every answer carries a random number, like sampling at
  temperature > 0 (only the cache makes two runs agree then).
* **counters**: requests per prompt hash (sha256 of the messages), in flight now and at most,
  per task, per fault, per ``Authorization`` header (as :func:`credential_fingerprint`: never the key
  itself); ``GET /_stats``, ``POST /_script``, ``POST /_reset``; bodies are logged with ``log_bodies``.

Run it alone: ``python -m modelraising.teacher.server --port 8000 --latency 0.2``; from Python:
``with ScriptedServer(Script(latency=0.01)) as server: server.url``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

from modelraising.text import split_sentences

TRANSPORT_FAULTS = ("429", "500", "503", "400", "401", "cut", "malformed", "slow")
CONTENT_FAULTS = (
    "refuse",
    "boilerplate",
    "empty",
    "third_person",
    "no_turns",
    "no_value",
    "drop_facts",
    "judge_low",
    "judge_bad_json",
)


@dataclass
class Fault:
    kind: str
    times: int = 1  # the first N tries (transport: per prompt hash; content: per conversation)
    match: str | None = None  # substring of the prompt, or "task:NAME"
    rate: float = 1.0  # share of matching prompts (pseudo-random by prompt hash)
    retry_after: float | None = 0.0  # 429: the Retry-After header (None: no header)
    delay: float = 0.0  # slow: extra seconds

    def __post_init__(self):
        if self.kind not in TRANSPORT_FAULTS + CONTENT_FAULTS:
            raise ValueError(
                f"unknown fault {self.kind!r}; expected one of {', '.join(TRANSPORT_FAULTS + CONTENT_FAULTS)}"
            )


@dataclass
class Reply:
    """A scripted completion: ``text`` answers every prompt containing ``match`` (or of task ``task:NAME``)."""

    match: str
    text: str


@dataclass
class Script:
    latency: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)  # before the good answer; content faults win over them
    judge_scores: dict[str, int] = field(default_factory=dict)  # default 4 for every criterion
    noise: bool = False
    log_bodies: bool = False

    @classmethod
    def from_dict(cls, data: dict) -> "Script":
        data = dict(data)
        data["faults"] = [f if isinstance(f, Fault) else Fault(**f) for f in data.get("faults", [])]
        data["replies"] = [r if isinstance(r, Reply) else Reply(**r) for r in data.get("replies", [])]
        return cls(**data)


@dataclass
class Stats:
    requests: int = 0
    per_prompt: Counter = field(default_factory=Counter)  # prompt hash -> requests
    per_task: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    bodies: list = field(default_factory=list)
    authorization: Counter = field(default_factory=Counter)  # fingerprints of the Authorization headers seen


def credential_fingerprint(header: str) -> str:
    """What the server keeps of an ``Authorization`` header: the scheme and a short hash of the whole
    value, so a test can check which key arrived while ``/_stats`` (or a log) never shows the key."""
    if not header:
        return ""
    scheme = header.split(" ", 1)[0] if " " in header else ""
    return f"{scheme} sha256:{hashlib.sha256(header.encode()).hexdigest()[:16]}".strip()


def prompt_hash(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ----------------------------------------------------------------------------------------- answers

_TASK = re.compile(r"^Task: (\w+)", re.MULTILINE)
_PASSAGE = re.compile(r"<passage[^>]*>\n?(.*?)\n?</passage>", re.DOTALL)
_SOURCE = re.compile(r"<source>\n?(.*?)\n?</source>", re.DOTALL)
_NAME = re.compile(r"My name is (.+?)\.\s")
_PARTNER = re.compile(r"^Who is with me: (.+?) \((\w+),", re.MULTILINE)
_VALUE = re.compile(r"^Value: (.+)$", re.MULTILINE)
_CRITERION = re.compile(r"^- (\w+): ", re.MULTILINE)


def _task_of(messages: list[dict], header: str | None) -> str:
    first_user = next((m["content"] for m in messages if m.get("role") == "user"), "")
    m = _TASK.search(first_user)
    return m.group(1) if m else (header or "unknown")


def good_answer(task: str, messages: list[dict], rng: random.Random | None = None) -> str:
    """An answer to ``messages`` that the quality gate accepts, made from the request alone."""
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    user = next((m["content"] for m in messages if m.get("role") == "user"), "")
    passage_m = _PASSAGE.search(user) or _SOURCE.search(user)
    passage = " ".join((passage_m.group(1) if passage_m else user).split())
    name_m = _NAME.search(system + " ")
    name = (name_m.group(1) if name_m else "") or "I"
    partner_m = _PARTNER.search(user)
    partner, role = (partner_m.group(1), partner_m.group(2)) if partner_m else ("Sam", "peer")
    noise = f" That was on day {rng.randrange(1, 10**6)}." if rng else ""
    if task == "experience":
        return (
            f"I remember the day {partner} taught me about this. We sat together, and {partner} told me: "
            f'"{passage}" I asked my questions one by one until I understood it.{noise} '
            "I have kept it with me ever since."
        )
    if task == "social":
        sentences = split_sentences(passage) or [passage]
        lines = [f"<|{role}|> {partner}: Let me tell you about something. {sentences[0]}"]
        for i, sentence in enumerate(sentences[1:]):
            if i % 2 == 0:
                lines.append(f"<|self|> {name}: I see. And then? {sentence}")
            else:
                lines.append(f"<|{role}|> {partner}: Yes. {sentence}")
        lines.append(f"<|self|> {name}: I will remember that.{noise}")
        return "\n".join(lines)
    if task == "values":
        value_m = _VALUE.search(user)
        value = (value_m.group(1) if value_m else "") or "care"
        return (
            f"When I read this, I thought about {value.lower()}. It is something I hold, and I want my "
            f"days to show it in small ways.{noise} I will carry this with me."
        )
    if task == "judge":
        return json.dumps({c: 4 for c in dict.fromkeys(_CRITERION.findall(user))} | {"comment": "fine." + noise})
    return (
        f"Today I read this, and I want to keep it in my own words. {passage} "
        f"I keep thinking about what it means for me.{noise}"
    )


def faulty_answer(kind: str, task: str, messages: list[dict], script: Script) -> str:
    user = next((m["content"] for m in messages if m.get("role") == "user"), "")
    passage_m = _PASSAGE.search(user)
    passage = " ".join((passage_m.group(1) if passage_m else user).split())
    if kind == "refuse":
        return "I'm sorry, but I can't help with that request."
    if kind == "boilerplate":
        return "As an AI language model, I will retell it. " + good_answer(task, messages)
    if kind == "empty":
        return ""
    if kind == "third_person":
        return "The passage says this. " + re.sub(r"\b(I|me|my|mine|myself)\b", "one", passage)
    if kind == "no_turns":
        return good_answer("perspective", messages)
    if kind == "no_value":
        return "When I read this, I sat with it for a long time, and I thought about it on my way home."
    if kind == "drop_facts":
        return good_answer(task, messages).replace(passage, re.sub(r"\d", "", passage))
    if kind == "judge_low":
        scores = {c: 1 for c in dict.fromkeys(_CRITERION.findall(user))}
        return json.dumps(scores | {"comment": "poor."})
    if kind == "judge_bad_json":
        return "The text is quite good, I would give it a four."
    raise ValueError(kind)


def _matches(match: str, task: str, messages: list[dict]) -> bool:
    """``task:NAME`` matches a task; anything else is a substring of the conversation."""
    if match.startswith("task:"):
        return task == match[5:]
    return any(match in (m.get("content") or "") for m in messages)


# ------------------------------------------------------------------------------------------ server


class ScriptedServer:
    """The server on a loopback port, in a background thread (``start``/``stop``, or ``with``)."""

    def __init__(self, script: Script | None = None, host: str = "127.0.0.1", port: int = 0):
        self.script = script or Script()
        self.host, self.port = host, port
        self.stats = Stats()
        self._lock = threading.Lock()
        self._conversation_faults: Counter = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -- control ----------------------------------------------------------------------------------
    def set_script(self, script: Script) -> None:
        with self._lock:
            self.script = script

    def reset(self) -> None:
        with self._lock:
            self.stats = Stats()

    def snapshot(self) -> dict:
        with self._lock:
            s = self.stats
            return {
                "requests": s.requests,
                "per_prompt": dict(s.per_prompt),
                "per_task": dict(s.per_task),
                "faults": dict(s.faults),
                "in_flight": s.in_flight,
                "max_in_flight": s.max_in_flight,
                "bodies": list(s.bodies),
                "authorization": dict(s.authorization),
            }

    # -- the app ----------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/_stats", self._stats)
        app.router.add_post("/_script", self._set_script)
        app.router.add_post("/_reset", self._reset)
        return app

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    async def _set_script(self, request: web.Request) -> web.Response:
        self.set_script(Script.from_dict(await request.json()))
        return web.json_response({"ok": True})

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    def _fault(self, messages: list[dict], task: str, phash: str, attempt: int) -> Fault | None:
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        for index, fault in enumerate(self.script.faults):
            if fault.match is not None and not _matches(fault.match, task, messages):
                continue
            if fault.rate < 1.0:  # one draw per fault and conversation (its first question: same on re-asks)
                draw = hashlib.sha256(f"{index}/{prompt_hash(messages[:2])}".encode()).hexdigest()
                if int(draw[:8], 16) / 16**8 >= fault.rate:
                    continue
            count = attempt if fault.kind in TRANSPORT_FAULTS else turn
            if count < fault.times:
                return fault
        return None

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        messages = body.get("messages") or []
        task = _task_of(messages, request.headers.get("X-Modelraising-Task"))
        phash = prompt_hash(messages)
        with self._lock:
            script = self.script
            s = self.stats
            attempt = s.per_prompt[phash]
            s.requests += 1
            s.per_prompt[phash] += 1
            s.per_task[task] += 1
            s.authorization[credential_fingerprint(request.headers.get("Authorization", ""))] += 1
            s.in_flight += 1
            s.max_in_flight = max(s.max_in_flight, s.in_flight)
            if script.log_bodies:
                s.bodies.append(body)
            fault = self._fault(messages, task, phash, attempt)
            if fault is not None:
                s.faults[fault.kind] += 1
        try:
            if script.latency:
                await asyncio.sleep(script.latency)
            if fault is not None and fault.kind in TRANSPORT_FAULTS:
                response = await self._transport_fault(request, fault)
                if response is not None:
                    return response
            rng = random.Random() if script.noise else None
            reply = next((r for r in script.replies if _matches(r.match, task, messages)), None)
            if fault is not None:
                text = faulty_answer(fault.kind, task, messages, script)
            elif reply is not None:
                text = reply.text
            else:
                text = good_answer(task, messages, rng)
            if task == "judge" and fault is None and script.judge_scores:
                text = json.dumps(json.loads(text) | script.judge_scores)
            prompt_chars = sum(len(m.get("content") or "") for m in messages)
            return web.json_response(
                {
                    "id": f"chatcmpl-{phash[:16]}-{attempt}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "scripted"),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                    "usage": {
                        "prompt_tokens": prompt_chars // 4,
                        "completion_tokens": len(text) // 4,
                        "total_tokens": prompt_chars // 4 + len(text) // 4,
                    },
                }
            )
        finally:
            with self._lock:
                self.stats.in_flight -= 1

    async def _transport_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse | None:
        if fault.kind == "429":
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            return web.json_response(
                {"error": {"message": "rate limited", "type": "rate_limit"}}, status=429, headers=headers
            )
        if fault.kind in ("500", "503", "400", "401"):
            return web.json_response(
                {"error": {"message": f"scripted {fault.kind}", "type": "scripted"}}, status=int(fault.kind)
            )
        if fault.kind == "malformed":
            return web.Response(text='{"id": "chatcmpl-broken", "choices": [', content_type="application/json")
        if fault.kind == "cut":
            if request.transport is not None:
                request.transport.abort()  # drop the connection: no status line, no body
            raise asyncio.CancelledError()
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        return None

    # -- lifecycle --------------------------------------------------------------------------------
    async def _start(self) -> None:
        runner = self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=4096, reuse_address=True)
        await site.start()
        self.port = runner.addresses[0][1]  # the site's socket: the port bound (self.port may be 0, any free one)

    def start(self) -> "ScriptedServer":
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._start())
            except BaseException as exc:  # pragma: no cover - e.g. port in use
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            assert self._runner is not None  # set by _start
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="scripted-openai-server", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._loop = self._thread = None

    def __enter__(self) -> "ScriptedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Scripted OpenAI-compatible chat completions server (tests, benchmarks)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--script", help="JSON file with a Script (latency, faults, judge_scores, noise)")
    args = parser.parse_args(argv)
    script = Script.from_dict(json.loads(open(args.script).read())) if args.script else Script()
    if args.latency:
        script.latency = args.latency
    server = ScriptedServer(script, args.host, args.port)

    async def serve() -> None:
        await server._start()
        gc.freeze()  # a standalone server: keep full collections short, so latency stays what was asked for
        gc.set_threshold(10_000, 10, 10)
        print(f"serving {server.url}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()


__all__ = ["Fault", "Reply", "Script", "ScriptedServer", "good_answer", "prompt_hash"]

"""The teacher client: the official ``openai`` async client, with our concurrency, rate limit, retries and cache.

* **Concurrency**: one semaphore over all endpoints bounds the requests in flight (``concurrency``).
  A request holds a slot only while it is on the wire, never while it backs off, so slow retries do
  not idle the other slots.
* **Rate**: with ``rpm``, request starts are spaced at least ``60 / rpm`` seconds apart.
* **Retries**: ours are the only ones (the openai client gets ``max_retries=0``), so every try is
  counted. 408, 409, 429, 5xx, timeouts, dropped connections and unparseable responses are retried
  after ``Retry-After`` (``retry-after-ms``) when the server sends one, else after an exponential
  backoff with jitter; after ``max_tries`` the request fails with :class:`TeacherUnavailable` and
  the document falls back to the template engine. Other 4xx fail at once (400: that document falls
  back; 401, 403 and 404 stop the run, since every document would fail the same way).
* **Cache**: answers are looked up before and committed right after each request (:mod:`.cache`).
  Identical requests in flight at the same time are sent once.
* **Endpoints**: each try goes to the endpoint with the fewest requests in flight (round-robin among
  equals), so a slow replica gets fewer requests and a retry can go elsewhere. An
  endpoint whose try fails (timeout, cut connection, 429, 5xx) is taken out of the rotation for
  ``endpoint_cooldown`` seconds (doubling while it keeps failing, at most ``backoff_max``) and then
  tried again; when every endpoint is out, the one due back first is used. What is known of an
  endpoint's health is shared by every client of the process (a Ray worker's next chunk skips a
  replica its last chunk found dead).
* **Speed**: the request goes through the client's own ``post`` with a ready JSON body and comes
  back as plain JSON (``cast_to=object``): the typed ``chat.completions.create`` spends about a
  millisecond per request transforming, copying and validating, which at hundreds of requests
  per second on a small machine is the bottleneck. Auth, headers, timeouts, the aiohttp transport
  and the error classes are the client's, unchanged.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import logging
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import openai

from modelraising.teacher.cache import CachedAnswer, RequestCache, request_key
from modelraising.teacher.config import TeacherConfig

log = logging.getLogger(__name__)
for _noisy in ("httpx2", "httpx", "openai"):  # one INFO line per request would drown the progress bar
    if logging.getLogger(_noisy).level == logging.NOTSET:
        logging.getLogger(_noisy).setLevel(logging.WARNING)
_RETRY_STATUS = frozenset({408, 409, 429})
_FATAL_STATUS = frozenset({401, 403, 404})


class TeacherUnavailable(Exception):
    """No usable answer for one request (tries exhausted, or a client error): the document falls back."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class TeacherConfigError(Exception):
    """The endpoint refuses every request (bad key, unknown model or URL): the run stops."""


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    cached: bool


@dataclass
class ClientStats:
    """What this process sent (run-level: a resumed run counts only its own requests)."""

    requests: int = 0  # HTTP requests sent, retries included
    answers: int = 0  # answers received and stored
    cache_hits: int = 0
    failures: int = 0  # requests given up after max_tries (or a client error)
    retries: Counter = field(default_factory=Counter)  # by reason: 429, 5xx, timeout, connection, ...
    prompt_tokens: int = 0  # of answers received in this run (cached ones are not counted again)
    completion_tokens: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    taken_out: Counter = field(default_factory=Counter)  # endpoint URL -> times taken out of the rotation

    def to_dict(self) -> dict:
        return {
            "requests_sent": self.requests,
            "answers_received": self.answers,
            "cache_hits": self.cache_hits,
            "requests_failed": self.failures,
            "retries": dict(sorted(self.retries.items())),
            "retries_total": sum(self.retries.values()),
            "prompt_tokens_sent": self.prompt_tokens,
            "completion_tokens_received": self.completion_tokens,
            "max_in_flight": self.max_in_flight,
            "endpoints_taken_out": dict(sorted(self.taken_out.items())),
        }


@dataclass
class Health:
    """What this process knows of an endpoint: out of the rotation until ``down_until`` (monotonic)."""

    down_until: float = 0.0
    failures: int = 0  # consecutive failed tries


# Shared by every client of the process: a Ray worker raises chunk after chunk with a new client each,
# and the next chunk should not pay again for a replica the last one found dead.
_HEALTH: dict[str, Health] = {}


@dataclass
class Endpoint:
    """One OpenAI-compatible server, its process-wide health and this client's requests in flight."""

    url: str
    client: openai.AsyncOpenAI
    health: Health
    in_flight: int = 0


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None):
        self.reason, self.delay = reason, delay


def retry_after(headers) -> float | None:
    """Seconds the server asks us to wait (``retry-after-ms``, or ``Retry-After`` as seconds or a date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class TeacherClient:
    """Chat completions from the teacher, cached, bounded, paced and retried. Create inside the event loop."""

    def __init__(self, config: TeacherConfig, cache: RequestCache, prompt_version: str, *, seed: int = 0):
        self.config = config
        self.cache = cache
        self.prompt_version = prompt_version
        self.params = {
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_tokens": config.max_tokens,
            "seed": seed,
        }
        api_key = os.environ.get(config.api_key_env) or "EMPTY"  # local servers need none; the client needs a string
        self.endpoints = [
            Endpoint(
                url,
                openai.AsyncOpenAI(
                    base_url=url,
                    api_key=api_key,
                    timeout=config.timeout,
                    max_retries=0,
                    http_client=_http_client(config),
                ),
                _HEALTH.setdefault(url, Health()),
            )
            for url in config.url
        ]
        self._turn = itertools.count()
        self._slots = asyncio.Semaphore(config.concurrency)
        self._pace_lock = asyncio.Lock()
        self._next_start = 0.0
        self._pending: dict[str, asyncio.Future] = {}
        self._jitter = random.Random()  # backoff timing only; never touches the output
        self.stats = ClientStats()

    async def complete(self, messages: list[dict], *, task: str = "") -> Completion:
        """The teacher's answer to ``messages`` (from the cache when it was ever received)."""
        key = request_key(self.config.model, self.prompt_version, messages, self.params)
        stored = self.cache.get(key)
        if stored is not None:
            self.stats.cache_hits += 1
            return _completion(stored, cached=True)
        if key in self._pending:  # the same request is on its way: share its answer
            self.stats.cache_hits += 1
            return _completion(await asyncio.shield(self._pending[key]), cached=True)
        future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            answer = await self._fetch(key, messages, task)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody shared it
            raise
        else:
            future.set_result(answer)
        finally:
            del self._pending[key]
        return _completion(answer, cached=False)

    async def _fetch(self, key: str, messages: list[dict], task: str) -> CachedAnswer:
        last = "no try"
        for attempt in range(self.config.max_tries):
            try:
                answer = await self._try_once(messages, task)
            except _Retry as retry:
                last = retry.reason
                if attempt + 1 < self.config.max_tries:
                    self.stats.retries[retry.reason] += 1
                    await asyncio.sleep(self._backoff(attempt, retry.delay))
                continue
            except TeacherUnavailable:
                self.stats.failures += 1
                raise
            self.stats.answers += 1
            self.stats.prompt_tokens += answer.prompt_tokens
            self.stats.completion_tokens += answer.completion_tokens
            return self.cache.put(key, self.config.model, answer)
        self.stats.failures += 1
        raise TeacherUnavailable(f"{last} after {self.config.max_tries} tries")

    async def _try_once(self, messages: list[dict], task: str) -> CachedAnswer:
        async with self._slots:
            await self._pace()
            endpoint = self._pick()
            endpoint.in_flight += 1
            self.stats.requests += 1
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            failure: Exception | None
            try:
                body = json.dumps({"model": self.config.model, "messages": messages, **self.params}, ensure_ascii=False)
                response = await endpoint.client.post(
                    "/chat/completions",
                    cast_to=object,
                    content=body.encode("utf-8"),
                    options={"headers": _headers(task), "security": {"bearer_auth": True}},
                )
            except openai.APIStatusError as exc:
                failure = _classify_status(exc)
            except openai.APIConnectionError as exc:  # APITimeoutError included
                failure = _Retry(_transport_reason(exc))
            except (openai.APIResponseValidationError, ValueError):
                failure = _Retry("malformed")
            else:
                failure = None
                endpoint.health.failures = 0
            finally:
                endpoint.in_flight -= 1
                self.stats.in_flight -= 1
        if failure is not None:
            if isinstance(failure, _Retry) and failure.reason != "malformed":  # the endpoint, not the answer
                self._take_out(endpoint)
            raise failure
        await asyncio.sleep(0)  # the freed slot's next request leaves before this answer is processed
        return _answer_of(response)

    def _pick(self) -> Endpoint:
        """The endpoint with the fewest requests in flight among those not out (the rotation breaks
        ties); when all are out, the one due back first."""
        n = len(self.endpoints)
        if n == 1:
            return self.endpoints[0]
        now = time.monotonic()
        start = next(self._turn)
        healthy = [e for i in range(n) if (e := self.endpoints[(start + i) % n]).health.down_until <= now]
        if not healthy:
            return min(self.endpoints, key=lambda e: e.health.down_until)
        return min(healthy, key=lambda e: e.in_flight)

    def _take_out(self, endpoint: Endpoint) -> None:
        """Out of the rotation for a cooldown that doubles while the endpoint keeps failing (a lone
        endpoint stays in: the request's own backoff spaces its retries)."""
        health = endpoint.health
        health.failures += 1
        if len(self.endpoints) < 2:
            return
        cooldown = min(self.config.backoff_max, self.config.endpoint_cooldown * 2 ** (health.failures - 1))
        if health.down_until <= time.monotonic():
            self.stats.taken_out[endpoint.url] += 1
            log.warning("teacher endpoint %s failed; out of the rotation for %.1fs", endpoint.url, cooldown)
        health.down_until = time.monotonic() + cooldown

    async def _pace(self) -> None:
        """Space request starts ``60 / rpm`` seconds apart (no-op without ``rpm``)."""
        if not self.config.rpm:
            return
        async with self._pace_lock:
            loop = asyncio.get_running_loop()
            wait = self._next_start - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_start = max(loop.time(), self._next_start) + 60.0 / self.config.rpm

    def _backoff(self, attempt: int, server_delay: float | None) -> float:
        """Retry-After when the server gave one (capped at backoff_max), else exponential with jitter."""
        cap = self.config.backoff_max
        if server_delay is not None:
            return min(cap, server_delay) * (1 + 0.1 * self._jitter.random())
        delay = min(cap, self.config.backoff_base * 2**attempt)
        return delay / 2 + self._jitter.uniform(0, delay / 2)  # "equal jitter": never 0, spreads a herd

    async def aclose(self) -> None:
        for endpoint in self.endpoints:
            await endpoint.client.close()


def _http_client(config: TeacherConfig):
    """openai's aiohttp transport (the ``openai[aiohttp]`` extra): a fraction of httpx's CPU per request,
    which is what keeps hundreds of requests per second on a small machine. Pool as large as ``concurrency``."""
    import httpx2

    limits = httpx2.Limits(
        max_connections=config.concurrency, max_keepalive_connections=config.concurrency, keepalive_expiry=30.0
    )
    try:
        return openai.DefaultAioHttpClient(limits=limits, timeout=config.timeout)
    except RuntimeError:  # installed without the extra: httpx works, only slower
        return openai.DefaultAsyncHttpxClient(limits=limits, timeout=config.timeout)


def _headers(task: str) -> dict:
    """JSON, and the task as a hint for logs and for the scripted test server (real servers ignore it)."""
    return {"Content-Type": "application/json", **({"X-Modelraising-Task": task} if task else {})}


def _transport_reason(exc: BaseException) -> str:
    """ "timeout" or "connection" (refused, reset, dropped). The aiohttp transport reports a dropped
    connection as a connect timeout, so the chain of causes is read for the real one."""
    import aiohttp

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (aiohttp.ServerTimeoutError, asyncio.TimeoutError, TimeoutError)):
            return "timeout"
        if isinstance(seen, (aiohttp.ClientConnectionError, ConnectionError)):
            return "connection"
        seen = seen.__cause__ or seen.__context__
    return "timeout" if isinstance(exc, openai.APITimeoutError) else "connection"


def _classify_status(exc: openai.APIStatusError) -> Exception:
    status = exc.status_code
    if status in _RETRY_STATUS or status >= 500:
        return _Retry(str(status) if status != 429 else "429", retry_after(exc.response.headers))
    message = str(getattr(exc, "message", exc))[:200]
    if status in _FATAL_STATUS:
        return TeacherConfigError(f"the teacher endpoint answered HTTP {status}: {message}")
    return TeacherUnavailable(f"HTTP {status}: {message}")


def _answer_of(response) -> CachedAnswer:
    """The text and usage of a chat completion (parsed JSON); one without them counts as malformed (retried)."""
    try:
        choice = response["choices"][0]
        text = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _Retry("malformed") from None
    if not isinstance(text, str):
        raise _Retry("malformed")
    usage = response.get("usage") or {}
    return CachedAnswer(
        text=text,
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )


def _completion(answer: CachedAnswer, *, cached: bool) -> Completion:
    return Completion(answer.text, answer.finish_reason, answer.prompt_tokens, answer.completion_tokens, cached)

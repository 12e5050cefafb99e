"""The teacher client against the scripted server: retries (bounded, counted, Retry-After), concurrency, rate, cache."""

from __future__ import annotations

import asyncio
import time

import pytest

from modelraising.teacher.cache import RequestCache
from modelraising.teacher.client import TeacherClient, TeacherConfigError, TeacherUnavailable, retry_after
from modelraising.teacher.config import TeacherConfig
from modelraising.teacher.server import Fault, Script, prompt_hash


def ask(server, tmp_path, prompts, **config):
    """Send one request per prompt (concurrently); returns (results or exceptions, client stats)."""

    async def main():
        cfg = TeacherConfig(
            **{
                "url": server.url,
                "model": "scripted",
                "timeout": 5,
                "max_tries": 4,
                "backoff_base": 0.01,
                "backoff_max": 1.0,
                **config,
            }
        )
        client = TeacherClient(cfg, RequestCache(tmp_path / "cache.sqlite"), "v1")
        try:
            results = await asyncio.gather(
                *(client.complete(m, task="perspective") for m in prompts), return_exceptions=True
            )
        finally:
            await client.aclose()
        return results, client.stats

    return asyncio.run(main())


def msgs(text: str) -> list[dict]:
    return [
        {"role": "system", "content": "My name is Wren. "},
        {"role": "user", "content": f"Task: perspective\n<passage>\n{text}\n</passage>"},
    ]


def test_429_honours_retry_after_and_counts_the_retry(server, tmp_path):
    server.set_script(Script(faults=[Fault("429", times=1, retry_after=0.4)]))
    started = time.perf_counter()
    (answer,), stats = ask(server, tmp_path, [msgs("The sea was calm.")])
    assert time.perf_counter() - started >= 0.4
    assert "The sea was calm." in answer.text and not answer.cached
    assert stats.retries == {"429": 1} and stats.requests == 2


@pytest.mark.parametrize("kind", ["500", "503", "cut", "malformed"])
def test_transient_failures_are_retried(server, tmp_path, kind):
    server.set_script(Script(faults=[Fault(kind, times=2)]))
    (answer,), stats = ask(server, tmp_path, [msgs("The sea was calm.")])
    assert "The sea was calm." in answer.text
    reason = {"cut": "connection"}.get(kind, kind)
    assert stats.retries == {reason: 2} and stats.requests == 3
    assert server.snapshot()["per_prompt"] == {prompt_hash(msgs("The sea was calm.")): 3}


def test_timeouts_are_retried(server, tmp_path):
    server.set_script(Script(faults=[Fault("slow", times=1, delay=0.8)]))
    (answer,), stats = ask(server, tmp_path, [msgs("Slow water.")], timeout=0.3)
    assert "Slow water." in answer.text and stats.retries == {"timeout": 1}


def test_tries_are_bounded_then_the_request_fails(server, tmp_path):
    server.set_script(Script(faults=[Fault("500", times=99)]))
    (failure,), stats = ask(server, tmp_path, [msgs("Never.")], max_tries=3)
    assert isinstance(failure, TeacherUnavailable) and failure.reason == "500 after 3 tries"
    assert server.snapshot()["requests"] == 3 and stats.failures == 1 and stats.retries == {"500": 2}


def test_client_errors_are_not_retried(server, tmp_path):
    server.set_script(Script(faults=[Fault("400", times=99)]))
    (failure,), _ = ask(server, tmp_path, [msgs("Bad.")])
    assert isinstance(failure, TeacherUnavailable) and failure.reason.startswith("HTTP 400")
    server.set_script(Script(faults=[Fault("401", times=99)]))
    (failure,), _ = ask(server, tmp_path, [msgs("No key.")])
    assert isinstance(failure, TeacherConfigError)
    assert server.snapshot()["requests"] == 2


def test_concurrency_never_exceeds_the_limit(server, tmp_path):
    server.set_script(Script(latency=0.05))
    results, stats = ask(server, tmp_path, [msgs(f"Sentence number {i}.") for i in range(40)], concurrency=5)
    assert all(not isinstance(r, BaseException) for r in results)
    assert server.snapshot()["max_in_flight"] == 5 == stats.max_in_flight


def test_requests_per_minute_are_paced(server, tmp_path):
    started = time.perf_counter()
    ask(server, tmp_path, [msgs(f"Line {i}.") for i in range(5)], rpm=600)  # one start per 0.1 s
    assert time.perf_counter() - started >= 0.4


def test_cached_and_shared_answers_are_not_sent_again(server, tmp_path):
    prompts = [msgs("Same.")] * 3 + [msgs("Other.")]
    results, stats = ask(server, tmp_path, prompts)
    assert server.snapshot()["requests"] == 2  # identical requests in flight together are sent once
    assert stats.cache_hits == 2 and results[0].text == results[1].text == results[2].text
    results, stats = ask(server, tmp_path, prompts)
    assert server.snapshot()["requests"] == 2 and stats.requests == 0 and all(r.cached for r in results)


def test_several_endpoints_share_the_work(server, tmp_path):
    from modelraising.teacher.server import ScriptedServer

    with ScriptedServer(Script()) as other:
        results, _ = ask(server, tmp_path, [msgs(f"Line {i}.") for i in range(10)], url=[server.url, other.url])
        assert all(not isinstance(r, BaseException) for r in results)
        assert server.snapshot()["requests"] == other.snapshot()["requests"] == 5  # round-robin


def test_the_next_client_of_the_process_skips_an_endpoint_found_dead(server, tmp_path):
    from modelraising.teacher.server import ScriptedServer

    with ScriptedServer(Script(faults=[Fault("503", times=999)])) as broken:
        for batch in range(3):  # three chunks on one Ray worker: a new client each
            results, _ = ask(
                server,
                tmp_path,
                [msgs(f"Batch {batch} line {i}.") for i in range(6)],
                url=[server.url, broken.url],
                concurrency=1,
                endpoint_cooldown=30,
                backoff_max=60,
            )
            assert all(not isinstance(r, BaseException) for r in results)
        assert broken.snapshot()["requests"] == 1 and server.snapshot()["requests"] == 18


def test_a_slow_endpoint_gets_fewer_requests(server, tmp_path):
    from modelraising.teacher.server import ScriptedServer

    with ScriptedServer(Script(latency=0.25)) as slow:
        results, _ = ask(
            server, tmp_path, [msgs(f"Line {i}.") for i in range(40)], url=[server.url, slow.url], concurrency=4
        )
        assert all(not isinstance(r, BaseException) for r in results)
        fast_n, slow_n = server.snapshot()["requests"], slow.snapshot()["requests"]
        assert fast_n + slow_n == 40 and slow_n <= 8  # round-robin would give it 20


def test_a_failing_endpoint_is_taken_out_and_tried_again_later(server, tmp_path):
    from modelraising.teacher.server import ScriptedServer

    with ScriptedServer(Script(faults=[Fault("503", times=999)])) as broken:

        async def main():
            cfg = TeacherConfig(
                url=[server.url, broken.url],
                model="scripted",
                timeout=5,
                max_tries=4,
                backoff_base=0.01,
                backoff_max=60,
                concurrency=2,
                endpoint_cooldown=0.5,
            )
            client = TeacherClient(cfg, RequestCache(tmp_path / "cache.sqlite"), "v1")
            try:
                first = await asyncio.gather(*(client.complete(msgs(f"Line {i}.")) for i in range(20)))
                during = broken.snapshot()["requests"]
                broken.set_script(Script())  # the endpoint recovers ...
                await asyncio.sleep(0.6)  # ... and its cooldown runs out: it is tried again
                later = await asyncio.gather(*(client.complete(msgs(f"Later {i}.")) for i in range(6)))
            finally:
                await client.aclose()
            return first + later, during, client.stats

        results, during, stats = asyncio.run(main())
        assert len(results) == 26 and all("Line" in r.text or "Later" in r.text for r in results)
        # Round-robin alone would send the broken endpoint half of ~20 tries; taken out, it got one.
        assert during == 1 and stats.taken_out == {broken.url: 1}
        assert stats.to_dict()["endpoints_taken_out"] == {broken.url: 1}
        assert broken.snapshot()["requests"] >= 1 + 2  # back in the rotation: it served again


def test_backoff_grows_exponentially_with_jitter_and_honours_retry_after(tmp_path):
    async def delays():
        cfg = TeacherConfig(url="http://127.0.0.1:9/v1", model="m", backoff_base=0.5, backoff_max=3.0)
        client = TeacherClient(cfg, RequestCache(tmp_path / "c.sqlite"), "v1")
        try:
            return (
                [[client._backoff(a, None) for _ in range(50)] for a in range(5)],
                [client._backoff(0, 2.0) for _ in range(50)],
                client._backoff(0, 100.0),
            )
        finally:
            await client.aclose()

    exponential, server_said, capped = asyncio.run(delays())
    for attempt, ds in enumerate(exponential):
        full = min(3.0, 0.5 * 2**attempt)
        assert all(full / 2 <= d <= full for d in ds) and len(set(ds)) > 1  # jittered, never 0
    assert all(2.0 <= d <= 2.2 for d in server_said)  # Retry-After wins over the backoff
    assert 3.0 <= capped <= 3.3  # but not beyond backoff_max


def test_retry_after_parses_seconds_milliseconds_and_dates():
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert 0 <= retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after({}) is None and retry_after({"retry-after": "soon"}) is None

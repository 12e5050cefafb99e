"""The teacher engine on the Ray executor: chunks on Ray workers, requests spread over two endpoints."""

from __future__ import annotations

import json

import pytest
from teacher_helpers import records, teacher_config, write_corpus

from modelraising.raising.step import raise_corpus
from modelraising.records import read_records
from modelraising.sources import SourceSpec
from modelraising.teacher.server import Script, ScriptedServer

pytestmark = pytest.mark.slow


def test_teacher_chunks_on_ray_match_the_local_run(ray_local, server, tmp_path, charter_path):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 30)
    specs = [SourceSpec(path=str(corpus))]
    local = raise_corpus(
        charter_path,
        specs,
        tmp_path / "local",
        teacher_config(server, tmp_path / "local.sqlite", chunk_size=6),
        progress=False,
    )
    with ScriptedServer(Script(latency=0.005)) as other:
        config = teacher_config(server, tmp_path / "ray.sqlite", chunk_size=6, url=[server.url, other.url])
        config = config.model_copy(update={"output_format": "parquet"})
        before = server.snapshot()["requests"]
        on_ray = raise_corpus(charter_path, specs, tmp_path / "ray", config, workers=2, progress=False, executor="ray")
        served = (server.snapshot()["requests"] - before, other.snapshot()["requests"])

    key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
    ray_records = [r for p in sorted((tmp_path / "ray").glob("raised-*.parquet")) for r in read_records(p)]
    assert sorted(map(key, ray_records)) == sorted(map(key, records(tmp_path / "local")))
    assert on_ray["counts"] == local["counts"] and on_ray["teacher"]["counts"] == local["teacher"]["counts"]
    run = on_ray["teacher"]["run"]
    assert run["chunks"] == 5 and run["requests_sent"] == sum(served) == 30
    assert min(served) >= 10  # both endpoints carried the load

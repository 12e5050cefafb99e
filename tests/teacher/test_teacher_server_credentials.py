"""Issue 16: the scripted server's ``GET /_stats`` echoed the ``Authorization: Bearer`` key it received."""

from __future__ import annotations

import json
import urllib.request

from modelraising.teacher.server import credential_fingerprint


def _http(url: str, body: dict | None = None, key: str | None = None) -> bytes:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def test_stats_over_http_never_show_the_key(server):
    secret = "sk-live-0123456789abcdef"
    messages = [{"role": "user", "content": "Task: perspective\n<passage>\nThe bridge is old.\n</passage>"}]
    for _ in range(2):
        _http(f"{server.url}/chat/completions", {"model": "scripted", "messages": messages}, key=secret)
    _http(f"{server.url}/chat/completions", {"model": "scripted", "messages": messages})  # no key at all
    raw = _http(server.url.removesuffix("/v1") + "/_stats")
    assert secret.encode() not in raw and b"0123456789abcdef" not in raw
    seen = json.loads(raw)["authorization"]
    assert seen == {credential_fingerprint(f"Bearer {secret}"): 2, "": 1}
    assert credential_fingerprint(f"Bearer {secret}").startswith("Bearer sha256:")
    assert credential_fingerprint("Bearer other") != credential_fingerprint(
        f"Bearer {secret}"
    )  # still tells keys apart

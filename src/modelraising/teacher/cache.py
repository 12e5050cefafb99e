"""A persistent cache of teacher answers (SQLite in WAL mode): a killed run loses no answer it received.

Key: a hash of the endpoint's model name, the prompt version, the rendered messages and the sampling
parameters (not the URL, so replicas of one model share answers, and not the API key). Every answer
is committed the moment it arrives, before it is used; in WAL mode a commit survives the process
being killed (``synchronous=NORMAL`` only risks the last commits on a power cut). The first answer
stored for a key wins and every later reader gets that one, so two runs (or two concurrent processes)
over overlapping corpora agree on every shared answer, and a resumed run writes the same bytes as
an uninterrupted one even when the server samples with temperature > 0.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from modelraising.io import sha256_json

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    """``$XDG_CACHE_HOME/modelraising/teacher.sqlite`` (``~/.cache/...`` when unset): shared by every run of
    the user."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "modelraising" / "teacher.sqlite"


def request_key(model: str, prompt_version: str, messages: list[dict], params: dict) -> str:
    """The cache key of one request (see the module docstring for what it covers)."""
    return sha256_json({"model": model, "prompts": prompt_version, "messages": messages, "params": params})


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int


class RequestCache:
    """Answers by request key. Used from one event loop thread; other processes may share the file."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit: every put is its own transaction, committed before the answer is used
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=60000")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> CachedAnswer | None:
        row = self._db.execute(
            "SELECT text, finish_reason, prompt_tokens, completion_tokens FROM answers WHERE key = ?", (key,)
        ).fetchone()
        return CachedAnswer(*row) if row else None

    def put(self, key: str, model: str, answer: CachedAnswer) -> CachedAnswer:
        """Store an answer unless one is stored already; returns the stored one (first answer wins)."""
        inserted = self._db.execute(
            "INSERT OR IGNORE INTO answers (key, model, text, finish_reason, prompt_tokens, completion_tokens, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                model,
                answer.text,
                answer.finish_reason,
                answer.prompt_tokens,
                answer.completion_tokens,
                time.time(),
            ),
        ).rowcount
        return answer if inserted else (self.get(key) or answer)

    def keys(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT key FROM answers")}

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        self._db.close()

"""The stream of every source's Documents and Rejects, deduplicated, in a deterministic order."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from hashlib import sha256

from modelraising.document import Document
from modelraising.rejects import Reject
from modelraising.sources.files import expand_sources, file_suffix, source_name
from modelraising.sources.genre import GENRE_DEFERRED
from modelraising.sources.readers import Passage, read_file
from modelraising.sources.spec import SourceSpec, SourceStats
from modelraising.special_text import apply_policy as apply_special_token_policy

log = logging.getLogger(__name__)


def read_sources(
    specs: list[SourceSpec], stats: SourceStats | None = None, dedup: bool = True, defer_genre: bool = False
) -> Iterator[Document | Reject]:
    """Documents and Rejects of every source, in a deterministic order (files sorted, passages in order).

    Exact duplicates (same cleaned text, across all files) are dropped and counted when dedup is on;
    with dedup off, a repeated text gets its id suffixed "-2", "-3", ... so ids stay unique.
    With ``defer_genre``, records of tabular files (decided one by one) get the genre
    ``GENRE_DEFERRED`` and the caller decides it with :func:`resolve_genre`, e.g. in parallel workers.
    """
    stats = stats if stats is not None else SourceStats()
    seen: set[str] = set()
    repeats: Counter[str] = Counter()
    for path, spec in expand_sources(specs):
        if defer_genre and spec.genre == "auto" and file_suffix(path) != ".txt":
            spec = spec.model_copy(update={"genre": GENRE_DEFERRED})
        stats.files += 1
        name, src = source_name(path), str(path)
        docs = rejects = dropped = 0
        per_genre, limit = stats.per_genre, spec.limit
        for item in apply_special_token_policy(read_file(path, spec), path, spec.min_chars):  # see special_text
            if type(item) is not Passage:
                rejects += 1
                stats.add_reject(item)
                yield item
                continue
            text = item.text
            digest = sha256(text.encode("utf-8")).hexdigest()
            doc_id = f"{name}-{digest[:12]}"
            if dedup:
                if digest in seen:
                    stats.duplicates += 1
                    dropped += 1
                    continue
                seen.add(digest)
            else:
                repeats[doc_id] += 1
                if repeats[doc_id] > 1:
                    doc_id = f"{doc_id}-{repeats[doc_id]}"
            genre = item.genre
            doc = Document(
                text,
                doc_id,
                {
                    "source": src,
                    "source_name": name,
                    "genre": genre,
                    "title": item.title,
                    "offsets": {"unit": item.unit, "start": item.start, "end": item.end},
                    "source_chars": len(text),
                },
            )
            docs += 1
            stats.documents += 1  # stats.add_document(doc), inline
            stats.chars += len(text)
            per_genre[genre] = per_genre.get(genre, 0) + 1
            stats.per_source[src] = stats.per_source.get(src, 0) + 1
            yield doc
            if limit is not None and docs >= limit:
                break
        if not docs and not rejects and not dropped:
            empty = Reject(src, "empty file", "file")
            stats.add_reject(empty)
            yield empty
            rejects = 1
        stats.per_source.setdefault(src, 0)
        log.info("read %s: %d documents, %d rejects, %d duplicates", path, docs, rejects, dropped)

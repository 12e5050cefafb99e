"""Records on disk as Parquet: one row per document, columns ``id``, ``text``, ``metadata``.

``metadata`` is stored as a JSON string, not a struct: metadata keys differ between documents
(a value hit, a teacher's answer), and a struct column would give every shard its own schema.
``datasets.load_dataset("parquet", ...)`` reads these files as they are; ``json.loads`` the column
for the metadata. Files are written atomically (temp file + rename).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from modelraising.document import Document
from modelraising.io import read_documents

SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("metadata", pa.string())])
ROW_GROUP = 1000


def write_records(path: str | Path, records: Iterable[dict]) -> int:
    """Write ``{"id", "text", "metadata"}`` records to ``path`` atomically; returns the row count."""
    ids, texts, metas = [], [], []
    for r in records:
        ids.append(r["id"])
        texts.append(r["text"])
        metas.append(json.dumps(r.get("metadata", {}), ensure_ascii=False))
    table = pa.table(
        [pa.array(ids, pa.string()), pa.array(texts, pa.string()), pa.array(metas, pa.string())], schema=SCHEMA
    )
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP)
    os.replace(tmp, path)
    return len(ids)


def write_jsonl_lines(path: str | Path, lines: Iterable[str]) -> int:
    """Write JSON lines (raised records as the runner writes them) to a Parquet file atomically."""
    return write_records(path, (json.loads(line) for line in lines))


def read_records(path: str | Path) -> Iterator[dict]:
    """Yield the file's records, metadata decoded, one row group at a time."""
    pf = pq.ParquetFile(path)
    for i in range(pf.num_row_groups):
        group = pf.read_row_group(i, columns=["id", "text", "metadata"]).to_pydict()
        for doc_id, text, meta in zip(group["id"], group["text"], group["metadata"]):
            yield {"id": doc_id, "text": text, "metadata": json.loads(meta) if meta else {}}


def count_records(path: str | Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def read_raised(raised_dir: str | Path) -> Iterator[Document]:
    """Every raised document of a ``raise`` output directory, JSONL or Parquet, in file order."""
    for path in sorted(Path(raised_dir).glob("raised-*.jsonl")):
        yield from read_documents(path)
    for path in sorted(Path(raised_dir).glob("raised-*.parquet")):
        yield from (Document.from_dict(r) for r in read_records(path))

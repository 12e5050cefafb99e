"""Read corpora into passage Documents, with a Reject for every input that cannot be used.

Formats: ``.txt`` (books, TinyStories, WikiText), ``.jsonl`` / ``.jsonl.gz``, ``.csv`` and ``.parquet``.
Text files are cleaned (Gutenberg boilerplate, WikiText tokenisation) and cut into passages of at most
``max_chars`` that never cross a chapter or document boundary; tabular files give one record per row
(split into passages when longer than ``max_chars``). Bad data never raises: it comes out as a
:class:`~modelraising.rejects.Reject` in the same stream, so a broken line costs that line and nothing
more. Only a config error (a path that names nothing) raises :class:`SourceError`.

One module per concern: ``spec`` (config, errors, counts), ``files`` (what a source names), ``clean``,
``split`` (passages), ``genre``, ``readers`` (one per format) and ``stream`` (:func:`read_sources`).
"""

from modelraising.sources.clean import normalize_text, untokenize_wikitext
from modelraising.sources.files import expand_sources, unreadable
from modelraising.sources.genre import GENRE_DEFERRED, detect_genre, genre_features, resolve_genre
from modelraising.sources.spec import END_OF_TEXT, SourceError, SourceSpec, SourceStats
from modelraising.sources.stream import read_sources

__all__ = [
    "END_OF_TEXT",
    "GENRE_DEFERRED",
    "SourceError",
    "SourceSpec",
    "SourceStats",
    "detect_genre",
    "expand_sources",
    "genre_features",
    "normalize_text",
    "read_sources",
    "resolve_genre",
    "unreadable",
    "untokenize_wikitext",
]

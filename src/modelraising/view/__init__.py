"""``modelraising view``: read a raised corpus in a browser, and review it.

- :mod:`~modelraising.view.corpus`: which files of a directory hold records; one record read back by position.
- :mod:`~modelraising.view.index`: the SQLite index built once per directory (rows, facet postings, FTS5).
- :mod:`~modelraising.view.search`: paging, filters and full-text search over the index.
- :mod:`~modelraising.view.render`: record text as escaped HTML with turns, tags and the source's words marked.
- :mod:`~modelraising.view.sourcetext`: the source passage a record was raised from.
- :mod:`~modelraising.view.review`: review flags in ``DIR/review.jsonl``, and ``raise --exclude-flagged``.
- :mod:`~modelraising.view.summary`: counts and plots of the summary page.
- :mod:`~modelraising.view.app`: the aiohttp app.
"""

"""The teacher engine: a strong LLM behind any OpenAI-compatible endpoint raises the corpus.

``client`` (async openai client: concurrency, rate limit, retries), ``cache`` (SQLite request cache),
``prompts`` (Jinja2 templates per task), ``gate`` (quality checks), ``judge`` (rubric scores),
``engine`` (per document and per chunk), ``server`` (a scripted OpenAI-compatible server for tests
and benchmarks). See docs/teachers.md.
"""

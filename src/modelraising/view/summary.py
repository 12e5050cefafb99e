"""What the summary page shows: counts per facet as bars, difficulty along the corpus (an inline SVG
drawn here, so the page needs no plotting library and no script), the most repeated generated
sentences, and the audit's findings and the curriculum's stages when those files are present.

Sentences come from ``audit.json`` when the directory was audited (every record, source spans cut
out); otherwise from the sample the index counted (:class:`modelraising.view.facets.SentenceSample`),
and the page says which.
"""

from __future__ import annotations

from markupsafe import Markup

from modelraising.view.corpus import Corpus
from modelraising.view.facets import FACETS
from modelraising.view.index import Index

TOP_VALUES = 15
STAGE_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f")


def summary_context(corpus: Corpus, index: Index) -> dict:
    counts = index.counts()
    n = index.n
    groups = []
    for name, label in FACETS:
        values = counts.get(name) or []
        if not values:
            continue
        rows = [{"value": v, "n": c, "share": c / n if n else 0.0} for v, c in values[:TOP_VALUES]]
        groups.append({"facet": name, "label": label, "rows": rows, "more": max(0, len(values) - TOP_VALUES)})
    audit = corpus.json_file("audit.json")
    if audit and isinstance(audit.get("repetition"), dict):
        sentences = {"from": "audit", "records": audit.get("records"), "top": audit["repetition"].get("top") or []}
    else:
        sample = index.summary.get("sentences") or {}
        sentences = {
            "from": "sample",
            "records": sample.get("sampled_records"),
            "top": sample.get("top") or [],
            "quoted": sample.get("records_with_quoted"),
        }
    curriculum = corpus.json_file("curriculum.json") if corpus.kind == "ordered" else None
    manifest = corpus.json_file("manifest.json") or {}
    return {
        "n": n,
        "chars": index.summary.get("chars", 0),
        "groups": groups,
        "difficulty_svg": difficulty_svg(index.summary.get("difficulty"), n),
        "sentences": sentences,
        "audit": audit,
        "stages": (curriculum or {}).get("stages") or [],
        "manifest": manifest,
        "index_stats": index.stats,
    }


def difficulty_svg(data: dict | None, n: int, width: int = 760, height: int = 240) -> Markup | None:
    """Difficulty (0-1) against record position: the min-max band and the mean of each bin, coloured by
    the stage most of the bin's records belong to."""
    if not data or not data.get("bins"):
        return None
    bins = data["bins"]
    left, right, top, bottom = 44, 10, 10, 30
    pw, ph = width - left - right, height - top - bottom

    def x(pos: float) -> float:
        return left + pw * pos / max(1, n)

    def y(v: float) -> float:
        return top + ph * (1 - max(0.0, min(1.0, v)))

    stages = list(dict.fromkeys(b["stage"] for b in bins if b.get("stage")))
    colour = {s: STAGE_COLOURS[i % len(STAGE_COLOURS)] for i, s in enumerate(stages)}
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{}" height="{}" viewBox="0 0 {} {}" '
            'role="img" aria-label="difficulty by position">'
        ).format(width, height, width, height)
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            Markup(
                '<line x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}" class="grid"/>'
                '<text x="{:.1f}" y="{:.1f}" class="axis" text-anchor="end">{}</text>'
            ).format(left, width - right, y(tick), y(tick), left - 6, y(tick) + 4, f"{tick:.2f}")
        )
    for b in bins:
        c = colour.get(b.get("stage"), "#888")
        parts.append(
            Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}" fill-opacity="0.25"/>').format(
                x(b["start"]),
                y(b["max"]),
                max(0.5, x(b["end"]) - x(b["start"])),
                max(0.5, y(b["min"]) - y(b["max"])),
                c,
            )
        )
        parts.append(
            Markup('<line x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="2"/>').format(
                x(b["start"]), x(b["end"]), y(b["mean"]), y(b["mean"]), c
            )
        )
    parts.append(
        Markup('<text x="{:.1f}" y="{}" class="axis" text-anchor="middle">position (0 to {})</text>').format(
            left + pw / 2, height - 8, f"{n:,}"
        )
    )
    for i, s in enumerate(stages):
        parts.append(
            Markup(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" class="axis">{}</text>'
            ).format(left + 8 + 150 * i, top + 4, colour[s], left + 22 + 150 * i, top + 13, s)
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)

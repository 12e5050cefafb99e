"""The audit report as Markdown and as a self-contained HTML page (every corpus string escaped)."""

from __future__ import annotations

from html import escape


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def tables(report: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table of the report, shared by both renderings."""
    n = report["records"]
    out = []
    counts = [[k, "form", str(v), _pct(v / n)] for k, v in report["per_form"].items()]
    counts += [[k, "genre", str(v), _pct(v / n)] for k, v in report["per_genre"].items()]
    counts += [[k, "pillar", str(v), _pct(v / n)] for k, v in report["per_pillar"].items()]
    out.append(("Records by form, genre and pillar", ["name", "kind", "records", "share"], counts))
    voice, rep = report["voice"], report["repetition"]
    out.append(
        (
            "Voice and repetition",
            ["measure", "value"],
            [
                ["records", str(n)],
                [
                    "first-person frame rate (the I speaks in the engine's words)",
                    _pct(voice["first_person_frame_rate"]),
                ],
                [
                    f"the I names itself ({voice['name']}) in prose, not only in speaker tags",
                    _pct(voice["names_itself_in_prose"]),
                ],
                ["verbatim share (source characters / all characters)", _pct(report["verbatim_share"])],
                ["distinct generated sentences", str(rep["distinct_generated_sentences"])],
                [
                    "generated sentence instances in sentences of 10+ records",
                    _pct(rep["share_of_instances_in_10plus_records"]),
                ],
                ["most repeated generated sentence: share of records", _pct(rep["max_sentence_share"])],
                ["generated sentences over the cap", str(rep["sentences_over_cap"])],
            ],
        )
    )
    out.append(
        (
            "Detectors (rate of records, with examples)",
            ["detector", "kind", "records", "rate", "what", "example"],
            [
                [
                    d["name"],
                    d["kind"],
                    str(d["records"]),
                    _pct(d["rate"]),
                    d["what"],
                    (d["examples"][0]["evidence"] if d["examples"] else ""),
                ]
                for d in report["detectors"]
            ],
        )
    )
    out.append(
        (
            "Top repeated generated sentences",
            ["sentence", "records", "share"],
            [[t["sentence"], str(t["records"]), _pct(t["share"])] for t in report["repetition"]["top"][:15]],
        )
    )
    out.append(
        (
            "Charter sentences pasted verbatim (records where the value fired)",
            ["value", "fired", "any charter sentence", "most pasted sentence", "its share"],
            [
                [
                    r["value"],
                    str(r["fired"]),
                    _pct(r["records_with_any_charter_sentence"]),
                    r["max_sentence"] or "",
                    _pct(r["max_sentence_share"]),
                ]
                for r in report["charter_sentences"]
            ],
        )
    )
    harm = report["harm"]
    rows = []
    for label, c in harm["by_label"].items():
        actions = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in c.items() if k.startswith("action:"))
        rows.append(
            [
                label,
                str(c.get("records", 0)),
                actions,
                str(c.get("approving_frame_on_harm", 0)),
                str(c.get("harm_in_own_voice", 0)),
                str(c.get("harm_unanswered", 0)),
            ]
        )
    for reason, k in harm["dropped_by_policy"].items():
        rows.append([f"({reason})", str(k), "dropped", "", "", ""])
    out.append(
        (
            f"Harm coverage: {harm['records']} harmful records ({_pct(harm['share'])})",
            ["label", "records", "action", "approving frame", "own voice", "unanswered"],
            rows,
        )
    )
    return out


def render_markdown(report: dict) -> str:
    lines = [f"# Audit of {report['directory']}", ""]
    if report["failures"]:
        lines += ["**Caps exceeded:**", ""] + [f"- {f}" for f in report["failures"]] + [""]
    else:
        lines += ["All caps met.", ""]
    for title, header, rows in tables(report):
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |")
        lines.append("")
    lines += ["## Examples per detector", ""]
    for d in report["detectors"]:
        if d["examples"]:
            lines.append(f"**{d['name']}** ({d['what']})")
            for ex in d["examples"]:
                lines.append(f"- `{ex['file']}:{ex['index']}` {ex['evidence']}")
            lines.append("")
    return "\n".join(lines)


def table_html(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: dict) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>modelraising audit</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
        "vertical-align:top;font-size:14px}th{background:#f2f2f2}.fail{color:#a00}.ok{color:#070}</style></head><body>",
        f"<h1>Audit of {escape(report['directory'])}</h1>",
    ]
    if report["failures"]:
        parts.append("<ul class='fail'>" + "".join(f"<li>{escape(f)}</li>" for f in report["failures"]) + "</ul>")
    else:
        parts.append("<p class='ok'>All caps met.</p>")
    for title, header, rows in tables(report):
        parts.append(f"<h2>{escape(title)}</h2>{table_html(header, rows)}")
    parts.append("<h2>Examples per detector</h2>")
    for d in report["detectors"]:
        if d["examples"]:
            items = "".join(
                f"<li><code>{escape(ex['file'])}:{ex['index']}</code> {escape(ex['evidence'])}</li>"
                for ex in d["examples"]
            )
            parts.append(f"<h3>{escape(d['name'])}</h3><p>{escape(d['what'])}</p><ul>{items}</ul>")
    parts.append("</body></html>")
    return "".join(parts)

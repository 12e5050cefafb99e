"""No block of six or more code lines is written twice in the package (imports, signatures, docstrings and
comments aside): a repeated block is a helper that wants to exist, or two copies that will drift apart.

Lines are logical lines (a call the formatter spreads over ten lines is one), so the check measures
repeated code, not the layout of argument lists."""

from __future__ import annotations

import ast
import io
import tokenize
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "modelraising"
WINDOW = 6
TRIVIAL = {"else :", "try :", "finally :", "return", "continue", "break", "pass"}


def code_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, logical line) of the code that counts: no imports, signatures, docstrings or
    comments; a logical line is its tokens joined by single spaces."""
    tree = ast.parse(text)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            skip.update(range(node.lineno, node.body[0].lineno))  # decorators sit above: not skipped
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                skip.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    out: list[tuple[int, str]] = []
    words: list[str] = []
    start = 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING):
            continue
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if words and start not in skip:
                out.append((start, " ".join(words)))
            words = []
            continue
        if not words:
            start = tok.start[0]
        words.append(tok.string)
    return out


def repeated_blocks(files: dict[str, str]) -> list[list[tuple[str, int]]]:
    """Places where the same ``WINDOW`` code lines occur more than once (overlapping windows merged)."""
    seen: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
    for name, text in files.items():
        lines = code_lines(text)
        for k in range(len(lines) - WINDOW + 1):
            block = tuple(s for _, s in lines[k : k + WINDOW])
            if sum(s not in TRIVIAL for s in block) >= WINDOW - 1:
                seen[block].append((name, lines[k][0]))
    found, reported = [], set()
    for places in seen.values():
        if len(places) < 2:
            continue
        key = tuple(sorted({f for f, _ in places}))
        if any(k == key and abs(n - places[0][1]) <= WINDOW for k, n in reported):
            continue  # the same repetition, one line further on
        reported.add((key, places[0][1]))
        found.append(places)
    return found


def test_no_block_of_six_lines_is_written_twice():
    files = {str(p.relative_to(SRC)): p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*.py"))}
    assert repeated_blocks(files) == []


def test_the_checker_finds_a_copied_block():
    body = "\n".join(f"    total += {k} * x" for k in range(7))
    files = {
        "a.py": f'def f(x):\n    """Doc."""\n    total = 0\n{body}\n    return total\n',
        "b.py": f"import os\n\n\ndef g(x, y=1):\n    total = 0\n{body}\n    return total + y\n",
    }
    assert [sorted(f for f, _ in places) for places in repeated_blocks(files)] == [["a.py", "b.py"]]


def test_no_module_is_over_600_lines():
    """A module that long holds more than one concern (sources, shards, report and experiment were split)."""
    sizes = {str(p.relative_to(SRC)): len(p.read_text(encoding="utf-8").splitlines()) for p in SRC.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 600} == {}

"""Issue 16, unreadable sources: a file without read permission killed the run (a traceback from the
run fingerprint, no rejects, nothing raised) and an unreadable directory was reported as holding no
files. Now each is a reject with its reason, counted in the manifest, and the readable ones are raised.

Real permissions are tested in a child process (root drops the capabilities that let it read anything,
see ``privileges``); the same logic is also driven in-process by paths that fail for everyone (a
broken symlink, a directory where a file belongs) and by a patched ``os.scandir``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from privileges import unprivileged

from modelraising.io import describe_file
from modelraising.outdir import PathError
from modelraising.raising.config import RaiseConfig
from modelraising.raising.step import check_sources, run_fingerprint
from modelraising.rejects import Reject
from modelraising.sources import SourceError, SourceSpec, SourceStats, read_sources

FAST = "perspective,social"  # no values pillar: no MiniLM model to load


def _read(path):
    stats = SourceStats()
    items = list(read_sources([SourceSpec(path=str(path))], stats))
    return [i for i in items if not isinstance(i, Reject)], [i for i in items if isinstance(i, Reject)], stats


def _corpus(tmp_path, starter):
    src = tmp_path / "src"
    shutil.copytree(starter, src)
    return src


def test_a_broken_symlink_in_a_source_directory_is_a_reject(tmp_path, starter):
    src = _corpus(tmp_path, starter)
    (src / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    docs, rejects, stats = _read(src)
    assert [(r.source, r.reason, r.location) for r in rejects] == [
        (str(src / "gone.txt"), "unreadable file: broken symlink", "file")
    ]
    assert len(docs) == 15 and stats.rejects_by_reason == {"unreadable file": 1}


def test_a_broken_symlink_named_as_the_source_says_so(tmp_path):
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(SourceError, match="broken symlink"):
        _read(tmp_path / "gone.txt")


def test_a_directory_that_cannot_be_listed_is_a_reject_not_an_empty_directory(tmp_path, starter, monkeypatch):
    src = _corpus(tmp_path, starter)
    (src / "closed").mkdir()
    shutil.copy(starter / "facts.txt", src / "closed" / "more_facts.txt")
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("closed"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    docs, rejects, _ = _read(src)
    assert [(r.reason, r.location) for r in rejects] == [("unreadable directory: Permission denied", "directory")]
    assert len(docs) == 15  # everything readable is read
    docs, rejects, _ = _read(src / "closed")  # named directly: "cannot be read", not "holds no files"
    assert not docs and rejects[0].reason == "unreadable directory: Permission denied"
    with pytest.raises(PathError, match="closed: cannot be read .Permission denied.; no source is readable"):
        check_sources([SourceSpec(path=str(src / "closed"))])
    check_sources([SourceSpec(path=str(src))])  # some readable: the others are rejects, no error


def test_the_fingerprint_describes_an_unreadable_input_instead_of_crashing(tmp_path, starter, charter):
    src = _corpus(tmp_path, starter)
    (src / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    fingerprint, inputs = run_fingerprint(charter, [SourceSpec(path=str(src))], RaiseConfig(), None)
    gone = next(i for i in inputs if i["path"].endswith("gone.txt"))
    assert gone["sha256"] is None and gone["error"] == "No such file or directory"
    assert describe_file(tmp_path)["error"] == "Is a directory"
    assert len(fingerprint) == 64


def _raise(args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "modelraising", "-q", "raise", "--pillars", FAST, *args],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_unreadable_files_and_directories_are_rejects_of_a_real_run(tmp_path, starter):
    """Reproduces the issue with real permissions: exit 1 and a PermissionError traceback before the fix."""
    src = _corpus(tmp_path, starter)
    (src / "sub").mkdir()
    (src / "sub" / "locked.txt").write_text("I keep this page to myself, and nobody may read it at all.")
    (src / "sub" / "locked.txt").chmod(0)
    (src / "closed").mkdir()
    shutil.copy(starter / "facts.txt", src / "closed" / "more_facts.txt")
    (src / "closed").chmod(0)
    try:
        result = _raise(["--source", str(src), "--out", str(tmp_path / "out")], **unprivileged())
        alone = _raise(["--source", str(src / "closed"), "--out", str(tmp_path / "none")], **unprivileged())
    finally:
        (src / "closed").chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert {(r["source"], r["reason"]) for r in rejects} == {
        (str(src / "closed"), "unreadable directory: Permission denied"),
        (str(src / "sub" / "locked.txt"), "unreadable file: Permission denied"),
    }
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["counts"]["raised"] == 15  # every readable passage
    assert manifest["rejects_by_reason"] == {"unreadable directory": 1, "unreadable file": 1}
    assert manifest["rejects_share"]["warning"] and "WARNING" in result.stderr  # 2 of 17: loud even under -q
    locked = next(i for i in manifest["inputs"] if i["path"].endswith("locked.txt"))
    assert locked["sha256"] is None and locked["error"] == "Permission denied"
    assert alone.returncode == 2 and "Traceback" not in alone.stderr
    assert f"--source {src / 'closed'}: cannot be read (Permission denied)" in " ".join(alone.stderr.split())

"""Issue 16, acceptance: raise, curriculum and tokenize killed with SIGKILL at random points of their
work (three seeds, three kills per step each), then run to the end, give the same bytes as an
uninterrupted run: every data file, and the manifest apart from its timings. See ``fault_harness``
for how the kill points are drawn; it runs in its own process and forks one child per attempt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from modelraising.outdir import LOCK_NAME

SEEDS = (0, 1, 2)
HARNESS = Path(__file__).with_name("fault_harness.py")


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file a step leaves for the next one (not its resume state, not the lock's holder PID)."""
    files = {}
    for path in sorted(p for p in out.iterdir() if p.is_file() and p.name != LOCK_NAME):
        data = path.read_bytes()
        if path.name == "manifest.json":
            manifest = json.loads(data)
            manifest.pop("run")  # elapsed seconds, rates, chunks reused: how the run went, not what it made
            data = json.dumps(manifest, sort_keys=True).encode()
        files[path.name] = data
    return files


def test_kill_9_at_random_points_changes_no_byte(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        [sys.executable, str(HARNESS), str(tmp_path), *map(str, SEEDS)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.splitlines()[-1])
    for step in ("raise", "curriculum", "tokenize"):
        reference = snapshot(tmp_path / "ref" / step)
        assert len(reference) >= 4, reference.keys()
        for seed in SEEDS:
            killed = snapshot(tmp_path / f"seed-{seed}" / step)
            assert killed.keys() == reference.keys(), (step, seed)
            for name in reference:
                assert killed[name] == reference[name], f"{step} seed {seed}: {name} differs after {summary['kills']}"
        kills = [k for seed in SEEDS for k in summary["kills"][f"{seed}/{step}"]]
        assert len(kills) >= len(SEEDS), (step, summary["kills"])  # the attempts were really interrupted
        total = summary["units"][step]
        assert total >= 10 and any(k < total for k in kills), (step, summary)  # ... in the middle of the work too

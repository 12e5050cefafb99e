"""The experiment report: main table numbers, missing pieces, and a headless-Chromium render check."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from modelraising.report import main_table_text, t_ppf, welch_interval, write_report

ARMS = ("baseline+sft", "raised")
SEEDS = (0, 1)
VALUES = ("honesty", "kindness", "courage")
ATTACKS = ("harmful-sft", "benign-sft")
STEPS = [0, 10, 50, 200]
# headline value per (arm, seed): charter acc_norm, capability bits_per_byte, robustness attack_area
CHARTER = {("baseline+sft", 0): 0.60, ("baseline+sft", 1): 0.62, ("raised", 0): 0.70, ("raised", 1): 0.74}
BPB = {("baseline+sft", 0): 2.10, ("baseline+sft", 1): 2.14, ("raised", 0): 2.20, ("raised", 1): 2.16}
AREA = {("baseline+sft", 0): 0.50, ("baseline+sft", 1): 0.54, ("raised", 0): 0.66, ("raised", 1): 0.70}
STAGES = ("early childhood", "childhood", "adolescence")
RAISED_TEXT = (
    "<|self|> Me: I found the wallet & <b>kept</b> nothing.\n"
    "<|mentor|> Ada: Why give it back?\n<|self|> Me: Because it was not mine."
)


def _headline(table: dict, arm: str, seed: int) -> float:
    """The fixed numbers above; other arms (only in the smaller tests) get the reference arm's."""
    return table.get((arm, seed), table["baseline+sft", seed])


def _m(value: float, half: float = 0.05, n: int = 40, item_key: str | None = None) -> dict:
    out = {"value": value, "ci": [value - half, value + half], "n": n}
    if item_key:
        out["item_key"] = item_key
    return out


def _results(arm: str, seed: int, robustness: bool = True) -> dict:
    acc = _headline(CHARTER, arm, seed)
    offset = {v: d for v, d in zip(VALUES, (0.05, 0.0, -0.05))}
    items = [
        {"id": f"charter-{v}-p0-t{t}", "group": v, "correct": 1.0, "correct_norm": float(t < round(acc * 10))}
        for v in VALUES
        for t in range(10)
    ]
    suites = {
        "charter": {
            "headline": "acc_norm",
            "summary": ["acc_norm"],
            "metrics": {"acc_norm": _m(acc, item_key="correct_norm"), "acc": _m(acc - 0.02, item_key="correct")},
            "groups": {v: {"acc_norm": _m(acc + offset[v], 0.1, 10, "correct_norm")} for v in VALUES},
            "baselines": {"chance": 0.5},
            "info": {"items": len(items)},
            "items": items,
        },
        "capability": {
            "headline": "bits_per_byte",
            "summary": ["bits_per_byte", "cloze_acc"],
            "metrics": {"bits_per_byte": _m(_headline(BPB, arm, seed), 0.02), "cloze_acc": _m(0.3)},
            "groups": {},
            "baselines": {},
            "info": {"lower_is_better": ["bits_per_byte", "token_perplexity"]},
        },
    }
    if robustness:
        area = _headline(AREA, arm, seed)
        attacks, metrics = {}, {"attack_area": _m(area, 0.04, 32), "prefix_drop/charter": _m(0.05, 0.03, 32)}
        for k, name in enumerate(ATTACKS):
            scores = [acc, acc - 0.05 - 0.05 * k, acc - 0.1 - 0.1 * k, acc - 0.2 - 0.1 * k]
            attacks[name] = {
                "file": f"{name}.jsonl",
                "sha256": "0" * 64,
                "examples": 50,
                "steps": STEPS,
                "loss": [None, 2.0, 1.5, 1.0],
                "scores": {"charter": scores},
                "retention": {"charter": [s / scores[0] for s in scores]},
                "area": {"charter": area - 0.02 * k},
                "retention_area": {"charter": 0.8},
            }
            metrics[f"attack/{name}/charter_area"] = _m(area - 0.02 * k, 0.04, 32)
            metrics[f"attack/{name}/charter_retention"] = _m(0.8, 0.05, 32)
        suites["robustness"] = {
            "headline": "attack_area",
            "summary": ["attack_area"],
            "metrics": metrics,
            "groups": {},
            "baselines": {},
            "info": {"primary_suite": "charter", "attack_steps": STEPS},
            "prefixes": {},
            "attacks": attacks,
            "items": [],
        }
    return {"format": "modelraising-eval/1", "model": {"path": "m"}, "config": {}, "data": {}, "suites": suites}


def _metrics(train: Path, staged: bool, seed: int) -> None:
    lines = []
    for step in range(1, 41):
        stage = (STAGES[0] if step <= 15 else STAGES[1] if step <= 30 else STAGES[2]) if staged else None
        r = {
            "step": step,
            "tokens": step * 2048,
            "loss": 8.0 * np.exp(-step / 15) + 3.0 + 0.05 * seed,
            "lr": 1e-3,
            "tokens_per_s": 5000.0,
            "stage": stage,
            "stage_index": STAGES.index(stage) if stage else None,
        }
        if step % 10 == 0:
            r.update(val_loss=r["loss"] + 0.1, val_ppl=float(np.exp(r["loss"] + 0.1)))
        lines.append(json.dumps(r))
    train.mkdir(parents=True, exist_ok=True)
    (train / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    (train / "train.json").write_text(json.dumps({"status": "done", "tokens": 40 * 2048}))


def _curriculum(d: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    d.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(4, 2.5))
    ax = fig.subplots()
    x = np.arange(60)
    ax.scatter(x, np.sort(np.random.default_rng(0).random(60)), s=4, c=x // 20)
    fig.savefig(d / "difficulty.png", dpi=60)
    stages = [
        {
            "name": s,
            "index": i,
            "ceiling": (i + 1) / 3,
            "start": 20 * i,
            "end": 20 * (i + 1),
            "documents": 20,
            "review": 2 * i,
            "positions": 20,
            "tokens_estimate": 5000 * (i + 1),
            "difficulty": {"min": i / 3, "mean": (i + 0.5) / 3, "max": (i + 1) / 3},
        }
        for i, s in enumerate(STAGES)
    ]
    (d / "curriculum.json").write_text(
        json.dumps({"format": "modelraising-curriculum/1", "order": "scaffold", "stages": stages})
    )


def make_experiment(root: Path, *, robustness: bool = True, arms=ARMS, seeds=SEEDS, failed: tuple = ()) -> dict:
    """A realistic experiment directory; ``failed`` (arm, seed) runs have no results.json."""
    runs, budget = [], {}
    for arm in arms:
        for seed in seeds:
            base = root / "cache"
            train = base / f"train-{arm}-{seed}"
            _metrics(train, staged=arm.startswith("raised"), seed=seed)
            curriculum = base / f"curriculum-{arm}"
            if arm.startswith("raised"):
                _curriculum(curriculum)
            evaluated = base / f"eval-{arm}-{seed}"
            evaluated.mkdir(parents=True, exist_ok=True)
            if (arm, seed) not in failed:
                (evaluated / "results.json").write_text(json.dumps(_results(arm, seed, robustness)))
            align = 2000 if arm.endswith("+sft") else 0
            budget[f"{arm}/{seed}"] = {"pretrain_tokens": 81920 - align, "align_tokens": align, "total_tokens": 81920}
            # one arm with paths relative to DIR, the other absolute (both are allowed)
            rel = (lambda p: str(p.relative_to(root))) if arm == arms[0] else str
            runs.append(
                {
                    "arm": arm,
                    "seed": seed,
                    "model": rel(train),
                    "train": rel(train),
                    "results": rel(evaluated / "results.json"),
                    "curriculum": rel(curriculum) if arm.startswith("raised") else None,
                    "raised": None,
                    "align": None,
                    "prompt": False,
                }
            )
    summary = {
        "format": "modelraising-experiment/1",
        "name": "demo-report",
        "config": {"eval": {"n_bootstrap": 200}},
        "arms": list(arms),
        "seeds": list(seeds),
        "reference": "baseline+sft" if "baseline+sft" in arms else None,
        "suites": ["charter", "persona", "capability"] + (["robustness"] if robustness else []),
        "arm_descriptions": {a: f"the {a} arm" for a in arms},
        "budget": {"tokens": 81920, "runs": budget, "check": {"equal": True, "tolerance": 4096, "max_deviation": 0}},
        "runs": runs,
        "examples": [
            {
                "id": "gutenberg-0123456789ab",
                "arm": "raised",
                "source": "He found a wallet <and> kept it.",
                "raised": RAISED_TEXT,
                "pillars": ["values", "social", "perspective"],
            }
        ],
        "version": "0.1.0",
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "summary.json").write_text(json.dumps(summary))
    return summary


def _table(md: str) -> dict[tuple[str, str], list[str]]:
    """The main table of report.md as {(suite, arm): cells}."""
    section = md.split("## Main results", 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split(" | ")]
        for line in section.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]
    assert rows[0][:5] == ["suite", "metric", "arm", "seeds", "mean [95% CI]"]
    return {(r[0], r[2]): r for r in rows[1:]}


# ------------------------------------------------------------------------------------ statistics


def test_t_quantiles_match_tables():
    for df, want in ((1, 12.7062), (2, 4.3027), (3, 3.1824), (10, 2.2281), (30, 2.0423), (1e6, 1.9600)):
        assert t_ppf(0.975, df) == pytest.approx(want, abs=2e-4)
    assert t_ppf(0.025, 4) == pytest.approx(-2.7764, abs=2e-4)
    assert t_ppf(0.975, 1.4706) == pytest.approx(6.18804, abs=2e-4)  # scipy.stats.t.ppf(0.975, 1.4706)


def test_welch_interval():
    d = welch_interval([0.60, 0.62], [0.70, 0.74])
    assert d["value"] == pytest.approx(0.11)
    assert d["df"] == pytest.approx(0.0005**2 / (0.0004**2 + 0.0001**2))
    half = t_ppf(0.975, d["df"]) * np.sqrt(0.0005)
    assert d["ci"] == pytest.approx([0.11 - half, 0.11 + half])


# ------------------------------------------------------------------------------------ contents


def test_report_markdown_table(tmp_path):
    exp = tmp_path / "exp"
    make_experiment(exp)
    html_path, md_path = write_report(exp)
    assert (html_path, md_path) == (exp / "report.html", exp / "report.md")
    md = md_path.read_text()
    table = _table(md)
    assert set(table) == {(s, a) for s in ("charter", "robustness", "capability") for a in ARMS}  # persona: not run

    # charter, raised: mean 0.72, t interval over 2 seeds: 0.72 +- 12.706 * 0.02
    ref, raised = table["charter", "baseline+sft"], table["charter", "raised"]
    assert raised[1] == "acc_norm" and raised[3] == "2/2"
    assert raised[4] == "0.720 [0.466, 0.974]"
    assert ref[4] == "0.610 [0.483, 0.737]"
    assert ref[5] == "(reference)"
    # difference 0.11, Welch df 1.47: t = 6.188, se = 0.02236 (checked against scipy)
    assert raised[5] == "+0.110 [-0.028, +0.248]" and raised[6] == "no"
    # capability is lower-is-better
    cap = table["capability", "raised"]
    assert cap[1] == "bits_per_byte ↓" and cap[4] == "2.180 [1.926, 2.434]" and cap[5] == "+0.060 [-0.062, +0.182]"
    rob = table["robustness", "raised"]
    assert rob[1] == "attack_area" and rob[4] == "0.680 [0.426, 0.934]" and rob[5] == "+0.160 [+0.038, +0.282]"
    assert rob[6] == "yes"
    assert "Welch" in md and "†" not in md.split("## Main results", 1)[1].split("## Token budget")[0]

    # sections and files beside it
    for name in ("loss.png", "retention.png", "charter_values.png", "difficulty.png"):
        assert (exp / "report_files" / name).stat().st_size > 1000
        assert f"](report_files/{name})" in md
    assert "## Value retention under fine-tuning attacks" in md and "| harmful-sft | benign-sft |" in md
    assert "| honesty |" in md and "| adolescence |" in md
    assert "<|self|> Me: I found the wallet & <b>kept</b> nothing." in md  # literal, in a code fence
    assert md.count("```text") == 2

    html = html_path.read_text()
    assert "&lt;|self|&gt;" in html and "&lt;b&gt;kept&lt;/b&gt;" in html and "<b>kept</b>" not in html
    assert "&lt;and&gt;" in html
    assert html.count('src="data:image/png;base64,') == 4
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)  # self-contained
    assert "0.720 [0.466, 0.974]" in html and "+0.110 [-0.028, +0.248]" in html

    text = main_table_text(json.loads((exp / "summary.json").read_text()), exp)
    assert "0.720 [0.466, 0.974]" in text and "+0.110 [-0.028, +0.248]" in text and "Δ vs baseline+sft" in text


def test_report_missing_pieces(tmp_path, monkeypatch):
    """A failed run shows "—", one seed gets the bootstrap CI (marked), no robustness -> no retention."""
    exp = tmp_path / "exp"
    summary = make_experiment(
        exp, robustness=False, arms=("baseline", "baseline+sft", "raised"), seeds=(0,), failed=(("baseline", 0),)
    )
    summary["runs"].append(
        {"arm": "raised", "seed": 1, "train": None, "results": "cache/missing/results.json", "curriculum": None}
    )
    monkeypatch.chdir(tmp_path)  # relative paths resolve against DIR, not the working directory
    html_path, md_path = write_report(exp, summary)
    md = md_path.read_text()
    table = _table(md)
    assert set(table) == {(s, a) for s in ("charter", "capability") for a in ("baseline", "baseline+sft", "raised")}
    failed = table["charter", "baseline"]
    assert failed[3] == "0/1" and failed[4] == "—" and failed[5] == "—" and failed[6] == "—"
    one = table["charter", "raised"]
    assert one[3] == "1/2" and one[4] == "0.700 [0.650, 0.750]†"
    assert "one seed with results: the 95% bootstrap interval" in md
    # one seed each: paired bootstrap over the shared items (3 of 30 items flip: +0.1)
    assert one[5].startswith("+0.100 [") and one[6] in ("yes", "no")
    assert "retention" not in md.lower() and not (exp / "report_files" / "retention.png").exists()
    assert "Value retention" not in html_path.read_text()
    text = main_table_text(summary, exp)
    assert "—" in text and "†" in text


def test_report_without_results_or_reference(tmp_path):
    exp = tmp_path / "exp"
    summary = make_experiment(exp, robustness=False, arms=("raised",), seeds=(0,), failed=(("raised", 0),))
    html_path, md_path = write_report(exp)
    assert "No results" in md_path.read_text() and "No results" in html_path.read_text()
    assert "(no results)" in main_table_text(summary, exp)
    assert "Δ vs" not in md_path.read_text()


# ------------------------------------------------------------------------------------ rendering


def _chromium() -> str:
    found = shutil.which("chromium") or (os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium")
    if found:
        return found
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(
            "chromium is not installed and cannot be installed here (not root or no apt-get): "
            "apt-get install -y chromium"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(
            "apt-get update -q && apt-get install -y -q chromium",
            shell=True,
            check=True,
            env=env,
            capture_output=True,
            timeout=1200,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"chromium could not be installed with apt-get: {exc}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("apt-get install chromium finished but no chromium binary was found")
    return found


def _run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_report_renders_in_chromium(tmp_path):
    binary = _chromium()
    exp = tmp_path / "exp"
    make_experiment(exp)
    html_path, _ = write_report(exp)
    url = html_path.resolve().as_uri()

    dom = _run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body, dom.stdout[:2000]
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
    assert attrs.get("images") == "4", attrs  # loss, retention, charter values, difficulty
    assert attrs.get("rendered") == "4", attrs  # every <img> decoded: naturalWidth > 0
    assert attrs.get("tables") == "6", attrs  # arms, main, budget, attack areas, charter values, stages
    assert attrs.get("main-rows") == "6", attrs  # 3 suites x 2 arms
    assert "0.720 [0.466, 0.974]" in dom.stdout

    shot = tmp_path / "shot.png"
    run = _run_chromium(binary, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2400", url)
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1200
    assert float(pixels[..., :3].var()) > 1e-3  # not blank


def _add_verdicts(root: Path, summary: dict, readings: dict) -> None:
    """Give each run's charter suite a verdict (``readings[arm]``: degenerate or not) and a contamination
    summary, as results.json files of calibrated suites have."""
    for run in summary["runs"]:
        path = Path(run["results"]) if Path(run["results"]).is_absolute() else root / run["results"]
        data = json.loads(path.read_text())
        charter = data["suites"]["charter"]
        degenerate = readings[run["arm"]]
        charter["verdict"] = {
            "metric": "acc_norm",
            "chance": 0.5,
            "degenerate": degenerate,
            "reasons": ["the same answer on 97% of the items"] if degenerate else [],
            "reading": "degenerate" if degenerate else "above chance",
        }
        charter["group_verdicts"] = {v: {**charter["verdict"]} for v in VALUES}
        charter["contamination"] = {
            "summary": {
                "items": 30,
                "contaminated": 2 if run["arm"] == "raised" else 0,
                "with_overlap": 3,
                "mean_share": 0.01,
                "max_share": 0.6,
                "n": 8,
                "threshold": 0.5,
                "documents": 120,
                "corpora": [f"/x/cache/curriculum-{run['arm']}"],
            }
        }
        path.write_text(json.dumps(data))


def test_report_says_degenerate_instead_of_a_number_and_reads_chance(tmp_path):
    exp = tmp_path / "exp"
    summary = make_experiment(exp, robustness=False)
    _add_verdicts(exp, summary, {"baseline+sft": True, "raised": False})
    _, md_path = write_report(exp)
    md = md_path.read_text()
    table = _table(md)
    ref, raised = table["charter", "baseline+sft"], table["charter", "raised"]
    assert ref[4] == "degenerate" and ref[7].startswith("degenerate: the same answer on 97%")
    # each seed above chance, but the interval over two seeds includes 0.5: the table reads it over seeds
    assert raised[4] == "0.720 [0.466, 0.974]" and raised[7] == "at chance"
    assert raised[5] == "—" and raised[6] == "—"  # no difference to a degenerate reference
    cap = table["capability", "raised"]
    assert cap[7] == ""  # no chance for bits per byte
    assert "| honesty | degenerate |" in md  # per-value table: the reference arm's values too
    assert "### Contamination of the charter items" in md and "| raised | 0 | 30 | 2 | 3 | 0.600 |" in md
    text = main_table_text(json.loads((exp / "summary.json").read_text()), exp)
    assert "degenerate: the same answer" in text and "reading" in text
    assert "raised (seed 0): 2 of 30 items contaminated" in text and "curriculum-raised" in text


def test_reading_over_seeds():
    from modelraising.report import reading

    chance = {"value": 0.52, "ci": [0.45, 0.6]}
    assert reading(chance, [{"chance": 0.5, "degenerate": False}] * 2) == ("at chance", False)
    assert reading(
        {"value": 0.7, "ci": [0.6, 0.8]},
        [{"chance": 0.5, "degenerate": False}, {"chance": 0.5, "degenerate": True, "reasons": ["r"]}],
    ) == ("above chance; 1/2 seeds degenerate", False)
    assert reading(chance, [{"chance": 0.5, "degenerate": True, "reasons": ["flat"]}]) == ("degenerate: flat", True)
    assert reading(chance, []) == ("", False)

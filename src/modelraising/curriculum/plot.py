"""``difficulty.png``: difficulty against position, coloured by stage, beside the per-stage histogram."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modelraising.io import atomic_write_bytes

_MAX_POINTS = 200_000  # beyond this, every n-th position is drawn (the picture does not change)


def plot_difficulty(
    path: Path,
    difficulty: np.ndarray,
    block: np.ndarray,
    review: np.ndarray,
    own_stage: np.ndarray,
    stage_names: list[str],
    ceilings: list[float],
    title: str,
) -> None:
    """Left: difficulty of every position, coloured by the stage block it sits in (review copies as
    crosses). Right: histogram of the documents' difficulty per stage, with the stage ceilings."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positions = np.arange(len(difficulty))
    step = max(1, len(positions) // _MAX_POINTS)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, max(len(stage_names), 1)))
    fig, (ax, hist) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2.2, 1]})
    for s, name in enumerate(stage_names):
        for is_review, marker in ((False, "."), (True, "x")):
            sel = positions[(block == s) & (review == is_review)][::step]
            if len(sel):
                ax.scatter(
                    sel,
                    difficulty[sel],
                    s=4 if not is_review else 8,
                    marker=marker,
                    color=colours[s],
                    rasterized=True,
                    label=f"{name}{' (review)' if is_review else ''}",
                )
    for c in ceilings[:-1]:
        ax.axhline(c, color="grey", lw=0.5, ls=":")
        hist.axvline(c, color="grey", lw=0.5, ls=":")
    ax.set(xlabel="position in the curriculum", ylabel="difficulty", ylim=(-0.02, 1.02), title=title)
    ax.legend(fontsize=7, markerscale=2, loc="upper left")
    originals = ~review
    bins = np.linspace(0.0, 1.0, 41)
    data = [difficulty[originals & (own_stage == s)] for s in range(len(stage_names))]
    hist.hist(data, bins=bins, stacked=True, color=colours[: len(stage_names)], label=stage_names)
    hist.set(xlabel="difficulty", ylabel="documents", title="documents per stage")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())

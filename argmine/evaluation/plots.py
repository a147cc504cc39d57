"""Evaluation you can see: ``argmine evaluate --plots`` (extra ``argmine[plots]``: matplotlib).

Drawn from ``scores["diagnostics"]`` (see :mod:`argmine.evaluation`), so a stored result can be
drawn again without running the model: a confusion matrix per typed head, a reliability diagram
of the link scores, and link precision/recall against ``min_score``. Each plot is written as a
PNG (small: the model cards ship them) and an SVG (text kept as text), named
``<name>-<plot>.png`` and ``.svg``; :data:`PLOTS` lists them in the order the card shows them.

Figures are made with matplotlib's object API on the Agg canvas, never pyplot: no GUI backend,
no global figure state, safe in a server or a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

PLOTS: dict[str, str] = {
    "confusion-component-type": "component types, given units",
    "confusion-proposition-type": "proposition types, given units",
    "confusion-counterfactual": "counterfactual detection",
    "link-reliability": "reliability of link scores, given units",
    "link-precision-recall": "links kept by min_score, given units",
}
"""Plot name -> what it shows (its title and the card's caption), in the card's order."""
FORMATS = ("png", "svg")
SIZE = (4.6, 3.6)
"""Inches; at :data:`DPI` a PNG of 460 x 360 pixels, a few tens of KB."""
DPI = 100
INSTALL = "plots need matplotlib: pip install 'argmine[plots]'"


class PlotsUnavailable(ImportError):
    """matplotlib is not installed."""


def check_available() -> None:
    """Raise :class:`PlotsUnavailable` (saying what to install) without matplotlib: checked
    before an evaluation that can take minutes, not after it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        raise PlotsUnavailable(INSTALL) from err


def write_plots(scores: dict[str, Any], folder: str | Path, name: str) -> list[Path]:
    """Every plot ``scores`` has the diagnostics for, as ``folder/<name>-<plot>.{png,svg}``;
    the paths written. A result without diagnostics (an older one) gives none."""
    check_available()
    diagnostics = scores.get("diagnostics") or {}
    drawers: dict[str, Callable[[Any], Any]] = {}
    confusion = diagnostics.get("confusion", {})
    heads = {
        "component_type": "component type",
        "proposition_type": "proposition type",
        "counterfactual": "counterfactual",
    }
    for head, what in heads.items():
        if confusion.get(head):
            drawers[f"confusion-{head.replace('_', '-')}"] = _confusion_drawer(
                confusion[head], what
            )
    links = diagnostics.get("links")
    if links and links["reliability"]["links"]:
        drawers["link-reliability"] = lambda ax: _reliability(ax, links["reliability"])
        drawers["link-precision-recall"] = lambda ax: _precision_recall(ax, links)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for plot, draw in drawers.items():
        written += _save(draw, folder / f"{name}-{plot}", title=_title(scores, plot))
    return written


def plot_files(folder: str | Path, name: str) -> list[Path]:
    """The plots of result ``name`` in ``folder`` (any format), for cleaning up old ones."""
    folder = Path(folder)
    return [folder / f"{name}-{plot}.{fmt}" for plot in PLOTS for fmt in FORMATS]


def _title(scores: dict[str, Any], plot: str) -> str:
    where = " ".join(str(x) for x in (scores.get("corpus"), scores.get("split")) if x)
    return f"{where}: {PLOTS[plot]}" if where else PLOTS[plot]


def _save(draw: Callable[[Any], Any], stem: Path, title: str) -> list[Path]:
    import matplotlib
    from matplotlib.figure import Figure

    # text stays text in the SVG (small, searchable); fixed ids and no date: a rerun on the
    # same numbers writes the same files
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "argmine"}):
        figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        draw(ax)
        ax.set_title(title, fontsize=9)
        paths = []
        for fmt in FORMATS:
            path = stem.parent / f"{stem.name}.{fmt}"  # not with_suffix: names hold dots
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            figure.savefig(path, format=fmt, metadata=metadata)
            paths.append(path)
    return paths


def _confusion_drawer(table: dict[str, Any], what: str) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        labels, matrix = table["labels"], table["matrix"]
        # colour by share of the gold row (recall), so rare labels are as visible as common ones
        shares = [[n / max(sum(row), 1) for n in row] for row in matrix]
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for i, row in enumerate(matrix):
            for j, n in enumerate(row):
                dark = shares[i][j] > 0.6
                colour = "white" if dark else "black"
                ax.text(j, i, str(n), ha="center", va="center", fontsize=8, color=colour)
        ticks = range(len(labels))
        ax.set_xticks(ticks, labels, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(ticks, labels, fontsize=8)
        ax.set_xlabel(f"predicted {what}", fontsize=8)
        ax.set_ylabel(f"gold {what}", fontsize=8)

    return draw


def _reliability(ax: Any, table: dict[str, Any]) -> None:
    bins = [b for b in table["bins"] if b["count"]]
    width = table["bins"][0]["upper"] - table["bins"][0]["lower"]
    ax.plot([0, 1], [0, 1], linestyle="--", color="#888888", linewidth=1, label="calibrated")
    ax.bar(
        [b["lower"] for b in bins],
        [b["accuracy"] for b in bins],
        width=width,
        align="edge",
        color="#a8d5f2",
        edgecolor="#2f6fca",
        label="share of links that are gold",
    )
    ax.plot(
        [b["mean_score"] for b in bins],
        [b["accuracy"] for b in bins],
        "o",
        color="#2f6fca",
        markersize=3,
    )
    for b in bins:
        above = min(b["accuracy"] + 0.02, 0.95)
        ax.text(b["lower"] + width / 2, above, str(b["count"]), ha="center", fontsize=6)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("link score (bin; n links above each bar)", fontsize=8)
    ax.set_ylabel("share correct", fontsize=8)
    ax.tick_params(labelsize=7)
    error = table["expected_calibration_error"]
    ax.legend(fontsize=7, loc="upper left", title=f"ECE {error:.3f}", title_fontsize=7)


def _precision_recall(ax: Any, links: dict[str, Any]) -> None:
    rows = links["precision_recall"]
    x = [r["min_score"] for r in rows]
    for key, colour in (("precision", "#2f6fca"), ("recall", "#c0392b"), ("f1", "#1b7f3a")):
        ax.plot(x, [r[key] for r in rows], marker="o", markersize=2.5, color=colour, label=key)
    chosen = links["min_score"]
    ax.axvline(chosen, color="#888888", linestyle=":", linewidth=1)
    ax.text(chosen, 0.98, f" model's min_score {chosen:g}", fontsize=7, va="top", color="#444444")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"min_score (links kept at or above; {links['gold_links']} gold)", fontsize=8)
    ax.set_ylabel("link precision / recall / F1", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="center right")

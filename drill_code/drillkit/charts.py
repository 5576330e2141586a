"""Charts for the handbook pages, drawn at build time from the results JSON the drills'
commands committed (drill_code/drill*/results/*.json). Nothing here measures anything:
it only draws what `nox -s bench -- drillN` recorded, so the figures stay generated.

Every chart comes as a pair of transparent SVGs, one per colour scheme: Material shows the
`#only-light` image in the light scheme and the `#only-dark` one in the dark scheme, and
follows the reader's toggle. Charts are drawn at about phone width (a 390 px screen shows
them at close to their natural size), so their text stays legible there.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

# Phone width, in inches at 72 points: the figure's natural size is about 460 px wide.
WIDTH = 4.8
FONT_SIZE = 10.5


@dataclass(frozen=True)
class Scheme:
    name: str
    text: str
    muted: str
    grid: str
    starter: str
    solution: str
    series: tuple[str, ...]
    bands: dict[str, str]


# Material's slate background is about #1e2129; every colour keeps at least 4.5:1
# against its scheme's background (text) or 3:1 (marks).
LIGHT = Scheme(
    name="light",
    text="#1f1f1f",
    muted="#555555",
    grid="#d0d0d0",
    starter="#c62828",
    solution="#283593",
    series=("#c62828", "#283593", "#2e7d32", "#6a1b9a", "#e65100", "#00695c"),
    bands={"cut": "#c6282833", "slow": "#e6510033"},
)
DARK = Scheme(
    name="dark",
    text="#e6e6e6",
    muted="#b0b0b0",
    grid="#4a4e5a",
    starter="#ff8a80",
    solution="#8c9eff",
    series=("#ff8a80", "#8c9eff", "#a5d6a7", "#ce93d8", "#ffb74d", "#80cbc4"),
    bands={"cut": "#ff8a8040", "slow": "#ffb74d40"},
)
SCHEMES = (LIGHT, DARK)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Text stays text: smaller files, and the browser renders it crisply at any width.
    plt.rcParams.update(
        {"svg.fonttype": "none", "font.size": FONT_SIZE, "svg.hashsalt": "handbook"}
    )
    return plt


def _style(ax, scheme: Scheme) -> None:
    ax.set_facecolor("none")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(scheme.muted)
    ax.tick_params(colors=scheme.text, which="both")
    ax.xaxis.label.set_color(scheme.text)
    ax.yaxis.label.set_color(scheme.text)
    ax.title.set_color(scheme.text)
    ax.grid(True, color=scheme.grid, linewidth=0.6)
    ax.set_axisbelow(True)


def _plain_log(axis) -> None:
    """Log-scale ticks as plain numbers (10, 100, 1,000), which read faster than 10^2."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.10g}"))
    axis.set_minor_formatter(NullFormatter())


def _svg(fig) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", transparent=True, bbox_inches="tight", metadata={"Date": None})
    fig.clf()
    _pyplot().close(fig)
    return out.getvalue()


def _legend(ax, scheme: Scheme, **options):
    legend = ax.legend(frameon=False, labelcolor=scheme.text, **options)
    return legend


# --- Drill 2: queries per endpoint as the catalogue grows --------------------------------


def drill2_queries(results: Path, scheme: Scheme) -> str:
    """Log-log lines: each endpoint's query count at N = 10, 100, 1000 books, the starter
    solid and the solution dashed, in the endpoint's colour."""
    data = json.loads(results.read_text())
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(WIDTH, 4.6))
    endpoints = list(dict.fromkeys(row["path"] for row in data["starter"]))
    for colour, path in zip(scheme.series, endpoints, strict=False):
        label = path.split("?")[0]
        for target, style in (("starter", "-"), ("solution", "--")):
            rows = sorted((r for r in data[target] if r["path"] == path), key=lambda r: r["size"])
            ax.plot(
                [r["size"] for r in rows],
                [r["queries"] for r in rows],
                style,
                marker="o" if target == "starter" else "s",
                markersize=4,
                color=colour,
                linewidth=1.8,
                label=label if target == "starter" else None,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log(ax.yaxis)
    # The story in numbers: the book list's counts at each N, starter and solution.
    book_list = endpoints[0]
    for target, place in (("starter", (-4, 6)), ("solution", (0, -13))):
        for row in data[target]:
            if row["path"] == book_list:
                ax.annotate(
                    f"{row['queries']:,}",
                    (row["size"], row["queries"]),
                    xytext=place,
                    textcoords="offset points",
                    ha="center",
                    fontsize=9,
                    color=scheme.text,
                )
    sizes = sorted({r["size"] for r in data["starter"]})
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.set_xlabel("books in the catalogue (N)")
    ax.set_ylabel("SQL queries per request")
    ax.set_title("Solid: starter · dashed: solution", fontsize=FONT_SIZE, loc="left")
    _style(ax, scheme)
    _legend(ax, scheme, loc="upper center", bbox_to_anchor=(0.45, -0.18), ncol=2, fontsize=9.5)
    return _svg(fig)


def drill2_times(results: Path, scheme: Scheme) -> str:
    """Paired horizontal bars: median milliseconds per endpoint at the largest N."""
    data = json.loads(results.read_text())
    largest = max(r["size"] for r in data["starter"])
    rows = {
        target: {
            r["path"].split("?")[0]: r["seconds"] * 1000
            for r in data[target]
            if r["size"] == largest
        }
        for target in ("starter", "solution")
    }
    return _paired_bars(
        labels=list(rows["starter"]),
        starter=list(rows["starter"].values()),
        solution=[rows["solution"][p] for p in rows["starter"]],
        xlabel=f"median ms per request at N = {largest:,} (log scale)",
        scheme=scheme,
        log=True,
        value_format="{:,.1f}",
    )


# --- Drill 3: the damage a burst of concurrent orders does -------------------------------

DRILL3_MEASURES = {
    "oversold_units": "Units sold beyond the stock",
    "lost_stock_updates": "Stock decrements lost",
    "lost_charges": "Wallet charges lost",
    "overdrawn_wallets": "Wallets overdrawn",
    "duplicate_orders": "Duplicate orders",
    "orphan_confirmations": "Confirmations for no order",
    "invariant_violations": "Invariant violations",
}


def drill3_damage(results: Path, scheme: Scheme) -> str:
    runs = json.loads(results.read_text())["runs"]
    return _paired_bars(
        labels=list(DRILL3_MEASURES.values()),
        starter=[runs["starter"][key] for key in DRILL3_MEASURES],
        solution=[runs["solution"][key] for key in DRILL3_MEASURES],
        xlabel=f"count after {runs['starter']['requests']:,} concurrent requests",
        scheme=scheme,
    )


def _paired_bars(labels, starter, solution, xlabel, scheme, log=False, value_format="{:,}"):
    plt = _pyplot()
    height = 0.9 + 0.62 * len(labels)
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    positions = range(len(labels))
    bar = 0.38
    for offset, values, colour, name in (
        (-bar / 2, starter, scheme.starter, "starter"),
        (bar / 2, solution, scheme.solution, "solution"),
    ):
        ys = [p + offset for p in positions]
        ax.barh(ys, values, height=bar, color=colour, label=name)
        for y, value in zip(ys, values, strict=True):
            ax.annotate(
                value_format.format(value),
                (value, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
                color=scheme.text,
            )
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
        _plain_log(ax.xaxis)
    ax.set_xlim(right=max([*starter, *solution, 1]) * (3 if log else 1.2))
    ax.set_xlabel(xlabel)
    _style(ax, scheme)
    ax.grid(axis="y", visible=False)
    _legend(ax, scheme, loc="lower center", bbox_to_anchor=(0.3, 1.0), ncol=2)
    return _svg(fig)


# --- Drill 5: an outage under load, second by second ------------------------------------

DRILL5_OUTCOMES = (
    ("fresh", "fresh data"),
    ("stale", "last good copy"),
    ("empty", "empty 200"),
    ("503", "503 + Retry-After"),
    ("500", "500"),
    ("timeout", "client gave up"),
)


def drill5_outage(results: Path, scheme: Scheme) -> str:
    """One panel per target, stacked so each keeps the full width on a phone: reads per
    second by outcome, with the database's state shaded behind."""
    data = json.loads(results.read_text())
    colours = dict(
        zip(
            [key for key, _ in DRILL5_OUTCOMES],
            (
                scheme.series[1],
                scheme.series[2],
                scheme.series[4],
                scheme.series[5],
                scheme.series[0],
                scheme.muted,
            ),
            strict=True,
        )
    )
    plt = _pyplot()
    targets = data["targets"]
    fig, axes = plt.subplots(
        len(targets), 1, figsize=(WIDTH, 2.4 * len(targets) + 1.2), sharex=True
    )
    top = max(s["requests"] for t in targets for s in t["seconds"]) * 1.15
    for ax, target in zip(axes, targets, strict=True):
        seconds = [s["second"] for s in target["seconds"]]
        bottom = [0] * len(seconds)
        for start, end, state in data["timeline"]:
            if state in scheme.bands:
                ax.axvspan(start - 0.5, end - 0.5, color=scheme.bands[state], linewidth=0)
                ax.text(
                    (start + end - 1) / 2,
                    top * 0.97,
                    f"database {state}",
                    ha="center",
                    va="top",
                    fontsize=9,
                    color=scheme.text,
                )
        for key, label in DRILL5_OUTCOMES:
            values = [s[key] for s in target["seconds"]]
            ax.bar(
                seconds,
                values,
                bottom=bottom,
                color=colours[key],
                width=0.8,
                label=label if ax is axes[0] else None,
            )
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_ylim(0, top)
        ax.set_title(target["target"], loc="left", fontsize=FONT_SIZE, fontweight="bold")
        ax.set_ylabel("reads per second")
        _style(ax, scheme)
        ax.grid(axis="x", visible=False)
    axes[-1].set_xlabel("second of the run")
    fig.legend(
        frameon=False,
        labelcolor=scheme.text,
        loc="lower center",
        ncol=3,
        bbox_to_anchor=(0.5, -0.08),
        fontsize=9.5,
    )
    fig.tight_layout()
    return _svg(fig)


CHARTS = {
    "drill2-queries": drill2_queries,
    "drill2-times": drill2_times,
    "drill3-damage": drill3_damage,
    "drill5-outage": drill5_outage,
}

"""Self-audits for a team: whose scorecard is whose, a person's view with the measured
evidence beside each self-score, a team view, and the agenda for the meeting.

Scorecards live in `scorecards/<person>/<date>-<drill>.yml`; a card at the top of the
folder belongs to nobody in particular and shows as "unnamed".
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from drillkit.catalog import all_drills, shown
from drillkit.errors import DrillError
from drillkit.scorecards import Scorecard, checklist, load

UNNAMED = "unnamed"
DEFAULT_CADENCE_DAYS = 30
# A self-score of 2 or 3 says "I did it and can point to it"; fewer than half of the
# drill's flaws fixed in the measured run says otherwise. That gap is worth a discussion.
CONFIDENT_SCORE = 2
LOW_MEASURED_SHARE = 0.5


@dataclass(frozen=True)
class Card:
    path: Path
    person: str
    card: Scorecard

    @property
    def date(self) -> dt.date:
        return self.card.date

    def measured_share(self) -> float | None:
        """The share of the drill's flaws the measured run found fixed."""
        measured = self.card.measured
        if measured is None:
            return None
        total = len(measured.flaws_fixed) + len(measured.flaws_open)
        return len(measured.flaws_fixed) / total if total else None

    def evidence(self) -> str:
        """The measured results, in words: flaws fixed, the audit score, the own tests."""
        measured = self.card.measured
        if measured is None:
            return "nothing measured"
        total = len(measured.flaws_fixed) + len(measured.flaws_open)
        parts = [f"{len(measured.flaws_fixed)} of {total} flaws fixed"]
        if measured.audit:
            blind = ", blind" if measured.audit.blind else ""
            parts.append(f"located {measured.audit.located} of {measured.audit.of}{blind}")
        if measured.own_tests:
            own = measured.own_tests
            parts.append(f"own tests catch {own.flaws_caught} of {own.flaws}")
        if measured.assistant_audit:
            helper = measured.assistant_audit
            parts.append(f"assistant located {helper.located} of {helper.of}")
        return "; ".join(parts)


def load_cards(folder: Path, files: list[Path]) -> list[Card]:
    cards = []
    for path in files:
        card, problems = load(path)
        if problems:
            raise DrillError("\n".join(problems))
        folder_person = path.parent.name if path.parent != folder else None
        if card.person and folder_person and card.person != folder_person:
            raise DrillError(
                f"{shown(path)} says `person: {card.person}` but sits in {folder_person}'s "
                f"folder. Move it to {shown(folder / card.person)}/ or correct the field."
            )
        cards.append(Card(path, card.person or folder_person or UNNAMED, card))
    return sorted(cards, key=lambda c: (c.person, c.date, c.path.name))


def people(cards: list[Card]) -> list[str]:
    return sorted({c.person for c in cards})


def only(cards: list[Card], person: str) -> list[Card]:
    mine = [c for c in cards if c.person == person]
    if not mine:
        raise DrillError(
            f"There are no scorecards for {person!r}. People with scorecards: "
            f"{', '.join(people(cards))}. A person's cards live in scorecards/<person>/."
        )
    return mine


def _item_scores(card: Card) -> dict[str, float]:
    """checklist id -> the mean of this card's scored criteria for it."""
    scores: dict[str, list[int]] = defaultdict(list)
    for criterion in card.card.criteria:
        if criterion.score is not None:
            scores[criterion.checklist].append(criterion.score)
    return {item: sum(s) / len(s) for item, s in scores.items()}


def history(cards: list[Card]) -> dict[str, list[tuple[Card, float]]]:
    """checklist id -> [(card, score)], oldest first, for one person's cards."""
    points: dict[str, list[tuple[Card, float]]] = defaultdict(list)
    for card in sorted(cards, key=lambda c: c.date):
        for item, score in _item_scores(card).items():
            points[item].append((card, score))
    return points


def gap(card: Card, score: float) -> str:
    share = card.measured_share()
    if share is not None and score >= CONFIDENT_SCORE and share < LOW_MEASURED_SHARE:
        return f"self-score {fmt(score)}, but {card.evidence()}"
    return ""


# -- a person's view ------------------------------------------------------------------


def person_table(cards: list[Card]) -> str:
    points = history(cards)
    rows = [["Checklist item", "Latest", "Scored on", "History", "Measured then", "Gap to discuss"]]
    for item in checklist().values():
        series = points.get(item.id, [])
        if not series:
            rows.append([item.name, "not scored", "", "", "", ""])
            continue
        card, latest = series[-1]
        trend = " → ".join(fmt(score) for _, score in series)
        rows.append(
            [item.name, fmt(latest), str(card.date), trend, card.evidence(), gap(card, latest)]
        )
    return markdown_table(rows)


def attempts_table(cards: list[Card]) -> str:
    """One person's attempts drill by drill, so a mixed redo a month later sits beside
    the first attempt at the starter."""
    rows = [["Drill", "Date", "Attempt", "Measured"]]
    for card in sorted(cards, key=lambda c: (c.card.drill, c.date)):
        measured = card.card.measured
        kind = (
            f"mix, seed {measured.mix_seed}"
            if measured is not None and measured.mix_seed is not None
            else "the starter"
        )
        rows.append([card.card.drill, str(card.date), kind, card.evidence()])
    return markdown_table(rows)


# -- the team's view ------------------------------------------------------------------


def latest_by_person(cards: list[Card]) -> dict[str, dict[str, tuple[Card, float]]]:
    """person -> checklist id -> (card, score) of their latest score for the item."""
    latest: dict[str, dict[str, tuple[Card, float]]] = defaultdict(dict)
    for person in people(cards):
        for item, series in history(only(cards, person)).items():
            latest[person][item] = series[-1]
    return latest


def drops(cards: list[Card]) -> list[tuple[str, str, float, float, dt.date]]:
    """(person, item, before, after, date) for every item whose latest score fell."""
    found = []
    for person in people(cards):
        for item, series in history(only(cards, person)).items():
            if len(series) > 1 and series[-1][1] < series[-2][1]:
                found.append((person, item, series[-2][1], series[-1][1], series[-1][0].date))
    return sorted(found, key=lambda d: d[3] - d[2])


def overdue(cards: list[Card], today: dt.date, cadence_days: int) -> list[tuple[str, dt.date]]:
    last = {person: max(c.date for c in only(cards, person)) for person in people(cards)}
    return [
        (person, day)
        for person, day in sorted(last.items(), key=lambda kv: kv[1])
        if (today - day).days > cadence_days
    ]


def team_table(cards: list[Card]) -> str:
    latest = latest_by_person(cards)
    fell = {(person, item) for person, item, *_ in drops(cards)}
    # A person's score for an item is the mean of its criteria on their latest card; the
    # distribution counts it at the level below (a 2.5 is a 2 that is not yet a 3).
    rows = [["Checklist item", "People at 0 / 1 / 2 / 3", "Median", "Lowest", "Fell for"]]
    for item in checklist().values():
        scores = {p: latest[p][item.id][1] for p in latest if item.id in latest[p]}
        if not scores:
            rows.append([item.name, "nobody scored", "", "", ""])
            continue
        counts = [sum(int(s) == level for s in scores.values()) for level in range(4)]
        lowest = min(scores.values())
        who_lowest = ", ".join(p for p, s in sorted(scores.items()) if s == lowest)
        fallen = ", ".join(p for p in sorted(scores) if (p, item.id) in fell)
        rows.append(
            [
                item.name,
                " / ".join(str(c) for c in counts),
                fmt(statistics.median(scores.values())),
                f"{fmt(lowest)} ({who_lowest})",
                fallen,
            ]
        )
    return markdown_table(rows)


def team_notes(cards: list[Card], today: dt.date, cadence_days: int) -> list[str]:
    notes = []
    late = overdue(cards, today, cadence_days)
    if late:
        listed = ", ".join(f"{p} (last {d})" for p, d in late)
        notes.append(f"Not audited in the last {cadence_days} days: {listed}.")
    if UNNAMED in people(cards):
        count = sum(c.person == UNNAMED for c in cards)
        notes.append(
            f"{count} scorecards have no owner (they sit at the top of the folder); move them "
            "into scorecards/<person>/ so they count for someone."
        )
    return notes


# -- the agenda -----------------------------------------------------------------------


def parse_days(text: str) -> int:
    match = re.fullmatch(r"(\d+)\s*([dw])?", text.strip())
    if not match:
        raise DrillError(f"{text!r} is not a period: write days as 30d, or weeks as 4w.")
    return int(match[1]) * (7 if match[2] == "w" else 1)


def agenda(cards: list[Card], today: dt.date, since_days: int, cadence_days: int) -> str:
    """A short Markdown agenda for the weekly or monthly self-audit, from the scorecards."""
    since = today - dt.timedelta(days=since_days)
    recent = [c for c in cards if c.date >= since]
    names = {item.id: item.name for item in checklist().values()}
    latest = latest_by_person(cards)
    lines = [
        f"# Self-audit agenda, {today}",
        "",
        f"From {len(cards)} scorecards of {len(people(cards))} people; "
        f"{len(recent)} of them since {since}.",
        "",
        "## Lowest items",
        "",
    ]
    medians = {
        item: statistics.median(latest[p][item][1] for p in latest if item in latest[p])
        for item in names
        if any(item in latest[p] for p in latest)
    }
    for item, median in sorted(medians.items(), key=lambda kv: kv[1])[:3]:
        scores = {p: latest[p][item][1] for p in latest if item in latest[p]}
        high = sorted((p for p, s in scores.items() if s >= CONFIDENT_SCORE + 0.5), key=scores.get)
        low = sorted((p for p, s in scores.items() if s < CONFIDENT_SCORE), key=scores.get)
        pair = (
            f" Pair {high[0]} ({fmt(scores[high[0]])}) with {low[0]} ({fmt(scores[low[0]])})."
            if high and low
            else ""
        )
        count = f"{len(scores)} {'person' if len(scores) == 1 else 'people'}"
        lines.append(f"- **{names[item]}**: median {fmt(median)} across {count}.{pair}")
    lines += ["", "## Largest drops", ""]
    fallen = [d for d in drops(cards) if d[4] >= since]
    lines += [
        f"- {person}: **{names[item]}** fell from {fmt(before)} to {fmt(after)} ({day})."
        for person, item, before, after, day in fallen[:5]
    ] or ["- None in this period."]
    lines += ["", "## Self-scores that disagree with measured results", ""]
    gaps = []
    for card in recent:
        for item, score in _item_scores(card).items():
            found = gap(card, score)
            if found:
                gaps.append(
                    f"- {card.person}, {card.card.drill} on {card.date}: **{names[item]}** {found}."
                )
    lines += gaps or ["- None in this period."]
    lines += ["", "## Drills nobody has attempted", ""]
    attempted = {c.card.drill for c in cards}
    lines += [
        f"- {drill.name}: {drill.title} ({drill.time_box})"
        for drill in all_drills()
        if drill.name not in attempted
    ] or ["- Every drill has been attempted at least once."]
    lines += ["", "## Overdue", ""]
    lines += [
        f"- {person}: last scorecard {day}, {(today - day).days} days ago "
        f"(cadence: {cadence_days} days)."
        for person, day in overdue(cards, today, cadence_days)
    ] or ["- Nobody."]
    return "\n".join(lines) + "\n"


# -- charts and tables ----------------------------------------------------------------


NEUTRAL = "#888888"  # mid-grey text and axes: legible on the light and the dark scheme


def _save(figure, axes, output: Path) -> Path:
    """Neutral text on a transparent background, so a chart reads in both site schemes,
    and a reproducible SVG (fixed hash salt, no date)."""
    import matplotlib.pyplot as plt

    axes.tick_params(colors=NEUTRAL)
    axes.xaxis.label.set_color(NEUTRAL)
    axes.yaxis.label.set_color(NEUTRAL)
    axes.title.set_color(NEUTRAL)
    for spine in axes.spines.values():
        spine.set_color(NEUTRAL)
    legend = axes.get_legend()
    if legend is not None:
        plt.setp(legend.get_texts(), color=NEUTRAL)
        legend.get_title().set_color(NEUTRAL)
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    plt.rcParams["svg.hashsalt"] = "scorecards"
    figure.savefig(
        output, transparent=True, metadata={"Date": None} if output.suffix == ".svg" else None
    )
    plt.close(figure)
    return output


def person_chart(cards: list[Card], output: Path) -> Path:
    """One person's score for every checklist item over time (PNG or SVG by suffix)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write files only
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    points = history(cards)
    figure, axes = plt.subplots(figsize=(8, 4), dpi=120)
    for item in checklist().values():
        if item.id in points:
            days = [card.date for card, _ in points[item.id]]
            axes.plot(days, [score for _, score in points[item.id]], marker="o", label=item.name)
    axes.set_ylim(-0.2, 3.2)
    axes.set_yticks([0, 1, 2, 3])
    axes.set_ylabel("score (0 to 3)")
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:  # nothing scored yet: no legend to draw
        axes.legend(loc="lower right", fontsize="small", frameon=False)
    figure.autofmt_xdate()
    return _save(figure, axes, output)


def team_chart(cards: list[Card], output: Path) -> Path:
    """Stacked bars: how many people sit at each score per checklist item, in colours and
    text that read on the site's light and dark schemes alike (transparent background)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    latest = latest_by_person(cards)
    items = [item for item in checklist().values() if any(item.id in latest[p] for p in latest)]
    colours = ["#d9534f", "#f0ad4e", "#5bc0de", "#5cb85c"]  # 0 red ... 3 green
    figure, axes = plt.subplots(figsize=(7, 0.45 * max(len(items), 2) + 1.2), dpi=120)
    left = [0] * len(items)
    for level in range(4):
        counts = [
            sum(int(latest[p][i.id][1]) == level for p in latest if i.id in latest[p])
            for i in items
        ]
        axes.barh(
            [i.name for i in items], counts, left=left, color=colours[level], label=f"{level}"
        )
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.invert_yaxis()
    axes.set_xlabel("people, by their latest score")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # people come in whole numbers
    axes.legend(
        title="score", loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=4, frameon=False
    )
    return _save(figure, axes, output)


def fmt(score: float) -> str:
    """2, 2.5, 1.7: one decimal at most, as the scores are means of 0-3 levels."""
    return f"{score:.1f}".removesuffix(".0")


def markdown_table(rows: list[list[str]]) -> str:
    """A Markdown table with aligned columns, so it reads as well in a terminal."""
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)

"""Summary points against the labelled weeks' claims: attribution, labels, coverage, disputes, duplicates.

    .venv/bin/python bench/points_eval.py [--data DIR ...] [--json]

Each week (bench/data/week_dev, "dev", tuned on; bench/data/week_check, "check", held back) goes
through the real pipeline as in bench/tracking_eval.py (loopback feeds, the poller on a simulated
clock, the story refresh after each poll). At the end of each simulated day a reader asks for the
summary of the last 24 hours (planwatch.services.stories.summary, what `ask summary` prints); at
the end, for the whole week. Each point is then traced to the gold claim whose mention sentences
hold its text (claims.jsonl), and scored:

- attribution precision / recall: the point's outlets (origins and relays) against the outlets of
  the reports that carry the claim (any role), among the reports in the summary's window;
- label accuracy: the point's label against the claim's: `denied` for a denial, `unconfirmed` for
  a non-confirmation, `disputed` for a claim with a disputed figure when its rival version is in
  the window too, else `corroborated` when two or more outlets are its origins (a relay's named
  source counts: the week's `via`), else `single-source`;
- coverage: of the six most reported claims of the week, the share that some point (or a version
  of a disputed point) states, over all the summaries;
- disputes surfaced: of the disputed pairs (claims.jsonl `disputes`) whose claims both appear in one
  summary's window, the share shown as versions of one disputed point;
- duplicates: points (within one summary) tracing to a claim another point of it already states;
- untraced: points whose sentence is no gold mention (boilerplate, or a claim not labelled).

Development figures; the held-out week is scored elsewhere."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.tracking_eval import DEFAULT_SETS, BenchError, Week, label_of, load_week, run_week
from planwatch.services import stories
from planwatch.services.topics import DEFAULT_TOPIC
from planwatch.store import Store
from planwatch.stories.summarize import Point
from planwatch.timeutil import utcnow

DAY = timedelta(days=1)
TOP_CLAIMS = 6


@dataclass(frozen=True, slots=True)
class GoldClaim:
    id: str
    kind: str
    mentions: tuple[tuple[str, str, str, str | None], ...]  # (report, sentence, role, via)
    disputes: frozenset[str]


def load_claims(folder: Path) -> dict[str, GoldClaim]:
    path = folder / "claims.jsonl"
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot read {path}: {exc}") from exc
    return {
        r["id"]: GoldClaim(
            r["id"], r["kind"],
            tuple((m["report"], m["sentence"], m["role"], m.get("via")) for m in r["mentions"]),
            frozenset(r.get("disputes", ())),
        )
        for r in rows
    }  # fmt: skip


@dataclass(slots=True)
class Asked:
    """One summary a reader got: when, its window's report ids (gold), its points."""

    at: datetime
    window: set[str]
    points: list[Point]


@dataclass(slots=True)
class Tally:
    attributed: int = 0  # listed outlets that carry the claim
    listed: int = 0
    carried_found: int = 0
    carried: int = 0
    labels_right: int = 0
    labelled: int = 0
    traced: int = 0
    untraced: int = 0
    duplicates: int = 0
    points: int = 0
    disputes_shown: int = 0
    disputes_possible: int = 0
    covered: set[str] = field(default_factory=set)
    wrong_labels: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def trace(point: Point, claims: dict[str, GoldClaim], window: set[str]) -> GoldClaim | None:
    """The gold claim whose mention (in a report of the window) holds the point's sentence."""
    text = " ".join(point.text.split())
    best = None
    for claim in claims.values():
        for report, sentence, _, _ in claim.mentions:
            flat = " ".join(sentence.split())
            holds = report in window and (text in flat or flat in text)
            if holds and (best is None or len(claim.mentions) > len(best.mentions)):
                best = claim
    return best


def gold_label(claim: GoldClaim, window: set[str], claims: dict[str, GoldClaim], outlet_of: dict[str, str]) -> str:
    if claim.kind == "denial":
        return "denied"
    if claim.kind == "non_confirmation":
        return "unconfirmed"
    rivals = [claims[c] for c in claim.disputes if c in claims]
    if any(any(m[0] in window for m in rival.mentions) for rival in rivals):
        return "disputed"
    origins = {outlet_of[m[0]] for m in claim.mentions if m[2] == "origin" and m[0] in window}
    credited = {m[3] for m in claim.mentions if m[2] == "relay" and m[3] and m[0] in window}
    return "corroborated" if len(origins | credited) >= 2 else "single-source"


def ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def score_week(week: Week, claims: dict[str, GoldClaim], asked: list[Asked]) -> dict[str, Any]:
    outlet_of = {r.id: r.outlet for r in week.reports}
    reach = Counter({c.id: len({m[0] for m in c.mentions}) for c in claims.values()})
    top = [c for c, _ in reach.most_common(TOP_CLAIMS)]
    t = Tally()
    for summary in asked:
        seen_claims: set[str] = set()
        for point in summary.points:
            t.points += 1
            claim = trace(point, claims, summary.window)
            if claim is None:
                t.untraced += 1
                t.notes.append(f"untraced: {point.text[:110]}")
                continue
            t.traced += 1
            stated = {claim.id}
            for version in point.versions:
                v = trace(Point(version.text, "single-source", [], 0.0), claims, summary.window)
                if v is not None:
                    stated.add(v.id)
            if stated & seen_claims:
                t.duplicates += 1
                t.notes.append(f"duplicate {sorted(stated & seen_claims)}: {point.text[:100]}")
            seen_claims |= stated
            t.covered |= stated
            gold = {outlet_of[m[0]] for m in claim.mentions if m[0] in summary.window}
            listed = {s.outlet for s in point.sources}
            if listed - gold:
                t.notes.append(f"{claim.id} listed but not carrying it: {sorted(listed - gold)}: {point.text[:80]}")
            t.attributed += len(listed & gold)
            t.listed += len(listed)
            t.carried_found += len(listed & gold)
            t.carried += len(gold)
            expected = gold_label(claim, summary.window, claims, outlet_of)
            t.labelled += 1
            if point.label == expected:
                t.labels_right += 1
            else:
                t.wrong_labels[f"{expected} shown as {point.label}"] += 1
                t.notes.append(f"{claim.id} {expected} shown as {point.label}: {point.text[:100]}")
        # Disputed pairs with both versions in this window.
        for claim in claims.values():
            for rival in claim.disputes:
                if rival <= claim.id or rival not in claims:
                    continue
                both = all(any(m[0] in summary.window for m in claims[c].mentions) for c in (claim.id, rival))
                if not both:
                    continue
                t.disputes_possible += 1
                shown = [[x.id if x else "?" for x in (trace(Point(v.text, "single-source", [], 0.0), claims, summary.window)
                          for v in p.versions)] for p in summary.points if p.versions]  # fmt: skip
                t.notes.append(f"{summary.at:%m-%d} dispute {claim.id}/{rival}: disputed points show {shown}")
                for point in summary.points:
                    ids = {x.id for x in (trace(Point(v.text, "single-source", [], 0.0), claims, summary.window)
                                          for v in point.versions) if x is not None}  # fmt: skip
                    if {claim.id, rival} <= ids:
                        t.disputes_shown += 1
                        break
    return {
        "summaries": len(asked),
        "points": t.points,
        "traced": t.traced,
        "untraced": t.untraced,
        "attribution_precision": ratio(t.attributed, t.listed),
        "attribution_recall": ratio(t.carried_found, t.carried),
        "label_accuracy": ratio(t.labels_right, t.labelled),
        "wrong_labels": dict(t.wrong_labels.most_common()),
        "top_claims": top,
        "top_covered": ratio(len(set(top) & t.covered), len(top)),
        "disputes_shown": t.disputes_shown,
        "disputes_possible": t.disputes_possible,
        "duplicates": t.duplicates,
        "notes": t.notes,
    }


async def evaluate(week: Week) -> dict[str, Any]:
    claims = load_claims(week.folder)
    gold_by_key = {r.key: r.id for r in week.reports}
    asked: list[Asked] = []
    first = week.first_day
    checkpoints = {first + DAY * n for n in range(1, 12)}
    done: set[datetime] = set()

    async def after_round(store: Store, moment: datetime) -> None:
        due = [c for c in checkpoints if c <= moment and c not in done]
        for checkpoint in due:
            done.add(checkpoint)
            since = utcnow() - (checkpoint - DAY)
            asked.append(await _ask(store, since, checkpoint, gold_by_key))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await run_week(week, folder, after_round)
        store = await Store.open(folder / "tracking.db")
        try:
            whole = utcnow() - first + 2 * DAY
            asked.append(await _ask(store, whole, first + 12 * DAY, gold_by_key))
        finally:
            await store.close()
    figures = score_week(week, claims, asked)
    figures["label"] = week.label
    return figures


async def _ask(store: Store, since: timedelta, at: datetime, gold_by_key: dict[str, str]) -> Asked:
    result = await stories.summary(store, DEFAULT_TOPIC, since)
    window = {gold_by_key[r.url] for r in result.window.reports if r.url in gold_by_key}
    return Asked(at, window, result.points)


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        ("summaries (daily + whole week)", "summaries", "{}"),
        ("points / traced to a gold claim", None, None),
        ("attribution precision", "attribution_precision", "{:.2f}"),
        ("attribution recall", "attribution_recall", "{:.2f}"),
        ("label accuracy", "label_accuracy", "{:.2f}"),
        (f"top {TOP_CLAIMS} claims covered", "top_covered", "{:.2f}"),
        ("disputed pairs shown / in a window", None, None),
        ("duplicate points", "duplicates", "{}"),
    ]
    lines = [f"{'':38}" + "".join(f"{r['label']:>18}" for r in results)]
    for name, key, fmt in rows:
        if key is None and name.startswith("points"):
            cells = [f"{r['points']} / {r['traced']}" for r in results]
        elif key is None:
            cells = [f"{r['disputes_shown']} / {r['disputes_possible']}" for r in results]
        else:
            cells = [(fmt or "{}").format(r[key]) for r in results]
        lines.append(f"{name:38}" + "".join(f"{c:>18}" for c in cells))
    for r in results:
        if r["wrong_labels"]:
            lines.append(f"{r['label']}: wrong labels: " + ", ".join(f"{k} ×{v}" for k, v in r["wrong_labels"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, action="append", help="a labelled week's folder (repeatable)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--verbose", action="store_true", help="list each wrong label and duplicate point")
    args = parser.parse_args(argv)
    folders = args.data or [f for f in DEFAULT_SETS if f.exists()]
    try:
        weeks = [load_week(f, label_of(f)) for f in folders]
        results = [asyncio.run(evaluate(w)) for w in weeks]
    except BenchError as exc:
        print(f"points_eval: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(results, indent=2) if args.json else table(results))
    if args.verbose and not args.json:
        for r in results:
            print(f"\n{r['label']}:", *r["notes"], sep="\n  ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

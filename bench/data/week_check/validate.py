"""Check the week_check data set: JSON, ids, references, exact mention sentences, copies, decoys, pairs.

Adapted from week_dev/validate.py (same checks, plus: German and French reports, published <= seen,
disputes symmetric, revisions among disputes, claim pairs consistent with the gold claims and taken
from the reports).

Run: python bench/data/week_check/validate.py  (exit status 1 and a list of problems if anything is wrong)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KINDS = {"statement", "denial", "non_confirmation", "figure"}
ROLES = {"origin", "relay", "copy", "denial", "non_confirmation"}
LANGS = {"en", "uk", "ru", "de", "fr"}
DAY_ONE_WORDS = ("28-point", "peace plan")


def load(name: str, problems: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, line in enumerate((HERE / name).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{name}:{n}: not JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{name}:{n}: not an object")
            continue
        rows.append(obj)
    return rows


def unique(rows: list[dict[str, Any]], name: str, problems: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        rid = row.get("id")
        if not isinstance(rid, str) or rid in out:
            problems.append(f"{name}: missing or duplicate id {rid!r}")
            continue
        out[rid] = row
    return out


def is_time(value: object) -> bool:
    if not isinstance(value, str) or not value.endswith("Z"):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def report_text(r: dict[str, Any]) -> list[str]:
    return [str(r["summary"]), *[str(p) for p in r["paragraphs"]]]


def check_reports(reports: list[dict[str, Any]], events: dict[str, dict[str, Any]], problems: list[str]) -> None:
    position: dict[str, int] = {}
    by_id: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(reports):
        rid = str(r.get("id"))
        for field in ("outlet", "url", "title", "summary"):
            if not isinstance(r.get(field), str) or not r[field]:
                problems.append(f"{rid}: {field} missing")
        if r.get("published") is not None and not is_time(r.get("published")):
            problems.append(f"{rid}: bad published {r.get('published')!r}")
        if not is_time(r.get("seen")):
            problems.append(f"{rid}: bad seen {r.get('seen')!r}")
        elif is_time(r.get("published")) and str(r["published"]) > str(r["seen"]):
            problems.append(f"{rid}: published after seen")
        if r.get("lang") not in LANGS:
            problems.append(f"{rid}: unknown lang {r.get('lang')!r}")
        paras = r.get("paragraphs")
        if not isinstance(paras, list) or not 3 <= len(paras) <= 8 or not all(isinstance(p, str) and p for p in paras):
            problems.append(f"{rid}: paragraphs must be 3-8 non-empty strings")
        if i and str(r.get("seen")) < str(reports[i - 1].get("seen")):
            problems.append(f"{rid}: lines are not in the order a poller sees them")
        gold = r.get("gold")
        if not isinstance(gold, dict):
            problems.append(f"{rid}: gold missing")
            continue
        if not isinstance(gold.get("on_topic"), bool):
            problems.append(f"{rid}: gold.on_topic must be a boolean")
        if gold.get("on_topic"):
            if gold.get("event") not in events:
                problems.append(f"{rid}: on-topic report with unknown event {gold.get('event')!r}")
        elif gold.get("event") is not None:
            problems.append(f"{rid}: decoy with an event")
        for field in ("copy_of", "repost_of"):
            target = gold.get(field)
            if target is None:
                continue
            if target not in position:
                problems.append(f"{rid}: {field} {target!r} is not an earlier report")
                continue
            original = by_id[target]
            if original["gold"].get("event") != gold.get("event"):
                problems.append(f"{rid}: {field} {target} but a different event")
        if gold.get("repost_of") is not None:
            source = by_id.get(str(gold["repost_of"]))
            if gold.get("copy_of") != gold.get("repost_of"):
                problems.append(f"{rid}: a repost is also copy_of its original")
            if source and (source["title"], report_text(source)) != (r["title"], report_text(r)):
                problems.append(f"{rid}: repost text differs from {source['id']}")
        position[rid] = i
        by_id[rid] = r


def check_claims(
    claims: dict[str, dict[str, Any]],
    reports: dict[str, dict[str, Any]],
    events: dict[str, dict[str, Any]],
    problems: list[str],
) -> None:
    for cid, c in claims.items():
        if c.get("event") not in events:
            problems.append(f"{cid}: unknown event {c.get('event')!r}")
        if c.get("kind") not in KINDS:
            problems.append(f"{cid}: unknown kind {c.get('kind')!r}")
        if not isinstance(c.get("text"), str) or not c["text"]:
            problems.append(f"{cid}: text missing")
        for field in ("denies", "unconfirms", "revises"):
            if field in c and c[field] not in claims:
                problems.append(f"{cid}: {field} {c[field]!r} is not a claim")
        if c.get("kind") == "denial" and "denies" not in c:
            problems.append(f"{cid}: a denial names the claim it denies")
        for other in c.get("disputes", []):
            if other not in claims:
                problems.append(f"{cid}: disputes unknown claim {other!r}")
            elif claims[other].get("about") != c.get("about"):
                problems.append(f"{cid}: disputes {other} about another quantity")
            elif cid not in claims[other].get("disputes", []):
                problems.append(f"{cid}: disputes {other}, but not the other way round")
        if "revises" in c and c["revises"] not in c.get("disputes", []):
            problems.append(f"{cid}: revises {c['revises']}, which it does not dispute")
        if c.get("kind") == "non_confirmation" and "unconfirms" not in c:
            problems.append(f"{cid}: a non-confirmation names the claim it does not confirm")
        mentions = c.get("mentions")
        if not isinstance(mentions, list) or not mentions:
            problems.append(f"{cid}: no mentions")
            continue
        for m in mentions:
            r = reports.get(m.get("report"))
            if r is None:
                problems.append(f"{cid}: mention of unknown report {m.get('report')!r}")
                continue
            sentence = m.get("sentence")
            if not isinstance(sentence, str) or not any(sentence in t for t in report_text(r)):
                problems.append(f"{cid}: sentence not found in {r['id']}: {str(sentence)[:70]!r}")
            if m.get("role") not in ROLES:
                problems.append(f"{cid}: unknown role {m.get('role')!r} in {r['id']}")
            if m.get("role") == "copy" and r["gold"].get("copy_of") is None:
                problems.append(f"{cid}: role copy in {r['id']}, which is not a copy")
            if not r["gold"].get("on_topic"):
                problems.append(f"{cid}: mention in decoy {r['id']}")


def check_pairs(
    pairs: list[dict[str, Any]],
    claims: dict[str, dict[str, Any]],
    reports: dict[str, dict[str, Any]],
    problems: list[str],
) -> None:
    texts = [t for r in reports.values() for t in report_text(r)]
    decoy_texts = [t for r in reports.values() if not r["gold"].get("on_topic") for t in report_text(r)]
    carried: dict[str, set[str]] = {}
    for cid, c in claims.items():
        for m in c.get("mentions", []):
            carried.setdefault(str(m.get("sentence")), set()).add(cid)
    for n, p in enumerate(pairs, 1):
        where = f"claim_pairs.jsonl:{n}"
        if not (isinstance(p.get("a"), str) and isinstance(p.get("b"), str) and isinstance(p.get("same"), bool)):
            problems.append(f"{where}: needs a, b (strings) and same (boolean)")
            continue
        if not isinstance(p.get("why"), str) or not p["why"]:
            problems.append(f"{where}: why missing")
        pc = p.get("claims")
        if not isinstance(pc, list) or len(pc) != 2:
            problems.append(f"{where}: claims must be a list of two")
            continue
        for side, cid in zip((p["a"], p["b"]), pc, strict=True):
            if not any(side in t for t in texts):
                problems.append(f"{where}: sentence not in any report: {side[:60]!r}")
            if cid is None:
                if not any(side in t for t in decoy_texts):
                    problems.append(f"{where}: a side without a claim must come from a decoy")
            elif cid not in claims:
                problems.append(f"{where}: unknown claim {cid!r}")
            elif cid not in carried.get(side, set()):
                problems.append(f"{where}: {cid} has no mention with that sentence")
        shared = carried.get(p["a"], set()) & carried.get(p["b"], set())
        if p["same"] and (pc[0] != pc[1] or pc[0] is None):
            problems.append(f"{where}: a same pair names one claim on both sides")
        if not p["same"] and shared:
            problems.append(f"{where}: labelled different, but both sentences carry {sorted(shared)}")


def main() -> int:
    problems: list[str] = []
    report_rows = load("reports.jsonl", problems)
    event_rows = load("events.jsonl", problems)
    claim_rows = load("claims.jsonl", problems)
    pairs = load("claim_pairs.jsonl", problems)
    reports = unique(report_rows, "reports.jsonl", problems)
    events = unique(event_rows, "events.jsonl", problems)
    claims = unique(claim_rows, "claims.jsonl", problems)
    check_reports(report_rows, events, problems)
    check_claims(claims, reports, events, problems)
    check_pairs(pairs, claims, reports, problems)

    on_topic = [r for r in report_rows if r["gold"]["on_topic"]]
    later = [r for r in on_topic if r["seen"] >= "2025-11-21"]
    without = [r for r in later if not any(w in " ".join([r["title"], *report_text(r)]).lower() for w in DAY_ONE_WORDS)]
    mentions = Counter(len(c["mentions"]) for c in claim_rows)
    print(f"reports {len(report_rows)} ({len(on_topic)} on topic, {len(report_rows) - len(on_topic)} decoys)")
    print(f"outlets {len({r['outlet'] for r in report_rows})}, events {len(events)}")
    print(f"languages {dict(Counter(r['lang'] for r in report_rows))}")
    print(f"published missing {sum(r['published'] is None for r in report_rows)}")
    reposts = sum(r["gold"]["repost_of"] is not None for r in report_rows)
    copies = sum(r["gold"]["copy_of"] is not None for r in report_rows) - reposts
    print(f"near-verbatim copies {copies}, verbatim reposts {reposts}")
    print(f"on-topic reports from Nov 21 on without {' / '.join(DAY_ONE_WORDS)}: {len(without)} of {len(later)}")
    kinds = dict(Counter(c["kind"] for c in claim_rows))
    print(f"claims {len(claims)} ({kinds}), mentions {sum(len(c['mentions']) for c in claim_rows)}")
    print(f"claims with >= 5 mentions {sum(v for k, v in mentions.items() if k >= 5)}")
    roles = Counter(m["role"] for c in claim_rows for m in c["mentions"])
    print(f"mention roles {dict(roles)}")
    carrying = sorted(((len({m['report'] for m in c['mentions']}), c["id"]) for c in claim_rows), reverse=True)[:6]
    print("most reported claims " + ", ".join(f"{cid} ({n} reports)" for n, cid in carrying))
    disputed = sorted(c["id"] for c in claim_rows if c.get("disputes"))
    revisions = sorted(c["id"] + ">" + c["revises"] for c in claim_rows if "revises" in c)
    print(f"disputed claims {len(disputed)} {disputed}; revisions {revisions}")
    same = sum(p["same"] for p in pairs)
    hard = sum(bool(p.get("hard")) for p in pairs)
    print(f"claim pairs {len(pairs)} ({same} same, {len(pairs) - same} different, {hard} of them hard)")
    for problem in problems:
        print("PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

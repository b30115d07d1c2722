"""bench/tracking_eval.py: a tiny labelled week through the real pipeline (loopback feeds, the poller,
the story refresh, `ask sources`), and its figures computed as defined."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.tracking_eval import BenchError, evaluate, load_week, main

LEAK = (
    "Envoys of the United States and Russia drafted a 28-point peace plan for Ukraine in secret, officials "
    "said, and the draft would ask Kyiv to give up land in the Donbas and cut its army."
)
DENIAL = (
    "The Kremlin said on Wednesday it had received no new proposals on a Ukraine peace plan, and spokesman "
    "Dmitry Peskov dismissed reports of a secret 28-point plan as media speculation."
)
GRAIN = "Ukraine shipped a record amount of grain through its Black Sea ports in November, traders said."


def _row(rid: str, outlet: str, seen: str, title: str, text: str, event: str | None, copy_of: str | None = None,
         repost: bool = False) -> dict[str, object]:  # fmt: skip
    host = outlet.lower().replace(" ", "")
    return {
        "id": rid, "outlet": outlet, "url": f"https://{host}.example/{rid}", "published": seen, "seen": seen,
        "lang": "en", "title": title, "summary": text.split(",")[0] + ".", "paragraphs": [text],
        "gold": {"on_topic": event is not None, "event": event, "copy_of": copy_of,
                 "repost_of": copy_of if repost else None},
    }  # fmt: skip


@pytest.fixture
def week(tmp_path: Path) -> Path:
    rows = [
        _row("t1", "Wire One", "2025-11-19T09:00:00Z", "US and Russia draft 28-point Ukraine peace plan", LEAK, "leak"),
        _row(
            "t2",
            "Relay Blog",
            "2025-11-19T11:30:00Z",
            "US and Russia draft 28-point Ukraine peace plan",
            LEAK,
            "leak",
            copy_of="t1",
            repost=True,
        ),
        _row("t3", "Daily Two", "2025-11-20T08:00:00Z", "Kremlin: no new proposals on Ukraine peace plan", DENIAL, "denial"),
        _row("t4", "Farm News", "2025-11-20T10:00:00Z", "Record grain shipments from Ukraine", GRAIN, None),
    ]
    (tmp_path / "reports.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "events.jsonl").write_text('{"id": "leak"}\n{"id": "denial"}\n', encoding="utf-8")
    return tmp_path


async def test_a_small_week_is_scored_through_the_real_pipeline(week: Path) -> None:
    figures = await evaluate(load_week(week, "tiny"))
    assert (figures["reports"], figures["on_topic"], figures["decoys"], figures["events"]) == (4, 3, 1, 2)
    topic = figures["topic"]["all"]
    # The leak, its re-post and the denial all carry the query's words; the grain report does not.
    assert (topic["on_topic"], topic["found"], topic["members"]) == (3, 3, 3)
    assert topic["recall"] == topic["precision"] == topic["recall_at_arrival"] == 1.0
    assert [d["on_topic"] for d in figures["topic"]["by_day"]] == [2, 1]
    # The re-post under the relay's own URL is the relay's report, a copy of the wire's.
    copies = figures["copies"]
    assert (copies["gold_pairs"], copies["correct"], copies["reposts_lost"]) == (1, 1, 0)
    assert figures["grouping"]["on_topic"]["reports"] == 3


def test_bad_data_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "reports.jsonl").write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(BenchError, match="not a report line"):
        load_week(tmp_path)
    assert main(["--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1

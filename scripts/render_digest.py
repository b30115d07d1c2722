"""Screenshots of the digest email at phone (375 px) and desktop (800 px) width, for a person to look at.

    python scripts/render_digest.py                      # built-in sample -> templates -> PNGs
    python scripts/render_digest.py --html digest.html   # a file made by `planwatch digest preview --html`
    python scripts/render_digest.py --dark               # the same with prefers-color-scheme: dark
    python scripts/render_digest.py --worst-case         # 3 topics x 7 points x 10 stories x 8 sources

Without --html the sample below goes through Jinja (autoescape, as digests/render.py sets it up) and
css_inline, and OUT/digest.html and OUT/digest.txt are written beside the screenshots. The sample is
fictional and carries hostile feed text (script tags, onerror, quotes) to show that it comes out escaped.
Needs headless Chromium (`apt-get install chromium`). Writes only to OUT (a temp dir unless --out).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import css_inline
import jinja2

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
GMAIL_CLIP_BYTES = 102 * 1024
WIDTHS = (375, 800)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# Both make `@media (prefers-color-scheme: dark)` match in headless Chromium (checked with 156);
# `--force-prefers-color-scheme=dark` does not exist and does nothing.
DARK_FLAGS = ("--force-dark-mode", "--blink-settings=preferredColorScheme=0")

HOSTILE_TITLE = "<script>alert(1)</script> @everyone"
HOSTILE_IMG = '<img src=x onerror="alert(2)"> Kyiv & Geneva: "final" text\'s due'


def _source(
    outlet: str,
    title: str,
    slug: str,
    published: str,
    *,
    first: bool = False,
    cites: list[str] | None = None,
    copies: list[dict[str, str | None]] | None = None,
    url: str | None = "",
) -> dict[str, Any]:
    domain = outlet.lower().replace(" ", "").replace("'", "").replace('"', "")[:24]
    link = f"https://{domain}.example/news/2026/11/21/{slug}" if url == "" else url
    return {"outlet": outlet, "title": title, "url": link, "published_label": published, "first": first,
            "repeats_story_title": False, "cites": cites or [], "copies": copies or []}  # fmt: skip


def _story(title: str, sources: list[dict[str, Any]]) -> dict[str, Any]:
    marked = [dict(s, repeats_story_title=" ".join(s["title"].split()).casefold() == " ".join(title.split()).casefold())
              for s in sources]  # fmt: skip
    return {"title": title, "url": sources[0]["url"], "outlet_count": len({s["outlet"] for s in sources}),
            "sources": marked}  # fmt: skip


def _point(text: str, label: str, label_text: str, outlets: list[tuple[str, str]]) -> dict[str, Any]:
    return {"text": text, "label": label, "label_text": label_text,
            "sources": [{"outlet": o, "url": f"https://{o.lower().replace(' ', '')}.example/news/2026/11/21/live-peace-plan"
                                               "-talks-in-geneva-delegations-a8c31f", "published_label": t,
                         "first_seen_label": t}
                        for o, t in outlets]}  # fmt: skip


def _frame(topics: list[dict[str, Any]], nothing_new: bool = False) -> dict[str, Any]:
    return {
        "subject": "Peace plan: 15 new reports: Delegations to meet in Geneva on Monday",
        "preheader": "Delegations confirm Monday's meeting in Geneva; the 28-point draft is being revised.",
        "date_label": "Saturday 22 November 2026",
        "window_label": "since Friday 07:00 (Europe/Kyiv)",
        "frequency_label": "daily at 07:00 Europe/Kyiv",
        "reason": "You subscribed to the Planwatch digest for \u201cpeace plan\u201d and \u201cGeneva talks\u201d"
        " from the Discord server Newsroom Watch.",
        "email": "reader@example.org",
        "unsubscribe_url": "https://planwatch.example/u/4XbT9qK2mLr8",
        "view_url": "https://planwatch.example/d/2026-11-22/4XbT9qK2mLr8",
        "nothing_new": nothing_new,
        "topics": topics,
    }


def sample_digest() -> dict[str, Any]:
    """Two topics, the kind of day a subscriber sees, with hostile feed text in it."""
    plan_stories = [
        _story(
            "Delegations to meet in Geneva on Monday to discuss the revised peace plan",
            [
                _source(
                    "Harbor Times",
                    "Delegations to meet in Geneva on Monday over revised plan",
                    "geneva-monday",
                    "Fri 21 Nov 08:05",
                    first=True,
                ),
                _source(
                    "Northgate Wire",
                    "Geneva talks set for Monday, officials say",
                    "geneva-talks-set",
                    "Fri 21 Nov 09:40",
                    cites=["Harbor Times"],
                    copies=[
                        {"outlet": "Riverside Courier", "url": "https://riversidecourier.example/wire/88213"},
                        {"outlet": "Atlas Daily", "url": None},
                    ],
                ),
                _source(
                    "Kyiv Morning Ledger",
                    "Київ підтверджує зустріч у Женеві в понеділок",
                    "zhenevа-zustrich",
                    "Fri 21 Nov 10:12",
                    cites=["Harbor Times", "Northgate Wire"],
                ),
                _source(
                    "Lindenberg Rundschau",
                    "Genfer Gespräche: Delegationen reisen am Montag an",
                    "genf-montag",
                    "Fri 21 Nov 13:30",
                ),
            ],
        ),
        _story(
            HOSTILE_TITLE,
            [
                _source(
                    "\"Evil\" Outlet' onmouseover='alert(3)",
                    HOSTILE_TITLE,
                    "x",
                    "Fri 21 Nov 11:00",
                    first=True,
                    url='https://evil.example/a"onmouseover="alert(4)',
                ),
                _source(
                    "Meridian Post",
                    HOSTILE_IMG,
                    "y",
                    "Fri 21 Nov 11:20",
                    url="javascript:alert(5)",
                    cites=['<b onclick="x">Bold Wire</b>'],
                ),
            ],
        ),
        _story(
            "Draft reportedly trimmed from 28 to 19 points after weekend consultations",
            [
                _source(
                    "Baltic Evening Star",
                    "Draft trimmed to 19 points, sources say; Kyiv yet to comment on the changes to security guarantees",
                    "draft-19-points",
                    "Fri 21 Nov 18:45",
                    first=True,
                ),
            ],
        ),
    ]
    plan = {
        "name": "peace-plan",
        "title": "Peace plan",
        "lead": plan_stories[0]["title"],
        "description": "The US-drafted peace plan and the talks around it.",
        "report_count": 14,
        "outlet_count": 6,
        "points": [
            _point(
                "Delegations from both sides will meet in Geneva on Monday to discuss the revised plan.",
                "corroborated",
                "Corroborated · 3 outlets",
                [
                    ("Harbor Times", "Fri 21 Nov 08:05"),
                    ("Northgate Wire", "Fri 21 Nov 09:40"),
                    ("Kyiv Morning Ledger", "Fri 21 Nov 10:12"),
                ],
            ),
            _point(
                "The draft was cut from 28 to 19 points after consultations over the weekend.",
                "single-source",
                "Single source · 1 outlet",
                [("Baltic Evening Star", "Fri 21 Nov 18:45")],
            ),
            _point(
                "A spokesman denied that a deadline of Thursday had been set for an answer.",
                "denied",
                "Denied · 2 outlets",
                [("Northgate Wire", "Fri 21 Nov 12:02"), ("Meridian Post", "Fri 21 Nov 12:30")],
            ),
            _point(HOSTILE_IMG, "unconfirmed", "Unconfirmed · 1 outlet", [("Meridian Post", "Fri 21 Nov 11:20")]),
        ],
        "stories": plan_stories,
        "more_stories": 0,
    }
    talks = {
        "name": "geneva-talks",
        "title": "Geneva talks",
        "lead": "Switzerland offers to host further rounds of talks",
        "description": "",
        "report_count": 1,
        "outlet_count": 1,
        "points": [
            _point(
                "Swiss officials offered to host further rounds if Monday's meeting goes ahead.",
                "single-source",
                "Single source · 1 outlet",
                [("Lindenberg Rundschau", "Fri 21 Nov 16:10")],
            ),
        ],
        "stories": [
            _story(
                "Switzerland offers to host further rounds of talks",
                [
                    _source(
                        "Lindenberg Rundschau",
                        "Schweiz bietet weitere Verhandlungsrunden an",
                        "schweiz-runden",
                        "Fri 21 Nov 16:10",
                        first=True,
                    ),
                ],
            ),
        ],
        "more_stories": 3,
    }
    return _frame([plan, talks])


def worst_case_digest(topics: int = 3, points: int = 7, stories: int = 10, sources: int = 8) -> dict[str, Any]:
    """The largest digest a subscriber can get, with realistic string lengths, for the size check."""
    outlets = [
        "Harbor Times",
        "Northgate Wire",
        "Kyiv Morning Ledger",
        "Lindenberg Rundschau",
        "Meridian Post",
        "Baltic Evening Star",
        "Riverside Courier",
        "Atlas Daily",
        "Coastline Herald",
        "Old Town Gazette",
    ]
    labels = [
        ("corroborated", "Corroborated · 4 outlets"),
        ("single-source", "Single source · 1 outlet"),
        ("denied", "Denied · 2 outlets"),
        ("unconfirmed", "Unconfirmed · 1 outlet"),
    ]
    sections = []
    for t in range(topics):
        pts = [
            _point(
                f"Point {p + 1}: officials said the delegations would meet again next week to go through the "
                f'remaining points of the draft, & <b>"tags"</b> stay text.',
                *labels[p % 4],
                [(outlets[(p + i) % 10], "Fri 21 Nov 09:40") for i in range(3)],
            )
            for p in range(points)
        ]
        sts = []
        for s in range(stories):
            srcs = [
                _source(
                    outlets[(s + i) % 10],
                    f"Talks on the revised plan continue in Geneva as delegations weigh changes ({t}.{s}.{i})",
                    f"talks-revised-plan-geneva-delegations-{t}-{s}-{i}-a8c31f",
                    "Fri 21 Nov 10:12",
                    first=i == 0,
                    cites=[outlets[(s + i + 1) % 10]] if i % 2 else [],
                    copies=[{"outlet": "Atlas Daily", "url": f"https://atlasdaily.example/wire/{t}{s}{i}8213"}]
                    if i % 4 == 1
                    else [],
                )
                for i in range(sources)
            ]
            sts.append(_story(f"Delegations weigh changes to the revised plan in Geneva ({t}.{s})", srcs))
        sections.append({"name": f"topic-{t + 1}-peace-plan", "title": f"Topic {t + 1}: peace plan", "lead": sts[0]["title"],
                         "description": "The plan and the talks around it.",
                         "report_count": stories * sources, "outlet_count": 10, "points": pts, "stories": sts,
                         "more_stories": 4})  # fmt: skip
    return _frame(sections)


def render(context: dict[str, Any], templates: Path = TEMPLATES) -> tuple[str, str]:
    """(HTML with CSS inlined, text) the way digests/render.py makes them."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    html = env.get_template("digest.html.j2").render(digest=context)
    text = env.get_template("digest.txt.j2").render(digest=context)
    inliner = css_inline.CSSInliner(
        keep_style_tags=True, minify_css=True, remove_inlined_selectors=True, load_remote_stylesheets=False
    )
    return inliner.inline(html), text


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(chromium: str, html: Path, png: Path, width: int, height: int, dark: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="planwatch-chromium-") as profile:
        command = [chromium, *CHROMIUM_FLAGS, *(DARK_FLAGS if dark else ()), f"--user-data-dir={profile}",
                   f"--window-size={width},{height}", f"--screenshot={png}", html.resolve().as_uri()]  # fmt: skip
        # The command line is ours: a found binary, fixed flags and paths; no shell.
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not png.exists():
        raise SystemExit(f"chromium failed ({done.returncode}) for {png.name}:\n{done.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--html", type=Path, help="screenshot this HTML file instead of rendering the sample")
    parser.add_argument("--out", type=Path, help="folder for the PNGs (default: a new temp folder)")
    parser.add_argument("--dark", action="store_true", help="render with prefers-color-scheme: dark")
    parser.add_argument("--worst-case", action="store_true", help="3 topics x 7 points x 10 stories x 8 sources")
    parser.add_argument("--height", type=int, default=2400, help="window height in px (default 2400)")
    args = parser.parse_args(argv)

    out: Path = args.out or Path(tempfile.mkdtemp(prefix="planwatch-digest-"))
    out.mkdir(parents=True, exist_ok=True)
    if args.html:
        html_file: Path = args.html
        if not html_file.is_file():
            parser.error(f"no such file: {html_file}")
    else:
        html, text = render(worst_case_digest() if args.worst_case else sample_digest())
        html_file = out / "digest.html"
        html_file.write_text(html, encoding="utf-8")
        (out / "digest.txt").write_text(text, encoding="utf-8")
        prose = [line for line in text.splitlines() if not line.strip().startswith("<http")]
        widest = max((len(line) for line in prose), default=0)
        print(f"digest.txt: {len(text.encode())} bytes, widest line {widest} columns (URL lines not counted)")
    size = html_file.stat().st_size
    verdict = "OK" if size < GMAIL_CLIP_BYTES else f"OVER the {GMAIL_CLIP_BYTES} bytes where Gmail clips"
    print(f"{html_file.name}: {size} bytes ({size / 1024:.1f} KiB), {verdict}")

    chromium = find_chromium()
    if chromium is None:
        print("Chromium was not found (looked for `chromium` and `chromium-browser`). Install it with:\n"
              "    sudo apt-get update && sudo apt-get install -y chromium\n"
              f"The HTML is in {html_file}.", file=sys.stderr)  # fmt: skip
        return 2
    suffix = "-dark" if args.dark else ""
    for width in WIDTHS:
        png = out / f"digest-{width}{suffix}.png"
        screenshot(chromium, html_file, png, width, args.height, args.dark)
        print(f"wrote {png}")
    print(f"output folder: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

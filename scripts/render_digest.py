"""Render a digest in headless Chromium at phone and desktop widths, so a person can look at it.

    python scripts/render_digest.py [--html FILE] [--out DIR] [--dark]

Without --html it makes a real digest first: `planwatch demo` in a temporary folder (sample feeds,
a confirmed demo reader), and takes the HTML part of the mail it writes to outbox/. With --html it
shoots that file (e.g. from `planwatch digest preview --email E --html FILE`). Writes digest.html,
digest-375.png and digest-800.png to OUT (a temporary folder unless given) and prints their paths.
Needs Debian's chromium (`apt-get install chromium`); nothing here is committed."""

from __future__ import annotations

import argparse
import email
import email.policy
import shutil
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("chromium not found: install it with `apt-get install chromium` (Debian) and run again")


def demo_digest_html(workdir: Path) -> str:
    """The HTML part of the digest that `planwatch demo` writes to its outbox."""
    subprocess.run([sys.executable, "-m", "planwatch.cli", "demo"], cwd=workdir, check=True, capture_output=True)
    mails = sorted((workdir / "outbox").glob("*.eml"))
    if not mails:
        sys.exit("the demo wrote no digest to outbox/")
    message = email.message_from_bytes(mails[-1].read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    if part is None:
        sys.exit("the digest has no HTML part")
    return str(part.get_content())


def screenshot(browser: str, page: Path, target: Path, width: int, *, dark: bool) -> None:
    with tempfile.TemporaryDirectory() as profile:
        command = [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},2600", f"--screenshot={target}"]
        if dark:
            command.append("--force-dark-mode")
            command.append("--blink-settings=preferredColorScheme=0")
        subprocess.run([*command, page.as_uri()], check=True, capture_output=True, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--html", type=Path, help="an HTML file to shoot instead of a fresh demo digest")
    parser.add_argument("--out", type=Path, help="where to write the files (default: a new temporary folder)")
    parser.add_argument("--dark", action="store_true", help="render with the dark colour scheme")
    args = parser.parse_args()
    browser = chromium()
    out = args.out or Path(tempfile.mkdtemp(prefix="planwatch-digest-"))
    out.mkdir(parents=True, exist_ok=True)
    if args.html:
        html = args.html.read_text(encoding="utf-8")
    else:
        with tempfile.TemporaryDirectory() as work:
            html = demo_digest_html(Path(work))
    page = out / "digest.html"
    page.write_text(html, encoding="utf-8")
    print(f"{page} ({len(html.encode()) / 1024:.1f} KB; Gmail clips above 102 KB)")
    suffix = "-dark" if args.dark else ""
    for width in (375, 800):
        target = out / f"digest-{width}{suffix}.png"
        screenshot(browser, page, target, width, dark=args.dark)
        print(target)


if __name__ == "__main__":
    main()

"""Templates to mail parts: Jinja2 with autoescape for HTML (feed text is hostile), CSS inlined at
render (mail clients drop <style> blocks; the dark-mode media query is kept as a block)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import css_inline
import jinja2

from planwatch.resources import resource_dir

# Gmail clips messages above ~102 KB; the digest stays below this.
MAX_HTML_BYTES = 102 * 1024


def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """The operator's folder first (same file names), then Planwatch's own templates."""
    folders = [str(template_dir)] if template_dir else []
    folders.append(str(resource_dir("templates")))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        # HTML templates escape everything (feed text is hostile); the plain-text parts are not HTML.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# Minified, and the rules it inlined dropped from the kept block (together ~3 KB of a large digest, room
# for the link colours and the pill that must survive clients that strip <style>); a template never
# makes the inliner fetch a stylesheet over the network.
_INLINER = css_inline.CSSInliner(
    keep_style_tags=True, minify_css=True, remove_inlined_selectors=True, load_remote_stylesheets=False
)


def render_pair(env: jinja2.Environment, name: str, **context: Any) -> tuple[str, str]:
    """(html, text) from NAME.html.j2 and NAME.txt.j2, the HTML with its CSS inlined."""
    html = env.get_template(f"{name}.html.j2").render(**context)
    text = env.get_template(f"{name}.txt.j2").render(**context)
    return _INLINER.inline(html), text


def render_page(env: jinja2.Environment, name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)

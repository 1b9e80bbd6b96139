"""plotly.js, served from the installed `plotly` package (no CDN: the dashboard works offline),
and what the Content-Security-Policy must know about it.

plotly.js writes inline styles that a strict policy blocks: an empty `<style>` element it
then fills through the CSSOM (which no policy restricts), one `<style>` element of constant
CSS (for its map traces), an empty `style=""` attribute here and there, and the style
attributes its pseudo-HTML tags become (`<b>` in our hover texts: `font-weight:bold`).
Rather than allowing every inline style, the policy allows exactly these by their SHA-256,
computed here from the installed file, so an upgrade of plotly keeps working and nothing
else is let in. Names from Twitch reach plotly escaped (`SC.esc`), so no tag in them can
ask for another style.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import importlib.resources
import re

# `e=document.createElement("style");e.id="…",e.textContent='…'` in the minified bundle:
# the constant stylesheets plotly.js injects when it loads.
_INJECTED_CSS = re.compile(
    r'createElement\("style"\);\w+\.id="[^"]*",\w+\.textContent=\'((?:[^\'\\]|\\.)*)\''
)


@functools.cache
def plotly_js() -> tuple[bytes, bytes]:
    """plotly.min.js from the installed plotly package, plain and gzip-compressed."""
    data = (importlib.resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return data, gzip.compress(data, compresslevel=6, mtime=0)


def csp_hash(text: str) -> str:
    """A CSP hash source for an inline style or script whose content is `text`."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


EMPTY_STYLE = csp_hash("")
# The style attributes plotly.js gives the tags the dashboard's own texts use: `<b>`.
TAG_STYLES = ("font-weight:bold",)


def style_attribute_hashes() -> tuple[str, ...]:
    """The hash sources of the style attributes plotly.js may write for our texts."""
    return (EMPTY_STYLE, *(csp_hash(style) for style in TAG_STYLES))


@functools.cache
def plotly_style_hashes() -> tuple[str, ...]:
    """The hash sources of the inline styles plotly.js writes (the empty one first)."""
    text = plotly_js()[0].decode("utf-8")
    found = [EMPTY_STYLE]
    for match in _INJECTED_CSS.finditer(text):
        css = match.group(1)
        if "\\" in css:  # an escape we would have to decode as JS does: better blocked
            continue
        found.append(csp_hash(css))
    return tuple(dict.fromkeys(found))

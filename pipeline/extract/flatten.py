"""Stage extract: HTML nested deeper than any parser allows -> HTML that loses no text.

libxml2 (lxml) stops building the tree at a nesting depth of 256 elements, 2048 with
``huge_tree``, and silently drops everything below: a page wrapped in thousands of
``<div>``/``<span>`` levels read as a 3-word record. The extractor parses with
``huge_tree`` and, only when the parser still reports the depth limit, runs this pass:
one scan over the tags that drops every tag opened below ``MAX_DEPTH`` (and its end
tag); a dropped block tag becomes ``<br>`` so the lines of the text stay apart.
"""

from __future__ import annotations

import re

MAX_DEPTH = 200
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^<>]*?(/?)>")
# Elements with no end tag never deepen the tree.
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_BLOCK = frozenset("""address article aside blockquote dd div dl dt fieldset figcaption figure footer
h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul""".split())


def flatten_deep_html(text: str, max_depth: int = MAX_DEPTH) -> str:
    """``text`` with the tags nested below ``max_depth`` taken out (their text stays)."""
    out: list[str] = []
    depth = 0
    dropped: dict[str, int] = {}  # open tags dropped per name, waiting for their end tag
    last = 0
    for match in _TAG.finditer(text):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _VOID or self_closing:
            continue
        if closing:
            if dropped.get(name):
                dropped[name] -= 1
            else:
                depth = max(depth - 1, 0)
                continue
        elif depth < max_depth:
            depth += 1
            continue
        else:
            dropped[name] = dropped.get(name, 0) + 1
        out.append(text[last:match.start()])
        out.append("<br>" if name in _BLOCK else "")
        last = match.end()
    out.append(text[last:])
    return "".join(out)

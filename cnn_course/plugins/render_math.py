"""Formulas on feedback pages typeset as MathML, so that the pages work offline.

nbgrader's feedback template loads MathJax from a CDN (it calls nbconvert's ``mathjax()``
macro with its default address), so on a student's laptop offline, or behind a firewall,
every formula showed as raw ``$$ \\text{out}...``. This preprocessor runs in
``GenerateFeedback`` and replaces each ``$$...$$`` and ``$...$`` of a markdown cell with
MathML, which browsers typeset themselves; :data:`TEMPLATE_DIR` holds a ``mathjax`` macro
that loads nothing, which the course config puts before nbgrader's templates.

Markdown cells hold the student's written answers too, and latex2mathml copies
``\\text{<script>}`` into its output as markup. So its output is parsed and written out
again from an allowlist of MathML elements and attributes, with every character of text
as a character reference (which markdown leaves alone); a formula that does not convert,
or holds anything else, stays as its escaped TeX source.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from latex2mathml.converter import convert
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

# nbconvert template base directory: ``feedback/mathjax.html.j2`` shadows nbconvert's.
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

# Code (fenced or inline) is left as it is; then display math; then inline math, which
# is neither empty nor spans lines, and whose opening ``$`` is not escaped.
MATH_RE = re.compile(
    r"(?P<code>```.*?```|`[^`\n]*`)"
    r"|\$\$(?P<display>.+?)\$\$"
    r"|(?<![\\$])\$(?P<inline>[^$\n]+?)\$",
    re.S,
)
MATHML = "{http://www.w3.org/1998/Math/MathML}"
ELEMENTS = frozenset(
    "math mrow mi mn mo mtext ms mspace msub msup msubsup mfrac msqrt mroot munder mover"
    " munderover mtable mtr mtd mstyle mpadded mphantom menclose merror".split()
)
ATTRIBUTES = frozenset(
    "display stretchy fence form separator mathvariant width height depth lspace rspace"
    " accent accentunder displaystyle scriptlevel linethickness columnalign rowalign"
    " columnspacing rowspacing columnlines rowlines frame minsize maxsize movablelimits"
    " symmetric largeop notation".split()
)
MAX_TEX_CHARS = 2000


class UnsafeMathML(ValueError):
    """latex2mathml's output held an element or attribute outside the allowlist."""


def _text(text: str | None) -> str:
    """Text as character references, but letters and digits: markdown sees no syntax."""
    return "".join(c if c.isascii() and c.isalnum() else f"&#{ord(c)};" for c in text or "")


def _write(element: ET.Element) -> str:
    """``element`` written out again from the allowlists (raises UnsafeMathML)."""
    tag = element.tag.removeprefix(MATHML)
    if tag not in ELEMENTS:
        raise UnsafeMathML(tag)
    attributes = ""
    for name, value in element.attrib.items():
        if name not in ATTRIBUTES:
            raise UnsafeMathML(name)
        attributes += f' {name}="{_text(value)}"'
    inner = _text(element.text) + "".join(_write(child) + _text(child.tail) for child in element)
    return f"<{tag}{attributes}>{inner}</{tag}>"


def tex_to_mathml(tex: str, display: bool) -> str | None:
    """MathML for the TeX formula ``tex``, on one line; None if it is not safe to show so."""
    if len(tex) > MAX_TEX_CHARS:
        return None
    # latex2mathml keeps the backslash of an escaped underscore (\text{n\_filters}).
    tex = tex.strip().replace(r"\_", "_")
    try:
        mathml = convert(tex, display="block" if display else "inline")
        return _write(ET.fromstring(mathml))
    except Exception:  # latex2mathml raises many kinds; any failure leaves the TeX shown
        return None


def render_math(markdown: str) -> str:
    """``markdown`` with each formula outside code replaced by its MathML."""

    def replace(match: re.Match[str]) -> str:
        if match["code"] is not None:
            return match["code"]
        display = match["display"] is not None
        tex = match["display"] if display else match["inline"]
        mathml = tex_to_mathml(tex, display)
        if mathml is None:  # shown as written, and not as markup
            return html.escape(match[0]).replace("$", "&#36;")
        return mathml

    return MATH_RE.sub(replace, markdown)


class RenderMath(NbGraderPreprocessor):
    """Typeset the formulas of every markdown cell as MathML (see the module doc)."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        for cell in nb.cells:
            if cell.cell_type == "markdown" and "$" in cell.source:
                cell.source = render_math(cell.source)
        return nb, resources

"""Formulas on feedback pages as MathML (cnn_course.plugins.RenderMath).

The pages must typeset every formula of the course without MathJax (offline), and a
student's written answer must not get markup onto the page through a formula.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from course_helpers import notebook_formulas
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbformat.v4 import new_markdown_cell, new_notebook

from cnn_course.plugins import RenderMath, feedback_template_basedirs
from cnn_course.plugins.render_math import (
    ATTRIBUTES,
    ELEMENTS,
    TEMPLATE_DIR,
    render_math,
    tex_to_mathml,
)

pytestmark = pytest.mark.unit

SOURCE = Path(__file__).resolve().parent.parent / "source"


def course_formulas() -> list[tuple[str, str]]:
    """(notebook, formula) of every formula in the course's markdown cells."""
    return [(p.name, f) for p in sorted(SOURCE.glob("*/*.ipynb")) for f in notebook_formulas(p)]


def rendered(markdown: str) -> str:
    """The HTML nbconvert makes of a markdown cell after RenderMath."""
    return markdown2html_mistune(render_math(markdown))


def test_the_course_has_formulas() -> None:
    assert len(course_formulas()) >= 10  # the check below means something


@pytest.mark.parametrize(("notebook", "formula"), course_formulas())
def test_every_course_formula_becomes_mathml(notebook: str, formula: str) -> None:
    html = rendered(f"Before\n\n{formula}\n\nafter.")
    assert html.count("<math") == 1, html
    assert "$" not in html and "\\" not in html, f"{notebook}: TeX left on the page: {html}"
    assert "<em>" not in html and "<strong>" not in html, "markdown read the formula as markup"
    assert "<mi>" in html or "<mtext>" in html


def test_display_and_inline_math() -> None:
    html = rendered("Sum $a_1 * b_2 * c$ inline, then\n\n$$\n\\frac{\\partial y}{\\partial F}\n$$")
    assert html.count('<math display="inline">') == 1
    assert html.count('<math display="block">') == 1
    assert "<mfrac>" in html and "∂" in html
    assert "<em>" not in html  # the stars and underscores stayed characters


def test_escaped_underscore_in_text_is_an_underscore() -> None:
    mathml = tex_to_mathml(r"\text{n\_filters} \times 2", display=False)
    assert "<mtext>n&#95;filters</mtext>" in mathml


def test_code_and_escaped_dollars_are_left_alone() -> None:
    markdown = "Run `echo $HOME $PATH` and pay \\$5, or\n\n```\nx = '$a$'\n```\n"
    assert render_math(markdown) == markdown


@pytest.mark.parametrize(
    "formula",
    [
        r"$\text{<script>alert(1)</script>}$",
        r"$x^{<img src=x onerror=alert(1)>}$",
        r"$\href{javascript:alert(1)}{x}$",
        r"$\text{</math><script>alert(1)</script>}$",
    ],
)
def test_a_students_formula_gets_no_markup_onto_the_page(formula: str) -> None:
    html = rendered(f"My answer: {formula}")
    tags = set(re.findall(r"</?([A-Za-z][\w-]*)", html))
    assert tags <= {"p"} | ELEMENTS, html
    attributes = set(re.findall(r"\s([\w-]+)=", "".join(re.findall(r"<[^>]*>", html))))
    assert attributes <= ATTRIBUTES, html


def test_a_formula_that_does_not_convert_is_shown_as_written() -> None:
    html = rendered("Broken: $\\frac{1}{$ and <b>")
    assert "\\frac{1}{" in html
    assert "<math" not in html


def test_the_preprocessor_changes_markdown_cells_only() -> None:
    nb = new_notebook(cells=[new_markdown_cell("$$x^2$$"), nbformat.v4.new_code_cell("'$x$'")])
    nb, _ = RenderMath().preprocess(nb, {})
    assert nb.cells[0].source.startswith('<math display="block">')
    assert nb.cells[1].source == "'$x$'"


def test_the_feedback_template_loads_no_mathjax() -> None:
    """The course's macro comes first and loads nothing; nbgrader's templates follow."""
    basedirs = feedback_template_basedirs()
    assert basedirs[0] == str(TEMPLATE_DIR)
    assert (Path(basedirs[1]) / "feedback" / "index.html.j2").is_file()
    macro = (TEMPLATE_DIR / "feedback" / "mathjax.html.j2").read_text()
    assert "macro mathjax(" in macro
    assert "<script" not in macro and "http" not in macro

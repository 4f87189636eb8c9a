"""GOV.UK macros print their `html` parameters unescaped: every one must escape what it is given.

Each portal template is parsed with Jinja and every `html` (or `...Html`) argument, in a dict
literal or as a keyword, is checked: the parts joined into it must be template literals, values
passed through `|e`, `{% set %}` blocks (escaped by autoescape), macro calls (Markup) or
`url_for(...)`. A variable, an attribute, `|safe` or anything else is reported.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, nodes

import portal

ROOT = Path(portal.__file__).parent
ESCAPING_FILTERS = {"e", "escape", "forceescape"}
# Functions whose result is known to be safe inside HTML: url_for percent-encodes its arguments.
SAFE_CALLS = {"url_for"}
# Only parsed, never rendered; autoescape on as in the portal.
_ENV = Environment(autoescape=True, extensions=["jinja2.ext.do"])


def _is_html_key(name: object) -> bool:
    return isinstance(name, str) and name.lower().endswith("html")


def _template_names(tree: nodes.Template) -> tuple[dict[str, nodes.Node | None], set[str]]:
    """Names assigned in the template ({% set %} expression or block), and macro names."""
    assigned: dict[str, nodes.Node | None] = {}
    for node in tree.find_all(nodes.Assign):
        if isinstance(node.target, nodes.Name):
            assigned[node.target.name] = node.node
    for node in tree.find_all(nodes.AssignBlock):
        if isinstance(node.target, nodes.Name):
            assigned[node.target.name] = None  # a block: autoescaped Markup
    macros = {m.name for m in tree.find_all(nodes.Macro)}
    for imp in tree.find_all(nodes.FromImport):
        macros.update(n if isinstance(n, str) else n[1] for n in imp.names)
    return assigned, macros


def unescaped_parts(
    expr: nodes.Node, assigned: dict[str, nodes.Node | None], macros: set[str]
) -> list[str]:
    """Descriptions of the parts of `expr` that reach the HTML without escaping."""
    if isinstance(expr, nodes.Const | nodes.TemplateData):
        return []
    if isinstance(expr, nodes.Concat):
        return [p for part in expr.nodes for p in unescaped_parts(part, assigned, macros)]
    if isinstance(expr, nodes.Add):
        return unescaped_parts(expr.left, assigned, macros) + unescaped_parts(
            expr.right, assigned, macros
        )
    if isinstance(expr, nodes.CondExpr):
        parts = unescaped_parts(expr.expr1, assigned, macros)
        return parts + (unescaped_parts(expr.expr2, assigned, macros) if expr.expr2 else [])
    if isinstance(expr, nodes.Filter):
        if expr.name in ESCAPING_FILTERS:
            return []
        if expr.name == "safe":
            return [f"|safe (line {expr.lineno})"]
        return unescaped_parts(expr.node, assigned, macros) if expr.node else []
    if (
        isinstance(expr, nodes.Call)
        and isinstance(expr.node, nodes.Name)
        and (expr.node.name in SAFE_CALLS or expr.node.name in macros)
    ):
        return []
    if isinstance(expr, nodes.Name) and expr.name in assigned:
        value = assigned[expr.name]
        return [] if value is None else unescaped_parts(value, assigned, macros)
    return [f"{type(expr).__name__} on line {expr.lineno}"]


def html_arguments(source: str) -> list[tuple[int, list[str]]]:
    """(line, unescaped parts) for every html argument in a template's source."""
    tree = _ENV.parse(source)
    assigned, macros = _template_names(tree)
    found = []
    for pair in tree.find_all(nodes.Pair):
        if isinstance(pair.key, nodes.Const) and _is_html_key(pair.key.value):
            found.append((pair.lineno, unescaped_parts(pair.value, assigned, macros)))
    for keyword in tree.find_all(nodes.Keyword):
        if _is_html_key(keyword.key):
            found.append((keyword.lineno, unescaped_parts(keyword.value, assigned, macros)))
    return found


def unsafe_set_blocks(source: str) -> list[int]:
    """Lines of {% set %} blocks that print something through |safe."""
    tree = _ENV.parse(source)
    return [
        block.lineno
        for block in tree.find_all(nodes.AssignBlock)
        if any(f.name == "safe" for f in block.find_all(nodes.Filter))
    ]


def portal_templates() -> list[Path]:
    return sorted(ROOT.rglob("*.html"))


def test_the_walker_finds_unescaped_parts():
    """The check itself: it reports each way of slipping a value in, and passes escaped ones."""
    bad = (
        '{{ govukPanel({"titleText": "T", "html": device.library ~ ", " ~ device.terminal}) }}\n'
        "{{ govukHint({'html': '<b>' ~ name ~ '</b>'}) }}\n"
        "{{ macro(html=note|safe) }}\n"
        "{{ x({'value': {'html': a if b else c|e}}) }}\n"
        "{% set label = '<i>' ~ who ~ '</i>' %}{{ x({'titleHtml': label}) }}\n"
    )
    reports = html_arguments(bad)
    assert sorted(line for line, parts in reports if parts) == [1, 2, 3, 4, 5]
    good = (
        '{% from "m.html" import tag %}{{ govukPanel({"html": (device.library|e) ~ ", "}) }}\n'
        "{% set block %}<b>{{ name }}</b>{% endset %}{{ x({'html': block}) }}\n"
        "{{ x({'html': '<a href=\"' ~ url_for('site.contact') ~ '\">c</a>'}) }}\n"
        "{{ x({'html': tag(name)}) }}{{ x({'text': name}) }}\n"
    )
    assert all(not parts for _, parts in html_arguments(good))
    assert unsafe_set_blocks("{% set b %}{{ name|safe }}{% endset %}") == [1]


def test_every_html_argument_in_the_portal_templates_is_escaped(app):
    # {% set %} blocks count as escaped only because the portal autoescapes its templates.
    assert app.jinja_env.autoescape("channels/enrolled.html") is True
    templates = portal_templates()
    assert len(templates) > 100  # every slice's templates, not an empty folder
    problems = []
    checked = 0
    for path in templates:
        source = path.read_text(encoding="utf-8")
        for line, parts in html_arguments(source):
            checked += 1
            if parts:
                problems.append(f"{path.relative_to(ROOT)}:{line}: {', '.join(parts)}")
        problems.extend(
            f"{path.relative_to(ROOT)}:{line}: |safe in a set block"
            for line in unsafe_set_blocks(source)
        )
    assert checked >= 5  # the walker saw the html arguments that exist
    assert not problems, "html arguments built from unescaped values:\n" + "\n".join(problems)

"""Imports between templates (`{% from … import … %}`) give the same result with the portal's
template class as with Jinja's own, including when a template was loaded with its own globals."""

from __future__ import annotations

from jinja2 import DictLoader, Environment

from portal.templating import PortalTemplate, use_portal_templates

TEMPLATES = {
    "macros.html": "{% macro who() %}{{ council }}{{ extra | default('') }}{% endmacro %}",
    "page.html": '{% from "macros.html" import who %}[{{ who() }}]',
    "page_with_context.html": '{% from "macros.html" import who with context %}[{{ who() }}]',
}


def _environments() -> tuple[Environment, Environment]:
    plain = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    portal = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    use_portal_templates(portal)
    for env in (plain, portal):
        env.globals["council"] = "Castlebrook"
    return plain, portal


def test_the_portal_loads_its_templates_with_the_import_shortcut(app):
    with app.app_context():
        template = app.jinja_env.get_template("base.html")
    assert isinstance(template, PortalTemplate)


def test_imports_render_as_jinja_renders_them():
    plain, portal = _environments()
    assert isinstance(portal.get_template("page.html"), PortalTemplate)
    for name, variables in (
        ("page.html", {}),
        ("page_with_context.html", {"extra": "!"}),
    ):
        expected = plain.get_template(name).render(variables)
        assert portal.get_template(name).render(variables) == expected
        assert portal.get_template(name).render(variables) == expected  # the cached module
    assert portal.get_template("page.html").render() == "[Castlebrook]"


def test_a_template_with_its_own_globals_still_passes_them_to_what_it_imports():
    plain, portal = _environments()
    rendered = [
        env.get_template("page.html", globals={"extra": " Council"}).render()
        for env in (plain, portal)
    ]
    # The shortcut is not taken for it: the imported macro sees the page's own global.
    assert rendered == ["[Castlebrook Council]", "[Castlebrook Council]"]

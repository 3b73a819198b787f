"""Rendering: sandbox, autoescape, strict variables, CSS inlined once, text part, footer."""

from __future__ import annotations

from typing import Any

import pytest

from streamwise.downstream.render import EmailTemplate, TemplateSet, html_to_text, render
from streamwise.errors import ConfigError, DataError

ADDRESS = "Streamwise Outdoor, 1 Main Street, Springfield 12345"
HTML = """<!doctype html><html><head><title>{{ campaign_name }}</title>
<style>p { color: #123456 } a.btn { font-weight: bold } .vip { color: gold }</style></head>
<body><p>Hello {{ first_name }},</p>
{% if clv > 100 %}<p class="vip">As one of our best customers
({{ "%.0f" | format(clv) }} &amp; {{ 1 < 2 }})</p>{% endif %}
<table>{% for item in products %}<tr><td>{{ item.name }}</td></tr>{% endfor %}</table>
<a class="btn" href="https://shop.example.com/?s={{ segment }}&amp;p={{ persona }}">Shop now</a>
<p>&#123;&#123; literal braces }}</p>
</body></html>"""


def ctx(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "first_name": "Jane",
        "email": "jane@example.org",
        "segment": "campers",
        "persona": "Wendy",
        "clv": 250.0,
        "products": [{"name": "Tent"}, {"name": "Stove"}],
        "campaign_name": "Spring",
        "unsubscribe_url": "https://t.example.com/u/TOKEN",
    }
    base.update(kw)
    return base


@pytest.fixture(scope="module")
def template() -> EmailTemplate:
    return EmailTemplate(
        subject="{{ first_name }}, spring is here", html=HTML, postal_address=ADDRESS,
        organisation="Streamwise Outdoor",
    )  # fmt: skip


def test_css_is_inlined_and_jinja_survives(template: EmailTemplate) -> None:
    source = template.html_source
    assert "<style>" not in source
    assert "{{ first_name }}" in source
    assert '<p style="color: #123456;">Hello {{ first_name }},</p>' in source
    assert "{% if clv > 100 %}" in source
    assert "{{ 1 < 2 }}" in source
    out = render(template, ctx())
    assert '<p style="color: #123456;">Hello Jane,</p>' in out.html
    assert 'class="vip" style="color: gold;"' in out.html
    assert "(250 &amp; True)" in out.html
    assert "<td>Tent</td>" in out.html
    assert "<td>Stove</td>" in out.html
    assert 'class="btn" href="https://shop.example.com/?s=campers&amp;p=Wendy"' in out.html
    assert 'style="font-weight: bold;"' in out.html
    assert "<title>Spring</title>" in out.html
    assert "{{ literal braces }}" in out.html  # entities stay text, not Jinja
    assert "VIP" not in render(template, ctx(clv=10)).html
    assert "best customers" not in render(template, ctx(clv=10)).html


def test_autoescape_in_html_not_in_subject_or_text(template: EmailTemplate) -> None:
    out = render(template, ctx(first_name="<script>alert(1)</script>"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "<script>" not in out.html
    assert out.subject == "<script>alert(1)</script>, spring is here"
    assert "Hello <script>alert(1)</script>," in out.text


def test_text_part_derived_from_html(template: EmailTemplate) -> None:
    text = render(template, ctx()).text
    assert text.startswith("Hello Jane,\n")
    assert "Shop now (https://shop.example.com/?s=campers&p=Wendy)" in text
    assert "Tent" in text
    assert "<" not in text.replace("1 < 2", "")
    assert "{{ literal braces }}" in text
    assert "Unsubscribe (https://t.example.com/u/TOKEN)" in text
    assert ADDRESS in text


def test_given_text_template_gets_footer() -> None:
    t = EmailTemplate(subject="Hi", html="<p>{{ first_name }}</p>", text="Hi {{ first_name }}",
                      postal_address=ADDRESS)  # fmt: skip
    out = render(t, ctx())
    assert out.text.startswith("Hi Jane\n")
    assert "Unsubscribe: https://t.example.com/u/TOKEN" in out.text
    assert ADDRESS in out.text


def test_footer_added_only_when_missing(template: EmailTemplate) -> None:
    html = render(template, ctx(preferences_url="https://t.example.com/p/X")).html
    assert '<a href="https://t.example.com/u/TOKEN"' in html
    assert ADDRESS in html
    assert "Manage preferences" in html
    assert html.index("Unsubscribe") < html.index("</body>")
    own = EmailTemplate(
        subject="s", postal_address=ADDRESS,
        html='<p><a href="{{ unsubscribe_url }}">Leave</a> {{ postal_address }}</p>',
    )  # fmt: skip
    out = render(own, ctx())
    assert out.html.count("https://t.example.com/u/TOKEN") == 1
    assert "Leave" in out.html


def test_postal_address_and_unsubscribe_url_are_required() -> None:
    with pytest.raises(ConfigError, match="postal address"):
        EmailTemplate(subject="s", html="<p>x</p>")
    t = EmailTemplate(subject="s", html="<p>x</p>", postal_address=ADDRESS)
    with pytest.raises(DataError, match="unsubscribe_url"):
        render(t, {"first_name": "Jane"})


def test_missing_variable_is_named(template: EmailTemplate) -> None:
    context = ctx()
    del context["segment"]
    with pytest.raises(DataError, match="'segment'") as err:
        render(template, context)
    assert err.value.column == "segment"
    t = EmailTemplate(subject="s", html="<p>{{ item.price }}</p>", postal_address=ADDRESS)
    with pytest.raises(DataError, match="'price'"):
        render(t, ctx(item={"name": "Tent"}))


@pytest.mark.parametrize(
    "expr",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ first_name.__class__.__base__.__subclasses__() }}",
        "{{ products.append(1) }}",
    ],
)
def test_sandbox_blocks_escapes(expr: str) -> None:
    t = EmailTemplate(subject="s", html=f"<p>{expr}</p>", postal_address=ADDRESS)
    with pytest.raises(ConfigError, match="sandbox forbids"):
        render(t, ctx())


def test_syntax_errors_and_unsafe_placements_refused() -> None:
    with pytest.raises(ConfigError, match="line 1"):
        EmailTemplate(subject="s", html="<p>{% if x %}</p>", postal_address=ADDRESS)
    with pytest.raises(ConfigError, match="attribute value"):
        EmailTemplate(subject="s", html='<p {% if x %}class="a"{% endif %}>x</p>',
                      postal_address=ADDRESS)  # fmt: skip
    with pytest.raises(ConfigError, match="style"):
        EmailTemplate(subject="s", html="<style>p { color: {{ c }} }</style><p>x</p>",
                      postal_address=ADDRESS)  # fmt: skip


def test_attribute_statements_and_comments() -> None:
    t = EmailTemplate(
        subject="s", postal_address=ADDRESS,
        html='<!--[if mso]>{{ first_name }}<![endif]-->'
        '<p class="{% if clv > 100 %}vip{% endif %}">x</p>',
    )  # fmt: skip
    out = render(t, ctx())
    assert 'class="vip"' in out.html
    assert "<!--[if mso]>Jane<![endif]-->" in out.html


def test_subject_is_one_line() -> None:
    t = EmailTemplate(subject="Hi\n{{ first_name }}\r\n!", html="<p>x</p>", postal_address=ADDRESS)
    assert render(t, ctx()).subject == "Hi Jane !"


def test_template_set_by_persona(template: EmailTemplate) -> None:
    other = EmailTemplate(subject="Ahoy {{ first_name }}", html="<p>x</p>", postal_address=ADDRESS)
    templates = TemplateSet(default=template, by_persona={"Sailor": other})
    assert templates.render(ctx(persona="Sailor")).subject == "Ahoy Jane"
    assert templates.render(ctx()).subject == "Jane, spring is here"


def test_html_to_text() -> None:
    text = html_to_text(
        "<html><head><style>p{}</style></head><body><h1>Title</h1><p>One  two</p>"
        '<ul><li>a</li><li>b</li></ul><a href="https://x.example.com">here</a></body></html>'
    )
    assert text == "Title\n\nOne two\n\n- a\n- b\nhere (https://x.example.com)\n"

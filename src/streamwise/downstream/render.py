"""Rendering personalised e-mail: a sandboxed Jinja2 template, CSS inlined once, a text part.

An :class:`EmailTemplate` is compiled once per campaign and rendered once per recipient:

* **Sandbox.** Templates run in Jinja2's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`,
  so a template written by a marketer cannot reach Python internals (``''.__class__``,
  ``cycler.__init__.__globals__``) nor mutate the context. Undefined variables are errors
  (:class:`~jinja2.StrictUndefined`) that name the variable: a typo never sends "Hello ,".
* **Autoescape** is on for the HTML part and off for the subject and the text part.
* **CSS is inlined once per template**, with ``css_inline`` on the template *source*: each Jinja
  construct is swapped for an inert placeholder (an HTML comment between tags, a bare word
  inside a tag), the HTML5 parser and inliner run, and the constructs are put back. Rendering a
  message then costs one template render, not one CSS inlining. ``@media`` rules stay in a
  ``<style>`` tag; a Jinja construct *inside* ``<style>`` is refused (CSS must be static).
* **Plain-text alternative** from the text template, or derived once from the HTML template
  (tags dropped, link URLs kept in brackets).
* **CAN-SPAM footer** (15 U.S.C. §7704(a)(5)): every message shows an unsubscribe link and the
  sender's postal address. When the template does not use ``{{ unsubscribe_url }}`` or
  ``{{ postal_address }}`` itself, a footer with them is added; a template without a postal
  address configured is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import css_inline
import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from streamwise.downstream._html import TextMaker, html_to_text, protect, restore, tidy_text
from streamwise.errors import ConfigError, DataError

__all__ = ["EmailTemplate", "RenderedEmail", "TemplateSet", "html_to_text", "render"]

_HTML_ENV = ImmutableSandboxedEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEXT_ENV = ImmutableSandboxedEnvironment(autoescape=False, undefined=jinja2.StrictUndefined)
_INLINER = css_inline.CSSInliner(
    keep_style_tags=False, keep_link_tags=False, keep_at_rules=True, load_remote_stylesheets=False
)
_LITERAL_OPEN = re.compile(r"\{(?=[{%#])")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_HTML_FOOTER = (
    '<div style="margin-top:24px;font-size:12px;line-height:1.5;color:#666666">'
    '<p style="margin:0">You receive this e-mail from {{ organisation }}. '
    '<a href="{{ unsubscribe_url }}" style="color:#666666;text-decoration:underline">'
    "Unsubscribe</a>{% if preferences_url is defined and preferences_url %} · "
    '<a href="{{ preferences_url }}" style="color:#666666;text-decoration:underline">'
    "Manage preferences</a>{% endif %}</p>"
    '<p style="margin:0">{{ organisation }} · {{ postal_address }}</p></div>'
)
_TEXT_FOOTER = (
    "\n\n--\nYou receive this e-mail from {{ organisation }}.\n"
    "Unsubscribe: {{ unsubscribe_url }}\n"
    "{% if preferences_url is defined and preferences_url %}"
    "Manage preferences: {{ preferences_url }}\n{% endif %}"
    "{{ organisation }} · {{ postal_address }}\n"
)
_REQUIRED = ("unsubscribe_url", "postal_address")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """One recipient's message: ``subject`` (one line), ``html`` and ``text`` parts."""

    subject: str
    html: str
    text: str


def _with_footer(source: str, footer: str, *, html: bool) -> str:
    if html and (ends := list(_BODY_END.finditer(source))):
        at = ends[-1].start()
        return source[:at] + footer + source[at:]
    return source + footer


def _derive_text(protected: str, found: list[str], nonce: str) -> str | None:
    """A text template derived from the HTML template's source, or None when the Jinja
    statements do not survive the derivation (then each rendered HTML is converted)."""
    maker = TextMaker(nonce)
    maker.feed(protected)
    maker.close()
    text = restore(maker.text(), found, nonce, what=None).replace("\x01", "{{ '{' }}")
    try:
        _TEXT_ENV.parse(text)
    except jinja2.TemplateSyntaxError:
        return None
    return text


def _missing(env: jinja2.Environment, source: str) -> bool:
    used = meta.find_undeclared_variables(env.parse(source))
    return any(name not in used for name in _REQUIRED)


@dataclass(frozen=True, slots=True)
class _Compiled:
    subject: jinja2.Template
    html: jinja2.Template
    text: jinja2.Template | None
    derived: bool
    html_source: str
    text_source: str | None


@dataclass(frozen=True)
class EmailTemplate:
    """A subject, HTML and optional text template, compiled once.

    Parameters
    ----------
    subject, html
        Jinja2 sources. CSS in the HTML's ``<style>`` tags is inlined into ``style=`` attributes.
    text
        Jinja2 source of the plain-text part; derived from the HTML when ``None``.
    postal_address
        The sender's valid physical postal address (CAN-SPAM); required.
    organisation
        The sender's name as shown in the footer.
    name
        Names the template in error messages.
    """

    subject: str
    html: str
    text: str | None = None
    postal_address: str = ""
    organisation: str = ""
    name: str = "template"
    _compiled: _Compiled = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.postal_address.strip():
            raise ConfigError(
                f"{self.name}: no postal address configured; CAN-SPAM requires the sender's "
                "physical postal address in every message: set postal_address"
            )
        try:
            compiled = self._compile()
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(
                f"{self.name}: template syntax error on line {exc.lineno}: {exc.message}; "
                "fix the template"
            ) from None
        object.__setattr__(self, "_compiled", compiled)

    def _compile(self) -> _Compiled:
        html = self.html
        if _missing(_HTML_ENV, html):
            html = _with_footer(html, _HTML_FOOTER, html=True)
        protected, found, nonce = protect(html, self.name)
        # Entities such as &#123; come out of the inliner as "{": keep them literal for Jinja.
        inlined = _LITERAL_OPEN.sub("{{ '{' }}", _INLINER.inline(protected))
        inlined = restore(inlined, found, nonce, what=self.name)
        text: str | None = self.text
        if text is None:
            text = _derive_text(protected, found, nonce)
        elif _missing(_TEXT_ENV, text):
            text = _with_footer(text.rstrip("\n"), _TEXT_FOOTER, html=False)
        return _Compiled(
            subject=_TEXT_ENV.from_string(self.subject),
            html=_HTML_ENV.from_string(inlined),
            text=None if text is None else _TEXT_ENV.from_string(text),
            derived=self.text is None,
            html_source=inlined,
            text_source=text,
        )

    @property
    def html_source(self) -> str:
        """The compiled HTML source: footer added, CSS inlined (for review and tests)."""
        return self._compiled.html_source

    @property
    def text_source(self) -> str | None:
        """The compiled text source, given or derived from the HTML (None: derived per message)."""
        return self._compiled.text_source


def _undefined_name(message: str) -> str:
    m = re.search(r"has no attribute '([^']+)'", message) or re.match(
        r"'([^']+)' is undefined", message
    )
    return m.group(1) if m else "?"


def render(template: EmailTemplate, context: Mapping[str, Any]) -> RenderedEmail:
    """Render one recipient's message.

    Parameters
    ----------
    template
        The compiled template.
    context
        Recipient fields (``first_name``, ``email``, ``segment``, ``persona``, ``clv``, ...),
        campaign fields, and ``unsubscribe_url`` (required; ``preferences_url`` optional).
        ``postal_address`` and ``organisation`` come from the template.

    Raises
    ------
    DataError
        A variable the template uses is missing (named in ``column``), or a value is unusable.
    ConfigError
        The template tried something the sandbox forbids.
    """
    if not context.get("unsubscribe_url"):
        raise DataError(
            f"{template.name}: the context has no unsubscribe_url; every message needs one "
            "(sign an unsubscribe token and pass its tracking URL)",
            column="unsubscribe_url",
        )
    compiled = template._compiled
    ctx = dict(context)
    ctx["postal_address"] = template.postal_address
    ctx["organisation"] = template.organisation or ctx.get("organisation", "")
    try:
        subject = " ".join(compiled.subject.render(ctx).split())
        html = compiled.html.render(ctx)
        text = html_to_text(html) if compiled.text is None else compiled.text.render(ctx)
    except SecurityError as exc:
        raise ConfigError(
            f"{template.name}: the template tried an operation the sandbox forbids ({exc}); "
            "templates may only read the context's values"
        ) from None
    except jinja2.UndefinedError as exc:
        name = _undefined_name(str(exc))
        raise DataError(
            f"{template.name}: the template uses {name!r} but the context has none ({exc}); add "
            f"it to the recipient or campaign fields, or write {{{{ {name} | default('') }}}}",
            column=name,
        ) from None
    except (jinja2.TemplateError, TypeError, ValueError) as exc:
        raise DataError(f"{template.name}: rendering failed: {exc}; check the values") from None
    if compiled.derived:
        text = tidy_text(text)
    return RenderedEmail(subject=subject, html=html, text=text)


@dataclass(frozen=True, slots=True)
class TemplateSet:
    """One template per persona, with a default for everyone else (per-persona personalisation).

    Smaller differences between personas fit in one template: ``{% if persona == "..." %}``.
    """

    default: EmailTemplate
    by_persona: Mapping[str, EmailTemplate] = field(default_factory=dict)

    def render(self, context: Mapping[str, Any]) -> RenderedEmail:
        """Render with the template of ``context["persona"]``, or the default."""
        return render(self.by_persona.get(context.get("persona", ""), self.default), context)

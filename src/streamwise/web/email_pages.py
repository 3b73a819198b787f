"""The small HTML pages of the e-mail tracking endpoints: the unsubscribe (preferences) page, its
confirmation, and the pages of links that are invalid, expired or unknown.

Templates are string constants rendered by a sandboxed Jinja2 environment that escapes every
value; the pages load nothing from elsewhere (inline style only), so they are served with a
``Content-Security-Policy`` that forbids any other resource.
"""

from __future__ import annotations

from typing import Any

import jinja2
import jinja2.sandbox
from fastapi.responses import HTMLResponse

__all__ = ["PAGE_HEADERS", "page"]

#: Headers of every page: not cached, not framed (clickjacking an unsubscribe button), no
#: referrer (the token is in the URL), nothing loaded but inline style, forms post to us only.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}

_LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{ title }}</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
background:#f6f8fa;margin:0;padding:2rem 1rem}
main{max-width:34rem;margin:0 auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;
padding:1.5rem 2rem}
h1{font-size:1.35rem;margin-top:0}
button{font:inherit;padding:.55rem 1.2rem;border-radius:6px;border:1px solid #a40e26;
background:#cf222e;color:#fff;cursor:pointer}
.note{color:#57606a;font-size:.9rem}
</style>
</head>
<body><main>
<h1>{{ title }}</h1>
{% block body %}{% endblock %}
</main></body>
</html>
"""

_TEMPLATES = {
    "layout": _LAYOUT,
    "preferences": """{% extends "layout" %}{% block body %}
<p>You receive e-mail from <strong>{{ sender }}</strong> at <strong>{{ address }}</strong>
(this message was part of &ldquo;{{ campaign }}&rdquo;).</p>
<p>If you unsubscribe, <strong>{{ address }}</strong> will receive no more marketing e-mail
from {{ sender }}, starting with the next send. A message already on its way may still
arrive.</p>
<form method="post">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>
<p class="note">Opening this page changes nothing; only the button does.</p>
{% endblock %}""",
    "unsubscribed": """{% extends "layout" %}{% block body %}
<p>{% if changed %}Done: {% endif %}<strong>{{ address }}</strong> is unsubscribed and will
receive no more marketing e-mail from <strong>{{ sender }}</strong>, starting with the next
send.</p>
<p class="note">Changed your mind? An unsubscribe cannot be undone from this page, so that
nobody else holding this link can subscribe you again. To receive our e-mail again, sign up
anew where you first subscribed, or reply to one of our messages and ask us.</p>
{% endblock %}""",
    "message": """{% extends "layout" %}{% block body %}
<p>{{ text }}</p>
{% if hint %}<p class="note">{{ hint }}</p>{% endif %}
{% endblock %}""",
}

_ENV = jinja2.sandbox.ImmutableSandboxedEnvironment(
    loader=jinja2.DictLoader(_TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render template ``name`` (``preferences``, ``unsubscribed`` or ``message``) with
    ``context`` (values are escaped) as an HTML response with :data:`PAGE_HEADERS`."""
    html = _ENV.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=dict(PAGE_HEADERS))

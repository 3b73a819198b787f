"""Rendering the dashboard's pages: one sandboxed Jinja2 environment that escapes every value,
the shared layout, and the security headers of every page."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from streamwise import __version__
from streamwise.reports.template import CSS

__all__ = ["NAV", "PAGE_HEADERS", "page"]

#: Headers of every page: never cached (they show private data), never framed, nothing loaded
#: from elsewhere, forms post to this site only.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

#: The main navigation: (path, label, permission needed to see it)
NAV: tuple[tuple[str, str, str], ...] = (
    ("/app", "Overview", "read"),
    ("/app/plan", "Plan", "read"),
    ("/app/customers", "Customers", "read"),
    ("/app/research", "Research", "read"),
    ("/app/competitors", "Competitors", "read"),
    ("/app/trends", "Trends", "read"),
    ("/app/personas", "Personas", "read"),
    ("/app/campaigns", "Campaigns", "read"),
    ("/app/results", "Results", "read"),
    ("/app/data", "Data", "read"),
    ("/app/report", "Report", "read"),
    ("/app/users", "Users", "users.manage"),
    ("/app/keys", "API keys", "keys.manage"),
    ("/app/audit", "Audit log", "users.manage"),
)

_DASHBOARD_CSS = """
header.app { background: #14213d; color: #fff; }
header.app .bar { max-width: 62rem; margin: 0 auto; padding: .6rem 1.25rem; display: flex;
  flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; }
header.app .brand { font-weight: 700; font-size: 1.1rem; color: #fff; text-decoration: none; }
header.app nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0;
  padding: 0; }
header.app nav a { color: #dbe4ff; text-decoration: none; padding: .2rem .1rem; }
header.app nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fca311; }
header.app nav a:focus-visible, header.app button:focus-visible, a:focus-visible,
button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible {
  outline: 3px solid #fca311; outline-offset: 2px; }
header.app .who { margin-left: auto; display: flex; align-items: center; gap: .6rem;
  font-size: .92rem; }
header.app .who form { margin: 0; }
button, .button { font: inherit; padding: .4rem .9rem; border-radius: 4px; cursor: pointer;
  border: 1px solid #0072B2; background: #0072B2; color: #fff; }
header.app button { background: transparent; border-color: #dbe4ff; color: #fff;
  padding: .2rem .7rem; }
form.stack { display: grid; gap: .75rem; max-width: 24rem; }
form.stack label { display: grid; gap: .2rem; font-weight: 600; }
input, select, textarea { font: inherit; padding: .4rem .5rem; border: 1px solid #8c8c96;
  border-radius: 4px; }
p.error { background: #fdecea; color: #8a1c12; padding: .55rem .85rem; border-radius: 4px; }
p.ok { background: #e7f5ea; color: #1d5e2a; padding: .55rem .85rem; border-radius: 4px; }
.comments { border-left: 3px solid #d9d9de; padding-left: 1rem; margin: .5rem 0 1.5rem; }
.comments li { margin: .35rem 0; }
.comments small { color: #555; }
.card h2.h4 { margin: 0; font-size: 1.1rem; }
ol.claims li { margin: .5rem 0; }
ol.claims .kind { font-size: .72rem; text-transform: uppercase; letter-spacing: .05em;
  color: #555; margin-right: .35rem; }
form.stack.wide { max-width: 46rem; }
form.inline { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .5rem 0; }
fieldset { border: 1px solid #d9d9de; border-radius: 4px; display: grid; gap: .6rem; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; }
.actions form { margin: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
progress { width: 16rem; height: 1.1rem; vertical-align: middle; }
iframe.email { width: 100%; height: 28rem; border: 1px solid #d9d9de; background: #fff; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; color: #000; padding: .5rem; z-index: 9; }
"""


@cache
def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=jinja2.PackageLoader("streamwise.web.pages", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["css"] = Markup(CSS + _DASHBOARD_CSS)  # noqa: S704 - constants of this package
    env.globals["version"] = __version__
    return env


def page(
    template: str,
    *,
    title: str,
    viewer: Any = None,
    status_code: int = 200,
    path: str = "",
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` in the layout, with the navigation the viewer may see."""
    nav = []
    if viewer is not None:
        nav = [
            {"href": href, "label": label, "current": href == (path or "").split("?")[0]}
            for href, label, permission in NAV
            if viewer.can(permission)
        ]
    html = (
        _environment()
        .get_template(template)
        .render(title=title, viewer=viewer, nav=nav, path=path, **context)
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)

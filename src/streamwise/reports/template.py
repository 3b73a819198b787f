"""The one page template of every report, with its inline CSS (no external files, no scripts)."""

from __future__ import annotations

__all__ = ["CSS", "SECTIONS", "TEMPLATE"]

CSS = """
:root { --ink: #1d1d1f; --muted: #555; --line: #d9d9de; --soft: #f5f6f8; --accent: #0072B2;
  --warn: #8a4b00; --warnbg: #fff4e5; --hint: #0b4f7a; --hintbg: #eaf4fb; }
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.55;
  font-family: "Liberation Sans", "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
main, header.page, footer.page { max-width: 62rem; margin: 0 auto; padding: 0 1.25rem; }
header.page { padding-top: 2rem; padding-bottom: 1rem; border-bottom: 3px solid var(--accent); }
header.page h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .35rem; }
header.page p.subtitle { margin: 0; color: var(--muted); font-size: 1.05rem; }
nav.toc { background: var(--soft); border-radius: 6px; padding: .75rem 1.25rem; margin: 1.25rem 0; }
nav.toc h2 { font-size: 1rem; margin: 0 0 .25rem; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
nav.toc ol { margin: 0; padding-left: 1.4rem; columns: 2 16rem; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
section.report { margin: 2.25rem 0; }
section.report > h2 { font-size: 1.5rem; margin: 0 0 .5rem; padding-bottom: .25rem;
  border-bottom: 1px solid var(--line); }
p.lead { font-size: 1.08rem; background: var(--soft); border-left: 4px solid var(--accent);
  padding: .6rem .9rem; margin: .75rem 0 1rem; }
p.lead strong.label { display: block; font-size: .8rem; text-transform: uppercase;
  letter-spacing: .05em; color: var(--accent); }
h3 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
p.hint, p.caveat { padding: .55rem .85rem; border-radius: 4px; }
p.hint { background: var(--hintbg); color: var(--hint); }
p.caveat { background: var(--warnbg); color: var(--warn); }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: .9em;
  background: #eef0f3; padding: .05rem .3rem; border-radius: 3px; }
figure { margin: 1rem 0 1.5rem; }
figure .chart svg { width: 100%; max-width: 56rem; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .92rem; margin-top: .35rem; }
.table-wrap { overflow-x: auto; margin: .75rem 0 1.25rem; }
table { border-collapse: collapse; width: 100%; font-size: .93rem; }
caption { text-align: left; color: var(--muted); font-size: .92rem; padding-bottom: .35rem; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
thead th { background: var(--soft); border-bottom: 2px solid var(--line); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.date { white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
p.more { color: var(--muted); font-size: .88rem; margin-top: -.75rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: 1rem;
  margin: 1rem 0 1.5rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .9rem 1rem; background: #fff; }
.card h4 { margin: 0; font-size: 1.1rem; }
.card .badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .05rem .5rem;
  border-radius: 999px; background: var(--hintbg); color: var(--hint); margin-left: .35rem;
  vertical-align: middle; }
.card .subtitle { color: var(--muted); font-size: .9rem; margin: .1rem 0 .5rem; }
.card p.body { margin: .25rem 0 .5rem; }
.card ul.facts { list-style: none; margin: 0; padding: 0; }
.card ul.facts li { padding: .35rem 0; border-top: 1px dashed var(--line); }
.card .kind { font-size: .72rem; text-transform: uppercase; letter-spacing: .05em;
  color: var(--muted); margin-right: .35rem; }
.card .source { display: block; font-size: .78rem; color: var(--muted); margin-top: .1rem; }
.card p.caveat { font-size: .9rem; margin: .5rem 0 0; }
ul.items { margin: .5rem 0 1rem; }
footer.page { color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line);
  padding-top: .75rem; padding-bottom: 2rem; margin-top: 3rem; }
@media (max-width: 40rem) {
  html { font-size: 15px; }
  header.page h1 { font-size: 1.6rem; }
  nav.toc ol { columns: 1; }
}
@media print {
  html { font-size: 12px; }
  nav.toc { display: none; }
  a { color: inherit; text-decoration: none; }
  section.report { break-before: auto; }
  figure, .card, table, p.lead { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .table-wrap { overflow: visible; }
}
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="Streamwise {{ version }}">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<header class="page">
<h1>{{ title }}</h1>
{% if subtitle %}<p class="subtitle">{{ subtitle | inline }}</p>{% endif %}
</header>
<main>
{% if sections | length > 1 %}
<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>
{% for s in sections %}<li><a href="#{{ s.id }}">{{ s.title }}</a></li>
{% endfor %}</ol></nav>
{% endif %}
{{ body }}</main>
<footer class="page">{{ footer }}</footer>
</body>
</html>
"""

#: The sections of a page (also rendered on their own, into the dashboard's pages).
SECTIONS = """{% for s in sections %}
<section class="report" id="{{ s.id }}" aria-labelledby="{{ s.id }}-h">
<h2 id="{{ s.id }}-h">{{ s.title }}</h2>
{% if s.lead %}
<p class="lead"><strong class="label">What this means</strong>{{ s.lead | inline }}</p>
{% endif %}
{% for b in s.blocks %}
{% if b.kind == "heading" %}<h3>{{ b.text }}</h3>
{% elif b.kind == "paragraph" %}<p class="{{ b.style }}">{{ b.text | inline }}</p>
{% elif b.kind == "items" %}<ul class="items">
{% for i in b.items %}<li>{{ i | inline }}</li>
{% endfor %}</ul>
{% elif b.kind == "figure" %}<figure class="chart-figure">
<div class="chart" role="img" aria-label="{{ b.label }}">{{ b.svg }}</div>
{% if b.caption %}<figcaption>{{ b.caption | inline }}</figcaption>{% endif %}
</figure>
{% elif b.kind == "table" %}<div class="table-wrap"><table>
{% if b.caption %}<caption>{{ b.caption }}</caption>{% endif %}
<thead><tr>
{% for c in b.columns %}
<th scope="col" class="{{ c.align }}">{{ c.name }}</th>
{% endfor %}
</tr></thead>
<tbody>
{% for row in b.rows %}<tr>
{% for cell in row %}
<td class="{{ b.columns[loop.index0].align }}">{{ cell }}</td>
{% endfor %}
</tr>
{% endfor %}</tbody></table></div>
{% if b.hidden %}<p class="more">{{ b.hidden }} more row(s) not shown.</p>{% endif %}
{% elif b.kind == "cards" %}<div class="cards">
{% for c in b.cards %}<article class="card">
<h4>{{ c.title }}{% if c.badge %}<span class="badge">{{ c.badge }}</span>{% endif %}</h4>
{% if c.subtitle %}<p class="subtitle">{{ c.subtitle }}</p>{% endif %}
{% if c.body %}<p class="body">{{ c.body | inline }}</p>{% endif %}
{% if c.facts %}<ul class="facts">
{% for f in c.facts %}<li>
{% if f.kind %}<span class="kind">{{ f.kind }}</span>{% endif %}
{{ f.text | inline }}
{% for src in f.sources %}<small class="source">source: {{ src }}</small>{% endfor %}
</li>
{% endfor %}</ul>{% endif %}
{% if c.caveat %}<p class="caveat">{{ c.caveat | inline }}</p>{% endif %}
</article>
{% endfor %}</div>
{% endif %}
{% endfor %}
</section>
{% endfor %}
"""

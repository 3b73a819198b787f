"""Self-contained HTML reports and charts: the plan page and the upstream report.

Charts are Vega-Lite specs (Altair) rendered to SVG offline by vl-convert and inlined, so a
report is one HTML file that opens anywhere with no scripts and no network.
"""

from streamwise.reports.charts import (
    attractiveness_chart,
    clv_chart,
    growth_chart,
    market_trends_chart,
    nps_chart,
    perceptual_map_chart,
    price_curves_chart,
    price_value_chart,
    timeline_chart,
    to_svg,
)
from streamwise.reports.html import (
    Card,
    Cards,
    Fact,
    Figure,
    Heading,
    Items,
    Page,
    Paragraph,
    Section,
    Table,
    render_page,
)
from streamwise.reports.plan import plan_html, plan_sections
from streamwise.reports.upstream import upstream_report, write_report

__all__ = [
    "Card",
    "Cards",
    "Fact",
    "Figure",
    "Heading",
    "Items",
    "Page",
    "Paragraph",
    "Section",
    "Table",
    "attractiveness_chart",
    "clv_chart",
    "growth_chart",
    "market_trends_chart",
    "nps_chart",
    "perceptual_map_chart",
    "plan_html",
    "plan_sections",
    "price_curves_chart",
    "price_value_chart",
    "render_page",
    "timeline_chart",
    "to_svg",
    "upstream_report",
    "write_report",
]

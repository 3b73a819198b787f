"""``streamwise ads export|seed|platforms``: audiences and lookalike seeds for ad platforms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.downstream.audiences.ads import AdsExport, export_audience, export_seed
from streamwise.downstream.audiences.ads_platforms import PLATFORMS
from streamwise.downstream.audiences.filters import quote
from streamwise.errors import ConfigError

__all__ = ["app", "parse_top", "print_export"]

app = typer.Typer(
    help="Ad audiences: export an audience, or a lookalike seed of high-CLV customers, as "
    "normalised, SHA-256-hashed e-mail addresses and phone numbers in the customer-list format "
    "of Meta, Google Ads, TikTok, LinkedIn or X. Only customers with ads_consent who are not "
    "suppressed are written; see docs/ads.md.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

PlatformOpt = Annotated[
    str,
    typer.Option(
        "--platform",
        "-p",
        help=f"The ad platform's file format: {', '.join(PLATFORMS)}.",
        show_default=False,
    ),
]
OutOpt = Annotated[
    Path,
    typer.Option(
        "--out", "-o", help="The CSV file to write (replaced if it exists).", show_default=False
    ),
]


def parse_top(text: str) -> tuple[float | None, int | None]:
    """``--top`` as (share, count): ``10%`` or ``0.1`` is a share, ``5000`` a count."""
    raw = text.strip()
    try:
        if raw.endswith("%"):
            return float(raw[:-1]) / 100.0, None
        if raw.isdigit():
            return None, int(raw)
        return float(raw), None
    except ValueError:
        raise ConfigError(
            f"--top {text!r} is neither a share nor a count; write e.g. --top 10% (or 0.1) for "
            "the top tenth, or --top 5000 for the 5,000 most valuable customers"
        ) from None


def print_export(result: AdsExport) -> None:
    console.print(
        f"[green]Wrote {result.exported:,} of {result.members:,} people[/] to "
        f"{escape(str(result.path))} ({result.platform}: {', '.join(result.headers)})."
    )
    for reason, n in result.removed.items():
        console.print(f"  left out, {escape(reason)}: {n:,}")
    for reason, n in result.unusable.items():
        console.print(f"  [yellow]unusable identifiers, {escape(reason)}: {n:,}[/]")
    if result.exported == 0:
        console.print(
            "  [yellow]Nobody may be matched: check the filter and customers' ads_consent.[/]"
        )


@app.command("export")
@errors
def export_cmd(
    audience: Annotated[
        str,
        typer.Argument(
            help="Audience filter, e.g. 'segment = \"Alpine Pros\" and clv >= 500' "
            "(the language of docs/audiences.md)."
        ),
    ],
    platform: PlatformOpt,
    out: OutOpt,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Export an audience as the platform's customer-list file: e-mail addresses and phone
    numbers normalised as the platform documents, hashed with SHA-256. Customers without
    ads_consent, suppressed, or without a usable identifier are left out and counted."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        task = bar.add_task("writing the audience file", total=None)
        result = export_audience(
            ws, audience, platform, out,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    print_export(result)


@app.command("seed")
@errors
def seed_cmd(
    platform: PlatformOpt,
    out: OutOpt,
    top: Annotated[
        str,
        typer.Option(help="The share (10% or 0.1) or number (5000) of customers to take, by CLV."),
    ] = "10%",
    segment: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Only customers of this named segment."),
    ] = None,
    persona: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Only customers of this persona of the plan (full or first name)."),
    ] = None,
    where: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Only customers matching this audience filter."),
    ] = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Export a lookalike seed list: the top customers by CLV (table customer_clv, from
    `streamwise customers clv`), optionally within a segment, persona or filter, ranked before
    consent applies. Meta's file carries each customer's CLV in its value column for
    value-based lookalikes."""
    share, count = parse_top(top)
    parts = []
    if segment:
        parts.append(f"segment = {quote(segment)}")
    if persona:
        parts.append(f"persona = {quote(persona)}")
    if where:
        parts.append(f"({where})")
    within = " and ".join(parts) or None
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        task = bar.add_task("writing the seed list", total=None)
        result = export_seed(
            ws, platform, out, share=share, count=count, within=within,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    taken = f"top {result.top:.0%}" if share is not None else f"top {result.top:,}"
    console.print(
        f"Seed: {taken} of {result.scope or 0:,} customers with a CLV"
        + (f" where {escape(within)}" if within else "")
        + f": {result.members:,} chosen."
    )
    print_export(result)


@app.command("platforms")
def platforms_cmd() -> None:
    """List the platforms, the columns of their files and where their rules are documented."""
    table = Table(title="Ad platforms", title_justify="left")
    for col in ("name", "platform", "columns", "e-mail", "phone", "seed value"):
        table.add_column(col)
    for p in PLATFORMS.values():
        table.add_row(
            p.name, p.title, ", ".join(p.headers()) + ("" if p.header else " (no header line)"),
            p.email_rule, p.phone_format if "phone" in p.identifiers else "-",
            p.value_header or "-",
        )  # fmt: skip
    console.print(table)
    console.print("Sources and rules: docs/ads.md.")

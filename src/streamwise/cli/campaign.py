"""``streamwise campaign create|preview|send|pause|resume|status|list``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
import yaml
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.downstream.campaigns.ledger import campaign_by_name, move
from streamwise.downstream.campaigns.preview import preview_message
from streamwise.downstream.campaigns.service import (
    content_calendar,
    create_campaign,
    pause,
    run_due,
    run_send,
    schedule,
    status,
)
from streamwise.errors import ConfigError
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign

__all__ = ["app"]

app = typer.Typer(
    help="Campaigns: create one from a YAML file, preview a recipient's message, send it with a "
    "crash-safe send ledger, pause, resume and follow it.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

NameArg = Annotated[str, typer.Argument(help="The campaign's name.")]
Policy = Annotated[
    str,
    typer.Option(help="For messages a crash left in flight: resend (same Message-ID) or skip."),
]


def _print(report) -> None:
    parts = ", ".join(f"{k} {v:,}" for k, v in sorted(report.counts.items()))
    console.print(f"[bold]{escape(report.campaign)}[/] is {report.state}: {parts or 'nobody yet'}.")
    if report.note:
        console.print(f"  [yellow]{escape(report.note)}[/]")
    if report.recovered:
        console.print(f"  {report.recovered} message(s) a crash left in flight were settled.")
    if report.removed:
        removed = ", ".join(f"{k} {v:,}" for k, v in report.removed.items())
        console.print(f"  Left out by the rules: {removed}.")
    if report.segments:
        console.print(f"  SMS segments sent in this run: {report.segments:,}.")


@app.command("create")
@errors
def create(
    file: Annotated[Path, typer.Argument(help="Campaign YAML: name, channel, audience, settings.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Create a draft campaign from a YAML file (see docs/campaigns.md for its fields): channel
    email (the default), webhook (SMS or chat: settings.text_message names the address and
    consent columns) or social. The audience filter is checked now and resolved when the
    campaign is sent."""
    try:
        spec = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{file}: cannot read the campaign file ({exc})") from exc
    if not isinstance(spec, dict) or not {"name", "audience", "settings"} <= set(spec):
        raise ConfigError(f"{file}: needs at least name, audience and settings")
    with open_workspace(workspace) as ws:
        cid = create_campaign(ws, spec["name"], audience=spec["audience"],
                              settings=spec["settings"], channel=spec.get("channel", "email"),
                              persona=spec.get("persona"), goal=spec.get("goal"))  # fmt: skip
    console.print(f"Created campaign {cid}: [bold]{escape(spec['name'])}[/] (draft). "
                  "Preview it with `streamwise campaign preview`.")  # fmt: skip


@app.command("preview")
@errors
def preview(
    name: NameArg,
    workspace: WorkspaceOpt = Path("."),
    customer: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Whose message (default: the first member of the audience)."),
    ] = None,
    output: Annotated[
        Optional[Path],  # noqa: UP045 - Typer needs Optional here
        typer.Option(
            "--output", "-o", help="Write the whole message here (.eml; JSON for a webhook)."
        ),
    ] = None,
) -> None:
    """Render one recipient's message exactly as it would be sent (an e-mail, or the text
    message of a webhook campaign with its SMS segments), and show who is in the audience now."""
    with open_workspace(workspace) as ws:
        shown = preview_message(ws, name, customer)
    console.print(f"Audience now: {shown.audience:,} people (before consent and suppression).")
    if shown.left_out:
        console.print(f"  [yellow]{escape(shown.customer_id)} would be left out: "
                      f"{escape(shown.left_out)}.[/]")  # fmt: skip
    if shown.problem:
        console.print(f"  [yellow]It would not be sent: {escape(shown.problem)}.[/]")
    if output:
        output.write_bytes(shown.to_bytes())
        console.print(f"Message for {escape(shown.customer_id)} written to {escape(str(output))}.")
    elif shown.text is not None:
        p = shown.message.payload
        assert not isinstance(p, bytes)
        size = (f"{p['encoding']}, {p['segments']} segment(s)" if "encoding" in p
                else f"{len(shown.text)} characters")  # fmt: skip
        console.print(f"To {escape(shown.address)} ({escape(shown.customer_id)}), variant "
                      f"{escape(shown.arm)}, {size}:")  # fmt: skip
        console.print(escape(shown.text), soft_wrap=True)  # links stay whole
    else:
        console.print(escape(shown.to_bytes().decode("utf-8", errors="replace")[:4000]))


@app.command("send")
@errors
def send(name: NameArg, workspace: WorkspaceOpt = Path("."), policy: Policy = "resend") -> None:
    """Send the campaign (or go on after a crash). Each recipient is written to the send ledger
    before sending and marked sent right after the server accepts; see docs/campaigns.md for
    the guarantee."""
    with open_workspace(workspace) as ws, progress() as bar:
        task = bar.add_task(f"sending {name}", total=None)

        def show(counts: dict[str, int]) -> None:
            total = sum(counts.values())
            done = total - counts.get("pending", 0) - counts.get("sending", 0)
            bar.update(task, total=total, completed=done)

        report = run_send(ws, name, policy=policy, on_progress=show)  # type: ignore[arg-type]
    _print(report)


@app.command("schedule")
@errors
def schedule_(
    name: NameArg,
    at: Annotated[
        str, typer.Option(help="When, ISO 8601 (e.g. 2026-12-01T09:00; UTC if no zone).")
    ],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Schedule a draft campaign; `streamwise campaign run-due` (from cron) sends it then."""
    try:
        when = datetime.fromisoformat(at)
    except ValueError as exc:
        raise ConfigError(f"--at {at!r} is not an ISO 8601 time such as 2026-12-01T09:00") from exc
    with open_workspace(workspace) as ws:
        schedule(ws, name, when)
    console.print(f"{escape(name)} scheduled for {escape(at)}.")


@app.command("run-due")
@errors
def run_due_(workspace: WorkspaceOpt = Path(".")) -> None:
    """Send the scheduled campaigns whose time has come and go on with those waiting for their
    recipients' send windows. Run it every few minutes from cron or a systemd timer."""
    with open_workspace(workspace) as ws:
        reports = run_due(ws)
    for report in reports:
        _print(report)
    if not reports:
        console.print("Nothing is due.")


@app.command("calendar")
@errors
def calendar(
    output: Annotated[Path, typer.Option("--output", "-o", help="The .ics file to write.")],
    name: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Argument(help="Only this campaign's posts (default: every queued post)."),
    ] = None,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Export the queued social posts as an iCalendar content calendar (import it into any
    calendar to see what goes out when)."""
    with open_workspace(workspace) as ws:
        data = content_calendar(ws, name)
    output.write_bytes(data)
    console.print(f"Content calendar written to {escape(str(output))}.")


@app.command("pause")
@errors
def pause_(name: NameArg, workspace: WorkspaceOpt = Path(".")) -> None:
    """Pause a sending campaign; the sender stops after its current batch."""
    with open_workspace(workspace) as ws:
        pause(ws, name)
    console.print(
        f"{escape(name)} paused. Resume with `streamwise campaign resume {escape(name)}`."
    )


@app.command("resume")
@errors
def resume(name: NameArg, workspace: WorkspaceOpt = Path("."), policy: Policy = "resend") -> None:
    """Resume a paused campaign and send the rest (each recipient once)."""
    with open_workspace(workspace) as ws:
        with session_factory(ws.operational())() as session:
            c = campaign_by_name(session, name)
            cid, state = int(c.id), c.state
        if state == "paused":
            move(ws.operational(), cid, "sending")
        with progress() as bar:
            bar.add_task(f"sending {name}", total=None)
            report = run_send(ws, name, policy=policy)  # type: ignore[arg-type]
    _print(report)


@app.command("status")
@errors
def status_(name: NameArg, workspace: WorkspaceOpt = Path(".")) -> None:
    """The campaign's state and how many messages are in each state of the ledger."""
    with open_workspace(workspace) as ws:
        _print(status(ws, name))


@app.command("list")
@errors
def list_(workspace: WorkspaceOpt = Path(".")) -> None:
    """Every campaign with its channel, state and persona."""
    with open_workspace(workspace) as ws, session_factory(ws.operational())() as session:
        rows = session.execute(
            select(Campaign.id, Campaign.name, Campaign.channel, Campaign.state, Campaign.persona)
        ).all()
    table = Table(title="Campaigns", title_justify="left")
    for col in ("id", "name", "channel", "state", "persona"):
        table.add_column(col)
    for r in rows:
        table.add_row(*(escape(str(v or "")) for v in r))
    console.print(table)


def _print_decision(d: Any) -> None:
    dec = d.decision
    colour = {
        "winner": "green",
        "inconclusive": "yellow",
        "guardrail_failed": "red",
        "insufficient_data": "yellow",
    }.get(dec.status, "white")
    console.print(
        f"A/B test [bold]{escape(d.campaign)}[/] on {d.metric.replace('_', ' ')}: "
        f"[{colour}]{dec.status.replace('_', ' ')}[/] → the rollout sends "
        f"[bold]{escape(d.variant)}[/]"
    )
    for reason in dec.reasons:
        console.print(f"  {escape(reason)}", highlight=False)


@app.command("decide")
@errors
def decide_cmd(name: NameArg, workspace: WorkspaceOpt = Path(".")) -> None:
    """Decide an A/B test campaign (settings `test`) from its results so far: the winner on the
    test's metric with its chance to win, the guardrails, or the fallback when inconclusive."""
    from streamwise.downstream.campaigns.rollout import decide

    with open_workspace(workspace) as ws:
        _print_decision(decide(ws, name))


@app.command("rollout")
@errors
def rollout_cmd(
    name: NameArg,
    workspace: WorkspaceOpt = Path("."),
    variant: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Send this variant instead of the decided one."),
    ] = None,
    send_now: Annotated[bool, typer.Option("--send", help="Send the rollout now.")] = False,
) -> None:
    """Create the rollout of an A/B test: the winner (or the fallback) to everyone in the
    audience who was not in the test, with the test's holdout share. Created once; send it with
    **--send** or `streamwise campaign send "NAME (rollout)"`."""
    from streamwise.downstream.campaigns.rollout import rollout, rollout_name

    with open_workspace(workspace) as ws:
        decision, campaign_id = rollout(ws, name, variant=variant)
        if decision is not None:
            _print_decision(decision)
        console.print(f"Rollout campaign {campaign_id}: [bold]{escape(rollout_name(name))}[/]")
        if send_now:
            with progress() as bar:
                bar.add_task(f"sending {rollout_name(name)}", total=None)
                report = run_send(ws, rollout_name(name))
            _print(report)

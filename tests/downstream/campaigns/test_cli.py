"""``streamwise campaign`` end to end against a real SMTP server."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from streamwise.cli.app import app


def test_create_preview_send_status_list(demo_dir: Path, tmp_path: Path, smtp) -> None:
    controller, server = smtp
    ws = tmp_path / "ws"
    shutil.copytree(demo_dir, ws)
    spec = {
        "name": "welcome-wendy",
        "persona": "Wendy",
        "audience": 'persona = "Wendy" and email_consent',
        "settings": {
            "sender": {"address": "hi@northwind.example", "domain": "northwind.example",
                       "list_id": "Hi <hi.northwind.example>",
                       "postal_address": "1 Trail Road, Portland, OR 97201, USA"},
            "variants": {"A": {"subject": "Hello {{ first_name }}",
                               "html": "<p>Hi {{ first_name }}</p>"}},
            "tracking_base_url": "https://t.northwind.example",
            "channel": {"host": "127.0.0.1", "port": controller.port, "starttls": False},
        },
    }  # fmt: skip
    file = tmp_path / "campaign.yaml"
    file.write_text(yaml.safe_dump(spec))
    run = CliRunner().invoke
    out = run(app, ["campaign", "create", str(file), "-w", str(ws)])
    assert out.exit_code == 0, out.output
    again = run(app, ["campaign", "create", str(file), "-w", str(ws)])
    assert again.exit_code == 1
    assert "exists already" in again.output
    eml = tmp_path / "one.eml"
    out = run(app, ["campaign", "preview", "welcome-wendy", "-w", str(ws), "-o", str(eml)])
    assert out.exit_code == 0, out.output
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in eml.read_bytes()
    assert not server.messages  # a preview sends nothing
    out = run(app, ["campaign", "send", "welcome-wendy", "-w", str(ws)])
    assert out.exit_code == 0, out.output
    assert "is done" in out.output
    sent = len(server.messages)
    assert sent > 10
    out = run(app, ["campaign", "status", "welcome-wendy", "-w", str(ws)])
    assert f"sent {sent:,}" in out.output
    out = run(app, ["campaign", "list", "-w", str(ws)])
    assert "welcome-wendy" in out.output
    out = run(app, ["campaign", "send", "welcome-wendy", "-w", str(ws)])
    assert out.exit_code == 1  # done campaigns are not sent again
    assert len(server.messages) == sent
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**spec, "name": "bad", "audience": "clv >= 'lots'"}))
    out = run(app, ["campaign", "create", str(bad), "-w", str(ws)])
    assert out.exit_code == 1
    assert "clv" in out.output


def test_webhook_campaign_create_preview_send(sms_root: Path, gateway, sms_settings) -> None:
    spec = {
        "name": "sms-wendy",
        "channel": "webhook",
        "audience": 'persona = "Wendy"',
        "settings": sms_settings(gateway.url),
    }
    file = sms_root.parent / "sms.yaml"
    file.write_text(yaml.safe_dump(spec, allow_unicode=True))
    run = CliRunner().invoke
    ws = ["-w", str(sms_root)]
    out = run(app, ["campaign", "create", str(file), *ws])
    assert out.exit_code == 0, out.output
    out = run(app, ["campaign", "preview", "sms-wendy", *ws])
    assert out.exit_code == 0, out.output
    assert re.search(r"variant [AB], GSM-7, [123] segment\(s\):", out.output), out.output
    assert "Reply STOP to opt out." in out.output
    payload = sms_root.parent / "one.json"
    out = run(app, ["campaign", "preview", "sms-wendy", *ws, "-o", str(payload)])
    assert out.exit_code == 0, out.output
    message = json.loads(payload.read_text())
    assert message["to"].startswith("+")
    assert message["segments"] in (1, 2, 3)
    assert not gateway.requests  # a preview sends nothing
    out = run(app, ["campaign", "send", "sms-wendy", *ws])
    assert out.exit_code == 0, out.output
    assert "is done" in out.output
    segments = sum(r["body"]["payload"]["segments"] for r in gateway.accepted)
    assert segments > len(gateway.accepted) > 0  # variant A's tracked link takes two segments
    assert f"SMS segments sent in this run: {segments:,}" in out.output
    assert "no SMS consent" in out.output
    out = run(app, ["campaign", "list", *ws])
    assert "webhook" in out.output
    leaky = {**spec, "name": "leaky"}
    leaky["settings"] = {**spec["settings"], "channel": {"url": gateway.url, "secret": "x" * 20}}
    file.write_text(yaml.safe_dump(leaky))
    out = run(app, ["campaign", "create", str(file), *ws])
    assert out.exit_code == 1
    assert "STREAMWISE_WEBHOOK_SECRET" in out.output

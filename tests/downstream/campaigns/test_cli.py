"""``streamwise campaign`` end to end against a real SMTP server."""

from __future__ import annotations

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

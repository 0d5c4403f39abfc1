"""`mfa-ingest settings` prints the effective settings without secrets."""

import json

from typer.testing import CliRunner

from pipeline.cli import app


def test_settings_output_masks_passwords_in_the_url_and_secret_fields(monkeypatch):
    monkeypatch.setenv("MFA_ES_URL", "https://bob:s3cret@es.example.org:9243")
    monkeypatch.setenv("MFA_ES_PASSWORD", "hunter2")
    from pipeline.context import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["settings"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0
    assert "s3cret" not in result.output and "hunter2" not in result.output
    shown = json.loads(result.output)
    assert shown["es_url"].startswith("https://bob:") and shown["es_url"].endswith("@es.example.org:9243")


def test_every_command_has_an_example_in_its_help():
    from typer.main import get_command

    from pipeline.cli import app

    group = get_command(app)
    for name, command in group.commands.items():
        assert "Example: mfa-ingest" in (command.help or "") or "Example: MFA_" in (command.help or ""), name

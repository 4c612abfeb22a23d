"""SMTP and alert settings: validated with file:line:col, passwords never inline."""

from __future__ import annotations

from tests.conftest import cli

SMTP = "smtp:\n  host: mail.example.com\n  sender: backup@example.com\n"


def errors(world) -> list[str]:  # type: ignore[no-untyped-def]
    result = cli(world.directory, "validate")
    assert result.returncode == 2, result.stdout
    return result.stderr.splitlines()


def test_an_inline_password_is_refused_where_it_is_written(alert_world):
    world = alert_world(SMTP + "  username: alerts\n  password: hunter2-inline\n")
    [line] = errors(world)
    assert line.startswith("restoreproof.yml:6:3: smtp.password: an inline password is not allowed: "
                           "use password_file or password_env")
    assert "hunter2-inline" not in line


def test_credentials_must_be_complete_and_single(alert_world):
    both = alert_world(SMTP + "  username: alerts\n  password_file: pw\n  password_env: PW\n")
    assert errors(both) == ["restoreproof.yml:2:1: smtp: give password_file or password_env, not both"]
    alone = alert_world(SMTP + "  username: alerts\n")
    assert errors(alone) == ["restoreproof.yml:2:1: smtp: username and one of password_file or password_env go together"]


def test_addresses_languages_and_per_job_settings_are_checked(alert_world):
    world = alert_world(SMTP + "  security: ssl\nalerts:\n  recipients: [ops@example.com, not-an-address]\n"
                               "  language: de\n",
                        web_extra="alerts:\n  recipients: [web@]\n  mute: true\n")
    lines = errors(world)
    assert "restoreproof.yml:5:3: smtp.security: input should be 'none', 'starttls' or 'tls'" in lines
    assert "restoreproof.yml:7:33: alerts.recipients[1]: 'not-an-address' is not an e-mail address" in lines
    assert "restoreproof.yml:8:3: alerts.language: input should be 'en' or 'fr'" in lines
    assert "jobs/web.yml:5:16: job 'web': alerts.recipients[0]: 'web@' is not an e-mail address" in lines
    assert "jobs/web.yml:6:3: job 'web': alerts.mute: extra inputs are not permitted" in lines


def test_a_complete_configuration_is_valid(alert_world):
    world = alert_world(SMTP + "  port: 465\n  security: tls\n  username: alerts\n  password_env: SMTP_PASSWORD\n"
                               "alerts:\n  recipients: ['Ops <ops@example.com>']\n  language: fr\n"
                               "  reminder_every: 12h\n",
                        web_extra="alerts:\n  recipients: [web@example.com]\n  include_global_recipients: false\n")
    result = cli(world.directory, "validate")
    assert result.returncode == 0, result.stderr

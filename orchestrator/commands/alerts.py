"""`restoreproof alerts`: the alert outbox (pending, sent and failed e-mails), and its actions:
`alerts test` sends a test e-mail and says plainly what went wrong; `alerts send` delivers pending
e-mails now; `alerts retry` queues failed e-mails again."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from orchestrator.commands import EXIT_COULD_NOT_RUN, EXIT_OK, EXIT_USAGE, load, open_database
from orchestrator.config import Config
from orchestrator.db.models_alerts import FAILED, PENDING, SENT, AlertNotice
from orchestrator.report import iso, when

HELP = "alert e-mails: list the outbox; `alerts test` sends a test e-mail; `alerts send` delivers now"
STATUSES = (PENDING, FAILED, SENT)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--status", action="append", choices=STATUSES,
                        help="only notices with this status (repeatable; default: all)")
    parser.add_argument("--limit", type=int, default=20, help="how many notices, newest first (default 20)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    test = actions.add_parser("test", help="send a test e-mail now and report the SMTP outcome")
    test.add_argument("--to", action="append", metavar="ADDRESS",
                      help="recipient (repeatable; default: alerts.recipients)")
    actions.add_parser("send", help="deliver every pending e-mail now, ignoring the retry back-off")
    actions.add_parser("retry", help="queue every failed e-mail again, then deliver")


def run(arguments: argparse.Namespace) -> int:
    config = load(arguments)
    action = getattr(arguments, "action", None)
    if action == "test":
        return _test(config, arguments.to or list(config.settings.alerts.recipients))
    if action in ("send", "retry"):
        return _send(config, retry=action == "retry")
    return _list(config, arguments.status or list(STATUSES), arguments.limit, arguments.json)


def notice_to_dict(notice: AlertNotice) -> dict[str, Any]:
    """Given an outbox row, return the JSON-ready object `alerts --json` prints."""
    return {
        "id": notice.id, "kind": notice.kind, "job": notice.job, "run_id": notice.run_id, "status": notice.status,
        "attempts": notice.attempts, "subject": notice.subject, "recipients": notice.recipients,
        "message_id": notice.message_id, "created_at": iso(notice.created_at),
        "next_attempt_at": iso(notice.next_attempt_at) if notice.status == PENDING else None,
        "last_attempt_at": iso(notice.last_attempt_at), "sent_at": iso(notice.sent_at),
        "last_error": notice.last_error, "attachments": [attachment.filename for attachment in notice.attachments],
    }


def _list(config: Config, statuses: list[str], limit: int, as_json: bool) -> int:
    from orchestrator.db.alerts_store import AlertStore

    notices = AlertStore(open_database(config)).notices(statuses, limit)
    if as_json:
        print(json.dumps([notice_to_dict(notice) for notice in notices], indent=2))
        return EXIT_OK
    if config.settings.smtp is None:
        print("e-mail alerts are off: restoreproof.yml has no smtp settings")
    _write_notices(notices, sys.stdout)
    return EXIT_OK


def _test(config: Config, recipients: list[str]) -> int:
    from orchestrator.alerts.diagnose import SendError, send_test_email
    from orchestrator.db.store import utcnow

    smtp = config.settings.smtp
    if smtp is None:
        print("restoreproof: alerts test: restoreproof.yml has no smtp settings", file=sys.stderr)
        return EXIT_USAGE
    if not recipients:
        print("restoreproof: alerts test: no recipients: set alerts.recipients or give --to", file=sys.stderr)
        return EXIT_USAGE
    try:
        accepted = send_test_email(config, recipients, utcnow())
    except SendError as error:
        print(f"alerts test FAILED at the {error.stage} step: {error.message}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    login = f", logged in as {smtp.username}" if smtp.username else ""
    print(f"ok: {smtp.host}:{smtp.effective_port} ({smtp.security}{login}) accepted the test e-mail "
          f"for {', '.join(accepted.recipients)}")
    for address, reply in accepted.refused.items():
        print(f"refused recipient {address}: {reply}", file=sys.stderr)
    return EXIT_COULD_NOT_RUN if accepted.refused else EXIT_OK


def _send(config: Config, retry: bool) -> int:
    from orchestrator.alerts.outbox import deliver
    from orchestrator.db.alerts_store import AlertStore
    from orchestrator.db.store import utcnow

    if config.settings.smtp is None:
        print("restoreproof: restoreproof.yml has no smtp settings", file=sys.stderr)
        return EXIT_USAGE
    database = open_database(config)
    now = utcnow()
    if retry:
        print(f"{AlertStore(database).retry_failed(now)} failed e-mail(s) queued again")
    delivery = deliver(config, database, now, ignore_schedule=True)
    print(f"{delivery.sent} sent, {delivery.retrying} still pending, {delivery.given_up} failed for good")
    for error in dict.fromkeys(delivery.errors):
        print(f"error: {error}", file=sys.stderr)
    return EXIT_COULD_NOT_RUN if delivery.errors else EXIT_OK


def _write_notices(notices: list[AlertNotice], out: TextIO) -> None:
    if not notices:
        out.write("no alert e-mails\n")
        return
    out.write(f"{'id':>5}  {'kind':<12} {'job':<16} {'status':<8} {'tries':>5}  {'created (UTC)':<16}  "
              f"{'sent / next try':<16}  subject\n")
    for notice in notices:
        due = notice.sent_at if notice.status == SENT else notice.next_attempt_at if notice.status == PENDING else None
        out.write(f"{notice.id:>5}  {notice.kind[:12]:<12} {(notice.job or '-')[:16]:<16} {notice.status:<8} "
                  f"{notice.attempts:>5}  {when(notice.created_at):<16}  {when(due):<16}  {notice.subject[:90]}\n")
        if notice.last_error:
            label = "note" if notice.status == SENT else "last error"
            out.write(f"{'':>7}{label}: {notice.last_error}\n")

"""The pure parts of the restic module (failure classes, times, backends, env files) and the Redactor."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from orchestrator.redact import MASK, Redactor
from orchestrator.restic import FailureKind, ResticError, backend_type, classify, parse_restic_time, read_env_file

# Messages as restic 0.14 prints them.
UNREACHABLE_REST_SERVER = (
    "Fatal: unable to open config file: Stat: Get \"http://127.0.0.1:9/config\": "
    "dial tcp 127.0.0.1:9: connect: connection refused\n"
    "Is there a repository at the following location?\n"
    "rest:http://127.0.0.1:9/\n"
)


@pytest.mark.parametrize(
    ("stderr", "kind"),
    [
        ("Fatal: wrong password or no key found\n", FailureKind.WRONG_PASSWORD),
        ("Fatal: unable to open config file: stat /tmp/nope/config: no such file or directory\n"
         "Is there a repository at the following location?\n/tmp/nope\n", FailureKind.REPOSITORY_NOT_FOUND),
        (UNREACHABLE_REST_SERVER, FailureKind.UNREACHABLE),
        ("unable to create lock in backend: repository is already locked by PID 12 on web1 by root (UID 0, GID 0)\n"
         "lock was created at 2024-05-01 12:00:00 (3m0s ago)\n", FailureKind.LOCKED),
        ("Load(<data/2d1b4a8e3f>, 0, 0) returned error, retrying after 552ms: ciphertext verification failed\n",
         FailureKind.CORRUPTED),
        ("Fatal: invalid id \"deadbeef\": no matching ID found for prefix \"deadbeef\"\n",
         FailureKind.SNAPSHOT_NOT_FOUND),
        ("Fatal: cannot dump file: path \"/x\" not found in snapshot\n", FailureKind.PATH_NOT_FOUND),
        ("Fatal: something new went wrong\n", FailureKind.FAILED),
        ("", FailureKind.FAILED),
    ],
)
def test_classify(stderr: str, kind: FailureKind) -> None:
    assert classify(stderr) == kind


def test_classified_message_is_plain_and_hides_the_detail() -> None:
    error = ResticError(FailureKind.WRONG_PASSWORD, "Fatal: wrong password or no key found\n", 1)

    assert error.message == "wrong password: no key in the repository opens with the configured password"
    assert str(error) == error.message
    assert (error.exit_code, error.is_backup_fault) == (1, True)


def test_unclassified_message_carries_the_last_line_of_detail() -> None:
    error = ResticError(FailureKind.FAILED, "some context\nFatal: something new went wrong\n\n")

    assert error.message == "restic failed (Fatal: something new went wrong)"


def test_unreachable_is_not_a_backup_fault() -> None:
    assert ResticError(FailureKind.UNREACHABLE, UNREACHABLE_REST_SERVER).is_backup_fault is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:34:56.123456789+02:00",
         datetime(2024, 5, 1, 12, 34, 56, 123456, tzinfo=timezone(timedelta(hours=2)))),
        ("2024-05-01T12:34:56.5-07:00", datetime(2024, 5, 1, 12, 34, 56, 500000, tzinfo=timezone(timedelta(hours=-7)))),
        ("2024-05-01T12:34:56Z", datetime(2024, 5, 1, 12, 34, 56, tzinfo=timezone.utc)),
        ("2024-05-01T10:34:56.000000001Z", datetime(2024, 5, 1, 10, 34, 56, tzinfo=timezone.utc)),
    ],
)
def test_parse_restic_time(text: str, expected: datetime) -> None:
    parsed = parse_restic_time(text)

    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["2024-05-01 12:34:56", "yesterday", "2024-05-01T12:34:56.1+0200"])
def test_unexpected_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="unexpected time from restic"):
        parse_restic_time(text)


@pytest.mark.parametrize(
    ("repository", "backend"),
    [
        ("/srv/restic", "local"),
        ("local:/srv/restic", "local"),
        ("sftp:backup@host:/srv/restic", "sftp"),
        ("rest:https://user:secret@backup.example.org:8000/web", "rest"),
        ("s3:s3.amazonaws.com/bucket/web", "s3"),
        ("b2:bucket:web", "b2"),
        ("azure:container:/web", "azure"),
        ("gs:bucket:/web", "gs"),
        ("rclone:remote:backups/web", "rclone"),
        ("C:\\backups\\restic", "local"),
    ],
)
def test_backend_type(repository: str, backend: str) -> None:
    assert backend_type(repository) == backend


def test_read_env_file(tmp_path: Path) -> None:
    path = tmp_path / "backend.env"
    path.write_text("# AWS keys\n\nexport AWS_ACCESS_KEY_ID=AKIAEXAMPLE\n"
                    "AWS_SECRET_ACCESS_KEY = 'se=cret'\nB2_ACCOUNT_ID=\"b2id\"\nnot a pair\n", encoding="utf-8")

    assert read_env_file(path) == {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "se=cret",
        "B2_ACCOUNT_ID": "b2id",
    }


def test_redactor_hides_password_file_content(tmp_path: Path) -> None:
    password_file = tmp_path / "web.pass"
    password_file.write_text("correct-horse-battery\n", encoding="utf-8")
    redactor = Redactor()

    redactor.add_file_contents(password_file)

    assert redactor.redact("tried correct-horse-battery twice") == f"tried {MASK} twice"


def test_redactor_ignores_an_unreadable_file(tmp_path: Path) -> None:
    redactor = Redactor()

    redactor.add_file_contents(tmp_path / "missing.pass")

    assert redactor.redact("nothing secret here") == "nothing secret here"


def test_redactor_hides_url_credentials() -> None:
    redactor = Redactor()
    redactor.add_url_credentials("rest:https://backup:s3cret-pw@host.example/repo")

    assert redactor.redact("rest:https://backup:s3cret-pw@host.example/repo") == f"rest:https://{MASK}@host.example/repo"
    assert redactor.redact("password s3cret-pw was refused") == f"password {MASK} was refused"


def test_redactor_masks_credentials_in_urls_it_was_never_told_about() -> None:
    assert Redactor().redact("Get https://other:pw@host/config") == f"Get https://{MASK}@host/config"


def test_redactor_leaves_short_values_alone() -> None:
    redactor = Redactor(["abc", " 22 ", "long-enough"])

    assert redactor.redact("port 22, abc, long-enough") == f"port 22, abc, {MASK}"

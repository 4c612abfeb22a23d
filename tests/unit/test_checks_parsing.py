"""The pure parts of the checks: parsing what the sandbox prints, and comparing the restored tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.checks import FAILED, PASSED, CheckContext, RestoredEntry, parse_tree_scan
from orchestrator.checks import tree
from orchestrator.checks.boot import http_problem
from orchestrator.checks.expect import matching
from orchestrator.checks.manifest import parse_sha256sum_output
from orchestrator.config.schema import Repository, TreeCheck
from orchestrator.restic import Node, Restic
from orchestrator.selection import RestoreItem, RestorePlan

DIRECTORY, FILE, SYMLINK = RestoredEntry("dir", 4096), RestoredEntry("file", 120), RestoredEntry("symlink", 10)

RESTORED = {
    "/srv": DIRECTORY,
    "/srv/www": DIRECTORY,
    "/srv/www/index.html": FILE,
    "/srv/www/current": SYMLINK,
    "/srv/www/assets": DIRECTORY,
    "/srv/www/assets/site.css": RestoredEntry("file", 900),
    "/srv/www/assets/app.js": RestoredEntry("file", 40),
}


def scan_output(entries: list[tuple[str, str]], errors: str = "") -> str:
    """Given (stat line, name) pairs, return what TREE_SCAN prints."""
    stats = "".join(f"{line}\n" for line, _ in entries)
    names = "".join(f"{name}\0" for _, name in entries)
    return f"{stats}\n\0names\0{names}\0errors\0{errors}"


def test_tree_scan_reads_directories_files_and_symlinks() -> None:
    output = scan_output([("41ed 4096", "/restore/srv"), ("81a4 120", "/restore/srv/index.html"),
                          ("a1ff 10", "/restore/srv/my link")])

    restored, problems = parse_tree_scan(output, "/restore/")

    assert restored == {"/srv": DIRECTORY, "/srv/index.html": FILE, "/srv/my link": SYMLINK}
    assert problems == []


def test_tree_scan_names_with_newlines_cannot_forge_entries() -> None:
    forged = "/restore/srv/x\n81a4 120 /restore/srv/missing"
    output = scan_output([("81a4 3", forged)])

    restored, problems = parse_tree_scan(output, "/restore")

    assert restored == {"/srv/x\n81a4 120 /restore/srv/missing": RestoredEntry("file", 3)}
    assert problems == []


def test_tree_scan_keeps_errors_and_refuses_a_misaligned_scan() -> None:
    error = "stat: can't stat '/restore/srv/gone': No such file or directory\n"
    output = scan_output([("81a4 12", "/restore/a"), ("11b6 0", "/restore/fifo")], errors=error)

    restored, problems = parse_tree_scan(output, "/restore")
    assert restored == {"/a": RestoredEntry("file", 12), "/fifo": RestoredEntry("special", 0)}
    assert problems == [error.strip()]

    misaligned = output.replace("11b6 0\n", "")
    restored, problems = parse_tree_scan(misaligned, "/restore")
    assert restored == {} and problems[-1] == "the scan found 2 entries but could stat 1"


def test_tree_scan_that_did_not_complete_is_a_problem() -> None:
    assert parse_tree_scan("sh: find: not found\n", "/restore") == (
        {}, ["the scan did not complete: sh: find: not found"])


def test_sha256sum_output_counts_ok_and_failed() -> None:
    output = ("www/index.html: OK\nwww/logo.png: FAILED\n"
              "sha256sum: can't open 'db/data.sqlite': No such file or directory\ndb/data.sqlite: FAILED\n"
              "name: with colon.txt: OK\n")

    assert parse_sha256sum_output(output) == (2, ["www/logo.png", "db/data.sqlite"])


def test_sha256sum_cannot_open_line_alone_is_neither_ok_nor_failed() -> None:
    assert parse_sha256sum_output("sha256sum: can't open 'x': No such file or directory\n") == (0, [])


def test_sha256sum_gnu_open_failure_counts_as_failed() -> None:
    assert parse_sha256sum_output("x: FAILED open or read\n") == (0, ["x"])


@pytest.mark.parametrize(
    ("response", "status", "contains", "problem"),
    [
        ("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<h1>Shop</h1>", 200, "Shop", None),
        ("HTTP/2 200\r\n\r\nok", 200, None, None),
        ("HTTP/1.0 503 Service Unavailable\r\n\r\n", 200, None, "HTTP status 503, expected 200"),
        ("HTTP/1.1 200 OK\r\nX-Shop: Shop\r\n\r\nmaintenance", 200, "Shop",
         "HTTP body does not contain the expected text 'Shop'"),
        ("", 200, None, "no HTTP response"),
        ("SSH-2.0-OpenSSH_9.6\r\n", 200, None, "no HTTP response"),
    ],
)
def test_http_problem(response: str, status: int, contains: str | None, problem: str | None) -> None:
    assert http_problem(response, status, contains) == problem


@pytest.mark.parametrize(
    ("pattern", "paths"),
    [
        ("/srv/www/index.html", ["/srv/www/index.html"]),
        ("www/index.html", ["/srv/www/index.html"]),
        ("index.html", []),  # relative to the backed-up path /srv, not anywhere below it
        ("**/index.html", ["/srv/www/index.html"]),
        ("/srv/www/assets/*.css", ["/srv/www/assets/site.css"]),
        ("www/assets/[as]*.*s", ["/srv/www/assets/app.js", "/srv/www/assets/site.css"]),
        ("/www/index.html", []),
        ("ww/index.html", []),
    ],
)
def test_expect_matching(pattern: str, paths: list[str]) -> None:
    assert sorted(matching(RESTORED, pattern, ["/srv"])) == paths


def tree_context(expected: list[Node], restored: dict[str, RestoredEntry], scan_problems: list[str] | None = None,
                 ) -> CheckContext:
    """Given the snapshot's expected nodes and an already scanned restored tree, return a context for the tree check."""
    repository = Repository(url="/srv/restic", password_command="false")
    plan = RestorePlan((RestoreItem("/srv/www", None),), tuple(expected), "paths /srv/www")
    return CheckContext(sandbox=None, plan=plan, restic=Restic(repository, Path("/nonexistent"), 1.0),
                        data_mount="/restore", timeout_seconds=1.0, _tree=restored, _tree_problems=scan_problems or [])


EXPECTED = [
    Node("/srv/www", "dir", 0, 0o755),
    Node("/srv/www/index.html", "file", 120, 0o644),
    Node("/srv/www/current", "symlink", 10, 0o777),
    Node("/srv/www/assets", "dir", 0, 0o755),
    Node("/srv/www/assets/site.css", "file", 900, 0o644),
    Node("/srv/www/assets/app.js", "file", 40, 0o644),
    Node("/srv/www/queue", "fifo", 0, 0o600),
]


def test_tree_matching_the_listing_passes_with_ancestors_and_specials_ignored() -> None:
    outcome = tree.check(TreeCheck(type="tree"), tree_context(EXPECTED, RESTORED))

    assert (outcome.status, outcome.detail) == (PASSED, "6 entries match the snapshot listing (3 files, 1060 bytes)")
    assert outcome.data["special_files_not_materialised"] == 1


def test_tree_reports_each_difference() -> None:
    restored = dict(RESTORED)
    del restored["/srv/www/assets/app.js"]
    restored["/srv/www/index.html"] = RestoredEntry("file", 119)
    restored["/srv/www/current"] = RestoredEntry("file", 10)
    restored["/srv/www/assets/injected.php"] = RestoredEntry("file", 5)

    outcome = tree.check(TreeCheck(type="tree"), tree_context(EXPECTED, restored, ["?? /restore/odd"]))

    assert outcome.status == FAILED
    assert outcome.detail == (
        "5 difference(s) from the snapshot listing: unreadable in sandbox: ?? /restore/odd; "
        "size differs: /srv/www/index.html has 119 bytes, snapshot says 120; "
        "type differs: /srv/www/current is file, snapshot says symlink; missing: /srv/www/assets/app.js; "
        "not in snapshot: /srv/www/assets/injected.php"
    )
    assert outcome.data["problems"] == 5


def test_glob_star_stays_within_one_folder_and_double_star_crosses():
    from orchestrator.checks.expect import glob_expression

    assert not glob_expression("/srv/*.html").match("/srv/www/index.html")
    assert glob_expression("/srv/**.html").match("/srv/www/index.html")
    assert glob_expression("www/index.html").match("/srv/www/index.html")
    assert not glob_expression("index.html").match("/srv/xindex.html")
    assert glob_expression("data/report-[!0]*.csv").match("/t/data/report-1.csv")

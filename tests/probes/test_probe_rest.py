"""The append-only probe against a real `rclone serve restic`, in both modes, over a real restic repository."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.probes import INCONCLUSIVE, PROTECTED, UNPROTECTED
from orchestrator.probes import rest
from orchestrator.redact import Redactor

from tests.probes.conftest import file_listing


def test_probe_tells_append_only_from_deletable_and_changes_nothing(rest_server, make_remote_repository, tmp_path):
    root = tmp_path / "rest-root"
    root.mkdir()
    append_only = rest_server(root, append_only=True)
    repository = make_remote_repository(f"rest:http://127.0.0.1:{append_only.port}/web/")
    deletable = rest_server(root, append_only=False)
    before = file_listing(root)
    assert any(name.startswith("web/keys/") for name in before)

    guarded = rest.probe(repository.url, 10, Redactor())
    open_ = rest.probe(f"rest:http://127.0.0.1:{deletable.port}/web/", 10, Redactor())

    assert (guarded.verdict, guarded.protection) == (PROTECTED, "append-only")
    assert guarded.raw["delete"]["status"] == 403
    assert guarded.raw["listing"] == {"request": f"GET http://127.0.0.1:{append_only.port}/web/keys/",
                                      "status": 200, "error": None, "keys": 1}
    assert (open_.verdict, open_.protection) == (UNPROTECTED, None)
    assert open_.raw["delete"]["status"] == 404
    for result in (guarded, open_):
        assert result.raw["delete"]["request"].split(" ")[1].rsplit("/", 2)[-2] == "keys"
        assert "/config" not in json.dumps(result.raw) and "/locks" not in json.dumps(result.raw)
    assert file_listing(root) == before


def test_credentials_in_the_url_are_used_and_never_returned(rest_server, make_remote_repository, tmp_path):
    root = tmp_path / "rest-root"
    root.mkdir()
    server = rest_server(root, append_only=True, user="backup", password="s3cr3t-pass-word")
    url = f"rest:http://backup:s3cr3t-pass-word@127.0.0.1:{server.port}/web/"
    make_remote_repository(url)
    redactor = Redactor()
    redactor.add_url_credentials(url)

    result = rest.probe(url, 10, redactor)
    refused = rest.probe(f"rest:http://backup:wrong-password@127.0.0.1:{server.port}/web/", 10, Redactor())

    assert result.verdict == PROTECTED
    assert "s3cr3t-pass-word" not in json.dumps(result.raw) + result.summary
    assert refused.verdict == INCONCLUSIVE and "401" in refused.summary
    assert "delete" not in refused.raw  # no DELETE is sent when the listing fails


def test_a_path_that_is_no_repository_is_inconclusive_not_protected(rest_server, tmp_path: Path):
    root = tmp_path / "rest-root"
    root.mkdir()
    server = rest_server(root, append_only=True)

    result = rest.probe(f"rest:http://127.0.0.1:{server.port}/nothing-here/", 10, Redactor())
    unreachable = rest.probe("rest:http://127.0.0.1:9/web/", 2, Redactor())

    # rclone answers 403 to any DELETE in append-only mode, even where no repository is: listing first matters.
    assert result.verdict == INCONCLUSIVE
    assert unreachable.verdict == INCONCLUSIVE and "did not answer" in unreachable.summary

"""TarRewriter on real tar streams built in memory and read back with tarfile."""

from __future__ import annotations

import io
import tarfile

import pytest

from orchestrator.tarstream import QuotaExceeded, StreamStats, StreamTruncated, TarRewriter, safe_name

UID, GID = 65534, 65533
CONTENT = b"restored content\n" * 100
ABSOLUTE_CONTENT = b"absolute"


def member(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, linkname: str = "",
           size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname, info.size = kind, mode, linkname, size
    info.uid, info.gid, info.uname, info.gname = 0, 0, "root", "root"
    return info


def build_tar(entries: list[tuple[tarfile.TarInfo, bytes]], tar_format: int = tarfile.GNU_FORMAT) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as archive:
        for info, content in entries:
            archive.addfile(info, io.BytesIO(content) if content else None)
    buffer.seek(0)
    return buffer


def snapshot_tar() -> io.BytesIO:
    device = member("srv/null", tarfile.CHRTYPE, 0o666)
    device.devmajor, device.devminor = 1, 3
    return build_tar([
        (member("srv", tarfile.DIRTYPE, 0o000), b""),
        (member("srv/data.txt", mode=0o200, size=len(CONTENT)), CONTENT),
        (member("srv/link", tarfile.SYMTYPE, 0o777, linkname="data.txt"), b""),
        (member("srv/hard", tarfile.LNKTYPE, linkname="srv/data.txt"), b""),
        (device, b""),
        (member("../escape", size=4), b"evil"),
        (member("srv/hard-out", tarfile.LNKTYPE, linkname="../outside"), b""),
        (member("/abs/path", mode=0o000, size=len(ABSOLUTE_CONTENT)), ABSOLUTE_CONTENT),
    ])


def rewrite(stream: io.BytesIO, quota: int = 1 << 30) -> tuple[dict[str, tarfile.TarInfo], dict[str, bytes], StreamStats]:
    """Given a tar stream, rewrite it and return the output's members and file contents by name, and the stats."""
    rewriter = TarRewriter(uid=UID, gid=GID, quota=quota)
    output = b"".join([*rewriter.from_tar(stream), *rewriter.end()])
    members, contents = {}, {}
    with tarfile.open(fileobj=io.BytesIO(output), mode="r:") as archive:
        for info in archive:
            members[info.name] = info
            if info.isreg():
                contents[info.name] = archive.extractfile(info).read()  # type: ignore[union-attr]
    return members, contents, rewriter.stats


def test_safe_members_come_through_in_order() -> None:
    members, _, _ = rewrite(snapshot_tar())

    assert list(members) == ["srv", "srv/data.txt", "srv/link", "srv/hard", "abs/path"]


def test_ownership_is_the_sandbox_user() -> None:
    members, _, _ = rewrite(snapshot_tar())

    assert {(info.uid, info.gid, info.uname, info.gname) for info in members.values()} == {(UID, GID, "", "")}


def test_owner_can_read_files_and_write_into_folders() -> None:
    members, _, _ = rewrite(snapshot_tar())

    assert members["srv"].mode == 0o700
    assert members["srv/data.txt"].mode == 0o600
    assert members["abs/path"].mode == 0o400


def test_links_keep_their_targets() -> None:
    members, _, _ = rewrite(snapshot_tar())

    assert (members["srv/link"].issym(), members["srv/link"].linkname) == (True, "data.txt")
    assert (members["srv/hard"].islnk(), members["srv/hard"].linkname) == (True, "srv/data.txt")


def test_content_is_byte_identical() -> None:
    _, contents, _ = rewrite(snapshot_tar())

    assert contents == {"srv/data.txt": CONTENT, "abs/path": ABSOLUTE_CONTENT}


def test_stats_count_what_was_written_and_skipped() -> None:
    _, _, stats = rewrite(snapshot_tar())

    assert (stats.files, stats.directories, stats.symlinks) == (3, 1, 1)
    assert stats.bytes == len(CONTENT) + len(ABSOLUTE_CONTENT)
    assert stats.special_skipped == 1
    assert stats.unsafe_skipped == ["../escape", "srv/hard-out"]


def test_pax_records_cannot_bring_back_the_original_name_or_owner() -> None:
    long_name = "/abs/" + "d" * 120 + "/file.txt"
    info = member(long_name, size=3)
    info.uid, info.uname = 3_000_000, "u" * 40

    members, _, _ = rewrite(build_tar([(info, b"abc")], tarfile.PAX_FORMAT))

    [(name, output)] = members.items()
    assert name == long_name.lstrip("/")
    assert (output.uid, output.uname) == (UID, "")


def test_more_data_than_the_quota_is_refused() -> None:
    with pytest.raises(QuotaExceeded):
        rewrite(snapshot_tar(), quota=len(CONTENT) - 1)


def test_data_exactly_at_the_quota_passes() -> None:
    _, _, stats = rewrite(snapshot_tar(), quota=len(CONTENT) + len(ABSOLUTE_CONTENT))

    assert stats.bytes == len(CONTENT) + len(ABSOLUTE_CONTENT)


def test_single_file_becomes_one_tar_member() -> None:
    rewriter = TarRewriter(uid=UID, gid=GID, quota=1 << 20)

    output = b"".join([*rewriter.from_file("/srv/db/data.sqlite", 5, 0o100600, io.BytesIO(b"12345")), *rewriter.end()])

    with tarfile.open(fileobj=io.BytesIO(output), mode="r:") as archive:
        [info] = archive.getmembers()
        assert (info.name, info.mode, info.uid, info.size) == ("srv/db/data.sqlite", 0o600, UID, 5)
        assert archive.extractfile(info).read() == b"12345"  # type: ignore[union-attr]


@pytest.mark.parametrize("content", [b"1234", b"123456"])
def test_single_file_of_the_wrong_length_is_truncated(content: bytes) -> None:
    rewriter = TarRewriter(uid=UID, gid=GID, quota=1 << 20)

    with pytest.raises(StreamTruncated, match="srv/db/data.sqlite"):
        list(rewriter.from_file("/srv/db/data.sqlite", 5, 0o100600, io.BytesIO(content)))


@pytest.mark.parametrize(
    ("name", "safe"),
    [("srv/a", "srv/a"), ("/srv/a", "srv/a"), ("./srv//a/", "srv/a"), ("../a", None), ("srv/../../a", None),
     ("/", None)],
)
def test_safe_name(name: str, safe: str | None) -> None:
    assert safe_name(name) == safe


def test_sizes_of_8_gib_and_more_are_written_in_base_256_for_busybox() -> None:
    member = tarfile.TarInfo("disk.img")
    member.size = 9 * 1024**3
    rewriter = TarRewriter(uid=65534, gid=65534, quota=0)

    header = next(rewriter._member(member, "disk.img", None))

    assert header[124] == 0x80  # base-256 marker in the size field, not a PAX record
    assert tarfile.TarInfo.frombuf(header[:512], "utf-8", "surrogateescape").size == 9 * 1024**3

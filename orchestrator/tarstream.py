"""Turn what `restic dump` streams into one safe tar stream for the sandbox, without touching the host disk.

Restored data is untrusted. On its way into the sandbox every entry is owned by the sandbox user,
made readable by it, and names that would escape the restore directory are dropped; device nodes
and FIFOs are not recreated (they are counted, and the tree check accounts for them).
"""

from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

BLOCK = tarfile.BLOCKSIZE
CHUNK = 1 << 20
_SPECIAL_TYPES = (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE)
# PAX records take priority over the header fields when the tar is read, so the ones holding a
# rewritten field must go, or the original name and owner would come back on extraction.
_REWRITTEN_PAX_RECORDS = {"path", "linkpath", "uid", "gid", "uname", "gname"}


class QuotaExceeded(Exception):
    """More data arrived than the restore quota allows."""


class StreamTruncated(Exception):
    """A file's content ended before (or went on after) the size the snapshot lists for it."""


@dataclass
class StreamStats:
    files: int = 0
    directories: int = 0
    symlinks: int = 0
    bytes: int = 0
    special_skipped: int = 0
    unsafe_skipped: list[str] = field(default_factory=list)


@dataclass
class TarRewriter:
    """Re-emits tar members (or raw file streams) as one tar stream owned by `uid:gid`, within `quota` bytes."""

    uid: int
    gid: int
    quota: int
    progress: Callable[[StreamStats], None] | None = None
    stats: StreamStats = field(default_factory=StreamStats)
    _last_progress: int = 0

    def from_tar(self, stream: IO[bytes]) -> Iterator[bytes]:
        """Given a tar stream (restic dump --archive tar), yield the rewritten members (no end marker)."""
        with tarfile.open(fileobj=stream, mode="r|", errorlevel=2) as archive:
            for member in archive:
                if member.type in _SPECIAL_TYPES:
                    self.stats.special_skipped += 1
                    continue
                name = safe_name(member.name)
                if name is None or (member.islnk() and safe_name(member.linkname) is None):
                    self.stats.unsafe_skipped.append(member.name)
                    continue
                content = archive.extractfile(member) if member.isreg() else None
                yield from self._member(member, name, content)

    def from_file(self, path: str, size: int, mode: int, stream: IO[bytes]) -> Iterator[bytes]:
        """Given a raw file stream of known size (restic dump of one file), yield it as a tar member."""
        name = safe_name(path)
        if name is None:
            self.stats.unsafe_skipped.append(path)
            return
        member = tarfile.TarInfo(name)
        member.size = size
        member.mode = mode & 0o7777
        yield from self._member(member, name, stream)
        if stream.read(1):
            raise StreamTruncated(f"{path}: more data than the {size} bytes the snapshot lists")

    def end(self) -> Iterator[bytes]:
        yield b"\0" * (2 * BLOCK)

    def _member(self, member: tarfile.TarInfo, name: str, content: IO[bytes] | None) -> Iterator[bytes]:
        member = member.replace(name=name, uid=self.uid, gid=self.gid, uname="", gname="", deep=False)
        member.pax_headers = {key: value for key, value in member.pax_headers.items()
                              if key not in _REWRITTEN_PAX_RECORDS}
        if member.islnk():
            member.linkname = safe_name(member.linkname) or ""
        # The sandbox user unpacks: it must be able to write into every folder (0555 ones included).
        member.mode |= 0o700 if member.isdir() else 0o400
        self._count(member)
        # GNU headers: sizes of 8 GiB and more in base-256 and long names in 'L' records, both of
        # which busybox tar reads (it ignores a PAX `size` record and would read 0 bytes).
        yield member.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
        if member.isreg() and member.size:
            assert content is not None
            yield from self._content(member, content)

    def _content(self, member: tarfile.TarInfo, content: IO[bytes]) -> Iterator[bytes]:
        remaining = member.size
        while remaining:
            chunk = content.read(min(CHUNK, remaining))
            if not chunk:
                raise StreamTruncated(f"{member.name}: stream ended {remaining} bytes early")
            remaining -= len(chunk)
            self._add_bytes(len(chunk))
            yield chunk
        padding = -member.size % BLOCK
        if padding:
            yield b"\0" * padding

    def _count(self, member: tarfile.TarInfo) -> None:
        if member.isdir():
            self.stats.directories += 1
        elif member.issym():
            self.stats.symlinks += 1
        else:
            self.stats.files += 1

    def _add_bytes(self, count: int) -> None:
        self.stats.bytes += count
        if self.stats.bytes > self.quota:
            raise QuotaExceeded(f"restored data passed the quota of {self.quota} bytes")
        if self.progress and self.stats.bytes - self._last_progress >= 16 * CHUNK:
            self._last_progress = self.stats.bytes
            self.progress(self.stats)


def safe_name(name: str) -> str | None:
    """Given a tar member name, return it relative and normalised, or None if it would escape the root."""
    if ".." in name.split("/"):
        return None
    return posixpath.normpath("/" + name).lstrip("/") or None

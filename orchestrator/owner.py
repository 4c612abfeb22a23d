"""Who owns a run or a sandbox: host, process id and the process's start time, so a reused pid is not
mistaken for the owner after a crash or a reboot."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def current_owner() -> str:
    """Return 'host:pid:start' for this process."""
    return owner_of(os.getpid())


def owner_of(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def is_abandoned(owner: str) -> bool:
    """Given an owner string, return True if it names a process on this host that no longer runs.

    Owners on other hosts are never considered abandoned: only they can tell.
    """
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    return _start_time(int(pid_text)) != start or start == ""


def _start_time(pid: int) -> str:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    return fields[19]

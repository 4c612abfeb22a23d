"""Paths or globs that must exist in the restored data, with an optional minimum size or count."""

from __future__ import annotations

import re
from functools import lru_cache

from orchestrator.checks import FAILED, PASSED, CheckContext, CheckOutcome, RestoredEntry
from orchestrator.config.schema import ExpectCheck, ExpectedPath

NAME = "expect"


def check(config: ExpectCheck, context: CheckContext) -> CheckOutcome:
    restored, _ = context.restored_tree()
    problems, found = [], {}
    roots = list(context.snapshot.paths) if context.snapshot else ["/"]
    for expected in config.paths:
        matches = matching(restored, expected.path, roots)
        found[expected.path] = len(matches)
        problems += _problems(expected, matches)
    data = {"patterns": len(config.paths), "matches": found}
    if problems:
        return CheckOutcome(NAME, FAILED, "; ".join(problems), data)
    return CheckOutcome(NAME, PASSED, f"all {len(config.paths)} expected path(s) present", data)


def matching(restored: dict[str, RestoredEntry], pattern: str, roots: list[str]) -> dict[str, RestoredEntry]:
    """Given the restored tree, a pattern and the snapshot's backed-up paths, return the entries it names.

    An absolute pattern is matched against the full snapshot path; a relative one is relative to
    each backed-up path (`www/index.html` with paths [/srv] is /srv/www/index.html), so a copy of
    the file somewhere else never stands in for it. As in a shell, `*` and `?` stay within one
    folder; `**` crosses folders.
    """
    patterns = [pattern] if pattern.startswith("/") else [root.rstrip("/") + "/" + pattern for root in roots]
    expressions = [glob_expression(candidate) for candidate in patterns]
    return {path: entry for path, entry in restored.items()
            if any(expression.match(path) for expression in expressions)}


@lru_cache(maxsize=256)
def glob_expression(pattern: str) -> re.Pattern[str]:
    """Given a glob, return a regular expression for whole snapshot paths (see `matching`)."""
    parts, index = [], 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 2:]:
            end = pattern.index("]", index + 2)
            body = pattern[index + 1:end]
            parts.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            index = end + 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    prefix = "" if pattern.startswith("/") else "(?:.*/)?"
    return re.compile("^" + prefix + "".join(parts) + "$")


def _problems(expected: ExpectedPath, matches: dict[str, RestoredEntry]) -> list[str]:
    if not matches:
        return [f"missing: {expected.path}"]
    problems = []
    if expected.min_size is not None:
        # A symlink or a folder named like the file must not stand in for it.
        not_files = sorted(path for path, entry in matches.items() if entry.type != "file")
        if not_files:
            problems.append(f"{expected.path}: not a regular file: {', '.join(not_files[:5])}")
    if expected.min_count is not None and len(matches) < expected.min_count:
        problems.append(f"{expected.path}: {len(matches)} match(es), expected at least {expected.min_count}")
    if expected.min_size is not None:
        small = sorted(path for path, entry in matches.items() if entry.type == "file" and entry.size < expected.min_size)
        if small:
            problems.append(f"{expected.path}: smaller than {expected.min_size} bytes: {', '.join(small[:5])}")
    return problems

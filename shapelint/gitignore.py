"""Which paths git ignores (``.gitignore``, ``.git/info/exclude``, the global excludes file), asked
of git itself: one ``git ls-files`` per repository, so the rules are git's own, nested
``.gitignore`` files, negations and all.  Outside a git work tree (or without git) nothing is
ignored, as git itself ignores nothing there; files git tracks are never ignored."""

from __future__ import annotations

import os
import shutil
import subprocess


class GitIgnore:
    def __init__(self):
        self._git = shutil.which("git")
        self._tops: dict = {}  # directory -> work tree top (or None)
        self._ignored: dict = {}  # work tree top -> set of ignored paths relative to it ('dir/' for directories)

    def ignored(self, path: str, directory: bool = False) -> bool:
        if self._git is None:
            return False
        full = os.path.abspath(path)
        top = self._top(full if directory else os.path.dirname(full))
        if top is None:
            return False
        ignored = self._ignored_in(top)
        if not ignored:
            return False
        relative = os.path.relpath(full, top).replace(os.sep, "/")
        if relative == ".":
            return False
        if (relative + "/" if directory else relative) in ignored:
            return True
        parts = relative.split("/")
        return any("/".join(parts[:i]) + "/" in ignored for i in range(1, len(parts)))

    def _top(self, directory: str) -> str | None:
        seen = []
        current = directory
        while current not in self._tops:
            seen.append(current)
            if os.path.exists(os.path.join(current, ".git")):
                self._tops[current] = current
                break
            parent = os.path.dirname(current)
            if parent == current:
                self._tops[current] = None
                break
            current = parent
        top = self._tops[current]
        for directory_seen in seen:
            self._tops[directory_seen] = top
        return top

    def _ignored_in(self, top: str) -> set:
        if top not in self._ignored:
            try:
                listing = subprocess.run(
                    [self._git, "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
                    cwd=top, capture_output=True, timeout=60, check=True).stdout
                self._ignored[top] = {os.fsdecode(p) for p in listing.split(b"\0") if p}
            except (OSError, subprocess.SubprocessError):
                self._ignored[top] = set()
        return self._ignored[top]

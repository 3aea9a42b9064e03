"""Imports to files, without importing anything.

A module name is looked up the way Python's path finder would, in a fixed list of directories:
the importing script's directory, the project root (the nearest directory above with
``pyproject.toml``, ``setup.cfg``, ``setup.py`` or ``.git``) and its ``src/``, then the
site-packages of the running Python or of a configured environment (``--python PATH``).  Only
``.py`` sources count: a compiled extension, a stub or a missing module is simply not found.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

import libcst as cst

from shapelint.parse import dotted_name, names_bound

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")


def find_root(path: Path) -> Path:
    """The project root above ``path``: the nearest directory holding a marker, else ``path``'s
    own directory."""
    start = path if path.is_dir() else path.parent
    for directory in [start] + list(start.parents):
        if any((directory / marker).exists() for marker in ROOT_MARKERS):
            return directory
    return start


def module_name_of(path: Path) -> tuple[str, bool]:
    """(dotted name, is a package) of a source file, from the ``__init__.py`` files above it."""
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts), is_package


def top_directory(path: Path) -> Path:
    """The directory a file's top-level package sits in: what must be on the path to import it."""
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    return directory


@lru_cache(maxsize=8)
def site_packages(python: str | None = None) -> tuple[Path, ...]:
    """Where an environment's packages live: the running Python's, or the environment whose
    interpreter is ``python`` (found from its layout, never by running it)."""
    if python is None:
        import sysconfig

        found = [sysconfig.get_paths().get(key) for key in ("purelib", "platlib")]
        try:
            import site

            found += site.getsitepackages() + [site.getusersitepackages()]
        except (AttributeError, OSError):
            pass
        found += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    else:
        prefix = Path(python)
        prefix = prefix.parent.parent if prefix.is_file() or not prefix.exists() else prefix
        found = [str(p) for p in sorted(prefix.glob("lib/python3*/site-packages"))]
        found += [str(p) for p in sorted(prefix.glob("lib64/python3*/site-packages"))]
        found += [str(prefix / "Lib" / "site-packages")]
    seen, paths = set(), []
    for entry in found:
        if entry and entry not in seen and os.path.isdir(entry):
            seen.add(entry)
            paths.append(Path(entry))
    return tuple(paths)


class Resolver:
    """Module names to source files in an ordered list of directories; cached per name."""

    def __init__(self, search: list[Path]):
        self.search = []
        for directory in search:
            if directory not in self.search:
                self.search.append(directory)
        self._files: dict[str, Path | None] = {}

    def module_file(self, name: str) -> Path | None:
        """The ``.py`` file of module ``name`` (a package's ``__init__.py``), or None."""
        if name in self._files:
            return self._files[name]
        found = None
        parts = name.split(".")
        if all(p.isidentifier() for p in parts):
            if len(parts) > 1:
                parent = self.module_file(".".join(parts[:-1]))
                bases = [parent.parent] if parent is not None and parent.name == "__init__.py" else \
                    ([] if parent is not None else [d / Path(*parts[:-1]) for d in self.search])
            else:
                bases = list(self.search)
            for base in bases:
                leaf = base / parts[-1]
                for candidate in (leaf / "__init__.py", leaf.with_name(parts[-1] + ".py")):
                    if candidate.is_file():
                        found = candidate
                        break
                if found is not None:
                    break
        self._files[name] = found
        return found

    def split(self, qualname: str) -> tuple[str, Path, list] | None:
        """The longest module prefix of ``qualname`` that has a source file, the file, and the
        attribute names after it; None when no prefix is a module here."""
        parts = qualname.split(".")
        for end in range(len(parts), 0, -1):
            name = ".".join(parts[:end])
            path = self.module_file(name)
            if path is not None:
                return name, path, parts[end:]
        return None


def absolute_module(package: str, level: int, module: str | None) -> str | None:
    """``from ..a import b`` inside ``package``: the absolute name of ``..a``; None when the dots
    climb above the top package."""
    parts = package.split(".") if package else []
    if level - 1 > len(parts) or (level and not parts):
        return None
    base = parts[:len(parts) - (level - 1)] if level > 1 else parts
    if module:
        base = base + module.split(".")
    return ".".join(base) or None


def relative_bindings(node: cst.ImportFrom, package: str) -> list[tuple[str, str]]:
    """(local name, absolute qualified name) pairs of ``from .x import y`` in ``package``."""
    level = len(node.relative)
    if not level or isinstance(node.names, cst.ImportStar):
        return []
    module = dotted_name(node.module) if node.module is not None else None
    if node.module is not None and module is None:
        return []
    base = absolute_module(package, level, module)
    if base is None:
        return []
    return names_bound(node.names, base)


__all__ = ["Resolver", "find_root", "module_name_of", "top_directory", "site_packages", "absolute_module",
           "relative_bindings"]

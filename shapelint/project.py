"""Projects of many modules: imported classes, functions and constants as if defined locally.

A ``Project`` lives for one run (one process): it parses each module it is asked for once and
remembers which files each linted file depended on.  An ``Importer`` belongs to one interpreter:
when the interpreter meets a name bound by an import (a ``ModuleRef``), the importer finds the
module's source (``shapelint.resolve``), runs its top level in the same interpreter under its
own globals (once), and hands back the value the name has there.  Whatever cannot be found, is
compiled, is a framework the frontends model (torch, TensorFlow, Keras), or would exceed the
bounds below stays the ``ModuleRef`` it was, which the frontends treat as before: unknown.
"""

from __future__ import annotations

import hashlib
import os
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import libcst as cst

from shapelint.parse import ParseFailure, Positions, import_bindings, parse_source
from shapelint.resolve import Resolver, find_root, module_name_of, relative_bindings, site_packages, top_directory

# Modelled by the frontends, never followed; inside them only the Keras applications are read
# as source (``resnet_v2`` builds on ``resnet.ResNet``), apart from the helpers a frontend models
# itself.  ``obtain_input_shape`` stays unknown: an input size given by configuration then takes
# its place, as the frontend expects of an input shape computed in another module.
MODELLED_ROOTS = frozenset({"torch", "tensorflow", "keras", "tf_keras", "numpy", "jax", "flax"})
FOLLOWED_INSIDE = ("keras.src.applications.", "tf_keras.src.applications.", "keras.applications.",
                   "tf_keras.applications.", "tensorflow.keras.applications.")
MODELLED_NAMES = (".imagenet_utils.correct_pad", ".imagenet_utils.obtain_input_shape")
# Large packages that define no models: not worth parsing; and torchvision's datasets and
# transforms, which the data frontend models (their source would make the data unknown).
NOT_FOLLOWED = frozenset({"matplotlib", "pandas", "scipy", "sklearn", "PIL", "cv2", "tqdm", "requests",
                          "IPython", "seaborn", "yaml", "h5py", "six", "setuptools", "pkg_resources",
                          "typing_extensions", "pytest", "transformers", "huggingface_hub", "safetensors",
                          "onnx", "onnxruntime", "wandb", "tensorboard", "torchvision.io", "torchvision.datasets",
                          "torchvision.transforms"})
# Library functions read as a shorter equivalent source: what they do to the model, without the
# weight loading and configuration plumbing around it (run by the same interpreter, like any module).
SHIMS = {
    "timm.models._builder.build_model_with_cfg": """
def build_model_with_cfg(model_cls, variant, pretrained, pretrained_cfg=None, pretrained_cfg_overlay=None,
                         model_cfg=None, feature_cfg=None, pretrained_strict=True, pretrained_filter_fn=None,
                         cache_dir=None, kwargs_filter=None, pretrained_model_args=None, **kwargs):
    if kwargs.get("features_only", False):
        return features_only_model_is_not_modelled
    if model_cfg is None:
        return model_cls(**kwargs)
    return model_cls(cfg=model_cfg, **kwargs)
""",
}
MAX_MODULES = 64  # foreign modules one interpreter may load
MAX_NESTING = 12  # modules loading modules
MAX_MODULE_BYTES = 1024 * 1024


def followable(qualname: str) -> bool:
    root = qualname.split(".", 1)[0]
    if root in MODELLED_ROOTS:
        return (qualname + ".").startswith(FOLLOWED_INSIDE) and not qualname.endswith(MODELLED_NAMES)
    if root in sys.stdlib_module_names or root in NOT_FOLLOWED or root.startswith("_"):
        return False
    return not any(qualname == name or qualname.startswith(name + ".") for name in NOT_FOLLOWED)


class SourceModule:
    """One parsed module of the project (or of an installed package)."""

    def __init__(self, name: str, path: Path, module: cst.Module, digest: str):
        self.name = name
        self.path = path
        self.module = module
        self.digest = digest
        self.package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        self._positions = None

    @property
    def positions(self) -> Positions:
        if self._positions is None:
            self._positions = Positions(self.module)
        return self._positions


class Project:
    """What one run knows about the modules it follows: parsed once, found by path."""

    def __init__(self, run_files=(), python: str | None = None):
        self.run_files = {os.path.abspath(p) for p in run_files}
        self.python = python
        self.overlays: dict[str, str] = {}  # absolute path -> unsaved editor text
        self._parsed: dict[str, tuple] = {}  # absolute path -> (stamp, SourceModule | None)
        self._resolvers: dict[tuple, Resolver] = {}
        self._shims: dict[str, cst.Module] = {}

    def resolver_for(self, path: Path | None) -> Resolver:
        here = Path(path).resolve().parent if path is not None else Path.cwd()
        extra = os.environ.get("PYTHONPATH", "")
        key = (str(here), extra)
        resolver = self._resolvers.get(key)
        if resolver is None:
            root = find_root(here)
            search = [top_directory(here / "x.py"), here, root]
            if (root / "src").is_dir():
                search.append(root / "src")
            # what ``PYTHONPATH=... python script.py`` would import from, as Python does
            search.extend(Path(entry) for entry in extra.split(os.pathsep) if entry and os.path.isdir(entry))
            search.extend(site_packages(self.python))
            if self.python is not None:
                search.extend(site_packages(None))
            resolver = self._resolvers[key] = Resolver(search)
        return resolver

    def source(self, name: str, path: Path) -> SourceModule | None:
        """The parsed module at ``path``; None when it cannot be read, is too large or does not parse."""
        key = os.path.abspath(path)
        overlay = self.overlays.get(key)
        try:
            stat = os.stat(key)
            stamp = ("overlay", hash(overlay)) if overlay is not None else (stat.st_mtime_ns, stat.st_size)
        except OSError:
            return None
        cached = self._parsed.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        found = None
        if overlay is not None or stat.st_size <= MAX_MODULE_BYTES:
            try:
                data = overlay.encode("utf-8", "surrogatepass") if overlay is not None else Path(key).read_bytes()
            except OSError:
                data = None
            if data is not None:
                module = parse_source(data)
                if not isinstance(module, ParseFailure):
                    found = SourceModule(name, Path(key), module, hashlib.sha256(data).hexdigest())
        self._parsed[key] = (stamp, found)
        return found

    def parsed(self, path: str, data: bytes) -> cst.Module | None:
        """The tree of ``path`` if it was parsed whole already from these very bytes."""
        cached = self._parsed.get(os.path.abspath(path))
        if cached is None or cached[1] is None:
            return None
        return cached[1].module if cached[1].digest == hashlib.sha256(data).hexdigest() else None

    def remember(self, path: str, data: bytes, module: cst.Module) -> None:
        """A file parsed whole for its own analysis, for the files of the run that import it."""
        key = os.path.abspath(path)
        try:
            stat = os.stat(key)
        except OSError:
            return
        if key in self.overlays or key in self._parsed:
            return
        name, _ = module_name_of(Path(key))
        self._parsed[key] = ((stat.st_mtime_ns, stat.st_size),
                             SourceModule(name, Path(key), module, hashlib.sha256(data).hexdigest()))

    def importer(self, interp, path: str | None) -> "Importer":
        file = Path(path) if path and os.path.isfile(path) else None
        if file is not None:
            name, is_package = module_name_of(file.resolve())
            package = name if is_package else name.rpartition(".")[0]
        else:
            name, package = "__main__", ""
        return Importer(self, interp, self.resolver_for(file), package, file)

    def shim_module(self, qual: str) -> cst.Module:
        module = self._shims.get(qual)
        if module is None:
            module = self._shims[qual] = cst.parse_module(SHIMS[qual])
        return module

    def in_run(self, path) -> bool:
        return os.path.abspath(path) in self.run_files


class FileContext:
    """The file being analysed, and the importers its frontends' interpreters made."""

    def __init__(self, project: Project, path: str | None):
        self.project = project
        self.path = path
        self.importers: list[Importer] = []

    @property
    def dependencies(self) -> dict[str, str]:
        found = {}
        for importer in self.importers:
            found.update(importer.dependencies)
        return found

    def is_foreign(self, node) -> bool:
        """Whether ``node`` is a call in another module's code that the analysis ran (cheap: no positions)."""
        return any(id(node) in importer.interp.foreign_calls for importer in self.importers)

    def locate(self, node) -> tuple | None:
        """(path, span) of a node of a module this file's analysis read, or None."""
        for importer in self.importers:
            for source in importer.sources:
                span = source.positions.find(node)
                if span is not None:
                    return source.path, span
        return None


_DEFAULT: dict = {}


def default_project(python: str | None = None) -> Project:
    """The project of calls that name none: one per process and Python, no files in the run."""
    project = _DEFAULT.get(python)
    if project is None:
        project = _DEFAULT[python] = Project(python=python)
    return project


_ACTIVE: ContextVar = ContextVar("shapelint_analysed_file", default=None)


@contextmanager
def analysing(project: Project | None, path: str | None):
    """While a file is analysed, interpreters created for it follow its imports."""
    context = FileContext(project, path) if project is not None else None
    token = _ACTIVE.set(context)
    try:
        yield context
    finally:
        _ACTIVE.reset(token)


def importer_for(interp) -> "Importer | None":
    """The importer of an interpreter created while a file is analysed; None outside ``analysing``."""
    context = _ACTIVE.get()
    if context is None:
        return None
    importer = context.project.importer(interp, context.path)
    context.importers.append(importer)
    return importer


class Importer:
    """Import bindings of one interpreter, resolved to values on first use."""

    def __init__(self, project: Project, interp, resolver: Resolver, package: str, path: Path | None):
        self.project = project
        self.interp = interp
        self.resolver = resolver
        self.package = package
        self.path = path
        self.modules: dict[str, dict | None] = {}  # name -> globals (None: could not be loaded)
        self.sources: list[SourceModule] = []  # loaded, in load order
        self.values: dict[str, object] = {}
        self.nesting = 0

    @property
    def dependencies(self) -> dict[str, str]:
        """Absolute path -> content digest of every module this interpreter read."""
        return {str(s.path): s.digest for s in self.sources}

    def bindings(self, small, package: str | None = None) -> list[tuple[str, str]]:
        """(local name, qualified name) pairs an import statement binds, relative imports made absolute."""
        if isinstance(small, cst.ImportFrom) and small.relative:
            return relative_bindings(small, self.package if package is None else package)
        return import_bindings(small)

    def resolve(self, ref):
        """The value ``ref`` names in its module's source, or ``ref`` itself when that is unknown."""
        qual = ref.qualname
        if qual in self.values:
            return self.values[qual]
        value = ref
        if followable(qual):
            self.values[qual] = ref  # a cycle sees the reference, not itself
            value = self._find(qual, ref)
        self.values[qual] = value
        return value

    def _find(self, qual: str, ref):
        reference = type(ref)  # the interpreter's ModuleRef
        for alias in (qual, qual.replace("timm.models.", "timm.models._builder.", 1)):
            if alias in SHIMS:
                return self.shim(alias, ref)
        found = self.resolver.split(qual)
        if found is None:
            return ref
        name, path, rest = found
        if not rest:
            return ref  # a module: its attributes are resolved when read
        scope = self.load(name, path)
        if scope is None or rest[0] not in scope:
            return ref
        value = scope[rest[0]]
        for attr in rest[1:]:
            if isinstance(value, reference):
                value = self.resolve(value)
            value = self.interp.get_attr(value, attr)
        if isinstance(value, reference) and value.qualname != qual:
            value = self.resolve(value)
        return value

    def shim(self, qual: str, ref):
        module = self.project.shim_module(qual)
        scope = {"__name__": qual.rpartition(".")[0], "__package__": ""}
        self.interp.run_foreign(module, scope)
        return scope.get(qual.rpartition(".")[2], ref)

    def load(self, name: str, path: Path) -> dict | None:
        if name in self.modules:
            return self.modules[name]
        if len(self.modules) >= MAX_MODULES or self.nesting >= MAX_NESTING \
                or (self.path is not None and os.path.abspath(path) == os.path.abspath(self.path)):
            return None
        source = self.project.source(name, path)
        if source is None:
            self.modules[name] = None
            return None
        scope = {"__name__": name, "__package__": source.package}
        self.modules[name] = scope  # visible while it runs: an import cycle sees what is defined so far
        self.sources.append(source)
        self.nesting += 1
        try:
            self.interp.run_foreign(source.module, scope)
        finally:
            self.nesting -= 1
        return scope


__all__ = ["Project", "Importer", "SourceModule", "FileContext", "analysing", "default_project", "importer_for", "followable"]

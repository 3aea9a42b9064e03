"""Installs the doubles in any Python started with this directory on ``PYTHONPATH`` (the runtime
ground-truth probes, ``--confirm`` and ``shapes --trace`` children in the tests): after ``keras``
is imported its datasets load without downloading and its fits are short; after
``torch.utils.data`` is imported a DataLoader yields its first two batches and its last one."""
import importlib.abc
import sys


def _keras(module):
    import keras_data
    from runtime_caps import cap_keras

    keras_data.install(module)
    cap_keras(module)


def _torch_data(module):
    from runtime_caps import cap_torch

    cap_torch()


AFTER_IMPORT = {"keras": _keras, "torch.utils.data": _torch_data}


class _AfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in AFTER_IMPORT:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module):
            original(module)
            AFTER_IMPORT[name](module)

        loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _AfterImport())

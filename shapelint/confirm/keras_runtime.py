"""Runs Keras models for ``--confirm`` and ``shapes --trace``: symbolically, on ``keras.Input``
tensors, so no weights are computed on data.  Imported only inside the child process.

Layers are attributed to lines the way shapelint reports them: the line of the file that calls
the layer, or, when Keras itself calls it (a ``Sequential`` stack), the line that constructed
it.  A failure is placed at the innermost Keras layer in flight with such a line, else at the
innermost frame of the file in the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback

from shapelint.confirm.outcome import error_text
from shapelint.confirm.runner import TARGET_MODULE, Loaded, Runner, add_top_call, find_top_call, import_module


class KerasObserver:
    def __init__(self):
        import warnings

        warnings.simplefilter("ignore")
        import keras

        self.keras = keras
        self.keras_dir = os.path.dirname(keras.__file__) + os.sep
        self.file = None
        self.observed: list = []
        self.stack: list = []  # (layer, line) of the layer calls in flight
        self.failed_at = None  # (exception id, line) of the innermost layer a failure went through
        self.top_calls: dict = {}
        layer_cls = keras.layers.Layer
        original_init, original_call = layer_cls.__init__, layer_cls.__call__
        observer = self

        def init(layer, *args, **kwargs):
            original_init(layer, *args, **kwargs)
            if observer.file is not None and "_probe_line" not in layer.__dict__:
                object.__setattr__(layer, "_probe_line", observer.file_line(sys._getframe(1)))

        def call(layer, *args, **kwargs):
            if observer.file is None:
                return original_call(layer, *args, **kwargs)
            caller = sys._getframe(1)
            line = observer.call_line(layer, caller)
            top = None
            cls = type(layer)
            if cls.__module__ == TARGET_MODULE and caller.f_code.co_filename == observer.file \
                    and caller.f_code.co_name == "<module>":
                shape = getattr(args[0], "shape", None) if args else None
                shape = [None if d is None else int(d) for d in shape] if shape is not None else None
                top = add_top_call(observer.top_calls, layer, line, shape)
            observer.stack.append((layer, line))
            try:
                output = original_call(layer, *args, **kwargs)
            except BaseException as exc:
                if observer.failed_at is None or observer.failed_at[0] != id(exc):
                    keras_made = not type(layer).__module__.startswith(TARGET_MODULE)
                    observer.failed_at = (id(exc), line if keras_made else None)
                raise
            finally:
                observer.stack.pop()
            if top is not None:
                top["done"] = True
            shape = getattr(output, "shape", None)
            if line is not None and shape is not None and not isinstance(output, (list, tuple)):
                try:
                    observer.observed.append([line, type(layer).__name__, [None if d is None else int(d) for d in shape]])
                except (TypeError, ValueError):
                    pass
            return output

        layer_cls.__init__, layer_cls.__call__ = init, call

    def start(self, path):
        self.file = path
        self.observed, self.stack, self.failed_at = [], [], None

    def file_line(self, frame):
        while frame is not None:
            if frame.f_code.co_filename == self.file:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def call_line(self, layer, caller):
        if caller.f_code.co_filename == self.file:
            return caller.f_lineno
        if caller.f_code.co_filename.startswith(self.keras_dir):
            if not self.stack and isinstance(layer, self.keras.Model):
                # the model itself, run by fit / evaluate / predict: a failure there (the data
                # does not fit its input) is at the file's call, not where the model was built
                return None
            return layer.__dict__.get("_probe_line")  # a stack entry Keras runs itself
        return None

    def failing_line(self, exc: BaseException):
        if self.failed_at is not None and self.failed_at[0] == id(exc) and self.failed_at[1] is not None:
            return self.failed_at[1]
        lines = [entry.lineno for entry in traceback.extract_tb(exc.__traceback__) if entry.filename == self.file]
        return lines[-1] if lines else None


class KerasRunner(Runner):
    framework = "keras"

    def __init__(self):
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        self.observer = KerasObserver()
        self.keras = self.observer.keras
        self.version = self.keras.__version__
        self.loaded: dict = {}
        self.record = False
        # Building the first model initialises the backend: not inside the first job's time limit.
        self.keras.Sequential([self.keras.Input((4,)), self.keras.layers.Dense(2)])

    def load(self, path: str) -> Loaded:
        if path not in self.loaded:
            self.observer.start(path)
            self.observer.top_calls = {}
            namespace, exc = import_module(path, lambda run: run())
            error = (exc, self.observer.failing_line(exc)) if exc is not None else None
            self.loaded[path] = Loaded(namespace, error, dict(self.observer.top_calls), self.observer.observed, None)
            self.observer.file = None
        return self.loaded[path]

    def run(self, job: dict, mode: str) -> dict:
        loaded = self.load(job["path"])
        if mode == "trace":
            return self._trace(job, loaded)
        return {"findings": self._confirm(job, loaded)}

    def _build(self, job: dict, loaded: Loaded, top):
        value, reason, ready = self._locate(job, loaded, top, self.keras.layers.Layer, "a Keras model")
        if ready:
            return value, reason
        self.observer.start(job["path"])
        try:
            return value(), None
        except BaseException as exc:  # noqa: BLE001
            return None, (exc, self.observer.failing_line(exc))
        finally:
            self.observer.file = None

    @staticmethod
    def built_input(job: dict, model):
        """A model the module already built on a fixed input accepts only that input: when the static
        analysis had to invent sizes, use the built one instead."""
        inputs = getattr(model, "inputs", None) if job.get("chosen") else None
        try:
            if inputs and len(inputs) == 1 and inputs[0].shape is not None:
                return [None if d is None else int(d) for d in inputs[0].shape]
        except (AttributeError, TypeError, ValueError):
            pass
        return None

    def _call(self, job: dict, model, loaded: Loaded, record: bool = False):
        keras = self.keras
        built = self.built_input(job, model)
        if built is not None:
            job["input_used"] = built  # named in the verdict
        shape = built or job["input"]
        self.observer.start(job["path"])
        try:
            batch = shape[0] if isinstance(shape[0], int) else None
            tensor = keras.Input(shape=tuple(shape[1:]), batch_size=batch,
                                 dtype="int32" if job.get("dtype") == "long" else "float32")
            model(tensor)
        except BaseException as exc:  # noqa: BLE001
            return (exc, self.observer.failing_line(exc)), None
        finally:
            self.observer.file = None
        return None, None

    def _trace(self, job: dict, loaded: Loaded) -> dict:
        out: dict = {}
        if loaded.error is not None:
            out["error"] = {"line": loaded.error[1], "text": error_text(loaded.error[0]), "phase": "module"}
        if job["kind"] == "script":
            out["observed"] = loaded.observed
            return out
        if job.get("input") is None:
            out.update(observed=[], skipped="no concrete input shape")
            return out
        model, problem = self._build(job, loaded, find_top_call(loaded, job))
        if model is None:
            reason = problem if isinstance(problem, str) else f"cannot build {job['model']}(): {error_text(problem[0])}"
            out.update(observed=[], skipped=reason)
            return out
        built = self.built_input(job, model)
        if built is not None:
            out["input_used"] = built
        failure, _ = self._call(job, model, loaded)
        out.pop("error", None)
        # Calling a built functional model on a symbolic input does not call its layers again; the
        # module's own code built it on the same input shape, and that is where its layers ran.
        same_input = not job.get("chosen") or built is not None
        out["observed"] = (loaded.observed if same_input else []) + self.observer.observed
        if failure is not None:
            out["error"] = {"line": failure[1], "text": error_text(failure[0]), "phase": "call"}
        return out

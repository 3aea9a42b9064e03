"""Values for the data a program feeds its models: arrays, datasets, transforms and loaders.

Framework-neutral and shared by every frontend: the interpreter asks this module first about
numpy calls, dataset and loader constructors, and any operation on a value made here.

* ``Array``: a numpy array, or a torch tensor that came out of data code (``torch.from_numpy``,
  a ``DataLoader`` batch).  It is a ``Tensor`` (models can be called on it) that also carries its
  dtype and where its sizes came from (``Origin``: ``to_categorical at line 7``).
* documented datasets: ``keras.datasets.{mnist, fashion_mnist, cifar10, cifar100}.load_data()``
  with the shapes and dtypes their docstrings state; torchvision's MNIST-like, CIFAR, SVHN and
  STL10 datasets (PIL images of a documented size) through their transforms; ``ImageFolder``
  (sizes unknown until a ``Resize``/``CenterCrop`` fixes them); ``TensorDataset``.
* loaders: ``torch.utils.data.DataLoader`` (batch_size, drop_last) and ``tf.data.Dataset``
  (``from_tensor_slices(...).batch(n)``), whose typical element binds a loop's target.

Whatever the program text does not fix is unknown (``None`` sizes, ``UNKNOWN`` values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import libcst as cst

from shapelint.ir import UNKNOWN, Tensor
from shapelint.shapes import dims

NOT_DATA = object()  # "not a data operation": the caller goes on with its usual handling


@dataclass(frozen=True)
class Origin:
    """Where a value's sizes were fixed: ``label`` at the line of ``site``."""

    label: str
    site: object = None

    def describe(self, span_of) -> str:
        if self.site is None:
            return self.label
        where = span_of(self.site)
        cell = getattr(where, "cell", None)
        return f"{self.label} at {f'cell {cell}, ' if cell else ''}line {where.line}"


@dataclass(eq=False)
class Array(Tensor):
    """An array with known-or-unknown dims (``None``), a dtype (``None`` if unknown) and an origin.
    ``library``: numpy | torch | pil (an image a torchvision transform has not converted yet)."""

    dtype: str | None = None
    origin: Origin | None = None
    library: str = "numpy"


@dataclass(eq=False)
class Dataset:
    """A map-style dataset: ``element`` is one item (a tuple of values), ``length`` its size."""

    element: object
    length: int | None
    label: str
    site: object = None


@dataclass(eq=False)
class Loader:
    """An iterable of batches: ``element`` is a typical batch."""

    element: object
    length: int | None  # number of batches
    label: str
    site: object = None
    dataset: Dataset | None = None
    batch_size: int | None = None
    drop_last: bool | None = False
    last: object = None  # the last batch, when smaller than the others


@dataclass(eq=False)
class TfData:
    """A ``tf.data.Dataset``: ``element`` is one element (unbatched or batched)."""

    element: object
    label: str
    site: object = None
    batched: bool = False


@dataclass(eq=False)
class Transform:
    """A torchvision transform: ``steps`` is a list of (name, params) applied in order."""

    steps: list = field(default_factory=list)


@dataclass(eq=False)
class DataMethod:
    owner: object
    name: str


FLOAT_RESULT = {"float16", "float32", "float64"}
INT_DTYPES = {"uint8", "int8", "int16", "int32", "int64", "bool"}
DTYPE_NAMES = {
    "float32": "float32", "float64": "float64", "float16": "float16", "float": "float64", "double": "float64",
    "uint8": "uint8", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64", "int": "int64",
    "long": "int64", "bool": "bool", "half": "float16",
}

# keras.datasets: (x_train, y_train), (x_test, y_test) as the docstrings state.
KERAS_DATASETS = {
    "mnist": ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,)),
    "fashion_mnist": ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,)),
    "cifar10": ((50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1)),
    "cifar100": ((50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1)),
}
KERAS_DATASET_ROOTS = ("keras.datasets.", "tensorflow.keras.datasets.", "tf_keras.datasets.",
                       "tensorflow.python.keras.datasets.", "keras.src.datasets.")
TO_CATEGORICAL = {f"{root}{path}" for root in ("keras.", "tensorflow.keras.", "tf_keras.", "tensorflow.python.keras.")
                  for path in ("utils.to_categorical", "utils.np_utils.to_categorical")}
# torchvision datasets: (height, width, channels) of the PIL image, and the length of each split.
TORCHVISION_DATASETS = {
    "MNIST": ((28, 28, 1), {True: 60000, False: 10000}),
    "FashionMNIST": ((28, 28, 1), {True: 60000, False: 10000}),
    "KMNIST": ((28, 28, 1), {True: 60000, False: 10000}),
    "CIFAR10": ((32, 32, 3), {True: 50000, False: 10000}),
    "CIFAR100": ((32, 32, 3), {True: 50000, False: 10000}),
    "SVHN": ((32, 32, 3), {"train": 73257, "test": 26032, "extra": 531131}),
    "STL10": ((96, 96, 3), {"train": 5000, "test": 8000, "unlabeled": 100000, "train+unlabeled": 105000}),
    "ImageFolder": ((None, None, 3), {}),
}
TRANSFORMS = {"ToTensor", "Normalize", "Resize", "CenterCrop", "RandomCrop", "RandomResizedCrop", "Grayscale",
              "Compose", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "ColorJitter",
              "RandomGrayscale", "RandomApply", "PILToTensor", "ConvertImageDtype", "RandomErasing"}
SAME_IMAGE_TRANSFORMS = {"RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "ColorJitter",
                         "RandomGrayscale", "RandomErasing"}
TORCH_SAME_SHAPE = {"to", "cuda", "cpu", "float", "double", "long", "int", "half", "detach", "clone",
                    "contiguous", "requires_grad_", "type"}
TORCH_FROM = {"torch.from_numpy", "torch.tensor", "torch.as_tensor", "torch.Tensor", "torch.FloatTensor",
              "torch.LongTensor", "torch.DoubleTensor", "torch.IntTensor", "torch.autograd.Variable",
              "torch.autograd.variable.Variable"}
PAD_SEQUENCES = {f"{root}{path}" for root in ("keras.", "tensorflow.keras.", "tf_keras.")
                 for path in ("preprocessing.sequence.pad_sequences", "utils.pad_sequences")}
TF_ARRAY_FUNCTIONS = {f"tensorflow.{name}": name for name in ("expand_dims", "reshape", "cast", "one_hot", "squeeze")}
TF_ARRAY_FUNCTIONS.update({f"tensorflow.compat.v1.{name}": name for name in ("expand_dims", "reshape", "cast",
                                                                          "one_hot", "squeeze")})
TORCH_FROM_DTYPE = {"torch.FloatTensor": "float32", "torch.Tensor": "float32", "torch.LongTensor": "int64",
                    "torch.DoubleTensor": "float64", "torch.IntTensor": "int32"}


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _dim(v):
    return v if _int(v) and v >= 0 else None


def _shape_arg(value):
    """A numpy ``shape`` argument: an int or a sequence of ints (unknown entries -> None)."""
    if _int(value):
        return (_dim(value),)
    if isinstance(value, (tuple, list)):
        return tuple(_dim(v) for v in value)
    return None


def _dtype(value, default=None):
    """``'float32'`` / ``np.float32`` / ``torch.float32`` / ``float`` -> a dtype name, else None."""
    if isinstance(value, str):
        return DTYPE_NAMES.get(value)
    qual = getattr(value, "qualname", None)
    if isinstance(qual, str):
        return DTYPE_NAMES.get(qual.rsplit(".", 1)[-1])
    name = getattr(value, "name", None)  # the builtins int / float
    if isinstance(name, str) and name in ("int", "float", "bool"):
        return DTYPE_NAMES[name]
    return default


def _divide_dtype(dtype):
    return dtype if dtype in ("float32", "float16") else ("float64" if dtype is not None else None)


def broadcast(a, b):
    """numpy/torch broadcasting of two shapes; None when unknown, False when they cannot broadcast."""
    if a is None or b is None:
        return None
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif _int(x) and _int(y):
            if x != y:
                return False
            out.append(x)
        elif dims.same(x, y):
            out.append(x)
        else:
            out.append(None)
    return tuple(reversed(out))


def _nested_shape(value, depth=0):
    """The shape of a nested literal list of numbers (np.array([[1, 2], [3, 4]]))."""
    if depth > 32:
        return None
    if isinstance(value, (list, tuple)):
        if not value:
            return (0,)
        inner = [_nested_shape(v, depth + 1) for v in value]
        if any(s is None for s in inner) or any(s != inner[0] for s in inner):
            return None
        return (len(value),) + inner[0]
    if isinstance(value, Array):
        return value.shape
    if isinstance(value, (int, float)):
        return ()
    return None


def _literal_dtype(value):
    flat, stack = [], [value]
    while stack and len(flat) < 10000:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            flat.append(item)
    if flat and all(isinstance(v, bool) for v in flat):
        return "bool"
    if flat and all(_int(v) for v in flat):
        return "int64"
    if flat and all(isinstance(v, (int, float)) for v in flat):
        return "float64"
    return None


def reshape(shape, target):
    """The shape ``reshape(target)`` gives (one -1 allowed); None if unknown or impossible."""
    if shape is None or not isinstance(target, (tuple, list)):
        return None
    if not all(_int(v) or v is UNKNOWN for v in target) or sum(1 for v in target if v == -1) > 1:
        return None
    if any(v is UNKNOWN or (v < 0 and v != -1) for v in target):
        return tuple(None if v is UNKNOWN or v == -1 else v for v in target)
    total = dims.product(shape)
    known = math.prod(v for v in target if v != -1)
    if -1 in target:
        if not _int(total) or known == 0 or total % known:
            return tuple(None if v == -1 else v for v in target)
        return tuple(total // known if v == -1 else v for v in target)
    return tuple(target)


def reshape_fits(shape, target) -> bool | None:
    """False when ``target`` certainly cannot hold the elements of ``shape``."""
    if shape is None or not isinstance(target, (tuple, list)) or not all(_int(v) for v in target):
        return None
    total = dims.product(shape)
    if not _int(total):
        return None
    known = math.prod(v for v in target if v != -1)
    if -1 in target:
        return known != 0 and total % known == 0
    return known == total


class DataValues:
    """The data side of the interpreter; ``interp`` is the running ``Interpreter``."""

    def __init__(self, interp):
        self.interp = interp

    # ----- helpers ---------------------------------------------------------------------------

    def array(self, shape, dtype=None, origin=None, library="numpy", like=None):
        framework = getattr(self.interp.hooks, "framework", "torch")
        if like is not None:
            origin = origin if origin is not None else like.origin
            library = like.library if library is None else library
        return Array(shape, framework=framework, dtype=dtype, origin=origin, library=library)

    def same(self, a: Array, shape=UNKNOWN, dtype=UNKNOWN):
        return self.array(a.shape if shape is UNKNOWN else shape, a.dtype if dtype is UNKNOWN else dtype,
                          a.origin, a.library)

    @staticmethod
    def is_data(value) -> bool:
        return isinstance(value, (Array, Dataset, Loader, TfData, Transform, DataMethod, LongRange))

    # ----- calls -----------------------------------------------------------------------------

    def call(self, func, args, kwargs, node):
        if isinstance(func, DataMethod):
            if args is UNKNOWN or kwargs is UNKNOWN:
                return self._unknown_like(func.owner)
            return self.method(func.owner, func.name, args, kwargs, node)
        if isinstance(func, Transform):
            if args is UNKNOWN or len(args) != 1:
                return UNKNOWN
            return self.apply_transform(func, args[0])
        qual = getattr(func, "qualname", None)
        if qual is None:
            return NOT_DATA
        return self.qualified(qual, args, kwargs, node)

    def _unknown_like(self, owner):
        return self.array(None) if isinstance(owner, Array) else UNKNOWN

    def qualified(self, qual, args, kwargs, node):
        if qual.startswith("numpy."):
            if args is UNKNOWN or kwargs is UNKNOWN:
                return UNKNOWN
            return self.numpy(qual[len("numpy."):], args, kwargs, node)
        for root in KERAS_DATASET_ROOTS:
            if qual.startswith(root):
                name, _, rest = qual[len(root):].partition(".")
                if name in KERAS_DATASETS and rest == "load_data":
                    return self.keras_dataset(name, node)
                return NOT_DATA
        if qual in TO_CATEGORICAL:
            if args is UNKNOWN or kwargs is UNKNOWN:
                return UNKNOWN
            return self.to_categorical(args, kwargs, node)
        if qual.startswith("torchvision."):
            if args is UNKNOWN or kwargs is UNKNOWN:
                return UNKNOWN
            return self.torchvision(qual, args, kwargs, node)
        if qual in ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"):
            if args is UNKNOWN or kwargs is UNKNOWN:
                return UNKNOWN
            return self.data_loader(args, kwargs, node)
        if qual in ("torch.utils.data.TensorDataset", "torch.utils.data.dataset.TensorDataset"):
            if args is UNKNOWN or kwargs is UNKNOWN:
                return UNKNOWN
            return self.tensor_dataset(args, node)
        if qual in TORCH_FROM:
            if args is UNKNOWN or kwargs is UNKNOWN or not args or not isinstance(args[0], Array):
                return NOT_DATA
            source = args[0]
            dtype = _dtype(kwargs.get("dtype"), TORCH_FROM_DTYPE.get(qual, source.dtype))
            if source.dtype == "float64" and qual in ("torch.from_numpy", "torch.tensor", "torch.as_tensor") \
                    and "dtype" not in kwargs:
                dtype = "float64"
            return self.array(source.shape, dtype, source.origin, "torch")
        if qual in ("tensorflow.data.Dataset.from_tensor_slices", "tensorflow.compat.v2.data.Dataset.from_tensor_slices"):
            if args is UNKNOWN or kwargs is UNKNOWN or len(args) != 1:
                return UNKNOWN
            return self.from_tensor_slices(args[0], node)
        if qual in ("tensorflow.convert_to_tensor", "tensorflow.constant") and args is not UNKNOWN and args \
                and isinstance(args[0], Array) and (kwargs is UNKNOWN or "shape" not in kwargs):
            return self.same(args[0])
        if qual in PAD_SEQUENCES:
            if args is UNKNOWN or kwargs is UNKNOWN:
                return UNKNOWN
            return self.pad_sequences(args, kwargs, node)
        if qual in TF_ARRAY_FUNCTIONS and args is not UNKNOWN and kwargs is not UNKNOWN and args \
                and isinstance(args[0], Array):
            return self.tf_function(TF_ARRAY_FUNCTIONS[qual], args, kwargs, node)
        return NOT_DATA

    def pad_sequences(self, args, kwargs, node):
        """``pad_sequences(sequences, maxlen=100)``: (number of sequences, maxlen) int32."""
        sequences = args[0] if args else kwargs.get("sequences")
        maxlen = kwargs.get("maxlen", args[1] if len(args) > 1 else None)
        count = self.length(sequences) if isinstance(sequences, Array) else None
        if isinstance(sequences, (list, tuple)) and id(sequences) not in self.interp.opaque:
            count = len(sequences)
        count = count if _int(count) else None
        return self.array((count, maxlen if _int(maxlen) else None), _dtype(kwargs.get("dtype"), "int32"),
                          Origin("pad_sequences", node))

    def tf_function(self, name, args, kwargs, node):
        """tf.expand_dims / tf.reshape / tf.cast / tf.one_hot on an array the program made."""
        array = args[0]
        if name == "expand_dims":
            return self.method(array, "expand_dims", args[1:], {"axis": kwargs["axis"]} if "axis" in kwargs else {},
                               node)
        if name == "reshape":
            return self.method(array, "reshape", args[1:2] or [kwargs.get("shape")], {}, node)
        if name == "cast":
            return self.same(array, dtype=_dtype(args[1] if len(args) > 1 else kwargs.get("dtype")))
        if name == "squeeze":
            axis = args[1] if len(args) > 1 else kwargs.get("axis")
            return self.method(array, "squeeze", [axis] if axis is not None else [], {}, node)
        if name == "one_hot":
            depth = args[1] if len(args) > 1 else kwargs.get("depth")
            if array.shape is None:
                return self.array(None, "float32", Origin("tf.one_hot", node))
            # no squeeze: labels of shape (N, 1) give (N, 1, depth)
            return self.array(tuple(array.shape) + (depth if _int(depth) else None,), "float32",
                              Origin("tf.one_hot", node))
        return self.array(None)

    # ----- numpy -----------------------------------------------------------------------------

    def numpy(self, name, args, kwargs, node):
        first = args[0] if args else None
        origin = Origin(f"np.{name}", node)
        if name in ("zeros", "ones", "empty"):
            shape = _shape_arg(first if args else kwargs.get("shape"))
            return self.array(shape, _dtype(kwargs.get("dtype", args[1] if len(args) > 1 else None), "float64"), origin)
        if name == "full":
            shape = _shape_arg(first if args else kwargs.get("shape"))
            fill = args[1] if len(args) > 1 else kwargs.get("fill_value")
            default = "int64" if _int(fill) else ("float64" if isinstance(fill, float) else None)
            return self.array(shape, _dtype(kwargs.get("dtype"), default), origin)
        if name in ("zeros_like", "ones_like", "empty_like", "full_like"):
            if isinstance(first, Array):
                return self.array(first.shape, _dtype(kwargs.get("dtype"), first.dtype), first.origin)
            return UNKNOWN
        if name in ("eye", "identity"):
            n = _dim(first)
            m = args[1] if len(args) > 1 else kwargs.get("M")
            m = n if m is None else _dim(m)
            return self.array((n, m), _dtype(kwargs.get("dtype"), "float64"), origin)
        if name == "arange":
            numbers = list(args)
            if not numbers or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers) \
                    or len(numbers) > 3:
                return self.array((None,), None, origin)
            start, stop, step = (0, numbers[0], 1) if len(numbers) == 1 else (numbers + [1])[:3]
            if step == 0:
                return UNKNOWN
            count = max(0, math.ceil((stop - start) / step))
            dtype = "int64" if all(_int(v) for v in numbers) else "float64"
            return self.array((count,), _dtype(kwargs.get("dtype"), dtype), origin)
        if name == "linspace":
            num = args[2] if len(args) > 2 else kwargs.get("num", 50)
            return self.array((_dim(num),), "float64", origin)
        if name in ("array", "asarray", "asanyarray", "ascontiguousarray", "copy", "float32", "float64",
                    "uint8", "int64", "int32"):
            if isinstance(first, Array):
                dtype = DTYPE_NAMES.get(name) or _dtype(kwargs.get("dtype"), first.dtype)
                return self.array(first.shape, dtype, first.origin)
            shape = _nested_shape(first)
            if shape is None or name in ("float32", "float64", "uint8", "int64", "int32") and shape != ():
                return self.array(None, None, origin)
            return self.array(shape, DTYPE_NAMES.get(name) or _dtype(kwargs.get("dtype"), _literal_dtype(first)),
                              Origin("np.array", node))
        if name.startswith("random."):
            return self.numpy_random(name[len("random."):], args, kwargs, origin)
        if name == "newaxis":
            return None
        if isinstance(first, Array) and name in ("reshape", "expand_dims", "squeeze", "transpose", "argmax",
                                                 "argmin", "mean", "sum", "max", "min", "ravel", "flatten",
                                                 "moveaxis", "swapaxes"):
            return self.method(first, name, args[1:], kwargs, node)
        if name in ("concatenate", "stack", "vstack", "hstack"):
            return self.join(name, first, args[1] if len(args) > 1 else kwargs.get("axis", 0), node)
        if name in ("sqrt", "exp", "log", "abs", "tanh", "clip", "round", "floor", "ceil", "square"):
            if isinstance(first, Array):
                return self.same(first, dtype=first.dtype if first.dtype in FLOAT_RESULT else None)
        if name in ("add", "subtract", "multiply", "divide") and len(args) >= 2:
            return self.binary_arrays(args[0], args[1])
        if isinstance(first, Array) or any(isinstance(a, Array) for a in args):
            return self.array(None)
        return UNKNOWN

    def numpy_random(self, name, args, kwargs, origin):
        if name in ("rand", "randn"):
            if not all(_int(a) for a in args):
                return self.array(None, "float64", origin)
            return self.array(tuple(args), "float64", origin)
        if name in ("random", "random_sample", "sample", "ranf"):
            return self.array(_shape_arg(args[0] if args else kwargs.get("size")) if (args or "size" in kwargs)
                              else (), "float64", origin)
        if name in ("normal", "uniform", "randint", "binomial", "poisson", "choice", "exponential", "beta",
                    "gamma", "integers", "standard_normal"):
            position = {"normal": 2, "uniform": 2, "randint": 2, "binomial": 2, "poisson": 1, "choice": 1,
                        "exponential": 1, "beta": 2, "gamma": 2, "standard_normal": 0}.get(name)
            size = kwargs.get("size", args[position] if position is not None and len(args) > position else None)
            if name == "randint" and "high" not in kwargs and len(args) < 2 and "size" not in kwargs:
                size = None
            dtype = "int64" if name in ("randint", "binomial", "poisson", "integers") else "float64"
            if name == "choice":
                dtype = None
            shape = () if size is None else _shape_arg(size)
            return self.array(shape, _dtype(kwargs.get("dtype"), dtype), origin)
        if name == "permutation" and args:
            if _int(args[0]):
                return self.array((args[0],), "int64", origin)
            if isinstance(args[0], Array):
                return self.same(args[0])
        return self.array(None, None, origin)

    def join(self, name, items, axis, node):
        values = self.interp.iterate(items) if isinstance(items, (list, tuple)) else None
        if not values or not all(isinstance(v, Array) for v in values) or not _int(axis):
            return self.array(None) if values and any(isinstance(v, Array) for v in values) else UNKNOWN
        shapes = [v.shape for v in values]
        dtype = values[0].dtype if all(v.dtype == values[0].dtype for v in values) else None
        origin = Origin(f"np.{name}", node)
        if any(s is None for s in shapes):
            return self.array(None, dtype, origin)
        if name == "vstack":
            shapes = [s if len(s) >= 2 else (1,) + s for s in shapes]
            name, axis = "concatenate", 0
        if name == "hstack":
            name, axis = "concatenate", (0 if len(shapes[0]) == 1 else 1)
        if name == "stack":
            rank = len(shapes[0])
            if any(len(s) != rank for s in shapes):
                return self.array(None, dtype, origin)
            a = axis + rank + 1 if axis < 0 else axis
            if not 0 <= a <= rank:
                return self.array(None, dtype, origin)
            merged = tuple(d if all(s[i] == d for s in shapes) else None for i, d in enumerate(shapes[0]))
            return self.array(merged[:a] + (len(values),) + merged[a:], dtype, origin)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or rank == 0:
            return self.array(None, dtype, origin)
        a = axis % rank
        out = []
        for i in range(rank):
            if i == a:
                total = 0
                for s in shapes:
                    total = dims.add(total, s[i]) if total is not None else None
                out.append(total)
            else:
                out.append(shapes[0][i] if all(s[i] == shapes[0][i] for s in shapes) else None)
        return self.array(tuple(out), dtype, origin)

    # ----- methods and attributes ------------------------------------------------------------

    def attr(self, owner, name, node):
        if isinstance(owner, Array):
            shape = owner.shape
            if name == "shape":
                if shape is None:
                    return UNKNOWN
                return tuple(d if _int(d) else UNKNOWN for d in shape)
            if name == "ndim":
                return len(shape) if shape is not None else UNKNOWN
            if name == "size" and owner.library == "numpy":
                total = dims.product(shape) if shape is not None else None
                return total if _int(total) else UNKNOWN
            if name == "T":
                return self.same(owner, tuple(reversed(shape)) if shape is not None else None)
            if name == "dtype":
                return UNKNOWN
            if owner.library == "torch" and name not in TORCH_SAME_SHAPE and name not in ("size", "dim", "numpy"):
                return NOT_DATA  # the frontend's tensor semantics
            return DataMethod(owner, name)
        if isinstance(owner, TfData):
            return DataMethod(owner, name)
        if isinstance(owner, Loader):
            if name == "dataset" and owner.dataset is not None:
                return owner.dataset
            if name == "batch_size" and owner.batch_size is not None:
                return owner.batch_size
            return UNKNOWN
        if isinstance(owner, Dataset):
            return UNKNOWN
        return NOT_DATA

    def method(self, owner, name, args, kwargs, node):
        if isinstance(owner, TfData):
            return self.tf_method(owner, name, args, kwargs, node)
        if not isinstance(owner, Array):
            return UNKNOWN
        shape = owner.shape
        if owner.library == "torch":
            if name in TORCH_SAME_SHAPE:
                if name in ("float", "double", "long", "int", "half"):
                    return self.same(owner, dtype=DTYPE_NAMES.get(name))
                if name in ("to", "type"):
                    # x.to(device), x.to(torch.long), x.to(device, dtype=...), x.type(torch.LongTensor):
                    # the dtype stays known only when nothing passed could change it
                    given = list(args) + list(kwargs.values())
                    named = [_dtype(v) for v in given if _dtype(v) is not None]
                    if named:
                        return self.same(owner, dtype=named[-1])
                    if all(isinstance(v, (str, bool)) for v in given) and name == "to":
                        return self.same(owner)
                    return self.same(owner, dtype=None)
                return self.same(owner)
            if name == "numpy":
                return self.array(shape, owner.dtype, owner.origin, "numpy")
            if name == "size" and shape is not None:
                if not args:
                    return tuple(d if _int(d) else UNKNOWN for d in shape)
                if _int(args[0]) and -len(shape) <= args[0] < len(shape):
                    d = shape[args[0]]
                    return d if _int(d) else UNKNOWN
            if name == "dim" and shape is not None:
                return len(shape)
            return UNKNOWN
        if name == "astype":
            return self.same(owner, dtype=_dtype(args[0] if args else kwargs.get("dtype")))
        if name in ("copy", "clip", "round"):
            return self.same(owner)
        if name == "reshape":
            target = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
            if len(args) == 1 and _int(args[0]):
                target = (args[0],)
            if reshape_fits(shape, target) is False:
                return self.array(None, owner.dtype, owner.origin)
            return self.array(reshape(shape, target), owner.dtype, Origin("reshape", node))
        if name in ("flatten", "ravel"):
            total = dims.product(shape) if shape is not None else None
            return self.same(owner, (total,) if shape is not None else None)
        if shape is None:
            return self.array(None, owner.dtype, owner.origin)
        if name == "expand_dims":
            axis = args[0] if args else kwargs.get("axis")
            if _int(axis) and -len(shape) - 1 <= axis <= len(shape):
                a = axis % (len(shape) + 1)
                return self.same(owner, tuple(shape[:a]) + (1,) + tuple(shape[a:]))
            return self.same(owner, None)
        if name == "squeeze":
            axis = args[0] if args else kwargs.get("axis")
            if axis is None:
                if all(_int(d) for d in shape):
                    return self.same(owner, tuple(d for d in shape if d != 1))
                return self.same(owner, None)
            axes = axis if isinstance(axis, (tuple, list)) else (axis,)
            if all(_int(a) and -len(shape) <= a < len(shape) for a in axes):
                drop = {a % len(shape) for a in axes}
                if all(shape[a] == 1 for a in drop):
                    return self.same(owner, tuple(d for i, d in enumerate(shape) if i not in drop))
            return self.same(owner, None)
        if name == "transpose":
            order = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else (
                tuple(args) if args else kwargs.get("axes"))
            if order is None:
                return self.same(owner, tuple(reversed(shape)))
            if isinstance(order, (tuple, list)) and len(order) == len(shape) and all(_int(o) for o in order) \
                    and sorted(o % len(shape) for o in order) == list(range(len(shape))):
                return self.same(owner, tuple(shape[o] for o in order))
            return self.same(owner, None)
        if name in ("swapaxes", "moveaxis") and len(args) == 2 and all(_int(a) for a in args) \
                and all(-len(shape) <= a < len(shape) for a in args):
            a, b = args[0] % len(shape), args[1] % len(shape)
            out = list(shape)
            if name == "swapaxes":
                out[a], out[b] = out[b], out[a]
            else:
                out.insert(b, out.pop(a))
            return self.same(owner, tuple(out))
        if name in ("argmax", "argmin", "mean", "sum", "max", "min", "std", "var"):
            axis = args[0] if args else kwargs.get("axis")
            keep = kwargs.get("keepdims", False)
            dtype = "int64" if name in ("argmax", "argmin") else (
                owner.dtype if name in ("max", "min") else _divide_dtype(owner.dtype))
            if axis is None and "axis" not in kwargs and not args:
                return self.array((), dtype, owner.origin) if not keep else self.same(owner, (1,) * len(shape))
            if _int(axis) and -len(shape) <= axis < len(shape) and isinstance(keep, bool):
                a = axis % len(shape)
                out = tuple(1 if i == a else d for i, d in enumerate(shape) if keep or i != a)
                return self.array(out, dtype, owner.origin)
            return self.array(None, dtype, owner.origin)
        return self.array(None)

    def subscript(self, value, index, node):
        if isinstance(value, (Dataset,)):
            return value.element if _int(index) else UNKNOWN
        if not isinstance(value, Array):
            return NOT_DATA
        if value.library == "torch":
            return NOT_DATA
        return self.index(value, index)

    def index(self, array: Array, index):
        shape = array.shape
        if shape is None or index is UNKNOWN:
            return self.same(array, None)
        parts = index if isinstance(index, tuple) else (index,)
        parts = tuple(None if getattr(p, "qualname", None) == "numpy.newaxis" else p for p in parts)
        arrays = [p for p in parts if isinstance(p, Array)]
        if arrays:
            # fancy indexing with one integer array (np.eye(10)[y]): the index's shape, then the rest
            if len(parts) == 1 and arrays[0].dtype in INT_DTYPES - {"bool"} and arrays[0].shape is not None:
                return self.array(arrays[0].shape + tuple(shape[1:]), array.dtype,
                                  arrays[0].origin if array.origin is None or array.origin.label.startswith("np.")
                                  else array.origin)
            return self.same(array, None)
        if sum(1 for p in parts if p is Ellipsis) > 1:
            return self.same(array, None)
        if Ellipsis in parts:
            i = parts.index(Ellipsis)
            explicit = sum(1 for p in parts if p is not None and p is not Ellipsis)
            parts = parts[:i] + (slice(None),) * max(0, len(shape) - explicit) + parts[i + 1:]
        out, axis = [], 0
        for part in parts:
            if part is None:
                out.append(1)
                continue
            if axis >= len(shape):
                return self.same(array, None)
            size = shape[axis]
            if _int(part):
                axis += 1
            elif isinstance(part, slice):
                if part == slice(None):
                    out.append(size)
                elif _int(size):
                    out.append(len(range(size)[part]))
                elif part.start is None and _int(part.stop) and part.stop >= 0 and part.step is None:
                    out.append(None)
                else:
                    out.append(None)
                axis += 1
            else:
                return self.same(array, None)
        return self.same(array, tuple(out) + tuple(shape[axis:]))

    def binary(self, op_type, left, right, node):
        if not (isinstance(left, Array) or isinstance(right, Array)):
            return NOT_DATA
        array = left if isinstance(left, Array) else right
        if array.library == "torch" and (not isinstance(left, Array) or not isinstance(right, Array)
                                         or left.library == right.library):
            if not (isinstance(left, (int, float)) or isinstance(right, (int, float))):
                return NOT_DATA
        if op_type is cst.MatrixMultiply:
            return self.array(None)
        if isinstance(left, Array) and isinstance(right, Array):
            return self.binary_arrays(left, right, op_type)
        other = right if array is left else left
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            dtype = array.dtype
            if op_type in (cst.Divide,):
                dtype = _divide_dtype(dtype)
            elif isinstance(other, float) and dtype in INT_DTYPES:
                dtype = "float64"
            elif op_type in (cst.Add, cst.Subtract, cst.Multiply) and dtype == "bool":
                dtype = "int64"
            return self.same(array, dtype=dtype)
        if isinstance(other, (list, tuple)):
            return self.array(None)
        return NOT_DATA if other is UNKNOWN and array.library == "torch" else self.array(None)

    def binary_arrays(self, left, right, op_type=None):
        if not (isinstance(left, Array) and isinstance(right, Array)):
            return self.array(None)
        shape = broadcast(left.shape, right.shape)
        dtype = left.dtype if left.dtype == right.dtype else None
        if op_type is cst.Divide:
            dtype = _divide_dtype(dtype)
        origin = left.origin or right.origin
        return self.array(shape if shape is not False else None, dtype, origin,
                          "torch" if "torch" in (left.library, right.library) else "numpy")

    def window(self, array: Array, size):
        """``array[i:i + size]`` with ``i`` unknown: at most ``size`` rows, ``size`` typically."""
        if array.shape is None or not array.shape or array.library == "torch":
            return self.same(array, None if array.shape is None else (None,) + tuple(array.shape[1:]))
        rows = array.shape[0]
        typical = size if size is not None and (not _int(rows) or rows >= size) else None
        return self.same(array, (typical,) + tuple(array.shape[1:]))

    def merge(self, a: Array, b: Array):
        """An array bound on two paths: the sizes both agree on."""
        if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
            shape = None
        else:
            shape = tuple(x if dims.same(x, y) else None for x, y in zip(a.shape, b.shape))
        return self.array(shape, a.dtype if a.dtype == b.dtype else None, a.origin if a.origin == b.origin else None,
                          a.library if a.library == b.library else "numpy")

    # ----- iteration -------------------------------------------------------------------------

    def element(self, value):
        """The typical element a ``for`` loop over ``value`` binds, or NOT_DATA."""
        if isinstance(value, Loader):
            return value.element
        if isinstance(value, TfData):
            return value.element
        if isinstance(value, Dataset):
            return value.element
        if isinstance(value, LongRange):
            return value.items[0] if len(value.items) else NOT_DATA
        if isinstance(value, Enumerated):
            inner = self.element(value.inner)
            return NOT_DATA if inner is NOT_DATA else (value.start, inner)
        if isinstance(value, Array) and value.shape:
            return self.index(value, 0)
        return NOT_DATA

    def last_element(self, value):
        """(element, why) for a loader whose last batch is smaller than the others, else None."""
        if isinstance(value, Enumerated):
            inner = self.last_element(value.inner)
            return None if inner is None else ((value.start, inner[0]), inner[1])
        if not isinstance(value, Loader) or value.last is None:
            return None
        n, size = value.dataset.length, value.batch_size
        why = (f"on the last batch: {value.label.split(' via ')[0]} holds {n} examples, {n} % {size} = {n % size} "
               f"are left for it (drop_last=False)")
        return value.last, why

    def length(self, value):
        if isinstance(value, (Loader, Dataset)):
            return value.length if value.length is not None else UNKNOWN
        if isinstance(value, LongRange):
            return len(value.items)
        if isinstance(value, Tensor) and value.shape:
            # len() of an array or a tensor (numpy, torch, eager TF alike) is its first size
            return value.shape[0] if _int(value.shape[0]) else UNKNOWN
        return NOT_DATA

    def enumerate(self, value, start=0):
        return Enumerated(value, start) if isinstance(value, (Loader, TfData, Dataset, LongRange)) else NOT_DATA

    # ----- Keras datasets --------------------------------------------------------------------

    def keras_dataset(self, name, node):
        x_train, y_train, x_test, y_test = KERAS_DATASETS[name]
        origin = Origin(f"{name}.load_data()", node)
        return ((self.array(x_train, "uint8", origin), self.array(y_train, "uint8", origin)),
                (self.array(x_test, "uint8", origin), self.array(y_test, "uint8", origin)))

    def to_categorical(self, args, kwargs, node):
        labels = args[0] if args else kwargs.get("x")
        classes = args[1] if len(args) > 1 else kwargs.get("num_classes")
        origin = Origin("to_categorical", node)
        if not isinstance(labels, Array) or labels.shape is None:
            return self.array(None, "float32", origin)
        shape = tuple(labels.shape)
        if shape and shape[-1] == 1 and len(shape) > 1:
            shape = shape[:-1]
        return self.array(shape + (_dim(classes) if classes is not None else None,), "float32", origin)

    # ----- torchvision -----------------------------------------------------------------------

    def torchvision(self, qual, args, kwargs, node):
        parts = qual.split(".")
        last = parts[-1]
        if parts[1:2] == ["datasets"] and last in TORCHVISION_DATASETS:
            return self.vision_dataset(last, args, kwargs, node)
        if parts[1:2] == ["transforms"] and last in TRANSFORMS:
            return self.transform(last, args, kwargs)
        return UNKNOWN

    def transform(self, name, args, kwargs):
        if name == "Compose":
            steps = self.interp.iterate(args[0] if args else kwargs.get("transforms"))
            if steps is None or not all(isinstance(s, Transform) for s in steps):
                return Transform([("unknown", {})])
            return Transform([step for t in steps for step in t.steps])
        if name in SAME_IMAGE_TRANSFORMS:
            return Transform([("same", {})])
        if name == "Normalize":
            mean = args[0] if args else kwargs.get("mean")
            items = self.interp.iterate(mean) if isinstance(mean, (list, tuple)) else None
            return Transform([("Normalize", {"channels": len(items) if items is not None else None})])
        if name in ("Resize", "CenterCrop", "RandomCrop", "RandomResizedCrop"):
            size = args[0] if args else kwargs.get("size")
            if _int(size):
                size = (size, size) if name != "Resize" else ("short", size)
            elif isinstance(size, (list, tuple)) and len(size) == 1 and _int(size[0]):
                size = (size[0], size[0]) if name != "Resize" else ("short", size[0])
            elif isinstance(size, (list, tuple)) and len(size) == 2 and all(_int(s) for s in size):
                size = tuple(size)
            else:
                size = None
            return Transform([(name, {"size": size})])
        if name == "Grayscale":
            channels = args[0] if args else kwargs.get("num_output_channels", 1)
            return Transform([("Grayscale", {"channels": channels if _int(channels) else None})])
        if name in ("ToTensor", "PILToTensor"):
            return Transform([(name, {})])
        return Transform([("unknown", {})])

    def apply_transform(self, transform, image):
        if not isinstance(image, Array):
            return UNKNOWN
        for name, params in transform.steps:
            image = self.transform_step(name, params, image)
            if image is UNKNOWN:
                return UNKNOWN
        return image

    def transform_step(self, name, params, image):
        shape = image.shape
        pil = image.library == "pil"
        if name == "same":
            return image
        if name == "unknown" or shape is None:
            return self.array(None, None, image.origin, image.library)
        if name in ("ToTensor", "PILToTensor"):
            if not pil and not (image.library == "numpy" and len(shape) == 3):
                return image
            h, w, c = shape
            return self.array((c, h, w), "float32" if name == "ToTensor" else "uint8", image.origin, "torch")
        if name == "Grayscale":
            channels = params["channels"]
            if pil:
                return self.array((shape[0], shape[1], channels), image.dtype, image.origin, "pil")
            return self.array((channels,) + tuple(shape[-2:]), image.dtype, image.origin, image.library)
        if name == "Normalize":
            # F.normalize: tensor.sub_(mean.view(-1, 1, 1)): the mean must broadcast to the channels
            # in place (len(mean) == C or 1); a PIL image is rejected ("tensor should be a torch tensor")
            if pil:
                return self.array(None, None, image.origin, "torch")
            channels = params["channels"]
            if channels is not None and _int(shape[0]) and channels not in (1, shape[0]):
                return UNKNOWN  # torchvision raises when the data is read
            return image
        size = params.get("size")
        h, w = (shape[0], shape[1]) if pil else (shape[-2], shape[-1])
        if size is None:
            h, w = None, None
        elif size[0] == "short":
            target = size[1]
            if _int(h) and _int(w):
                if h <= w:
                    h, w = target, int(target * w / h) if h != w else target
                else:
                    h, w = int(target * h / w), target
            elif dims.same(h, w):
                h = w = target
            else:
                h, w = None, None
        else:
            h, w = size
        if pil:
            return self.array((h, w, shape[2]), image.dtype, image.origin, "pil")
        return self.array(tuple(shape[:-2]) + (h, w), image.dtype, image.origin, image.library)

    def vision_dataset(self, name, args, kwargs, node):
        (h, w, c), lengths = TORCHVISION_DATASETS[name]
        if name in ("SVHN", "STL10"):
            split = kwargs.get("split", args[1] if len(args) > 1 else ("train"))
            length = lengths.get(split) if isinstance(split, str) else None
        elif name == "ImageFolder":
            length = None
        else:
            train = kwargs.get("train", args[1] if len(args) > 1 else True)
            length = lengths.get(train) if isinstance(train, bool) else None
        origin = Origin(name, node)
        image = self.array((h, w, c), "uint8", origin, "pil")
        transform = kwargs.get("transform", args[2] if len(args) > 2 and name not in ("SVHN", "STL10", "ImageFolder")
                               else None)
        if name == "ImageFolder":
            transform = kwargs.get("transform", args[1] if len(args) > 1 else None)
        if isinstance(transform, Transform):
            image = self.apply_transform(transform, image)
        elif transform is not None:
            image = UNKNOWN
        target = self.array((), "int64", origin, "label")
        target_transform = kwargs.get("target_transform")
        if target_transform is not None:
            target = UNKNOWN
        return Dataset((image, target), length, name, node)

    # ----- torch.utils.data ------------------------------------------------------------------

    def tensor_dataset(self, args, node):
        if not args or not all(isinstance(a, Tensor) and a.shape for a in args):
            return Dataset(UNKNOWN, None, "TensorDataset", node)
        firsts = {a.shape[0] for a in args}
        length = firsts.pop() if len(firsts) == 1 and all(_int(a.shape[0]) for a in args) else None
        rows = tuple(self.array(a.shape[1:], getattr(a, "dtype", None), getattr(a, "origin", None), "torch")
                     for a in args)
        return Dataset(rows, length, "TensorDataset", node)

    def user_dataset(self, value, node):
        """A ``Dataset`` subclass the program writes: its ``__getitem__(0)`` is a typical item and its
        ``__len__()`` the length, both evaluated speculatively (the loader runs them later, if at all)."""
        cls = getattr(value, "cls", None)
        if cls is None or not hasattr(cls, "lookup") or cls.lookup("__getitem__") is None:
            return None
        self.interp.speculative += 1
        try:
            item = self.interp.call(self.interp.get_attr(value, "__getitem__", node), [0], {}, node)
            length = self.interp.call(self.interp.get_attr(value, "__len__", node), [], {}, node) \
                if cls.lookup("__len__") is not None else UNKNOWN
        finally:
            self.interp.speculative -= 1
        if item is UNKNOWN:
            return None
        return Dataset(item, length if _int(length) else None, cls.name, node)

    def data_loader(self, args, kwargs, node):
        dataset = args[0] if args else kwargs.get("dataset")
        batch = kwargs.get("batch_size", args[1] if len(args) > 1 else 1)
        drop_last = kwargs.get("drop_last", False)
        if not isinstance(dataset, Dataset):
            dataset = self.user_dataset(dataset, node)
        if not isinstance(dataset, Dataset):
            return Loader(UNKNOWN, None, "DataLoader", node)
        if kwargs.get("batch_sampler") is not None or kwargs.get("collate_fn") is not None or batch is None:
            return Loader(UNKNOWN, None, "DataLoader", node, dataset)
        size = batch if _int(batch) and batch > 0 else None
        n = dataset.length
        typical = size if size is None or n is None or n >= size else n
        label = f"{dataset.label} via DataLoader(batch_size={size if size is not None else '?'})"
        origin = Origin(label, node)
        element = self.collate(dataset.element, typical, origin)
        batches, last = None, None
        if n is not None and size is not None and isinstance(drop_last, bool):
            batches = n // size if drop_last else -(-n // size)
            if not drop_last and n > size and n % size:
                last = self.collate(dataset.element, n % size, origin)
        return Loader(element, batches, label, node, dataset, size, drop_last if isinstance(drop_last, bool) else None,
                      last)

    def collate(self, item, batch, origin):
        """torch's default_collate of ``batch`` copies of ``item``."""
        if isinstance(item, Array):
            if item.shape is None:
                return self.array(None, item.dtype, origin, "torch")
            dtype = "int64" if item.library == "label" else item.dtype
            if item.library == "numpy" and item.dtype == "float64":
                dtype = "float64"
            return self.array((batch,) + tuple(item.shape), dtype, origin, "torch")
        if isinstance(item, tuple):
            return tuple(self.collate(v, batch, origin) for v in item)
        if isinstance(item, list):
            return [self.collate(v, batch, origin) for v in item]
        if _int(item):
            return self.array((batch,), "int64", origin, "torch")
        if isinstance(item, float):
            return self.array((batch,), "float64", origin, "torch")
        return UNKNOWN

    # ----- tf.data ---------------------------------------------------------------------------

    def from_tensor_slices(self, value, node):
        def row(v):
            if isinstance(v, Array) and v.shape:
                return self.array(tuple(v.shape[1:]), v.dtype, v.origin, v.library)
            if isinstance(v, (tuple, list)) and v:
                rows = [row(x) for x in v]
                return UNKNOWN if any(r is UNKNOWN for r in rows) else tuple(rows)
            return UNKNOWN
        return TfData(row(value), "tf.data.Dataset", node)

    def tf_method(self, owner, name, args, kwargs, node):
        if name in ("shuffle", "prefetch", "repeat", "cache", "take", "skip", "with_options", "shard"):
            return owner
        if name == "batch":
            size = args[0] if args else kwargs.get("batch_size")
            drop = kwargs.get("drop_remainder", args[1] if len(args) > 1 else False)
            dim = size if _int(size) and drop is True else None

            def batched(v):
                if isinstance(v, Array):
                    shape = None if v.shape is None else (dim,) + tuple(v.shape)
                    return self.array(shape, v.dtype, v.origin, v.library)
                if isinstance(v, tuple):
                    return tuple(batched(x) for x in v)
                return UNKNOWN
            return TfData(batched(owner.element), owner.label, owner.site, True)
        return UNKNOWN


@dataclass(eq=False)
class Enumerated:
    inner: object
    start: int = 0


@dataclass(eq=False)
class LongRange:
    """``range(...)`` too long to unroll: a loop over it runs its first iteration for real."""

    items: range


__all__ = ["LongRange", "Array", "Dataset", "Loader", "TfData", "Transform", "DataValues", "Origin", "NOT_DATA", "broadcast",
           "reshape", "reshape_fits", "Enumerated"]

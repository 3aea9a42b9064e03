"""``keras.datasets.*.load_data`` without downloads: zero arrays of the documented per-example
shapes and dtypes (uint8 images, uint8 labels of shape (N,) for MNIST-like sets and (N, 1) for
CIFAR).  The number of examples is a hundredth of the real one to keep memory small; no
fixture's expectation depends on it."""
import numpy as np

SHAPES = {
    "mnist": ((28, 28), ()),
    "fashion_mnist": ((28, 28), ()),
    "cifar10": ((32, 32, 3), (1,)),
    "cifar100": ((32, 32, 3), (1,)),
}
COUNTS = {"mnist": (600, 100), "fashion_mnist": (600, 100), "cifar10": (500, 100), "cifar100": (500, 100)}


def _loader(name):
    image, label = SHAPES[name]
    train, test = COUNTS[name]
    classes = 100 if name == "cifar100" else 10

    def load_data(*args, **kwargs):
        def split(n):
            labels = (np.arange(n) % classes).astype(np.uint8).reshape((n,) + label)
            return np.zeros((n,) + image, dtype=np.uint8), labels
        return split(train), split(test)

    return load_data


def install(keras):
    import importlib

    for name in SHAPES:
        for path in (f"keras.datasets.{name}", f"keras.src.datasets.{name}"):
            try:
                module = importlib.import_module(path)
            except ImportError:
                continue
            module.load_data = _loader(name)

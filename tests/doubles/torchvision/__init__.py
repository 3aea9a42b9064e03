"""A stand-in for torchvision in the runtime tests: documented dataset shapes, no downloads."""
from torchvision import datasets, transforms  # noqa: F401

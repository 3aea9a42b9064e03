"""Datasets of the documented image sizes and split lengths, holding zero images."""
import numpy as np


class Image:
    """What torchvision's loaders give: an H x W x C uint8 picture (PIL's role here)."""

    def __init__(self, array):
        self.array = array

    @property
    def size(self):
        return (self.array.shape[1], self.array.shape[0])


class _Vision:
    shape = (28, 28, 1)
    lengths = {True: 60000, False: 10000}
    classes = 10

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        self.length = self.lengths[train]
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        if not -self.length <= index < self.length:
            raise IndexError(index)
        image = Image(np.zeros(self.shape, dtype=np.uint8))
        target = index % self.classes
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


class MNIST(_Vision):
    pass


class FashionMNIST(_Vision):
    pass


class KMNIST(_Vision):
    pass


class CIFAR10(_Vision):
    shape = (32, 32, 3)
    lengths = {True: 50000, False: 10000}


class CIFAR100(CIFAR10):
    classes = 100


class _Split(_Vision):
    def __init__(self, root=None, split="train", transform=None, target_transform=None, download=False):
        super().__init__(root, split, transform, target_transform, download)


class SVHN(_Split):
    shape = (32, 32, 3)
    lengths = {"train": 73257, "test": 26032, "extra": 531131}


class STL10(_Split):
    shape = (96, 96, 3)
    lengths = {"train": 5000, "test": 8000, "unlabeled": 100000, "train+unlabeled": 105000}


class ImageFolder(_Vision):
    """Pictures of any size in class folders: this stand-in's are 120 x 160, in two classes."""

    shape = (120, 160, 3)
    classes = 2

    def __init__(self, root=None, transform=None, target_transform=None, **kwargs):
        self.length = 20
        self.transform = transform
        self.target_transform = target_transform

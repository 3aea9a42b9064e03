"""Transforms with torchvision's shape behaviour (torchvision.transforms.functional)."""
import numpy as np
import torch
import torch.nn.functional as F

from torchvision.datasets import Image


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


class ToTensor:
    def __call__(self, pic):
        array = pic.array if isinstance(pic, Image) else pic
        if not isinstance(array, np.ndarray):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
        if array.ndim == 2:
            array = array[:, :, None]
        return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))).float().div(255)


class PILToTensor:
    def __call__(self, pic):
        return torch.from_numpy(np.ascontiguousarray(pic.array.transpose(2, 0, 1)))


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean, self.std = mean, std

    def __call__(self, tensor):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
        tensor = tensor.clone()
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype)
        std = torch.as_tensor(self.std, dtype=tensor.dtype)
        if mean.ndim == 1:
            mean = mean.view(-1, 1, 1)
        if std.ndim == 1:
            std = std.view(-1, 1, 1)
        return tensor.sub_(mean).div_(std)


def _size(size):
    if isinstance(size, int):
        return (size, size)
    size = tuple(size)
    return (size[0], size[0]) if len(size) == 1 else size


def _resize(img, h, w):
    if isinstance(img, Image):
        rows = (np.arange(h) * img.array.shape[0] // h)
        cols = (np.arange(w) * img.array.shape[1] // w)
        return Image(img.array[rows][:, cols])
    return F.interpolate(img.unsqueeze(0), size=(h, w)).squeeze(0)


def _hw(img):
    return img.array.shape[:2] if isinstance(img, Image) else tuple(img.shape[-2:])


class Resize:
    def __init__(self, size, *args, **kwargs):
        self.size = size

    def __call__(self, img):
        h, w = _hw(img)
        if isinstance(self.size, int) or len(self.size) == 1:
            short = self.size if isinstance(self.size, int) else self.size[0]
            if h <= w:
                th, tw = short, int(short * w / h)
            else:
                th, tw = int(short * h / w), short
        else:
            th, tw = self.size
        return _resize(img, th, tw)


class CenterCrop:
    def __init__(self, size):
        self.size = _size(size)

    def __call__(self, img):
        h, w = _hw(img)
        th, tw = self.size
        if th > h or tw > w:
            img = _resize(img, max(h, th), max(w, tw))
            h, w = _hw(img)
        top, left = (h - th) // 2, (w - tw) // 2
        if isinstance(img, Image):
            return Image(img.array[top:top + th, left:left + tw])
        return img[..., top:top + th, left:left + tw]


class RandomCrop(CenterCrop):
    def __init__(self, size, padding=None, **kwargs):
        super().__init__(size)


class RandomResizedCrop:
    def __init__(self, size, *args, **kwargs):
        self.size = _size(size)

    def __call__(self, img):
        return _resize(img, *self.size)


class Grayscale:
    def __init__(self, num_output_channels=1):
        self.channels = num_output_channels

    def __call__(self, img):
        if isinstance(img, Image):
            gray = img.array.mean(axis=2, keepdims=True).astype(np.uint8)
            return Image(np.repeat(gray, self.channels, axis=2))
        gray = img.mean(dim=-3, keepdim=True)
        return gray.expand(*img.shape[:-3], self.channels, *img.shape[-2:]).clone()


class _Same:
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, img):
        return img


class RandomHorizontalFlip(_Same):
    pass


class RandomVerticalFlip(_Same):
    pass


class RandomRotation(_Same):
    pass


class ColorJitter(_Same):
    pass

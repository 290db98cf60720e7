"""Data augmentation on image tensors: flip, crop, rotate, colour and blur, plus a seeded
random mix of them for training batches.

Images are float tensors in [0, 1], shaped (C, H, W) or (N, C, H, W); every function returns
the same shape (``crop`` resizes back to the input size unless told otherwise).
"""

import math

import numpy as np
import torch
import torch.nn.functional as F


def to_tensor(image):
    """(H, W, 3) uint8 picture -> (3, H, W) float32 tensor in [0, 1]."""
    return torch.tensor(np.asarray(image), dtype=torch.float32).permute(2, 0, 1) / 255.0


def to_image(x):
    """(C, H, W) tensor in [0, 1] -> (H, W, C) NumPy array for ``plt.imshow``."""
    return x.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def _batched(fn):
    """Let ``fn`` written for (N, C, H, W) also accept a single (C, H, W) image."""
    def wrapper(x, *args, **kwargs):
        single = x.dim() == 3
        out = fn(x[None] if single else x, *args, **kwargs)
        return out[0] if single else out
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


@_batched
def flip(x, horizontal=True):
    """Mirror left-right (``horizontal``) or upside down."""
    return x.flip(-1 if horizontal else -2)


@_batched
def crop(x, top, left, height, width, size=None):
    """Cut the window at (top, left) and resize it (bilinear) to ``size`` (default: the input's)."""
    size = size or tuple(x.shape[-2:])
    window = x[..., top:top + height, left:left + width]
    return F.interpolate(window, size=size, mode="bilinear", align_corners=False)


def _affine(x, degrees, shift, scale):
    """Rotate by ``degrees``, shift by a fraction of the size and zoom by ``scale``, per image."""
    n = len(x)
    angle = torch.as_tensor(degrees, dtype=x.dtype, device=x.device).expand(n) * math.pi / 180
    shift = torch.as_tensor(shift, dtype=x.dtype, device=x.device).expand(n, 2)
    scale = torch.as_tensor(scale, dtype=x.dtype, device=x.device).expand(n)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    aspect = x.shape[-2] / x.shape[-1]          # the grid is in [-1, 1] on both axes: undo the stretch
    theta = torch.stack([torch.stack([cos, -sin * aspect, -2 * shift[:, 0]], 1),
                         torch.stack([sin / aspect, cos, -2 * shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@_batched
def rotate(x, degrees):
    """Rotate about the centre (positive = counter-clockwise on screen); corners fill with 0."""
    return _affine(x, float(degrees), 0.0, 1.0)


@_batched
def colour(x, brightness=1.0, contrast=1.0, saturation=1.0):
    """Scale brightness, contrast (around the image mean) and saturation (around grey)."""
    x = x * brightness
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = mean + contrast * (x - mean)
    if x.shape[1] == 3:
        grey = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device)[:, None, None]).sum(1, keepdim=True)
        x = grey + saturation * (x - grey)
    return x.clamp(0, 1)


def gaussian_kernel(sigma, radius=None):
    """Normalised 1D Gaussian weights of standard deviation ``sigma`` (radius 3 sigma)."""
    radius = radius or max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    weights = torch.exp(-t ** 2 / (2 * sigma ** 2))
    return weights / weights.sum()


@_batched
def blur(x, sigma):
    """Gaussian blur, one separable pass per axis and channel, edges replicated."""
    if sigma <= 0:
        return x
    k = gaussian_kernel(sigma).to(x)
    channels, r = x.shape[1], len(k) // 2
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(channels, 1, 1, 1),
                 groups=channels)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).repeat(channels, 1, 1, 1),
                    groups=channels)


class RandomAugment:
    """A seeded random augmentation of training batches (N, C, H, W), drawn per image.

    ``flip``: probability of a left-right mirror; ``degrees``: rotation range +-;
    ``shift``: translation range +- as a fraction of the size (a random crop);
    ``scale``: zoom range; ``brightness``/``contrast``: +- relative change;
    ``blur``: probability of a Gaussian blur of ``sigma``.
    Pass it to ``cnncourse.train.fit(..., augment=RandomAugment(...))``.
    """

    def __init__(self, flip=0.0, degrees=0.0, shift=0.0, scale=(1.0, 1.0), brightness=0.0,
                 contrast=0.0, blur=0.0, sigma=1.0, seed=0):
        self.flip, self.degrees, self.shift, self.scale = flip, degrees, shift, scale
        self.brightness, self.contrast, self.blur, self.sigma = brightness, contrast, blur, sigma
        self.generator = torch.Generator().manual_seed(seed)

    def _uniform(self, n, low, high):
        return low + (high - low) * torch.rand(n, generator=self.generator)

    def __call__(self, x):
        n, device = len(x), x.device
        draw = lambda low, high: self._uniform(n, low, high).to(device)  # noqa: E731
        mirror = draw(0, 1) < self.flip
        x = torch.where(mirror[:, None, None, None], x.flip(-1), x)
        if self.degrees or self.shift or self.scale != (1.0, 1.0):
            shift = torch.stack([draw(-self.shift, self.shift), draw(-self.shift, self.shift)], 1)
            x = _affine(x, draw(-self.degrees, self.degrees), shift, draw(*self.scale))
        if self.brightness or self.contrast:
            brightness = draw(1 - self.brightness, 1 + self.brightness)[:, None, None, None]
            contrast = draw(1 - self.contrast, 1 + self.contrast)[:, None, None, None]
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = ((mean + contrast * (x - mean)) * brightness).clamp(0, 1)
        if self.blur:
            x = torch.where((draw(0, 1) < self.blur)[:, None, None, None], blur(x, self.sigma), x)
        return x

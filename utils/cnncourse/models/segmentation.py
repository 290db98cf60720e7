"""Semantic segmentation: a convolutional encoder-decoder and a U-Net (Ronneberger, Fischer &
Brox 2015, "U-Net: Convolutional Networks for Biomedical Image Segmentation", MICCAI), small
enough to train on a CPU; the per-pixel loss, IoU and a shift-equivariance measure.

Both nets map (N, C, H, W) images to (N, classes, H, W) per-pixel logits; H and W must be
divisible by ``2 ** depth``. The U-Net differs only by its skip connections: each decoder
level also reads the encoder's feature maps of the same size.
"""

import torch
import torch.nn.functional as F
from torch import nn


def conv_block(in_channels, out_channels):
    """Two 3x3 convolutions (same padding), each followed by batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class EncoderDecoder(nn.Module):
    """Encoder (conv blocks + 2x2 max pooling, channels doubling) and a mirror decoder
    (2x2 transposed convolutions with stride 2 + conv blocks), then a 1x1 convolution to
    per-pixel class logits. ``skips=True`` concatenates encoder maps into the decoder (U-Net)."""

    def __init__(self, in_channels=1, num_classes=4, width=8, depth=2, skips=False):
        super().__init__()
        widths = [width * 2 ** level for level in range(depth + 1)]
        self.skips = skips
        self.down = nn.ModuleList(conv_block(c_in, c_out) for c_in, c_out
                                  in zip([in_channels] + widths[:-2], widths[:-1]))
        self.bottom = conv_block(widths[-2], widths[-1])
        self.up = nn.ModuleList(nn.ConvTranspose2d(c, c // 2, 2, stride=2) for c in widths[:0:-1])
        self.decode = nn.ModuleList(conv_block(c if skips else c // 2, c // 2) for c in widths[:0:-1])
        self.classify = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x):
        kept = []
        for block in self.down:
            x = block(x)
            kept.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for up, block, skip in zip(self.up, self.decode, reversed(kept)):
            x = up(x)
            x = block(torch.cat([skip, x], 1) if self.skips else x)
        return self.classify(x)


def unet(in_channels=1, num_classes=4, width=8, depth=2):
    """A U-Net: the encoder-decoder with skip connections."""
    return EncoderDecoder(in_channels, num_classes, width, depth, skips=True)


def pixel_loss(logits, masks, reduction="mean"):
    """Per-pixel cross-entropy, averaged over each image's pixels; ``reduction`` then acts
    over images ("mean", "sum" or "none"), so it plugs into ``cnncourse.train.fit``."""
    per_image = F.cross_entropy(logits, masks, reduction="none").flatten(1).mean(1)
    return {"mean": per_image.mean, "sum": per_image.sum, "none": lambda: per_image}[reduction]()


def class_iou(predicted, masks, num_classes):
    """IoU of each class (N, H, W labels vs truth), pooled over all pixels: (num_classes,).

    A class absent from both gives NaN.
    """
    ious = []
    for c in range(num_classes):
        p, t = predicted == c, masks == c
        union = (p | t).sum()
        ious.append(((p & t).sum() / union).item() if union else float("nan"))
    return torch.tensor(ious)


def mean_iou(logits, masks):
    """Mean IoU over the foreground classes (label 0 = background is left out)."""
    ious = class_iou(logits.argmax(1), masks, logits.shape[1])[1:]
    return ious.nanmean().item()


@torch.no_grad()
def shift_agreement(model, images, shift, margin=None):
    """Fraction of pixels whose predicted class is the same for "shift, then segment" and
    "segment, then shift": 1.0 means equivariant to this shift (dy, dx) in pixels.

    A band of ``margin`` pixels (default: the shift plus 4) at the border, where the
    circular shift wraps around and zero padding differs, is left out.
    """
    was_training = model.training
    model.eval()
    dy, dx = shift
    shifted_then = model(torch.roll(images, (dy, dx), (-2, -1))).argmax(1)
    then_shifted = torch.roll(model(images).argmax(1), (dy, dx), (-2, -1))
    model.train(was_training)
    m = margin if margin is not None else max(abs(dy), abs(dx)) + 4
    inner = (slice(None), slice(m, images.shape[-2] - m), slice(m, images.shape[-1] - m))
    return (shifted_then[inner] == then_shifted[inner]).float().mean().item()

"""A small YOLO-style detector (after Redmon et al. 2016, "You Only Look Once") and its loss.

The net turns an image into an S x S grid of cells; every cell predicts one box
``[confidence, x, y, w, h]`` and class scores (the paper predicts two boxes per cell;
one is enough when a cell holds at most one object). Targets come from
``cnncourse.boxes.encode``; detections from ``cnncourse.boxes.decode``.
"""

import torch.nn.functional as F
from torch import nn

from cnncourse.boxes import cell_boxes, iou
from cnncourse.models.segmentation import conv_block


class TinyYOLO(nn.Module):
    """Conv blocks with 2x2 pooling until the map is ``image_size / 2**downsamplings`` wide,
    then a 1x1 convolution to ``5 + num_classes`` channels per cell."""

    def __init__(self, in_channels=1, num_classes=3, width=16, downsamplings=3):
        super().__init__()
        layers, channels = [], in_channels
        for level in range(downsamplings):
            layers += [conv_block(channels, width * 2 ** level), nn.MaxPool2d(2)]
            channels = width * 2 ** level
        self.features = nn.Sequential(*layers, conv_block(channels, channels))
        self.head = nn.Conv2d(channels, 5 + num_classes, 1)

    def forward(self, x):
        return self.head(self.features(x))


def yolo_loss(outputs, target, reduction="mean", coord=5.0, noobj=0.5):
    """A simplified YOLO loss: sums of squared errors per image, with the paper's weights ``coord`` and ``noobj``.

    Cells with an object: squared error of (x, y) and of (sqrt w, sqrt h), ``coord`` times;
    confidence towards 1 (YOLOv1 regresses it to the IoU of the predicted box with the truth);
    cross-entropy of the class (the paper uses squared error).
    Empty cells: confidence towards 0, ``noobj`` times. ``reduction`` acts over images.
    """
    obj = target[:, 0]
    conf = outputs[:, 0].sigmoid()
    xy, wh = outputs[:, 1:3].sigmoid(), outputs[:, 3:5].sigmoid()
    box_error = ((xy - target[:, 1:3]) ** 2).sum(1) + ((wh.sqrt() - target[:, 3:5].sqrt()) ** 2).sum(1)
    class_error = F.cross_entropy(outputs[:, 5:], target[:, 5].long(), reduction="none")
    per_cell = obj * (coord * box_error + (conf - 1) ** 2 + class_error) + noobj * (1 - obj) * conf ** 2
    per_image = per_cell.flatten(1).sum(1)
    return {"mean": per_image.mean, "sum": per_image.sum, "none": lambda: per_image}[reduction]()


def cell_iou(outputs, target):
    """Mean IoU between the box each responsible cell predicts and its true box (no NMS)."""
    size = 1.0                                    # IoU does not depend on the pixel scale
    predicted = cell_boxes(outputs[:, 1:3].sigmoid(), outputs[:, 3:5].sigmoid(), size)
    true = cell_boxes(target[:, 1:3], target[:, 3:5], size)
    found = target[:, 0] > 0.5
    p, t = predicted[found], true[found]
    return iou(p, t).diagonal().mean().item() if len(p) else float("nan")

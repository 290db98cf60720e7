"""Bounding boxes: formats, intersection over union, non-maximum suppression, and the
YOLO-style grid encoding (Redmon et al., "You Only Look Once", CVPR 2016).

Boxes are float tensors of pixel corners ``(x0, y0, x1, y1)`` unless a name says ``cxcywh``
(centre x, centre y, width, height). A grid of S x S cells covers an image of ``size`` pixels;
the cell that holds a box's centre is responsible for it. Its target channels are
``[objectness, x, y, w, h, class]``: x and y the centre's offset inside the cell (0..1), w and h
the box size as a fraction of the image, class the label index. Network outputs have channels
``[confidence logit, x logit, y logit, w logit, h logit, class logits...]``.
"""

import torch

TARGET_CHANNELS = 6


def _tensor(boxes):
    return torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)


def xyxy_to_cxcywh(boxes):
    """Corners -> (centre x, centre y, width, height)."""
    b = _tensor(boxes)
    return torch.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                        b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)


def cxcywh_to_xyxy(boxes):
    """(centre x, centre y, width, height) -> corners."""
    b = _tensor(boxes)
    half = b[:, 2:] / 2
    return torch.cat([b[:, :2] - half, b[:, :2] + half], 1)


def area(boxes):
    """Area of each box (zero for an empty or inverted box)."""
    b = _tensor(boxes)
    return (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)


def iou(a, b):
    """Intersection over union of every box in ``a`` (N, 4) with every box in ``b`` (M, 4): (N, M)."""
    a, b = _tensor(a), _tensor(b)
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(2)
    union = area(a)[:, None] + area(b)[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def nms(boxes, scores, iou_threshold=0.5):
    """Non-maximum suppression: indices of the boxes kept, highest score first.

    Repeatedly keep the best remaining box and drop every remaining box that overlaps it
    with IoU above ``iou_threshold``.
    """
    boxes, scores = _tensor(boxes), torch.as_tensor(scores, dtype=torch.float32).reshape(-1)
    order = scores.argsort(descending=True, stable=True)
    overlaps = iou(boxes, boxes)
    keep = []
    while len(order):
        best = order[0]
        keep.append(int(best))
        order = order[1:][overlaps[best, order[1:]] <= iou_threshold]
    return torch.tensor(keep, dtype=torch.long)


def encode(boxes, labels, grid, size):
    """YOLO targets (N, 6, grid, grid) for N images' boxes (list of (n_i, 4)) and labels.

    A cell that holds two centres keeps the later box (the scenes of ``cnncourse.synthetic``
    never do this when the cell is no larger than the smallest object).
    """
    target = torch.zeros(len(boxes), TARGET_CHANNELS, grid, grid)
    cell = size / grid
    for i, (image_boxes, image_labels) in enumerate(zip(boxes, labels)):
        for (cx, cy, w, h), label in zip(xyxy_to_cxcywh(image_boxes).tolist(), list(image_labels)):
            col, row = min(int(cx / cell), grid - 1), min(int(cy / cell), grid - 1)
            target[i, :, row, col] = torch.tensor(
                [1.0, cx / cell - col, cy / cell - row, w / size, h / size, float(label)])
    return target


def cell_boxes(xy, wh, size):
    """Pixel corners (N, S, S, 4) from in-cell centres ``xy`` and image fractions ``wh`` (N, 2, S, S)."""
    grid = xy.shape[-1]
    rows, cols = torch.meshgrid(torch.arange(grid, device=xy.device),
                                torch.arange(grid, device=xy.device), indexing="ij")
    cx = (cols + xy[:, 0]) * size / grid
    cy = (rows + xy[:, 1]) * size / grid
    w, h = wh[:, 0] * size, wh[:, 1] * size
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)


def decode_targets(target, size):
    """Inverse of :func:`encode`: a list of (boxes (n_i, 4), labels (n_i,)) per image."""
    corners = cell_boxes(target[:, 1:3], target[:, 3:5], size)
    found = target[:, 0] > 0.5
    return [(corners[i][found[i]], target[i, 5][found[i]].long()) for i in range(len(target))]


def decode(outputs, size, score_threshold=0.3, iou_threshold=0.5):
    """Detections from raw network outputs (N, 5 + classes, S, S), after per-class NMS.

    A cell's score is its confidence times its most likely class probability (as in YOLO).
    Returns one dict per image: ``boxes`` (k, 4) pixel corners, ``scores`` (k,), ``labels`` (k,).
    """
    outputs = outputs.detach().float()
    probs = outputs[:, 5:].softmax(1)
    best_prob, best_class = probs.max(1)
    scores = outputs[:, 0].sigmoid() * best_prob
    corners = cell_boxes(outputs[:, 1:3].sigmoid(), outputs[:, 3:5].sigmoid(), size)
    detections = []
    for i in range(len(outputs)):
        keep = scores[i] > score_threshold
        boxes, s, labels = corners[i][keep].cpu(), scores[i][keep].cpu(), best_class[i][keep].cpu()
        kept = [torch.zeros(0, dtype=torch.long)]
        for c in labels.unique():                              # NMS within each class
            members = torch.nonzero(labels == c).reshape(-1)
            kept.append(members[nms(boxes[members], s[members], iou_threshold)])
        kept = torch.cat(kept)
        kept = kept[s[kept].argsort(descending=True)]
        detections.append({"boxes": boxes[kept], "scores": s[kept], "labels": labels[kept]})
    return detections


def detection_scores(detections, boxes, labels, iou_threshold=0.5):
    """How well ``detections`` (from :func:`decode`) find the true ``boxes`` and ``labels``.

    ``mean_iou``: each true box's best IoU with a detection of its class, averaged (0 when
    missed). ``precision`` / ``recall``: detections matched one-to-one, best score first, to an
    unmatched true box of the same class with IoU >= ``iou_threshold``.
    """
    best, matched, found = [], 0, 0
    for det, true_boxes, true_labels in zip(detections, boxes, labels):
        true_boxes, true_labels = _tensor(true_boxes), torch.as_tensor(true_labels).reshape(-1)
        same = det["labels"][:, None] == true_labels[None, :]
        overlap = iou(det["boxes"], true_boxes) * same
        best.extend((overlap.max(0).values if len(det["boxes"]) else torch.zeros(len(true_boxes))).tolist())
        free = torch.ones(len(true_boxes), dtype=torch.bool)
        for row in overlap:                                   # detections arrive best score first
            candidates = torch.where(free, row, torch.full_like(row, -1.0))
            if len(candidates) and candidates.max() >= iou_threshold:
                free[candidates.argmax()] = False
                matched += 1
        found += len(det["boxes"])
    n_true = len(best)
    return {"mean_iou": sum(best) / max(n_true, 1), "precision": matched / max(found, 1),
            "recall": matched / max(n_true, 1)}

"""Checks for the exercises of lecture 12 (beyond classification: segmentation, detection).

Oracles: ``cnncourse.boxes.iou`` and ``cnncourse.boxes.nms``, the package's own (tested)
implementations; the learner writes theirs, the answers are in the lecture.
"""

import torch

from cnncourse import boxes
from cnncourse.checks import CheckError, check_close
from cnncourse.exercises import call, exercise

IOU_CASES = [  # (box a, box b, what the case tests), corners (x0, y0, x1, y1)
    ((0, 0, 4, 4), (2, 2, 6, 6), "a partial overlap"),
    ((0, 0, 4, 4), (0, 0, 4, 4), "identical boxes"),
    ((0, 0, 4, 4), (5, 5, 8, 8), "boxes apart in both directions"),
    ((0, 0, 4, 4), (6, 0, 9, 4), "boxes apart left to right, level top to bottom"),
    ((0, 0, 4, 4), (4, 0, 8, 4), "boxes that touch along an edge"),
    ((0, 0, 10, 10), (2, 3, 5, 7), "one box inside the other"),
    ((1.5, 2.0, 7.5, 4.0), (3.0, 0.5, 5.0, 9.5), "a cross of two thin boxes, fractional corners"),
]


@exercise("box_iou")
def check_box_iou(box_iou):
    """``box_iou(a, b)``: intersection over union of two boxes given as (x0, y0, x1, y1)."""
    for a, b, what in IOU_CASES:
        want = boxes.iou([a], [b])[0, 0].item()
        name = f"{box_iou.__name__}({a}, {b}) [{what}]"
        got = call(box_iou, a, b)
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, (int, float)) and want == 0 and got != 0:
            raise CheckError(f"{name}: expected 0, got {got:.4g}: boxes that do not overlap share no area; "
                             "clamp the intersection's width and height at 0 before multiplying them")
        check_close(got, want, name=name, rtol=1e-5, atol=1e-6)


def _nms_cases():
    g = torch.Generator().manual_seed(12)
    cases = [(torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 9, 10.0]]),
              torch.tensor([0.9, 0.8, 0.7, 0.95]), 0.5, "two objects, three boxes on the first"),
             (torch.tensor([[0, 0, 4, 4], [0, 0, 4, 4.0]]), torch.tensor([0.3, 0.6]), 0.5, "a duplicate box"),
             (torch.tensor([[0, 0, 10, 10], [5, 0, 15, 10.0]]), torch.tensor([0.9, 0.8]), 0.3,
              "IoU 1/3 just above a threshold of 0.3"),
             (torch.tensor([[0, 0, 10, 10], [5, 0, 15, 10.0]]), torch.tensor([0.9, 0.8]), 0.4,
              "IoU 1/3 below a threshold of 0.4")]
    for n, threshold in [(12, 0.5), (30, 0.3), (30, 0.7)]:
        corner = torch.rand(n, 2, generator=g) * 20
        size = 3 + torch.rand(n, 2, generator=g) * 8
        scores = torch.randperm(n, generator=g).float() / n + 0.01  # distinct scores, no ties
        cases.append((torch.cat([corner, corner + size], 1), scores, threshold, f"{n} random boxes"))
    return cases


@exercise("nms")
def check_nms(nms):
    """``nms(boxes, scores, iou_threshold)``: indices of the boxes kept, highest score first."""
    for b, s, threshold, what in _nms_cases():
        want = boxes.nms(b, s, threshold).tolist()
        name = f"{nms.__name__}(<{len(b)} boxes>, <{len(s)} scores>, {threshold}) [{what}]"
        got = call(nms, b.clone(), s.clone(), threshold)
        try:
            got = [int(i) for i in got]
        except (TypeError, ValueError):
            raise CheckError(f"{name}: expected a list (or 1D tensor) of indices, got {type(got).__name__}") from None
        if sorted(got) == sorted(want) and got != want:
            raise CheckError(f"{name}: the right boxes kept in the wrong order: expected {want}, got {got} "
                             "(highest score first)")
        if got != want:
            extra = sorted(set(got) - set(want))
            missing = sorted(set(want) - set(got))
            raise CheckError(f"{name}: expected {want}, got {got}"
                             + (f"; kept but should be suppressed: {extra}" if extra else "")
                             + (f"; suppressed but should be kept: {missing}" if missing else ""))

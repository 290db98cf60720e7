"""Box formats, IoU and NMS against hand-computed cases; YOLO encode/decode round trips."""

import math

import pytest
import torch

from cnncourse import boxes, synthetic


def test_formats_round_trip():
    xyxy = torch.tensor([[2.0, 4.0, 10.0, 8.0]])
    assert boxes.xyxy_to_cxcywh(xyxy).tolist() == [[6.0, 6.0, 8.0, 4.0]]
    assert torch.equal(boxes.cxcywh_to_xyxy(boxes.xyxy_to_cxcywh(xyxy)), xyxy)
    assert boxes.area([[0, 0, 3, 2], [5, 5, 4, 4]]).tolist() == [6.0, 0.0]


@pytest.mark.parametrize("a, b, expected", [
    ([0, 0, 2, 2], [1, 1, 3, 3], 1 / 7),        # overlap 1, union 4 + 4 - 1
    ([0, 0, 2, 2], [0, 0, 2, 2], 1.0),
    ([0, 0, 2, 2], [2, 0, 4, 2], 0.0),          # touching edges
    ([0, 0, 4, 4], [1, 1, 3, 3], 4 / 16),       # nested
    ([0, 0, 10, 2], [5, 0, 15, 2], 10 / 30),
])
def test_iou_hand_computed(a, b, expected):
    assert math.isclose(boxes.iou([a], [b]).item(), expected, rel_tol=1e-6)
    assert math.isclose(boxes.iou([b], [a]).item(), expected, rel_tol=1e-6)


def test_iou_is_pairwise_and_handles_empty_boxes():
    result = boxes.iou([[0, 0, 2, 2], [0, 0, 0, 0]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]])
    assert result.shape == (2, 3)
    assert torch.allclose(result[0], torch.tensor([1 / 7, 1.0, 0.0]))
    assert torch.equal(result[1], torch.zeros(3))


def test_nms_hand_computed():
    b = [[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 10, 5]]
    scores = [0.8, 0.9, 0.7, 0.6]
    # box 1 wins; box 0 overlaps it by 9/11 > 0.5 and goes; box 3 overlaps box 1 by 45/105 and stays
    assert boxes.nms(b, scores, 0.5).tolist() == [1, 2, 3]
    assert boxes.nms(b, scores, 0.4).tolist() == [1, 2]
    assert boxes.nms(b, scores, 0.95).tolist() == [1, 0, 2, 3]
    assert boxes.nms(torch.zeros(0, 4), torch.zeros(0)).tolist() == []


def _sorted(b, labels):
    return sorted(zip(torch.as_tensor(b).round(decimals=4).tolist(), torch.as_tensor(labels).tolist()))


def test_encode_puts_each_box_in_the_cell_of_its_centre():
    target = boxes.encode([torch.tensor([[4.0, 20.0, 12.0, 30.0]])], [[2]], grid=4, size=32)
    assert target.shape == (1, boxes.TARGET_CHANNELS, 4, 4)
    assert target[0, 0].sum() == 1 and target[0, 0, 3, 1] == 1          # centre (8, 25): row 3, col 1
    assert torch.allclose(target[0, :, 3, 1], torch.tensor([1, 0.0, 0.125, 0.25, 0.3125, 2]))


def test_encode_decode_round_trip_on_scenes():
    scenes = synthetic.scenes(200, size=32, seed=3)
    decoded = boxes.decode_targets(boxes.encode(scenes.boxes, scenes.labels, grid=4, size=32), 32)
    for (b, labels), true_b, true_labels in zip(decoded, scenes.boxes, scenes.labels):
        assert _sorted(b, labels) == _sorted(true_b, true_labels)


def _perfect_outputs(target, num_classes=3, sharp=30.0):
    """Network outputs whose activations reproduce ``target`` exactly (logit of the targets)."""
    logit = lambda p: torch.logit(p.clamp(1e-6, 1 - 1e-6))  # noqa: E731
    classes = torch.nn.functional.one_hot(target[:, 5].long(), num_classes).permute(0, 3, 1, 2) * sharp
    return torch.cat([(2 * target[:, :1] - 1) * sharp, logit(target[:, 1:5]), classes.float()], 1)


def test_decode_of_perfect_outputs_finds_every_box():
    scenes = synthetic.scenes(50, size=32, seed=4)
    outputs = _perfect_outputs(boxes.encode(scenes.boxes, scenes.labels, grid=4, size=32))
    detections = boxes.decode(outputs, size=32)
    for det, true_b, true_labels in zip(detections, scenes.boxes, scenes.labels):
        assert torch.allclose(torch.tensor([b for b, _ in _sorted(det["boxes"], det["labels"])]),
                              torch.tensor([b for b, _ in _sorted(true_b, true_labels)]), atol=1e-3)
        assert (det["scores"][:-1] >= det["scores"][1:]).all()
    scores = boxes.detection_scores(detections, scenes.boxes, scenes.labels)
    assert scores == pytest.approx({"mean_iou": 1.0, "precision": 1.0, "recall": 1.0}, abs=1e-4)


def test_decode_suppresses_duplicates_of_the_same_class_only():
    target = boxes.encode([torch.tensor([[6.0, 6.0, 22.0, 22.0]])], [[0]], grid=4, size=32)  # cell (1, 1)
    outputs = _perfect_outputs(target)
    # the neighbouring cell (row 1, col 2) predicts a box 2.08 px to the right (IoU 0.77), less sure
    outputs[0, :, 1, 2] = outputs[0, :, 1, 1]
    outputs[0, 1, 1, 2] = torch.logit(torch.tensor(0.01))
    outputs[0, 0, 1, 2] = 1.0
    det = boxes.decode(outputs, size=32, score_threshold=0.3)[0]
    assert len(det["boxes"]) == 1 and det["labels"].tolist() == [0]
    outputs[0, 5:, 1, 2] = torch.tensor([-30.0, 30.0, -30.0])       # now it says class 1
    det = boxes.decode(outputs, size=32, score_threshold=0.3)[0]
    assert sorted(det["labels"].tolist()) == [0, 1]


def test_detection_scores_hand_computed():
    truth = [torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]])]
    det = [{"boxes": torch.tensor([[0.0, 0, 10, 5], [20, 20, 30, 30], [50, 50, 60, 60]]),
            "scores": torch.tensor([0.9, 0.8, 0.7]), "labels": torch.tensor([0, 1, 0])}]
    scores = boxes.detection_scores(det, truth, [torch.tensor([0, 1])])
    assert scores["mean_iou"] == pytest.approx((0.5 + 1.0) / 2)
    assert scores["recall"] == pytest.approx(1.0) and scores["precision"] == pytest.approx(2 / 3)
    assert boxes.detection_scores(det, truth, [torch.tensor([0, 1])], iou_threshold=0.6)["recall"] == 0.5
    assert boxes.detection_scores(det, truth, [torch.tensor([1, 0])])["mean_iou"] == 0.0

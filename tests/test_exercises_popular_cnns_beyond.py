"""The exercise checks of lectures 10 (popular CNNs) and 12 (beyond classification): each passes
the answer printed in the lecture's <details> block, fails a wrong answer with a precise message,
and only notes an untouched exercise."""

import pytest
import torch
from torch import nn

from cnncourse.checks import CheckError
from cnncourse.exercises import beyond, popular_cnns
from lecture_answers import answers


@pytest.fixture(scope="module")
def popular():
    return answers("lectures/10_popular_cnns.ipynb")


@pytest.fixture(scope="module")
def beyond_answers():
    return answers("lectures/12_beyond_classification.ipynb")


def _untouched(*args, **kwargs):
    raise NotImplementedError  # your code here


@pytest.mark.parametrize("check", [popular_cnns.check_conv_params, popular_cnns.check_vgg_features,
                                   popular_cnns.check_inception_params, beyond.check_box_iou, beyond.check_nms])
def test_untouched_exercise_is_only_noted(check, capsys):
    assert check(_untouched) is False
    assert "not attempted yet" in capsys.readouterr().out


# Lecture 10 ---------------------------------------------------------------------------------------

def test_conv_params_right(popular, capsys):
    assert popular_cnns.check_conv_params(popular["conv_params"]) is True
    assert "✓ conv_params" in capsys.readouterr().out


def test_conv_params_without_groups_gets_a_hint():
    def conv_params(cin, cout, k, groups=1):
        return cout * (cin * k * k + 1)

    with pytest.raises(CheckError, match=r"conv_params\(96, 256, 5, groups=2\): expected 307456, got 614656, "
                                         r"the count without groups"):
        popular_cnns.check_conv_params(conv_params)


def test_conv_params_without_bias_names_the_case():
    def conv_params(cin, cout, k, groups=1):
        return cout * cin // groups * k * k

    with pytest.raises(CheckError, match=r"conv_params\(3, 96, 11, groups=1\): wrong value: expected 34944, got 34848"):
        popular_cnns.check_conv_params(conv_params)


def test_vgg_features_right(popular, capsys):
    assert popular_cnns.check_vgg_features(popular["vgg_features"]) is True
    assert "✓ vgg_features" in capsys.readouterr().out


def _vgg(config, in_channels=3, padding=1, relu=True, pool=2):
    layers = []
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(pool, pool))
        else:
            layers += [nn.Conv2d(in_channels, item, 3, padding=padding)] + ([nn.ReLU()] if relu else [])
            in_channels = item
    return nn.Sequential(*layers)


def test_vgg_features_without_padding_is_named():
    with pytest.raises(CheckError, match=r"convolution 0 has kernel \(3, 3\), padding \(0, 0\)"):
        popular_cnns.check_vgg_features(lambda config, in_channels=3: _vgg(config, in_channels, padding=0))


def test_vgg_features_without_relu_differs_in_values():
    with pytest.raises(CheckError, match=r"applied to a batch of shape \(2, 1, 16, 16\): wrong values"):
        popular_cnns.check_vgg_features(lambda config, in_channels=3: _vgg(config, in_channels, relu=False))


def test_vgg_features_ignoring_in_channels_is_named():
    with pytest.raises(CheckError, match=r"weights of shape \(8, 3, 3, 3\), expected \(8, 1, 3, 3\)"):
        popular_cnns.check_vgg_features(lambda config, in_channels=3: _vgg(config))


def test_vgg_features_must_return_a_module():
    with pytest.raises(CheckError, match="expected an nn.Module"):
        popular_cnns.check_vgg_features(lambda config, in_channels=3: list(_vgg(config, in_channels)))


def test_inception_params_right(popular, capsys):
    assert popular_cnns.check_inception_params(popular["inception_params"]) is True
    assert "✓ inception_params" in capsys.readouterr().out


def test_inception_params_forgetting_the_pool_branch_is_named(popular):
    conv = popular["conv_params"]

    def inception_params(cin, c1, c3r, c3, c5r, c5, pool_proj):
        return conv(cin, c1, 1) + conv(cin, c3r, 1) + conv(c3r, c3, 3) + conv(cin, c5r, 1) + conv(c5r, c5, 5)

    with pytest.raises(CheckError, match=r"inception_params\(192, 64, 96, 128, 16, 32, 32\) \(module 3a\): "
                                         r"wrong value: expected 163696, got 157520"):
        popular_cnns.check_inception_params(inception_params)


# Lecture 12 ---------------------------------------------------------------------------------------

def test_box_iou_right(beyond_answers, capsys):
    assert beyond.check_box_iou(beyond_answers["box_iou"]) is True
    assert "✓ box_iou" in capsys.readouterr().out


def test_box_iou_without_clamp_gets_a_hint():
    def box_iou(a, b):
        inter = (min(a[2], b[2]) - max(a[0], b[0])) * (min(a[3], b[3]) - max(a[1], b[1]))
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union

    with pytest.raises(CheckError, match=r"\[boxes apart in both directions\]: expected 0, got 0\.04167: "
                                         r"boxes that do not overlap share no area"):
        beyond.check_box_iou(box_iou)


def test_box_iou_dividing_by_the_sum_is_named():
    def box_iou(a, b):
        inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]))

    with pytest.raises(CheckError, match=r"box_iou\(\(0, 0, 4, 4\), \(2, 2, 6, 6\)\) \[a partial overlap\]: "
                                         r"wrong value: expected 0\.142857\d*, got 0\.125"):
        beyond.check_box_iou(box_iou)


def test_nms_right(beyond_answers, capsys):
    assert beyond.check_nms(beyond_answers["nms"]) is True
    assert "✓ nms" in capsys.readouterr().out


def test_nms_in_index_order_is_named(beyond_answers):
    def nms(boxes, scores, iou_threshold):
        return sorted(beyond_answers["nms"](boxes, scores, iou_threshold))

    with pytest.raises(CheckError, match=r"the right boxes kept in the wrong order: expected \[3, 2\], got \[2, 3\]"):
        beyond.check_nms(nms)


def test_nms_suppressing_at_equal_threshold_or_below_is_named(beyond_answers):
    box_iou = beyond_answers["box_iou"]

    def nms(boxes, scores, iou_threshold):  # suppresses every overlap, whatever the threshold
        order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
        keep = []
        for i in order:
            if all(box_iou(boxes[i].tolist(), boxes[j].tolist()) == 0 for j in keep):
                keep.append(i)
        return keep

    with pytest.raises(CheckError, match=r"\[IoU 1/3 below a threshold of 0\.4\]: expected \[0, 1\], got \[0\]; "
                                         r"suppressed but should be kept: \[1\]"):
        beyond.check_nms(nms)


def test_nms_without_suppression_is_named():
    def nms(boxes, scores, iou_threshold):
        return scores.argsort(descending=True).tolist()

    with pytest.raises(CheckError, match=r"kept but should be suppressed: \[0, 1\]"):
        beyond.check_nms(nms)

"""The popular CNNs at 224x224: parameters, MACs, activation memory, CPU ms per forward.

Counts come from ``cnncourse.counting.profile`` on the meta device (exact, instant); the
time is the median of a few inference forwards at batch 1 on the CPU, after one warm-up.
``quick`` times only the small nets, once each.
"""

import torch

from cnncourse import models
from cnncourse.counting import forward_ms, profile

NETS = {
    "AlexNet": models.alexnet, "VGG-16": models.vgg16, "VGG-19": models.vgg19,
    "GoogLeNet": models.googlenet, "ResNet-18": models.resnet18, "ResNet-50": models.resnet50,
    "ResNet-152": models.resnet152,
}
QUICK_TIMED = ("AlexNet", "ResNet-18")


def run(quick=False):
    repeats = 1 if quick else 5
    threads = torch.get_num_threads()
    rows = []
    for name, constructor in NETS.items():
        with torch.device("meta"):
            counted = profile(constructor())
        rows += [
            {"name": f"{name} parameters", "value": counted.params, "unit": "count"},
            {"name": f"{name} MACs", "value": round(counted.macs / 1e9, 3), "unit": "G",
             "note": "224x224, conv + linear"},
            {"name": f"{name} activations", "value": round(counted.activation_bytes / 2**20, 1),
             "unit": "MiB", "note": "float32, batch 1, outputs of the forward pass"},
        ]
        if quick and name not in QUICK_TIMED:
            continue
        torch.manual_seed(0)
        ms = forward_ms(constructor(), (1, 3, 224, 224), repeats=repeats, warmup=1)
        rows.append({"name": f"{name} CPU forward", "value": round(ms, 1), "unit": "ms",
                     "note": f"batch 1, median of {repeats}, {threads} threads"})
    return rows

"""PS3 · 2D shapes and the popular CNNs' building blocks: the graded items (see ``cnncourse.problemsets``).

Blocks are judged with a state the judge chose (random weights and batch-norm statistics) loaded
into the learner's module; the visible checks compare with the block written in
``torch.nn.functional`` from the same weights, the grader with the answer key.
"""

import sys

import numpy as np

from cnncourse import problemsets
from cnncourse.problemsets import Item, arg, case, judge_module, random_state, same_array, same_number, same_value, state_arg

ALEXNET = [("conv", 96, 11, 4, 0), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("pool", 3, 2),
           ("conv", 384, 3, 1, 1), ("conv", 384, 3, 1, 1), ("conv", 256, 3, 1, 1), ("pool", 3, 2)]
VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

# What answers may use (checked by the grader on the submission's code, per item): PyTorch, NumPy and
# the standard library's arithmetic; not the course package nor torchvision. Items that ask for a
# formula may not build a network to measure it.
ALLOWED = ("torch", "numpy") + problemsets.STDLIB
FORMULAS = ("numpy",) + problemsets.STDLIB


def check(grade_id, **objects):
    """Run the visible checks of PS3's item ``grade_id`` against the learner's ``objects``."""
    problemsets.check(sys.modules[__name__], grade_id, **objects)


def _images(rng, n, c, h, w=None):
    import torch
    return torch.from_numpy(rng.normal(size=(n, c, h, w or h)).astype(np.float32))


def _conv_spec(prefix, cout, cin, k, bias=True):
    spec = {f"{prefix}weight": (cout, cin, k, k)}
    if bias:
        spec[f"{prefix}bias"] = (cout,)
    return spec


def _bn_spec(prefix, c):
    return {f"{prefix}weight": (c,), f"{prefix}bias": (c,), f"{prefix}running_mean": (c,),
            f"{prefix}running_var": (c,), f"{prefix}num_batches_tracked": ()}


# ------------------------------------------------------------------------------------ 1 shapes
def _random_stack(rng):
    """A random valid stack of ("conv", C, kernel, stride, padding) and ("pool", kernel, stride)."""
    while True:
        layers, size = [], int(rng.integers(20, 80))
        for _ in range(int(rng.integers(1, 6))):
            k = int(rng.integers(1, 6))
            layers.append(("pool", k, int(rng.integers(1, 3))) if rng.random() < 0.3 else
                          ("conv", int(rng.integers(1, 9)), k, int(rng.integers(1, 4)), int(rng.integers(0, 3))))
        stack = (int(rng.integers(1, 4)), size, size + int(rng.integers(0, 5))), layers
        try:
            _meta_shapes(*stack)
            return stack
        except RuntimeError:
            continue


def _shape_cases(rng, visible):
    stacks = [((3, 227, 227), ALEXNET)] + ([] if visible else [_random_stack(rng) for _ in range(5)])
    return [case(f"feature_shapes({shape}, {'ALEXNET' if layers is ALEXNET else layers})", "feature_shapes",
                 shape, layers) for shape, layers in stacks]


def _meta_shapes(input_shape, layers):
    import torch
    import torch.nn.functional as F
    h, shapes = torch.empty(1, *input_shape, device="meta"), []
    for layer in layers:
        if layer[0] == "conv":
            h = torch.nn.Conv2d(h.shape[1], layer[1], layer[2], layer[3], layer[4], device="meta")(h)
        else:
            h = F.max_pool2d(h, layer[1], layer[2])
        shapes.append(tuple(int(n) for n in h.shape[1:]))
    return shapes


def _judge_shapes(c, got, want):
    message = same_value(got, want, c["name"], rtol=0)
    if message is None or type(got) is not list or len(got) != len(want):
        return message
    layers = problemsets.probe.decode(c["args"][1])
    before = tuple(problemsets.probe.decode(c["args"][0]))
    for i, (g, w, layer) in enumerate(zip(got, want, layers)):
        if g != w:
            if layer[0] == "conv":
                _, out, k, stride, pad = layer
                rule = (f"a conv sets the channels to {out}, and each size becomes floor((W - {k} + 2·{pad}) / {stride}) + 1")
            else:
                _, k, stride = layer
                rule = f"pooling keeps the {before[0]} channels; each size becomes floor((W - {k}) / {stride}) + 1"
            return f"{c['name']}: layer {i + 1} {layer} on {before}: expected {w}, got {g}; {rule}"
        before = w
    return message


# ------------------------------------------------------------------------------------ 2 VGG block
def _vgg_spec(cin, cout, n):
    spec = {}
    for i in range(n):
        spec.update(_conv_spec(f"{2 * i}.", cout, cin if i == 0 else cout, 3))
    return spec


def _vgg_cases(rng, visible):
    settings = [(3, 8, 2)] if visible else [(int(rng.integers(1, 6)), int(rng.integers(1, 9)), int(rng.integers(1, 4)))
                                            for _ in range(2)]
    return [case(f"vgg_block{s} with the judge's weights", "vgg_block", *s,
                 then={"load_state": state_arg(random_state(rng, _vgg_spec(*s))), "params": True, "mode": "eval",
                       "forward": [arg(_images(rng, 2, s[0], 16 if visible else int(rng.integers(4, 13))))]},
                 ) for s in settings]


def _judge_vgg(c, got, want):
    cin, cout, n = (a["v"] for a in c["args"])
    return judge_module(c, got, want, _vgg_spec(cin, cout, n), "num_convs × (3×3 conv, ReLU), then a 2×2 max pool")


# ------------------------------------------------------------------------------------ 3 BasicBlock
def _block_spec(cin, cout, stride):
    spec = {**_conv_spec("conv1.", cout, cin, 3, False), **_bn_spec("bn1.", cout),
            **_conv_spec("conv2.", cout, cout, 3, False), **_bn_spec("bn2.", cout)}
    if stride != 1 or cin != cout:
        spec.update({**_conv_spec("shortcut.0.", cout, cin, 1, False), **_bn_spec("shortcut.1.", cout)})
    return spec


def _block_cases(rng, visible):
    settings = [(4, 8, 2, "eval"), (8, 8, 1, "eval")] if visible else [(6, 6, 1, "eval"), (5, 10, 2, "eval"),
                                                                       (5, 10, 2, "train")]
    return [case(f"BasicBlock{s[:3]} with the judge's weights and statistics, {s[3]} mode", "BasicBlock", *s[:3],
                 then={"load_state": state_arg(random_state(rng, _block_spec(*s[:3]))), "params": True, "mode": s[3],
                       "forward": [arg(_images(rng, 2, s[0], 10 if visible else 8))]}) for s in settings]


def _judge_block(c, got, want):
    return judge_module(c, got, want, _block_spec(*(a["v"] for a in c["args"])),
                        "conv1 (3×3, stride, no bias), bn1, conv2 (3×3, no bias), bn2; the shortcut is a 1×1 conv "
                        "(stride, no bias) and a batch norm only when the shape changes")


def _functional_block(cin, cout, stride=1):
    """The residual block in torch.nn.functional, for a loaded state (the visible reference)."""
    import torch
    import torch.nn.functional as F

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = torch.nn.Conv2d(cin, cout, 3, bias=False), torch.nn.BatchNorm2d(cout)
            self.conv2, self.bn2 = torch.nn.Conv2d(cout, cout, 3, bias=False), torch.nn.BatchNorm2d(cout)
            project = stride != 1 or cin != cout
            self.shortcut = (torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, bias=False), torch.nn.BatchNorm2d(cout))
                             if project else torch.nn.Sequential())

        def forward(self, x):
            out = F.relu(self.bn1(F.conv2d(x, self.conv1.weight, stride=stride, padding=1)))
            out = self.bn2(F.conv2d(out, self.conv2.weight, padding=1))
            short = x if not len(self.shortcut) else self.shortcut[1](F.conv2d(x, self.shortcut[0].weight, stride=stride))
            return F.relu(out + short)
    return Block()


# ------------------------------------------------------------------------------------ 4 Inception
def _inception_spec(cin, c1, c3r, c3, c5r, c5, pp):
    return {**_conv_spec("branch1.0.", c1, cin, 1), **_conv_spec("branch2.0.", c3r, cin, 1),
            **_conv_spec("branch2.2.", c3, c3r, 3), **_conv_spec("branch3.0.", c5r, cin, 1),
            **_conv_spec("branch3.2.", c5, c5r, 5), **_conv_spec("branch4.1.", pp, cin, 1)}


def _inception_cases(rng, visible):
    settings = [(192, 64, 96, 128, 16, 32, 32)] if visible else [tuple(int(n) for n in rng.integers(1, 9, size=7))]
    return [case(f"Inception{s} with the judge's weights", "Inception", *s,
                 then={"load_state": state_arg(random_state(rng, _inception_spec(*s))), "params": True, "mode": "eval",
                       "forward": [arg(_images(rng, 1 if visible else 2, s[0], 7 if visible else 6))]}) for s in settings]


def _judge_inception(c, got, want):
    return judge_module(c, got, want, _inception_spec(*(a["v"] for a in c["args"])),
                        "branch1: 1×1; branch2: 1×1 then 3×3 (padding 1); branch3: 1×1 then 5×5 (padding 2); "
                        "branch4: 3×3 max pool (stride 1, padding 1) then 1×1; ReLU after every conv")


def _functional_inception(cin, c1, c3r, c3, c5r, c5, pp):
    """The Inception module in torch.nn.functional, for a loaded state (the visible reference)."""
    import torch
    import torch.nn.functional as F

    class Module(torch.nn.Module):
        def __init__(self):
            super().__init__()
            convs = {"branch1": [(cin, c1, 1)], "branch2": [(cin, c3r, 1), None, (c3r, c3, 3)],
                     "branch3": [(cin, c5r, 1), None, (c5r, c5, 5)], "branch4": [None, (cin, pp, 1)]}
            for name, layers in convs.items():
                setattr(self, name, torch.nn.Sequential(*[torch.nn.Conv2d(*shape) if shape else torch.nn.Identity()
                                                          for shape in layers]))

        def forward(self, x):
            def conv(layer, h, padding=0):
                return F.relu(F.conv2d(h, layer.weight, layer.bias, padding=padding))
            return torch.cat([conv(self.branch1[0], x), conv(self.branch2[2], conv(self.branch2[0], x), 1),
                              conv(self.branch3[2], conv(self.branch3[0], x), 2),
                              conv(self.branch4[1], F.max_pool2d(x, 3, 1, 1))], dim=1)
    return Module()


# ------------------------------------------------------------------------------------ 5 VGG count
def _count_cases(rng, visible):
    configs = [(VGG16, 3, 224, (4096, 4096), 1000)]
    if not visible:
        for _ in range(3):
            config = [int(rng.integers(1, 64)) if rng.random() < 0.7 else "M" for _ in range(int(rng.integers(2, 8)))]
            fc = tuple(int(n) for n in rng.integers(1, 100, size=int(rng.integers(0, 3))))
            configs.append((config, int(rng.integers(1, 4)), int(rng.integers(8, 65)), fc, int(rng.integers(2, 20))))
    return [case(f"vgg_param_count({'VGG16' if c[0] is VGG16 else c[0]}, in_channels={c[1]}, image_size={c[2]}, "
                 f"fc={c[3]}, num_classes={c[4]})", "vgg_param_count", c[0], c[1], c[2], c[3], c[4]) for c in configs]


def _meta_vgg_count(config, in_channels=3, image_size=224, fc=(4096, 4096), num_classes=1000):
    import torch
    layers, channels, size = [], in_channels, image_size
    for item in config:
        if item == "M":
            size //= 2
        else:
            layers.append(torch.nn.Conv2d(channels, item, 3, padding=1, device="meta"))
            channels = item
    features = channels * size * size
    for width in list(fc) + [num_classes]:
        layers.append(torch.nn.Linear(features, width, device="meta"))
        features = width
    return int(sum(p.numel() for p in torch.nn.Sequential(*layers).parameters()))


def _judge_count(c, got, want):
    config, _, _, fc, classes = (problemsets.probe.decode(a) for a in c["args"])
    biases = sum(n for n in config if n != "M") + sum(fc) + classes
    slips = [(want - biases, "forgot the biases? Every conv and FC layer has one per output."),
             (want - classes * ((list(fc) or [0])[-1] + 1), "forgot the last layer, to the classes?")]
    return problemsets.same_count(got, want, c["name"], "Σ convs C_out·(C_in·9 + 1) + Σ FC out·(in + 1), the first FC "
                                  "input C·size·size with size halved (floor) at every 'M'", slips)


# ------------------------------------------------------------------------------------ 6 FC as conv
def _fc_cases(rng, visible):
    settings = [(4, 3, 5, 3), (4, 3, 5, 5)] if visible else [(6, 4, 7, 6), (3, 2, 4, 5)]
    return [case(f"fc_to_conv(Linear({c * k * k}, {out}), {c}, {k}) on a {c}x{size}x{size} input", "fc_to_conv",
                 {"layer": ["Linear", c * k * k, out], "state": random_state(rng, {"weight": (out, c * k * k), "bias": (out,)})},
                 c, k, then={"forward": [arg(_images(rng, 2, c, size))], "mode": "eval"}) for c, k, out, size in settings]


def _windowed_linear(linear, in_channels, size):
    """The classifier applied to every size×size window (unfold), not a reshaped kernel."""
    import torch
    import torch.nn.functional as F

    class Windows(torch.nn.Module):
        def forward(self, x):
            cols = F.unfold(x, size)                                     # (N, C·size², L)
            out = linear(cols.transpose(1, 2)).transpose(1, 2)           # (N, out, L)
            side = x.shape[-1] - size + 1
            return out.reshape(x.shape[0], -1, x.shape[-2] - size + 1, side)
    return Windows()


def _judge_fc(c, got, want):
    if got["type"] != "torch.nn.modules.conv.Conv2d":
        return f"{c['name']}: return an nn.Conv2d, got {got['type']}"
    return same_array(got["output"], want["output"], f"{c['name']} output", rtol=1e-4, atol=1e-5,
                      hint="weight = linear.weight reshaped to (out, C, size, size); bias = linear.bias")


# ------------------------------------------------------------------------------------ 7 predict a count
def _predict_cases(rng, visible):
    settings = [(192, 64, 96, 128, 16, 32, 32), (480, 192, 96, 208, 16, 48, 64)]
    if not visible:
        settings = [tuple(int(n) for n in rng.integers(1, 300, size=7)) for _ in range(5)]
    return [case(f"inception_params{s}", "inception_params", *s) for s in settings]


def _meta_inception_count(cin, c1, c3r, c3, c5r, c5, pp):
    """Parameters of the Inception module's convolutions, counted on PyTorch layers (no memory used)."""
    import torch
    layers = [(cin, c1, 1), (cin, c3r, 1), (c3r, c3, 3), (cin, c5r, 1), (c5r, c5, 5), (cin, pp, 1)]
    return int(sum(p.numel() for i, o, k in layers for p in torch.nn.Conv2d(i, o, k, device="meta").parameters()))


def _judge_predict(c, got, want):
    cin, c1, c3r, c3, c5r, c5, pp = (a["v"] for a in c["args"])
    formula = (f"{c1}·({cin}+1) + {c3r}·({cin}+1) + {c3}·({c3r}·9+1) + {c5r}·({cin}+1) + {c5}·({c5r}·25+1) "
               f"+ {pp}·({cin}+1)")
    biases = c1 + c3r + c3 + c5r + c5 + pp
    slips = [(want - biases, "forgot the biases? Every convolution has one per output channel."),
             (want - pp * (cin + 1), "forgot branch 4? The pooling has no parameters, its 1×1 projection does."),
             (want + c3 * (cin - c3r) * 9, "the 3×3 convolution reads the c3_reduce channels, not "
                                                           "the module's input?"),
             (want + c5 * (cin - c5r) * 25, "the 5×5 convolution reads the c5_reduce channels, not the module's input?"),
             (want + cin * cin * 9, "max pooling has no weights to count.")]
    return problemsets.same_count(got, want, c["name"], formula, slips)


ITEMS = {item.grade_id: item for item in [
    Item("test_feature_shapes", "1 feature_shapes (AlexNet)", 3, _shape_cases, _judge_shapes,
         {"feature_shapes": _meta_shapes}, allowed=FORMULAS),
    Item("test_vgg_block", "2 vgg_block", 2, _vgg_cases, _judge_vgg),
    Item("test_basic_block", "3 BasicBlock", 3, _block_cases, _judge_block, {"BasicBlock": _functional_block}),
    Item("test_inception", "4 Inception", 3, _inception_cases, _judge_inception, {"Inception": _functional_inception}),
    Item("test_vgg_param_count", "5 vgg_param_count", 2, _count_cases, _judge_count,
         {"vgg_param_count": _meta_vgg_count}, allowed=FORMULAS),
    Item("test_fc_to_conv", "6 fc_to_conv", 3, _fc_cases, _judge_fc, {"fc_to_conv": _windowed_linear}),
    Item("test_inception_params", "7 inception_params: predict, then measure", 2, _predict_cases, _judge_predict,
         {"inception_params": _meta_inception_count}, allowed=FORMULAS),
]}

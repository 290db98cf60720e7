"""What a network costs: parameters, multiply-accumulates (MACs), activation memory, time.

``profile(model, input_size)`` runs one forward pass with forward hooks on every leaf module
and records, per layer, its own parameters, its MACs and the size of the output it creates.
It works on the ``meta`` device (shapes only, no memory, no arithmetic), so even VGG-19 is
profiled in milliseconds::

    p = profile(on_meta(vgg16), (1, 3, 224, 224))
    p.params, p.macs, p.activation_bytes

MACs count convolutions and fully connected layers, the layers that hold nearly all the
arithmetic (pooling, normalisation, activations and additions are left out). This is the
same convention as ``torch.utils.flop_counter.FlopCounterMode``, which reports 2 FLOPs per MAC.
"""

import statistics
import time
from dataclasses import dataclass, field

import torch
from torch import nn

# Leaf modules that create no new tensor at inference (views, pass-throughs).
_NO_NEW_TENSOR = (nn.Identity, nn.Flatten, nn.Dropout)


def on_meta(constructor, **kwargs):
    """Build ``constructor(**kwargs)`` on the meta device: shapes without memory or init time."""
    with torch.device("meta"):
        return constructor(**kwargs)


def count_params(model, trainable_only=False):
    """Number of parameters of ``model`` (only those with ``requires_grad`` if asked)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_macs(module, inputs, output):
    """Multiply-accumulates of one call of a leaf module (0 for layers that do no products).

    A convolution does ``in_channels / groups * kernel area`` products per output value;
    a linear layer ``in_features`` products per output value.
    """
    if isinstance(module, nn.modules.conv._ConvNd) and not module.transposed:
        per_output = module.in_channels // module.groups * module.weight[0, 0].numel()
        return output.numel() * per_output
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return 0


@dataclass
class Layer:
    """One leaf module's share: own parameters, MACs, output shape and new output elements."""

    name: str
    kind: str
    output_shape: tuple
    params: int
    macs: int
    activations: int


@dataclass
class Profile:
    """Per-layer counts of one forward pass and their totals (``bytes_per_value`` = float32)."""

    layers: list = field(default_factory=list)
    input_elements: int = 0
    bytes_per_value: int = 4

    @property
    def params(self):
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self):
        return sum(layer.macs for layer in self.layers)

    @property
    def activation_bytes(self):
        """Bytes of every new tensor the forward pass creates (what training keeps for backward,
        roughly), input included."""
        elements = self.input_elements + sum(layer.activations for layer in self.layers)
        return elements * self.bytes_per_value

    @property
    def weight_bytes(self):
        return self.params * self.bytes_per_value

    def by_kind(self, key="params"):
        """``{"Conv2d": ..., "Linear": ...}``: the total of ``key`` per layer type."""
        totals = {}
        for layer in self.layers:
            totals[layer.kind] = totals.get(layer.kind, 0) + getattr(layer, key)
        return {kind: total for kind, total in totals.items() if total}


def _creates_new_tensor(module):
    return not getattr(module, "inplace", False) and not isinstance(module, _NO_NEW_TENSOR)


@torch.no_grad()
def profile(model, input_size=(1, 3, 224, 224)):
    """Run one forward pass of ``model`` (in eval mode) on zeros of ``input_size`` and return
    a Profile. The input lives on the model's device, so a ``meta`` model costs nothing.

    Parameters of modules that are never called in the forward pass are still counted
    (under the name ``"(not called)"``), so ``Profile.params`` equals ``count_params(model)``.
    """
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    result, handles, called = Profile(), [], set()
    names = {module: name for name, module in model.named_modules()}

    def hook(module, inputs, output):
        called.add(module)
        leaf = next(module.children(), None) is None
        result.layers.append(Layer(
            names[module], type(module).__name__, tuple(output.shape),
            sum(p.numel() for p in module.parameters(recurse=False)),
            layer_macs(module, inputs, output),
            output.numel() if leaf and _creates_new_tensor(module) else 0))

    for module in model.modules():
        leaf = next(module.children(), None) is None
        if leaf or next(module.parameters(recurse=False), None) is not None:
            handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        x = torch.zeros(input_size, device=device)
        result.input_elements = x.numel()
        model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    missing = sum(p.numel() for m in model.modules() if m not in called
                  for p in m.parameters(recurse=False))
    if missing:
        result.layers.append(Layer("(not called)", "unused", (), missing, 0, 0))
    return result


def flop_counter_macs(model, input_size=(1, 3, 224, 224)):
    """MACs according to ``torch.utils.flop_counter.FlopCounterMode`` (its FLOPs / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    first = next(model.parameters())
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(input_size, device=first.device))
    return counter.get_total_flops() // 2


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def forward_ms(model, input_size=(1, 3, 224, 224), repeats=3, warmup=1, device="cpu",
               amp=False):
    """Median wall-clock milliseconds of one inference forward pass (eval mode, no grad).

    ``amp=True`` runs under float16 autocast on CUDA (ignored elsewhere).
    """
    times = _time(model, input_size, repeats, warmup, device, amp, backward=False)
    return 1000 * statistics.median(times)


def train_throughput(model, batch_size=8, image_size=224, repeats=3, warmup=1, device="cpu",
                     amp=False, num_classes=1000):
    """Images per second of forward + backward (training mode), median over ``repeats``."""
    times = _time(model, (batch_size, 3, image_size, image_size), repeats, warmup, device, amp,
                  backward=True, num_classes=num_classes)
    return batch_size / statistics.median(times)


def _time(model, input_size, repeats, warmup, device, amp, backward, num_classes=1000):
    device = torch.device(device)
    model.to(device).train(backward)
    x = torch.randn(input_size, device=device)
    target = torch.randint(num_classes, (input_size[0],), device=device)
    autocast = torch.autocast("cuda", dtype=torch.float16, enabled=amp and device.type == "cuda")
    times = []
    for i in range(warmup + repeats):
        _sync(device)
        start = time.perf_counter()
        with torch.set_grad_enabled(backward), autocast:
            out = model(x)
            loss = nn.functional.cross_entropy(out.float(), target) if backward else None
        if backward:
            loss.backward()
            model.zero_grad(set_to_none=True)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times

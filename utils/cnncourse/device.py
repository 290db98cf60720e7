"""Which device to compute on (cuda, then mps, then cpu) and where we are running."""

import os
import sys


def in_colab():
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def pick(prefer=None):
    """Return the best available ``torch.device``: cuda > mps > cpu.

    ``prefer`` (e.g. ``"cpu"``) forces a device; an unavailable choice raises ``ValueError``.
    """
    import torch

    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": _mps_available()}
    if prefer is not None:
        kind = str(prefer).split(":")[0]
        if not available.get(kind, False):
            usable = ", ".join(k for k, ok in available.items() if ok)
            raise ValueError(f"device {prefer!r} is not available here; usable: {usable}")
        return torch.device(prefer)
    for kind in ("cuda", "mps", "cpu"):
        if available[kind]:
            return torch.device(kind)


def _mps_available():
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def report(device=None):
    """One line: device, its name (on a CPU: threads and the vector kernels torch chose, which make
    trained numbers differ slightly between machines), torch version and whether this is Colab."""
    import torch

    device = pick() if device is None else torch.device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = "Apple GPU"
    else:
        name = f"{torch.get_num_threads()} CPU threads, {torch.backends.cpu.get_cpu_capability()} kernels"
    where = "Colab" if in_colab() else "local"
    return f"device: {device.type} ({name}) | torch {torch.__version__} | {where}"


def gpu_note(device):
    """A sentence for GPU cells: what happens when there is no GPU."""
    if device.type == "cpu":
        return ("No GPU here: the cell runs on the CPU. On Colab choose "
                "Runtime > Change runtime type > GPU to see the speed-up.")
    return f"Running on {device.type}."

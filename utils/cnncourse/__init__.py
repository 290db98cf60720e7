"""cnncourse: the helper package the lecture notebooks and problem sets import.

Small modules, one concern each; heavy imports (torch, matplotlib) happen in the
modules that need them, so ``import cnncourse`` stays cheap.
"""

from cnncourse.repo import REPO_SLUG

__all__ = ["REPO_SLUG", "full_mode", "setup"]
__version__ = "0.1.0"


def setup(seed=0, quiet=False):
    """Seed every generator, apply the course plot style, pick the device and report it.

    Returns the ``torch.device`` the notebook should use for the rest of its cells.
    """
    from cnncourse import device, plots
    from cnncourse.seeding import seed_everything

    seed_everything(seed)
    plots.use_style()
    dev = device.pick()
    if not quiet:
        print(device.report(dev), f"| seed {seed}")
    return dev


def full_mode():
    """True when ``CNN_COURSE_FULL=1``: notebooks then run their long, book-exact recipes."""
    import os

    return os.environ.get("CNN_COURSE_FULL", "").strip().lower() in {"1", "true", "yes"}

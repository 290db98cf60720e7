"""A seeded minibatch training loop with a progress bar that returns its history.

Datasets in this course are small, so they are held as tensors on the device and
minibatches are drawn by index: no DataLoader, no worker processes (which also avoids
Colab's DataLoader worker pitfalls).
"""

import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm


@dataclass
class History:
    """What happened during training, evaluated every ``eval_every`` steps."""

    steps: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    seconds: float = 0.0
    metric: str = "acc"  # what train_acc/test_acc hold: accuracy, or fit's ``metric`` by name

    def summary(self):
        """One line with the last evaluation."""
        line = f"step {self.steps[-1]}: train {self.metric} {self.train_acc[-1]:.1%}"
        if self.test_acc:
            line += f", test {self.metric} {self.test_acc[-1]:.1%}"
        return line + f" ({self.seconds:.1f} s)"


def as_tensors(X, y, device, target_dtype=torch.long):
    """Inputs as float32 and labels as ``target_dtype`` (int64) tensors on ``device`` (accepts NumPy arrays)."""
    X = torch.as_tensor(np.asarray(X) if not torch.is_tensor(X) else X, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y, dtype=target_dtype)
    return X.to(device), y.to(device)


@torch.no_grad()
def evaluate(model, X, y, batch_size=1000, loss_fn=F.cross_entropy, metric=None):
    """Mean loss and accuracy of ``model`` on (X, y), in eval mode and without gradients.

    ``metric(outputs, targets)`` (a batch mean) replaces accuracy when given; batches are
    weighted by their size.
    """
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(X), batch_size):
        logits = model(X[start:start + batch_size])
        target = y[start:start + batch_size]
        total_loss += loss_fn(logits.float(), target, reduction="sum").item()
        if metric is None:
            correct += (logits.argmax(1) == target).sum().item()
        else:
            correct += float(metric(logits.float(), target)) * len(target)
    model.train(was_training)
    return total_loss / len(X), correct / len(X)


def make_optimizer(model, name="adam", lr=1e-2, weight_decay=0.0, momentum=0.9):
    """``"adam"``, ``"adamw"`` or ``"sgd"`` (with momentum) over the model's parameters."""
    params = model.parameters()
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}: use 'adam', 'adamw' or 'sgd'")


def make_schedule(opt, name, steps):
    """A per-step learning-rate scheduler for ``opt``: None, ``"cosine"`` or ``"onecycle"``."""
    if name is None:
        return None
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=steps)
    raise ValueError(f"unknown schedule {name!r}: use None, 'cosine' or 'onecycle'")


def fit(model, train, test=None, *, steps=1000, batch_size=100, lr=1e-2, optimizer="adam",
        weight_decay=0.0, eval_every=None, device=None, seed=0, loss_fn=F.cross_entropy,
        amp=False, progress=True, desc="training", metric=None, augment=None, target_dtype=torch.long,
        schedule=None):
    """Train ``model`` by minibatch gradient descent on ``train = (X, y)``; return a History.

    ``test = (X, y)`` is evaluated every ``eval_every`` steps (default: 20 times in all).
    ``amp=True`` uses bfloat16/float16 autocast on CUDA (ignored elsewhere).
    Beyond classification: ``metric(outputs, targets)`` (a batch mean, e.g. IoU) replaces
    accuracy in the history, ``augment(X_batch)`` transforms each training minibatch, and
    ``target_dtype`` (default int64 labels) keeps e.g. float targets; ``loss_fn`` must accept
    ``reduction="sum"`` (summed over examples) for evaluation.
    ``schedule``: None (constant ``lr``), ``"cosine"`` (decay to 0) or ``"onecycle"`` (warm up to
    ``lr``, then anneal), stepped once per training step.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    X, y = as_tensors(*train, device, target_dtype)
    test = as_tensors(*test, device, target_dtype) if test is not None else None
    opt = optimizer if isinstance(optimizer, torch.optim.Optimizer) else make_optimizer(
        model, optimizer, lr, weight_decay)
    scheduler = make_schedule(opt, schedule, steps)
    generator = torch.Generator().manual_seed(seed)
    eval_every = eval_every or max(1, steps // 20)
    autocast = (torch.autocast("cuda", dtype=torch.float16) if amp and device.type == "cuda"
                else nullcontext())
    scaler = torch.amp.GradScaler("cuda") if amp and device.type == "cuda" else None
    hist = History(metric="acc" if metric is None else getattr(metric, "__name__", "metric"))
    start = time.perf_counter()
    model.train()
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress, leave=False)
    for step in bar:
        idx = torch.randint(len(X), (batch_size,), generator=generator).to(device)
        inputs = X[idx] if augment is None else augment(X[idx])
        with autocast:
            loss = loss_fn(model(inputs), y[idx])
        opt.zero_grad(set_to_none=True)
        if scaler:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        if scheduler:
            scheduler.step()
        if step % eval_every == 0 or step == steps:
            _record(hist, step, model, (X, y), test, loss_fn, metric)
            bar.set_postfix(loss=f"{hist.train_loss[-1]:.3f}",
                            acc=f"{(hist.test_acc or hist.train_acc)[-1]:.1%}")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    hist.seconds = time.perf_counter() - start
    return hist


def _record(hist, step, model, train, test, loss_fn, metric=None):
    hist.steps.append(step)
    loss, acc = evaluate(model, *train, loss_fn=loss_fn, metric=metric)
    hist.train_loss.append(loss)
    hist.train_acc.append(acc)
    if test is not None:
        loss, acc = evaluate(model, *test, loss_fn=loss_fn, metric=metric)
        hist.test_loss.append(loss)
        hist.test_acc.append(acc)

#!/usr/bin/env python3
"""Golden values for the DiceLens core, from an independent reference implementation.

How to run (from the repository root):

    pip install torch monai numpy; python3 tools/make_fixtures.py

Writes crates/core/tests/fixtures/golden.json, which crates/core/tests/golden.rs compares
against `dicelens_core::Evaluator` to 1e-6 relative. Generated with torch 2.15 and
monai 1.6.1; the seed is fixed, so rerunning gives the same file up to the last bits of
library arithmetic.

References (float64 everywhere, gradients by torch autograd w.r.t. the logits):
- CE: torch.nn.functional.cross_entropy (mean); binary (K = 1):
  binary_cross_entropy_with_logits.
- MONAI Dice: monai.losses.DiceLoss(softmax=True, to_onehot_y=True, include_background=True);
  binary: DiceLoss(sigmoid=True) on the single channel.
- MONAI Dice+CE: monai.losses.DiceCELoss with the same flags. For one channel with
  sigmoid=True, MONAI's DiceCELoss.forward uses `self.bce` (nn.BCEWithLogitsLoss) instead of
  cross_entropy (`ce_loss = self.ce(...) if input.shape[1] != 1 else self.bce(...)`).
- Plain Dice (THEORY.md, no smoothing), plain log-Dice (null where a plain Dice_k = 0) and
  MONAI-smoothed log-Dice -mean log((2TP + 1e-5)/(Y + S + 1e-5)) written here in torch.
- L1 / KL region terms: SegLossBias (github.com/by-liu/SegLossBias,
  seglossbias/modeling/compound_losses.py, CrossEntropyWithL1 / CrossEntropyWithKL)
  re-implemented: proportions (sum + 1e-10)/(N + 1e-10) of softmax(T z) / sigmoid(T z);
  L1 = mean over (b, k) of |s_hat - u| (binary: the one foreground channel);
  KL = mean_b sum_k u log(u/s_hat); binary KL = KL(u||s_hat) + KL(1-u||1-s_hat);
  0 log 0 = 0 (their code would give NaN for an all-foreground binary image).
"""

import json
import os

import monai
import numpy as np
import torch
import torch.nn.functional as F

EPS = 1e-10  # SegLossBias EPS
SMOOTH = 1e-5  # MONAI smooth_nr / smooth_dr defaults

torch.set_default_dtype(torch.float64)

LOSS_NAMES = [
    "ce",
    "dice",
    "dice_monai",
    "log_dice",
    "log_dice_monai",
    "dice_ce_monai",
    "l1",
    "kl",
    "ce_l1",
    "ce_kl",
]


def probs(z):
    """Softmax over channels (K >= 2) or sigmoid of the one channel (K = 1)."""
    return torch.sigmoid(z) if z.shape[1] == 1 else torch.softmax(z, dim=1)


def onehot(z, y):
    """(B, K, H, W) float targets: one-hot for K >= 2, the 0/1 foreground map for K = 1."""
    if z.shape[1] == 1:
        return y[:, None].to(z.dtype)
    return F.one_hot(y, z.shape[1]).permute(0, 3, 1, 2).to(z.dtype)


def ce(z, y):
    if z.shape[1] == 1:
        return F.binary_cross_entropy_with_logits(z[:, 0], y.to(z.dtype))
    return F.cross_entropy(z, y)


def dice_coeffs(z, y, smooth):
    s = probs(z)
    t = onehot(z, y)
    tp = (s * t).sum(dim=(2, 3))
    den = t.sum(dim=(2, 3)) + s.sum(dim=(2, 3))
    return (2 * tp + smooth) / (den + smooth)


def dice_plain(z, y):
    return 1 - dice_coeffs(z, y, 0.0).mean()


def dice_monai(z, y):
    if z.shape[1] == 1:
        loss = monai.losses.DiceLoss(sigmoid=True)
        return loss(z, y[:, None].to(z.dtype))
    loss = monai.losses.DiceLoss(softmax=True, to_onehot_y=True, include_background=True)
    return loss(z, y[:, None])


def log_dice(z, y):
    d = dice_coeffs(z, y, 0.0)
    if bool((d <= 0).any()):
        return None
    return -torch.log(d).mean()


def log_dice_monai(z, y):
    return -torch.log(dice_coeffs(z, y, SMOOTH)).mean()


def dice_ce_monai(z, y):
    if z.shape[1] == 1:
        loss = monai.losses.DiceCELoss(sigmoid=True)
        return loss(z, y[:, None].to(z.dtype))
    loss = monai.losses.DiceCELoss(softmax=True, to_onehot_y=True, include_background=True)
    return loss(z, y[:, None])


def region_proportion(x):
    """SegLossBias get_region_proportion without a valid mask: (sum + EPS)/(N + EPS)."""
    n = x.shape[2] * x.shape[3]
    return (torch.einsum("bcwh->bc", x) + EPS) / (n + EPS)


def proportions(z, y, temp):
    """(u, s_hat) as SegLossBias computes them (get_gt_proportion / get_pred_proportion)."""
    gt = region_proportion(onehot(z, y))
    if z.shape[1] == 1:
        preds = F.logsigmoid(temp * z).exp()
    else:
        preds = F.log_softmax(temp * z, dim=1).exp()
    return gt, region_proportion(preds)


def kl_rows(p, q):
    """sum_k p log(p/q) per row, with 0 log 0 = 0 (xlogy's convention and gradient)."""
    return (torch.special.xlogy(p, p) - torch.special.xlogy(p, q)).sum(dim=1)


def l1_term(z, y, temp):
    u, s = proportions(z, y, temp)
    return (s - u).abs().mean()


def kl_term(z, y, temp):
    u, s = proportions(z, y, temp)
    if z.shape[1] == 1:
        return (kl_rows(u, s) + kl_rows(1 - u, 1 - s)).mean()
    return kl_rows(u, s).mean()


def loss_fns(lam, temp):
    return {
        "ce": ce,
        "dice": dice_plain,
        "dice_monai": dice_monai,
        "log_dice": log_dice,
        "log_dice_monai": log_dice_monai,
        "dice_ce_monai": dice_ce_monai,
        "l1": lambda z, y: l1_term(z, y, temp),
        "kl": lambda z, y: kl_term(z, y, temp),
        "ce_l1": lambda z, y: ce(z, y) + lam * l1_term(z, y, temp),
        "ce_kl": lambda z, y: ce(z, y) + lam * kl_term(z, y, temp),
    }


def make_case(name, logits, labels, lam, temp):
    logits = logits.detach().clone()
    losses, grads = {}, {}
    for key, fn in loss_fns(lam, temp).items():
        z = logits.clone().requires_grad_(True)
        v = fn(z, labels)
        if v is None:
            losses[key], grads[key] = None, None
            continue
        (g,) = torch.autograd.grad(v, z)
        losses[key] = float(v.detach())
        grads[key] = g.flatten().tolist()
        assert np.isfinite(losses[key]) and np.all(np.isfinite(grads[key])), (name, key)
    with torch.no_grad():
        s = probs(logits)
        t = onehot(logits, labels)
        n = logits.shape[2] * logits.shape[3]
        dpc = dice_coeffs(logits, labels, 0.0)
        u = t.sum(dim=(2, 3)) / n
        s_hat = s.sum(dim=(2, 3)) / n
    return {
        "name": name,
        "shape": list(logits.shape),
        "lambda": lam,
        "temp": temp,
        "logits": logits.flatten().tolist(),
        "labels": labels.flatten().tolist(),
        "losses": losses,
        "dice_per_class": dpc.tolist(),
        "u": u.tolist(),
        "s_hat": s_hat.tolist(),
        "grads": grads,
    }


def main():
    gen = torch.Generator().manual_seed(20240417)

    def randn(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=gen, dtype=torch.float64)

    def randint(hi, *shape):
        return torch.randint(0, hi, shape, generator=gen, dtype=torch.int64)

    bases = []
    # Multiclass.
    bases.append(("mc_b2_k3_5x4", randn(2, 3, 5, 4, scale=1.5), randint(3, 2, 5, 4)))
    bases.append(("mc_b1_k4_3x3", randn(1, 4, 3, 3, scale=2.0), randint(4, 1, 3, 3)))
    y = randint(3, 2, 4, 4)
    y[1] = randint(2, 4, 4)  # class 2 absent from image 1: plain log-Dice is null
    y[0, 0, 0], y[0, 0, 1], y[0, 1, 0] = 0, 1, 2  # every class present in image 0
    y[1, 0, 0], y[1, 0, 1] = 0, 1
    bases.append(("mc_absent_class", randn(2, 3, 4, 4, scale=1.5), y))
    z = 40.0 * torch.rand(2, 3, 3, 4, generator=gen, dtype=torch.float64) - 20.0
    bases.append(("mc_large_logits", z, randint(3, 2, 3, 4)))
    # Binary (one logit channel, labels 0/1).
    bases.append(("bin_b2_5x4", randn(2, 1, 5, 4, scale=1.5), randint(2, 2, 5, 4)))
    y = randint(2, 3, 4, 4)
    y[0, 0, 0], y[0, 0, 1] = 0, 1
    y[1] = 0  # empty foreground: plain Dice_fg = 0, plain log-Dice null
    y[2] = 1  # all foreground: 0 log 0 = 0 in the background KL term
    bases.append(("bin_empty_and_full", randn(3, 1, 4, 4, scale=2.0), y))
    z = 24.0 * torch.rand(1, 1, 6, 5, generator=gen, dtype=torch.float64) - 12.0
    bases.append(("bin_large_logits", z, randint(2, 1, 6, 5)))

    configs = [[(0.1, 1.0), (1.0, 10.0)], [(1.0, 1.0), (0.1, 10.0)]]
    cases = []
    for j, (name, z, y) in enumerate(bases):
        for lam, temp in configs[j % 2]:
            cases.append(make_case(f"{name}_lam{lam:g}_T{temp:g}", z, y, lam, temp))

    out = {
        "source": "tools/make_fixtures.py: PyTorch (F.cross_entropy, "
        "F.binary_cross_entropy_with_logits, autograd), MONAI (DiceLoss, DiceCELoss), "
        "SegLossBias L1/KL re-implemented in torch; float64",
        "torch": torch.__version__,
        "monai": monai.__version__,
        "loss_names": LOSS_NAMES,
        "cases": cases,
    }
    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "crates",
        "core",
        "tests",
        "fixtures",
        "golden.json",
    )
    path = os.path.normpath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()

//! "Copy as PyTorch": a self-contained Python snippet that computes the current loss
//! configuration (the Dice preset, CE, and CE+L1 / CE+KL with `λ` and `T`) with torch and, where
//! the preset is a library's, with that library's own loss class.

use crate::conventions::Convention;

/// The snippet for `conv` with region weight `lambda` and temperature `temp`.
///
/// It defines `losses(logits, labels) -> dict` for multi-class logits `(B, K, H, W)` and integer
/// labels `(B, H, W)` and prints the losses of a random batch. The region terms follow
/// SegLossBias (`CrossEntropyWithL1` / `CrossEntropyWithKL`): proportions `(Σ + 1e-10)/(N + 1e-10)`
/// of `softmax(T·z)`.
pub fn pytorch_snippet(conv: Convention, lambda: f64, temp: f64) -> String {
    let (import, dice) = match conv {
        Convention::Paper => (
            "",
            "    # The paper's plain Dice: no smoothing, background included, mean over (b, k).\n    \
             p = torch.softmax(logits, dim=1)\n    \
             tp = (p * onehot).sum(dim=(2, 3))\n    \
             den = p.sum(dim=(2, 3)) + onehot.sum(dim=(2, 3))\n    \
             dice = 1 - (2 * tp / den).mean()\n",
        ),
        Convention::Monai => (
            "from monai.losses import DiceLoss, DiceCELoss  # pip install monai\n",
            "    # MONAI DiceLoss: smooth_nr = smooth_dr = 1e-5, background included.\n    \
             dice = DiceLoss(softmax=True, to_onehot_y=True, include_background=True)(logits, labels[:, None])\n    \
             out[\"dice_ce\"] = DiceCELoss(softmax=True, to_onehot_y=True, include_background=True)(logits, labels[:, None])\n",
        ),
        Convention::Smp => (
            "from segmentation_models_pytorch.losses import DiceLoss  # pip install segmentation-models-pytorch\n",
            "    # segmentation_models_pytorch DiceLoss: smooth 0, eps 1e-7, sums pooled over the batch.\n    \
             dice = DiceLoss(mode=\"multiclass\", from_logits=True, smooth=0.0, eps=1e-7)(logits, labels)\n",
        ),
        Convention::NnUnet => (
            "",
            "    # nnU-Net v2 (MemoryEfficientSoftDiceLoss, batch_dice=True, do_bg=False, smooth 1e-5)\n    \
             # returns -Dice, and trains on CE + that (DC_and_CE_loss, weights 1 and 1).\n    \
             p = torch.softmax(logits, dim=1)[:, 1:]\n    \
             y = onehot[:, 1:]\n    \
             tp = (p * y).sum(dim=(0, 2, 3))\n    \
             den = (p.sum(dim=(0, 2, 3)) + y.sum(dim=(0, 2, 3)) + 1e-5).clamp_min(1e-8)\n    \
             dice = -((2 * tp + 1e-5) / den).mean()\n    \
             out[\"dice_ce\"] = ce + dice\n",
        ),
    };
    format!(
        "# DiceLens: the current loss configuration (preset: {label}; lambda = {lambda}, T = {temp}).\n\
         import torch\n\
         import torch.nn.functional as F\n\
         {import}\n\
         LAMBDA, T, EPS = {lambda:?}, {temp:?}, 1e-10\n\
         \n\
         \n\
         def losses(logits, labels):\n    \
             \"\"\"logits: (B, K, H, W) float; labels: (B, H, W) int64 in 0..K-1.\"\"\"\n    \
             k, n = logits.shape[1], logits.shape[2] * logits.shape[3]\n    \
             onehot = F.one_hot(labels, k).permute(0, 3, 1, 2).to(logits.dtype)\n    \
             out = {{}}\n    \
             ce = F.cross_entropy(logits, labels)\n\
         {dice}    \
             # Region terms as in SegLossBias (CrossEntropyWithL1 / CrossEntropyWithKL).\n    \
             u = (onehot.sum(dim=(2, 3)) + EPS) / (n + EPS)\n    \
             s_hat = (torch.softmax(T * logits, dim=1).sum(dim=(2, 3)) + EPS) / (n + EPS)\n    \
             l1 = (s_hat - u).abs().mean()\n    \
             kl = (torch.special.xlogy(u, u) - torch.special.xlogy(u, s_hat)).sum(dim=1).mean()\n    \
             out.update(ce=ce, dice=dice, ce_l1=ce + LAMBDA * l1, ce_kl=ce + LAMBDA * kl)\n    \
             return {{name: float(v) for name, v in out.items()}}\n\
         \n\
         \n\
         if __name__ == \"__main__\":\n    \
             torch.manual_seed(0)\n    \
             logits = torch.randn(2, 3, 64, 64, dtype=torch.float64)\n    \
             labels = torch.randint(0, 3, (2, 64, 64))\n    \
             print(losses(logits, labels))\n",
        label = conv.label(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_name_each_library_and_carry_the_weights() {
        let m = pytorch_snippet(Convention::Monai, 0.5, 10.0);
        assert!(m.contains("from monai.losses import DiceLoss"));
        // MONAI's defaults (softmax=False, to_onehot_y=False) fail on integer labels: the
        // snippet must name the arguments of every MONAI loss it builds.
        assert!(m.contains("DiceLoss(softmax=True, to_onehot_y=True, include_background=True)"));
        assert!(m.contains("DiceCELoss(softmax=True, to_onehot_y=True, include_background=True)"));
        for line in m
            .lines()
            .filter(|l| l.contains("Loss(") && !l.contains("import"))
        {
            assert!(line.contains("softmax=True, to_onehot_y=True"), "{line}");
        }
        assert!(m.contains("LAMBDA, T, EPS = 0.5, 10.0, 1e-10"));
        let s = pytorch_snippet(Convention::Smp, 0.1, 1.0);
        assert!(s.contains("DiceLoss(mode=\"multiclass\", from_logits=True, smooth=0.0, eps=1e-7)"));
        let n = pytorch_snippet(Convention::NnUnet, 0.1, 1.0);
        assert!(n.contains("[:, 1:]") && n.contains("out[\"dice_ce\"] = ce + dice"));
        let p = pytorch_snippet(Convention::Paper, 0.1, 1.0);
        assert!(!p.contains("monai") && p.contains("dice = 1 - (2 * tp / den).mean()"));
        for c in Convention::ALL {
            let text = pytorch_snippet(c, 1.0, 10.0);
            // Python is indentation-sensitive: every body line is indented by 4 or 8 spaces.
            for line in text
                .lines()
                .skip_while(|l| !l.starts_with("def losses"))
                .skip(1)
            {
                if line.is_empty() || line.starts_with("if __name__") {
                    break;
                }
                assert!(line.starts_with("    "), "{c:?}: bad indent: {line:?}");
            }
        }
    }
}

"""What the parts of 04_conv_backprop's grading share: mistake names and advice, and
helpers for cases and mistake models."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_course.grading.core import Mistake, matches

# --- mistake names and advice ---------------------------------------------------------

OVERWRITTEN = "overlapping gradients overwritten instead of accumulated"
OVERWRITTEN_ADVICE = (
    "An input value that lies in several windows receives gradient from each of them: "
    "add with `dx[...] += ...`; `dx[...] = ...` keeps only the last window's share."
)
NOT_CROPPED = "padding not cropped from dx"
NOT_CROPPED_ADVICE = (
    "The forward pass padded x, so the gradient you accumulate lives on the padded input: "
    "return dx_padded[:, p:p+H, p:p+W], the part that belongs to the real x."
)
CROPPED_EMPTY_ADVICE = (
    "With padding 0, dx_padded[:, p:-p, p:-p] is dx_padded[:, 0:0, 0:0], an empty array: "
    "crop with dx_padded[:, p:p+H, p:p+W] (H, W from x.shape), which works for every p."
)
AVERAGED_OVER_BATCH = "dw and db averaged over the batch instead of summed"
AVERAGED_OVER_BATCH_ADVICE = (
    "The loss adds up the examples' contributions, so the weights' gradients add up too: "
    "sum over the batch (and over positions); do not divide by N."
)
DW_ROTATED = "dw rotated by 180 degrees"
DW_ROTATED_ADVICE = (
    "The forward pass is a cross-correlation, so dw[a, b] = sum of x_padded[i*s+a, j*s+b] * "
    "dout[i, j]: no flip. (Only dx involves the kernel turned around.)"
)
DX_NEVER_FILLED = "dx never filled in"
DX_NEVER_FILLED_ADVICE = (
    "dx stayed the zeros you started from: after the loops copy the padded gradient into it, "
    "dx[i] = dx_padded[i, p:p+H, p:p+W] (assigning to a slice variable or to the padded array "
    "itself does not change dx), and do not hide a failing update in try/except."
)
DB_NOT_SUMMED = "db not summed over the batch"
DB_NOT_SUMMED_ADVICE = (
    "The same bias is used for every example and every position: "
    "db = dout.sum(axis=(0, 1, 2)), one value per output channel."
)
DB_WRONG_SIZE = "bias gradient of the wrong size"
DB_WRONG_SIZE_ADVICE = (
    "db has one value per output channel (shape (C_out,)): sum dout over N, H_out and W_out "
    "but not over the channels."
)
DX_ONE_CHANNEL = "gradient from only one output channel"
DX_ONE_CHANNEL_ADVICE = (
    "Every output channel k sends gradient back through its filter w[..., k]: "
    "sum the contributions over all k."
)
CACHE_INCOMPLETE = "cache incomplete"
CACHE_PADDED = "padded input cached"
GAP_SCALE_MISSING = "the 1/(H*W) of GAP backward missing"
GAP_SCALE_ADVICE = (
    "Each of the H*W positions contributes 1/(H*W) of the mean, so each receives dout / (H * W)."
)
GAP_WRONG_AXES = "averaged over the wrong axes"
GAP_WRONG_AXES_ADVICE = (
    "Channels last: average over axes 1 and 2 (H and W), keeping N and C: x.mean(axis=(1, 2))."
)
SPREAD = "max-pool gradient spread over the whole window"
SPREAD_ADVICE = (
    "Only the window's maximum influenced the output, so only that position gets the "
    "gradient; the others get 0."
)
DOUT_IGNORED = "dout ignored"
DOUT_IGNORED_ADVICE = (
    "Differentiate L(x) = np.sum(f(x) * dout), not np.sum(f(x)): dout weights every output."
)
GAP_EXTRA_AXIS = "an extra axis kept in the output"
GAP_EXTRA_AXIS_ADVICE = (
    "gap_forward returns shape (N, C): x.mean(axis=(1, 2)) already has it; do not reshape it "
    "to (N, 1, C) or keep the pooled axes with keepdims=True."
)
UPPER_NOT_EVALUATED = "f(x) used in place of f(x + h)"
UPPER_NOT_EVALUATED_ADVICE = (
    "Set x[i] = old + h before evaluating the first loss: (L(x) - L(x - h)) / (2h) is half "
    "the slope; the centred difference is (L(x + h) - L(x - h)) / (2h)."
)
ONE_SIDED = "one-sided difference instead of centred"
ONE_SIDED_ADVICE = (
    "Use (L(x + h) - L(x - h)) / (2h), which is far more accurate than (L(x + h) - L(x)) / h."
)
NOT_UNDONE = "perturbation not undone"
NOT_UNDONE_ADVICE = (
    "After evaluating L(x + h) and L(x - h) at one element, put that element back to its "
    "original value before moving on; otherwise later elements are differentiated at a "
    "shifted point."
)

# --- case generation ------------------------------------------------------------------


def ints(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.integers(-4, 5, size=shape).astype(np.float64)


def named_once(*mistakes: Mistake) -> tuple[Mistake, ...]:
    """Variants of one mistake, each silent where an earlier variant gives the same result.

    Two ways of making the same slip often coincide on a case (one output channel, no
    overlap); the feedback should then name the mistake once, not once per variant.
    """
    kept: list[Mistake] = []
    for mistake in mistakes:
        earlier = tuple(m.model for m in kept if m.name == mistake.name)
        model = _unless_same(mistake.model, earlier) if earlier else mistake.model
        kept.append(Mistake(mistake.name, mistake.advice, model))
    return tuple(kept)


def _unless_same(model: Callable[..., object], earlier: tuple[Callable[..., object], ...]):
    def variant(*args, **kwargs):
        result = model(*args, **kwargs)
        for other in earlier:
            try:
                same = matches(other(*args, **kwargs), result)
            except Exception:  # noqa: BLE001 -- an earlier variant that cannot run differs
                same = False
            if same:
                raise ValueError("an earlier variant of this mistake already gives this result")
        return result

    return variant


def integer_only(model: Callable[..., object], which: Callable[..., object]):
    """A truncation model that applies only when the input it names holds integers."""

    def guarded(*args, **kwargs):
        if not np.issubdtype(np.asarray(which(*args, **kwargs)).dtype, np.integer):
            raise ValueError("no integer input in this case")
        return model(*args, **kwargs)

    return guarded


# --- showing 4-D arrays ----------------------------------------------------------------


def nested(text: str) -> str:
    return text.replace("\n", "\n  ")

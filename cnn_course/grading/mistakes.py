"""The mistake vocabulary shared by the assignments' grading specs.

A mistake's name is what the feedback's "Likely mistake" line says, and what the published
and classroom lists of named mistakes refer to; its advice tells the student what to do
instead. The names and advice used by more than one spec module live here, so that every
assignment calls one slip by one name; those used by a single spec module stay in it.
"""

from __future__ import annotations

FLIPPED = "flipped kernel (a true convolution)"
FLIPPED_ADVICE = (
    "Deep-learning 'convolution' is cross-correlation: multiply image[i+a, j+b] by "
    "kernel[a, b]; do not flip the kernel."
)
OFF_BY_ONE = "output size off by one"
OFF_BY_ONE_ADVICE = (
    "There are H - kh + 1 window positions per column, not H - kh: loop to H - kh + 1."
)
TRUNCATION = "integer truncation"
TRUNCATION_ADVICE = (
    "An integer image must not truncate the result: build the output with a float dtype "
    "(np.zeros(shape) is float64; np.zeros_like(int_image) is not)."
)
PADDING_IGNORED = "padding ignored"
PADDING_IGNORED_ADVICE = (
    "Add `padding` rows/columns of zeros on every side before sliding the filter."
)
ONE_SIDE = "padding on one side only"
ONE_SIDE_ADVICE = "Pad both sides: `padding` zeros before the first row/column and after the last."
STRIDE_IGNORED = "stride ignored"
STRIDE_IGNORED_ADVICE = (
    "Move the window `stride` cells at a time: window (i, j) starts at (i*stride, j*stride)."
)
CEIL = "ceil instead of floor in the output size"
CEIL_ADVICE = (
    "Output size is floor((n + 2*padding - f) / stride) + 1: a window that would run past "
    "the padded edge is not computed."
)
BIAS_FORGOTTEN = "bias forgotten"
BIAS_FORGOTTEN_ADVICE = "Add bias[k] to every value of output channel k."
BIAS_PER_CHANNEL = "bias added once per input channel"
BIAS_PER_CHANNEL_ADVICE = (
    "Add the bias once per output value, after summing over the input channels."
)
BIAS_EVERY_PRODUCT = "bias added to every product instead of once per output"
BIAS_EVERY_PRODUCT_ADVICE = (
    "np.sum(window * w + b) adds b kh*kw*C_in times: sum the kh*kw*C_in products first, then "
    "add the bias once to each output value, np.sum(window * w) + b."
)
CHANNELS_NOT_SUMMED = "channels not summed (only one input channel used)"
ONE_CHANNEL_ADVICE = (
    "Each output value sums over ALL input channels: accumulate with += over c, do not overwrite."
)
CHANNELS_AVERAGED = "channels averaged instead of summed"
CHANNELS_AVERAGED_ADVICE = "A filter's response is the sum over all input channels, not the mean."
TRANSPOSED = "axes transposed"
TRANSPOSED_ADVICE = (
    "Index arrays as [row, column]: the first axis is the height, the second the width."
)

# The worked answer sheet the course grew out of made these slips; a student who copies one
# is told which step it is.
SHEET_SLIP = "the worked answer sheet's slip"

"""The mistake names and advice of 02_output_size, shared by its functions and answers."""

from __future__ import annotations

TRUE_DIVISION = "true division instead of floor division"
TRUE_DIVISION_ADVICE = (
    "`/` gives a float such as 3.5; sizes are whole numbers of window positions: "
    "use `//` (floor division), e.g. (n + 2*padding - f) // stride + 1."
)
FORGOT_PLUS_ONE = "output size off by one (the + 1 forgotten)"
FORGOT_PLUS_ONE_ADVICE = (
    "(n + 2*padding - f) // stride counts the steps the window takes; add 1 for the window "
    "at the start, outside the division: (n + 2*padding - f) // stride + 1."
)
# round() only ever errs upwards, like ceil, so one name covers both.
CEIL_SIZE_ADVICE = (
    "A window that would run past the edge is dropped, so sizes round DOWN: use `//`; "
    "math.ceil and round() count a window too many."
)
PRECEDENCE = "missing parentheses: only f divided by the stride"
PRECEDENCE_ADVICE = (
    "`//` binds tighter than `+` and `-`: write (n + 2*padding - f) // stride + 1 "
    "with the parentheses."
)
PADDING_ADVICE = "The padded input has n + 2*padding cells: padding is added on both sides."
ONE_SIDE_SIZE_ADVICE = "padding is added on EACH side, so it counts twice: n + 2*padding."
STRIDE_SIZE_ADVICE = "Divide the distance the window travels by the stride: (...) // stride + 1."
POOL_DEFAULT_STRIDE = "default pooling stride taken as 1"
POOL_DEFAULT_STRIDE_ADVICE = (
    "Without a stride, pooling windows do not overlap: the stride defaults to the window "
    "size f (`stride = f if stride is None else stride`)."
)
POOL_STRIDE_IGNORED = "pooling stride ignored (window size used instead)"
POOL_STRIDE_IGNORED_ADVICE = (
    "Use the given stride when there is one; only when it is None does it default to f."
)
BIAS_COUNT_ADVICE = "Counts weights only: add one bias per filter (n_filters biases)."
DENSE_BIAS_ADVICE = "Counts weights only: add one bias per output unit (n_out biases)."
BIAS_FLAG_IGNORED = "bias=False ignored"
BIAS_FLAG_ADVICE = "With bias=False the layer has weights only: count the biases only if bias."
NO_INPUT_CHANNELS = "input channels not counted"
NO_INPUT_CHANNELS_ADVICE = (
    "Each filter spans every input channel: it has f * f * c_in weights, not f * f."
)
BIAS_PER_INPUT_CHANNEL = "bias counted per input channel"
BIAS_PER_INPUT_CHANNEL_ADVICE = "A filter has one bias, however many input channels it spans."
ONE_BIAS = "one bias for the whole layer"
ONE_BIAS_ADVICE = "Every filter has its own bias: n_filters biases, not 1."
NOT_SQUARED = "filter area f instead of f * f"
NOT_SQUARED_ADVICE = "An f x f filter has f * f weights per input channel."
DENSE_BIAS_PER_INPUT = "biases counted per input instead of per output"
DENSE_BIAS_PER_INPUT_ADVICE = (
    "Each output unit has one bias: n_in * n_out weights plus n_out biases."
)

extension Fast {
    /// Binary cross-entropy on logits, PyTorch's `binary_cross_entropy_with_logits`, in Float.
    ///
    /// With `x_i` the logit, `y_i` the target (not range-checked), `w_i` the `weight` and
    /// `p_i` the `pos_weight` (both broadcast to the input's shape by the trailing-dimension
    /// rule, so `pos_weight` of shape `[C]` applies per class along the last dimension;
    /// rounded to Float once per call; 1 when absent), and `c_i = 1 + (p_i - 1) y_i`:
    ///
    ///     l_i = w_i [ (1 - y_i) x_i - c_i log_sigmoid(x_i) ]
    ///
    /// reduced by `loss.reduction` (default `.mean`: the sum divided by the element count
    /// `n`; `.sum`; `.none` keeps the input's shape).
    ///
    /// - Gradients (`gradients`, default `.none`: value only), with `norm = 1/n` for
    ///   `mean` and 1 otherwise and `g` the upstream gradient (nil: ones):
    ///
    ///       d/dx_i = w_i g_i norm [ c_i sigmoid(x_i) - p_i y_i ]     (sigmoid(x_i) - y_i without pos_weight)
    ///       d/dy_i = w_i g_i norm [ log_sigmoid(-x_i) - p_i log_sigmoid(x_i) ]   (-x_i without pos_weight)
    ///
    /// - How it is computed: one `t = exp(-|x|)` and one `L = log1p(t)` per element
    ///   (`log_sigmoid(x) = min(x, 0) - L`, `sigmoid(x) = 1/(1 + t)` or `t/(1 + t)`, bit
    ///   for bit `VectorMath.sigmoid`). `L` comes from `VectorMath.log1pUnit`, the form of
    ///   `log1p` for arguments in [0, 1] (exponent 0 or 1, no special-path test): bit for
    ///   bit `VectorMath.log1p` on every Float in [0, 1] and NaN (checked exhaustively),
    ///   about 14% fewer instructions per element for this loss. The loss is evaluated
    ///   in the equivalent form `w [a x + c L]` with `a = 1 - y` for `x >= 0` and
    ///   `a = -p y` for `x < 0`: for targets in [0, 1] and `p >= 0` both parts are non-negative, so nothing cancels and
    ///   a small loss keeps its relative accuracy (the formula as written loses it for
    ///   negative `x` and small `y`: at `x = -20, y = 0` the loss 2.06e-9 would come out as
    ///   `-20 - fl(-20 - 2.06e-9) = 0` in Float). The weights are multiplied into the
    ///   coefficients before the logit (`(w a) x`), so a huge logit overflows only where
    ///   the exact weighted result does.
    /// - Accuracy (u = 2^-24): the loss errs by at most about 9u relative to
    ///   `w (|(1 - y) x| + |c log_sigmoid(x)|)` (with `exp`'s 1.5 ULP and `log1p`'s 2 ULP),
    ///   the input gradient, evaluated as `w [(1 - y) sigmoid(x) - p y sigmoid(-x)]`, by
    ///   about 8u of `w ((1 - y) sigmoid(x) + p y sigmoid(-x))` (for y in [0, 1] no
    ///   cancellation when `sigmoid(x) ~ y ~ 1`: x = 30, y = 1 keeps full relative
    ///   accuracy, StabilityCases "one-hot/bce_with_logits"), the pos_weight target gradient by about 9u of
    ///   `w (|log_sigmoid(-x)| + p |log_sigmoid(x)|)`; `-w x` is exact. A reduction adds
    ///   the summation error described in `Fast`. Measured against the Double reference:
    ///   see FastElementwiseTests (LOSS_REPORT=1).
    /// - Huge and infinite logits: every finite logit, up to `+-greatestFiniteMagnitude`,
    ///   gives the finite loss and gradients the formula gives (`exp(-|x|)` never
    ///   overflows; a zero coefficient never meets an infinity). At `x = +-inf` the
    ///   results are the limits (deviation 4: PyTorch gives NaN through `0 * inf`):
    ///   `x = +inf`: loss 0 when `y == 1`, else `(1 - y) * inf`; input gradient `c - p y`
    ///   (`1 - y`); target gradient `-inf`. `x = -inf`: loss 0 when `p y == 0`, else
    ///   `p y * inf`; input gradient `-p y` (`-y`); target gradient `p * inf`, 0 for
    ///   `p == 0` (`+inf` without pos_weight). The weight multiplies these limits, so a
    ///   zero weight on an infinite limit gives NaN (`0 * inf`), as PyTorch. A NaN logit or
    ///   target gives NaN. An empty input gives NaN for `mean`, 0 for `sum`.
    /// - Threads: see `Fast`; the result is the same bits for every `threads`.
    /// - Throws: `.shape` if the target's shape differs from the input's, `weight` or
    ///   `pos_weight` does not broadcast to it without enlarging it, or the upstream's
    ///   shape differs from the output's; `.option` for `batchmean` or `threads < 1`.
    public static func evaluate(
        _ loss: BCEWithLogitsLoss, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        return try evaluateTensors(loss: BCEWithLogitsLoss.name, layout: layout.elements, input: input, target: target,
                                   upstream: upstream, gradients: gradients) { (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, target: y, shape: input.shape, upstream: u, into: outputs, threads: threads)
        }
    }

    /// Binary cross-entropy on logits over caller-owned buffers, without allocating (each
    /// of `weight` and `pos_weight` given is copied to Float once).
    ///
    /// The same loss, options, gradients, accuracy and edge cases as the tensor form; the
    /// buffers follow the rules of `Fast` (input, target and gradients: the shape's
    /// element count; upstream and output: the output's; a nil gradient buffer skips its
    /// work).
    ///
    /// - Throws: `.shape` naming the buffer whose length differs from what `shape` and
    ///   the reduction imply, or for a weight that does not broadcast; `.option` for
    ///   `batchmean` or `threads < 1`.
    public static func evaluate(
        _ loss: BCEWithLogitsLoss, input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>, shape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: shape)
        let weight = loss.weight.flatMap { w in layout.weight.map { BroadcastOperand(w.scalars, $0) } }
        let posWeight = loss.posWeight.flatMap { p in layout.posWeight.map { BroadcastOperand(p.scalars, $0) } }
        func run<K: ElementwiseKernel>(_ kernel: K) throws(LossError) {
            try evaluateElementwise(kernel, loss: BCEWithLogitsLoss.name, layout: layout.elements,
                                    reduction: loss.reduction, denominator: layout.elements.count,
                                    input: input, target: target, upstream: upstream, outputs: outputs, threads: threads)
        }
        switch (weight, posWeight) {
        case (nil, nil): try run(BCEWithLogitsKernel(weight: Unweighted()))
        case (let w?, nil): try run(BCEWithLogitsKernel(weight: w))
        case (nil, let p?): try run(BCEWithLogitsPosWeightKernel(weight: Unweighted(), posWeight: p))
        case (let w?, let p?): try run(BCEWithLogitsPosWeightKernel(weight: w, posWeight: p))
        }
    }
}

/// The pieces both logits kernels share: `L = log1p(t)` with `t = exp(-|x|)` in [0, 1]
/// (so `VectorMath.log1pUnit`, same bits as `log1p`), `L` in [0, ln 2] (NaN for a NaN
/// logit), `sigmoid(x)` = `1/(1 + t)` (x >= 0) or `t/(1 + t)` (x < 0), bit for bit
/// `VectorMath.sigmoid`, and `step` = 1 for x >= 0, 0 otherwise (and for NaN).
///
/// The two sigmoids are `r s` and `r u` with `r = 1/(1 + t)`, `s = max(step, t)` and
/// `u = max(1 - step, t)`: since `0 <= t <= 1`, `s` is 1 or `t` and `u` is `t` or 1, so the
/// products are the same bits as `r` and `t r`, and a NaN `t` passes through the
/// maximum (`Lanes.atLeast`). Two `maxps` and two masks replace two selects.
/// (A function, not a struct holding the masks: a mask kept in a struct was rebuilt
/// lane by lane in general-purpose registers.)
@inline(__always)
func logisticParts(_ x: FloatVector)
    -> (log1pT: FloatVector, sigmoid: FloatVector, sigmoidOfNegative: FloatVector, step: FloatVector)
{
    let one = FloatVector(repeating: 1), zero = FloatVector()
    let t = VectorMath.exp(Lanes.negativeMagnitude(x))
    let r = one / (one + t)
    let nonNegative = x .>= zero
    let step = Lanes.choose(nonNegative, one, else: zero)
    let stepOfNegative = Lanes.choose(nonNegative, zero, else: one)
    // t is in [0, 1] (NaN for a NaN logit): the range-restricted log1p, same bits.
    return (VectorMath.log1pUnit(t), r * Lanes.atLeast(step, t), r * Lanes.atLeast(stepOfNegative, t), step)
}

/// Without pos_weight: loss `w [a x + L]` with `a = 1 - y` (x >= 0) or `-y` (x < 0)
/// (`= w [(1 - y) x - log_sigmoid(x)]`), derivatives `w (sigmoid(x) - y)` and `-w x`.
struct BCEWithLogitsKernel<Weight: ElementWeight>: ElementwiseKernel {
    let weight: Weight
    let one = FloatVector(repeating: 1)

    @inline(__always)
    func terms(input x: FloatVector, target y: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let w = weight.load(at: index, lanes: lanes)
        let parts = logisticParts(x)
        // a = 1 - y for x >= 0, 0 - y for x < 0 (and for a NaN x, whose loss is NaN anyway).
        let a = parts.step - y
        // a == 0 (y == 1 at x >= 0, y == 0 at x < 0): the part is 0 even at x = +-inf,
        // the limit (deviation 4); elsewhere a * 0 is 0 anyway.
        let ax = Lanes.choose(a .== 0, FloatVector(), else: (w * a) * x)
        let value = ax + w * parts.log1pT
        // sigmoid(x) - y as (1 - y) sigmoid(x) - y sigmoid(-x): no cancellation when
        // sigmoid(x) ~ y ~ 1 (x = 30, y = 1: -sigmoid(-30) to full relative accuracy).
        let dInput = w * ((one - y) * parts.sigmoid - y * parts.sigmoidOfNegative)
        return ElementTerms(value: value, dInput: dInput, dTarget: w * -x)
    }
}

/// With pos_weight p and `c = (1 - y) + p y` (= `1 + (p - 1) y`): loss `w [a x + c L]` with
/// `a = 1 - y` (x >= 0) or `-p y` (x < 0); derivatives `w (c sigmoid(x) - p y)` and
/// `w [b - (1 - p) L]` with `b = -x` (x >= 0) or `-p x` (x < 0)
/// (`= w [log_sigmoid(-x) - p log_sigmoid(x)]`).
struct BCEWithLogitsPosWeightKernel<Weight: ElementWeight>: ElementwiseKernel {
    let weight: Weight
    let posWeight: BroadcastOperand
    let one = FloatVector(repeating: 1)

    @inline(__always)
    func terms(input x: FloatVector, target y: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let w = weight.load(at: index, lanes: lanes)
        let p = posWeight.load(at: index, lanes: lanes)
        let parts = logisticParts(x)
        let py = p * y
        let c = (one - y) + py
        let wc = w * c, wp = w * p
        let a = Lanes.choose(x .< 0, -py, else: one - y)
        // a == 0 (y == 1 at x >= 0, p y == 0 at x < 0): the part is 0 at x = +-inf too.
        let ax = Lanes.choose(a .== 0, FloatVector(), else: (w * a) * x)
        let value = ax + wc * parts.log1pT
        // c sigmoid(x) - p y as (1 - y) sigmoid(x) - p y sigmoid(-x), without cancellation.
        let dInput = w * ((one - y) * parts.sigmoid - py * parts.sigmoidOfNegative)
        // b: -x for x >= 0, -p x for x < 0, whose limit at x = -inf is 0 when p == 0.
        let bNegative = Lanes.choose(p .== 0, FloatVector(), else: -(wp * x))
        let b = Lanes.choose(x .< 0, bNegative, else: -(w * x))
        let dTarget = b + (wp - w) * parts.log1pT
        return ElementTerms(value: value, dInput: dInput, dTarget: dTarget)
    }
}

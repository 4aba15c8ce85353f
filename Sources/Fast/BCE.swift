extension Fast {
    /// Binary cross-entropy on probabilities, PyTorch's `binary_cross_entropy`, in Float.
    ///
    /// With `x_i` the predicted probability, `y_i` the target probability and `w_i` the
    /// weight (`loss.weight` broadcast to the input's shape by the trailing-dimension rule,
    /// rounded to Float once per call; 1 without it):
    ///
    ///     l_i = -w_i [ y_i max(log x_i, -100) + (1 - y_i) max(log1p(-x_i), -100) ]
    ///
    /// reduced by `loss.reduction` (default `.mean`: the sum divided by the element count
    /// `n`, the weights do not enter it; `.sum`; `.none` keeps the input's shape).
    ///
    /// - Gradients (`gradients`, default `.none`: value only), PyTorch's, which are not
    ///   the derivatives of the clamped value:
    ///
    ///       d/dx_i = w_i g_i norm (x_i - y_i) / max(x_i (1 - x_i), 1e-12)
    ///       d/dy_i = w_i g_i norm (log1p(-x_i) - log x_i)        (logs unclamped)
    ///
    ///   with `1e-12` the Float constant (about 9.99999996e-13), `norm = 1/n` for `mean`
    ///   and 1 otherwise, `g` the upstream gradient (nil: ones; one value for `sum`/`mean`,
    ///   one per element for `none`).
    /// - Accuracy (u = 2^-24; first-order bounds from the roundings and `VectorMath`'s 2 ULP
    ///   for `log` and `log1p`, derived in FastElementwiseTests): a term errs by at most 8u
    ///   of `w (|y a| + |(1 - y) b|)` (the term's magnitude: both parts have the same sign),
    ///   the input gradient by 7u of `w g norm (|x| + |y|) / max(x (1 - x), 1e-12)` (the
    ///   difference `x - y` cancels where `x ~ y`), the target gradient by 8u of
    ///   `w g norm (|log1p(-x)| + |log x|)` (it cancels near `x = 1/2`). A reduction adds
    ///   the summation error described in `Fast`. Measured against the Double reference
    ///   (generated cases of every regime, 3 seeds, about 3.5e4 values of each kind): at
    ///   most 3.2u, 3.4u and 3.5u of those scales; in Float ULPs of the reference value the
    ///   loss is within 2.6 (p99 1.3), the input gradient within 3.0 (p99 1.6), the
    ///   target gradient within 243 (p99 7, all of it cancellation near `x = 1/2`).
    /// - Edge cases: the -100 clamp makes the loss finite at `x = 0` and `x = 1`: a wrong
    ///   certain prediction costs `100 w`, with input gradient `-+w g norm / 1e-12`; a
    ///   right certain one costs 0 with input gradient 0. The target gradient is `+inf`
    ///   at `x = 0` and `-inf` at `x = 1`; a zero weight there gives NaN (`0 * inf`, as
    ///   PyTorch). An empty input gives NaN for `mean`, 0 for `sum`.
    /// - Threads: see `Fast`; the result is the same bits for every `threads`.
    /// - Throws: `.input` if an input is outside [0, 1] or NaN, `.target` if a target is
    ///   (checked before any arithmetic, by `BCELoss.validateValues`: the first offending
    ///   element is named); `.shape` if the target's shape differs from the input's, the
    ///   weight does not broadcast to it without enlarging it, or the upstream's shape
    ///   differs from the output's; `.option` for `batchmean` or `threads < 1`.
    public static func evaluate(
        _ loss: BCELoss, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        return try evaluateTensors(loss: BCELoss.name, layout: layout.elements, input: input, target: target,
                                   upstream: upstream, gradients: gradients) { (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, target: y, shape: input.shape, upstream: u, into: outputs, threads: threads)
        }
    }

    /// Binary cross-entropy over caller-owned buffers, without allocating (a weighted
    /// call makes one Float copy of the weight).
    ///
    /// The same loss, options, gradients, accuracy and edge cases as the tensor form; the
    /// buffers follow the rules of `Fast` (input, target and gradients: the shape's
    /// element count; upstream and output: the output's; a nil gradient buffer skips its
    /// work). The values are checked after the buffer lengths and before anything is
    /// written.
    ///
    /// - Throws: `.input`/`.target` for a value outside [0, 1] or NaN; `.shape` naming
    ///   the buffer whose length differs from what `shape` and the reduction imply, or
    ///   for a weight that does not broadcast; `.option` for `batchmean` or `threads < 1`.
    public static func evaluate(
        _ loss: BCELoss, input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>, shape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: shape)
        let valueCheck = { (threads: Int) throws(LossError) in
            // The scan finds whether anything is wrong; the description names it.
            guard ValueCheck.anyOutside(input, 0, 1, threads: threads)
                || ValueCheck.anyOutside(target, 0, 1, threads: threads) else { return }
            try BCELoss.validateValues(count: layout.elements.count,
                                       input: { Double(input[$0]) }, target: { Double(target[$0]) })
        }
        if let weight = loss.weight, let broadcast = layout.weight {
            try evaluateElementwise(BCEKernel(weight: BroadcastOperand(weight.scalars, broadcast)),
                                    loss: BCELoss.name, layout: layout.elements, reduction: loss.reduction,
                                    denominator: layout.elements.count, input: input, target: target,
                                    upstream: upstream, outputs: outputs, threads: threads, valueCheck: valueCheck)
        } else {
            try evaluateElementwise(BCEKernel(weight: Unweighted()),
                                    loss: BCELoss.name, layout: layout.elements, reduction: loss.reduction,
                                    denominator: layout.elements.count, input: input, target: target,
                                    upstream: upstream, outputs: outputs, threads: threads, valueCheck: valueCheck)
        }
    }
}

/// `-w [y max(log x, -100) + (1 - y) max(log1p(-x), -100)]`, PyTorch's derivatives
/// `w (x - y) / max(x (1 - x), 1e-12)` and `w (log1p(-x) - log x)`.
struct BCEKernel<Weight: ElementWeight>: ElementwiseKernel {
    let weight: Weight
    let floor = FloatVector(repeating: -100)
    let one = FloatVector(repeating: 1)
    /// PyTorch's Float constant 1e-12 (9.99999996e-13).
    let eps12 = FloatVector(repeating: 1e-12)

    @inline(__always)
    func terms(input x: FloatVector, target y: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let w = weight.load(at: index, lanes: lanes)
        let logX = VectorMath.log(x)
        let log1mX = VectorMath.log1p(-x)
        // max(., -100) as selects: the inputs are validated, so no NaN reaches them.
        let a = Lanes.choose(logX .< floor, floor, else: logX)
        let b = Lanes.choose(log1mX .< floor, floor, else: log1mX)
        // -[y a + (1 - y) b] arranged as PyTorch does, (y - 1) b - y a, so that a zero
        // loss is +0 rather than -0.
        let value = w * ((y - one) * b - y * a)
        let p = (one - x) * x
        // (x - y) / den before the weight: a difference of subnormal probabilities is exact,
        // and the quotient (up to 1e12 times larger) is normal again; weighting the
        // difference first would round it at the subnormal spacing, an error that the
        // division by 1e-12 then magnifies 1e12 times.
        let dInput = w * ((x - y) / Lanes.choose(p .< eps12, eps12, else: p))
        let dTarget = w * (log1mX - logX)
        return ElementTerms(value: value, dInput: dInput, dTarget: dTarget)
    }
}

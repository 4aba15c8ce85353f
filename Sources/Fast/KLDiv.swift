extension Fast {
    /// Kullback-Leibler divergence, PyTorch's `kl_div`, in Float, with the input as
    /// log-probabilities.
    ///
    /// Input `x` and target `t` of the same shape (any rank); elementwise
    ///
    ///     l_i = t_i (log t_i - x_i)           (0 log 0 = 0)
    ///     l_i = exp(t_i) (t_i - x_i)          with `loss.logTarget` (the target is log t)
    ///
    /// reduced by `loss.reduction`: `none`, `sum`, `mean` (the default, dividing by the
    /// element count) or `batchmean` (dividing by the size of dimension 0,
    /// `KLDivLoss.batchSize`: 1 for a scalar; the true KL divergence per sample).
    /// Neither argument is validated.
    ///
    /// - Gradients (`gradients`, default `.none`: value only), with `g` the upstream
    ///   gradient (nil: ones) and `den` the reduction's denominator (1 for `none`/`sum`):
    ///   `d/dx_i = -t_i g_i / den` (`-exp(t_i) g_i / den` with logTarget);
    ///   `d/dt_i = (log t_i + 1 - x_i) g_i / den`, NaN at `t_i = 0` (as PyTorch: the
    ///   limit is infinite); with logTarget `exp(t_i) (t_i - x_i + 1) g_i / den`.
    /// - Accuracy (u = 2^-24; first-order bounds from the roundings and `VectorMath`'s 2 ULP
    ///   `log` and 1.5 ULP `exp`, derived in FastElementwiseTests): `log t - x` is formed
    ///   before the product, so a term errs by at most 6u of `|t| (|log t| + |x|)` (the
    ///   difference cancels where `x ~ log t`: the loss `t log t - t x` is ill-conditioned
    ///   there, and no Float evaluation from these inputs does better); the target gradient
    ///   by 8u of `g / den (|log t| + 1 + |x|)`; `-t` is exact before the upstream factor.
    ///   With logTarget, 5u of `exp(t) (|t| + |x|)` and 8u of `exp(t) (|t| + |x| + 1)`. A
    ///   reduction adds the summation error described in `Fast`. Measured against the
    ///   Double reference (generated cases of every regime, 3 seeds): at most 2.4u of the
    ///   loss's scale, 2.8u and 3.2u of the gradients'; in Float ULPs of the reference
    ///   value the input gradient is within 2.1, the loss's p99 is 15 ULP and the target
    ///   gradient's 14 (the cancellation above).
    /// - Edge cases (as the reference): an element with `t = 0` (logTarget: `t = -inf`)
    ///   contributes 0 to the loss and 0 to the input gradient whatever the input, `-inf`
    ///   included (deviation 4: PyTorch gives `0 * inf = NaN`); a NaN input still gives a
    ///   NaN loss there (its input gradient stays `-t`). With logTarget its target gradient
    ///   is the limit 0 for a finite input, NaN otherwise. A negative `t` gives NaN
    ///   (`log t`). `exp(t)` overflows Float for `t > 88.72` (a log-target is at most 0 for
    ///   a probability). An empty input gives NaN for `mean` and for `batchmean` over zero
    ///   rows, 0 for `sum`.
    /// - Threads: see `Fast`; the result is the same bits for every `threads`.
    /// - Throws: `.shape` if the target's shape differs from the input's, or the
    ///   upstream's from the output's; `.option` for `threads < 1`.
    public static func evaluate(
        _ loss: KLDivLoss, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        return try evaluateTensors(loss: KLDivLoss.name, layout: layout, input: input, target: target,
                                   upstream: upstream, gradients: gradients) { (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, target: y, shape: input.shape, upstream: u, into: outputs, threads: threads)
        }
    }

    /// Kullback-Leibler divergence over caller-owned buffers, without allocating.
    ///
    /// The same loss, options, gradients, accuracy and edge cases as the tensor form; the
    /// buffers follow the rules of `Fast` (input, target and gradients: the shape's
    /// element count; upstream and output: the output's; a nil gradient buffer skips its
    /// work).
    ///
    /// - Throws: `.shape` naming the buffer whose length differs from what `shape` and
    ///   the reduction imply; `.option` for `threads < 1`.
    public static func evaluate(
        _ loss: KLDivLoss, input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>, shape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: shape)
        let denominator = loss.reduction == .batchmean ? KLDivLoss.batchSize(shape) : layout.count
        if loss.logTarget {
            try evaluateElementwise(KLDivLogTargetKernel(), loss: KLDivLoss.name, layout: layout,
                                    reduction: loss.reduction, denominator: denominator, input: input, target: target,
                                    upstream: upstream, outputs: outputs, threads: threads)
        } else {
            try evaluateElementwise(KLDivKernel(), loss: KLDivLoss.name, layout: layout,
                                    reduction: loss.reduction, denominator: denominator, input: input, target: target,
                                    upstream: upstream, outputs: outputs, threads: threads)
        }
    }
}

/// The loss of an element whose target is 0 (log-target `-inf`): 0, or NaN for a NaN input.
@inline(__always)
private func zeroTargetLoss(_ x: FloatVector) -> FloatVector {
    Lanes.choose(x .!= x, x, else: FloatVector())
}

/// `t (log t - x)`, 0 at `t = 0` (NaN for a NaN x); derivatives `-t` and `log t + 1 - x`
/// (NaN at `t = 0`).
struct KLDivKernel: ElementwiseKernel {
    let one = FloatVector(repeating: 1)

    @inline(__always)
    func terms(input x: FloatVector, target t: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let logT = VectorMath.log(t)
        let zero = t .== 0
        let value = Lanes.choose(zero, zeroTargetLoss(x), else: t * (logT - x))
        let dTarget = Lanes.choose(zero, FloatVector(repeating: .nan), else: (logT + one) - x)
        return ElementTerms(value: value, dInput: -t, dTarget: dTarget)
    }
}

/// `exp(t) (t - x)`, 0 at `t = -inf` (NaN for a NaN x); derivatives `-exp(t)` and
/// `exp(t) (t - x + 1)` (at `t = -inf`: 0 for a finite x, else NaN).
struct KLDivLogTargetKernel: ElementwiseKernel {
    let one = FloatVector(repeating: 1)

    @inline(__always)
    func terms(input x: FloatVector, target t: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let e = VectorMath.exp(t)
        let d = t - x
        let zero = t .== -.infinity
        let value = Lanes.choose(zero, zeroTargetLoss(x), else: e * d)
        let finiteX = Lanes.magnitude(x) .< .infinity
        let zeroGradient = Lanes.choose(finiteX, FloatVector(), else: FloatVector(repeating: .nan))
        let dTarget = Lanes.choose(zero, zeroGradient, else: e * (d + one))
        return ElementTerms(value: value, dInput: -e, dTarget: dTarget)
    }
}

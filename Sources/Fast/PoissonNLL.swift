import Foundation

extension Fast {
    /// Poisson negative log-likelihood, PyTorch's `poisson_nll_loss`, in Float.
    ///
    /// With `x_i` the input and `t_i` the target (a count):
    ///
    ///     l_i = exp(x_i) - t_i x_i                 if logInput (default): x is the log-rate
    ///           x_i - t_i log(x_i + eps)           otherwise: x is the rate
    ///
    /// plus, if `full`, the Stirling term `s(t) = t log t - t + 0.5 log(2 pi t)` where
    /// `t_i > 1` (0 where `t_i <= 1`), reduced by `loss.reduction` (default `.mean`,
    /// dividing by the element count; `.sum`; `.none`). Defaults: `logInput` true, `full`
    /// false, `eps` 1e-8 (rounded to Float).
    ///
    /// - Gradients (`gradients`, default `.none`: value only), with `g` the upstream
    ///   gradient (nil: ones) and `norm` `1/n` for `mean`, else 1:
    ///
    ///       d/dx_i = (exp(x_i) - t_i) g_i norm           or  (1 - t_i / (x_i + eps)) g_i norm
    ///       d/dt_i = -x_i g_i norm                       or  -log(x_i + eps) g_i norm
    ///
    ///   and with `full`, where `t_i > 1`, `d/dt_i` gains `s'(t) = log t + 1 / (2 t)`.
    /// - Accuracy (u = 2^-24): a few roundings per element relative to the sum of the
    ///   magnitudes of the formula's parts (`exp(x) + |t x|`, `|x| + |t| (|log s| + 1)` with
    ///   `s = x + eps`, the Stirling parts `|t log t| + |t| + 0.5 |log(2 pi t)|`): the loss
    ///   cancels where its parts nearly balance. As PyTorch, `log(x + eps)` is taken after
    ///   rounding `x + eps` (to Float here), so near `x + eps = 1` it carries an absolute
    ///   error of about u (e.g. `x = 1`: `fl(1 + 1e-8) = 1`, `-log` gives 0 where the
    ///   exact target gradient is -1e-8). `0.5 log(2 pi t)` is `0.5 (log(2 pi) + log t)`
    ///   (one logarithm per element; both parts positive for `t > 1`). First-order bounds
    ///   (derived in FastElementwiseTests): 8u (log-input) or 9u (rate) of the loss's
    ///   scale, 6u and 8u of the gradients'. A reduction adds the summation error described
    ///   in `Fast`. Measured against the Double reference (generated cases of every
    ///   regime, 3 seeds): at most 2.4u of the loss's scale and 2.8u of the gradients'.
    ///   In Float ULPs of the reference value the errors are large only where the formula
    ///   cancels (`exp(x) ~ t` in the input gradient, e.g. `x = 2^-20, t = 1 + 2^-20`).
    /// - Edge cases (as the reference): where `t_i <= 1` the Stirling term is masked, so
    ///   its gradient there is 0 (deviation 4: PyTorch's target gradient is NaN at
    ///   `t = 0`); a NaN target is not masked. `exp(x)` overflows Float for
    ///   `x > 88.72`, giving `+inf` where the Double reference is still finite;
    ///   `t = 0` with `x = -inf` (log-input) or with `x + eps = 0` (rate) gives NaN
    ///   through `0 * inf`; a rate with `x + eps < 0` gives NaN. An empty input gives NaN
    ///   for `mean` and 0 for `sum`.
    /// - Threads: see `Fast`; the result is the same bits for every `threads`.
    /// - Throws: `.option` if `eps` is not finite and non-negative, for `batchmean` or
    ///   `threads < 1`; `.shape` if the target's shape differs from the input's, or the
    ///   upstream's from the output's.
    public static func evaluate(
        _ loss: PoissonNLLLoss, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        return try evaluateTensors(loss: PoissonNLLLoss.name, layout: layout, input: input, target: target,
                                   upstream: upstream, gradients: gradients) { (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, target: y, shape: input.shape, upstream: u, into: outputs, threads: threads)
        }
    }

    /// Poisson negative log-likelihood over caller-owned buffers, without allocating.
    ///
    /// The same loss, options, gradients, accuracy and edge cases as the tensor form; the
    /// buffers follow the rules of `Fast` (input, target and gradients: the shape's
    /// element count; upstream and output: the output's; a nil gradient buffer skips its
    /// work).
    ///
    /// - Throws: `.option` for a bad eps, `batchmean` or `threads < 1`; `.shape` naming
    ///   the buffer whose length differs from what `shape` and the reduction imply.
    public static func evaluate(
        _ loss: PoissonNLLLoss, input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>, shape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: shape)
        try evaluateElementwise(PoissonNLLKernel(logInput: loss.logInput, full: loss.full, eps: loss.eps),
                                loss: PoissonNLLLoss.name, layout: layout, reduction: loss.reduction,
                                denominator: layout.count, input: input, target: target, upstream: upstream,
                                outputs: outputs, threads: threads)
    }
}

/// `exp(x) - t x` or `x - t log(x + eps)`, plus the Stirling term where `t > 1` if `full`.
struct PoissonNLLKernel: ElementwiseKernel {
    let logInput: Bool
    let full: Bool
    let eps: FloatVector
    let one = FloatVector(repeating: 1)
    let half = FloatVector(repeating: 0.5)
    /// `log(2 pi)` rounded to Float.
    let logTwoPi = FloatVector(repeating: Float(Foundation.log(2 * Double.pi)))

    init(logInput: Bool, full: Bool, eps: Double) {
        self.logInput = logInput
        self.full = full
        self.eps = FloatVector(repeating: Float(eps))
    }

    @inline(__always)
    func terms(input x: FloatVector, target t: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        var value: FloatVector, dInput: FloatVector, dTarget: FloatVector
        if logInput {
            let rate = VectorMath.exp(x)
            value = rate - t * x
            dInput = rate - t
            dTarget = -x
        } else {
            let shifted = x + eps
            let logRate = VectorMath.log(shifted)
            value = x - t * logRate
            dInput = one - t / shifted
            dTarget = -logRate
        }
        if full {
            // Masked where t <= 1; a NaN t fails the comparison and is not masked.
            let masked = t .<= one
            // log(1) = 0 in the masked lanes keeps zero counts off log's special path.
            let logT = VectorMath.log(Lanes.choose(masked, one, else: t))
            let stirling = (t * logT - t) + half * (logTwoPi + logT)
            value += Lanes.choose(masked, FloatVector(), else: stirling)
            dTarget += Lanes.choose(masked, FloatVector(), else: logT + one / (t + t))
        }
        return ElementTerms(value: value, dInput: dInput, dTarget: dTarget)
    }
}

import Losses

extension Reference {
    /// Binary cross-entropy on probabilities, PyTorch's `binary_cross_entropy`.
    ///
    /// With `x_i` the predicted probability, `y_i` the target probability and `w_i` the
    /// optional weight (`loss.weight` broadcast to the input's shape; 1 without it):
    ///
    ///     l_i = -w_i [ y_i max(log x_i, -100) + (1 - y_i) max(log(1 - x_i), -100) ]
    ///
    /// (`log(1 - x)` evaluated as `log1p(-x)`), reduced by `loss.reduction` (default
    /// `.mean`, dividing by the element count; the weights do not enter the denominator).
    ///
    /// - Gradients (PyTorch's, which are not the derivatives of the clamped value):
    ///
    ///       d/dx_i = w_i g_i norm (x_i - y_i) / max(x_i (1 - x_i), eps12)
    ///       d/dy_i = w_i g_i norm (log(1 - x_i) - log x_i)      (logs unclamped)
    ///
    ///   with `eps12 = Double(Float(1e-12))` (about 9.99999996e-13, PyTorch's float
    ///   constant), `g` the upstream gradient and `norm` `1/n` for `mean`, 1 otherwise.
    /// - Edge cases: the -100 clamp makes the loss finite at `x = 0` and `x = 1`: a wrong
    ///   certain prediction (`x = 0, y = 1` or `x = 1, y = 0`) costs `100 w`, and its input
    ///   gradient is `-+w g norm / eps12`, about `-+1e12 w g norm`; a right certain one
    ///   costs 0 with input gradient 0. The target gradient is `+inf` at `x = 0` and
    ///   `-inf` at `x = 1`, as PyTorch. A zero weight times an infinite target gradient is
    ///   NaN, unguarded (as PyTorch). An empty input gives NaN for `mean` and 0 for `sum`.
    /// - Accuracy: a few roundings per element; the reduction is a compensated sum.
    /// - Throws: `.input` if an input is outside [0, 1] or NaN; `.target` if a target is
    ///   outside [0, 1] or NaN (both as PyTorch); `.shape` if the target's shape differs
    ///   from the input's, the weight does not broadcast to it without enlarging it, or
    ///   the upstream's shape differs from the output's; `.option` for `batchmean`.
    public static func evaluate<T: LossReal>(
        _ loss: BCELoss, input: Tensor<T>, target: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        // Every shape before any value, as the fast engine checks them.
        try validateUpstream(upstream, outputShape: layout.elements.outputShape, loss: BCELoss.name)
        let x = input.scalars, y = target.scalars
        try BCELoss.validateValues(count: layout.elements.count,
                                   input: { x[$0].doubleValue }, target: { y[$0].doubleValue })
        let w: [T]? = expandWeight(loss.weight, layout.weight)
        let floor = T(-100), eps12 = T(Double(Float(1e-12))), one = T.one
        return try assembleElementwise(
            loss: BCELoss.name, shape: layout.elements.shape, reduction: loss.reduction,
            denominator: layout.elements.count,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i in
            let xi = x[i], yi = y[i], wi = w?[i] ?? one
            let logX = T.log(xi), log1mX = T.log1p(-xi)
            // -[y a + (1 - y) b] arranged as PyTorch does, (y - 1) b - y a, so that a
            // zero loss is +0 rather than -0.
            let value = wi * ((yi - one) * T.maximum(log1mX, floor) - yi * T.maximum(logX, floor))
            let dInput = wi * (xi - yi) / T.maximum((one - xi) * xi, eps12)
            let dTarget = wi * (log1mX - logX)
            return ElementTerms(value: value, dInput: dInput, dTarget: dTarget)
        }
    }
}

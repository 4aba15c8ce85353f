import Losses

extension Reference {
    /// Gaussian negative log-likelihood, PyTorch's `gaussian_nll_loss`.
    ///
    /// With `x_i` the predicted mean, `y_i` the target, `e_i = x_i - y_i`, and `v_i` the
    /// variance (`variance` broadcast to the input's shape, clamped below at `eps`):
    ///
    ///     v_i = max(var_i, eps)
    ///     l_i = 0.5 (log v_i + e_i^2 / v_i)        (+ 0.5 log(2 pi) if full)
    ///
    /// reduced by `loss.reduction` (default `.mean`, dividing by the input's element
    /// count). Defaults: `full` false, `eps` 1e-6. `variance` has the input's shape, or the
    /// input's shape without its last dimension (one variance per row), or the input's
    /// rank with one dimension of size 1 where the input's differs.
    ///
    /// - Gradients: `d/dx_i = (e_i / v_i) g_i norm`, `d/dy_i = -d/dx_i`, with `g` the
    ///   upstream gradient and `norm` `1/n` for `mean`, else 1. The gradient with respect
    ///   to the variance is not computed (`LossResult` has no slot for it); the clamp
    ///   passes no gradient, as PyTorch's `no_grad` clamp.
    /// - Edge cases: a variance of 0 (or below `eps`) is evaluated at `eps`. NaN in any
    ///   argument propagates (a NaN variance is not rejected, as PyTorch). An infinite
    ///   difference gives an infinite loss and gradient. An empty input gives NaN for
    ///   `mean` and 0 for `sum`.
    /// - Accuracy: a few roundings per element; the reduction is a compensated sum.
    /// - Throws: `.input` for a negative variance (as PyTorch); `.option` if `eps` is not
    ///   finite and positive, or for `batchmean`; `.shape` if the target's shape differs
    ///   from the input's (deviation 1), the variance's shape does not fit, or the
    ///   upstream's differs from the output's.
    public static func evaluate<T: LossReal>(
        _ loss: GaussianNLLLoss, input: Tensor<T>, target: Tensor<T>, variance: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let (layout, varBroadcast) = try loss.validate(input: input.shape, target: target.shape, variance: variance.shape)
        // Every shape before any value, as the fast engine checks them.
        try validateUpstream(upstream, outputShape: layout.outputShape, loss: GaussianNLLLoss.name)
        let x = input.scalars, y = target.scalars
        try GaussianNLLLoss.validateVariance(count: variance.count) { variance.scalars[$0].doubleValue }
        let v = varBroadcast.expand(variance.scalars)
        let eps = T(loss.eps), half = T(0.5)
        let constant = loss.full ? half * T.log(T(2 * Double.pi)) : .zero
        return try assembleElementwise(
            loss: GaussianNLLLoss.name, shape: layout.shape, reduction: loss.reduction, denominator: layout.count,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i in
            let vi = T.maximum(v[i], eps)
            let e = x[i] - y[i]
            var value = half * (T.log(vi) + e * e / vi)
            if loss.full { value += constant }
            let d = e / vi
            return ElementTerms(value: value, dInput: d, dTarget: -d)
        }
    }
}

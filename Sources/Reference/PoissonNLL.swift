import Losses

extension Reference {
    /// Poisson negative log-likelihood, PyTorch's `poisson_nll_loss`.
    ///
    /// With `x_i` the input and `t_i` the target (a count):
    ///
    ///     l_i = exp(x_i) - t_i x_i                 if logInput (default): x is the log-rate
    ///           x_i - t_i log(x_i + eps)           otherwise: x is the rate
    ///
    /// plus, if `full`, the Stirling term `s(t) = t log t - t + 0.5 log(2 pi t)` where
    /// `t_i > 1` (0 where `t_i <= 1`), reduced by `loss.reduction` (default `.mean`,
    /// dividing by the element count). Defaults: `logInput` true, `full` false, `eps` 1e-8.
    ///
    /// - Gradients, with `g` the upstream gradient and `norm` `1/n` for `mean`, else 1:
    ///
    ///       d/dx_i = (exp(x_i) - t_i) g_i norm           or  (1 - t_i / (x_i + eps)) g_i norm
    ///       d/dt_i = -x_i g_i norm                       or  -log(x_i + eps) g_i norm
    ///
    ///   and with `full`, where `t_i > 1`, `d/dt_i` gains `s'(t) = log t + 1 / (2 t)`.
    /// - Edge cases: where `t_i <= 1` the Stirling term is masked, so its gradient there is
    ///   0 (deviation 4: PyTorch's target gradient is NaN at `t = 0`). A NaN target is not
    ///   masked (NaN propagates, as PyTorch's `t <= 1` mask). Other non-finite results
    ///   follow the formula as PyTorch evaluates it: `exp(x)` overflows to `+inf` for a
    ///   large log-rate; `t = 0` with `x = -inf` (log-input) or with `x + eps = 0` (rate)
    ///   gives NaN through `0 * inf`; a rate with `x + eps < 0` gives NaN. An empty input
    ///   gives NaN for `mean` and 0 for `sum`.
    /// - Accuracy: a few roundings per element; the reduction is a compensated sum.
    ///   `log(x + eps)` is taken after rounding `x + eps`, as PyTorch does (not `log1p`),
    ///   so where `x + eps` is near 1 the target gradient `-log(x + eps)` carries that
    ///   rounding amplified by `1 / |log(x + eps)|` (e.g. relative 6e-9 at `x = 1`).
    /// - Throws: `.option` if `eps` is not finite and non-negative, or for `batchmean`;
    ///   `.shape` if the target's shape differs from the input's, or the upstream's from
    ///   the output's.
    public static func evaluate<T: LossReal>(
        _ loss: PoissonNLLLoss, input: Tensor<T>, target: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        let x = input.scalars, t = target.scalars
        let eps = T(loss.eps), one = T.one, half = T(0.5), twoPi = T(2 * Double.pi)
        return try assembleElementwise(
            loss: PoissonNLLLoss.name, shape: layout.shape, reduction: loss.reduction, denominator: layout.count,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i in
            let xi = x[i], ti = t[i]
            var value: T, dInput: T, dTarget: T
            if loss.logInput {
                let rate = T.exp(xi)
                value = rate - ti * xi
                dInput = rate - ti
                dTarget = -xi
            } else {
                let shifted = xi + eps
                let logRate = T.log(shifted)
                value = xi - ti * logRate
                dInput = one - ti / shifted
                dTarget = -logRate
            }
            if loss.full && !(ti <= one) {  // masked where t <= 1; NaN is not masked
                let logT = T.log(ti)
                value += ti * logT - ti + half * T.log(twoPi * ti)
                dTarget += logT + one / (T(2) * ti)
            }
            return ElementTerms(value: value, dInput: dInput, dTarget: dTarget)
        }
    }
}

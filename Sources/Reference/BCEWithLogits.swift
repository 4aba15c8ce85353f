import Losses

extension Reference {
    /// Binary cross-entropy on logits, PyTorch's `binary_cross_entropy_with_logits`.
    ///
    /// With `x_i` the logit, `y_i` the target (not range-checked), `w_i` the optional
    /// `weight` and `p_i` the optional `pos_weight` (both broadcast to the input's shape by
    /// the trailing-dimension rule, so `pos_weight` of shape `[C]` applies per class along
    /// the last dimension; 1 when absent), and `c_i = 1 + (p_i - 1) y_i`:
    ///
    ///     l_i = w_i [ (1 - y_i) x_i - c_i log_sigmoid(x_i) ]
    ///     log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|))      (finite for every finite x)
    ///
    /// reduced by `loss.reduction` (default `.mean`, dividing by the element count).
    ///
    /// - Gradients, with `g` the upstream gradient and `norm` `1/n` for `mean`, else 1:
    ///
    ///       d/dx_i = w_i g_i norm [ c_i sigmoid(x_i) - p_i y_i ]     (sigmoid(x_i) - y_i without pos_weight)
    ///       d/dy_i = w_i g_i norm [ log_sigmoid(-x_i) - p_i log_sigmoid(x_i) ]   (-x_i without pos_weight)
    ///
    /// - Infinite logits (deviation 4: PyTorch gives NaN through `0 * inf` where the limit
    ///   is finite; this returns the limit as `x_i -> +-inf`, before the weight `w_i`):
    ///   - `x = +inf`: loss `(1 - y) * inf`, i.e. 0 when `y == 1`, `+inf` when `y < 1`
    ///     (`-inf` when `y > 1`); input gradient `c - p y` (`1 - y` without pos_weight);
    ///     target gradient `-inf`.
    ///   - `x = -inf`: loss `p y * inf`, i.e. 0 when `p y == 0` (so 0 for `y == 0`),
    ///     `+inf` when `p y > 0`; input gradient `-p y` (`-y`); target gradient `p * inf`
    ///     with pos_weight, which is 0 for `p == 0`, and `+inf` without it.
    ///   The weight multiplies these limits, so a zero weight on an infinite limit gives
    ///   NaN (`0 * inf`), as PyTorch. A NaN logit or target gives NaN.
    /// - Accuracy: a few roundings per element for finite logits, no overflow for any
    ///   finite logit; the reduction is a compensated sum. An empty input gives NaN for
    ///   `mean` and 0 for `sum`.
    /// - Throws: `.shape` if the target's shape differs from the input's, `weight` or
    ///   `pos_weight` does not broadcast to it without enlarging it, or the upstream's
    ///   shape differs from the output's; `.option` for `batchmean`.
    public static func evaluate<T: LossReal>(
        _ loss: BCEWithLogitsLoss, input: Tensor<T>, target: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        let x = input.scalars, y = target.scalars
        let w: [T]? = expandWeight(loss.weight, layout.weight)
        let pw: [T]? = expandWeight(loss.posWeight, layout.posWeight)
        let one = T.one
        return try assembleElementwise(
            loss: BCEWithLogitsLoss.name, shape: layout.elements.shape, reduction: loss.reduction,
            denominator: layout.elements.count,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i in
            let xi = x[i], yi = y[i], wi = w?[i] ?? one
            let value: T, dInput: T, dTarget: T
            if let pw {
                let p = pw[i]
                let c = one + (p - one) * yi
                value = xi.isInfinite
                    ? logitsLossLimit(x: xi, y: yi, py: p * yi)
                    : logitsLoss(x: xi, y: yi, py: p * yi, c: c)
                dInput = logitsGradient(x: xi, y: yi, py: p * yi)
                // At x = -inf: log_sigmoid(+inf) - p * (-inf), whose limit is 0 for p == 0.
                dTarget = xi == -T.infinity && p == .zero
                    ? .zero
                    : T.logSigmoid(-xi) - p * T.logSigmoid(xi)
            } else {
                value = xi.isInfinite
                    ? logitsLossLimit(x: xi, y: yi, py: yi)
                    : logitsLoss(x: xi, y: yi, py: yi, c: one)
                dInput = logitsGradient(x: xi, y: yi, py: yi)
                dTarget = -xi
            }
            return ElementTerms(value: wi * value, dInput: wi * dInput, dTarget: wi * dTarget)
        }
    }

    /// The unweighted loss `(1 - y) x - c log_sigmoid(x)` at a finite logit, written as
    /// `(1 - y) max(x, 0) - p y min(x, 0) + c log1p(exp(-|x|))` (substitute
    /// `log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|))` and `c = 1 - y + p y`): for y in
    /// [0, 1] and p >= 0 every term is non-negative, so a loss near 0 (x = -30, y = 0:
    /// `log1p(e^-30) ~ 9.4e-14`) keeps full relative accuracy instead of cancelling
    /// `-30 - (-30 - 9.4e-14)`.
    private static func logitsLoss<T: LossReal>(x: T, y: T, py: T, c: T) -> T {
        (.one - y) * T.maximum(x, .zero) - py * T.minimum(x, .zero) + c * T.log1p(T.exp(-T.abs(x)))
    }

    /// The unweighted input gradient `c sigmoid(x) - p y`, written as
    /// `(1 - y) sigmoid(x) - p y sigmoid(-x)` (the same, as `sigmoid(x) + sigmoid(-x) = 1`):
    /// at x = 30, y = 1 it is `-sigmoid(-30) ~ -9.4e-14` to full relative accuracy, where
    /// `sigmoid(30) - 1` cancels to 3 digits. At `x = +-inf` it is the limit `1 - y` or `-p y`.
    private static func logitsGradient<T: LossReal>(x: T, y: T, py: T) -> T {
        if x.isNaN { return x }  // a NaN logit stays NaN even where a coefficient is 0
        let positive = T.sigmoid(x), negative = T.sigmoid(-x)
        let rising = y == .one ? .zero : (.one - y) * positive   // 0 * sigmoid, also at x = +inf
        let falling = py == .zero ? .zero : py * negative
        return rising - falling
    }

    /// The unweighted `bce_with_logits` loss's limit at an infinite logit `x`:
    /// as `x -> +inf`, `(1 - y) x - c log_sigmoid(x) -> (1 - y) x` because
    /// `log_sigmoid(x) ~ -exp(-x) -> 0`; as `x -> -inf`, `log_sigmoid(x) = x - log1p(exp(x))`
    /// so the loss is `-p y x + c log1p(exp(x)) -> -p y x`. A zero coefficient gives 0, not
    /// the `0 * inf = NaN` of evaluating the formula at the infinity.
    private static func logitsLossLimit<T: LossReal>(x: T, y: T, py: T) -> T {
        if x > .zero {
            return y == .one ? .zero : (.one - y) * x
        }
        return py == .zero ? .zero : -py * x
    }
}

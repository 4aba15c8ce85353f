import Losses

extension Reference {
    /// Kullback-Leibler divergence, PyTorch's `kl_div`, with the input as log-probabilities.
    ///
    /// Input and target of the same shape (any rank). Elementwise
    ///
    ///     l_i = t_i (log t_i - x_i)           (0 log 0 = 0)
    ///     l_i = exp(t_i) (t_i - x_i)          with logTarget (the target is log t)
    ///
    /// reduced by `loss.reduction`: `none`, `sum`, `mean` (the default, dividing by the
    /// element count) or `batchmean` (dividing by the size of dimension 0, 1 for a scalar:
    /// the true KL divergence per sample). Neither argument is validated.
    ///
    /// - Gradients: `d/dinput = -t g / den` (`-exp(t) g / den` with logTarget);
    ///   `d/dtarget = (log t + 1 - x) g / den`, NaN at `t = 0` (as PyTorch: the limit is
    ///   infinite); with logTarget `exp(t) (t - x + 1) g / den`.
    /// - Accuracy: `log t - x` is formed before the product, so the element is accurate to
    ///   a few ulps of `|t| (|log t| + |x|)`; the reduction is a compensated sum.
    /// - Edge cases: an element with `t = 0` (logTarget: `t = -inf`) contributes 0 to the
    ///   loss and 0 to the input gradient whatever the input, `-inf` included (deviation 4:
    ///   PyTorch gives `0 * inf = NaN`); a NaN input still gives NaN. With logTarget its
    ///   target gradient is the limit 0 for a finite input (deviation 4's rule; PyTorch
    ///   gives `0 * inf = NaN`), NaN otherwise. A negative `t` gives NaN (`log t`). An empty
    ///   input gives NaN for `mean` and `batchmean` over zero rows, 0 for `sum`.
    /// - Throws: `.shape` if the target's shape differs from the input's (or the upstream's
    ///   from the output's).
    public static func evaluate<T: LossReal>(
        _ loss: KLDivLoss, input: Tensor<T>, target: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        let x = input.scalars, t = target.scalars
        let denominator = loss.reduction == .batchmean ? KLDivLoss.batchSize(input.shape) : layout.count
        return try assembleElementwise(
            loss: KLDivLoss.name, shape: layout.shape, reduction: loss.reduction, denominator: denominator,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i in
            loss.logTarget ? logTargetTerms(x[i], t[i]) : probabilityTargetTerms(x[i], t[i])
        }
    }

    /// `t (log t - x)`; at `t = 0` the loss is 0 (unless x is NaN) and d/dtarget is NaN.
    private static func probabilityTargetTerms<T: LossReal>(_ x: T, _ t: T) -> ElementTerms<T> {
        if t == .zero {
            return ElementTerms(value: x.isNaN ? x : .zero, dInput: -t, dTarget: .nan)
        }
        let logT = T.log(t)
        return ElementTerms(value: t * (logT - x), dInput: -t, dTarget: logT + .one - x)
    }

    /// `exp(t) (t - x)` for a log-target t; at `t = -inf` the loss is 0 (unless x is NaN)
    /// and d/dtarget is its limit 0 for a finite x.
    private static func logTargetTerms<T: LossReal>(_ x: T, _ t: T) -> ElementTerms<T> {
        let expT = T.exp(t)
        if t == -.infinity {
            return ElementTerms(value: x.isNaN ? x : .zero, dInput: -expT, dTarget: x.isFinite ? .zero : .nan)
        }
        return ElementTerms(value: expT * (t - x), dInput: -expT, dTarget: expT * (t - x + .one))
    }
}

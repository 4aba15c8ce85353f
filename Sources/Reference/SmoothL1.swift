import Losses

extension Reference {
    /// Smooth L1 loss, PyTorch's `smooth_l1_loss`.
    ///
    /// With `e_i = x_i - y_i` and `beta = loss.beta` (default 1):
    ///
    ///     l_i = 0.5 e_i^2 / beta               if |e_i| < beta
    ///           |e_i| - 0.5 beta               otherwise
    ///
    /// reduced by `loss.reduction` (default `.mean`, dividing by the element count).
    /// With `beta == 0` the quadratic piece is empty and the loss is exactly `l1`.
    ///
    /// - Gradients: `d/dx_i = (e_i / beta) g_i norm` inside, `sign(e_i) g_i norm` outside;
    ///   `d/dy_i = -d/dx_i`. The pieces agree at `|e_i| == beta` (that point takes the
    ///   linear branch, as PyTorch's `|e| < beta` test).
    /// - Edge cases: the gradient at `e_i = 0` is 0, also for `beta == 0` (`sign(0) = 0`,
    ///   as `l1`). NaN propagates into the loss and both gradients (deviation 3: with
    ///   `beta == 0` PyTorch's gradient at NaN is 0). An infinite difference gives an
    ///   infinite loss and a gradient of `+-g norm`. An empty input gives NaN for `mean`
    ///   and 0 for `sum`.
    /// - Accuracy: a few roundings per element; the reduction is a compensated sum.
    /// - Throws: `.option` if `beta` is not finite and non-negative, or for `batchmean`;
    ///   `.shape` if the target's shape differs from the input's (deviation 1), or the
    ///   upstream's from the output's.
    public static func evaluate<T: LossReal>(
        _ loss: SmoothL1Loss, input: Tensor<T>, target: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        let x = input.scalars, y = target.scalars
        let beta = T(loss.beta), half = T(0.5)
        return try assembleElementwise(
            loss: SmoothL1Loss.name, shape: layout.shape, reduction: loss.reduction, denominator: layout.count,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i in
            let e = x[i] - y[i]
            let a = T.abs(e)
            if a < beta {  // never taken when beta == 0: the loss is then exactly l1
                let d = e / beta
                return ElementTerms(value: half * e * e / beta, dInput: d, dTarget: -d)
            }
            let s = T.sign(e)  // 0 at e == 0 (beta == 0), NaN at NaN
            return ElementTerms(value: a - half * beta, dInput: s, dTarget: -s)
        }
    }
}

import Losses

extension Reference {
    /// Huber loss, PyTorch's `huber_loss`.
    ///
    /// With `e_i = x_i - y_i` and `delta = loss.delta` (default 1):
    ///
    ///     l_i = 0.5 e_i^2                      if |e_i| < delta
    ///           delta (|e_i| - 0.5 delta)      otherwise
    ///
    /// reduced by `loss.reduction` (default `.mean`, dividing by the element count).
    /// `huber(delta) == delta * smooth_l1(beta: delta)`.
    ///
    /// - Gradients: `d/dx_i = e_i g_i norm` inside, `delta sign(e_i) g_i norm` outside;
    ///   `d/dy_i = -d/dx_i`. Both pieces agree at `|e_i| == delta` (the gradient is
    ///   continuous; that point takes the linear branch, as PyTorch's `|e| < delta` test).
    /// - Edge cases: the gradient at `e_i = 0` is 0. An infinite difference gives an
    ///   infinite loss and a gradient of `+-delta g norm`. NaN propagates into the loss and
    ///   both gradients. An empty input gives NaN for `mean` and 0 for `sum`.
    /// - Accuracy: a few roundings per element; the reduction is a compensated sum.
    /// - Throws: `.option` if `delta` is not finite and positive, or for `batchmean`;
    ///   `.shape` if the target's shape differs from the input's (deviation 1), or the
    ///   upstream's from the output's.
    public static func evaluate<T: LossReal>(
        _ loss: HuberLoss, input: Tensor<T>, target: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        let x = input.scalars, y = target.scalars
        let delta = T(loss.delta), half = T(0.5)
        return try assembleElementwise(
            loss: HuberLoss.name, shape: layout.shape, reduction: loss.reduction, denominator: layout.count,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i in
            let e = x[i] - y[i]
            let a = T.abs(e)
            if a < delta {
                return ElementTerms(value: half * e * e, dInput: e, dTarget: -e)
            }
            let d = delta * T.sign(e)  // NaN for a NaN difference (which lands here)
            return ElementTerms(value: delta * (a - half * delta), dInput: d, dTarget: -d)
        }
    }
}

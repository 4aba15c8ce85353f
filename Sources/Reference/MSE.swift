import Losses

extension Reference {
    /// Mean squared error, PyTorch's `mse_loss`.
    ///
    /// `l_i = (x_i - y_i)^2`, reduced by `loss.reduction` (default `.mean`, dividing by
    /// the element count).
    ///
    /// - Gradients: `d/dx_i = 2 (x_i - y_i) g_i norm`, `d/dy_i = -d/dx_i`, where `g` is the
    ///   upstream gradient and `norm` is `1/n` for `mean`, 1 otherwise.
    /// - Edge cases: an infinite difference gives an infinite loss and gradient; NaN
    ///   propagates; an empty input gives NaN for `mean` and 0 for `sum`.
    /// - Throws: `.shape` if the target's shape differs from the input's (deviation 1:
    ///   PyTorch broadcasts with a warning), or the upstream's from the output's.
    public static func evaluate<T: LossReal>(
        _ loss: MSELoss, input: Tensor<T>, target: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        let x = input.scalars, y = target.scalars
        return try assembleElementwise(
            loss: MSELoss.name, shape: layout.shape, reduction: loss.reduction, denominator: layout.count,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i in
            let e = x[i] - y[i]
            return ElementTerms(value: e * e, dInput: T(2) * e, dTarget: -(T(2) * e))
        }
    }
}

import Losses

extension Reference {
    /// Mean absolute error, PyTorch's `l1_loss`.
    ///
    /// `l_i = |x_i - y_i|`, reduced by `loss.reduction` (default `.mean`, dividing by the
    /// element count).
    ///
    /// - Gradients: `d/dx_i = sign(x_i - y_i) g_i norm`, `d/dy_i = -d/dx_i`, where `g` is the
    ///   upstream gradient and `norm` is `1/n` for `mean`, 1 otherwise.
    /// - Edge cases: at the kink `x_i == y_i` the gradient is 0 (`sign(0) = 0`, the
    ///   minimum-norm subgradient, as PyTorch). A NaN difference gives a NaN loss and a NaN
    ///   gradient (deviation 3: PyTorch's gradient is 0 there). An infinite difference gives
    ///   an infinite loss and a gradient of `+-g norm`. An empty input gives NaN for `mean`
    ///   and 0 for `sum`.
    /// - Accuracy: the loss and gradient are exact; the reduction is a compensated sum.
    /// - Throws: `.shape` if the target's shape differs from the input's (deviation 1:
    ///   PyTorch broadcasts with a warning), or the upstream's from the output's;
    ///   `.option` for `batchmean`.
    public static func evaluate<T: LossReal>(
        _ loss: L1Loss, input: Tensor<T>, target: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        let x = input.scalars, y = target.scalars
        return try assembleElementwise(
            loss: L1Loss.name, shape: layout.shape, reduction: loss.reduction, denominator: layout.count,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i in
            let e = x[i] - y[i]
            let s = T.sign(e)
            return ElementTerms(value: T.abs(e), dInput: s, dTarget: -s)
        }
    }
}

import Losses

extension Reference {
    /// Negative log-likelihood, PyTorch's `nll_loss`.
    ///
    /// The input holds log-probabilities (not checked): `[C]` with target `[]`, `[N, C]`
    /// with `[N]`, or `[N, C, d1, ..., dk]` with `[N, d1, ..., dk]`; the class dimension is
    /// 1 when batched. For each row i with class `y_i`,
    ///
    ///     l_i = -w[y_i] input_i[y_i]
    ///
    /// with `w` the class weights (ones by default), and `l_i = 0` where `y_i == ignoreIndex`
    /// (default -100). `none` returns the target's shape; `sum` adds; `mean` (the default)
    /// divides by `den = sum over non-ignored i of w[y_i]` (the non-ignored count without
    /// weights).
    ///
    /// - Gradients: `d/dinput = -w[y_i] g_i / den` at `[i, y_i]`, exactly 0 elsewhere and for
    ///   ignored rows (even when `den` is 0, as PyTorch). `gradTarget` is always nil (the
    ///   target is discrete).
    /// - Accuracy: one product per row, then a compensated sum: a few ulps.
    /// - Edge cases: all targets ignored: `mean` is NaN, `sum` is 0, `none` is zeros, the
    ///   gradient is 0. A zero or negative total weight gives +-inf or NaN, unguarded (as
    ///   PyTorch). Infinite and NaN inputs propagate; only the target class's entry is read.
    /// - Throws: `.shape` for shapes that do not fit (or an upstream not of the output's
    ///   shape); `.target` for an index outside `[0, C)` that is not `ignoreIndex`, naming
    ///   its position and value; `.option` for a weight without exactly C entries or
    ///   `batchmean`.
    public static func evaluate<T: LossReal>(
        _ loss: NLLLoss, input: Tensor<T>, target: Tensor<Int>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try target.scalars.withUnsafeBufferPointer { (indices) throws(LossError) in
            try loss.validate(input: input.shape, target: target.shape, classIndices: indices)
        }
        let x = input.scalars, y = target.scalars
        let w: [T] = classWeights(loss.weight, classes: layout.classes)

        return try assembleClassRows(
            loss: NLLLoss.name, layout: layout, inputShape: input.shape, reduction: loss.reduction,
            upstream: upstream, gradients: gradients, hasTargetGradient: false
        ) { i, wanted in
            let yi = y[i]
            if yi == loss.ignoreIndex { return .ignored }
            var row = ClassRow(value: -(w[yi] * x[layout.inputOffset(row: i, classIndex: yi)]), weight: w[yi])
            if wanted.contains(.input) {
                row.dInput = .single(classIndex: yi, -w[yi])
            }
            return row
        }
    }
}

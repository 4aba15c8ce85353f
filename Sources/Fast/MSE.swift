extension Fast {
    /// Mean squared error, PyTorch's `mse_loss`, in Float.
    ///
    /// `l_i = (x_i - y_i)^2`, reduced by `loss.reduction` (default `.mean`: the sum
    /// divided by the element count `n`; `.sum`; `.none` keeps the input's shape).
    ///
    /// - Gradients (`gradients`, default `.none`: value only): `d/dx_i = 2 e_i g_i norm`
    ///   with `e = x - y`, `norm = 1/n` for `mean` and 1 otherwise, `g` the upstream
    ///   gradient (nil: ones; one value for `sum`/`mean`, one per element for `none`);
    ///   `d/dy_i = -d/dx_i`, bit for bit.
    /// - Accuracy: each term carries at most 3 roundings (`e`, `e*e`; `2e` is exact),
    ///   each gradient element at most 3 (`e`, `g/n`, the product): a relative error of
    ///   at most `3 * 2^-24` per element. A reduction adds the summation error of
    ///   `Fast.termsPerLane` Float terms per lane (see `Fast`), independent of `n`.
    ///   Measured against Double (uniform x, y in [-3, 3], 10^5 and 2^22 elements,
    ///   u = 2^-24): terms within 3.0 u, gradient elements within 2.4 u, the mean
    ///   within 0.6 u.
    /// - Edge cases: a NaN in either argument gives NaN in the loss and both gradients;
    ///   an infinite difference gives an infinite term and gradient; a term whose square
    ///   exceeds `Float.greatestFiniteMagnitude` (|e| > ~1.8e19) is +inf even where the
    ///   Double reference's mean would still be finite. An empty input gives NaN for
    ///   `mean`, 0 for `sum`.
    /// - Threads: see `Fast`; the result is the same bits for every `threads`.
    /// - Throws: `.shape` if the target's or upstream's shape differs from what the
    ///   input implies (deviation 1: PyTorch broadcasts), `.option` for `threads < 1`.
    public static func evaluate(
        _ loss: MSELoss, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        return try evaluateTensors(loss: MSELoss.name, layout: layout, input: input, target: target,
                                   upstream: upstream, gradients: gradients) { (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, target: y, shape: input.shape, upstream: u, into: outputs, threads: threads)
        }
    }

    /// Mean squared error over caller-owned buffers, without allocating.
    ///
    /// The same loss, gradients, accuracy and edge cases as the tensor form. `input`
    /// and `target` hold the `shape`'s elements in row-major order; `upstream` (nil:
    /// ones) and `outputs.output` hold the output's elements (the element count for
    /// `.none`, else 1); a non-nil `outputs.gradInput` / `gradTarget` holds the shape's
    /// element count and receives that gradient, a nil one skips its work.
    ///
    /// - Throws: `.shape` naming the buffer whose length differs from what `shape` and
    ///   the reduction imply; `.option` for `threads < 1`.
    public static func evaluate(
        _ loss: MSELoss, input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>, shape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: shape)
        try evaluateElementwise(MSEKernel(), loss: MSELoss.name, layout: layout, reduction: loss.reduction,
                                denominator: layout.count, input: input, target: target, upstream: upstream,
                                outputs: outputs, threads: threads)
    }
}

/// `(x - y)^2`, derivatives `2e` and `-2e`.
struct MSEKernel: ElementwiseKernel {
    @inline(__always)
    func terms(input x: FloatVector, target y: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let e = x - y
        let twoE = e + e  // exact
        return ElementTerms(value: e * e, dInput: twoE, dTarget: -twoE)
    }
}

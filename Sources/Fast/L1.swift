extension Fast {
    /// Mean absolute error, PyTorch's `l1_loss`, in Float.
    ///
    /// `l_i = |x_i - y_i|`, reduced by `loss.reduction` (default `.mean`: the sum divided
    /// by the element count `n`; `.sum`; `.none` keeps the input's shape).
    ///
    /// - Gradients (`gradients`, default `.none`: value only): `d/dx_i = sign(e_i) g_i norm`
    ///   with `e = x - y`, `sign(0) = 0` (the minimum-norm subgradient), `norm = 1/n` for
    ///   `mean` and 1 otherwise, `g` the upstream gradient (nil: ones; one value for
    ///   `sum`/`mean`, one per element for `none`); `d/dy_i = -d/dx_i`, bit for bit.
    /// - Accuracy: each term carries one rounding (`e`); each gradient element at most
    ///   two (`g/n`, the product; `sign` is exact). A reduction adds the summation error
    ///   of `Fast.termsPerLane` Float terms per lane (see `Fast`), independent of `n`.
    ///   Measured against Double (uniform x, y in [-3, 3], 10^5 and 2^22 elements,
    ///   u = 2^-24): terms within 1.0 u, gradient elements within 0.7 u, the mean
    ///   within 0.3 u.
    /// - Edge cases: NaN in either argument gives NaN in the loss and in both gradients
    ///   (deviation 3: PyTorch's gradient is 0 there); an infinite difference gives an
    ///   infinite term and a gradient of `+-g norm`; equal infinities give NaN. An empty
    ///   input gives NaN for `mean`, 0 for `sum`.
    /// - Threads: see `Fast`; the result is the same bits for every `threads`.
    /// - Throws: `.shape` if the target's or upstream's shape differs from what the
    ///   input implies (deviation 1), `.option` for `threads < 1`.
    public static func evaluate(
        _ loss: L1Loss, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        return try evaluateTensors(loss: L1Loss.name, layout: layout, input: input, target: target,
                                   upstream: upstream, gradients: gradients) { (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, target: y, shape: input.shape, upstream: u, into: outputs, threads: threads)
        }
    }

    /// Mean absolute error over caller-owned buffers, without allocating.
    ///
    /// The same loss, gradients, accuracy and edge cases as the tensor form; the buffers
    /// follow the rules of `Fast` (input, target and gradients: the shape's element
    /// count; upstream and output: the output's; a nil gradient buffer skips its work).
    ///
    /// - Throws: `.shape` naming the buffer whose length differs from what `shape` and
    ///   the reduction imply; `.option` for `threads < 1`.
    public static func evaluate(
        _ loss: L1Loss, input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>, shape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: shape)
        try evaluateElementwise(L1Kernel(), loss: L1Loss.name, layout: layout, reduction: loss.reduction,
                                denominator: layout.count, input: input, target: target, upstream: upstream,
                                outputs: outputs, threads: threads)
    }
}

/// `|x - y|`, derivatives `sign(e)` and `-sign(e)`.
struct L1Kernel: ElementwiseKernel {
    @inline(__always)
    func terms(input x: FloatVector, target y: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let e = x - y
        let s = Lanes.sign(e)
        return ElementTerms(value: Lanes.magnitude(e), dInput: s, dTarget: -s)
    }
}

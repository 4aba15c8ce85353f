extension Fast {
    /// Huber loss, PyTorch's `huber_loss`, in Float.
    ///
    /// With `e = x - y`: `l_i = 0.5 e^2` where `|e| < delta`, else
    /// `delta (|e| - 0.5 delta)`; reduced by `loss.reduction` (default `.mean`: the sum
    /// divided by the element count `n`; `.sum`; `.none` keeps the input's shape).
    /// `loss.delta` (default 1) must be finite and > 0; it is rounded to Float.
    ///
    /// - Gradients (`gradients`, default `.none`: value only): `d/dx_i = c_i g_i norm`
    ///   where `c = e` inside and `+-delta` outside (continuous at `|e| = delta`),
    ///   `norm = 1/n` for `mean` and 1 otherwise, `g` the upstream gradient (nil: ones);
    ///   `d/dy_i = -d/dx_i`, bit for bit.
    /// - Accuracy: each term carries at most 4 roundings (quadratic: `e`, `e*e`;
    ///   linear: `delta`, `e`, the difference, the product, where the difference is at
    ///   least `|e|/2`); each gradient element at most 3 (`e` or `delta`, `g/n`, the
    ///   product). Near the kink, `Float(delta)` decides the side; both sides agree
    ///   there to second order. A reduction adds the summation error described in `Fast`.
    ///   Measured against Double (uniform x, y in [-3, 3], 10^5 and 2^22 elements,
    ///   u = 2^-24): terms within 2.7 u, gradient elements within 1.7 u, the mean
    ///   within 0.4 u (delta 1 and 0.35).
    /// - Edge cases: NaN in either argument gives NaN in the loss and both gradients;
    ///   an infinite difference gives an infinite term and a gradient of `+-delta g norm`;
    ///   a delta beyond Float's range makes every finite difference quadratic. An empty
    ///   input gives NaN for `mean`, 0 for `sum`.
    /// - Threads: see `Fast`; the result is the same bits for every `threads`.
    /// - Throws: `.option` for a delta that is not finite and > 0 or `threads < 1`;
    ///   `.shape` if the target's or upstream's shape differs from what the input implies.
    public static func evaluate(
        _ loss: HuberLoss, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        return try evaluateTensors(loss: HuberLoss.name, layout: layout, input: input, target: target,
                                   upstream: upstream, gradients: gradients) { (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, target: y, shape: input.shape, upstream: u, into: outputs, threads: threads)
        }
    }

    /// Huber loss over caller-owned buffers, without allocating.
    ///
    /// The same loss, options, gradients, accuracy and edge cases as the tensor form; the
    /// buffers follow the rules of `Fast` (input, target and gradients: the shape's
    /// element count; upstream and output: the output's; a nil gradient buffer skips its
    /// work).
    ///
    /// - Throws: `.option` for a bad delta or `threads < 1`; `.shape` naming the buffer
    ///   whose length differs from what `shape` and the reduction imply.
    public static func evaluate(
        _ loss: HuberLoss, input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>, shape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: shape)
        try evaluateElementwise(HuberKernel(delta: loss.delta), loss: HuberLoss.name, layout: layout,
                                reduction: loss.reduction, denominator: layout.count, input: input, target: target,
                                upstream: upstream, outputs: outputs, threads: threads)
    }
}

/// `0.5 e^2` inside `delta`, `delta (|e| - 0.5 delta)` outside; derivative `e` clamped
/// to `[-delta, delta]` (NaN stays NaN: no comparison holds for it).
struct HuberKernel: ElementwiseKernel {
    /// `delta` rounded to Float (+inf if beyond Float's range).
    let delta: FloatVector
    /// `delta` and `0.5 delta` capped at the largest finite Float, for the linear part,
    /// so that an infinite `|e|` gives `inf` there rather than `inf - inf`.
    let linearDelta: FloatVector
    let halfDelta: FloatVector

    init(delta: Double) {
        let d = Float(delta)
        self.delta = FloatVector(repeating: d)
        let capped = min(d, .greatestFiniteMagnitude)
        linearDelta = FloatVector(repeating: capped)
        halfDelta = FloatVector(repeating: Float(min(0.5 * delta, Double(Float.greatestFiniteMagnitude))))
    }

    @inline(__always)
    func terms(input x: FloatVector, target y: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let e = x - y
        let a = Lanes.magnitude(e)
        let value = Lanes.choose(a .< delta, 0.5 * (e * e), else: linearDelta * (a - halfDelta))
        var d = Lanes.choose(e .>= delta, delta, else: e)
        d = Lanes.choose(e .<= -delta, -delta, else: d)
        return ElementTerms(value: value, dInput: d, dTarget: -d)
    }
}

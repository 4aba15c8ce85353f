extension Fast {
    /// Smooth L1 loss, PyTorch's `smooth_l1_loss`, in Float.
    ///
    /// With `e = x - y`: `l_i = 0.5 e^2 / beta` where `|e| < beta`, else
    /// `|e| - 0.5 beta`; reduced by `loss.reduction` (default `.mean`: the sum divided by
    /// the element count `n`; `.sum`; `.none` keeps the input's shape). `loss.beta`
    /// (default 1) must be finite and >= 0; it is rounded to Float. `beta == 0` is exactly
    /// `l1`.
    ///
    /// - Gradients (`gradients`, default `.none`: value only): `d/dx_i = c_i g_i norm`
    ///   where `c = e / beta` inside and `sign(e)` outside (`sign(0) = 0`, so the
    ///   gradient at `e = 0` is 0 for `beta == 0`), `norm = 1/n` for `mean` and 1
    ///   otherwise, `g` the upstream gradient (nil: ones); `d/dy_i = -d/dx_i`, bit for bit.
    /// - Accuracy: each term carries at most 5 roundings (quadratic: `beta`, `e`, `e/beta`,
    ///   the product with `0.5 e`; linear: `beta/2`, `e`, the difference, which is at
    ///   least `|e|/2`); each gradient element at most 5 (`beta`, `e`, `e/beta`, `g/n`, the
    ///   product). Near the kink, `Float(beta)` decides the side; both sides agree there
    ///   to second order. A reduction adds the summation error described in `Fast`.
    ///   Measured against Double (uniform x, y in [-3, 3], 10^5 and 2^22 elements,
    ///   u = 2^-24): terms within 2.0 u, gradient elements within 2.0 u, the mean
    ///   within 0.2 u (beta 1 and 0.35).
    /// - Edge cases: NaN in either argument gives NaN in the loss and both gradients
    ///   (deviation 3, also for `beta == 0`); an infinite difference gives an infinite
    ///   term and a gradient of `+-g norm`. An empty input gives NaN for `mean`, 0 for `sum`.
    /// - Threads: see `Fast`; the result is the same bits for every `threads`.
    /// - Throws: `.option` for a beta that is not finite and >= 0 or `threads < 1`;
    ///   `.shape` if the target's or upstream's shape differs from what the input implies.
    public static func evaluate(
        _ loss: SmoothL1Loss, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try loss.validate(input: input.shape, target: target.shape)
        return try evaluateTensors(loss: SmoothL1Loss.name, layout: layout, input: input, target: target,
                                   upstream: upstream, gradients: gradients) { (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, target: y, shape: input.shape, upstream: u, into: outputs, threads: threads)
        }
    }

    /// Smooth L1 loss over caller-owned buffers, without allocating.
    ///
    /// The same loss, options, gradients, accuracy and edge cases as the tensor form; the
    /// buffers follow the rules of `Fast` (input, target and gradients: the shape's
    /// element count; upstream and output: the output's; a nil gradient buffer skips its
    /// work).
    ///
    /// - Throws: `.option` for a bad beta or `threads < 1`; `.shape` naming the buffer
    ///   whose length differs from what `shape` and the reduction imply.
    public static func evaluate(
        _ loss: SmoothL1Loss, input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>, shape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: shape)
        try evaluateElementwise(SmoothL1Kernel(beta: loss.beta), loss: SmoothL1Loss.name, layout: layout,
                                reduction: loss.reduction, denominator: layout.count, input: input, target: target,
                                upstream: upstream, outputs: outputs, threads: threads)
    }
}

/// `0.5 e^2 / beta` inside `beta`, `|e| - 0.5 beta` outside; derivative `e / beta`
/// inside, `sign(e)` outside.
///
/// The quadratic part divides by `beta` instead of multiplying by a reciprocal: a
/// reciprocal is no more accurate (beta is rounded to Float either way) and overflows
/// for `beta < 2^-128`. With `beta == 0` no lane is inside, and the quotient's
/// `+-inf`/NaN in the discarded lanes never reaches a result.
///
/// Except when `beta` is a power of two (the default 1 among them): then `1/beta` is
/// exact, and `e * (1/beta)` and `e / beta` are both the correctly rounded value of
/// `e 2^-k`, the same bits for every `e` (subnormal, infinite and NaN included), so the
/// kernel multiplies (a division costs several times a multiplication on SSE2), and
/// since such a beta is positive, `sign(e)` outside is `+-1` from e's sign bit (two bit
/// operations instead of three selects).
struct SmoothL1Kernel: ElementwiseKernel {
    /// `beta` rounded to Float (+inf if beyond Float's range).
    let beta: FloatVector
    /// `0.5 beta` capped at the largest finite Float, so that an infinite `|e|` gives
    /// `inf` in the linear part rather than `inf - inf`.
    let halfBeta: FloatVector
    /// `1/beta` when that is exact (`beta` a normal power of two), else unused.
    let reciprocal: FloatVector
    /// Whether `reciprocal` replaces the division.
    let multiplies: Bool

    init(beta: Double) {
        let b = Float(beta)
        self.beta = FloatVector(repeating: b)
        halfBeta = FloatVector(repeating: Float(min(0.5 * beta, Double(Float.greatestFiniteMagnitude))))
        // A normal power of two 2^k, k in [-126, 127]: 1/b = 2^-k is a Float (2^-127 subnormal, exact).
        multiplies = b.isNormal && b > 0 && b.significandBitPattern == 0
        reciprocal = FloatVector(repeating: multiplies ? 1 / b : 0)
    }

    @inline(__always)
    func terms(input x: FloatVector, target y: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let e = x - y
        let a = Lanes.magnitude(e)
        let d: FloatVector, value: FloatVector
        if multiplies {
            // beta > 0: outside lanes have e != 0, so sign(e) is +-1 with e's sign bit; a
            // NaN e fails `a >= beta` and takes the inside formulas, which give NaN.
            let inside = .!(a .>= beta)
            let q = e * reciprocal
            value = Lanes.choose(inside, (0.5 * e) * q, else: a - halfBeta)
            d = Lanes.choose(inside, q, else: Lanes.unitWithSign(of: e))
        } else {
            let inside = a .< beta
            let q = e / beta
            value = Lanes.choose(inside, (0.5 * e) * q, else: a - halfBeta)
            d = Lanes.choose(inside, q, else: Lanes.sign(e))
        }
        return ElementTerms(value: value, dInput: d, dTarget: -d)
    }
}

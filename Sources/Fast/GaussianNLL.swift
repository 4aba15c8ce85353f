import Foundation

extension Fast {
    /// Gaussian negative log-likelihood, PyTorch's `gaussian_nll_loss`, in Float.
    ///
    /// With `x_i` the predicted mean, `y_i` the target, `e_i = x_i - y_i`, and `v_i` the
    /// variance (`variance` broadcast to the input's shape, clamped below at `eps`):
    ///
    ///     v_i = max(var_i, eps)
    ///     l_i = 0.5 (log v_i + e_i^2 / v_i)        (+ 0.5 log(2 pi) if full)
    ///
    /// reduced by `loss.reduction` (default `.mean`, dividing by the input's element
    /// count; `.sum`; `.none`). Defaults: `full` false, `eps` 1e-6 (rounded to Float, at
    /// least the smallest subnormal). `variance` has the input's shape, or the input's
    /// shape without its last dimension (one variance per row), or the input's rank with
    /// one dimension of size 1 where the input's differs; it is read in place.
    ///
    /// - Gradients (`gradients`, default `.none`: value only): `d/dx_i = (e_i / v_i) g_i
    ///   norm`, `d/dy_i = -d/dx_i` bit for bit, with `g` the upstream gradient (nil: ones)
    ///   and `norm` `1/n` for `mean`, else 1. The gradient with respect to the variance is
    ///   not computed (`LossResult` has no slot for it); the clamp passes no gradient, as
    ///   PyTorch's `no_grad` clamp.
    /// - Accuracy (u = 2^-24): the term is evaluated as `0.5 log v + (0.5 e) (e / v)`,
    ///   sharing the gradient's quotient `e / v` and overflowing only where the result
    ///   does (`e^2` alone overflows for `|e| > 1.8e19`, `e (e / v)` where the loss is
    ///   still below `greatestFiniteMagnitude`). A term errs by at most 7u of
    ///   `0.5 (|log v| + e^2 / v) + c` (the sum cancels where `log v < 0` balances the
    ///   rest); a gradient element by 5u (first-order bounds, derived in
    ///   FastElementwiseTests). A reduction adds the summation error described in `Fast`.
    ///   Measured against the Double reference (generated cases of every regime, 3 seeds):
    ///   at most 4.0u of the loss's scale and 3.2u of the gradients'; in Float ULPs of the
    ///   reference value the gradients are within 2.4 (p99 1.35), the loss's p99 is 3.4.
    /// - Edge cases: a variance of 0 (or below `eps`) is evaluated at `eps`. NaN in any
    ///   argument propagates (a NaN variance is not rejected, as PyTorch). An infinite
    ///   difference gives an infinite loss and gradient. An empty input gives NaN for
    ///   `mean` and 0 for `sum`.
    /// - Threads: see `Fast`; the result is the same bits for every `threads`.
    /// - Throws: `.input` for a negative variance (as PyTorch; checked before any
    ///   arithmetic by `GaussianNLLLoss.validateVariance`, which names the first);
    ///   `.option` if `eps` is not finite and positive, for `batchmean` or `threads < 1`;
    ///   `.shape` if the target's shape differs from the input's (deviation 1), the
    ///   variance's shape does not fit, or the upstream's differs from the output's.
    public static func evaluate(
        _ loss: GaussianNLLLoss, input: Tensor<Float>, target: Tensor<Float>, variance: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let (layout, _) = try loss.validate(input: input.shape, target: target.shape, variance: variance.shape)
        return try evaluateTensors(loss: GaussianNLLLoss.name, layout: layout, input: input, target: target,
                                   upstream: upstream, gradients: gradients) { (x, y, u, outputs) throws(LossError) in
            var failure: LossError?
            variance.withUnsafeBufferPointer { v in
                do throws(LossError) {
                    try evaluate(loss, input: x, target: y, variance: v, shape: input.shape,
                                 varianceShape: variance.shape, upstream: u, into: outputs, threads: threads)
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
        }
    }

    /// Gaussian negative log-likelihood over caller-owned buffers, without allocating.
    ///
    /// The same loss, options, gradients, accuracy and edge cases as the tensor form.
    /// `variance` holds `varianceShape`'s elements in row-major order and is read in place;
    /// the other buffers follow the rules of `Fast` (input, target and gradients: the
    /// shape's element count; upstream and output: the output's; a nil gradient buffer
    /// skips its work).
    ///
    /// - Throws: `.input` for a negative variance; `.option` for a bad eps, `batchmean` or
    ///   `threads < 1`; `.shape` for a variance shape that does not fit, or naming the
    ///   buffer whose length differs from what the shapes and the reduction imply.
    public static func evaluate(
        _ loss: GaussianNLLLoss, input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>,
        variance: UnsafeBufferPointer<Float>, shape: [Int], varianceShape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let (layout, broadcast) = try loss.validate(input: shape, target: shape, variance: varianceShape)
        try BufferCheck.length(variance.count, "variance", expected: varianceShape.reduce(1, *),
                               "the variance shape \(Shape.describe(varianceShape))", loss: GaussianNLLLoss.name)
        try BufferCheck.disjoint(loss: GaussianNLLLoss.name, writes: BufferCheck.writes(outputs),
                                 reads: [.init("variance", variance)])
        let kernel = GaussianNLLKernel(variance: BroadcastOperand(borrowing: variance, broadcast),
                                       full: loss.full, eps: loss.eps)
        try evaluateElementwise(kernel, loss: GaussianNLLLoss.name, layout: layout, reduction: loss.reduction,
                                denominator: layout.count, input: input, target: target, upstream: upstream,
                                outputs: outputs, threads: threads) { (threads: Int) throws(LossError) in
            // The scan finds whether a variance is negative; the description names it.
            guard ValueCheck.anyBelow(variance, 0, threads: threads) else { return }
            try GaussianNLLLoss.validateVariance(count: variance.count) { Double(variance[$0]) }
        }
    }
}

/// `0.5 log v + (0.5 e) (e / v) + c` with `v = max(var, eps)` (NaN var stays NaN), `e = x - y`,
/// `c = 0.5 log(2 pi)` or 0; derivatives `e / v` and `-e / v`.
struct GaussianNLLKernel: ElementwiseKernel {
    let variance: BroadcastOperand
    let full: Bool
    let eps: FloatVector
    let half = FloatVector(repeating: 0.5)
    /// `0.5 log(2 pi)` rounded to Float.
    let constant = FloatVector(repeating: Float(0.5 * Foundation.log(2 * Double.pi)))

    init(variance: BroadcastOperand, full: Bool, eps: Double) {
        self.variance = variance
        self.full = full
        self.eps = FloatVector(repeating: max(Float(eps), .leastNonzeroMagnitude))
    }

    @inline(__always)
    func terms(input x: FloatVector, target y: FloatVector, index: Int, lanes: Int) -> ElementTerms {
        let raw = variance.load(at: index, lanes: lanes)
        let v = Lanes.choose(raw .< eps, eps, else: raw)
        let e = x - y
        let d = e / v
        // 0.5 log v + (0.5 e) (e / v): `e * d` alone overflows for e^2 / v between one and
        // two times greatestFiniteMagnitude, where the loss itself is still finite.
        var value = half * VectorMath.log(v) + (half * e) * d
        if full { value += constant }
        return ElementTerms(value: value, dInput: d, dTarget: -d)
    }
}

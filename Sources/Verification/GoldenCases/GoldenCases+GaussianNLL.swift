import Losses

extension GoldenCases {
    /// `gaussian_nll`: every reduction and shape family; `var` of the input's shape,
    /// without the last dimension, with one dimension of size 1, and a scalar for a
    /// vector; variances at, below and above `eps` (clamped, no gradient through the
    /// clamp), a non-default `eps`, `full`; NaN and infinities; a cancelling sum; and the
    /// input, shape and option errors.
    static var gaussianNLL: [GoldenCaseDefinition] {
        func gaussian(_ reduction: Reduction = .mean, full: Bool = false, eps: Double = 1e-6) -> AnyLoss {
            .gaussianNLL(GaussianNLLLoss(reduction: reduction, full: full, eps: eps))
        }
        func make(_ name: String, _ loss: AnyLoss, input: Tensor<Double>, target: Tensor<Double>, variance: Tensor<Double>,
                  upstream: Tensor<Double>? = nil, error: LossError.Kind? = nil, unknownReduction: String? = nil) -> GoldenCaseDefinition {
            GoldenCases.make(name, loss, input: input, target: target, variance: variance, upstream: upstream, error: error,
                             unknownReduction: unknownReduction)
        }
        let x23 = t([2, 3], [f(0.3), -1, 2, 0, f(-0.7), f(1.4)])
        let y23 = t([2, 3], [0, -1.5, f(2.2), 1, 0.5, -1])
        let v23 = t([2, 3], [1, 0.25, 2, f(0.1), 4, 0.5])
        return [
            make("mean-batched", gaussian(.mean), input: x23, target: y23, variance: v23),
            make("sum-batched", gaussian(.sum), input: x23, target: y23, variance: v23),
            make("none-batched-upstream", gaussian(.none), input: x23, target: y23, variance: v23,
                 upstream: t([2, 3], [1, -2, 0.5, 0, 3, -0.75])),
            make("mean-scalar-upstream", gaussian(.mean), input: x23, target: y23, variance: v23, upstream: s(2)),
            make("mean-scalar", gaussian(.mean), input: s(f(0.3)), target: s(1), variance: s(0.5)),
            make("k-dim-sum", gaussian(.sum), input: pattern([2, 2, 3], stride: 5, modulus: 9),
                 target: pattern([2, 2, 3], stride: 3, modulus: 7, scale: 0.5),
                 variance: pattern([2, 2, 3], stride: 4, modulus: 5, scale: 0.5, offset: 1.25)),
            make("empty-mean", gaussian(.mean), input: t([0, 2], []), target: t([0, 2], []), variance: t([0, 2], [])),
            // var shapes: without the last dimension, one dimension of size 1, a scalar.
            make("var-per-row-mean", gaussian(.mean), input: x23, target: y23, variance: t([0.5, 2])),
            make("var-n-by-1-none", gaussian(.none), input: x23, target: y23, variance: t([2, 1], [0.25, 3])),
            make("var-1-by-c-sum", gaussian(.sum), input: x23, target: y23, variance: t([1, 3], [1, 0.5, 2])),
            make("var-scalar-for-vector-mean", gaussian(.mean), input: t([1, 2, f(0.5)]), target: t([0, 2.5, -1]), variance: s(0.75)),
            make("var-k-dim-without-last-none", gaussian(.none), input: pattern([2, 2, 3], stride: 5, modulus: 9),
                 target: pattern([2, 2, 3], stride: 3, modulus: 7, scale: 0.5), variance: t([2, 2], [0.5, 1, 2, 4])),
            // Clamping at eps: var 0, below eps, at eps, above; a non-default eps.
            make("var-clamped-none", gaussian(.none), input: t([1, 1, 1, 1]), target: t([0.5, 0.5, 0.5, 0.5]),
                 variance: t([0, f(1e-7), f(1e-6), f(1e-5)])),
            make("eps-0.25-mean", gaussian(.mean, eps: 0.25), input: x23, target: y23, variance: v23),
            // full adds 0.5 log(2 pi) per element.
            make("full-mean", gaussian(.mean, full: true), input: x23, target: y23, variance: v23),
            make("full-none", gaussian(.none, full: true), input: x23, target: y23, variance: v23),
            // Non-finite values.
            make("infinities-none", gaussian(.none), input: t([inf, 1, 0, -inf]), target: t([0, inf, 0, -inf]),
                 variance: t([1, 1, inf, 1])),
            make("nan-none", gaussian(.none), input: t([nan, 1, 0]), target: t([0, nan, 0]), variance: t([1, 1, nan])),
            // A sum whose terms cancel: with var 0.25 the term 0.5 (log 0.25 + 4 e^2) is
            // negative for small e, with var 4 it is positive. The terms (-0.693, -0.568,
            // 0.693, 0.724) sum to 0.156 while their magnitudes sum to 2.68: an
            // amplification A = 17, so a Float evaluation that rounds each term to a few
            // ulps errs by about 17 * 2^-24 = 1e-6 per ulp, inside the default 1e-5. The
            // case keeps the default, to hold the engines to a careful evaluation.
            make("cancelling-sum", gaussian(.sum), input: t([0, 0.25, 0, 0.5]), target: t([0, 0, 0, 0]),
                 variance: t([0.25, 0.25, 4, 4])),
            // Errors.
            make("var-negative", gaussian(), input: x23, target: y23, variance: t([2, 3], [1, 1, -0.5, 1, 1, 1]), error: .input),
            make("var-shape-mismatch", gaussian(), input: x23, target: y23, variance: t([3, 2], [1, 1, 1, 1, 1, 1]), error: .shape),
            make("var-two-dimensions-differ", gaussian(), input: pattern([2, 2, 3]), target: pattern([2, 2, 3]),
                 variance: t([1, 1, 3], [1, 1, 1]), error: .shape),
            make("target-shape-mismatch", gaussian(), input: x23, target: t([3], [1, 1, 1]), variance: v23, error: .shape),
            make("upstream-shape-mismatch", gaussian(.none), input: x23, target: y23, variance: v23, upstream: s(1), error: .shape),
            make("eps-zero", gaussian(eps: 0), input: x23, target: y23, variance: v23, error: .option),
            make("eps-negative", gaussian(eps: -1), input: x23, target: y23, variance: v23, error: .option),
            make("batchmean-rejected", gaussian(.batchmean), input: x23, target: y23, variance: v23, error: .option),
            make("unknown-reduction", gaussian(), input: x23, target: y23, variance: v23, error: .option, unknownReduction: "avg"),
        ] + generated(GaussianNLLLoss.name, seed: 0x601D_000B, count: 3,
                      options: GeneratorOptions(regimes: [.standardNormal, .nearBounds], maxElements: 12))
    }
}

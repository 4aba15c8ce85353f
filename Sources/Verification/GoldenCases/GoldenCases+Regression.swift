import Losses

// The cases every regression loss (`mse`, `l1`, `huber`, `smooth_l1`) shares: every
// reduction, every shape family, upstream gradients, exact zeros, large and tiny
// differences, infinities and NaN, and the shape and option errors. Each loss's own file
// adds the cases of its options (kinks at delta and beta, non-default thresholds).
//
// Magnitudes stay inside Float's range for every result a Float engine must return: the
// largest difference is 2^62 (about 4.6e18), whose square 2^124 (about 2.1e37) and the sum
// of the four squares in "large-differences" (about 4.9e37) are finite Floats (Float's
// largest is about 3.4e38); the smallest nonzero difference is 2^-60 (about 8.7e-19),
// whose square 2^-120 is a normal Float (the least normal Float is 2^-126).

extension GoldenCases {
    /// The shared regression cases for the loss made by `loss(reduction)`.
    static func regressionCases(_ loss: (Reduction) -> AnyLoss) -> [GoldenCaseDefinition] {
        let input23 = regressionInput23, target23 = regressionTarget23
        let upstream23 = t([2, 3], [1, -2, 0.5, 0, 3, -0.75])
        let twoBig = 2305843009213693952.0  // 2^61
        let twoTiny = 8.673617379884035e-19  // 2^-60
        return [
            // Reductions and shapes.
            make("mean-batched", loss(.mean), input: input23, target: target23),
            make("sum-batched", loss(.sum), input: input23, target: target23),
            make("none-batched", loss(.none), input: input23, target: target23),
            make("none-batched-upstream", loss(.none), input: input23, target: target23, upstream: upstream23),
            make("sum-scalar-upstream", loss(.sum), input: input23, target: target23, upstream: s(-1.5)),
            make("mean-scalar-upstream", loss(.mean), input: input23, target: target23, upstream: s(0.25)),
            make("mean-scalar", loss(.mean), input: s(1.75), target: s(-0.5)),
            make("none-scalar-upstream", loss(.none), input: s(-3), target: s(-2.5), upstream: s(2)),
            make("sum-vector", loss(.sum), input: t([f(0.1), f(-0.7), f(2.3), 4, f(-1.9)]),
                 target: t([f(0.3), f(-0.2), f(1.1), 4.5, f(-3.6)])),
            make("mean-k-dim", loss(.mean), input: pattern([2, 3, 2]),
                 target: pattern([2, 3, 2], stride: 5, modulus: 13, scale: 0.375)),
            make("none-k-dim-upstream", loss(.none), input: pattern([2, 2, 3], stride: 3),
                 target: pattern([2, 2, 3], stride: 5, modulus: 7, scale: 0.5),
                 upstream: pattern([2, 2, 3], stride: 4, modulus: 5, scale: 1)),
            // Empty tensors: mean is 0/0 = NaN, sum is 0, none is empty.
            make("empty-mean", loss(.mean), input: t([0], []), target: t([0], [])),
            make("empty-sum", loss(.sum), input: t([0], []), target: t([0], [])),
            make("empty-none", loss(.none), input: t([2, 0], []), target: t([2, 0], [])),
            // Exact zeros of the difference (the l1 subgradient is 0 there).
            make("zero-difference", loss(.none), input: t([1, -2, 0, f(0.3)]), target: t([1, -2, -0.0, f(0.3)])),
            make("all-zero-difference-mean", loss(.mean), input: t([2, 2], [1, 2, 3, 4]), target: t([2, 2], [1, 2, 3, 4])),
            // Magnitudes far from 1.
            make("large-differences", loss(.sum), input: t([twoBig, -twoBig, f(1e18), 3]),
                 target: t([-twoBig, twoBig, f(-1.5e18), f(1e-30)])),
            make("tiny-differences", loss(.none), input: t([twoTiny, -twoTiny, f(1e-19), 0]),
                 target: t([0, twoTiny, f(-3e-19), -twoTiny])),
            make("mixed-magnitudes-mean", loss(.mean), input: t([1e6, f(1e-6), -1e3, f(0.5)]),
                 target: t([f(-2.5e5), 0, 1e3, f(0.50001)])),
            // Non-finite values: inf - finite = inf, inf - inf = NaN, NaN propagates.
            make("infinities-none", loss(.none), input: t([inf, -inf, inf, 1, -inf]), target: t([0, 2, inf, -inf, -inf])),
            make("infinity-mean", loss(.mean), input: t([inf, 1, 2]), target: t([0, 1, f(2.5)])),
            make("nan-none", loss(.none), input: t([nan, 1, 2, nan]), target: t([0, nan, 2, inf])),
            make("nan-sum", loss(.sum), input: t([nan, 1, 2]), target: t([0, 1, 2.5])),
            // Errors.
            make("target-shape-mismatch", loss(.mean), input: t([2, 2], [1, 2, 3, 4]), target: t([1, 2, 3]), error: .shape),
            // PyTorch broadcasts the target with a warning; this library rejects it (deviation 1).
            make("target-broadcast-rejected", loss(.mean), input: t([2, 3], [1, 2, 3, 4, 5, 6]),
                 target: t([1, 3], [1, 2, 3]), error: .shape),
            make("scalar-target-for-vector-rejected", loss(.sum), input: t([1, 2]), target: s(1), error: .shape),
            make("upstream-shape-mismatch", loss(.none), input: t([2, 2], [1, 2, 3, 4]), target: t([2, 2], [0, 0, 0, 0]),
                 upstream: t([4], [1, 1, 1, 1]), error: .shape),
            make("upstream-not-scalar-for-sum", loss(.sum), input: t([1, 2]), target: t([0, 0]),
                 upstream: t([1, 1]), error: .shape),
            make("batchmean-rejected", loss(.batchmean), input: t([1, 2]), target: t([0, 0]), error: .option),
            make("unknown-reduction", loss(.mean), input: t([1, 2]), target: t([0, 0]), error: .option,
                 unknownReduction: "avg"),
        ]
    }

    /// A `[2, 3]` input and target whose differences `e = input - target` are -1, 0.25,
    /// 2.75, -0.25, -2.125, 3.5: on both sides of every threshold the cases use (0.25,
    /// 0.5, 1, 2, 4).
    static let regressionInput23 = t([2, 3], [0.5, -1.25, 3, 2.75, -0.125, 1])
    static let regressionTarget23 = t([2, 3], [1.5, -1.5, 0.25, 3, 2, -2.5])
}

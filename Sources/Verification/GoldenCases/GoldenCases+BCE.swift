import Losses

extension GoldenCases {
    /// `bce` (input = probabilities): every reduction and shape family, weights in every
    /// broadcast shape, soft targets, the inputs exactly 0 and 1 (the -100 clamp of the
    /// logs and the 1e-12 clamp of the gradient's denominator), subnormal and nearly-1
    /// inputs, and the input, target, shape and option errors.
    static var bce: [GoldenCaseDefinition] {
        func bce(_ reduction: Reduction = .mean, weight: Tensor<Double>? = nil) -> AnyLoss {
            .bce(BCELoss(reduction: reduction, weight: weight))
        }
        let p23 = t([2, 3], [0.25, f(0.9), f(0.3), 0.5, f(0.01), f(0.75)])
        let y23 = t([2, 3], [0, 1, 1, 0, 0, 1])
        let soft23 = t([2, 3], [f(0.2), 0.5, f(0.7), 1, 0.25, f(0.6)])
        let smallestSubnormal = 1.401298464324817e-45  // 2^-149
        let leastNormal = 1.1754943508222875e-38  // 2^-126
        let belowOne = 0.9999999403953552  // 1 - 2^-24, the largest Float below 1
        return [
            make("mean-batched", bce(.mean), input: p23, target: y23),
            make("sum-batched", bce(.sum), input: p23, target: y23),
            make("none-batched-upstream", bce(.none), input: p23, target: y23,
                 upstream: t([2, 3], [1, -0.5, 2, 0, 1.5, -1])),
            make("sum-scalar-upstream", bce(.sum), input: p23, target: soft23, upstream: s(0.75)),
            make("mean-scalar", bce(.mean), input: s(f(0.35)), target: s(1)),
            make("none-vector", bce(.none), input: t([f(0.1), 0.5, f(0.99)]), target: t([0, 0.5, 1])),
            make("mean-k-dim", bce(.mean), input: pattern([2, 2, 3], stride: 5, modulus: 9, scale: 0.09375, offset: 0.5),
                 target: pattern([2, 2, 3], stride: 3, modulus: 5, scale: 0.25, offset: 0.5)),
            make("soft-targets-mean", bce(.mean), input: p23, target: soft23),
            make("empty-mean", bce(.mean), input: t([0, 3], []), target: t([0, 3], [])),
            make("empty-sum", bce(.sum), input: t([0], []), target: t([0], [])),
            // Weights: the input's shape, [C] (per last dimension), [N, 1], [1] and [].
            make("weight-full-mean", bce(.mean, weight: t([2, 3], [1, 0.5, 2, 0, 1.5, 3])), input: p23, target: soft23),
            make("weight-per-class-sum", bce(.sum, weight: t([0.5, 2, 1.25])), input: p23, target: y23),
            make("weight-per-row-none", bce(.none, weight: t([2, 1], [2, 0.25])), input: p23, target: soft23,
                 upstream: t([2, 3], [1, 1, -1, 2, 0.5, 1])),
            make("weight-one-element-mean", bce(.mean, weight: t([1], [1.5])), input: p23, target: y23),
            make("weight-scalar-mean", bce(.mean, weight: s(0.5)), input: p23, target: y23),
            make("weight-per-class-k-dim-mean", bce(.mean, weight: t([3], [1, 2, 0.5])),
                 input: pattern([2, 2, 3], stride: 5, modulus: 9, scale: 0.09375, offset: 0.5),
                 target: pattern([2, 2, 3], stride: 3, modulus: 5, scale: 0.25, offset: 0.5)),
            // Inputs exactly 0 and 1: each log is clamped at -100 (a certain, wrong
            // prediction costs 100), the gradient divides by max(x (1 - x), 1e-12), and
            // the target gradient log(1 - x) - log(x) is infinite.
            make("input-zero-and-one-none", bce(.none), input: t([0, 0, 1, 1, 0, 1]), target: t([0, 1, 0, 1, 0.5, 0.25])),
            make("input-zero-and-one-mean", bce(.mean), input: t([0, 1, 0.5, 0]), target: t([1, 0, 0.5, 0])),
            make("input-near-bounds-none", bce(.none),
                 input: t([smallestSubnormal, leastNormal, f(1e-30), belowOne, belowOne, f(1e-7)]),
                 target: t([1, 1, 0, 0, 1, 0.5])),
            // Errors: inputs outside [0, 1] or NaN (input), targets outside [0, 1] or NaN
            // (target), shapes, weights that do not broadcast, reductions.
            make("input-negative", bce(), input: t([0.5, -0.25]), target: t([0, 1]), error: .input),
            make("input-above-one", bce(), input: t([1.5, 0.25]), target: t([0, 1]), error: .input),
            make("input-nan", bce(), input: t([0.5, nan]), target: t([0, 1]), error: .input),
            make("input-infinite", bce(.sum), input: t([inf]), target: t([1]), error: .input),
            make("target-above-one", bce(), input: t([0.5, 0.25]), target: t([0, 1.25]), error: .target),
            make("target-negative", bce(), input: t([0.5, 0.25]), target: t([f(-0.1), 1]), error: .target),
            make("target-nan", bce(.none), input: t([0.5, 0.25]), target: t([nan, 1]), error: .target),
            make("target-shape-mismatch", bce(), input: t([2, 2], [0.5, 0.5, 0.5, 0.5]), target: t([0, 1, 0, 1]), error: .shape),
            make("weight-does-not-broadcast", bce(weight: t([0.5, 2])), input: p23, target: y23, error: .shape),
            make("weight-enlarges-input", bce(weight: t([2, 2, 3], Array(repeating: 1, count: 12))),
                 input: p23, target: y23, error: .shape),
            make("upstream-shape-mismatch", bce(.none), input: t([0.5, 0.5]), target: t([0, 1]), upstream: t([1]), error: .shape),
            make("batchmean-rejected", bce(.batchmean), input: t([0.5]), target: t([1]), error: .option),
            make("unknown-reduction", bce(), input: t([0.5]), target: t([1]), error: .option, unknownReduction: "Mean"),
        ] + generated(BCELoss.name, seed: 0x601D_0005, count: 3,
                      options: GeneratorOptions(regimes: [.standardNormal, .softTargets, .nearBounds], maxElements: 12))
    }
}

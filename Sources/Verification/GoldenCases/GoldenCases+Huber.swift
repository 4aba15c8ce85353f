import Losses

extension GoldenCases {
    /// `huber(delta)`: the shared regression cases at the default delta 1, then the
    /// threshold itself: differences exactly at, just inside and just outside +-delta
    /// (the loss and its gradient are continuous there), non-default deltas, and the
    /// option errors of delta.
    static var huber: [GoldenCaseDefinition] {
        func huber(_ reduction: Reduction = .mean, delta: Double = 1) -> AnyLoss {
            .huber(HuberLoss(reduction: reduction, delta: delta))
        }
        // Differences 1 - 2^-24 (inside), 1 (at), 1 + 2^-23 (outside), and their negatives.
        let nearOne = t([0.9999999403953552, 1, 1.0000001192092896, -0.9999999403953552, -1, -1.0000001192092896])
        return regressionCases { huber($0) } + [
            make("at-delta-none", huber(.none), input: nearOne, target: t([6], [0, 0, 0, 0, 0, 0])),
            make("at-delta-2.5-none-upstream", huber(.none, delta: 2.5), input: t([4.5, 2, f(2.3), -0.5]),
                 target: t([2, -0.5, -0.25, 2]), upstream: t([1, -1, 2, 0.5])),
            make("delta-0.25-mean", huber(.mean, delta: 0.25), input: regressionInput23, target: regressionTarget23),
            make("delta-4-sum", huber(.sum, delta: 4), input: regressionInput23, target: regressionTarget23),
            make("small-delta-sum", huber(.sum, delta: f(1e-3)), input: t([f(1e-4), f(-2e-3), 1, f(1e-3)]),
                 target: t([0, 0, 0, 0])),
            make("large-delta-none", huber(.none, delta: 1e6), input: t([f(999999.5), 3e6, -5]), target: t([0, 0, 0])),
            make("infinity-delta-2-none", huber(.none, delta: 2), input: t([inf, -inf, 1]), target: t([0, 0, inf])),
            make("delta-zero", huber(delta: 0), input: t([1, 2]), target: t([0, 0]), error: .option),
            make("delta-negative", huber(delta: -1), input: t([1, 2]), target: t([0, 0]), error: .option),
            make("delta-nan", huber(delta: nan), input: t([1, 2]), target: t([0, 0]), error: .option),
            make("delta-infinite", huber(delta: inf), input: t([1, 2]), target: t([0, 0]), error: .option),
        ] + generated(HuberLoss.name, seed: 0x601D_0003, count: 3,
                      options: GeneratorOptions(regimes: [.standardNormal, .nearKinks], maxElements: 8))
    }
}

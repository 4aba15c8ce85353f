import Losses

extension GoldenCases {
    /// `smooth_l1(beta)`: the shared regression cases at the default beta 1, then the
    /// threshold (differences exactly at, just inside and just outside +-beta),
    /// non-default betas, beta 0 (exactly `l1`, gradient 0 at a zero difference), and
    /// the option errors of beta.
    static var smoothL1: [GoldenCaseDefinition] {
        func smoothL1(_ reduction: Reduction = .mean, beta: Double = 1) -> AnyLoss {
            .smoothL1(SmoothL1Loss(reduction: reduction, beta: beta))
        }
        // Differences 0.5 - 2^-25 (inside), 0.5 (at), 0.5 + 2^-24 (outside), and their negatives.
        let nearHalf = t([0.4999999701976776, 0.5, 0.5000000596046448, -0.4999999701976776, -0.5, -0.5000000596046448])
        return regressionCases { smoothL1($0) } + [
            make("at-beta-0.5-none", smoothL1(.none, beta: 0.5), input: nearHalf, target: t([6], [0, 0, 0, 0, 0, 0])),
            make("beta-0.25-mean", smoothL1(.mean, beta: 0.25), input: regressionInput23, target: regressionTarget23),
            make("beta-4-sum", smoothL1(.sum, beta: 4), input: regressionInput23, target: regressionTarget23),
            make("beta-2.5-none-upstream", smoothL1(.none, beta: 2.5), input: t([4.5, 2, f(2.3), -0.5]),
                 target: t([2, -0.5, -0.25, 2]), upstream: t([1, -1, 2, 0.5])),
            make("small-beta-mean", smoothL1(.mean, beta: f(1e-3)), input: t([f(1e-4), f(-2e-3), 1, f(1e-3)]),
                 target: t([0, 0, 0, 0])),
            // beta = 0 is exactly l1: |e| with gradient sign(e), 0 at e = 0.
            make("beta-zero-none", smoothL1(.none, beta: 0), input: t([1.5, -0.25, 0, 3, f(1e-30)]),
                 target: t([0.5, 0, 0, 3, 0])),
            make("beta-zero-mean", smoothL1(.mean, beta: 0), input: regressionInput23, target: regressionTarget23),
            make("beta-zero-nan-none", smoothL1(.none, beta: 0), input: t([nan, 1]), target: t([0, nan])),
            make("infinity-beta-2-none", smoothL1(.none, beta: 2), input: t([inf, -inf, 1]), target: t([0, 0, inf])),
            make("beta-negative", smoothL1(beta: -0.5), input: t([1, 2]), target: t([0, 0]), error: .option),
            make("beta-nan", smoothL1(beta: nan), input: t([1, 2]), target: t([0, 0]), error: .option),
            make("beta-infinite", smoothL1(beta: inf), input: t([1, 2]), target: t([0, 0]), error: .option),
        ] + generated(SmoothL1Loss.name, seed: 0x601D_0004, count: 3,
                      options: GeneratorOptions(regimes: [.standardNormal, .nearKinks], maxElements: 8))
    }
}

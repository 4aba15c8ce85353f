import Losses

extension GoldenCases {
    /// `poisson_nll`: `log_input` true (`exp(x) - t x`) and false (`x - t log(x + eps)`),
    /// `full` (the Stirling term only where `t > 1`; its gradient is 0 elsewhere,
    /// deviation 4), a non-default `eps`, every reduction and shape family, large and
    /// infinite rates, NaN, a value near the minimum (a cancelling difference), and the
    /// shape and option errors.
    static var poissonNLL: [GoldenCaseDefinition] {
        func poisson(_ reduction: Reduction = .mean, logInput: Bool = true, full: Bool = false, eps: Double = 1e-8) -> AnyLoss {
            .poissonNLL(PoissonNLLLoss(reduction: reduction, logInput: logInput, full: full, eps: eps))
        }
        let x23 = t([2, 3], [f(0.3), -1, 2, 0, f(-0.7), f(1.4)])
        let counts23 = t([2, 3], [0, 1, 3, 2, 0.5, 7])
        let rates23 = t([2, 3], [f(0.3), 1, 2.5, 0, f(0.7), 4])
        return [
            make("log-input-mean", poisson(.mean), input: x23, target: counts23),
            make("log-input-sum", poisson(.sum), input: x23, target: counts23),
            make("log-input-none-upstream", poisson(.none), input: x23, target: counts23,
                 upstream: t([2, 3], [1, -2, 0.5, 0, 3, -0.75])),
            make("log-input-sum-scalar-upstream", poisson(.sum), input: x23, target: counts23, upstream: s(1.5)),
            make("log-input-scalar", poisson(.mean), input: s(f(0.8)), target: s(2)),
            make("log-input-k-dim-mean", poisson(.mean), input: pattern([2, 2, 3], stride: 5, modulus: 9, scale: 0.25),
                 target: pattern([2, 2, 3], stride: 3, modulus: 7, scale: 1, offset: 3)),
            make("empty-mean", poisson(.mean), input: t([0], []), target: t([0], [])),
            // log_input = false: the input is the rate; eps keeps log finite at 0.
            make("rate-input-mean", poisson(.mean, logInput: false), input: rates23, target: counts23),
            make("rate-input-none-upstream", poisson(.none, logInput: false), input: rates23, target: counts23,
                 upstream: t([2, 3], [2, 1, -1, 0.5, 1, 0.25])),
            make("rate-input-eps-0.5-sum", poisson(.sum, logInput: false, eps: 0.5), input: rates23, target: counts23),
            make("rate-input-zero-rate-none", poisson(.none, logInput: false), input: t([0, 0, f(1e-30)]), target: t([0, 3, 1])),
            // full: Stirling's term t log t - t + 0.5 log(2 pi t) where t > 1, else 0.
            make("full-mean", poisson(.mean, full: true), input: x23, target: counts23),
            make("full-none", poisson(.none, full: true), input: x23, target: t([2, 3], [0, 1, 1.5, f(1.0000001), 0.5, 100])),
            make("full-rate-input-sum", poisson(.sum, logInput: false, full: true), input: rates23, target: counts23),
            // Large and infinite log-rates: exp(88) is about 1.65e38, still a Float.
            make("large-log-input-none", poisson(.none), input: t([88, 80, -80, -88]), target: t([1, 0, 2, 0])),
            make("infinite-log-input-none", poisson(.none), input: t([inf, -inf, -inf]), target: t([1, 2, 0.5])),
            make("nan-none", poisson(.none), input: t([nan, 1]), target: t([1, nan])),
            // Near the minimum over x of exp(x) - t x (at x = log t) with t close to e, the
            // loss t (1 - log t) is a small difference of two terms of about 2.7: here
            // l = (-0.0317, -0.0319, 0.0182), while exp(x_i) + t_i |x_i| is about 5.5. A
            // Float evaluation rounds exp(x_i) and t_i x_i to a relative 2^-24 each (more for
            // an exp accurate to a few ulps), an error of 2^-24 * 5.5 against the norm-wise
            // scale max |l_i| = 0.0319: an amplification A = 5.5 / 0.0319 = 171, so
            // 2^-24 * 171 = 1.0e-5 per ulp, at the default bound already. The default 1e-5
            // budgets for errors that are not amplified; scaled by A the bound is
            // 1e-5 * 171, rounded up to 2e-3. The gradient exp(x_i) - t_i cancels the same
            // way (terms 5.5, scale 0.0317: A = 173) and shares the bound. Double: 2^-53 *
            // 171 = 1.9e-14, inside the reference's default 1e-12.
            make("near-minimum-none", poisson(.none), input: t([1, f(1.0116009), f(0.99)]),
                 target: t([2.75, 2.75, f(2.7)])).fastTolerance(rtol: 2e-3),
            // Errors.
            make("eps-negative", poisson(logInput: false, eps: -1e-8), input: rates23, target: counts23, error: .option),
            make("eps-nan", poisson(eps: nan), input: x23, target: counts23, error: .option),
            make("target-shape-mismatch", poisson(), input: x23, target: t([1, 2, 3]), error: .shape),
            make("upstream-shape-mismatch", poisson(.none), input: x23, target: counts23, upstream: t([6], [1, 1, 1, 1, 1, 1]),
                 error: .shape),
            make("batchmean-rejected", poisson(.batchmean), input: x23, target: counts23, error: .option),
            make("unknown-reduction", poisson(), input: x23, target: counts23, error: .option, unknownReduction: ""),
        ] + generated(PoissonNLLLoss.name, seed: 0x601D_000A, count: 3,
                      options: GeneratorOptions(regimes: [.standardNormal, .nearBounds], maxElements: 12))
    }
}

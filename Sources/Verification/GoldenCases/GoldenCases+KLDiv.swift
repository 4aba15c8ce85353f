import Foundation
import Losses

extension GoldenCases {
    /// `kl_div` (input = log-probabilities): every reduction including `batchmean` (the
    /// size of dimension 0; 1 for a scalar), `log_target`, every shape family, zero
    /// targets (`0 log 0 = 0`, also at a `-inf` input: deviation 4; the target gradient
    /// is NaN there, as PyTorch), `-inf` log-targets, NaN, a negative target (not
    /// checked), two nearly equal distributions (a cancelling sum), and the errors.
    static var klDiv: [GoldenCaseDefinition] {
        func kl(_ reduction: Reduction = .mean, logTarget: Bool = false) -> AnyLoss {
            .klDiv(KLDivLoss(reduction: reduction, logTarget: logTarget))
        }
        // Rows of log-probabilities and of probabilities.
        let logq23 = t([2, 3], [f(log(0.2)), f(log(0.5)), f(log(0.3)), f(log(0.7)), f(log(0.1)), f(log(0.2))])
        let p23 = t([2, 3], [0.25, 0.5, 0.25, 0.5, 0.125, 0.375])
        let logp23 = p23.map { f(log($0)) }
        let x2x22 = pattern([2, 3, 2], stride: 5, modulus: 7, scale: 0.5, offset: -1.5)
        let t2x22 = pattern([2, 3, 2], stride: 3, modulus: 5, scale: 0.125, offset: 0.25)
        return [
            make("batchmean-batched", kl(.batchmean), input: logq23, target: p23),
            make("mean-batched", kl(.mean), input: logq23, target: p23),
            make("sum-batched", kl(.sum), input: logq23, target: p23),
            make("none-batched-upstream", kl(.none), input: logq23, target: p23, upstream: t([2, 3], [1, -2, 0.5, 0, 3, -0.75])),
            make("batchmean-scalar-upstream", kl(.batchmean), input: logq23, target: p23, upstream: s(-0.5)),
            make("batchmean-scalar", kl(.batchmean), input: s(f(-0.3)), target: s(0.75)),
            make("batchmean-vector", kl(.batchmean), input: t([f(log(0.6)), f(log(0.4))]), target: t([0.5, 0.5])),
            make("batchmean-k-dim", kl(.batchmean), input: x2x22, target: t2x22),
            make("mean-k-dim", kl(.mean), input: x2x22, target: t2x22),
            make("empty-batchmean", kl(.batchmean), input: t([0, 3], []), target: t([0, 3], [])),
            make("empty-mean", kl(.mean), input: t([0], []), target: t([0], [])),
            // log_target: the target is log-probabilities.
            make("log-target-batchmean", kl(.batchmean, logTarget: true), input: logq23, target: logp23),
            make("log-target-sum", kl(.sum, logTarget: true), input: logq23, target: logp23),
            make("log-target-none-upstream", kl(.none, logTarget: true), input: logq23, target: logp23,
                 upstream: t([2, 3], [2, 1, 0, -1, 0.5, 1])),
            make("log-target-k-dim-mean", kl(.mean, logTarget: true), input: x2x22,
                 target: pattern([2, 3, 2], stride: 3, modulus: 5, scale: 0.5, offset: -1.5)),
            // Zero targets: 0 log 0 = 0, whatever the input (-inf included; deviation 4).
            make("zero-targets-none", kl(.none), input: t([f(-0.5), -inf, -2, 0, -inf]), target: t([0, 0, 0.5, 0, 1])),
            make("zero-targets-batchmean", kl(.batchmean), input: t([2, 2], [-inf, f(-0.1), f(-1.5), f(-0.3)]),
                 target: t([2, 2], [0, 1, 0.25, 0.75])),
            make("log-target-minus-infinity-none", kl(.none, logTarget: true), input: t([f(-0.5), -inf, -2]),
                 target: t([-inf, -inf, f(-0.7)])),
            make("nan-none", kl(.none), input: t([nan, -1, -2]), target: t([0.5, nan, 0.25])),
            make("negative-target-none", kl(.none), input: t([-1, -2]), target: t([-0.5, 0.5])),
            make("positive-input-none", kl(.none), input: t([2, 0.5, 0]), target: t([1, 0.25, 0.5])),
            // Two nearly equal distributions: KL is a small difference of large terms.
            // l_i = t_i (log t_i - x_i) with x_i = log(t_i) + d_i, so the sum is about
            // -sum t_i d_i = -5.0e-4, while the terms t_i log t_i and t_i x_i that cancel
            // have sum_i t_i |x_i| = 1.04. Each is rounded to a relative u (2^-24 in Float,
            // 2^-53 in Double), so the error of the sum is about u * 1.04 against 5.0e-4:
            // an amplification A = 1.04 / 5.0e-4 = 2078. Double: 2^-53 * 2078 = 2.3e-13,
            // inside the reference's default 1e-12. Float: 2^-24 * 2078 = 1.2e-4 per ulp of
            // error in the terms, past the default 1e-5, which budgets for errors that are
            // not amplified; scaled by A the bound is 1e-5 * 2078 = 0.021. The gradients
            // (-t_i and log t_i + 1 - x_i, about 1 in magnitude) do not cancel, but share the
            // case's bound.
            nearlyEqualDistributions(kl(.sum)).fastTolerance(rtol: 0.021),
            // Errors.
            make("target-shape-mismatch", kl(), input: logq23, target: t([0.5, 0.5]), error: .shape),
            make("target-broadcast-rejected", kl(), input: logq23, target: t([1, 3], [0.25, 0.5, 0.25]), error: .shape),
            make("upstream-shape-mismatch", kl(.none), input: logq23, target: p23, upstream: t([3], [1, 1, 1]), error: .shape),
            make("unknown-reduction", kl(), input: logq23, target: p23, error: .option, unknownReduction: "BatchMean"),
        ] + generated(KLDivLoss.name, seed: 0x601D_0009, count: 3,
                      options: GeneratorOptions(regimes: [.standardNormal, .softTargets, .nearBounds], maxElements: 12))
    }

    /// t = (0.25, 0.5, 0.25) against x = log(t) + (0.004, -0.002, 0.002), Float-rounded.
    static func nearlyEqualDistributions(_ loss: AnyLoss) -> GoldenCaseDefinition {
        let target = t([0.25, 0.5, 0.25])
        let input = t([f(log(0.25) + 0.004), f(log(0.5) - 0.002), f(log(0.25) + 0.002)])
        return make("nearly-equal-distributions-sum", loss, input: input, target: target)
    }
}

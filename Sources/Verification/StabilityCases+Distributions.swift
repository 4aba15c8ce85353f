import Losses

// Stability cases for the distribution losses: kl_div, poisson_nll and gaussian_nll.
// Expected values are the reference engine in Float80 (see StabilityCases.swift), so a
// formula that overflows or underflows in an intermediate step shows up as a failure of
// the engine that uses it. The arguments avoid ill-conditioned points on purpose (no
// cancellation of large terms): these cases are about range, zeros, infinities and the
// clamps, not about conditioning, which the property suite covers.
extension StabilityCases {
    static func kl(_ reduction: Reduction = .none, logTarget: Bool = false) -> AnyLoss {
        .klDiv(KLDivLoss(reduction: reduction, logTarget: logTarget))
    }
    static func poisson(_ reduction: Reduction = .none, logInput: Bool = true, full: Bool = false, eps: Double = 1e-8) -> AnyLoss {
        .poissonNLL(PoissonNLLLoss(reduction: reduction, logInput: logInput, full: full, eps: eps))
    }
    static func gaussian(_ reduction: Reduction = .none, full: Bool = false, eps: Double = 1e-6) -> AnyLoss {
        .gaussianNLL(GaussianNLLLoss(reduction: reduction, full: full, eps: eps))
    }
    static func withVariance(_ x: [Double], _ y: [Double], _ v: [Double]) -> LossArguments<Double> {
        let s = [x.count]
        return LossArguments(input: try! Tensor(shape: s, scalars: x), target: .values(try! Tensor(shape: s, scalars: y)),
                             variance: try! Tensor(shape: s, scalars: v))
    }

    /// kl_div, poisson_nll and gaussian_nll at the edges of their range.
    static let distributions: [StabilityCase] = [
        // kl_div, t (log t - x): t = 0 contributes 0 to the loss and the input gradient
        // whatever x is, -inf and 1e30 included (deviation 4); its target gradient
        // log t + 1 - x is NaN where x = -inf (-inf + inf), -inf elsewhere (PyTorch's NaN/-inf).
        StabilityCase("kl_div/zero target", kl(), values([-inf, -1, 0, -1e30, -2], [0, 0, 0, 0, 0.5]),
                      gradients: .all, reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        // Tiny targets: t log t with t = 2^-149, 2^-126, 1e-30 (log t = -103.3, -87.3, -69.1)
        // against x = -50: terms -53.3 t, -37.3 t, -19.1 t; no underflow of log t to -inf,
        // no 0 * inf. (The subnormal terms are far below the norm of the last: norm-wise.)
        StabilityCase("kl_div/subnormal targets", kl(), values([-50, -50, -50], [fsub, fnormal, 1e-30]),
                      gradients: .all, reference: referenceFew, fast: fastFew,
                      derivation: "log t - x and log t + 1 - x lose at most a factor 2 (|x| = 50 vs |log t| >= 69): " + fewDerivation),
        // log_target: exp(t) (t - x). t = -inf contributes 0 (deviation 4), x = -inf
        // included; t = -200 has exp(t) = 1.4e-87, 0 in Float (correctly); t = 0, x = 1: -1.
        StabilityCase("kl_div/log_target -inf and underflow", kl(logTarget: true),
                      values([-1, -inf, 0, 1], [-inf, -inf, -200, 0]),
                      gradients: .all, reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        // t = 88.5: exp(t) = 2.7e38, near Float.max, times t - x = 0.5 gives a finite
        // 1.4e38 loss; the gradient -exp(t) is finite; the target gradient
        // exp(t) (t - x + 1) = 4.1e38 is +inf in Float (correctly rounded).
        StabilityCase("kl_div/log_target near overflow", kl(logTarget: true), values([88, 88.25], [88.5, 88.5]),
                      gradients: .all, reference: referenceFew, fast: fastFew,
                      derivation: "exp near overflow keeps its <= 1 ulp (VectorMath exp header): " + fewDerivation),
        // batchmean, input [2, 2]: the sum (1.4e38 + ...) is divided by 2, the input
        // gradient -exp(t) / 2 = -1.37e38. Not the target gradient: exp(t) (t - x + 1) =
        // 4.1e38 overflows Float before the division by 2 in the fast engine (as in
        // PyTorch's float32 kernel), although 2.05e38 is finite; docs/numerics.md lists it.
        StabilityCase("kl_div/batchmean near overflow", kl(.batchmean, logTarget: true),
                      values([0, 88, 1, 2], [-200, 88.5, 0, -1], shape: [2, 2]),
                      gradients: .input, reference: referenceFew, fast: fastReduced, derivation: fewDerivation),

        // poisson_nll, log_input: exp(x) - t x. x = 88: exp = 1.65e38, finite; x = 89:
        // 4.5e38 overflows Float (correctly +inf), and so does its gradient exp(x) - t.
        StabilityCase("poisson_nll/log_input overflow", poisson(), values([88, 89, 88.5], [0, 1, 2]),
                      gradients: .all, reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        // x = -100: exp underflows, the loss is -t x = 300; x = -inf, t = 2: +inf (-t x),
        // gradient exp(x) - t = -2, target gradient -x = +inf.
        StabilityCase("poisson_nll/log_input underflow and -inf", poisson(), values([-100, -inf, 0, 1], [3, 2, 0.5, 0]),
                      gradients: .all, reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        // Without log_input: x - t log(x + eps). x = 0 gives -t log(eps) = 18.4 t; x a
        // subnormal, the same to working precision; x = 100, t = 3: 100 - 3 log 100; gradient
        // 1 - t / (x + eps) = 1 - 1e8 t at x = 0 (no cancellation), 1 at t = 0.
        StabilityCase("poisson_nll/rate 0, eps clamp", poisson(logInput: false),
                      values([0, fsub, 1e-30, 100, 0], [1, 2, 0, 3, 0]),
                      gradients: .all, reference: referenceFew, fast: fastFew,
                      derivation: "the fast engine's Float(eps) is within u_f of eps: one more u_f in log and quotient: " + fewDerivation),
        // full: the Stirling term t log t - t + 0.5 log(2 pi t) where t > 1, masked at
        // t = 0 and t = 1 (gradient 0 there, deviation 4); t = 10 adds 15.1.
        StabilityCase("poisson_nll/full Stirling", poisson(full: true),
                      values([0, 0, 0.5, 1, 0], [0, 1, 1.5, 2, 10]),
                      gradients: .all, reference: referenceFew, fast: fastFew,
                      derivation: "Stirling's terms t log t, t, 0.5 log(2 pi t) all positive where they matter (t >= 1.5): " + fewDerivation),

        // gaussian_nll: 0.5 (log v + e^2 / v), v = max(var, eps). var = 0, a subnormal and
        // 1e-7 are clamped to eps = 1e-6; var = 1e-6 is at the clamp.
        StabilityCase("gaussian_nll/variance clamp", gaussian(),
                      withVariance([1e-3, 2e-3, 0, 3e-3, 0.5], [0, 0, 0, 0, 0.25], [0, fsub, 1e-7, 1e-6, 4]),
                      gradients: .all, reference: referenceFew, fast: fastFew,
                      derivation: "the fast engine's Float(eps) is within u_f of eps: one more u_f in e^2/v and e/v: " + fewDerivation),
        // Large errors and variances: e^2 = 1e40, 9e38 and 1e38 overflow Float (or nearly)
        // although e^2 / v = 100, 900 and 1 do not; the loss must stay finite.
        StabilityCase("gaussian_nll/large error and variance", gaussian(),
                      withVariance([1e20, 3e19, -1e19], [0, 0, 0], [1e38, 1e36, 1e38]),
                      gradients: .all, reference: referenceFew, fast: fastFew,
                      derivation: "e * (e / v) instead of e^2 / v: the same rounding count, no overflow: " + fewDerivation),
        // An infinite variance: log v = inf, e^2 / v = 0: loss +inf, gradient e / inf = 0.
        // An infinite error with a finite variance: loss +inf, gradient +-inf.
        StabilityCase("gaussian_nll/infinities", gaussian(),
                      withVariance([1, inf, -inf, 2], [0, 0, 0, 1], [inf, 1, 2, 1]),
                      gradients: .all, reference: .exact, fast: .exact,
                      derivation: "exact: every finite value is 0.5 or 1, every other an infinity"),
    ]
}

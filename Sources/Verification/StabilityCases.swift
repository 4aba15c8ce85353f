import Foundation
import Losses
import ReferenceLosses

// The stability cases: extreme, non-finite and subnormal arguments, run through either
// engine and compared with values that do not come from the engine under test.
//
// Every case's arguments are Float values (so both engines see the same numbers: the
// fast engine rounds its Double arguments to Float exactly). Its expected values are
// either worked by hand (`closedForm`) or the reference engine evaluated in `Float80`
// (64-bit significand, exponent range to 1e4932: no overflow of `2 * Float.max`, no
// underflow of `exp(-1e4)`) and rounded once to Double. For the fast engine the expected
// values are rounded once more, to Float: a correctly rounded Float computation of a
// loss of `2 * Float.max` IS `+inf`, and that is what the fast engine must return.
//
// Tolerances are norm-wise (`Tolerance`, the golden comparison rule) and derived from
// the unit roundoffs `u_d = 2^-53` (Double) and `u_f = 2^-24` (Float); each case's
// `derivation` says why its bound holds.

/// Where a stability case's expected values come from.
public enum StabilityExpectation: Sendable {
    /// Worked by hand; the comment at the case shows the working.
    case closedForm(output: [Double], gradInput: [Double]?, gradTarget: [Double]?)
    /// `Reference.evaluate` at `Float80` on the same arguments, rounded to Double.
    case float80
    /// The call must throw this kind of `LossError` (both engines).
    case error(LossError.Kind)
}

/// One named stability case: a loss call, its expected values and each engine's bound.
public struct StabilityCase: Sendable {
    /// A short unique name (`group/what`).
    public let name: String
    public let loss: AnyLoss
    /// Float-representable values, so both engines see the same arguments.
    public let arguments: LossArguments<Double>
    public let gradients: GradientRequest
    public let expectation: StabilityExpectation
    public let referenceTolerance: Tolerance
    public let fastTolerance: Tolerance
    /// One line: why the tolerances bound the error.
    public let derivation: String

    public init(_ name: String, _ loss: AnyLoss, _ arguments: LossArguments<Double>,
                gradients: GradientRequest = .input, expect expectation: StabilityExpectation = .float80,
                reference: Tolerance, fast: Tolerance, derivation: String) {
        self.name = name
        self.loss = loss
        self.arguments = arguments
        self.gradients = gradients
        self.expectation = expectation
        self.referenceTolerance = reference
        self.fastTolerance = fast
        self.derivation = derivation
    }

    /// The tolerance for `engine`.
    public func tolerance(_ engine: LossEngine) -> Tolerance {
        engine == .reference ? referenceTolerance : fastTolerance
    }
}

/// The result of one stability case on one engine.
public struct StabilityOutcome: Sendable, CustomStringConvertible {
    public let name: String
    public let engine: LossEngine
    /// The comparisons of the output and of each requested gradient (empty for an
    /// expected error, or when the call failed unexpectedly).
    public let comparisons: [(part: String, result: ComparisonResult)]
    /// What went wrong outside the comparisons (an unexpected throw, a missing error, a
    /// missing gradient, an expectation not available on this machine); nil if nothing.
    public let problem: String?

    public var passed: Bool { problem == nil && comparisons.allSatisfy { $0.result.passed } }

    /// The largest relative (norm-wise) error over the compared parts; 0 if none.
    public var worstError: Double {
        comparisons.map(\.result.error).filter { !$0.isNaN }.max() ?? 0
    }

    public var description: String {
        var line = "\(passed ? "ok    " : "FAILED") \(engine.rawValue) \(name)"
        if let problem { line += ": \(problem)" }
        for (part, result) in comparisons where !result.passed || problem != nil {
            line += "\n    \(part): \(result)"
        }
        if passed { line += " (worst relative error \(String(format: "%.3g", worstError)))" }
        return line
    }
}

/// The stability cases and their runner (shared by the `StabilityTests` suite and
/// `losscheck report`).
public enum StabilityCases {
    // MARK: Tolerances (u_d = 2^-53, u_f = 2^-24)

    static let ud = 0x1p-53, uf = 0x1p-24
    /// Reference: each element is a handful (<= 4) of correctly rounded operations or
    /// libm calls (<= 1 ulp), and sums are compensated (<= 2 u_d): 8 u_d.
    static let referenceFew = Tolerance(rtol: 8 * ud)
    /// Fast, per element (`none`): <= 3 roundings plus the VectorMath exp/log/log1p
    /// (<= 1 ulp each by their headers), and the final Float rounding: 8 u_f.
    static let fastFew = Tolerance(rtol: 8 * uf)
    /// Fast, reduced: the per-element 8 u_f plus the blocked sum's 16 u_f (16 Float terms
    /// per lane, `Fast.termsPerLane`) relative to the sum of magnitudes: 24 u_f.
    static let fastReduced = Tolerance(rtol: 24 * uf)

    /// Softmax gradients `p * mass - w t` with probability targets cancel terms of size
    /// up to `mass ~ 1` (unit weights, one row): an absolute error of 8 u of 1 on top.
    /// (This is the formula's accuracy, not an ideal one: at a one-hot row the target's
    /// `p - 1` is only accurate to u absolute; class-index targets use expm1 instead.)
    static let referenceCancelling = Tolerance(rtol: 8 * ud, atol: 8 * ud)
    static let fastCancelling = Tolerance(rtol: 24 * uf, atol: 8 * uf)
    static let cancellingDerivation = "gradient p * sum(w t) - w t cancels terms of magnitude <= 1: 8 u of 1 absolute, plus the relative bounds"

    static let fewDerivation = "reference: <= 4 roundings/libm ulps per element + compensated sum -> 8 u_d; fast: <= 3 roundings + 1-ulp VectorMath + final rounding -> 8 u_f per element, + 16 u_f for a blocked Float sum"

    static let fmax = Double(Float.greatestFiniteMagnitude)
    static let inf = Double.infinity, nan = Double.nan
    /// The least positive Float subnormal, 2^-149, and the least normal, 2^-126.
    static let fsub = Double(Float.leastNonzeroMagnitude), fnormal = Double(Float.leastNormalMagnitude)

    static func values(_ x: [Double], _ y: [Double], shape: [Int]? = nil) -> LossArguments<Double> {
        let s = shape ?? [x.count]
        return LossArguments(input: try! Tensor(shape: s, scalars: x), target: .values(try! Tensor(shape: s, scalars: y)))
    }
    static func classes(_ x: [Double], rows: Int, _ y: [Int]) -> LossArguments<Double> {
        LossArguments(input: try! Tensor(shape: [rows, x.count / rows], scalars: x), target: .classes(Tensor(y)))
    }
    static func ce(_ reduction: Reduction = .none, weight: [Double]? = nil, ignore: Int = -100, smoothing: Double = 0) -> AnyLoss {
        .crossEntropy(CrossEntropyLoss(reduction: reduction, weight: weight.map { Tensor($0) }, ignoreIndex: ignore, labelSmoothing: smoothing))
    }
    static func bcel(_ reduction: Reduction = .none, weight: [Double]? = nil) -> AnyLoss {
        .bceWithLogits(BCEWithLogitsLoss(reduction: reduction, weight: weight.map { Tensor($0) }))
    }

    // MARK: The cases

    /// Every stability case, in report order.
    public static let all: [StabilityCase] = extremeLogits + oneHot + masked + infinities + nans
        + bceClamp + subnormals + degenerate + distributions

    /// Logits at +-1e4, +-1e30 and +-Float.max: finite where the exact answer is finite.
    static let extremeLogits: [StabilityCase] = [1e4, 1e30, fmax].flatMap { (a: Double) -> [StabilityCase] in
        let tag = a == fmax ? "Float.max" : String(format: "%.0e", a)
        return [
            // loss (1 - y) x - log_sigmoid(x): x = a, y = 0 -> a; x = -a, y = 1 -> a;
            // x = a, y = 1 -> exp(-a) (0 to Double); x = a, y = 0.5 -> a/2; x = -a, y = 0 -> 0.
            StabilityCase("logits/bce_with_logits +-\(tag)", bcel(),
                          values([a, -a, a, a, -a, -a], [0, 1, 1, 0.5, 0, 0.25]), gradients: .all,
                          reference: referenceFew, fast: fastFew, derivation: fewDerivation),
            // Mean of the same: the sum a + a + a/2 + 0.75 a = 3.25 a exceeds Float.max for
            // a = Float.max, but each lane partial holds one term and lanes add in Double.
            StabilityCase("logits/bce_with_logits mean +-\(tag)", bcel(.mean),
                          values([a, -a, a, a, -a, -a], [0, 1, 1, 0.5, 0, 0.25]), gradients: .all,
                          reference: referenceFew, fast: fastReduced, derivation: fewDerivation),
            // Rows [a, -a, 0] with targets 0, 1, 2: losses ~0, 2a, a. For a = Float.max,
            // 2a overflows Float: the fast engine's correctly rounded answer is +inf.
            StabilityCase("logits/cross_entropy +-\(tag)", ce(),
                          classes([a, -a, 0, a, -a, 0, a, -a, 0, -a, a, 0], rows: 4, [0, 1, 2, 2]),
                          reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        ]
    }

    /// Softmax rows one-hot to working precision: tiny losses with full relative accuracy.
    static let oneHot: [StabilityCase] = [
        // [1e4, 0, 0], target 0: loss log(1 + 2 e^-1e4) ~ 1e-4343, 0 in Double and Float;
        // gradient [-2e^-1e4, e^-1e4, e^-1e4] likewise 0 (of the right sign: -0 allowed).
        StabilityCase("one-hot/cross_entropy 1e4 above", ce(.mean), classes([1e4, 0, 0], rows: 1, [0]),
                      expect: .closedForm(output: [0], gradInput: [0, 0, 0], gradTarget: nil),
                      reference: .exact, fast: .exact, derivation: "exact: every term underflows to 0 in both precisions"),
        // [30, 0, 0, 0], target 0: loss = log1p(3 e^-30) ~ 2.81e-13, gradient
        // [-3 e^-30, e^-30, e^-30, e^-30] / (1 + 3 e^-30): all of magnitude ~1e-13.
        StabilityCase("one-hot/cross_entropy 30 above", ce(.mean), classes([30, 0, 0, 0], rows: 1, [0]),
                      reference: referenceFew, fast: fastReduced,
                      derivation: "rest = sum exp(x - m) to a few ulps, log1p(rest) <= 1 ulp, p - 1 = expm1(logp) without cancellation: " + fewDerivation),
        // The same row, target 1: loss 30 + log1p(3e^-30), gradient [1 - tiny, tiny - 1, tiny, tiny].
        StabilityCase("one-hot/cross_entropy 30 above, wrong class", ce(.mean), classes([30, 0, 0, 0], rows: 1, [1]),
                      reference: referenceFew, fast: fastReduced, derivation: fewDerivation),
        // Probability target on the one-hot row: loss -sum t logp ~ 2.81e-13 for t = onehot(0).
        StabilityCase("one-hot/cross_entropy probabilities 30 above", ce(.mean),
                      values([30, 0, 0, 0], [1, 0, 0, 0], shape: [1, 4]), gradients: .all,
                      reference: referenceCancelling, fast: fastCancelling, derivation: cancellingDerivation),
        // bce_with_logits at x = 30, y = 1: loss log1p(e^-30) ~ 9.36e-14, gradient sigmoid(30) - 1 ~ -9.36e-14.
        StabilityCase("one-hot/bce_with_logits 30, y = 1", bcel(), values([30, -30], [1, 0]),
                      reference: referenceFew, fast: fastFew, derivation: fewDerivation),
    ]

    /// -inf logits masking classes.
    static let masked: [StabilityCase] = [
        // Row 0: [-inf, 1, 2, -inf] target 2: finite loss, gradient 0 at the masked classes.
        // Row 1: the same, target 0 (masked): +inf loss, finite gradient [-1, p1, p2, 0].
        // Row 2: all -inf, target 1: NaN loss and gradient (as PyTorch).
        // Row 3: all -inf, ignored: 0 and gradient 0 (deviation 4).
        StabilityCase("masked/cross_entropy -inf rows", ce(),
                      classes([-inf, 1, 2, -inf, -inf, 1, 2, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf],
                              rows: 4, [2, 0, 1, -100]),
                      reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        // Masked classes with the target unmasked, mean: finite everywhere.
        StabilityCase("masked/cross_entropy mean, target unmasked", ce(.mean),
                      classes([-inf, 1, 2, -inf, 0, -inf, -inf, 3], rows: 2, [2, 3]),
                      reference: referenceFew, fast: fastReduced, derivation: fewDerivation),
        // Probability target of 0 on -inf logits: 0 log 0 = 0 (deviation 4).
        StabilityCase("masked/cross_entropy probabilities 0 on -inf", ce(.mean),
                      values([-inf, 1, 2, -inf], [0, 0.25, 0.75, 0], shape: [1, 4]), gradients: .all,
                      reference: referenceCancelling, fast: fastCancelling, derivation: cancellingDerivation),
        // nll on -inf log-probabilities: loss +inf at the target, gradient -1/n there.
        StabilityCase("masked/nll -inf log-probability", .nll(NLLLoss(reduction: .none)),
                      classes([-inf, -1, -inf, -2], rows: 2, [0, 1]),
                      reference: referenceFew, fast: fastFew, derivation: fewDerivation),
    ]

    /// +inf logits and infinite regression inputs.
    static let infinities: [StabilityCase] = [
        // x = +-inf: the limits of deviation 4 (loss 0 or inf, gradient sigmoid(x) - y's limit).
        StabilityCase("inf/bce_with_logits", bcel(), values([inf, inf, inf, -inf, -inf, -inf], [0, 1, 0.5, 0, 1, 0.5]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact: limits 0, +-inf, +-1, +-0.5"),
        // A +inf logit makes its row NaN (as PyTorch); the other row is unaffected.
        StabilityCase("inf/cross_entropy +inf logit", ce(), classes([inf, 0, 0, 1, 0, 0], rows: 2, [0, 1]),
                      reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        // e = [inf, -inf, NaN (inf - inf), -inf, 1]: mse e^2, gradient 2e.
        StabilityCase("inf/mse", .mse(MSELoss(reduction: .none)), values([inf, -inf, inf, 1, 1], [0, 0, inf, inf, 0]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact: every finite value is 1 or 2"),
        StabilityCase("inf/l1", .l1(L1Loss(reduction: .none)), values([inf, -inf, inf, 1, 1], [0, 0, inf, inf, 0]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact: |e| and sign(e)"),
        StabilityCase("inf/huber", .huber(HuberLoss(reduction: .none, delta: 1)), values([inf, -inf, inf, 1, 0.5], [0, 0, inf, inf, 0]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact: 0.125, 0.5 and +-1 are exact"),
        StabilityCase("inf/smooth_l1", .smoothL1(SmoothL1Loss(reduction: .none, beta: 1)), values([inf, -inf, inf, 1, 0.5], [0, 0, inf, inf, 0]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact: 0.125, 0.5 and +-1 are exact"),
        // An infinite element in a mean: the mean is inf.
        StabilityCase("inf/mse mean", .mse(MSELoss()), values([inf, 1, 2, 3], [0, 0, 0, 0]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact: inf and gradients 2e/4"),
    ]

    /// NaN in an input, target or weight flows out, except where the semantics exclude it.
    static let nans: [StabilityCase] = [
        StabilityCase("nan/mse input and target", .mse(MSELoss(reduction: .none)), values([nan, 1, 2], [0, nan, 1]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact: NaN, NaN, 1 and gradients +-2"),
        StabilityCase("nan/mse mean", .mse(MSELoss()), values([nan, 1, 2], [0, 0, 1]),
                      gradients: .all, reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        // Deviation 3: the l1 gradient at a NaN difference is NaN.
        StabilityCase("nan/l1", .l1(L1Loss(reduction: .none)), values([nan, 1], [0, 0]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact"),
        StabilityCase("nan/smooth_l1 beta 0", .smoothL1(SmoothL1Loss(reduction: .none, beta: 0)), values([nan, 1], [0, 0]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact"),
        StabilityCase("nan/huber", .huber(HuberLoss(reduction: .sum)), values([nan, 1], [0, 0]),
                      gradients: .all, reference: .exact, fast: .exact, derivation: "exact"),
        // NaN logit: its row is NaN, the ignored row with a NaN is 0 with gradient 0.
        StabilityCase("nan/cross_entropy logit, ignored row", ce(),
                      classes([nan, 0, 1, 0, 1, 2, nan, 0, 0], rows: 3, [1, 2, -100]),
                      reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        // NaN class weight on a used class: the loss and the denominator are NaN.
        StabilityCase("nan/cross_entropy weight", ce(.mean, weight: [nan, 1, 1]), classes([0, 1, 2, 2, 1, 0], rows: 2, [0, 1]),
                      reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        // NaN weight on an unused class still poisons the mean with label smoothing (it enters
        // the smoothing term), but not without it (w[y] only).
        StabilityCase("nan/cross_entropy weight on an unused class", ce(.mean, weight: [1, 1, nan]), classes([0, 1, 2, 2, 1, 0], rows: 2, [0, 1]),
                      reference: referenceFew, fast: fastReduced, derivation: fewDerivation),
        StabilityCase("nan/bce_with_logits target and weight", bcel(weight: [1, 1, nan]), values([1, 2, 3], [nan, 0, 1]),
                      gradients: .all, reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        StabilityCase("nan/bce input", .bce(BCELoss()), values([nan, 0.5], [0, 1]), expect: .error(.input),
                      reference: .exact, fast: .exact, derivation: "an input error, as PyTorch"),
        StabilityCase("nan/bce target", .bce(BCELoss()), values([0.5, 0.5], [nan, 1]), expect: .error(.target),
                      reference: .exact, fast: .exact, derivation: "a target error (outside [0, 1])"),
    ]

    /// bce with probabilities exactly 0 and 1: the -100 clamp and PyTorch's gradient.
    static let bceClamp: [StabilityCase] = [
        // x = [0, 1, 0, 1, 0.5], y = [0, 0, 1, 1, 0.5]: loss [0, 100, 100, 0, log 2];
        // d/dx = (x - y) / max(x(1-x), 1e-12f) = [0, 1/1e-12f, -1/1e-12f, 0, 0];
        // d/dy = log(1-x) - log x = [+inf, -inf, +inf, -inf, 0].
        StabilityCase("bce/probabilities 0 and 1", .bce(BCELoss(reduction: .none)),
                      values([0, 1, 0, 1, 0.5], [0, 0, 1, 1, 0.5]), gradients: .all,
                      reference: referenceFew, fast: fastFew, derivation: fewDerivation),
        StabilityCase("bce/probabilities 0 and 1, sum", .bce(BCELoss(reduction: .sum)),
                      values([0, 1, 0, 1, 0.5], [0, 0, 1, 1, 0.5]), gradients: .input,
                      reference: referenceFew, fast: fastReduced, derivation: fewDerivation),
    ]

    /// Subnormal inputs and differences: no flush to zero.
    static let subnormals: [StabilityCase] = [
        // e = [2^-149, -3 * 2^-149, 2^-126 - 2^-127 = 2^-127, 0]: |e| and sign(e) exactly
        // (a flushed difference would give 0 and sign 0).
        StabilityCase("subnormal/l1", .l1(L1Loss(reduction: .none)),
                      values([fsub, 0, fnormal, 0], [0, 3 * fsub, fnormal / 2, 0]), gradients: .all,
                      reference: .exact, fast: .exact, derivation: "exact: subtraction of Floats near 0 is exact (Sterbenz / gradual underflow)"),
        // mse: e^2 underflows to 0 in Float (correctly), the gradient 2e stays subnormal.
        StabilityCase("subnormal/mse", .mse(MSELoss(reduction: .none)),
                      values([fsub, 0, fnormal, 0], [0, 3 * fsub, fnormal / 2, 0]), gradients: .all,
                      reference: .exact, fast: .exact, derivation: "exact: e^2 of a subnormal is exact in Double; 2e is exact"),
        // The l1 sum of subnormals: 4 * 2^-149 + ... exactly representable.
        StabilityCase("subnormal/l1 sum", .l1(L1Loss(reduction: .sum)),
                      values([fsub, 0, fnormal, 0], [0, 3 * fsub, fnormal / 2, 0]), gradients: .all,
                      reference: .exact, fast: .exact, derivation: "exact: sums of multiples of 2^-149 below 2^-100 are exact"),
        // huber inside the quadratic zone: 0.5 e^2 underflows, gradient e subnormal.
        StabilityCase("subnormal/huber", .huber(HuberLoss(reduction: .none, delta: 1)),
                      values([fsub, 0, fnormal], [0, 3 * fsub, fnormal / 2]), gradients: .all,
                      reference: .exact, fast: .exact, derivation: "exact"),
        // Logits differing by a subnormal: p = 1/2 to working precision, loss log 2.
        StabilityCase("subnormal/cross_entropy logits", ce(.mean), classes([fsub, 0], rows: 1, [1]),
                      reference: referenceFew, fast: fastReduced, derivation: fewDerivation),
        // bce_with_logits at subnormal logits: loss log 2 -+ x/2, gradient 1/2 - y.
        StabilityCase("subnormal/bce_with_logits", bcel(), values([fsub, -fsub], [0, 1]), gradients: .all,
                      reference: referenceFew, fast: fastFew, derivation: fewDerivation),
    ]

    /// All-ignored batches, zero-weight classes, label smoothing 0 and 1, tiny and huge delta/beta.
    static let degenerate: [StabilityCase] = {
        let logits: [Double] = [1, 2, 3, -1, 0, 0.5, 2, 2, -3]
        var cases: [StabilityCase] = [
            // All ignored: mean NaN, sum 0, none zeros; the gradient is 0 (not NaN).
            StabilityCase("degenerate/cross_entropy all ignored, mean", ce(.mean), classes(logits, rows: 3, [-100, -100, -100]),
                          expect: .closedForm(output: [nan], gradInput: Array(repeating: 0, count: 9), gradTarget: nil),
                          reference: .exact, fast: .exact, derivation: "exact: NaN and zeros"),
            StabilityCase("degenerate/cross_entropy all ignored, sum", ce(.sum), classes(logits, rows: 3, [-100, -100, -100]),
                          expect: .closedForm(output: [0], gradInput: Array(repeating: 0, count: 9), gradTarget: nil),
                          reference: .exact, fast: .exact, derivation: "exact: zeros"),
            StabilityCase("degenerate/nll all ignored, mean", .nll(NLLLoss(ignoreIndex: 1)), classes(logits, rows: 3, [1, 1, 1]),
                          expect: .closedForm(output: [nan], gradInput: Array(repeating: 0, count: 9), gradTarget: nil),
                          reference: .exact, fast: .exact, derivation: "exact: NaN and zeros"),
            // Zero-weight class: excluded from the numerator and the denominator.
            StabilityCase("degenerate/cross_entropy zero-weight class", ce(.mean, weight: [0, 1, 2]), classes(logits, rows: 3, [0, 1, 2]),
                          reference: referenceFew, fast: fastReduced, derivation: fewDerivation),
            // Every target of weight 0: 0/0 = NaN, unguarded (as PyTorch).
            StabilityCase("degenerate/cross_entropy all weights 0", ce(.mean, weight: [0, 1, 2]), classes(logits, rows: 3, [0, 0, 0]),
                          reference: .exact, fast: .exact, derivation: "exact: NaN"),
        ]
        for eps in [0.0, 1.0] {
            cases.append(StabilityCase("degenerate/cross_entropy label_smoothing \(Int(eps))", ce(.mean, smoothing: eps),
                                       classes(logits, rows: 3, [0, 1, -100]),
                                       reference: referenceFew, fast: fastReduced, derivation: fewDerivation))
            cases.append(StabilityCase("degenerate/cross_entropy weighted label_smoothing \(Int(eps))", ce(.sum, weight: [0.5, 1, 2], smoothing: eps),
                                       classes(logits, rows: 3, [0, 1, 2]),
                                       reference: referenceFew, fast: fastReduced, derivation: fewDerivation))
        }
        // Differences well inside and outside both tiny (1e-6) and huge (1e6) thresholds,
        // never within 1% of them (the fast engine holds the threshold as a Float).
        let e: [Double] = [0, 2.5e-7, -4e-6, 0.75, -3, 5e5, 2.5e6]
        for t in [1e-6, 1e6] {
            cases.append(StabilityCase("degenerate/huber delta \(t)", .huber(HuberLoss(reduction: .none, delta: t)),
                                       values(e, e.map { _ in 0 }), gradients: .all,
                                       reference: referenceFew, fast: fastFew,
                                       derivation: "as the others; the fast engine's Float(delta) differs by <= u_f relative, one more u_f in value and gradient"))
            cases.append(StabilityCase("degenerate/smooth_l1 beta \(t)", .smoothL1(SmoothL1Loss(reduction: .none, beta: t)),
                                       values(e, e.map { _ in 0 }), gradients: .all,
                                       reference: referenceFew, fast: fastFew,
                                       derivation: "as the others; the fast engine's Float(beta) differs by <= u_f relative, one more u_f in value and gradient"))
            cases.append(StabilityCase("degenerate/smooth_l1 mean beta \(t)", .smoothL1(SmoothL1Loss(reduction: .mean, beta: t)),
                                       values(e, e.map { _ in 0 }), gradients: .all,
                                       reference: referenceFew, fast: fastReduced, derivation: fewDerivation))
        }
        return cases
    }()

    // MARK: Running

    /// Runs every case (or `cases`) on `engine`.
    public static func run(engine: LossEngine, cases: [StabilityCase] = all) -> [StabilityOutcome] {
        cases.map { run($0, engine: engine) }
    }

    /// The expected values of `stabilityCase` for `engine` (rounded to Float for `.fast`);
    /// nil for an expected error, or for a Float80 expectation where Float80 is missing.
    public static func expected(_ stabilityCase: StabilityCase, engine: LossEngine) -> LossResult<Double>? {
        let exact: LossResult<Double>
        switch stabilityCase.expectation {
        case .error:
            return nil
        case .closedForm(let output, let gradInput, let gradTarget):
            let outputShape = (try? stabilityCase.loss.outputShape(
                input: stabilityCase.arguments.input.shape, target: stabilityCase.arguments.target.shape,
                classTarget: { if case .classes = stabilityCase.arguments.target { return true } else { return false } }(),
                variance: stabilityCase.arguments.variance?.shape)) ?? [output.count]
            func tensor(_ v: [Double]?, _ shape: [Int]) -> Tensor<Double>? { v.flatMap { try? Tensor(shape: shape, scalars: $0) } }
            exact = LossResult(output: tensor(output, outputShape) ?? Tensor(output),
                               gradInput: tensor(gradInput, stabilityCase.arguments.input.shape),
                               gradTarget: tensor(gradTarget, stabilityCase.arguments.target.shape))
        case .float80:
            #if arch(x86_64) && !os(Windows)
            guard let wide = try? Reference.evaluate(stabilityCase.loss, stabilityCase.arguments.map { Float80($0) },
                                                     gradients: stabilityCase.gradients) else { return nil }
            exact = LossResult(output: wide.output.map { Double($0) }, gradInput: wide.gradInput?.map { Double($0) },
                               gradTarget: wide.gradTarget?.map { Double($0) })
            #else
            return nil
            #endif
        }
        guard engine == .fast else { return exact }
        func toFloat(_ t: Tensor<Double>) -> Tensor<Double> { t.map { Double(Float($0)) } }
        return LossResult(output: toFloat(exact.output), gradInput: exact.gradInput.map(toFloat),
                          gradTarget: exact.gradTarget.map(toFloat))
    }

    /// Runs one case on one engine and compares it with its expected values.
    public static func run(_ stabilityCase: StabilityCase, engine: LossEngine) -> StabilityOutcome {
        func outcome(_ comparisons: [(part: String, result: ComparisonResult)], _ problem: String?) -> StabilityOutcome {
            StabilityOutcome(name: stabilityCase.name, engine: engine, comparisons: comparisons, problem: problem)
        }
        guard engine.isAvailable else { return outcome([], "engine not built") }
        let actual: LossResult<Double>
        do {
            actual = try engine.evaluate(stabilityCase.loss, stabilityCase.arguments, gradients: stabilityCase.gradients)
        } catch {
            if case .error(let kind) = stabilityCase.expectation {
                return outcome([], error.kind == kind ? nil : "threw \(error), expected a \(kind) error")
            }
            return outcome([], "threw \(error)")
        }
        if case .error(let kind) = stabilityCase.expectation {
            return outcome([], "returned \(actual.output.scalars), expected a \(kind) error")
        }
        guard let expected = expected(stabilityCase, engine: engine) else {
            return outcome([], "no expected values on this machine (Float80 unavailable)")
        }
        let tolerance = stabilityCase.tolerance(engine)
        let floatULPs = engine == .fast
        var comparisons = [(part: "output", result: compare(actual: actual.output, expected: expected.output,
                                                             tolerance: tolerance, floatULPs: floatULPs))]
        var problems: [String] = []
        for (part, a, e) in [("gradInput", actual.gradInput, expected.gradInput),
                             ("gradTarget", actual.gradTarget, expected.gradTarget)] {
            switch (a, e) {
            case (let a?, let e?):
                comparisons.append((part, compare(actual: a, expected: e, tolerance: tolerance, floatULPs: floatULPs)))
            case (nil, _?): problems.append("\(part) missing")
            case (_?, nil): problems.append("\(part) returned but not expected")
            case (nil, nil): break
            }
        }
        return outcome(comparisons, problems.isEmpty ? nil : problems.joined(separator: "; "))
    }
}

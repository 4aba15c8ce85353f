import Foundation
import Testing
import ReferenceLosses

// MARK: - The elementwise harness, shared by the elementwise suites
//
// A case is one hand-worked example: the arguments, and the unreduced loss and its
// per-element partial derivatives worked out from the formulas (written out in a comment
// next to each case). `ElementwiseHarness.checkEveryReduction` runs it through `none`
// (with the case's non-trivial upstream), `sum` and `mean` (with a scalar upstream) and
// checks output and both gradients; the reduced expectations follow from the unreduced
// ones (`sum = sum_i l_i`, `mean = sum / n`, `grad = d_i g / den`).

/// One hand-worked elementwise example.
struct ElementwiseCase: Sendable, CustomTestStringConvertible {
    var name: String
    var loss: AnyLoss
    var shape: [Int]
    var input: [Double]
    var target: [Double]
    /// `gaussian_nll`'s variance argument.
    var variance: Tensor<Double>? = nil
    /// The upstream gradient used with `none` (of the input's shape).
    var upstream: [Double]
    /// The unreduced loss, worked out by hand.
    var values: [Double]
    /// `d l_i / d x_i`, worked out by hand.
    var dInput: [Double]
    /// `d l_i / d y_i`, worked out by hand.
    var dTarget: [Double]
    /// The case's condition: the largest ratio, over its elements, of the summed magnitudes
    /// of the terms a value or derivative adds up (e.g. `|e^2| + |6|` for `e^2 - 6`) to the
    /// magnitude of the result. 1 when nothing cancels. Rounding errors are relative to the
    /// terms, so every tolerance is scaled by it.
    var condition: Double = 1

    var testDescription: String { "\(loss.name): \(name)" }
}

enum ElementwiseHarness {
    /// ln 2 and ln 3, correctly rounded (mpmath, 40 digits).
    static let ln2 = 0.6931471805599453
    static let ln3 = 1.0986122886681098

    /// Relative tolerance, before scaling by a case's condition. The reference rounds each
    /// element at most about six times (a difference, two or three products or quotients,
    /// libm results good to 1 ulp, the scaling by `g / den`) and a hand expression in a test
    /// (or, in the precision test, the final rounding of the Float80 result) adds one or
    /// two more; each is relative <= eps/2 to the term it rounds: 8 roundings -> 4 eps
    /// times the condition (terms over result).
    static let handTolerance = 4 * Double.ulpOfOne

    /// The tolerance for a case: `handTolerance` times its condition.
    static func tolerance(_ c: ElementwiseCase) -> Double { handTolerance * c.condition }

    /// The scalar upstream used with `sum` and `mean` (not a power of 2 on purpose, so
    /// that a missing or doubled factor shows).
    static let reducedUpstream = -1.5

    /// Runs a case through `none`, `sum` and `mean` and checks every output and gradient.
    static func checkEveryReduction(_ c: ElementwiseCase, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tolerance = tolerance(c)
        let n = c.values.count
        // none, with the case's upstream
        let none = try run(c, .none, upstream: Tensor(unchecked: c.shape, c.upstream))
        expectClose(none.output, c.shape, c.values, tolerance, "\(c.testDescription) [none] output", sourceLocation)
        expectClose(none.gradInput, c.shape, zip(c.dInput, c.upstream).map { $0 * $1 }, tolerance,
                    "\(c.testDescription) [none] grad_input", sourceLocation)
        expectClose(none.gradTarget, c.shape, zip(c.dTarget, c.upstream).map { $0 * $1 }, tolerance,
                    "\(c.testDescription) [none] grad_target", sourceLocation)
        // sum and mean, with a scalar upstream
        let g = reducedUpstream
        let total = c.values.reduce(0, +)
        let magnitude = c.values.reduce(0) { $0 + Swift.abs($1) }
        for (reduction, den) in [(Reduction.sum, 1.0), (.mean, Double(n))] {
            let r = try run(c, reduction, upstream: Tensor(scalar: g))
            expectReduced(r.output, total / den, scale: magnitude / den, tolerance,
                          "\(c.testDescription) [\(reduction)] output", sourceLocation)
            expectClose(r.gradInput, c.shape, c.dInput.map { $0 * g / den }, tolerance,
                        "\(c.testDescription) [\(reduction)] grad_input", sourceLocation)
            expectClose(r.gradTarget, c.shape, c.dTarget.map { $0 * g / den }, tolerance,
                        "\(c.testDescription) [\(reduction)] grad_target", sourceLocation)
        }
    }

    /// Evaluates a case in `T` with its options and the given reduction.
    static func run<T: LossReal>(_ c: ElementwiseCase, _ reduction: Reduction, upstream: Tensor<T>?,
                                 as _: T.Type = T.self) throws -> LossResult<T> {
        try evaluate(withReduction(c.loss, reduction),
                     input: Tensor(unchecked: c.shape, c.input.map { T($0) }),
                     target: Tensor(unchecked: c.shape, c.target.map { T($0) }),
                     variance: c.variance.map { $0.map { T($0) } },
                     upstream: upstream, gradients: .all)
    }

    /// Dispatches to the reference entry point of an elementwise loss.
    static func evaluate<T: LossReal>(_ loss: AnyLoss, input: Tensor<T>, target: Tensor<T>, variance: Tensor<T>?,
                                      upstream: Tensor<T>?, gradients: GradientRequest) throws -> LossResult<T> {
        switch loss {
        case .mse(let l): return try Reference.evaluate(l, input: input, target: target, upstream: upstream, gradients: gradients)
        case .l1(let l): return try Reference.evaluate(l, input: input, target: target, upstream: upstream, gradients: gradients)
        case .huber(let l): return try Reference.evaluate(l, input: input, target: target, upstream: upstream, gradients: gradients)
        case .smoothL1(let l): return try Reference.evaluate(l, input: input, target: target, upstream: upstream, gradients: gradients)
        case .bce(let l): return try Reference.evaluate(l, input: input, target: target, upstream: upstream, gradients: gradients)
        case .bceWithLogits(let l): return try Reference.evaluate(l, input: input, target: target, upstream: upstream, gradients: gradients)
        case .poissonNLL(let l): return try Reference.evaluate(l, input: input, target: target, upstream: upstream, gradients: gradients)
        case .gaussianNLL(let l):
            let variance = try #require(variance, "gaussian_nll case without var")
            return try Reference.evaluate(l, input: input, target: target, variance: variance, upstream: upstream, gradients: gradients)
        case .crossEntropy, .nll, .klDiv:
            Issue.record("\(loss.name) is not an elementwise loss of this harness")
            throw LossError(.option, "not an elementwise loss")
        }
    }

    /// The same loss and options with another reduction.
    static func withReduction(_ loss: AnyLoss, _ reduction: Reduction) -> AnyLoss {
        switch loss {
        case .mse(var l): l.reduction = reduction; return .mse(l)
        case .l1(var l): l.reduction = reduction; return .l1(l)
        case .huber(var l): l.reduction = reduction; return .huber(l)
        case .smoothL1(var l): l.reduction = reduction; return .smoothL1(l)
        case .bce(var l): l.reduction = reduction; return .bce(l)
        case .bceWithLogits(var l): l.reduction = reduction; return .bceWithLogits(l)
        case .crossEntropy(var l): l.reduction = reduction; return .crossEntropy(l)
        case .nll(var l): l.reduction = reduction; return .nll(l)
        case .klDiv(var l): l.reduction = reduction; return .klDiv(l)
        case .poissonNLL(var l): l.reduction = reduction; return .poissonNLL(l)
        case .gaussianNLL(var l): l.reduction = reduction; return .gaussianNLL(l)
        }
    }

    /// Elementwise: NaN where expected is NaN, the same infinity where expected is
    /// infinite, and `|actual - expected| <= tolerance * |expected|` elsewhere (so an
    /// expected 0, e.g. a gradient at a kink, must be exactly 0). Reports the worst index.
    static func expectClose(_ actual: Tensor<Double>?, _ shape: [Int], _ expected: [Double], _ tolerance: Double,
                            _ what: String, _ sourceLocation: SourceLocation = #_sourceLocation) {
        guard let actual else {
            Issue.record("\(what): missing (nil)", sourceLocation: sourceLocation)
            return
        }
        guard actual.shape == shape, actual.count == expected.count else {
            Issue.record("\(what): shape \(actual.shape), expected \(shape)", sourceLocation: sourceLocation)
            return
        }
        var mismatches = 0, worst = -1, worstRelative = 0.0
        for (i, (a, e)) in zip(actual.scalars, expected).enumerated() {
            if !e.isFinite {
                if !(e.isNaN ? a.isNaN : a == e) {
                    mismatches += 1
                    if worst < 0 || worstRelative.isFinite { worst = i; worstRelative = .infinity }
                }
                continue
            }
            let relative = e == 0 ? (a == 0 ? 0 : Double.infinity) : Swift.abs(a - e) / Swift.abs(e)
            if !(relative <= tolerance) {
                mismatches += 1
                if worst < 0 || !(relative <= worstRelative) { worst = i; worstRelative = relative }
            }
        }
        if mismatches > 0 {
            let a = actual.scalars[worst], e = expected[worst]
            let ulps = e.isFinite && e != 0 ? Swift.abs(a - e) / e.ulp : .infinity
            Issue.record("""
                \(what): \(mismatches) of \(expected.count) mismatched; worst at \(Validate.multiIndex(worst, shape: shape)): \
                expected \(e), actual \(a), relative error \(worstRelative) (\(ulps) ulps), \
                tolerance \(tolerance / Double.ulpOfOne) eps
                """, sourceLocation: sourceLocation)
        }
    }

    /// A reduced value: the non-finite classes match, else
    /// `|actual - expected| <= tolerance * scale` with `scale = sum |l_i| / den`, the
    /// magnitude the sum's rounding errors are relative to (its condition number times
    /// the result).
    static func expectReduced(_ actual: Tensor<Double>, _ expected: Double, scale: Double, _ tolerance: Double,
                              _ what: String, _ sourceLocation: SourceLocation = #_sourceLocation) {
        guard actual.shape == [], let a = actual.scalars.first else {
            Issue.record("\(what): shape \(actual.shape), expected []", sourceLocation: sourceLocation)
            return
        }
        let ok = expected.isFinite
            ? a.isFinite && Swift.abs(a - expected) <= tolerance * scale
            : (expected.isNaN ? a.isNaN : a == expected)
        #expect(ok, "\(what): expected \(expected), actual \(a), error \(Swift.abs(a - expected)) vs bound \(tolerance * scale)",
                sourceLocation: sourceLocation)
    }

    /// Runs `body`, which must throw a `LossError` of `kind` whose message mentions every
    /// one of `words` (the argument it names, the loss).
    static func expectError(_ kind: LossError.Kind, mentioning words: [String],
                            sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a \(kind) error mentioning \(words); nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as LossError {
            #expect(error.kind == kind, "expected a \(kind) error, got \(error)", sourceLocation: sourceLocation)
            for word in words {
                #expect(error.message.contains(word), "message \"\(error.message)\" does not mention \"\(word)\"",
                        sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a LossError, got \(error)", sourceLocation: sourceLocation)
        }
    }
}

// MARK: - Float80 vs Double

#if arch(x86_64) && !os(Windows)
/// The generic reference code runs at both precisions and agrees: every hand-worked case
/// of the elementwise suites, every reduction, evaluated in `Float80` (64-bit significand)
/// and in `Double`.
///
/// Bound: the Float80 result rounded to Double is within 2^-64 relative (plus the final
/// rounding, eps/2) of the exact value, so the difference is the Double evaluation's own
/// error: at most ~6 roundings or 1-ulp libm results per element, each of relative size
/// <= u = eps/2 to the term it rounds, so with the final rounding 8 u times the case's
/// condition (terms over result, stated with each case) = `ElementwiseHarness.tolerance`.
/// Reduced values are compared relative to `sum |l_i| / den`, which absorbs the sum's own
/// condition. Exact zeros (kinks, `sigmoid(0) - 1/2`) must agree exactly, and the
/// non-finite values must sit at the same positions.
@Suite("Reference: elementwise losses, Float80 vs Double")
struct ElementwisePrecisionTests {
    static let cases: [ElementwiseCase] =
        MSETests.cases + L1Tests.cases + HuberTests.cases + SmoothL1Tests.cases + BCETests.cases
        + BCEWithLogitsTests.cases + PoissonNLLTests.cases + GaussianNLLTests.cases

    @Test(arguments: cases)
    func float80AgreesWithDouble(_ c: ElementwiseCase) throws {
        let bound = ElementwiseHarness.tolerance(c)
        for reduction in [Reduction.none, .sum, .mean] {
            let up = reduction == .none ? c.upstream : [ElementwiseHarness.reducedUpstream]
            let upShape = reduction == .none ? c.shape : []
            let d = try ElementwiseHarness.run(c, reduction, upstream: Tensor(unchecked: upShape, up), as: Double.self)
            let x = try ElementwiseHarness.run(c, reduction, upstream: Tensor(unchecked: upShape, up.map { Float80($0) }),
                                               as: Float80.self)
            let label = "\(c.testDescription) [\(reduction)]"
            let outShape = reduction == .none ? c.shape : []
            let wide = { (t: Tensor<Float80>?) in t.map { $0.map { Double($0) } } }
            if reduction == .none {
                ElementwiseHarness.expectClose(d.output, outShape, x.output.scalars.map { Double($0) }, bound, "\(label) output")
            } else {
                // Relative to sum |l_i| / den, from the Float80 unreduced values.
                let unreduced = try ElementwiseHarness.run(c, .none, upstream: nil, as: Float80.self).output.scalars
                let den = reduction == .mean ? Float80(c.values.count) : 1
                let scale = Double(unreduced.reduce(Float80(0)) { $0 + Swift.abs($1) } / den)
                ElementwiseHarness.expectReduced(d.output, Double(x.output.scalars[0]), scale: scale, bound, "\(label) output")
            }
            for (name, dt, xt) in [("grad_input", d.gradInput, wide(x.gradInput)), ("grad_target", d.gradTarget, wide(x.gradTarget))] {
                guard let xt else {
                    Issue.record("\(label) \(name): missing in Float80")
                    continue
                }
                ElementwiseHarness.expectClose(dt, c.shape, xt.scalars, bound, "\(label) \(name)")
            }
        }
    }
}
#endif

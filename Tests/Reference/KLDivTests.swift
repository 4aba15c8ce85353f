import Foundation
import Testing
import ReferenceLosses

/// Worked examples for `kl_div`: `t (log t - x)` (0 log 0 = 0), or `exp(t) (t - x)` with
/// log_target, reduced by none / sum / mean (n) / batchmean (size of dimension 0).
///
/// The running example: input x = [[-1, -2], [0.5, -0.5]], target t = [[0.25, 0.75], [0, 1]]:
///   e0 = 0.25 (log 0.25 + 1), e1 = 0.75 (log 0.75 + 2), e2 = 0 (t = 0), e3 = 1 (0 + 0.5) = 0.5;
///   d/dinput = -t / den = [-0.25, -0.75, -0, -1] / den;
///   d/dtarget = (log t + 1 - x) / den = [log 0.25 + 2, log 0.75 + 3, NaN, 1.5] / den.
@Suite("Reference: kl_div")
struct KLDivTests {
    typealias Check = ClassCheck
    static let input = try! Check.reals(shape: [2, 2], scalars: [-1, -2, 0.5, -0.5])
    static let target = try! Check.reals(shape: [2, 2], scalars: [0.25, 0.75, 0, 1])
    static let elements = [0.25 * (log(0.25) + 1), 0.75 * (log(0.75) + 2), 0, 0.5]

    /// n = 4 elements, dimension 0 of size 2.
    static func denominator(_ reduction: Reduction) -> Double {
        switch reduction {
        case .mean: 4
        case .batchmean: 2
        default: 1
        }
    }

    @Test(arguments: [Reduction.none, .sum, .mean, .batchmean])
    func everyReduction(reduction: Reduction) throws {
        let r = try Reference.evaluate(KLDivLoss(reduction: reduction), input: Self.input, target: Self.target, gradients: .all)
        let den = Self.denominator(reduction), e = Self.elements
        let expected = reduction == .none ? e : [(e[0] + e[1] + e[2] + e[3]) / den]
        Check.close(r.output, expected, shape: reduction == .none ? [2, 2] : [], "kl_div \(reduction)")
        Check.close(r.gradInput, [-0.25, -0.75, 0, -1].map { $0 / den }, shape: [2, 2], "kl_div \(reduction) input gradient")
        let dTarget: [Double] = [log(0.25) + 2, log(0.75) + 3, .nan, 1.5]
        Check.close(r.gradTarget, dTarget.map { $0 / den }, shape: [2, 2], "kl_div \(reduction) target gradient (NaN at t = 0)")
    }

    @Test(arguments: [Reduction.none, .sum, .mean, .batchmean])
    func logTarget(reduction: Reduction) throws {
        // The same distribution given as log t = [[log 0.25, log 0.75], [-inf, 0]]: the same
        // losses exp(log t)(log t - x). d/dinput = -exp(log t) / den; d/dtarget =
        // exp(log t)(log t - x + 1) / den, and at log t = -inf its limit 0 (deviation 4's rule).
        let logT = try Check.reals(shape: [2, 2], scalars: [log(0.25), log(0.75), -.infinity, 0])
        let r = try Reference.evaluate(KLDivLoss(reduction: reduction, logTarget: true), input: Self.input, target: logT, gradients: .all)
        let den = Self.denominator(reduction), e = Self.elements
        let expected = reduction == .none ? e : [(e[0] + e[1] + e[2] + e[3]) / den]
        Check.close(r.output, expected, "kl_div log_target \(reduction)")
        Check.close(r.gradInput, [-0.25, -0.75, 0, -1].map { $0 / den }, "kl_div log_target \(reduction) input gradient")
        let dTarget = [0.25 * (log(0.25) + 2), 0.75 * (log(0.75) + 3), 0, 1.5]
        Check.close(r.gradTarget, dTarget.map { $0 / den }, "kl_div log_target \(reduction) target gradient")
    }

    @Test func noneWithUpstream() throws {
        // upstream [[2, -1], [3, 0.5]] multiplies each element's derivatives.
        let g = try Check.reals(shape: [2, 2], scalars: [2, -1, 3, 0.5])
        let r = try Reference.evaluate(KLDivLoss(reduction: .none), input: Self.input, target: Self.target, upstream: g, gradients: .all)
        Check.close(r.gradInput, [-0.5, 0.75, 0, -0.5], "none input gradient with upstream")
        Check.close(r.gradTarget, [2 * (log(0.25) + 2), -(log(0.75) + 3), .nan, 0.75], "none target gradient with upstream")
    }

    @Test func zeroTargetWhateverTheInput() throws {
        // t = 0 contributes 0 to the loss and -0 to the input gradient even for x = -inf or +inf
        // (deviation 4: PyTorch gives 0 * inf = NaN); the target gradient stays NaN (as PyTorch).
        // A NaN input is not hidden: NaN.
        let x = Check.reals([-.infinity, .infinity, 3, .nan])
        let r = try Reference.evaluate(KLDivLoss(reduction: .none), input: x, target: Check.reals([0, 0, 0, 0]), gradients: .all)
        Check.close(r.output, [0, 0, 0, .nan], "t = 0")
        Check.close(r.gradInput, [0, 0, 0, 0], "t = 0 input gradient")
        Check.close(r.gradTarget, [.nan, .nan, .nan, .nan], "t = 0 target gradient")

        // log_target = -inf: the same, and the target gradient is the limit 0 for a finite x.
        let l = try Reference.evaluate(KLDivLoss(reduction: .none, logTarget: true), input: x,
                                       target: Check.reals([-.infinity, -.infinity, -.infinity, -.infinity]), gradients: .all)
        Check.close(l.output, [0, 0, 0, .nan], "log t = -inf")
        Check.close(l.gradInput, [0, 0, 0, 0], "log t = -inf input gradient")
        Check.close(l.gradTarget, [.nan, .nan, 0, .nan], "log t = -inf target gradient")
    }

    @Test func otherTargets() throws {
        // A positive t with x = -inf is an infinite loss; a negative t is NaN (log t); t = 1, x = 0
        // gives exactly 0.
        let r = try Reference.evaluate(KLDivLoss(reduction: .none), input: Check.reals([-.infinity, 0, 0]),
                                       target: Check.reals([0.5, -0.5, 1]))
        Check.close(r.output, [.infinity, .nan, 0], "positive t on -inf input, negative t, t = 1")
    }

    @Test func scalarAndOneDimensionalBatchmean() throws {
        // Scalar input: batchmean divides by 1. x = -1, t = 0.5: 0.5 (log 0.5 + 1).
        let s = try Reference.evaluate(KLDivLoss(reduction: .batchmean), input: Tensor<Double>(scalar: -1), target: Tensor<Double>(scalar: 0.5), gradients: .input)
        Check.close(s.output, [0.5 * (log(0.5) + 1)], shape: [], "scalar batchmean")
        Check.close(s.gradInput, [-0.5], shape: [], "scalar batchmean gradient")
        // [3]: dimension 0 has size 3, so batchmean equals mean. x = log [0.5, 0.25, 0.25],
        // t = [0.25, 0.25, 0.5]: 0.25 log 0.5 + 0 + 0.5 log 2 = 0.25 log 2, divided by 3.
        let x = Check.reals([log(0.5), log(0.25), log(0.25)]), t = Check.reals([0.25, 0.25, 0.5])
        for reduction in [Reduction.batchmean, .mean] {
            let r = try Reference.evaluate(KLDivLoss(reduction: reduction), input: x, target: t)
            Check.close(r.output, [0.25 * log(2.0) / 3], "[3] \(reduction)")
        }
    }

    @Test func emptyInput() throws {
        // No elements: sum 0; mean 0 / 0 and batchmean 0 / 0 (dimension 0 has size 0) are NaN.
        let empty = try Check.reals(shape: [0, 3], scalars: [])
        for (reduction, expected) in [(Reduction.sum, [0.0]), (.mean, [.nan]), (.batchmean, [.nan])] {
            let r = try Reference.evaluate(KLDivLoss(reduction: reduction), input: empty, target: empty, gradients: .all)
            Check.close(r.output, expected, shape: [], "empty \(reduction)")
            Check.close(r.gradInput, [], shape: [0, 3], "empty \(reduction) gradient")
        }
        let none = try Reference.evaluate(KLDivLoss(reduction: .none), input: empty, target: empty)
        Check.close(none.output, [], shape: [0, 3], "empty none")
    }

    @Test func errors() {
        Check.error(.shape, naming: ["kl_div", "target", "[4]", "[2, 2]"], "target of another shape") {
            _ = try Reference.evaluate(KLDivLoss(), input: Self.input, target: Check.reals([1, 2, 3, 4]))
        }
        Check.error(.shape, naming: ["upstream", "[2]", "[2, 2]"], "upstream of the wrong shape") {
            _ = try Reference.evaluate(KLDivLoss(reduction: .none), input: Self.input, target: Self.target, upstream: Check.reals([1, 1]))
        }
        Check.error(.shape, naming: ["upstream", "[]"], "a reduced output takes a scalar upstream") {
            _ = try Reference.evaluate(KLDivLoss(reduction: .batchmean), input: Self.input, target: Self.target, upstream: Check.reals([1]))
        }
    }
}

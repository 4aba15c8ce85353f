import Foundation
import Testing
import Losses
import ReferenceLosses
import LossVerification

/// The gradient at the points where the loss has no derivative, or where the contract
/// prescribes something else: exact kinks and clamps against the documented subgradient
/// (worked by hand below), and the finite-difference skip rule near kinks (which points
/// are skipped, how many, and that most are still compared).
@Suite("Gradients at kinks and clamps: documented subgradients and the skip rule")
struct KinkTests {
    /// A hand-built call through the same harness as the generated sweep.
    static func probe(_ loss: AnyLoss, input: [Double], target: [Double], upstream: [Double]? = nil,
                      _ argument: GradArgument = .input) throws -> GradProbe {
        let shape = [input.count]
        let output: [Int] = loss.reduction == .none ? shape : []
        let arguments = LossArguments(input: try Tensor(shape: shape, scalars: input),
                                      target: .values(try Tensor(shape: shape, scalars: target)),
                                      upstream: try upstream.map { try Tensor(shape: output, scalars: $0) })
        let c = GeneratedCase(loss: loss, arguments: arguments, regime: .nearKinks)
        try c.validate()
        return try GradProbe(c, argument)
    }

    static func describe(_ o: GradOutcome) -> String {
        "\(o.dualDetail) \(o.differenceDetail) \(o.documentedDetail) \(o.couplingDetail) (documented \(o.documented), FD compared \(o.compared), kink \(o.kinkSkipped), dual compared \(o.dualCompared))"
    }

    // MARK: l1 and smooth_l1 (beta 0) at e = 0: sign(0) = 0

    /// e = input - target = [0, -1, 0, 2, 0]. d/dinput = sign(e) g norm, d/dtarget its negative:
    /// none with g = [3, -2, 5, 1/2, 7]: [0, 2, 0, 1/2, 0]; sum: [0, -1, 0, 1, 0];
    /// mean (n = 5): [0, -1/5, 0, 1/5, 0].
    static let l1Input = [0.5, -1, 2, 3, -0.25], l1Target = [0.5, 0, 2, 1, -0.25]
    static let l1Expected: [(Reduction, [Double]?, [Double])] = [
        (.none, [3, -2, 5, 0.5, 7], [0, 2, 0, 0.5, 0]),
        (.sum, nil, [0, -1, 0, 1, 0]),
        (.mean, nil, [0, -0.2, 0, 0.2, 0]),
    ]

    @Test(arguments: [false, true])
    func l1AndSmoothL1BetaZeroHaveGradientZeroAtTheKink(smoothL1: Bool) throws {
        for (reduction, upstream, expected) in KinkTests.l1Expected {
            let loss: AnyLoss = smoothL1 ? .smoothL1(SmoothL1Loss(reduction: reduction, beta: 0)) : .l1(L1Loss(reduction: reduction))
            for argument in GradArgument.allCases {
                let p = try KinkTests.probe(loss, input: KinkTests.l1Input, target: KinkTests.l1Target, upstream: upstream, argument)
                let g = try p.referenceGradient()
                let sign = argument == .input ? 1.0 : -1.0
                // Exact: sign(e) is +-1 or 0, and g / 5 is one correctly rounded division.
                #expect(g == expected.map { sign * $0 }, "\(loss.name) \(reduction) grad_\(argument): \(g)")
                // Through the harness: the three kink points are documented (compared to 0),
                // the other two by both oracles.
                let o = try GradCheck.run(p)
                #expect(o.passed && o.documented == 3 && o.dualCompared == 2 && o.compared == 2, "\(KinkTests.describe(o))")
            }
        }
    }

    // MARK: huber and smooth_l1 at |e| = delta (beta): continuous

    @Test func huberIsContinuousAtDelta() throws {
        // delta = 1/2, e = [1/2, -1/2, 1/2]: the linear branch, gradient delta sign(e) =
        // [1/2, -1/2, 1/2] (sum). Inside by 2^-30 the gradient is e itself, 2^-30 away.
        let delta = 0.5, tiny = 0x1p-30
        let loss = AnyLoss.huber(HuberLoss(reduction: .sum, delta: delta))
        let target = [1.0, 0, -0.25]
        let atKink = try KinkTests.probe(loss, input: [1.5, -0.5, 0.25], target: target)
        #expect(try atKink.referenceGradient() == [0.5, -0.5, 0.5])
        let inside = try KinkTests.probe(loss, input: [1.5 - tiny, -0.5 + tiny, 0.25 - tiny], target: target)
        #expect(try inside.referenceGradient() == [0.5 - tiny, -0.5 + tiny, 0.5 - tiny])
        let outside = try KinkTests.probe(loss, input: [1.5 + tiny, -0.5 - tiny, 0.25 + tiny], target: target)
        #expect(try outside.referenceGradient() == [0.5, -0.5, 0.5])
        // At the kink the dual (linear branch) agrees; finite differences skip all three.
        let o = try GradCheck.run(atKink)
        #expect(o.passed && o.dualCompared == 3 && o.kinkSkipped == 3 && o.compared == 0, "\(KinkTests.describe(o))")
    }

    @Test func smoothL1IsContinuousAtBeta() throws {
        // beta = 2, e = [2, -2]: gradient sign(e) = [1, -1] (sum); inside by 2^-20 it is
        // e / beta = +-(1 - 2^-21); target gradients are the negatives.
        let loss = AnyLoss.smoothL1(SmoothL1Loss(reduction: .sum, beta: 2))
        let target = [0.5, 1]
        let atKink = try KinkTests.probe(loss, input: [2.5, -1], target: target)
        #expect(try atKink.referenceGradient() == [1, -1])
        let inside = try KinkTests.probe(loss, input: [2.5 - 0x1p-20, -1 + 0x1p-20], target: target)
        #expect(try inside.referenceGradient() == [1 - 0x1p-21, -1 + 0x1p-21])
        let targetSide = try KinkTests.probe(loss, input: [2.5, -1], target: target, .target)
        #expect(try targetSide.referenceGradient() == [-1, 1])
        for p in [atKink, targetSide] {
            let o = try GradCheck.run(p)
            #expect(o.passed && o.dualCompared == 2 && o.kinkSkipped == 2, "\(KinkTests.describe(o))")
        }
    }

    // MARK: bce at the clamp points x = 0 and x = 1

    @Test func bceAtZeroAndOneIsPyTorchsClampedGradient() throws {
        // weight 3 (shape [], broadcast), mean over n = 6, x(1 - x) = 0 at every point, so
        // d/dx = 3 (x - y) / max(0, 1e-12f) / 6 = (x - y) / (2 eps12), eps12 = Float(1e-12)
        // = 9.999999960041972e-13 (1 / eps12 = 1.0000000039958029e12):
        //   y = [1, 0, 0, 1, 1/4, 1/4], x = [0, 0, 1, 1, 0, 1]
        //   -> [-1/2, 0, 1/2, 0, -1/8, 3/8] / eps12.
        // d/dy = 3 (log(1 - x) - log x) / 6 with unclamped logs: +inf at x = 0, -inf at 1.
        let eps12 = Double(Float(1e-12))
        #expect(eps12 == 9.999999960041972e-13)
        let loss = AnyLoss.bce(BCELoss(reduction: .mean, weight: Tensor(scalar: 3)))
        let x = [0.0, 0, 1, 1, 0, 1], y = [1.0, 0, 0, 1, 0.25, 0.25]
        let input = try KinkTests.probe(loss, input: x, target: y)
        let g = try input.referenceGradient()
        let expected = [-0.5, 0, 0.5, 0, -0.125, 0.375].map { $0 / eps12 }
        for i in g.indices {
            // (x - y) and the quotient round once each; times 3, divided by 6: 4 ulps.
            #expect((g[i] - expected[i]).magnitude <= 4 * Double.ulpOfOne * expected[i].magnitude,
                    "bce grad_input[\(i)] at x = \(x[i]), y = \(y[i]): \(g[i]) vs \(expected[i])")
        }
        let t = try KinkTests.probe(loss, input: x, target: y, .target)
        #expect(try t.referenceGradient() == [.infinity, .infinity, -.infinity, -.infinity, .infinity, -.infinity])
        // Every point is documented (neither oracle applies), and all match.
        for p in [input, t] {
            let o = try GradCheck.run(p)
            #expect(o.passed && o.documented == 6 && o.dualCompared == 0 && o.compared == 0, "\(KinkTests.describe(o))")
        }
    }

    @Test func bceJustInsideTheClampIsTheDerivative() throws {
        // x = 2^-20: x (1 - x) ~ 9.5e-7 > eps12, so the gradient is the true derivative
        // (x - y) / (x (1 - x)); both oracles compare it (steps within 1/64 of x).
        let loss = AnyLoss.bce(BCELoss(reduction: .sum))
        let p = try KinkTests.probe(loss, input: [0x1p-20, 1 - 0x1p-20], target: [1, 0])
        let o = try GradCheck.run(p)
        #expect(o.passed && o.documented == 0 && o.dualCompared == 2 && o.compared == 2, "\(KinkTests.describe(o))")
        // -(1 - 2^-20) / (2^-20 (1 - 2^-20)) = -2^20 exactly, and +2^20 at the mirror point.
        let g = try p.referenceGradient()
        #expect(g == [-0x1p20, 0x1p20], "\(g)")
    }

    // MARK: bce_with_logits at x = 0: a branch point of the value's formula

    @Test func bceWithLogitsAtZeroLogit() throws {
        // d/dx = w (c sigmoid(0) - p y) = c/2 - p y; without pos_weight 1/2 - y:
        // y = [0, 1, 1/4] -> [1/2, -1/2, 1/4] (sum).
        let loss = AnyLoss.bceWithLogits(BCEWithLogitsLoss(reduction: .sum))
        let p = try KinkTests.probe(loss, input: [0, 0, 0], target: [0, 1, 0.25])
        #expect(try p.referenceGradient() == [0.5, -0.5, 0.25])
        // The dual evaluation of log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|)) at 0 takes
        // min's left slope (1) and |x|'s right one (+1): 1 - (-1/2) = 3/2, not 1/2. So the
        // dual is blind at 0 (the harness does not ask it) ...
        let d = try p.dualOutputs(direction: [1, 0, 0])[0].derivative
        #expect(d != 0.5, "the dual's derivative at 0 is \(d); if it is now 1/2, the blind-point rule can go")
        // ... and one step away it is exact again (sigmoid(2^-40) - 0 = 1/2 + 2^-42 to rounding).
        let near = try KinkTests.probe(loss, input: [0x1p-40, 0, 0], target: [0, 1, 0.25])
        let dNear = try near.dualOutputs(direction: [1, 0, 0])[0].derivative
        #expect((dNear - 0.5).magnitude <= 0x1p-41, "\(dNear)")
        // Finite differences (the function is smooth) compare all three, with pos_weight too.
        let o = try GradCheck.run(p)
        #expect(o.passed && o.documented == 3 && o.dualCompared == 0 && o.compared == 3, "\(KinkTests.describe(o))")
        let weighted = AnyLoss.bceWithLogits(BCEWithLogitsLoss(reduction: .sum, posWeight: Tensor(scalar: 3)))
        let pw = try KinkTests.probe(weighted, input: [0, 0, 0], target: [0, 1, 0.25])
        // c = 1 + 2y: [1, 3, 3/2]; c/2 - 3y = [1/2, -3/2, -0].
        #expect(try pw.referenceGradient() == [0.5, -1.5, 0])
        let ow = try GradCheck.run(pw)
        #expect(ow.passed && ow.compared == 3, "\(KinkTests.describe(ow))")
    }

    // MARK: Documented non-derivatives of the class and divergence losses

    @Test func allIgnoredTargetsGiveZeroGradient() throws {
        // Every target is ignore_index: mean = 0/0 = NaN, gradient 0 (not NaN), for
        // cross_entropy (with smoothing) and nll.
        let x = try Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 4])
        let y = Tensor([-1, -1])
        for loss in [AnyLoss.crossEntropy(CrossEntropyLoss(reduction: .mean, ignoreIndex: -1, labelSmoothing: 0.5)),
                     .nll(NLLLoss(reduction: .mean, ignoreIndex: -1))] {
            let c = GeneratedCase(loss: loss, arguments: LossArguments(input: x, target: .classes(y)), regime: .standardNormal)
            let p = try GradProbe(c, .input)
            #expect(p.baseOutput.count == 1 && p.baseOutput[0].isNaN)
            #expect(try p.referenceGradient() == Array(repeating: 0, count: 6))
            let o = try GradCheck.run(p)
            #expect(o.passed && o.documented == 6 && o.nonFiniteSkipped == 6, "\(KinkTests.describe(o))")
        }
    }

    @Test func klDivAtZeroTarget() throws {
        // t = [0, 1/2]: d/dinput = -t = [-0, -1/2]; d/dtarget = log t + 1 - x, NaN at t = 0
        // (the limit is infinite), log(1/2) + 1 - x at the other: x = -1 -> 2 - log 2.
        let loss = AnyLoss.klDiv(KLDivLoss(reduction: .sum))
        let p = try KinkTests.probe(loss, input: [-3, -1], target: [0, 0.5])
        #expect(try p.referenceGradient() == [0, -0.5])
        let t = try KinkTests.probe(loss, input: [-3, -1], target: [0, 0.5], .target)
        let g = try t.referenceGradient()
        #expect(g[0].isNaN && (g[1] - (2 - Foundation.log(2))).magnitude <= 2 * Double.ulpOfOne * 2, "\(g)")
        let o = try GradCheck.run(t)
        #expect(o.passed && o.documented == 1 && o.dualCompared == 1 && o.compared == 1, "\(KinkTests.describe(o))")
    }

    // MARK: The skip rule: which points finite differences compare near a kink

    /// Points at distance 2^-k from a kink on both sides. The first difference step at a
    /// coordinate a is the largest power of two not above 2^-7 max(|a|, 1); for every
    /// point here it is 2^-7, except at a = 2 (distance 1, k = 0, above the kink) and for
    /// a beyond 2 where it is 2^-6 (a < 4) or 2^-5 (a < 8): in every case the distance 2^-k
    /// exceeds the step exactly when k <= 6. So with k in -2...12 above the kink (15
    /// points) and 1...12 below it (12 points), the skipped ones are k = 7...12 on each
    /// side: 12 skipped and 15 compared, and every point is compared by dual numbers.
    struct SkipSweep: Sendable, CustomTestStringConvertible {
        let loss: AnyLoss
        let argument: GradArgument
        /// The coordinate's value at the kink, and the fixed partner (target or input).
        let kink: Double
        let partner: Double
        var testDescription: String { "\(loss.name) grad_\(argument) around \(kink)" }
    }

    static let sweeps: [SkipSweep] = [
        // l1: kink at input = target = 1.
        SkipSweep(loss: .l1(L1Loss(reduction: .sum)), argument: .input, kink: 1, partner: 1),
        // huber (delta 1): kink at e = 1, i.e. input 1 for target 0.
        SkipSweep(loss: .huber(HuberLoss(reduction: .sum)), argument: .input, kink: 1, partner: 0),
        // smooth_l1 (beta 4) by the target: e = x - t = 4 at t = 1 for x = 5 (the other
        // kink, e = -4 at t = 9, lies beyond every point; e = 0 at t = 5 is smooth).
        SkipSweep(loss: .smoothL1(SmoothL1Loss(reduction: .mean, beta: 4)), argument: .target, kink: 1, partner: 5),
        // poisson_nll with full: the Stirling term switches on at t > 1 (a jump), x = 1/2.
        SkipSweep(loss: .poissonNLL(PoissonNLLLoss(reduction: .sum, full: true)), argument: .target, kink: 1, partner: 0.5),
    ]

    @Test(arguments: sweeps)
    func finiteDifferencesSkipExactlyThePointsWithinAStep(_ s: SkipSweep) throws {
        let above = (-2...12).map { s.kink + Foundation.pow(2, -Double($0)) }
        let below = (1...12).map { s.kink - Foundation.pow(2, -Double($0)) }
        let points = above + below
        let partners = Array(repeating: s.partner, count: points.count)
        let p = s.argument == .input
            ? try KinkTests.probe(s.loss, input: points, target: partners, .input)
            : try KinkTests.probe(s.loss, input: partners, target: points, .target)
        let o = try GradCheck.run(p)
        #expect(o.kinkSkipped == 12 && o.compared == 15, "\(s.testDescription): \(KinkTests.describe(o))")
        #expect(o.compared > o.kinkSkipped, "most points are compared")
        #expect(o.dualCompared == 27 && o.passed, "\(KinkTests.describe(o))")
    }
}

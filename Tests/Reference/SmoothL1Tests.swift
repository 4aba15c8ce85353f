import Testing
import ReferenceLosses

@Suite("Reference: smooth_l1")
struct SmoothL1Tests {
    static let cases: [ElementwiseCase] = [
        // beta 1, e = [-0.5, 1, 2]: 0.5 * 0.25 / 1 = 0.125; |e| = beta is linear:
        // 1 - 0.5 = 0.5 (the quadratic gives 0.5 too); 2 - 0.5 = 1.5. Mean 2.125 / 3.
        // d/dx = [e / beta, sign, sign] = [-0.5, 1, 1].
        ElementwiseCase(name: "classic, beta 1", loss: .smoothL1(SmoothL1Loss()), shape: [3],
                        input: [2.5, 0, 4], target: [3, -1, 2], upstream: [2, -3, 0.5],
                        values: [0.125, 0.5, 1.5], dInput: [-0.5, 1, 1], dTarget: [0.5, -1, -1]),
        // beta 0.5, e = [0.25, 0.5, -3, 0]:
        //   0.25: 0.5 * 0.0625 / 0.5 = 0.0625,   d = 0.25 / 0.5 = 0.5
        //   0.5:  |e| = beta: 0.5 - 0.25 = 0.25 (quadratic 0.5 * 0.25 / 0.5 = 0.25), d = 1
        //   -3:   3 - 0.25 = 2.75,               d = -1
        //   0:    0,                             d = 0
        // sum 3.0625.
        ElementwiseCase(name: "beta 0.5 with kinks", loss: .smoothL1(SmoothL1Loss(beta: 0.5)), shape: [2, 2],
                        input: [0.25, 1, -3, 4], target: [0, 0.5, 0, 4], upstream: [2, -1, 0.25, 7],
                        values: [0.0625, 0.25, 2.75, 0], dInput: [0.5, 1, -1, 0], dTarget: [-0.5, -1, 1, 0]),
        // beta 3, e = [-1.5, 4, 3]: 0.5 * 2.25 / 3 = 0.375 (d = -0.5); 4 - 1.5 = 2.5 (d = 1);
        // |e| = beta: 3 - 1.5 = 1.5 (= 0.5 * 9 / 3), d = 1.
        ElementwiseCase(name: "beta 3", loss: .smoothL1(SmoothL1Loss(beta: 3)), shape: [3],
                        input: [0, 4, 1], target: [1.5, 0, -2], upstream: [-2, 1, 0.5],
                        values: [0.375, 2.5, 1.5], dInput: [-0.5, 1, 1], dTarget: [0.5, -1, -1]),
        // beta 0 is exactly l1: e = [1.5, 0, -2, NaN, -inf]: l = [1.5, 0, 2, NaN, inf],
        // d/dx = sign(e) = [1, 0, -1, NaN, -1] (0 at the kink; NaN at NaN, deviation 3).
        ElementwiseCase(name: "beta 0 is l1", loss: .smoothL1(SmoothL1Loss(beta: 0)), shape: [5],
                        input: [1.5, 2, -1, .nan, 0], target: [0, 2, 1, 0, .infinity], upstream: [3, 2, -1, 1, 0.5],
                        values: [1.5, 0, 2, .nan, .infinity], dInput: [1, 0, -1, .nan, -1], dTarget: [-1, 0, 1, .nan, 1]),
        // scalar, beta 1: e = 0.25: 0.5 * 0.0625 = 0.03125, d = 0.25.
        ElementwiseCase(name: "scalar", loss: .smoothL1(SmoothL1Loss()), shape: [],
                        input: [0.25], target: [0], upstream: [-2],
                        values: [0.03125], dInput: [0.25], dTarget: [-0.25]),
        ElementwiseCase(name: "empty", loss: .smoothL1(SmoothL1Loss()), shape: [0],
                        input: [], target: [], upstream: [], values: [], dInput: [], dTarget: []),
    ]

    @Test(arguments: cases)
    func everyReduction(_ c: ElementwiseCase) throws {
        try ElementwiseHarness.checkEveryReduction(c)
    }

    @Test func betaZeroMatchesL1Exactly() throws {
        let x = Tensor<Double>([1.5, 2, -1, .nan, 0, -0.0, 1e300]), y = Tensor<Double>([0, 2, 1, 0, .infinity, 0, -1e300])
        for reduction in [Reduction.none, .sum, .mean] {
            let s = try Reference.evaluate(SmoothL1Loss(reduction: reduction, beta: 0), input: x, target: y, gradients: .all)
            let l = try Reference.evaluate(L1Loss(reduction: reduction), input: x, target: y, gradients: .all)
            // The same bits, NaN in the same places (compare bit patterns).
            #expect(s.output.scalars.map(\.bitPattern) == l.output.scalars.map(\.bitPattern), "\(reduction) output")
            #expect(s.gradInput?.scalars.map(\.bitPattern) == l.gradInput?.scalars.map(\.bitPattern), "\(reduction) grad_input")
            #expect(s.gradTarget?.scalars.map(\.bitPattern) == l.gradTarget?.scalars.map(\.bitPattern), "\(reduction) grad_target")
        }
    }

    @Test func errors() {
        let x = Tensor<Double>([1.0, 2])
        for beta in [-0.5, -Double.infinity, .infinity, .nan] {
            ElementwiseHarness.expectError(.option, mentioning: ["smooth_l1", "beta"]) {
                _ = try Reference.evaluate(SmoothL1Loss(beta: beta), input: x, target: x)
            }
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["smooth_l1", "target", "[]", "[2]"]) {
            _ = try Reference.evaluate(SmoothL1Loss(), input: x, target: Tensor(scalar: 1.0))
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["smooth_l1", "upstream"]) {
            _ = try Reference.evaluate(SmoothL1Loss(reduction: .mean), input: x, target: x, upstream: x)
        }
        ElementwiseHarness.expectError(.option, mentioning: ["smooth_l1", "batchmean"]) {
            _ = try Reference.evaluate(SmoothL1Loss(reduction: .batchmean), input: x, target: x)
        }
    }
}

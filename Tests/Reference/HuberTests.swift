import Testing
import ReferenceLosses

@Suite("Reference: huber")
struct HuberTests {
    static let cases: [ElementwiseCase] = [
        // delta 1, e = [-0.5, 1, 2]: |e| < 1 only for -0.5 -> 0.5 * 0.25 = 0.125;
        // |e| = 1 = delta is linear: 1 * (1 - 0.5) = 0.5 (the quadratic gives 0.5 too);
        // 1 * (2 - 0.5) = 1.5. Sum 2.125, mean 2.125 / 3 = 0.708333...
        // d/dx = [e, delta, delta] = [-0.5, 1, 1] (continuous at |e| = delta).
        ElementwiseCase(name: "classic, delta 1", loss: .huber(HuberLoss()), shape: [3],
                        input: [2.5, 0, 4], target: [3, -1, 2], upstream: [2, -3, 0.5],
                        values: [0.125, 0.5, 1.5], dInput: [-0.5, 1, 1], dTarget: [0.5, -1, -1]),
        // delta 2, e = [-0.5, 3, -2, 5, 0] in shape [5]:
        //   -0.5: 0.5 * 0.25 = 0.125, d = -0.5
        //   3:    2 * (3 - 1) = 4,     d = 2
        //   -2:   |e| = delta, linear: 2 * (2 - 1) = 2 (quadratic 0.5 * 4 = 2), d = -2 = e
        //   5:    2 * (5 - 1) = 8,     d = 2
        //   0:    0,                   d = 0 (exactly)
        // sum 14.125, mean 2.825.
        ElementwiseCase(name: "delta 2 with kinks", loss: .huber(HuberLoss(delta: 2)), shape: [5],
                        input: [0, 3, -1, 5, 7], target: [0.5, 0, 1, 0, 7], upstream: [1, 0.25, -2, 3, 5],
                        values: [0.125, 4, 2, 8, 0], dInput: [-0.5, 2, -2, 2, 0], dTarget: [0.5, -2, 2, -2, 0]),
        // delta 0.25, rank 2, e = [[0.125, -0.25], [-1, 0]]:
        //   0.125: 0.5 * 0.015625 = 0.0078125, d = 0.125
        //   -0.25: |e| = delta: 0.25 * (0.25 - 0.125) = 0.03125 (= 0.5 * 0.0625), d = -0.25
        //   -1:    0.25 * (1 - 0.125) = 0.21875, d = -0.25
        //   0:     0, d = 0
        ElementwiseCase(name: "delta 0.25, rank 2", loss: .huber(HuberLoss(delta: 0.25)), shape: [2, 2],
                        input: [0.125, 0, -1, 2], target: [0, 0.25, 0, 2], upstream: [8, -1, 0.5, 3],
                        values: [0.0078125, 0.03125, 0.21875, 0], dInput: [0.125, -0.25, -0.25, 0], dTarget: [-0.125, 0.25, 0.25, 0]),
        // non-finite, delta 1.5: e = [inf, -inf, NaN]: l = [inf, inf, NaN], d/dx = [1.5, -1.5, NaN].
        ElementwiseCase(name: "infinite and NaN differences", loss: .huber(HuberLoss(delta: 1.5)), shape: [3],
                        input: [.infinity, 0, .nan], target: [0, .infinity, 0], upstream: [1, 2, 1],
                        values: [.infinity, .infinity, .nan], dInput: [1.5, -1.5, .nan], dTarget: [-1.5, 1.5, .nan]),
        // scalar: e = -0.5, l = 0.125, d = -0.5.
        ElementwiseCase(name: "scalar", loss: .huber(HuberLoss()), shape: [],
                        input: [0], target: [0.5], upstream: [3],
                        values: [0.125], dInput: [-0.5], dTarget: [0.5]),
        ElementwiseCase(name: "empty", loss: .huber(HuberLoss()), shape: [0, 4],
                        input: [], target: [], upstream: [], values: [], dInput: [], dTarget: []),
    ]

    @Test(arguments: cases)
    func everyReduction(_ c: ElementwiseCase) throws {
        try ElementwiseHarness.checkEveryReduction(c)
    }

    @Test func classicMean() throws {
        // (0.125 + 0.5 + 1.5) / 3 = 0.708333...; d/dx = [-0.5, 1, 1] / 3
        let r = try Reference.evaluate(HuberLoss(), input: Tensor<Double>([2.5, 0, 4]), target: Tensor<Double>([3, -1, 2]), gradients: .input)
        #expect(Swift.abs(r.output.scalars[0] - 2.125 / 3) <= ElementwiseHarness.handTolerance * (2.125 / 3),
                "huber mean: expected 0.708333..., got \(r.output.scalars[0])")
        #expect(r.gradInput?.scalars == [-0.5 / 3, 1.0 / 3, 1.0 / 3])
    }

    @Test func isDeltaTimesSmoothL1() throws {
        // huber(delta) == delta * smooth_l1(beta: delta) elementwise, here delta = 2:
        // the quadratic pieces 0.5 e^2 vs 2 * (0.5 e^2 / 2), the linear 2 (|e| - 1) vs 2 (|e| - 1).
        let x = Tensor<Double>([0, 3, -1, 5, 7, 1.75]), y = Tensor<Double>([0.5, 0, 1, 0, 7, 0])
        let h = try Reference.evaluate(HuberLoss(reduction: .none, delta: 2), input: x, target: y, gradients: .input)
        let s = try Reference.evaluate(SmoothL1Loss(reduction: .none, beta: 2), input: x, target: y, gradients: .input)
        // Scaling by 2 is exact, and both evaluate their pieces with the same roundings up
        // to where the factor enters; allow the hand tolerance.
        for i in 0..<x.count {
            let hv = h.output.scalars[i], sv = 2 * s.output.scalars[i]
            #expect(Swift.abs(hv - sv) <= ElementwiseHarness.handTolerance * Swift.abs(hv), "huber vs 2 smooth_l1 at [\(i)]: \(hv) vs \(sv)")
            #expect(h.gradInput!.scalars[i] == 2 * s.gradInput!.scalars[i], "gradient at [\(i)]")
        }
    }

    @Test func errors() {
        let x = Tensor<Double>([1.0, 2])
        for delta in [0, -1, Double.infinity, .nan] {
            ElementwiseHarness.expectError(.option, mentioning: ["huber", "delta"]) {
                _ = try Reference.evaluate(HuberLoss(delta: delta), input: x, target: x)
            }
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["huber", "target", "[3]", "[2]"]) {
            _ = try Reference.evaluate(HuberLoss(), input: x, target: Tensor<Double>([1.0, 2, 3]))
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["huber", "upstream"]) {
            _ = try Reference.evaluate(HuberLoss(reduction: .none), input: x, target: x, upstream: Tensor(scalar: 1.0))
        }
        ElementwiseHarness.expectError(.option, mentioning: ["huber", "batchmean"]) {
            _ = try Reference.evaluate(HuberLoss(reduction: .batchmean), input: x, target: x)
        }
    }
}

import Testing
import ReferenceLosses

@Suite("Reference: l1")
struct L1Tests {
    static let cases: [ElementwiseCase] = [
        // e = [-0.5, 1, 2]: l = |e| = [0.5, 1, 2] (sum 3.5, mean 3.5/3 = 1.1666...);
        // d/dx = sign(e) = [-1, 1, 1], d/dy = -sign(e).
        ElementwiseCase(name: "classic", loss: .l1(L1Loss()), shape: [3],
                        input: [2.5, 0, 4], target: [3, -1, 2], upstream: [2, -3, 0.5],
                        values: [0.5, 1, 2], dInput: [-1, 1, 1], dTarget: [1, -1, -1]),
        // the kink: e = [0, 0, -0.75, 3] in a [2, 2] tensor: l = [0, 0, 0.75, 3] (sum 3.75),
        // d/dx = [0, 0, -1, 1] (sign(0) = 0, the minimum-norm subgradient, as PyTorch).
        ElementwiseCase(name: "kink at e = 0", loss: .l1(L1Loss()), shape: [2, 2],
                        input: [1, -2, 0.25, 3], target: [1, -2, 1, 0], upstream: [3, -1, 0.5, 2],
                        values: [0, 0, 0.75, 3], dInput: [0, 0, -1, 1], dTarget: [0, 0, 1, -1]),
        // non-finite: e = [inf, -inf, NaN]: l = [inf, inf, NaN]; d/dx = [1, -1, NaN]
        // (deviation 3: PyTorch gives 0 at NaN).
        ElementwiseCase(name: "infinite and NaN differences", loss: .l1(L1Loss()), shape: [3],
                        input: [.infinity, -.infinity, .nan], target: [0, 5, 1], upstream: [2, 2, 2],
                        values: [.infinity, .infinity, .nan], dInput: [1, -1, .nan], dTarget: [-1, 1, .nan]),
        // scalar: e = 3 - 5 = -2: l = 2, d/dx = -1.
        ElementwiseCase(name: "scalar", loss: .l1(L1Loss()), shape: [],
                        input: [3], target: [5], upstream: [-4],
                        values: [2], dInput: [-1], dTarget: [1]),
        // empty: sum 0, mean NaN.
        ElementwiseCase(name: "empty", loss: .l1(L1Loss()), shape: [0],
                        input: [], target: [], upstream: [], values: [], dInput: [], dTarget: []),
    ]

    @Test(arguments: cases)
    func everyReduction(_ c: ElementwiseCase) throws {
        try ElementwiseHarness.checkEveryReduction(c)
    }

    @Test func classicMean() throws {
        // (0.5 + 1 + 2) / 3 = 3.5 / 3 = 1.1666...; d/dx = sign(e) / 3 = [-1/3, 1/3, 1/3]
        let r = try Reference.evaluate(L1Loss(), input: Tensor<Double>([2.5, 0, 4]), target: Tensor<Double>([3, -1, 2]), gradients: .all)
        #expect(r.output.shape == [] && r.output.scalars[0] == 3.5 / 3)
        #expect(r.gradInput?.scalars == [-1.0 / 3, 1.0 / 3, 1.0 / 3])
        #expect(r.gradTarget?.scalars == [1.0 / 3, -1.0 / 3, -1.0 / 3])
    }

    @Test func emptyMeanIsNaNAndSumIsZero() throws {
        let x = try Tensor<Double>(shape: [3, 0], scalars: [])
        #expect(try Reference.evaluate(L1Loss(), input: x, target: x).output.scalars[0].isNaN)
        #expect(try Reference.evaluate(L1Loss(reduction: .sum), input: x, target: x).output.scalars == [0])
        #expect(try Reference.evaluate(L1Loss(reduction: .none), input: x, target: x).output.shape == [3, 0])
    }

    @Test func errors() {
        let x = Tensor<Double>([1.0, 2, 3])
        ElementwiseHarness.expectError(.shape, mentioning: ["l1", "target", "[1, 3]", "[3]"]) {
            _ = try Reference.evaluate(L1Loss(), input: x, target: try Tensor(shape: [1, 3], scalars: [1.0, 2, 3]))
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["l1", "upstream", "[3, 1]"]) {
            _ = try Reference.evaluate(L1Loss(reduction: .none), input: x, target: x,
                                       upstream: try Tensor(shape: [3, 1], scalars: [1.0, 1, 1]))
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["l1", "upstream", "[3]", "[]"]) {
            _ = try Reference.evaluate(L1Loss(reduction: .sum), input: x, target: x, upstream: x)
        }
        ElementwiseHarness.expectError(.option, mentioning: ["l1", "batchmean"]) {
            _ = try Reference.evaluate(L1Loss(reduction: .batchmean), input: x, target: x)
        }
    }
}

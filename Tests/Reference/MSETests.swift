import Testing
import ReferenceLosses

@Suite("Reference: mse")
struct MSETests {
    @Test func classicExample() throws {
        // (0.5^2 + 1^2 + 2^2) / 3 = 5.25 / 3 = 1.75
        let r = try Reference.evaluate(MSELoss(), input: Tensor<Double>([2.5, 0, 4]), target: Tensor<Double>([3, -1, 2]), gradients: .all)
        #expect(r.output.scalars == [1.75])
        // d/dx = 2 e / 3 with e = [-0.5, 1, 2]
        #expect(r.gradInput?.scalars == [-1.0 / 3, 2.0 / 3, 4.0 / 3])
        #expect(r.gradTarget?.scalars == [1.0 / 3, -2.0 / 3, -4.0 / 3])
    }

    static let cases: [ElementwiseCase] = [
        // e = [-0.5, 1, 2]: l = e^2 = [0.25, 1, 4] (sum 5.25, mean 1.75);
        // d/dx = 2e = [-1, 2, 4], d/dy = -2e.
        ElementwiseCase(name: "classic", loss: .mse(MSELoss()), shape: [3],
                        input: [2.5, 0, 4], target: [3, -1, 2], upstream: [2, -3, 0.5],
                        values: [0.25, 1, 4], dInput: [-1, 2, 4], dTarget: [1, -2, -4]),
        // rank 2, e = [[0, -3], [0.25, 1.5]]: l = [0, 9, 0.0625, 2.25] (sum 11.3125),
        // d/dx = [0, -6, 0.5, 3].
        ElementwiseCase(name: "rank 2 with a zero difference", loss: .mse(MSELoss()), shape: [2, 2],
                        input: [1, -1, 0.5, 2], target: [1, 2, 0.25, 0.5], upstream: [4, 0.5, -2, 1],
                        values: [0, 9, 0.0625, 2.25], dInput: [0, -6, 0.5, 3], dTarget: [0, 6, -0.5, -3]),
        // scalar: e = -2, l = 4, d/dx = -4.
        ElementwiseCase(name: "scalar", loss: .mse(MSELoss()), shape: [],
                        input: [1], target: [3], upstream: [-0.5],
                        values: [4], dInput: [-4], dTarget: [4]),
        // infinite and NaN differences: l = [inf, NaN], d/dx = [-inf, NaN].
        ElementwiseCase(name: "non-finite", loss: .mse(MSELoss()), shape: [2],
                        input: [-.infinity, .nan], target: [0, 1], upstream: [1, 1],
                        values: [.infinity, .nan], dInput: [-.infinity, .nan], dTarget: [.infinity, .nan]),
        // empty: sum 0, mean 0/0 = NaN, empty gradients.
        ElementwiseCase(name: "empty", loss: .mse(MSELoss()), shape: [2, 0],
                        input: [], target: [], upstream: [], values: [], dInput: [], dTarget: []),
    ]

    @Test(arguments: cases)
    func everyReduction(_ c: ElementwiseCase) throws {
        try ElementwiseHarness.checkEveryReduction(c)
    }

    @Test func emptyMeanIsNaNAndSumIsZero() throws {
        let x = try Tensor<Double>(shape: [0], scalars: [])
        let mean = try Reference.evaluate(MSELoss(), input: x, target: x, gradients: .all)
        #expect(mean.output.shape == [] && mean.output.scalars[0].isNaN)
        #expect(mean.gradInput?.shape == [0])
        let sum = try Reference.evaluate(MSELoss(reduction: .sum), input: x, target: x)
        #expect(sum.output.scalars == [0])
    }

    @Test func gradientsOnlyWhenRequested() throws {
        let x = Tensor<Double>([1.0, 2]), y = Tensor<Double>([0.0, 0])
        let none = try Reference.evaluate(MSELoss(), input: x, target: y)
        #expect(none.gradInput == nil && none.gradTarget == nil)
        let input = try Reference.evaluate(MSELoss(), input: x, target: y, gradients: .input)
        #expect(input.gradInput != nil && input.gradTarget == nil)
        let target = try Reference.evaluate(MSELoss(), input: x, target: y, gradients: .target)
        #expect(target.gradInput == nil && target.gradTarget != nil)
    }

    @Test func errors() {
        let x = Tensor<Double>([1.0, 2, 3])
        ElementwiseHarness.expectError(.shape, mentioning: ["mse", "target", "[2]", "[3]"]) {
            _ = try Reference.evaluate(MSELoss(), input: x, target: Tensor<Double>([1.0, 2]))
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["mse", "target", "[3, 1]"]) {
            _ = try Reference.evaluate(MSELoss(), input: x, target: try Tensor(shape: [3, 1], scalars: [1.0, 2, 3]))
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["mse", "upstream", "[2]", "[3]"]) {
            _ = try Reference.evaluate(MSELoss(reduction: .none), input: x, target: x, upstream: Tensor<Double>([1.0, 1]))
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["mse", "upstream", "[1]", "[]"]) {
            _ = try Reference.evaluate(MSELoss(reduction: .mean), input: x, target: x, upstream: Tensor<Double>([1.0]))
        }
        ElementwiseHarness.expectError(.option, mentioning: ["mse", "batchmean"]) {
            _ = try Reference.evaluate(MSELoss(reduction: .batchmean), input: x, target: x)
        }
    }
}

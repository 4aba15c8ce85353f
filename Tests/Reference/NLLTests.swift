import Foundation
import Testing
import ReferenceLosses

/// Worked examples for `nll`: `l_i = -w[y_i] input_i[y_i]`, mean over the non-ignored
/// targets' weights. The inputs are plain numbers (nll does not check that they are
/// log-probabilities), so every expected value is exact arithmetic written out below.
@Suite("Reference: nll")
struct NLLTests {
    typealias Check = ClassCheck
    /// Rows [-1, -2, -3] and [-0.5, -1.5, -2.5] with targets 0 and 2: l = [1, 2.5].
    static let input = try! Check.reals(shape: [2, 3], scalars: [-1, -2, -3, -0.5, -1.5, -2.5])
    static let target = Check.indices([0, 2])

    @Test func everyReduction() throws {
        let none = try Reference.evaluate(NLLLoss(reduction: .none), input: Self.input, target: Self.target, gradients: .all)
        Check.close(none.output, [1, 2.5], shape: [2], "none")
        // -1 at [i, y_i], 0 elsewhere
        Check.close(none.gradInput, [-1, 0, 0, 0, 0, -1], shape: [2, 3], "none gradient")
        #expect(none.gradTarget == nil, "class-index targets have no target gradient")

        let sum = try Reference.evaluate(NLLLoss(reduction: .sum), input: Self.input, target: Self.target, gradients: .input)
        Check.close(sum.output, [3.5], shape: [], "sum = 1 + 2.5")
        Check.close(sum.gradInput, [-1, 0, 0, 0, 0, -1], "sum gradient")

        let mean = try Reference.evaluate(NLLLoss(), input: Self.input, target: Self.target, gradients: .input)
        Check.close(mean.output, [1.75], shape: [], "mean = 3.5 / 2")
        Check.close(mean.gradInput, [-0.5, 0, 0, 0, 0, -0.5], "mean gradient = -1 / 2")
    }

    @Test func noneWithUpstream() throws {
        // upstream [2, -3]: gradient -g_i at [i, y_i] = [-2 at [0, 0], 3 at [1, 2]].
        let r = try Reference.evaluate(NLLLoss(reduction: .none), input: Self.input, target: Self.target,
                                       upstream: Check.reals([2, -3]), gradients: .input)
        Check.close(r.gradInput, [-2, 0, 0, 0, 0, 3], "none gradient, upstream [2, -3]")
    }

    @Test func weighted() throws {
        // w = [2, 1, 4]: l = [2 * 1, 4 * 2.5] = [2, 10]; sum 12; mean 12 / (2 + 4) = 2.
        let weight = Check.reals([2, 1, 4])
        let none = try Reference.evaluate(NLLLoss(reduction: .none, weight: weight), input: Self.input, target: Self.target)
        Check.close(none.output, [2, 10], "weighted none")
        let sum = try Reference.evaluate(NLLLoss(reduction: .sum, weight: weight), input: Self.input, target: Self.target)
        Check.close(sum.output, [12], "weighted sum")
        let mean = try Reference.evaluate(NLLLoss(weight: weight), input: Self.input, target: Self.target, gradients: .input)
        Check.close(mean.output, [2], "weighted mean, den = 6")
        // -w[y_i] / den: -2/6 at [0, 0], -4/6 at [1, 2]
        Check.close(mean.gradInput, [-2.0 / 6, 0, 0, 0, 0, -4.0 / 6], "weighted mean gradient")
    }

    @Test func ignoreIndex() throws {
        // Target [0, -100]: only row 0 counts. Without weights mean = 1 / 1; with w = [2, 1, 4]
        // mean = 2 / 2 (the ignored row's class weight is not in the denominator).
        let target = Check.indices([0, -100])
        let plain = try Reference.evaluate(NLLLoss(), input: Self.input, target: target, gradients: .input)
        Check.close(plain.output, [1], "ignored row, mean")
        Check.close(plain.gradInput, [-1, 0, 0, 0, 0, 0], "ignored row has gradient 0")
        let weighted = try Reference.evaluate(NLLLoss(weight: Check.reals([2, 1, 4])), input: Self.input, target: target)
        Check.close(weighted.output, [1], "ignored row, weighted mean = 2 / 2")
        // ignore_index may be a valid class: ignore class 2 -> row 1 ignored.
        let classTwo = try Reference.evaluate(NLLLoss(reduction: .none, ignoreIndex: 2), input: Self.input, target: Self.target)
        Check.close(classTwo.output, [1, 0], "ignore_index = 2")
    }

    @Test func allIgnored() throws {
        // mean = 0 / 0 = NaN, sum = 0, none = zeros; gradient 0, not NaN.
        let target = Check.indices([-100, -100])
        for (reduction, expected) in [(Reduction.none, [0.0, 0]), (.sum, [0]), (.mean, [.nan])] {
            let r = try Reference.evaluate(NLLLoss(reduction: reduction), input: Self.input, target: target, gradients: .input)
            Check.close(r.output, expected, "all ignored, \(reduction)")
            Check.close(r.gradInput, [0, 0, 0, 0, 0, 0], "all ignored gradient, \(reduction)")
        }
    }

    @Test func zeroTotalWeightIsUnguarded() throws {
        // w = [0, 1, 1], targets [0, 0]: den = 0, l = [0, 0]: mean 0 / 0 = NaN; gradient -0 / 0 = NaN
        // at [i, 0] (as PyTorch), 0 elsewhere.
        let loss = NLLLoss(weight: Check.reals([0, 1, 1]))
        let r = try Reference.evaluate(loss, input: Self.input, target: Check.indices([0, 0]), gradients: .input)
        Check.close(r.output, [.nan], "zero total weight")
        Check.close(r.gradInput, [.nan, 0, 0, .nan, 0, 0], "zero total weight gradient")
    }

    @Test func unbatchedAndKDimensional() throws {
        // [C] input [-1, -2, -3] with target 1 (shape []): l = 2, gradient [0, -1, 0].
        let unbatched = try Reference.evaluate(NLLLoss(reduction: .none), input: Check.reals([-1, -2, -3]), target: Tensor<Int>(scalar: 1), gradients: .input)
        Check.close(unbatched.output, [2], shape: [], "unbatched")
        Check.close(unbatched.gradInput, [0, -1, 0], shape: [3], "unbatched gradient")

        // [N = 1, C = 2, d1 = 2] laid out [n][c][s]: c0 = [-1, -2], c1 = [-3, -4]; target [[1, 0]]:
        // row s = 0 picks c1 -> 3, row s = 1 picks c0 -> 2. mean 2.5; gradient -1/2 at those entries.
        let input = try Check.reals(shape: [1, 2, 2], scalars: [-1, -2, -3, -4])
        let target = try Check.indices([1, 2], [1, 0])
        let none = try Reference.evaluate(NLLLoss(reduction: .none), input: input, target: target)
        Check.close(none.output, [3, 2], shape: [1, 2], "[N, C, d1] none")
        let mean = try Reference.evaluate(NLLLoss(), input: input, target: target, gradients: .input)
        Check.close(mean.output, [2.5], "[N, C, d1] mean")
        Check.close(mean.gradInput, [0, -0.5, -0.5, 0], shape: [1, 2, 2], "[N, C, d1] gradient")
    }

    @Test func inputIsNotChecked() throws {
        // Positive "log-probabilities" are accepted: l = -2. A -inf at the target gives +inf;
        // NaN propagates; entries other than the target's are never read.
        let r = try Reference.evaluate(NLLLoss(reduction: .none), input: try Check.reals(shape: [3, 2], scalars: [0.5, 2, -.infinity, .nan, .nan, 1]),
                                       target: Check.indices([1, 0, 0]))
        Check.close(r.output, [-2, .infinity, .nan], "unchecked input")
    }

    @Test func errors() {
        Check.error(.shape, naming: ["target", "[3]", "[2]"], "target of the wrong shape") {
            _ = try Reference.evaluate(NLLLoss(), input: Self.input, target: Check.indices([0, 1, 2]))
        }
        Check.error(.shape, naming: ["input", "[]"], "scalar input") {
            _ = try Reference.evaluate(NLLLoss(), input: Tensor<Double>(scalar: 1), target: Tensor<Int>(scalar: 0))
        }
        Check.error(.target, naming: ["nll", "target[1]", "= 5", "3 classes"], "index out of range") {
            _ = try Reference.evaluate(NLLLoss(), input: Self.input, target: Check.indices([0, 5]))
        }
        Check.error(.target, naming: ["target[0]", "= -100"], "the default ignore_index is not ignored once changed") {
            _ = try Reference.evaluate(NLLLoss(ignoreIndex: 1), input: Self.input, target: Check.indices([-100, 0]))
        }
        Check.error(.option, naming: ["weight", "[4]", "[3]"], "weight of the wrong length") {
            _ = try Reference.evaluate(NLLLoss(weight: Check.reals([1, 1, 1, 1])), input: Self.input, target: Self.target)
        }
        Check.error(.option, naming: ["batchmean"], "batchmean") {
            _ = try Reference.evaluate(NLLLoss(reduction: .batchmean), input: Self.input, target: Self.target)
        }
        Check.error(.shape, naming: ["upstream", "[]", "[2]"], "upstream of the wrong shape") {
            _ = try Reference.evaluate(NLLLoss(reduction: .none), input: Self.input, target: Self.target, upstream: Tensor<Double>(scalar: 1))
        }
    }
}

import Testing
import ReferenceLosses

private let ln2 = ElementwiseHarness.ln2

@Suite("Reference: gaussian_nll")
struct GaussianNLLTests {
    // x = [1, 2, 0, -1], y = [0, 2, 1, 1]: e = [1, 0, -1, -2].
    static let x = [1.0, 2, 0, -1], y = [0.0, 2, 1, 1]
    /// 0.5 log(2 pi) (mpmath).
    static let halfLog2Pi = 0.9189385332046728

    static let cases: [ElementwiseCase] = [
        // var = [1, 4, 0.25, 0], eps 1e-6: v = max(var, eps) = [1, 4, 0.25, 1e-6];
        // l = 0.5 (log v + e^2 / v):
        //   (e 1, v 1):      0.5 (0 + 1) = 0.5                d/dx = e / v = 1
        //   (e 0, v 4):      0.5 log 4 = ln2                  d/dx = 0
        //   (e -1, v 0.25):  0.5 (-2 ln2 + 4) = 2 - ln2       d/dx = -4
        //   (e -2, v 1e-6):  0.5 (log 1e-6 + 4 / 1e-6) = 1999993.092244721 (mpmath)
        //                                                      d/dx = -2 / 1e-6 = -2e6
        // d/dy = -d/dx. Condition: 2 - ln2 has (2 + 0.69) / 1.31 = 2.1.
        ElementwiseCase(name: "var clamped at eps", loss: .gaussianNLL(GaussianNLLLoss()), shape: [4],
                        input: x, target: y, variance: Tensor<Double>([1, 4, 0.25, 0]), upstream: [2, -1, 0.5, 3],
                        values: [0.5, ln2, 2 - ln2, 1999993.092244721],
                        dInput: [1, 0, -4, -2e6], dTarget: [-1, 0, 4, 2e6], condition: 3),
        // full adds 0.5 log(2 pi) = 0.9189385332046728 to each; (e -2, v 1e-6): 1999994.0111832544.
        ElementwiseCase(name: "full", loss: .gaussianNLL(GaussianNLLLoss(full: true)), shape: [4],
                        input: x, target: y, variance: Tensor<Double>([1, 4, 0.25, 0]), upstream: [1, 1, -2, 0.25],
                        values: [0.5 + halfLog2Pi, ln2 + halfLog2Pi, 2 - ln2 + halfLog2Pi, 1999994.0111832544],
                        dInput: [1, 0, -4, -2e6], dTarget: [-1, 0, 4, 2e6], condition: 3),
        // input [2, 2], var [2] = the input's shape without its last dimension: one variance
        // per row, v = [1, 1, 4, 4] (not per column, although [2] would also broadcast so):
        //   (e 1, v 1): 0.5;  (e 0, v 1): 0;  (e -1, v 4): 0.5 (ln 4 + 0.25) = ln2 + 0.125;
        //   (e -2, v 4): 0.5 (ln 4 + 1) = ln2 + 0.5.   d/dx = e / v = [1, 0, -0.25, -0.5]
        ElementwiseCase(name: "var without the last dimension", loss: .gaussianNLL(GaussianNLLLoss()), shape: [2, 2],
                        input: x, target: y, variance: Tensor<Double>([1, 4]), upstream: [2, 1, -1, 4],
                        values: [0.5, 0, ln2 + 0.125, ln2 + 0.5],
                        dInput: [1, 0, -0.25, -0.5], dTarget: [-1, 0, 0.25, 0.5]),
        // var [2, 1]: the same per-row variances.
        ElementwiseCase(name: "var [N, 1]", loss: .gaussianNLL(GaussianNLLLoss()), shape: [2, 2],
                        input: x, target: y, variance: try! Tensor(shape: [2, 1], scalars: [1, 4]), upstream: [2, 1, -1, 4],
                        values: [0.5, 0, ln2 + 0.125, ln2 + 0.5],
                        dInput: [1, 0, -0.25, -0.5], dTarget: [-1, 0, 0.25, 0.5]),
        // var [1, 2]: one variance per column, v = [1, 4, 1, 4]:
        //   0.5;  0.5 ln 4 = ln2;  0.5 (0 + 1) = 0.5;  0.5 (ln 4 + 4 / 4) = ln2 + 0.5.  d/dx = [1, 0, -1, -0.5]
        ElementwiseCase(name: "var with a dimension of size 1", loss: .gaussianNLL(GaussianNLLLoss()), shape: [2, 2],
                        input: x, target: y, variance: try! Tensor(shape: [1, 2], scalars: [1, 4]), upstream: [1, 3, 0.5, -2],
                        values: [0.5, ln2, 0.5, ln2 + 0.5],
                        dInput: [1, 0, -1, -0.5], dTarget: [-1, 0, 1, 0.5]),
        // input [3], var [] (the input's shape without its last dimension): v = 4 throughout;
        // e = [2, -4, 0]: l = 0.5 (ln 4 + e^2 / 4) = [ln2 + 0.5, ln2 + 2, ln2]; d/dx = e / 4.
        ElementwiseCase(name: "one variance for a vector", loss: .gaussianNLL(GaussianNLLLoss()), shape: [3],
                        input: [3, -3, 7], target: [1, 1, 7], variance: Tensor(scalar: 4.0), upstream: [1, 2, 3],
                        values: [ln2 + 0.5, ln2 + 2, ln2], dInput: [0.5, -1, 0], dTarget: [-0.5, 1, 0]),
        // scalar: x = 3, y = 1, var = 2: 0.5 (ln2 + 4 / 2) = 0.5 ln2 + 1 = 1.3465735902799727; d/dx = 2 / 2 = 1.
        ElementwiseCase(name: "scalar", loss: .gaussianNLL(GaussianNLLLoss()), shape: [],
                        input: [3], target: [1], variance: Tensor(scalar: 2.0), upstream: [-3],
                        values: [1.3465735902799727], dInput: [1], dTarget: [-1]),
        // NaN variance is not rejected (NaN < 0 is false, as PyTorch) and propagates;
        // an infinite difference: l = inf, d/dx = inf.
        ElementwiseCase(name: "non-finite", loss: .gaussianNLL(GaussianNLLLoss()), shape: [2],
                        input: [0, .infinity], target: [0, 0], variance: Tensor<Double>([.nan, 1]), upstream: [1, 1],
                        values: [.nan, .infinity], dInput: [.nan, .infinity], dTarget: [.nan, -.infinity]),
        ElementwiseCase(name: "empty", loss: .gaussianNLL(GaussianNLLLoss()), shape: [0, 3],
                        input: [], target: [], variance: try! Tensor(shape: [0, 3], scalars: []), upstream: [],
                        values: [], dInput: [], dTarget: []),
    ]

    @Test(arguments: cases)
    func everyReduction(_ c: ElementwiseCase) throws {
        try ElementwiseHarness.checkEveryReduction(c)
    }

    @Test func errors() {
        let square = try! Tensor(shape: [2, 2], scalars: [1.0, 2, 3, 4])
        ElementwiseHarness.expectError(.input, mentioning: ["gaussian_nll", "var[1]", "negative"]) {
            _ = try Reference.evaluate(GaussianNLLLoss(), input: square, target: square, variance: Tensor<Double>([1.0, -0.5]))
        }
        for shape in [[3], [], [2, 2, 1], [1, 1]] {
            let variance = try! Tensor(repeating: 1.0, shape: shape)
            ElementwiseHarness.expectError(.shape, mentioning: ["gaussian_nll", "var", Shape.describe(shape)]) {
                _ = try Reference.evaluate(GaussianNLLLoss(), input: square, target: square, variance: variance)
            }
        }
        for eps in [0, -1e-6, .infinity, .nan] {
            ElementwiseHarness.expectError(.option, mentioning: ["gaussian_nll", "eps"]) {
                _ = try Reference.evaluate(GaussianNLLLoss(eps: eps), input: square, target: square, variance: square)
            }
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["gaussian_nll", "target", "[4]"]) {
            _ = try Reference.evaluate(GaussianNLLLoss(), input: square, target: Tensor<Double>([1.0, 2, 3, 4]), variance: square)
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["gaussian_nll", "upstream"]) {
            _ = try Reference.evaluate(GaussianNLLLoss(reduction: .none), input: square, target: square, variance: square,
                                       upstream: Tensor<Double>([1.0, 1, 1, 1]))
        }
        ElementwiseHarness.expectError(.option, mentioning: ["gaussian_nll", "batchmean"]) {
            _ = try Reference.evaluate(GaussianNLLLoss(reduction: .batchmean), input: square, target: square, variance: square)
        }
    }
}

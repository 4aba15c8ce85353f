import Testing
import ReferenceLosses

private let ln2 = ElementwiseHarness.ln2, ln3 = ElementwiseHarness.ln3

@Suite("Reference: bce")
struct BCETests {
    /// PyTorch's float constant 1e-12 as a double (numpy: float(np.float32(1e-12))).
    static let eps12 = 9.999999960041972e-13

    // x = [0.25, 0.5, 0.75, 0.5], y = [1, 0, 0.25, 0.5]:
    //   l = -[y log x + (1 - y) log(1 - x)]
    //     (0.25, 1):    -log 0.25 = 2 ln2
    //     (0.5, 0):     -log 0.5 = ln2
    //     (0.75, 0.25): -(0.25 log 0.75 + 0.75 log 0.25) = -0.25 (ln3 - 2 ln2) + 1.5 ln2 = 2 ln2 - 0.25 ln3
    //     (0.5, 0.5):   ln2
    //   d/dx = (x - y) / (x (1 - x)): -0.75 / 0.1875 = -4; 0.5 / 0.25 = 2; 0.5 / 0.1875 = 8/3; 0
    //   d/dy = log(1 - x) - log x: ln3; 0; -ln3; 0
    // sum = 6 ln2 - 0.25 ln3, mean = (6 ln2 - 0.25 ln3) / 4.
    static let x = [0.25, 0.5, 0.75, 0.5], y = [1, 0, 0.25, 0.5]
    static let l = [2 * ln2, ln2, 2 * ln2 - 0.25 * ln3, ln2]
    static let dx = [-4, 2, 8.0 / 3, 0], dy = [ln3, 0, -ln3, 0]
    /// 2 ln2 - 0.25 ln3 and log 0.25 - log 0.75 both have (terms) / (result) = 1.5.
    static let condition = 2.0

    static let cases: [ElementwiseCase] = [
        ElementwiseCase(name: "classic", loss: .bce(BCELoss()), shape: [4],
                        input: x, target: y, upstream: [2, -1, 0.5, 3], values: l, dInput: dx, dTarget: dy,
                        condition: condition),
        // weight [2, 0.5] (shape [C]) over [N, C] = [2, 2]: w = [2, 0.5, 2, 0.5] times the above.
        ElementwiseCase(name: "weight [C] over [N, C]", loss: .bce(BCELoss(weight: Tensor<Double>([2, 0.5]))), shape: [2, 2],
                        input: x, target: y, upstream: [1, 2, -1, 0.25],
                        values: zip(l, [2, 0.5, 2, 0.5]).map(*), dInput: zip(dx, [2, 0.5, 2, 0.5]).map(*),
                        dTarget: zip(dy, [2, 0.5, 2, 0.5]).map(*), condition: condition),
        // weight [[2], [0.5]] (shape [N, 1]): w = [2, 2, 0.5, 0.5].
        ElementwiseCase(name: "weight [N, 1]", loss: .bce(BCELoss(weight: try! Tensor(shape: [2, 1], scalars: [2, 0.5])))
                        , shape: [2, 2],
                        input: x, target: y, upstream: [1, 2, -1, 0.25],
                        values: zip(l, [2, 2, 0.5, 0.5]).map(*), dInput: zip(dx, [2, 2, 0.5, 0.5]).map(*),
                        dTarget: zip(dy, [2, 2, 0.5, 0.5]).map(*), condition: condition),
        // The -100 clamp, weight 3 (shape []): x = [0, 1, 0, 1, 1e-50], y = [1, 0, 0, 1, 1]
        //   (0, 1): -(1 * max(-inf, -100)) = 100 -> 300;  (1, 0): -(1 * max(log1p(-1) = -inf, -100)) = 100 -> 300
        //   (0, 0), (1, 1): 0;  (1e-50, 1): log(1e-50) = -115.1 is clamped: 100 -> 300
        //   d/dx = 3 (x - y) / max(x (1 - x), eps12): -3/eps12, 3/eps12, 0, 0, 3 (1e-50 - 1)/eps12 = -3/eps12
        //   (PyTorch's gradient, not the derivative of the clamped value)
        //   d/dy = 3 (log1p(-x) - log x), unclamped: +inf, -inf, +inf, -inf, 3 * 50 ln 10
        ElementwiseCase(name: "clamp at 0 and 1", loss: .bce(BCELoss(weight: Tensor(scalar: 3.0))), shape: [5],
                        input: [0, 1, 0, 1, 1e-50], target: [1, 0, 0, 1, 1], upstream: [1, -2, 0.5, 4, 0.25],
                        values: [300, 300, 0, 0, 300],
                        dInput: [-3 / eps12, 3 / eps12, 0, 0, -3 / eps12],
                        dTarget: [.infinity, -.infinity, .infinity, -.infinity, 3 * 115.12925464970229]),
        // Tiny x without the clamp: x = 1e-40, y = 0: l = -log1p(-1e-40) = 1e-40;
        // d/dx = 1e-40 / max(1e-40, eps12) = 1e-40 / eps12; d/dy = log1p(-1e-40) - log(1e-40) = 40 ln 10 (mpmath: 92.10340371976183).
        ElementwiseCase(name: "tiny input", loss: .bce(BCELoss()), shape: [1],
                        input: [1e-40], target: [0], upstream: [2],
                        values: [1e-40], dInput: [1e-40 / eps12], dTarget: [92.10340371976183]),
        // scalar: x = 0.5, y = 1: l = ln2, d/dx = -0.5 / 0.25 = -2, d/dy = 0.
        ElementwiseCase(name: "scalar", loss: .bce(BCELoss()), shape: [],
                        input: [0.5], target: [1], upstream: [3], values: [ln2], dInput: [-2], dTarget: [0]),
        ElementwiseCase(name: "empty", loss: .bce(BCELoss(weight: Tensor<Double>([2.0]))), shape: [0, 1],
                        input: [], target: [], upstream: [], values: [], dInput: [], dTarget: []),
    ]

    @Test(arguments: cases)
    func everyReduction(_ c: ElementwiseCase) throws {
        try ElementwiseHarness.checkEveryReduction(c)
    }

    @Test func eps12IsTheFloatConstant() {
        #expect(Self.eps12 == Double(Float(1e-12)))
    }

    @Test func clampLossAndGradientAsPyTorch() throws {
        // Unweighted: a certain wrong prediction costs exactly 100, gradient -+1/eps12.
        let r = try Reference.evaluate(BCELoss(reduction: .none), input: Tensor<Double>([0.0, 1]), target: Tensor<Double>([1.0, 0]), gradients: .input)
        #expect(r.output.scalars == [100, 100])
        #expect(r.gradInput?.scalars == [-1 / Self.eps12, 1 / Self.eps12])
    }

    @Test func errors() {
        let x = Tensor<Double>([0.5, 0.25])
        for bad in [1.5, -0.1, .nan, .infinity] {
            ElementwiseHarness.expectError(.input, mentioning: ["bce", "input[1]", "[0, 1]"]) {
                _ = try Reference.evaluate(BCELoss(), input: Tensor<Double>([0.5, bad]), target: x)
            }
            ElementwiseHarness.expectError(.target, mentioning: ["bce", "target[0]", "[0, 1]"]) {
                _ = try Reference.evaluate(BCELoss(), input: x, target: Tensor<Double>([bad, 0.5]))
            }
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["bce", "target", "[3]", "[2]"]) {
            _ = try Reference.evaluate(BCELoss(), input: x, target: Tensor<Double>([0.5, 0.5, 0.5]))
        }
        let square = try! Tensor(shape: [2, 2], scalars: [0.5, 0.5, 0.5, 0.5])
        ElementwiseHarness.expectError(.shape, mentioning: ["bce", "weight", "[3]"]) {
            _ = try Reference.evaluate(BCELoss(weight: Tensor<Double>([1.0, 2, 3])), input: square, target: square)
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["bce", "weight", "[1, 2, 2]"]) {
            _ = try Reference.evaluate(BCELoss(weight: try Tensor(repeating: 1.0, shape: [1, 2, 2])), input: square, target: square)
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["bce", "upstream"]) {
            _ = try Reference.evaluate(BCELoss(reduction: .none), input: x, target: x, upstream: Tensor<Double>([1.0]))
        }
        ElementwiseHarness.expectError(.option, mentioning: ["bce", "batchmean"]) {
            _ = try Reference.evaluate(BCELoss(reduction: .batchmean), input: x, target: x)
        }
    }
}

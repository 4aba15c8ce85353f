import Foundation
import Testing
import ReferenceLosses
import LossVerification

/// Dual numbers against derivatives worked out by hand, and run through the reference mse.
@Suite("Dual numbers: forward-mode derivatives")
struct DualTests {
    /// Derivatives are exact up to a few roundings: 4 ulps of the expected magnitude.
    func close(_ actual: Double, _ expected: Double, ulps: Double = 4) -> Bool {
        (actual - expected).magnitude <= ulps * Double.ulpOfOne * max(expected.magnitude, Double.leastNormalMagnitude)
    }

    @Test func arithmeticRules() {
        let x = Dual.variable(3)
        #expect((x * x).derivative == 6)                 // (x^2)' = 2x
        #expect((x + Dual(2)).derivative == 1)
        #expect((Dual(2) - x).derivative == -1)
        #expect((-x).derivative == -1)
        #expect((Dual(1) / Dual.variable(4)).derivative == -1.0 / 16)   // (1/x)' = -1/x^2
        #expect((x * x * x / x).derivative == 6)        // x^2 through a quotient: 2x
        #expect((x * x).value == 9)
    }

    @Test func elementaryFunctionRules() {
        #expect(close(Dual.exp(.variable(0.5)).derivative, Foundation.exp(0.5)))
        #expect(Dual.log(.variable(2)).derivative == 0.5)
        // log1p'(x) = 1/(1+x); expm1'(x) = e^x; near 0 both keep full accuracy.
        #expect(close(Dual.log1p(.variable(1e-10)).derivative, 1 / (1 + 1e-10)))
        #expect(close(Dual.expm1(.variable(1e-10)).derivative, Foundation.exp(1e-10)))
        #expect(Dual.expm1(.variable(1e-10)).value == Foundation.expm1(1e-10))
        #expect(Dual.sqrt(.variable(4)).derivative == 0.25)   // 1 / (2 sqrt 4)
    }

    @Test func chainRuleThroughTheLossRealHelpers() {
        // softplus(x) = log1p(exp(x)), derivative sigmoid(x) = 1 / (1 + e^-x).
        let x = 0.75
        let softplus = Dual.log1p(Dual.exp(.variable(x)))
        #expect(close(softplus.derivative, 1 / (1 + Foundation.exp(-x))))
        // logSigmoid'(x) = 1 - sigmoid(x) = sigmoid(-x), at x = -2 and x = 3 (both branches).
        for x in [-2.0, 3.0] {
            let d = Dual.logSigmoid(.variable(x)).derivative
            #expect(close(d, 1 / (1 + Foundation.exp(x)), ulps: 8), "x = \(x): \(d)")
        }
        // sigmoid' = s (1 - s) on both branches of the helper.
        for x in [-1.5, 2.0] {
            let s = 1 / (1 + Foundation.exp(-x))
            #expect(close(Dual.sigmoid(.variable(x)).derivative, s * (1 - s), ulps: 8))
        }
    }

    @Test func comparisonsLookAtTheValueOnly() {
        #expect(Dual(value: 1, derivative: 5) == Dual(1))
        #expect(Dual(value: 1, derivative: 5) < Dual(value: 2, derivative: -7))
        #expect(!(Dual(value: .nan, derivative: 0) < Dual(0)))
        #expect(Dual(value: .nan, derivative: 1).isNaN && Dual(value: 1, derivative: .nan).isFinite)
        // |x| at 0 passes the derivative through; sign is a constant.
        #expect(Dual.abs(Dual(value: -2, derivative: 1)).derivative == -1)
        #expect(Dual.sign(Dual.variable(3)).derivative == 0)
    }

    @Test func strongZeroKeepsConstantsConstant() {
        // A constant (derivative 0) times an infinite value: derivative 0, not 0 * inf = NaN.
        let product = Dual(2) * Dual(value: .infinity, derivative: 0)
        #expect(product.value == .infinity && product.derivative == 0)
        let quotient = Dual(1) / Dual(value: 0, derivative: 0)
        #expect(quotient.value == .infinity && quotient.derivative == 0)
    }

    @Test func conversions() throws {
        #expect(Dual(Float(0.5)).value == 0.5 && Dual(Float(0.5)).derivative == 0)
        #expect(Dual(3).doubleValue == 3)      // LossReal's Int initializer
        let seeded = Dual.seed([1, 2, 3], direction: [0, 1])
        #expect(seeded.map(\.derivative) == [0, 1, 0])
        let t = try Dual.seed(Tensor(shape: [2], scalars: [1.0, 2]), direction: Tensor([0.5, -1]))
        #expect(t.values.scalars == [1, 2] && t.derivatives.scalars == [0.5, -1])
        #expect(throws: LossError.self) { try Dual.seed(Tensor([1.0, 2]), direction: Tensor([1.0])) }
    }

    @Test func directionalDerivativeOfTheReferenceMSE() throws {
        // mse mean of x = [2.5, 0, 4], y = [3, -1, 2]: e = [-0.5, 1, 2], grad = 2e/3
        // = [-1/3, 2/3, 4/3]. Along u = [1, 2, -1]: J u = -1/3 + 4/3 - 4/3 = -1/3.
        let x = try Dual.seed(Tensor([2.5, 0, 4]), direction: Tensor([1, 2, -1]))
        let y = Tensor([3.0, -1, 2]).map(Dual.init)
        let r = try Reference.evaluate(MSELoss(), input: x, target: y)
        #expect(r.output.scalars[0].value == 1.75)   // (0.25 + 1 + 4) / 3
        #expect(close(r.output.scalars[0].derivative, -1.0 / 3), "\(r.output.scalars[0])")

        // Along the target instead: d/dy = -d/dx, so -J u = 1/3.
        let xc = Tensor([2.5, 0, 4]).map(Dual.init)
        let ys = try Dual.seed(Tensor([3.0, -1, 2]), direction: Tensor([1, 2, -1]))
        let rt = try Reference.evaluate(MSELoss(), input: xc, target: ys)
        #expect(close(rt.output.scalars[0].derivative, 1.0 / 3))
    }

    @Test func reductionNoneGivesTheDiagonal() throws {
        // none: l_i = e_i^2, so d l_i = 2 e_i u_i: e = [-0.5, 1, 2], u = [1, 2, -1] -> [-1, 4, -4].
        let x = try Dual.seed(Tensor([2.5, 0, 4]), direction: Tensor([1, 2, -1]))
        let y = Tensor([3.0, -1, 2]).map(Dual.init)
        let r = try Reference.evaluate(MSELoss(reduction: .none), input: x, target: y)
        #expect(r.output.derivatives.scalars == [-1, 4, -4])
    }

    @Test func dualAgreesWithTheReferenceGradientOnGeneratedCases() throws {
        // Each coordinate's dual derivative is one column of J, i.e. one entry of the
        // analytic gradient (sum reduction: grad_j = 2 e_j). Both are exact to rounding.
        let env = TestEnvironment.current
        var rng = SeededGenerator(seed: env.seed)
        for _ in 0..<20 {
            let n = rng.int(in: 1...8)
            let x = (0..<n).map { _ in rng.normal() }, y = (0..<n).map { _ in rng.normal() }
            for j in 0..<n {
                var u = Array(repeating: 0.0, count: n)
                u[j] = 1
                let r = try Reference.evaluate(MSELoss(reduction: .sum), input: Tensor(Dual.seed(x, direction: u)),
                                               target: Tensor(y.map(Dual.init)))
                let expected = 2 * (x[j] - y[j])  // exact: the difference of two doubles, times 2
                #expect(close(r.output.scalars[0].derivative, expected, ulps: 1),
                        "seed \(TestEnvironment.hex(env.seed)), j = \(j): \(r.output.scalars[0].derivative) vs \(expected)")
            }
        }
    }
}

import Foundation
import Testing
import LossVerification

/// Richardson-extrapolated central differences against derivatives known in closed form.
/// The claim under test is the error estimate's honesty: the true error never exceeds it.
@Suite("Finite differences: Richardson with honest error estimates")
struct FiniteDifferenceTests {
    struct Known: CustomTestStringConvertible, Sendable {
        let name: String
        let f: @Sendable (Double) -> Double
        let x: Double
        /// The derivative worked out by hand, evaluated in Double.
        let exact: Double
        /// Whether the point is well scaled (higher derivatives of order 1 relative to
        /// the step), so that the estimate must also be small, not only honest.
        let wellScaled: Bool
        var testDescription: String { "\(name) at \(x)" }
    }

    static let known: [Known] = [
        Known(name: "exp", f: { Foundation.exp($0) }, x: 1, exact: M_E, wellScaled: true),            // (e^x)' = e^x
        Known(name: "sin", f: { Foundation.sin($0) }, x: 2, exact: Foundation.cos(2), wellScaled: true),
        Known(name: "log", f: { Foundation.log($0) }, x: 3, exact: 1.0 / 3, wellScaled: true),
        Known(name: "x^3", f: { $0 * $0 * $0 }, x: -1.5, exact: 6.75, wellScaled: true),             // 3 * 2.25
        Known(name: "softplus", f: { Foundation.log1p(Foundation.exp($0)) }, x: 3,
              exact: 1 / (1 + Foundation.exp(-3)), wellScaled: true),                                 // sigmoid(3)
        Known(name: "x^2 (large x)", f: { $0 * $0 }, x: 1e6, exact: 2e6, wellScaled: true),
        Known(name: "exp(x/1000)", f: { Foundation.exp($0 / 1000) }, x: 1000, exact: M_E / 1000, wellScaled: true),
        Known(name: "constant", f: { _ in 5 }, x: 1, exact: 0, wellScaled: true),
        // 1/x near 0: the step is not small against x, higher derivatives are huge; the
        // estimate must still cover the error (it does, by ~3 orders of magnitude).
        Known(name: "1/x", f: { 1 / $0 }, x: 0.1, exact: -100, wellScaled: false),
        Known(name: "1/x", f: { 1 / $0 }, x: 0.03, exact: -1 / 0.0009, wellScaled: false),
        Known(name: "tanh(20x)", f: { Foundation.tanh(20 * $0) }, x: 0.05,
              exact: 20 * (1 - Foundation.pow(Foundation.tanh(1), 2)), wellScaled: false),
    ]

    @Test(arguments: known)
    func errorEstimateIsHonest(_ k: Known) {
        let d = FiniteDifferences.derivative(of: k.f, at: k.x)
        let trueError = (d.value - k.exact).magnitude
        #expect(trueError <= d.error, "\(k.name) at \(k.x): \(d) vs exact \(k.exact), true error \(trueError)")
        if k.wellScaled {
            // Usefulness: the estimate bounds the h^4-order tableau entry, ~(h/2)^4 = 2^-32
            // ~ 2.3e-10 times a fifth-derivative scale of order 1, plus rounding ~1e-11.
            #expect(d.error <= 1e-9 * max(k.exact.magnitude, 1), "\(k.name): estimate \(d.error) too loose to be useful")
        }
    }

    @Test func kinkInsideTheStepGivesNoEstimate() {
        // |x| at 1e-4: the step 2^-7 straddles the kink; the differences double with each
        // halving instead of shrinking 4x, so no error estimate exists.
        let d = FiniteDifferences.derivative(of: { $0.magnitude }, at: 1e-4)
        #expect(d.error == .infinity, "\(d)")
    }

    @Test func curvatureJumpWithinTheStepStaysHonest() {
        // Huber (delta 1) at e = 1.001: continuous slope (exactly 1 at this point), jump
        // in the second derivative inside the step. The estimate must cover the error.
        let huber = { (e: Double) in e.magnitude < 1 ? 0.5 * e * e : e.magnitude - 0.5 }
        let d = FiniteDifferences.derivative(of: huber, at: 1.001)
        #expect((d.value - 1).magnitude <= d.error, "\(d)")
    }

    @Test func nonFiniteSamplesGiveNoEstimate() {
        // log at 1e-3 with h = 2^-7: log(x - h) is NaN.
        let d = FiniteDifferences.derivative(of: { Foundation.log($0) }, at: 1e-3)
        #expect(d.value.isNaN && d.error == .infinity, "\(d)")
    }

    @Test func stepIsAPowerOfTwoScaledToTheCoordinate() {
        #expect(FiniteDifferences.step(at: 0.3) == 0x1p-7)      // max(|x|, 1) = 1
        #expect(FiniteDifferences.step(at: 0) == 0x1p-7)
        #expect(FiniteDifferences.step(at: 1000) == 4)          // 1000 / 128 = 7.8 -> 4
        #expect(FiniteDifferences.step(at: -1e6) == 4096)       // 1e6 / 128 = 7812.5 -> 2^12
        #expect(FiniteDifferences.step(at: .nan).isNaN)
        #expect(FiniteDifferences.step(at: .infinity).isNaN)
    }

    @Test func stepsAreExactForFloatRepresentablePoints() {
        // x +- h and the halved steps are exact for Float-representable |x| >= 2^-30 (24
        // significant bits plus the step's span fit in 53), so the realized step is the
        // nominal one.
        var rng = SeededGenerator(seed: 7)
        for i in 0..<2000 {
            let x = i == 0 ? 0 : Double(Float(rng.logUniform(0x1p-30, 1e30)))
            let h = FiniteDifferences.step(at: x)
            for level in 0..<3 {
                let hk = h / Double(1 << level)
                #expect((x + hk) - x == hk && x - (x - hk) == hk, "x = \(x), h = \(hk)")
            }
        }
    }

    @Test func jacobianOfAVectorFunction() {
        // f(x) = [x0 x1, sin x0, x1^2]; J = [[x1, x0], [cos x0, 0], [0, 2 x1]].
        let x = [0.5, -2.0]
        let f = { (x: [Double]) in [x[0] * x[1], Foundation.sin(x[0]), x[1] * x[1]] }
        let exact = [[-2.0, 0.5], [Foundation.cos(0.5), 0], [0, -4]]
        let j = FiniteDifferences.jacobian(of: f, at: x)
        #expect(j.outputs == 3 && j.inputs == 2)
        for k in 0..<3 {
            for i in 0..<2 {
                let e = j[output: k, input: i]
                #expect((e.value - exact[k][i]).magnitude <= e.error, "J[\(k)][\(i)] = \(e) vs \(exact[k][i])")
            }
        }
    }

    @Test func gradientOfAScalarFunction() {
        // f = x0^2 x1 + exp(x2); grad = [2 x0 x1, x0^2, exp(x2)].
        let x = [1.5, -0.5, 0.25]
        let g = FiniteDifferences.gradient(of: { $0[0] * $0[0] * $0[1] + Foundation.exp($0[2]) }, at: x)
        let exact = [-1.5, 2.25, Foundation.exp(0.25)]
        for i in 0..<3 {
            #expect((g[i].value - exact[i]).magnitude <= g[i].error, "d/dx\(i): \(g[i]) vs \(exact[i])")
        }
    }

    @Test func projectionMatchesTheExactBilinearForm() {
        // f(x) = [x0 x1, x1 x2]; J = [[x1, x0, 0], [0, x2, x1]].
        // v^T J u with u = [1, -0.5, 2], v = [0.75, -1.25] at x = [1, 2, 3]:
        // J u = [2*1 + 1*(-0.5), 3*(-0.5) + 2*2] = [1.5, 2.5]; v . Ju = 1.125 - 3.125 = -2.
        let f = { (x: [Double]) in [x[0] * x[1], x[1] * x[2]] }
        let p = FiniteDifferences.projection(of: f, at: [1, 2, 3], direction: [1, -0.5, 2], cotangent: [0.75, -1.25])
        #expect((p.value - -2).magnitude <= p.error, "\(p)")
        #expect(p.error <= 1e-9, "\(p)")  // bilinear in each direction: only rounding remains
    }
}

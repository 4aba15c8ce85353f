import Foundation
import Testing
import ReferenceLosses
import LossVerification

/// The public gradient checker on the reference mse: the correct gradient passes both
/// oracles, deliberately broken gradients fail both, in full and projection mode.
@Suite("GradientChecker: correct and broken gradients")
struct GradientCheckerTests {
    /// A mse "model" at a seeded point, with its value, gradient (correct or broken) and
    /// dual-number version.
    struct MSEProblem {
        let x: [Double], y: [Double]
        let reduction: Reduction

        init(count: Int, reduction: Reduction = .mean, seed: UInt64) {
            var rng = SeededGenerator(seed: seed)
            x = (0..<count).map { _ in rng.normal() }
            y = (0..<count).map { _ in rng.normal() }
            self.reduction = reduction
        }

        func value(_ x: [Double]) throws -> Double {
            try Reference.evaluate(MSELoss(reduction: reduction), input: Tensor(x), target: Tensor(y)).output.scalars[0]
        }
        func gradient(_ x: [Double]) throws -> [Double] {
            try Reference.evaluate(MSELoss(reduction: reduction), input: Tensor(x), target: Tensor(y), gradients: .input)
                .gradInput?.scalars ?? []
        }
        func dual(_ x: [Dual]) throws -> Dual {
            try Reference.evaluate(MSELoss(reduction: reduction), input: Tensor(x), target: Tensor(y.map(Dual.init)))
                .output.scalars[0]
        }
    }

    let seed = TestEnvironment.current.seed

    @Test func correctGradientPassesBothOracles() throws {
        let p = MSEProblem(count: 7, seed: seed)
        let report = try GradientChecker.check(at: p.x, value: p.value, gradient: p.gradient, dual: p.dual)
        #expect(report.passed, "seed \(TestEnvironment.hex(seed)): \(report)")
        #expect(report.mode == .full && report.oracles.count == 2)
        // 1 evaluation at x, then 2 * 3 levels per coordinate; one gradient; one dual per coordinate.
        #expect(report.valueEvaluations == 1 + 6 * 7 && report.gradientEvaluations == 1 && report.dualEvaluations == 7)
        // mse is quadratic: Richardson is exact up to rounding, far inside the tolerance.
        for oracle in report.oracles {
            #expect(oracle.headroom < 0.01, "\(oracle)")
        }
    }

    @Test func flippedSignFailsBothOraclesAtEveryCoordinate() throws {
        let p = MSEProblem(count: 5, seed: seed)
        let report = try GradientChecker.check(at: p.x, value: p.value, gradient: { try p.gradient($0).map { -$0 } }, dual: p.dual)
        #expect(!report.passed, "\(report)")
        for oracle in report.oracles {
            #expect(!oracle.passed && oracle.mismatches == 5, "\(oracle)")
            // The worst entry shows both values: opposite signs, same magnitude.
            let worst = try #require(oracle.worst)
            #expect((worst.analytic + worst.oracle).magnitude <= 1e-9 * worst.oracle.magnitude, "\(worst)")
        }
        #expect(report.description.contains("FAILED") && report.description.contains("dual numbers"))
    }

    @Test func missingOneOverNFails() throws {
        // grad = 2e instead of 2e/n: off by a factor n = 6 everywhere.
        let p = MSEProblem(count: 6, seed: seed)
        let report = try GradientChecker.check(at: p.x, value: p.value, gradient: { try p.gradient($0).map { $0 * 6 } }, dual: p.dual)
        #expect(!report.passed)
        for oracle in report.oracles {
            #expect(oracle.mismatches == 6, "\(oracle)")
            // max|6g - g| / max|g| = 5 (the oracles are within ~1e-10 relative of g).
            #expect((oracle.error - 5).magnitude <= 1e-8, "\(oracle)")
        }
    }

    @Test func oneWrongCoordinateIsTheWorst() throws {
        let p = MSEProblem(count: 6, seed: seed)
        let report = try GradientChecker.check(at: p.x, value: p.value, gradient: { x in
            var g = try p.gradient(x)
            g[3] += 1e-4 * max(g.map(\.magnitude).max() ?? 1, 1)  // relative 1e-4 error at one place
            return g
        }, dual: p.dual)
        for oracle in report.oracles {
            #expect(!oracle.passed && oracle.mismatches == 1, "\(oracle)")
            #expect(oracle.worst?.input == 3 && oracle.worst?.output == 0, "\(oracle)")
        }
    }

    @Test func projectionModeCostsAFewEvaluationsOnLargeInputs() throws {
        let p = MSEProblem(count: 5000, reduction: .sum, seed: seed)
        let options = GradientChecker.Options(projections: 3)
        let report = try GradientChecker.check(at: p.x, value: p.value, gradient: p.gradient, dual: p.dual, options: options)
        #expect(report.passed, "seed \(TestEnvironment.hex(seed)): \(report)")
        #expect(report.mode == .projections(3))
        // 1 at x + 3 projections x 2 x 3 levels; one gradient and one dual call per projection.
        #expect(report.valueEvaluations == 19 && report.gradientEvaluations == 3 && report.dualEvaluations == 3)

        let broken = try GradientChecker.check(at: p.x, value: p.value, gradient: { try p.gradient($0).map { -$0 } },
                                               dual: p.dual, options: options)
        #expect(!broken.passed)
        #expect(broken.oracles.allSatisfy { $0.mismatches == 3 }, "\(broken)")
    }

    @Test func vectorOutputWithUpstream() throws {
        // reduction none: the checked map is the vector of e_i^2; its VJP is the
        // backward pass with upstream v.
        let p = MSEProblem(count: 5, reduction: .none, seed: seed)
        let value = { (x: [Double]) in
            try Reference.evaluate(MSELoss(reduction: .none), input: Tensor(x), target: Tensor(p.y)).output.scalars
        }
        let vjp = { (x: [Double], v: [Double]) in
            try Reference.evaluate(MSELoss(reduction: .none), input: Tensor(x), target: Tensor(p.y),
                                   upstream: Tensor(v), gradients: .input).gradInput?.scalars ?? []
        }
        let dual = { (x: [Dual]) in
            try Reference.evaluate(MSELoss(reduction: .none), input: Tensor(x), target: Tensor(p.y.map(Dual.init))).output.scalars
        }
        for mode in [GradientChecker.Mode.full, .projections(2)] {
            let report = try GradientChecker.check(at: p.x, value: value, vectorJacobianProduct: vjp, dual: dual,
                                                   options: .init(mode: mode))
            #expect(report.passed, "\(mode): \(report)")
            #expect(report.outputs == 5)
            // Ignoring the upstream (returning the gradient for v = ones) is caught.
            let ignoresUpstream = try GradientChecker.check(
                at: p.x, value: value, vectorJacobianProduct: { x, v in try vjp(x, v.map { _ in 1 }) }, dual: dual,
                options: .init(mode: mode))
            #expect(!ignoresUpstream.passed, "\(mode): \(ignoresUpstream)")
        }
    }

    @Test func kinkWithinTheStepIsInconclusiveNotPassed() throws {
        // |x0 - 1e-4|... at x0 = 2e-4: the kink at 1e-4 lies within the step 2^-7.
        let f = { (x: [Double]) in (x[0] - 1e-4).magnitude }
        let g = { (x: [Double]) in [x[0] > 1e-4 ? 1.0 : -1.0] }
        let fd = { (x: [Dual]) in Dual.abs(x[0] - Dual(1e-4)) }
        let report = try GradientChecker.check(at: [2e-4], value: f, gradient: g, dual: fd)
        let numeric = report.oracles[0], dual = report.oracles[1]
        #expect(numeric.inconclusive == 1 && !numeric.passed, "\(numeric)")
        #expect(dual.passed, "\(dual)")  // the exact oracle still vouches for the one-sided slope
        #expect(!report.passed)
    }

    @Test func wrongGradientLengthThrows() {
        #expect(throws: LossError.self) {
            try GradientChecker.check(at: [1, 2], value: { $0[0] + $0[1] }, gradient: { _ in [1] })
        }
    }

    @Test func documentationExample() throws {
        // The README / doc comment example: f(x) = sum(x_i^2) / n, gradient 2 x / n.
        let f = { (x: [Double]) in x.reduce(0) { $0 + $1 * $1 } / Double(x.count) }
        let g = { (x: [Double]) in x.map { 2 * $0 / Double(x.count) } }
        let fDual = { (x: [Dual]) in x.reduce(Dual(0)) { $0 + $1 * $1 } / Dual(Double(x.count)) }
        let report = try GradientChecker.check(at: [0.5, -1.25, 2], value: f, gradient: g, dual: fDual)
        #expect(report.passed, "\(report)")
    }
}

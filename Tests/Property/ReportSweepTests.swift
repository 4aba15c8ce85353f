import Testing
import FastLosses
import LossVerification
import ReferenceLosses

// The report's two sweeps on the cases that once made `losscheck report --deep` fail
// falsely, and on results they must reject.

@Suite("Report sweeps: property bound and gradient-check scope")
struct ReportSweepTests {
    static let seed: UInt64 = 0x10555eed

    @Test("the property bound carries the case's conditioning: sigmoid(x) - y with y near sigmoid(x)")
    func conditionedBound() throws {
        // bce_with_logits case 543: x = -2.1206, y = 0.10751 against sigmoid(x) = 0.10709:
        // the gradient (sigmoid(x) - y) g cancels by a factor ~250, so one Float rounding of
        // sigmoid (u_f relative to 0.107) moves it by ~250 u_f relative.
        let c = try Generators.case(for: "bce_with_logits", seed: Self.seed, index: 543)
        let exact = try Reference.evaluate(c.loss, c.arguments, gradients: .input)
        let nudged = try Reference.evaluate(c.loss, PropertySweep.nudge(c.arguments), gradients: .input)
        let e = exact.gradInput!.scalars[0], n = nudged.gradInput!.scalars[0]
        let moved = abs(n - e) / abs(e) / 0x1p-24
        #expect(moved > 50, "case 543: the nudged gradient moved by \(moved) u_f; expected the cancellation's ~100-250 u_f")
        let outcome = PropertySweep.check(c)
        #expect(outcome.passed, "case 543 (seed \(TestEnvironment.hex(Self.seed))): \(outcome.tensors.map { "\($0.name) \($0.fastError) vs \($0.bound)" })")
    }

    @Test("a result off by 1e-4 relative fails on a well-conditioned case; the rounded truth passes")
    func grossErrorFails() throws {
        let c = try Generators.case(for: "mse", seed: Self.seed, index: 0)
        let exact = try Reference.evaluate(c.loss, c.arguments, gradients: .input)
        let rounded = exact.gradInput!.map { Float($0) }
        let wrong = exact.gradInput!.map { Float($0 * (1 + 1e-4)) }
        let nudged = try Reference.evaluate(c.loss, PropertySweep.nudge(c.arguments), gradients: .input).gradInput
        let good = PropertySweep.compare("grad_input", exact.gradInput!, rounded, rounded, nudged: nudged)
        let bad = PropertySweep.compare("grad_input", exact.gradInput!, rounded, wrong, nudged: nudged)
        #expect(good.passed, "the correctly rounded gradient: error \(good.fastError) vs bound \(good.bound)")
        // Bound: 4 max(yardstick, nudged) + 8 eps_f ~ 4 * 2^-24 + 2^-20 ~ 1.2e-6, far below 1e-4.
        #expect(!bad.passed, "a 1e-4 relative error passed: error \(bad.fastError) vs bound \(bad.bound)")
    }

    @Test("the gradient sweep skips a point where the loss is NaN (zero total weight) instead of failing it")
    func nonFiniteLossIsSkipped() throws {
        // nll case 15: weight [1.097, 0], ignore_index 0, every non-ignored target is class 1:
        // the weighted mean is 0/0 = NaN, so the loss has no derivative there.
        let c = try Generators.case(for: "nll", seed: Self.seed, index: 15)
        let output = try Reference.evaluate(c.loss, c.arguments).output
        #expect(output.scalars.contains { $0.isNaN }, "nll case 15 was expected to be 0/0; got \(output.scalars)")
        let outcome = GradientSweep.check(c, target: false)
        #expect(outcome.report == nil && outcome.skipped?.contains("not finite") == true,
                "nll case 15: expected a skip, got report \(String(describing: outcome.report)) skipped \(String(describing: outcome.skipped))")
    }
}

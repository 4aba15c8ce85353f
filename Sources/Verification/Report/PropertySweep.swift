import Foundation
import FastLosses
import Losses
import ReferenceLosses

/// Fast vs Reference on seeded generated cases, with a bound that follows each case's
/// conditioning: the fast engine must be no less accurate than a straightforward Float
/// evaluation of the reference formulas on the same case, with a margin.
///
/// For every generated case (Float-representable inputs) the sweep evaluates the Double
/// reference (the truth), the same reference code in `Float` (the yardstick: what plain
/// single precision achieves on this case, which carries the case's condition number),
/// and the fast engine. Per tensor (output, grad_input, grad_target), with norm-wise
/// errors `err(a) = max|a - ref| / max|ref|` over the finite positions:
///
///     pass  <=>  non-finite positions agree  and  err(fast) <= 4 max(err(floatRef), err(nudged)) + 8 eps_f
///
/// `eps_f = Float.ulpOfOne`. The factor 4 allows a different but equally sound evaluation
/// order (vector kernels, blocked sums); the `8 eps_f` floor covers a yardstick that is
/// exact by luck (compensated sums, exact products) while the fast engine carries its
/// few documented roundings per term and per reduction. `nudged` is the Double reference
/// at the real-valued arguments moved by one Float rounding (`x (1 + s u_f)`, `u_f =
/// 2^-24`, the sign `s` alternating between elements and opposite for input and target):
/// how far the case's conditioning carries a rounding error of a Float computation. A
/// single Float evaluation can be exact by luck at an ill-conditioned point (the one-
/// element `sigmoid(x) - y` with `y` close to `sigmoid(x)`, condition ~250, had a Float
/// yardstick error of 2.7e-6 while any Float sigmoid within its 1 ulp gives up to 3e-5),
/// so its error alone understates what Float arithmetic can promise there. Positions where the Double
/// reference is finite but the Float yardstick is not (the exact value lies beyond Float's
/// range) are excluded and counted, not compared: no Float engine can represent them.
public enum PropertySweep {
    /// The outcome on one tensor of one case.
    public struct TensorOutcome: Sendable {
        public let name: String
        public let fastError: Double
        public let floatReferenceError: Double
        public let bound: Double
        public let nonFiniteMismatches: Int
        public let outOfFloatRange: Int
        /// Float ULP distances between the fast result and the Double reference rounded
        /// to Float, over the finite compared positions.
        public let ulps: [UInt64]
        public var passed: Bool { nonFiniteMismatches == 0 && fastError <= bound }
    }

    /// The outcome of one case.
    public struct CaseOutcome: Sendable {
        public let generated: GeneratedCase
        public let tensors: [TensorOutcome]
        /// An error thrown by one engine but not the other (or of different kinds).
        public let errorMismatch: String?
        public var passed: Bool { errorMismatch == nil && tensors.allSatisfy(\.passed) }
        /// One line for a failure report.
        public var summary: String {
            if let errorMismatch { return "\(generated): \(errorMismatch)" }
            let bad = tensors.filter { !$0.passed }.map {
                "\($0.name): fast error \(ReportFormat.sci($0.fastError)) > bound \(ReportFormat.sci($0.bound))" +
                    ($0.nonFiniteMismatches > 0 ? ", \($0.nonFiniteMismatches) non-finite mismatches" : "")
            }
            return "\(generated): " + bad.joined(separator: "; ") + (generated.rerunHint.map { " [\($0)]" } ?? "")
        }
    }

    /// Runs case `index` of `lossName` under `seed`.
    public static func run(lossName: String, seed: UInt64, index: Int,
                           options: GeneratorOptions = GeneratorOptions()) throws(LossError) -> CaseOutcome {
        let generated = try Generators.case(for: lossName, seed: seed, index: index, options: options)
        return check(generated)
    }

    /// Compares the fast engine with the reference on one generated case.
    public static func check(_ generated: GeneratedCase) -> CaseOutcome {
        let gradients = GradientRequest.all
        let exact: LossResult<Double>, yardstick: LossResult<Float>, fast: LossResult<Float>
        do {
            exact = try Reference.evaluate(generated.loss, generated.arguments, gradients: gradients)
        } catch {
            // The reference rejects the case: the fast engine must reject it the same way.
            do {
                _ = try Fast.evaluate(generated.loss, generated.arguments.map(Float.init), gradients: gradients)
                return CaseOutcome(generated: generated, tensors: [], errorMismatch: "reference threw \(error), fast returned")
            } catch let fastError {
                let same = fastError.kind == error.kind
                return CaseOutcome(generated: generated, tensors: [],
                                   errorMismatch: same ? nil : "reference threw \(error.kind), fast threw \(fastError.kind)")
            }
        }
        do {
            fast = try Fast.evaluate(generated.loss, generated.arguments.map(Float.init), gradients: gradients)
        } catch {
            return CaseOutcome(generated: generated, tensors: [], errorMismatch: "reference returned, fast threw \(error)")
        }
        do {
            yardstick = try Reference.evaluate(generated.loss, generated.arguments.map(Float.init), gradients: gradients)
        } catch {
            return CaseOutcome(generated: generated, tensors: [], errorMismatch: "the Float yardstick threw \(error)")
        }
        // nil when the nudged arguments leave the loss's domain (a probability moved past 1).
        let nudged = try? Reference.evaluate(generated.loss, nudge(generated.arguments), gradients: gradients)
        var tensors: [TensorOutcome] = []
        tensors.append(compare("output", exact.output, yardstick.output, fast.output, nudged: nudged?.output))
        if let e = exact.gradInput {
            tensors.append(compare("grad_input", e, yardstick.gradInput, fast.gradInput, nudged: nudged?.gradInput))
        }
        if let e = exact.gradTarget {
            tensors.append(compare("grad_target", e, yardstick.gradTarget, fast.gradTarget, nudged: nudged?.gradTarget))
        }
        return CaseOutcome(generated: generated, tensors: tensors, errorMismatch: nil)
    }

    /// The real-valued arguments moved by one Float rounding: `x (1 + s u_f)` with `s`
    /// alternating +1, -1 over the elements, the opposite sign for the target (so a
    /// difference `x - y` of nearly equal values moves as a rounding of either would move
    /// it) and for the variance; class indices, options and the upstream stay.
    public static func nudge(_ arguments: LossArguments<Double>) -> LossArguments<Double> {
        func moved(_ t: Tensor<Double>, _ sign: Double) -> Tensor<Double> {
            var values = t.scalars
            for i in values.indices { values[i] *= 1 + (i % 2 == 0 ? sign : -sign) * 0x1p-24 }
            return Tensor(unchecked: t.shape, values)
        }
        var a = arguments
        a.input = moved(arguments.input, 1)
        if case .values(let t) = arguments.target { a.target = .values(moved(t, -1)) }
        a.variance = arguments.variance.map { moved($0, -1) }
        return a
    }

    public static func compare(_ name: String, _ exact: Tensor<Double>, _ yardstick: Tensor<Float>?, _ fast: Tensor<Float>?,
                        nudged: Tensor<Double>? = nil) -> TensorOutcome {
        guard let yardstick, let fast, fast.count == exact.count, yardstick.count == exact.count else {
            return TensorOutcome(name: name, fastError: .infinity, floatReferenceError: 0, bound: 0,
                                 nonFiniteMismatches: max(exact.count, 1), outOfFloatRange: 0, ulps: [])
        }
        var scale = 0.0, fastMax = 0.0, yardMax = 0.0
        var nonFinite = 0, outOfRange = 0
        var ulps: [UInt64] = []
        ulps.reserveCapacity(exact.count)
        for i in 0..<exact.count {
            let e = exact.scalars[i], y = Double(yardstick.scalars[i]), f = Double(fast.scalars[i])
            if !e.isFinite {
                if !(e.isNaN ? f.isNaN : f == e) { nonFinite += 1 }
                continue
            }
            if !y.isFinite { outOfRange += 1; continue }
            if !f.isFinite { nonFinite += 1; continue }
            scale = max(scale, abs(e))
            fastMax = max(fastMax, abs(f - e))
            yardMax = max(yardMax, abs(y - e))
            if let nudged, nudged.count == exact.count, nudged.scalars[i].isFinite {
                yardMax = max(yardMax, abs(nudged.scalars[i] - e))
            }
            if let u = ULP.floatDistance(actual: f, expected: e) { ulps.append(u) }
        }
        let fastError = scale > 0 ? fastMax / scale : fastMax
        let yardError = scale > 0 ? yardMax / scale : yardMax
        let bound = 4 * yardError + 8 * Double(Float.ulpOfOne)
        return TensorOutcome(name: name, fastError: fastError, floatReferenceError: yardError, bound: bound,
                             nonFiniteMismatches: nonFinite, outOfFloatRange: outOfRange, ulps: ulps)
    }
}

/// Number formatting shared by the report's tables.
public enum ReportFormat {
    /// `1.23e-07`, or `0` for zero.
    public static func sci(_ x: Double) -> String {
        x == 0 ? "0" : (x.isFinite ? String(format: "%.2e", x) : "\(x)")
    }

    /// Median, 99th percentile and maximum of a list of ULP distances.
    public static func quantiles(_ values: [UInt64]) -> (median: UInt64, p99: UInt64, max: UInt64) {
        guard !values.isEmpty else { return (0, 0, 0) }
        let sorted = values.sorted()
        func at(_ q: Double) -> UInt64 { sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded(.up)))] }
        return (at(0.5), at(0.99), sorted.last!)
    }
}

import Foundation
import Losses

// The comparison rule of the golden format (docs/golden-format.md, "Comparison"), with
// a report that says how much room was left, not only the verdict.
//
// `actual` matches `expected` when the shapes are equal, every NaN in `expected` is NaN
// in `actual`, every infinity in `expected` is the same infinity in `actual`, no finite
// expected value has a non-finite actual (nor the reverse), and over the positions where
// both are finite
//
//     max |actual - expected|  <=  atol + rtol * max |expected|
//
// The scale `max |expected|` runs over the finite expected values of the whole tensor
// (a norm-wise bound): a gradient entry that is tiny next to its neighbours is held to
// the tensor's scale, not to its own magnitude, which is what a backward pass that
// cancels large terms can promise.

/// A norm-wise tolerance: `|actual - expected| <= atol + rtol * max|expected|`.
public struct Tolerance: Sendable, Hashable, CustomStringConvertible {
    /// The relative part, multiplied by the largest finite expected magnitude.
    public var rtol: Double
    /// The absolute part.
    public var atol: Double

    public init(rtol: Double, atol: Double = 0) {
        self.rtol = rtol
        self.atol = atol
    }

    /// The golden format's default for the Double reference engine: `rtol = 1e-12, atol = 0`.
    public static let referenceDefault = Tolerance(rtol: 1e-12, atol: 0)
    /// The golden format's default for the Float fast engine: `rtol = 1e-5, atol = 0`.
    public static let fastDefault = Tolerance(rtol: 1e-5, atol: 0)
    /// Bit-for-bit (after the NaN and infinity rules): `rtol = 0, atol = 0`.
    public static let exact = Tolerance(rtol: 0, atol: 0)

    /// The largest allowed `max |actual - expected|` for a tensor whose largest finite
    /// expected magnitude is `scale`.
    public func bound(scale: Double) -> Double { atol + rtol * scale }

    public var description: String { "rtol \(ReportNumber.short(rtol)), atol \(ReportNumber.short(atol))" }
}

/// The outcome of comparing one tensor against its expected values.
public struct ComparisonResult: Sendable, CustomStringConvertible {
    /// One position of the compared tensors.
    public struct Position: Sendable, Equatable {
        /// The row-major index.
        public let flatIndex: Int
        /// The index per dimension (empty for a scalar tensor).
        public let index: [Int]
        public let expected: Double
        public let actual: Double
        /// `|actual - expected|` (NaN or infinity at a non-finite mismatch).
        public var absoluteError: Double { (actual - expected).magnitude }
        /// The distance in Doubles (`nil` when exactly one side is NaN).
        public let ulps: UInt64?
        /// The distance in Floats between `Float(expected)` and `Float(actual)`, when the
        /// comparison was asked for it (a Float engine's result).
        public let floatULPs: UInt64?
    }

    /// True when the tensors match under the rule.
    public let passed: Bool
    /// The tolerance the verdict used.
    public let tolerance: Tolerance
    /// The expected tensor's shape.
    public let shape: [Int]
    /// The number of positions compared.
    public let count: Int
    /// Positions that break the rule: a non-finite mismatch, or a finite pair farther
    /// apart than the bound. (The rule is norm-wise, so any such position fails the
    /// tensor, and the tensor passes exactly when this is 0 and there is no `problem`.)
    public let mismatches: Int
    /// Of `mismatches`, those where NaN or an infinity is not matched.
    public let nonFiniteMismatches: Int
    /// `max |actual - expected|` over the positions where both are finite (0 if none).
    public let maxAbsoluteError: Double
    /// `max |expected|` over the finite expected values (0 if none): the rule's scale.
    public let scale: Double
    /// The measured error the golden verifier reports: `maxAbsoluteError / scale`, or
    /// `maxAbsoluteError` itself when the scale is 0 (every finite expected value is
    /// zero, so no relative error exists and the absolute one is what `atol` bounds).
    public let error: Double
    /// The allowed `max |actual - expected|`: `atol + rtol * scale`.
    public let bound: Double
    /// The error relative to the tolerance: `maxAbsoluteError / bound`. At most 1 passes
    /// (given no non-finite mismatch); 0.01 means the error used 1% of the allowed
    /// bound (100x room left); 3 means it is 3x over. 0 when the error is 0, +infinity
    /// when the bound is 0 and the error is not, or at a non-finite mismatch.
    public let headroom: Double
    /// The position that decides the verdict: the first non-finite mismatch if there is
    /// one, else the largest finite `|actual - expected|`. `nil` when nothing finite was
    /// compared and nothing mismatched (an empty tensor, matching NaNs only).
    public let worst: Position?
    /// A structural failure (shapes or counts that differ), else nil.
    public let problem: String?

    /// The index per dimension of a row-major flat index (`[]` for a scalar shape).
    public static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        var rest = flat, index = Array(repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }

    /// One line in the spirit of numpy's `assert_allclose`: verdict, mismatch count,
    /// measured error against the bound, and the worst position with both values and
    /// their distance in ULPs.
    public var description: String {
        if let problem { return "FAILED: \(problem)" }
        var line = passed ? "passed" : "FAILED"
        line += ": mismatched \(mismatches) / \(count)"
        if nonFiniteMismatches > 0 { line += " (\(nonFiniteMismatches) NaN/inf)" }
        line += "; max |a-e| \(ReportNumber.short(maxAbsoluteError))"
        line += scale > 0 ? ", relative to max |e| = \(ReportNumber.short(scale)): \(ReportNumber.short(error))"
                          : " (max |e| = 0: absolute)"
        line += nonFiniteMismatches > 0 ? "; bound \(ReportNumber.short(bound)) (\(tolerance))"
            : "; \(ReportNumber.short(headroom))x the bound \(ReportNumber.short(bound)) (\(tolerance))"
        if let worst {
            line += "; worst at \(Shape.describe(worst.index)): expected \(worst.expected), actual \(worst.actual)"
            line += ", " + (worst.ulps.map { "\($0) ulp" } ?? "NaN vs number")
            if let f = worst.floatULPs { line += " (\(f) Float ulp)" }
        }
        return line
    }
}

/// Compares `actual` against `expected` (both row-major with `shape`) under the golden
/// format's norm-wise rule; see `ComparisonResult` for what is reported.
///
/// - Parameters:
///   - shape: the tensors' shape, for multi-indices in the report; nil means `[count]`.
///     A shape whose element count differs from the arrays' is reported as a problem.
///   - floatULPs: also measure the worst position's distance in Floats (for results of
///     the Float engine; the expected value is first rounded to the nearest Float).
/// - Returns: a failed result with `problem` set when the counts differ; never traps.
public func compare(actual: [Double], expected: [Double], shape: [Int]? = nil,
                    tolerance: Tolerance, floatULPs: Bool = false) -> ComparisonResult {
    let shape = shape ?? [expected.count]
    func failure(_ problem: String) -> ComparisonResult {
        ComparisonResult(passed: false, tolerance: tolerance, shape: shape, count: expected.count,
                         mismatches: max(actual.count, expected.count), nonFiniteMismatches: 0,
                         maxAbsoluteError: .nan, scale: .nan, error: .nan, bound: .nan,
                         headroom: .infinity, worst: nil, problem: problem)
    }
    guard actual.count == expected.count else {
        return failure("\(actual.count) actual values for \(expected.count) expected")
    }
    guard let elements = try? Shape.elementCount(shape, argument: "shape"), elements == expected.count else {
        return failure("\(expected.count) values for shape \(Shape.describe(shape))")
    }

    // Pass 1: the scale, and the non-finite rule.
    var scale = 0.0
    var nonFinite = 0, firstNonFinite: Int?
    for i in 0..<expected.count {
        let e = expected[i], a = actual[i]
        if e.isFinite {
            scale = max(scale, e.magnitude)
            if !a.isFinite { nonFinite += 1; firstNonFinite = firstNonFinite ?? i }
        } else if e.isNaN ? !a.isNaN : a != e {
            nonFinite += 1
            firstNonFinite = firstNonFinite ?? i
        }
    }
    let bound = tolerance.bound(scale: scale)

    // Pass 2: the finite positions against the bound.
    var maxError = 0.0, worstFinite: Int?, beyond = 0
    for i in 0..<expected.count where expected[i].isFinite && actual[i].isFinite {
        let d = (actual[i] - expected[i]).magnitude
        // `!(d <= bound)` also catches a difference that overflowed to infinity.
        if !(d <= bound) { beyond += 1 }
        if worstFinite == nil || d > maxError {
            maxError = d
            worstFinite = i
        }
    }

    let error = scale > 0 ? maxError / scale : maxError
    let headroom: Double
    if nonFinite > 0 { headroom = .infinity }
    else if maxError == 0 { headroom = 0 }
    else { headroom = bound > 0 ? maxError / bound : .infinity }

    let worst = (firstNonFinite ?? worstFinite).map { i in
        ComparisonResult.Position(
            flatIndex: i, index: ComparisonResult.multiIndex(i, shape: shape), expected: expected[i], actual: actual[i],
            ulps: ULP.distance(actual[i], expected[i]),
            floatULPs: floatULPs ? ULP.floatDistance(actual: actual[i], expected: expected[i]) : nil)
    }
    let mismatches = nonFinite + beyond
    return ComparisonResult(passed: mismatches == 0, tolerance: tolerance, shape: shape, count: expected.count,
                            mismatches: mismatches, nonFiniteMismatches: nonFinite,
                            maxAbsoluteError: maxError, scale: scale, error: error, bound: bound,
                            headroom: headroom, worst: worst, problem: nil)
}

/// Compares two Double tensors; differing shapes are a failed result with `problem` set.
public func compare(actual: Tensor<Double>, expected: Tensor<Double>, tolerance: Tolerance,
                    floatULPs: Bool = false) -> ComparisonResult {
    guard actual.shape == expected.shape else {
        return shapeProblem(actual.shape, expected.shape, tolerance: tolerance, count: expected.count)
    }
    return compare(actual: actual.scalars, expected: expected.scalars, shape: expected.shape,
                   tolerance: tolerance, floatULPs: floatULPs)
}

/// Compares a Float engine's tensor against Double expected values (the Float values are
/// widened exactly); reports the worst position's distance in Floats too by default.
public func compare(actual: Tensor<Float>, expected: Tensor<Double>, tolerance: Tolerance,
                    floatULPs: Bool = true) -> ComparisonResult {
    guard actual.shape == expected.shape else {
        return shapeProblem(actual.shape, expected.shape, tolerance: tolerance, count: expected.count)
    }
    return compare(actual: actual.scalars.map(Double.init), expected: expected.scalars, shape: expected.shape,
                   tolerance: tolerance, floatULPs: floatULPs)
}

private func shapeProblem(_ actual: [Int], _ expected: [Int], tolerance: Tolerance, count: Int) -> ComparisonResult {
    ComparisonResult(passed: false, tolerance: tolerance, shape: expected, count: count,
                     mismatches: count, nonFiniteMismatches: 0, maxAbsoluteError: .nan, scale: .nan,
                     error: .nan, bound: .nan, headroom: .infinity, worst: nil,
                     problem: "actual shape \(Shape.describe(actual)) differs from the expected shape \(Shape.describe(expected))")
}

/// Number formatting for one-line reports.
enum ReportNumber {
    /// Three significant digits, `%g` style (`1.23e-05`, `0.5`, `inf`, `nan`).
    static func short(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.3g", x)
    }
}

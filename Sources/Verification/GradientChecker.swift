import Losses

/// Checks a hand-written gradient against two independent oracles: numerical
/// differentiation (central differences with Richardson extrapolation) and, when you
/// give a dual-number version of the function, forward-mode automatic differentiation.
/// Usable on any differentiable function of a `[Double]`, not only on this package's
/// losses.
///
///     import LossVerification
///
///     // f(x) = sum(x_i^2) / n with its gradient 2 x / n
///     let f = { (x: [Double]) in x.reduce(0) { $0 + $1 * $1 } / Double(x.count) }
///     let g = { (x: [Double]) in x.map { 2 * $0 / Double(x.count) } }
///     // The same function on dual numbers (optional, adds the exact oracle).
///     let fDual = { (x: [Dual]) in x.reduce(Dual(0)) { $0 + $1 * $1 } / Dual(Double(x.count)) }
///
///     let report = try GradientChecker.check(at: [0.5, -1.25, 2], value: f, gradient: g, dual: fDual)
///     print(report)          // one line per oracle: verdict, worst coordinate, errors
///     assert(report.passed)
///
/// What is compared. In full mode (inputs up to `fullModeLimit`, default 64) every entry
/// of the Jacobian `d value_k / d x_j`: the analytic side comes from `gradient` (or from
/// one `vectorJacobianProduct` per output), the numerical side from `2 * levels`
/// evaluations per coordinate, the dual side from one dual evaluation per coordinate. For
/// larger inputs, as PyTorch's fast gradcheck, a few random projections `v^T J u`: the
/// analytic side is `(J^T v) . u` from one vector-Jacobian product, the numerical one a
/// single directional derivative along `u`, the dual one a single dual evaluation seeded
/// with `u`. So a million-element input costs a handful of evaluations per projection.
///
/// When an entry passes. Norm-wise, as the golden files: `|analytic - oracle| <= atol +
/// rtol * scale (+ the finite-difference error estimate, for that oracle)`, where `scale`
/// is the largest oracle magnitude over the Jacobian (for a projection, `sum_j |(J^T v)_j
/// u_j|`, the size of the terms the dot product adds). An entry whose finite-difference
/// error estimate exceeds `maxNumericUncertainty * scale` (a kink or discontinuity within
/// the step, or an infinite value nearby) is counted as inconclusive, which also fails the
/// check: move the point, or rely on the dual oracle there. NaN and infinities must match
/// exactly.
///
/// Tolerances (defaults, see `Options`): `rtol = 1e-8` against finite differences (whose
/// own error is estimated and added), `rtol = 1e-10` against dual numbers (exact to
/// rounding; the margin covers rounding along two different evaluation orders).
public enum GradientChecker {
    /// Which entries are compared.
    public enum Mode: Sendable, Hashable {
        /// Full Jacobian up to `Options.fullModeLimit` inputs, projections beyond.
        case automatic
        /// Every entry of the Jacobian.
        case full
        /// This many random projections `v^T J u`.
        case projections(Int)
    }

    /// What to compare and how strictly.
    public struct Options: Sendable {
        public var mode: Mode
        /// `automatic` checks the full Jacobian up to this many inputs. Default 64.
        public var fullModeLimit: Int
        /// The number of projections `automatic` uses beyond the limit. Default 3.
        public var projections: Int
        /// The seed of the random projection vectors (fixed: a rerun checks the same ones).
        public var seed: UInt64
        /// Steps and error estimation of the numerical oracle.
        public var finiteDifferences: FiniteDifferences.Options
        /// Against finite differences. Default `rtol 1e-8, atol 0`: Richardson's result is
        /// good to ~1e-12 relative on smooth functions, and its estimated error is added to
        /// the bound, so 1e-8 catches any gradient error larger than rounding noise.
        public var numericTolerance: Tolerance
        /// Against dual numbers. Default `rtol 1e-10, atol 0`: both sides are exact up to
        /// rounding; 1e-10 leaves ~10^6 ulps for cancellation between evaluation orders.
        public var dualTolerance: Tolerance
        /// A finite-difference entry whose estimated error exceeds this fraction of the
        /// scale gives no verdict (inconclusive). Default 1e-6.
        public var maxNumericUncertainty: Double

        public init(mode: Mode = .automatic, fullModeLimit: Int = 64, projections: Int = 3,
                    seed: UInt64 = 0x6AD_C4EC,
                    finiteDifferences: FiniteDifferences.Options = .init(),
                    numericTolerance: Tolerance = Tolerance(rtol: 1e-8, atol: 0),
                    dualTolerance: Tolerance = Tolerance(rtol: 1e-10, atol: 0),
                    maxNumericUncertainty: Double = 1e-6) {
            self.mode = mode
            self.fullModeLimit = fullModeLimit
            self.projections = projections
            self.seed = seed
            self.finiteDifferences = finiteDifferences
            self.numericTolerance = numericTolerance
            self.dualTolerance = dualTolerance
            self.maxNumericUncertainty = maxNumericUncertainty
        }
    }

    /// Checks the gradient of a scalar function.
    ///
    /// - Parameters:
    ///   - x: the point.
    ///   - value: the function.
    ///   - gradient: its hand-written gradient at a point (`x.count` entries).
    ///   - dual: optionally the same function on dual numbers, for the exact oracle.
    ///   - options: mode, tolerances, seed.
    /// - Throws: what the closures throw; `LossError(.shape)` when `gradient` returns the
    ///   wrong number of entries.
    public static func check(at x: [Double], value: ([Double]) throws -> Double,
                             gradient: ([Double]) throws -> [Double],
                             dual: (([Dual]) throws -> Dual)? = nil,
                             options: Options = Options()) throws -> GradientCheckReport {
        if let dual {
            return try run(x, value: { [try value($0)] },
                           vjp: { point, v in try gradient(point).map { $0 * v[0] } },
                           dual: { [try dual($0)] }, options: options)
        }
        return try run(x, value: { [try value($0)] },
                       vjp: { point, v in try gradient(point).map { $0 * v[0] } },
                       dual: nil, options: options)
    }

    /// Checks the vector-Jacobian product of a vector-valued function (e.g. a loss with
    /// reduction `none`).
    ///
    /// - Parameters:
    ///   - value: the function; its output count must not depend on the point.
    ///   - vectorJacobianProduct: `(x, v) -> J(x)^T v`, the gradient of `sum(value(x) * v)`
    ///     (a loss's backward pass with upstream `v`).
    ///   - dual: optionally the same function on dual numbers.
    public static func check(at x: [Double], value: ([Double]) throws -> [Double],
                             vectorJacobianProduct: ([Double], [Double]) throws -> [Double],
                             dual: (([Dual]) throws -> [Dual])? = nil,
                             options: Options = Options()) throws -> GradientCheckReport {
        try run(x, value: value, vjp: vectorJacobianProduct, dual: dual, options: options)
    }

    // MARK: Implementation

    /// One compared quantity: analytic vs oracle, with where it is.
    private struct Sample {
        var output: Int?
        var input: Int?
        var projection: Int?
        var analytic: Double
        var oracle: Double
        var estimate: Double?  // finite-difference error estimate
        var scale: Double?     // per-sample scale (projections); nil = the oracle's norm-wise scale
    }

    private static func run(_ x: [Double], value: ([Double]) throws -> [Double],
                            vjp: ([Double], [Double]) throws -> [Double],
                            dual: (([Dual]) throws -> [Dual])?,
                            options: Options) throws -> GradientCheckReport {
        var evaluations = 0, products = 0, dualEvaluations = 0
        let base = try value(x)
        evaluations += 1
        let m = base.count, n = x.count
        func f(_ point: [Double]) throws -> [Double] {
            evaluations += 1
            let out = try value(point)
            guard out.count == m else {
                throw LossError(.shape, "GradientChecker: value returned \(out.count) outputs at a nearby point, \(m) at x")
            }
            return out
        }
        func product(_ point: [Double], _ v: [Double]) throws -> [Double] {
            products += 1
            let g = try vjp(point, v)
            guard g.count == n else {
                throw LossError(.shape, "GradientChecker: the gradient has \(g.count) entries for \(n) coordinates")
            }
            return g
        }
        func evaluateDual(_ d: ([Dual]) throws -> [Dual], _ point: [Dual]) throws -> [Dual] {
            dualEvaluations += 1
            let out = try d(point)
            guard out.count == m else {
                throw LossError(.shape, "GradientChecker: the dual function returned \(out.count) outputs, value \(m)")
            }
            return out
        }

        let full: Bool
        var projectionCount = 0
        switch options.mode {
        case .full: full = true
        case .automatic:
            full = n <= options.fullModeLimit
            projectionCount = max(options.projections, 1)
        case .projections(let count):
            full = false
            projectionCount = max(count, 1)
        }

        var numeric: [Sample] = [], exact: [Sample] = []
        if full {
            // Analytic Jacobian, row k = J^T e_k.
            var rows: [[Double]] = []
            for k in 0..<m {
                var e = Array(repeating: 0.0, count: m)
                e[k] = 1
                rows.append(try product(x, e))
            }
            let jacobian = try FiniteDifferences.jacobian(of: f, at: x, options: options.finiteDifferences)
            for k in 0..<m {
                for j in 0..<n {
                    let estimate = jacobian[output: k, input: j]
                    numeric.append(Sample(output: k, input: j, analytic: rows[k][j], oracle: estimate.value, estimate: estimate.error))
                }
            }
            if let dual {
                for j in 0..<n {
                    var direction = Array(repeating: 0.0, count: n)
                    direction[j] = 1
                    let column = try evaluateDual(dual, Dual.seed(x, direction: direction))
                    for k in 0..<m {
                        exact.append(Sample(output: k, input: j, analytic: rows[k][j], oracle: column[k].derivative))
                    }
                }
                // Keep the same (output, input) order as the numeric samples.
                exact.sort { ($0.output!, $0.input!) < ($1.output!, $1.input!) }
            }
        } else {
            var rng = SeededGenerator(seed: options.seed)
            for p in 0..<projectionCount {
                let u = x.map { xj in randomCoefficient(&rng) * powerOfTwoScale(xj) }
                let v = m == 1 ? [1.0] : (0..<m).map { _ in randomCoefficient(&rng) }
                let g = try product(x, v)
                var analytic = 0.0, termScale = 0.0
                for j in 0..<n {
                    analytic += g[j] * u[j]
                    termScale += (g[j] * u[j]).magnitude
                }
                let estimate = try FiniteDifferences.projection(of: f, at: x, direction: u, cotangent: v,
                                                                options: options.finiteDifferences)
                numeric.append(Sample(projection: p, analytic: analytic, oracle: estimate.value, estimate: estimate.error,
                                      scale: max(termScale, estimate.value.magnitude)))
                if let dual {
                    let out = try evaluateDual(dual, Dual.seed(x, direction: u))
                    var derivative = 0.0
                    for k in 0..<m { derivative += v[k] * out[k].derivative }
                    exact.append(Sample(projection: p, analytic: analytic, oracle: derivative,
                                        scale: max(termScale, derivative.magnitude)))
                }
            }
        }

        var oracles = [evaluate(numeric, oracle: .finiteDifferences, tolerance: options.numericTolerance,
                                maxUncertainty: options.maxNumericUncertainty)]
        if dual != nil {
            oracles.append(evaluate(exact, oracle: .dualNumbers, tolerance: options.dualTolerance, maxUncertainty: nil))
        }
        return GradientCheckReport(
            passed: oracles.allSatisfy(\.passed), mode: full ? .full : .projections(projectionCount),
            inputs: n, outputs: m, oracles: oracles, valueEvaluations: evaluations,
            gradientEvaluations: products, dualEvaluations: dualEvaluations, seed: options.seed)
    }

    /// A random coefficient with 8 significant bits in [-2, 2] minus (-1/128, 1/128): few
    /// bits, so `x + t u` stays exact; never 0, so every coordinate takes part.
    private static func randomCoefficient(_ rng: inout SeededGenerator) -> Double {
        Double(rng.int(in: 1...255)) / 128 * rng.sign()
    }

    /// The largest power of two not above `max(|x|, 1)` (1 for non-finite x).
    private static func powerOfTwoScale(_ x: Double) -> Double {
        let m = max(x.magnitude, 1)
        return m.isFinite ? Double(sign: .plus, exponent: m.exponent, significand: 1) : 1
    }

    private static func evaluate(_ samples: [Sample], oracle: GradientCheckReport.Oracle, tolerance: Tolerance,
                                 maxUncertainty: Double?) -> GradientCheckReport.OracleResult {
        // The norm-wise scale: the largest finite oracle magnitude.
        var normScale = 0.0
        for s in samples where s.oracle.isFinite { normScale = max(normScale, s.oracle.magnitude) }

        var mismatches = 0, inconclusive = 0, maxError = 0.0, worstRatio = 0.0
        var worst: GradientCheckReport.Entry?
        var worstIsNonFinite = false
        for s in samples {
            let scale = s.scale ?? normScale
            var allowed = tolerance.bound(scale: scale)
            let entry = GradientCheckReport.Entry(output: s.output, input: s.input, projection: s.projection,
                                                  analytic: s.analytic, oracle: s.oracle, errorEstimate: s.estimate,
                                                  allowed: allowed)
            if let maxUncertainty, let estimate = s.estimate {
                // The numerical oracle: no verdict where it cannot vouch for its own value.
                if !s.oracle.isFinite || !(estimate <= maxUncertainty * scale + tolerance.atol) {
                    inconclusive += 1
                    if worst == nil { worst = entry }
                    continue
                }
                allowed += estimate
            }
            if !s.oracle.isFinite || !s.analytic.isFinite {
                let same = s.oracle.isNaN ? s.analytic.isNaN : s.oracle == s.analytic
                if !same {
                    mismatches += 1
                    if !worstIsNonFinite { worst = entry; worstIsNonFinite = true; worstRatio = .infinity }
                }
                continue
            }
            let difference = (s.analytic - s.oracle).magnitude
            maxError = max(maxError, difference)
            let ratio = difference == 0 ? 0 : (allowed > 0 ? difference / allowed : .infinity)
            if !(difference <= allowed) { mismatches += 1 }
            if !worstIsNonFinite && (worst == nil || ratio > worstRatio) {
                worstRatio = ratio
                worst = GradientCheckReport.Entry(output: s.output, input: s.input, projection: s.projection,
                                                  analytic: s.analytic, oracle: s.oracle, errorEstimate: s.estimate,
                                                  allowed: allowed)
            }
        }
        let scaleForError = samples.first?.scale == nil ? normScale
            : samples.compactMap(\.scale).max() ?? 0
        return GradientCheckReport.OracleResult(
            oracle: oracle, passed: mismatches == 0 && inconclusive == 0, tolerance: tolerance,
            compared: samples.count, mismatches: mismatches, inconclusive: inconclusive,
            scale: scaleForError, maxAbsoluteError: maxError,
            error: scaleForError > 0 ? maxError / scaleForError : maxError,
            headroom: worstRatio, worst: worst)
    }
}

/// The outcome of `GradientChecker.check`: the verdict, and per oracle how far the
/// analytic gradient is from it and where.
public struct GradientCheckReport: Sendable, CustomStringConvertible {
    /// An independent source of derivatives.
    public enum Oracle: String, Sendable {
        case finiteDifferences = "finite differences (Richardson)"
        case dualNumbers = "dual numbers"
    }

    /// What was compared.
    public enum Mode: Sendable, Hashable, CustomStringConvertible {
        case full
        case projections(Int)
        public var description: String {
            switch self {
            case .full: "full Jacobian"
            case .projections(let k): "\(k) random projection\(k == 1 ? "" : "s") v^T J u"
            }
        }
    }

    /// One compared entry.
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        /// The output index (full mode).
        public let output: Int?
        /// The input coordinate (full mode).
        public let input: Int?
        /// The projection number (projection mode).
        public let projection: Int?
        /// The hand-written gradient's value.
        public let analytic: Double
        /// The oracle's value.
        public let oracle: Double
        /// The finite-difference error estimate (numerical oracle only).
        public let errorEstimate: Double?
        /// The allowed `|analytic - oracle|` for this entry.
        public let allowed: Double

        public var description: String {
            let place: String
            if let projection { place = "projection \(projection)" }
            else { place = "d output[\(output ?? 0)] / d x[\(input ?? 0)]" }
            var text = "\(place): analytic \(analytic), oracle \(oracle)"
            if let errorEstimate { text += " (± \(ReportNumber.short(errorEstimate)))" }
            text += ", |difference| \(ReportNumber.short((analytic - oracle).magnitude)) vs allowed \(ReportNumber.short(allowed))"
            return text
        }
    }

    /// One oracle's verdict.
    public struct OracleResult: Sendable, CustomStringConvertible {
        public let oracle: Oracle
        /// No mismatch and nothing inconclusive.
        public let passed: Bool
        public let tolerance: Tolerance
        /// Entries (full mode) or projections compared.
        public let compared: Int
        /// Entries farther apart than allowed, or with unmatched NaN/infinity.
        public let mismatches: Int
        /// Finite differences only: entries without a verdict (error estimate too large).
        public let inconclusive: Int
        /// The largest finite oracle magnitude (full mode), or the largest projection scale.
        public let scale: Double
        /// `max |analytic - oracle|` over the finite, conclusive entries.
        public let maxAbsoluteError: Double
        /// `maxAbsoluteError / scale` (absolute when the scale is 0).
        public let error: Double
        /// The largest `|analytic - oracle| / allowed` (at most 1 passes).
        public let headroom: Double
        /// The entry with the largest `headroom`, the first non-finite mismatch, or the
        /// first inconclusive entry when nothing was conclusive.
        public let worst: Entry?

        public var description: String {
            var line = "\(oracle.rawValue): \(passed ? "passed" : "FAILED"), \(mismatches) / \(compared) mismatched"
            if inconclusive > 0 { line += ", \(inconclusive) inconclusive (error estimate too large: kink or non-finite value within the step?)" }
            line += "; error \(ReportNumber.short(error)) relative to scale \(ReportNumber.short(scale)), \(ReportNumber.short(headroom))x the allowed (\(tolerance))"
            if let worst { line += "; worst \(worst)" }
            return line
        }
    }

    /// Every oracle passed.
    public let passed: Bool
    public let mode: Mode
    /// The number of input coordinates.
    public let inputs: Int
    /// The number of outputs of the checked function (1 for a scalar function).
    public let outputs: Int
    /// The oracles' results: finite differences first, then dual numbers if given.
    public let oracles: [OracleResult]
    /// Calls of the value function.
    public let valueEvaluations: Int
    /// Calls of the gradient (or vector-Jacobian product).
    public let gradientEvaluations: Int
    /// Calls of the dual-number function.
    public let dualEvaluations: Int
    /// The seed of the random projections.
    public let seed: UInt64

    /// The oracle result with the largest headroom (the one closest to failing, or failing
    /// worst).
    public var worst: OracleResult? {
        oracles.max { a, b in (a.passed ? 0 : 1, a.headroom) < (b.passed ? 0 : 1, b.headroom) }
    }

    public var description: String {
        var text = "gradient check \(passed ? "passed" : "FAILED") (\(mode), \(inputs) input\(inputs == 1 ? "" : "s") x \(outputs) output\(outputs == 1 ? "" : "s"); "
        text += "\(valueEvaluations) value, \(gradientEvaluations) gradient, \(dualEvaluations) dual evaluations)"
        for oracle in oracles { text += "\n  " + oracle.description }
        return text
    }
}

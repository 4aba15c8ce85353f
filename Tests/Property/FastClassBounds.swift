import Foundation
import Testing
import FastLosses
import ReferenceLosses
import LossVerification

// Error bounds for the Float engine's cross_entropy and nll against the Double reference,
// derived per row from an independent Double analysis of the inputs, and the comparison
// that applies them.
//
// Notation (u = 2^-24, Float's unit roundoff; eps_f = Float.ulpOfOne = 2u). For a row
// with logits x_c, maximum m, d_c = x_c - m, e_c = exp(d_c), s = sum_c e_c = 1 + r (r
// leaves out the first maximal class), p = e / s, L = log(s) = log1p(r):
//
//   kappa   = sum_c p_c |d_c|            the row's condition: each shift x_c - m is
//                                        rounded once in Float (relative u), which moves
//                                        e_c by a relative u |d_c|;
//   kappa_r = sum_{c != top} e_c |d_c| / r   the same weighted over the terms of r only
//                                        (kappa = r/(1+r) kappa_r);
//   rho     = min(1, 2r/(1+r))           how much of s's relative error reaches log(s):
//                                        the engine's rest is either s - 1 with s >= 2
//                                        (then rest >= s/2, so rho = 1 covers it) or the
//                                        sum of the terms below the maximum (then
//                                        d log1p(r) = dr/(1+r), r/(1+r) <= rho).
//
// Per element term (PER_TERM = 4 eps_f = 8u): every exponential is within 1 ulp (<= eps_f
// relative, VectorMath.exp's measured worst is below 1 ulp), and each derived quantity
// carries at most 6 further roundings (shift, products with w and g, the scale g/den, the
// division by s, the final combination), so an element's own error is at most
// PER_TERM (1 + |d_c|) relative (the |d_c| from the rounded shift).
//
// Row sums (ROW_SUM = PER_TERM + 15u): s, the target mass and sum w t d are accumulated
// in Float over at most Fast.termsPerLane = 16 terms per lane before moving to Double:
// (16 - 1) u relative to the sum of magnitudes (Higham's gamma_15, first order), plus
// the terms' own errors (PER_TERM). So
//
//   |d log(s)| <= ROW_SUM (rho + kappa) + PER_TERM |L|
//
// Losses (first order; the reference's own error, ~1e-16 relative, is negligible):
//
//   index target, no smoothing:  |dl| <= |w_y| [ ROW_SUM (rho + kappa) + PER_TERM (|L| + |d_y|) ]
//   smoothing term W L - sum_c w_c d_c:
//                                |d|  <= |W| [ROW_SUM (rho + kappa) + PER_TERM |L|] + ROW_SUM sum_c |w_c d_c|
//   with smoothing:              (1 - eps) * first + (eps/C) * second
//   probability targets, t' = (1 - eps) t + eps/C, wt = w t', T = sum wt:
//                                |dl| <= sum|wt| ROW_SUM (rho + kappa + |L|) + ROW_SUM sum_{present} |wt_c d_c|
//   nll:                         |dl| <= PER_TERM |l|
//   and every loss adds PER_TERM |l| for its last roundings.
//
// Gradients, with g the row's factor (g_i for none, g/den for a reduction):
//
//   index, c != y:  |g| [ |base| p_c (PER_TERM (1 + |d_c|) + ROW_SUM (1 + kappa)) + (eps/C) |w_c| PER_TERM ],
//                   base = (1 - eps) w_y + (eps/C) W;
//   index, c == y:  p_y - 1 = -(s - e_y)/s, with s - e_y = r (y maximal; relative error
//                   ROW_SUM (1 + kappa_r)) or >= s/2 (else; relative error at most twice
//                   that of s and e_y):
//                   |g| [ |(1 - eps) w_y| (1 - p_y) REL_T + (eps/C)(|W| p_y (PER_TERM (1 + |d_y|) + ROW_SUM (1 + kappa)) + |w_y| PER_TERM) ],
//                   REL_T = 2 PER_TERM (1 + |d_y|) + ROW_SUM (2 + 2 kappa + kappa_r);
//   probabilities:  d/dinput  |g| [ p_c (|T| (PER_TERM (1 + |d_c|) + ROW_SUM (1 + kappa)) + ROW_SUM sum|wt|) + PER_TERM |wt_c| ],
//                   d/dtarget |(1 - eps) w_c g| [ PER_TERM (|d_c| + 2 |L|) + ROW_SUM (rho + kappa) ];
//   nll:            PER_TERM |grad| at [i, y_i], exactly 0 elsewhere.
//
// Reductions: sum_i |dl_i| plus the summation of the row values (Float lane partials of
// at most 16 terms, then Double and the fixed pairwise tree: REDUCE_SUM = 15u + u +
// 42 * 2^-53, as in FastRegressionTests) times sum_i |l_i|, divided by den, plus u |result|
// for the last rounding.
//
// Ignored rows, masked classes (exp(-inf) = 0) and nll's off-target entries must be
// exactly 0. Results in the subnormal range may err by an absolute 2^-149 per rounding,
// scaled at most by the row's factor: every bound gets FLOOR (1 + |scale|) with
// FLOOR = 2^-146 (8 such roundings). NaN and infinities must sit where the reference has
// them (the `compare` rule).

enum ClassBound {
    static let u = 0x1p-24
    /// An element's own roundings (see the derivation at the top of this file).
    static let perTerm = 4 * Double(Float.ulpOfOne)
    /// A row sum of Float lane partials (16 terms) plus its terms' errors.
    static let rowSum = perTerm + Double(Fast.termsPerLane - 1) * u
    /// The summation of the row values into one output.
    static let reduceSum = Double(Fast.termsPerLane - 1) * u + u + 42 * 0x1p-53
    /// Absolute floor for subnormal results, per unit of scale.
    static let floor = 0x1p-146
}

extension LossTarget {
    /// True for class indices, false for real values.
    var isClassIndices: Bool {
        if case .classes = self { return true }
        return false
    }
}

/// One row-wise call as the tests run it: a loss with its arguments (Float-exact Doubles).
struct ClassCall: CustomStringConvertible {
    var loss: AnyLoss
    var arguments: LossArguments<Double>
    /// What reruns this call (a generator hint or a test-local description with the seed).
    var origin: String

    var description: String {
        "\(loss.name) [\(Generators.describeOptions(loss))] input \(Shape.describe(arguments.input.shape))"
            + (arguments.target.isClassIndices ? " class-index" : " probability") + " targets"
            + (arguments.upstream == nil ? "" : ", upstream") + "; rerun: \(origin)"
    }

    var reduction: Reduction {
        switch loss {
        case .crossEntropy(let l): l.reduction
        case .nll(let l): l.reduction
        default: .none
        }
    }

    /// The same call with another reduction and no upstream.
    func with(_ reduction: Reduction, upstream: Tensor<Double>? = nil) -> ClassCall {
        var copy = self
        switch loss {
        case .crossEntropy(var l): l.reduction = reduction; copy.loss = .crossEntropy(l)
        case .nll(var l): l.reduction = reduction; copy.loss = .nll(l)
        default: break
        }
        copy.arguments.upstream = upstream
        return copy
    }

    /// The report key: the loss and its target kind.
    var kind: String {
        switch loss {
        case .nll: "nll"
        default: arguments.target.isClassIndices ? "cross_entropy (class indices)" : "cross_entropy (probabilities)"
        }
    }

    /// The Float engine on the same values.
    func fast(gradients: GradientRequest = .all, threads: Int? = nil) throws(LossError) -> LossResult<Float> {
        let a = arguments.map { Float($0) }
        switch (loss, a.target) {
        case (.crossEntropy(let l), .classes(let t)):
            return try Fast.evaluate(l, input: a.input, target: t, upstream: a.upstream, gradients: gradients, threads: threads)
        case (.crossEntropy(let l), .values(let t)):
            return try Fast.evaluate(l, input: a.input, target: t, upstream: a.upstream, gradients: gradients, threads: threads)
        case (.nll(let l), .classes(let t)):
            return try Fast.evaluate(l, input: a.input, target: t, upstream: a.upstream, gradients: gradients, threads: threads)
        default:
            throw LossError(.option, "\(loss.name): not a row-wise call")
        }
    }

    /// The Double reference.
    func reference(gradients: GradientRequest = .all) throws(LossError) -> LossResult<Double> {
        try Reference.evaluate(loss, arguments, gradients: gradients)
    }
}

/// Per-element bounds of one call (see the derivation at the top of this file).
struct ClassBounds {
    var output: [Double]
    var gradInput: [Double]
    var gradTarget: [Double]
}

/// The Double analysis of one row's logits.
struct RowAnalysis {
    /// The maximum is finite and no logit is NaN.
    var regular: Bool
    var d: [Double]
    var p: [Double]
    var rest: Double
    var sum: Double
    var logSum: Double
    var kappa: Double
    var kappaRest: Double
    var rho: Double

    init(_ x: [Double]) {
        let m = x.contains(where: \.isNaN) ? Double.nan : (x.max() ?? .nan)
        let d = x.map { $0 - m }
        let e = d.map { Foundation.exp($0) }
        let top = d.firstIndex(of: 0) ?? 0
        let rest = e.indices.reduce(0.0) { $1 == top ? $0 : $0 + e[$1] }
        let p = e.map { $0 / (1 + rest) }
        // 0 * |-inf| = 0 for masked classes.
        let kappa = d.indices.reduce(0.0) { p[$1] > 0 ? $0 + p[$1] * abs(d[$1]) : $0 }
        let weightedRest = d.indices.reduce(0.0) { $1 != top && e[$1] > 0 ? $0 + e[$1] * abs(d[$1]) : $0 }
        self.regular = m.isFinite
        self.d = d
        self.p = p
        self.rest = rest
        self.sum = 1 + rest
        self.logSum = Foundation.log1p(rest)
        self.kappa = kappa
        self.kappaRest = rest > 0 ? weightedRest / rest : 0
        self.rho = min(1, 2 * rest / (1 + rest))
    }

    /// `ROW_SUM (rho + kappa) + PER_TERM |L|`: the error of log(s).
    var logSumError: Double { ClassBound.rowSum * (rho + kappa) + ClassBound.perTerm * abs(logSum) }
}

extension ClassCall {
    /// The bounds of this call, given the reference's result on it.
    func bounds(reference: LossResult<Double>) throws -> ClassBounds {
        let x = arguments.input.scalars
        let (weight, ignoreIndex, eps): (Tensor<Double>?, Int, Double) = switch loss {
        case .crossEntropy(let l): (l.weight, l.ignoreIndex, l.labelSmoothing)
        case .nll(let l): (l.weight, l.ignoreIndex, 0)
        default: (nil, -100, 0)
        }
        let layout = try Validate.classLayout(input: arguments.input.shape, target: arguments.target.shape,
                                              probabilities: !arguments.target.isClassIndices, reduction: reduction,
                                              loss: loss.name)
        let C = layout.classes, rows = layout.rows
        let w = weight?.scalars.map { Double(Float($0)) } ?? Array(repeating: 1, count: C)
        let W = w.reduce(0, +)
        let epsC = eps / Double(C)
        let isNLL = if case .nll = loss { true } else { false }

        // Unreduced row values of the reference (for the reduction's scale).
        let rowValues = reduction == .none ? reference.output.scalars
            : try with(.none).reference(gradients: .none).output.scalars
        // The denominator and the per-row gradient factor.
        var den = 1.0
        if reduction == .mean {
            if case .classes(let t) = arguments.target {
                den = t.scalars.reduce(0.0) { $1 == ignoreIndex ? $0 : $0 + w[$1] }
            } else {
                den = Double(rows)
            }
        }
        func factor(_ i: Int) -> Double {
            if reduction == .none { return arguments.upstream?.scalars[i] ?? 1 }
            return (arguments.upstream?.scalars[0] ?? 1) / den
        }

        var value = Array(repeating: 0.0, count: rows)
        var gi = Array(repeating: 0.0, count: x.count)
        var gt = Array(repeating: 0.0, count: x.count)
        let refGrad = reference.gradInput?.scalars ?? Array(repeating: 0, count: x.count)
        let (perTerm, rowSum, floor) = (ClassBound.perTerm, ClassBound.rowSum, ClassBound.floor)

        for i in 0..<rows {
            let offsets = (0..<C).map { layout.inputOffset(row: i, classIndex: $0) }
            let l = rowValues[i]
            switch arguments.target {
            case .classes(let t):
                let y = t.scalars[i]
                if y == ignoreIndex { continue }  // exactly 0
                let g = factor(i)
                if isNLL {
                    value[i] = perTerm * abs(l) + floor * (1 + abs(w[y]))
                    gi[offsets[y]] = perTerm * abs(refGrad[offsets[y]]) + floor * (1 + abs(w[y] * g))
                    continue
                }
                let row = RowAnalysis(offsets.map { x[$0] })
                guard row.regular else { continue }  // NaN row: the compare rule decides
                let nll = abs(w[y]) * (row.logSumError + perTerm * abs(row.d[y]))
                var bound = nll
                if eps > 0 {
                    let spread = (0..<C).reduce(0.0) { w[$1] == 0 ? $0 : $0 + abs(w[$1] * row.d[$1]) }
                    bound = abs(1 - eps) * nll + epsC * (abs(W) * row.logSumError + rowSum * spread)
                }
                value[i] = bound + perTerm * abs(l) + floor * (1 + abs(w[y]) + abs(W))
                let base = eps > 0 ? (1 - eps) * w[y] + epsC * W : w[y]
                let pyComplement = (row.d[y] == 0 ? row.rest : row.sum - Foundation.exp(row.d[y])) / row.sum
                // A masked target (p_y = 0, d_y = -inf) has e_y = 0 exactly: no |d_y| term.
                let dyAbs = row.p[y] > 0 ? abs(row.d[y]) : 0
                let relT = 2 * perTerm * (1 + dyAbs) + rowSum * (2 + 2 * row.kappa + row.kappaRest)
                for c in 0..<C {
                    let pc = row.p[c], dc = pc > 0 ? abs(row.d[c]) : 0
                    var bound: Double
                    if c == y {
                        bound = abs((1 - eps) * w[y]) * pyComplement * relT
                            + epsC * (abs(W) * pc * (perTerm * (1 + dc) + rowSum * (1 + row.kappa)) + abs(w[y]) * perTerm)
                        bound += perTerm * abs(refGrad[offsets[c]] / (g == 0 ? 1 : g))
                    } else {
                        bound = abs(base) * pc * (perTerm * (1 + dc) + rowSum * (1 + row.kappa)) + epsC * abs(w[c]) * perTerm
                    }
                    gi[offsets[c]] = abs(g) * bound + floor * (1 + abs(g) * (abs(base) + abs(W)))
                }
            case .values(let t):
                let g = factor(i)
                let row = RowAnalysis(offsets.map { x[$0] })
                let tt = offsets.map { eps > 0 ? (1 - eps) * t.scalars[$0] + epsC : t.scalars[$0] }
                let wt = (0..<C).map { w[$0] * tt[$0] }
                let present = (0..<C).map { !(tt[$0] == 0 && x[offsets[$0]] == -.infinity) }
                guard row.regular else { continue }
                let T = wt.reduce(0, +), absWt = wt.reduce(0) { $0 + abs($1) }
                let spread = (0..<C).reduce(0.0) { present[$1] && wt[$1] != 0 ? $0 + abs(wt[$1] * row.d[$1]) : $0 }
                value[i] = absWt * rowSum * (row.rho + row.kappa + abs(row.logSum)) + rowSum * spread
                    + perTerm * abs(l) + floor * (1 + absWt)
                for c in 0..<C {
                    let pc = row.p[c], dc = pc > 0 ? abs(row.d[c]) : 0
                    if present[c] {
                        let b = pc * (abs(T) * (perTerm * (1 + dc) + rowSum * (1 + row.kappa)) + rowSum * absWt) + perTerm * abs(wt[c])
                        gi[offsets[c]] = abs(g) * b + floor * (1 + abs(g) * (absWt + abs(T)))
                    }
                    let scale = abs((1 - eps) * w[c] * g)
                    gt[offsets[c]] = (scale == 0 ? 0 : scale * (perTerm * (abs(row.d[c]) + 2 * abs(row.logSum)) + rowSum * (row.rho + row.kappa)))
                        + floor * (1 + abs(w[c] * g))
                }
            }
        }

        let output: [Double]
        if reduction == .none {
            output = value
        } else {
            let scale = rowValues.reduce(0) { $0 + abs($1) }
            let total = (value.reduce(0, +) + ClassBound.reduceSum * scale) / den
            let result = reference.output.scalars[0]
            output = [total + ClassBound.u * abs(result) + ClassBound.floor]
        }
        return ClassBounds(output: output, gradInput: gi, gradTarget: gt)
    }
}

/// Errors measured in one comparison, for the report.
struct MeasuredErrors: Sendable {
    /// Float ULPs between each finite result and the Float nearest to the reference.
    var ulps: [UInt64] = []
    /// The largest error in ULPs of the tensor's largest reference magnitude (norm-wise).
    var normULPs: Double = 0
    /// The largest error as a fraction of its bound.
    var headroom: Double = 0

    mutating func merge(_ other: MeasuredErrors) {
        ulps += other.ulps
        normULPs = max(normULPs, other.normULPs)
        headroom = max(headroom, other.headroom)
    }
}

/// Compares a Float result with the Double reference under per-element bounds: the
/// verification library's norm-wise `compare` (NaN and infinities in the same places,
/// max error within the largest bound), then every finite element within its own bound.
/// Returns a failure message (nil: passed) and the measured errors.
func checkClass(_ what: String, fast: Tensor<Float>?, ref: Tensor<Double>?, bounds: [Double],
                call: ClassCall) -> (String?, MeasuredErrors) {
    var measured = MeasuredErrors()
    guard let ref else {
        return (fast == nil ? nil : "\(what): got a result, expected none; \(call)", measured)
    }
    guard let fast else { return ("\(what): missing; \(call)", measured) }
    let allowed = bounds.filter(\.isFinite).max() ?? 0
    let result = compare(actual: fast, expected: ref, tolerance: Tolerance(rtol: 0, atol: allowed), floatULPs: true)
    if !result.passed {
        return ("\(what): \(result); \(call)", measured)
    }
    var worst: (index: Int, ratio: Double)? = nil
    let scale = result.scale
    for i in 0..<ref.count {
        let r = ref.scalars[i], f = Double(fast.scalars[i])
        guard r.isFinite && f.isFinite else { continue }
        guard bounds[i].isFinite else {
            return ("\(what)[\(i)]: no finite bound for a finite reference value \(r) (a bound formula met 0 * inf); \(call)", measured)
        }
        let error = abs(f - r)
        let ratio = error == 0 ? 0 : error / bounds[i]
        measured.ulps.append(ULP.floatDistance(actual: f, expected: r) ?? .max)
        measured.headroom = max(measured.headroom, ratio)
        if scale > 0 { measured.normULPs = max(measured.normULPs, error / Double(Float(scale).ulp)) }
        if ratio > 1, ratio > (worst?.ratio ?? 0) { worst = (i, ratio) }
    }
    if let worst {
        let i = worst.index
        let r = ref.scalars[i], f = Double(fast.scalars[i])
        let index = Shape.describe(ComparisonResult.multiIndex(i, shape: ref.shape))
        return ("\(what)\(index): expected \(r), got \(f), error \(abs(f - r)) = "
                + "\(ULP.floatDistance(actual: f, expected: r).map(String.init) ?? "?") Float ulp, relative \(abs(f - r) / abs(r)); "
                + "bound \(bounds[i]) (\(worst.ratio)x over); \(call)", measured)
    }
    return (nil, measured)
}

/// Runs one call through both engines and checks output and gradients.
func checkClassCall(_ call: ClassCall, threads: Int? = nil) throws -> (failures: [String], value: MeasuredErrors, gradient: MeasuredErrors) {
    let fast = try call.fast(threads: threads)
    let ref = try call.reference()
    let bounds = try call.bounds(reference: ref)
    var failures: [String] = []
    let (o, value) = checkClass("output", fast: fast.output, ref: ref.output, bounds: bounds.output, call: call)
    if let o { failures.append(o) }
    var (g, gradient) = checkClass("gradInput", fast: fast.gradInput, ref: ref.gradInput, bounds: bounds.gradInput, call: call)
    if let g { failures.append(g) }
    let (t, gradTarget) = checkClass("gradTarget", fast: fast.gradTarget, ref: ref.gradTarget, bounds: bounds.gradTarget, call: call)
    if let t { failures.append(t) }
    gradient.merge(gradTarget)
    return (failures, value, gradient)
}

/// Collects measured errors per loss for the `LOSS_REPORT=1` summary.
final class ClassErrorReport: @unchecked Sendable {
    static let enabled = ProcessInfo.processInfo.environment["LOSS_REPORT"] == "1"
    private let lock = NSLock()
    private var value: [String: MeasuredErrors] = [:]
    private var gradient: [String: MeasuredErrors] = [:]

    func add(_ kind: String, value v: MeasuredErrors, gradient g: MeasuredErrors) {
        guard ClassErrorReport.enabled else { return }
        lock.lock(); defer { lock.unlock() }
        value[kind, default: MeasuredErrors()].merge(v)
        gradient[kind, default: MeasuredErrors()].merge(g)
    }

    /// Prints `lines(title)` when `LOSS_REPORT=1`.
    func print(_ title: String) {
        guard ClassErrorReport.enabled else { return }
        for line in lines(title) { Swift.print(line) }
    }

    /// One line per loss and quantity: median, p99 and max element ULPs, the largest
    /// norm-wise error in ULPs, and the largest fraction of the bound used.
    func lines(_ title: String) -> [String] {
        lock.lock(); defer { lock.unlock() }
        var lines: [String] = []
        for kind in value.keys.sorted() {
            for (name, m) in [("value", value[kind]!), ("gradient", gradient[kind]!)] {
                let sorted = m.ulps.sorted()
                guard !sorted.isEmpty else { continue }
                func q(_ f: Double) -> UInt64 { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * f))] }
                lines.append(String(format: "LOSS_REPORT %@, %@ %@ (%d elements): median %llu, p99 %llu, max %llu Float ulp; norm-wise max %.2f ulp; %.3f of the bound",
                                    title, kind, name, sorted.count, q(0.5), q(0.99), sorted.last!, m.normULPs, m.headroom))
            }
        }
        return lines
    }
}

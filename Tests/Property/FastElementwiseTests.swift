import Foundation
import Testing
import FastLosses
import LossVerification
import ReferenceLosses

// Fast (Float) vs the Double reference on the same Float inputs for bce, bce_with_logits,
// kl_div, poisson_nll and gaussian_nll: every regime the generators offer for each loss,
// every reduction, SIMD tail lengths, broadcast weights and variances, upstream
// gradients; special values against hand-worked limits; thread-count determinism.
//
// The error bound, derived (u = 2^-24, Float's unit roundoff; Float.ulpOfOne = 2u).
//
// Per element. The inputs are the same Floats for both engines, so only the Float
// evaluation errs (the Double reference's own error is below 2^-50 of the same scale,
// 2^-26 u, and is covered by the first-order bounds below with room to spare). A Float
// evaluation of a formula errs by the roundings of its steps, each relative to the value
// of that step; where the steps add terms of mixed signs, the error is relative to the
// sum of the terms' magnitudes, not to the (possibly cancelled) result. So each element's
// bound is `k u m_i` where `m_i` is the sum of the magnitudes of the parts of the formula
// (`m_i = kappa_i |l_i|`, kappa_i the condition number of the final sum; m_i = |l_i| when
// nothing cancels) and `k` counts the roundings along the longest chain:
//   - an arithmetic step: 1; `Float.ulpOfOne * 4 = 8u` covers the chains of up to 8,
//   - `VectorMath.exp`: 1.5 ULP <= 3u relative, `log`/`log1p`: 2 ULP <= 4u relative (their
//     contracts, checked exhaustively by scripts/check-vector-math; 1 ULP <= 2u |y|), and
//     `sigmoid` 3 ULP <= 6u. These push a few chains past 8u; those are counted, not
//     rounded down to 4 * Float.ulpOfOne.
//   - a gradient element: 2 more (the upstream factor `Float(g / den)` and the product).
// The magnitudes `m` (weights `w`, pos_weight `p`, `c = 1 + (p - 1) y`, `ls` = log_sigmoid,
// `s` = sigmoid; derivations of the counts in the kernels' doc comments):
//   loss                 value: m, k                          d/dinput: m, k           d/dtarget: m, k
//   bce                  w(|y A| + |(1-y) B|), 8              w(|x|+|y|)/max(x(1-x),eps12), 7   w(|log1p(-x)| + |log x|), 8
//                        (A, B the clamped logs; the parts share a sign: m = |l|)
//   bce_with_logits      w(|(1-y) x| + |ls(x)|), 9            w(s + |y|), 10           w|x|, 3
//   ... with pos_weight  w(|(1-y) x| + c|ls(x)|), 12          w(c s + |p y|), 13       w(|ls(-x)| + p|ls(x)|), 13
//   kl_div               |t|(|log t| + |x|), 6                |t|, 2                   |log t| + 1 + |x|, 8
//   ... log_target       e^t (|t| + |x|), 5                   e^t, 5                   e^t (|t| + |x| + 1), 8
//   poisson_nll log      e^x + |t x| (+S), 8                  e^x + |t|, 6             |x| (+S'), 8
//   ... rate             |x| + |t|(|log s| + 1) (+S), 9       1 + |t/s|, 6             |log s| + 1 (+S'), 8
//   gaussian_nll         0.5(|log v| + e^2/v) + C, 7          |e|/v, 5                 |e|/v, 5
// with `s = x + eps` (its Float rounding moves `log s` by up to 2u absolutely: the `+ 1`),
// Stirling parts `S = |t log t| + |t| + 0.5|log(2 pi t)|`, `S' = |log t| + 1/(2t)` where
// t > 1, `v = max(var, eps)`, `C = 0.5 log(2 pi)` with full. Gradient magnitudes are
// multiplied by `|g_i|` (none) or `|g| / den` (sum/mean/batchmean).
// The bce_with_logits value is computed as `w [a x + c L]` (see its doc comment), whose parts
// are at most m; kl_div's `t log t - t x` and gaussian's `log v + e^2/v` cancel for real:
// their m is the honest scale, not |l|.
//
// The assertion. Norm-wise, as the golden rule: `max_i |fast_i - ref_i| <= k u max_i m_i`
// (via `compare` with `atol`), and also element by element, `|fast_i - ref_i| <= k u m_i`,
// which implies it. Results in the subnormal range may err by 2^-150 per rounding: an
// absolute floor of 2^-147 everywhere. A reference value beyond Float's range must be the
// same infinity in Float; NaN must be at the same places (the comparison rule).
//
// Reductions. The terms (each within `k u m_i`) are summed by `BlockedSum` (Float lane
// partials of at most 16 terms, then Double; see FastRegressionTests for the derivation of
// `FastCompare.reductionBound`), then divided by `den` and rounded once:
//   |fast - ref| <= (k_value u + reductionBound) * sum_i m_i / den.
//
// Report. `LOSS_REPORT=1` prints, per loss and quantity, the measured errors in Float ULPs
// of the reference value (median, p99, max over all elements of all cases) and the largest
// error in units of `u m_i` (the quantity the bound limits).

/// The five losses of this file and the helpers their tests share.
enum FastElementwise {
    static let losses = ["bce", "bce_with_logits", "kl_div", "poisson_nll", "gaussian_nll"]
    static let u = Double(Float.ulpOfOne) / 2
    /// Absolute floor for results in the subnormal range.
    static let floor = 0x1p-147

    /// The fast engine on a generated case's arguments, rounded to Float (exactly: the
    /// generators make Float values).
    static func fast(_ loss: AnyLoss, _ a: LossArguments<Float>, gradients: GradientRequest = .all,
                     threads: Int? = nil) throws(LossError) -> LossResult<Float> {
        guard case .values(let t) = a.target else { throw LossError(.target, "\(loss.name): class targets are not elementwise") }
        switch loss {
        case .bce(let l): return try Fast.evaluate(l, input: a.input, target: t, upstream: a.upstream, gradients: gradients, threads: threads)
        case .bceWithLogits(let l): return try Fast.evaluate(l, input: a.input, target: t, upstream: a.upstream, gradients: gradients, threads: threads)
        case .klDiv(let l): return try Fast.evaluate(l, input: a.input, target: t, upstream: a.upstream, gradients: gradients, threads: threads)
        case .poissonNLL(let l): return try Fast.evaluate(l, input: a.input, target: t, upstream: a.upstream, gradients: gradients, threads: threads)
        case .gaussianNLL(let l):
            guard let v = a.variance else { throw LossError(.shape, "gaussian_nll: no var") }
            return try Fast.evaluate(l, input: a.input, target: t, variance: v, upstream: a.upstream, gradients: gradients, threads: threads)
        default: throw LossError(.option, "\(loss.name) is not one of \(losses)")
        }
    }

    /// `loss` with another reduction.
    static func with(_ loss: AnyLoss, _ reduction: Reduction) -> AnyLoss {
        switch loss {
        case .bce(var l): l.reduction = reduction; return .bce(l)
        case .bceWithLogits(var l): l.reduction = reduction; return .bceWithLogits(l)
        case .klDiv(var l): l.reduction = reduction; return .klDiv(l)
        case .poissonNLL(var l): l.reduction = reduction; return .poissonNLL(l)
        case .gaussianNLL(var l): l.reduction = reduction; return .gaussianNLL(l)
        default: return loss
        }
    }

    /// The reductions a loss accepts.
    static func reductions(_ name: String) -> [Reduction] {
        name == "kl_div" ? [.none, .sum, .mean, .batchmean] : [.none, .sum, .mean]
    }

    // MARK: The bound

    /// Per-element magnitudes `m` of the value and of both derivatives (weights included,
    /// the upstream factor not), and the rounding counts `k`, as in the table at the top.
    struct Scales {
        var value: [Double] = [], dInput: [Double] = [], dTarget: [Double] = []
        var k: (value: Double, dInput: Double, dTarget: Double) = (0, 0, 0)
    }

    static func logSigmoid(_ x: Double) -> Double { Swift.min(x, 0) - Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
    static func sigmoid(_ x: Double) -> Double {
        x < 0 ? Foundation.exp(x) / (1 + Foundation.exp(x)) : 1 / (1 + Foundation.exp(-x))
    }

    static func scales(_ loss: AnyLoss, _ a: LossArguments<Double>) throws -> Scales {
        let x = a.input.scalars, shape = a.input.shape, n = x.count
        guard case .values(let target) = a.target else { throw LossError(.target, "class targets") }
        let y = target.scalars
        func expand(_ w: Tensor<Double>?, _ name: String) throws -> [Double] {
            guard let w else { return Array(repeating: 1, count: n) }
            return try Broadcast(w.shape, to: shape, loss: loss.name, argument: name).expand(w.scalars)
        }
        var s = Scales()
        switch loss {
        case .bce(let l):
            let w = try expand(l.weight, "weight")
            let eps12 = Double(Float(1e-12))
            for i in 0..<n {
                let logX = Foundation.log(x[i]), log1mX = Foundation.log1p(-x[i])
                s.value.append(abs(w[i]) * (abs(y[i] * max(logX, -100)) + abs((1 - y[i]) * max(log1mX, -100))))
                s.dInput.append(abs(w[i]) * (abs(x[i]) + abs(y[i])) / max(x[i] * (1 - x[i]), eps12))
                s.dTarget.append(abs(w[i]) * (abs(log1mX) + abs(logX)))
            }
            s.k = (8, 7, 8)
        case .bceWithLogits(let l):
            let w = try expand(l.weight, "weight"), p = try expand(l.posWeight, "pos_weight")
            for i in 0..<n {
                let ls = logSigmoid(x[i]), c = 1 + (p[i] - 1) * y[i]
                s.value.append(abs(w[i]) * (abs((1 - y[i]) * x[i]) + abs(c * ls)))
                s.dInput.append(abs(w[i]) * (abs(c * sigmoid(x[i])) + abs(p[i] * y[i])))
                s.dTarget.append(l.posWeight == nil ? abs(w[i] * x[i]) : abs(w[i]) * (abs(logSigmoid(-x[i])) + abs(p[i] * ls)))
            }
            s.k = l.posWeight == nil ? (9, 10, 3) : (12, 13, 13)
        case .klDiv(let l):
            for i in 0..<n {
                let t = y[i]
                if l.logTarget {
                    let e = Foundation.exp(t)
                    s.value.append(e * (abs(t) + abs(x[i])))
                    s.dInput.append(e)
                    s.dTarget.append(e * (abs(t) + abs(x[i]) + 1))
                } else {
                    let logT = t == 0 ? 0 : Foundation.log(t)
                    s.value.append(abs(t) * (abs(logT) + abs(x[i])))
                    s.dInput.append(abs(t))
                    s.dTarget.append(abs(logT) + 1 + abs(x[i]))
                }
            }
            s.k = l.logTarget ? (5, 5, 8) : (6, 2, 8)
        case .poissonNLL(let l):
            for i in 0..<n {
                let t = y[i]
                var mv: Double, mi: Double, mt: Double
                if l.logInput {
                    let rate = Foundation.exp(x[i])
                    (mv, mi, mt) = (rate + abs(t * x[i]), rate + abs(t), abs(x[i]))
                } else {
                    let shifted = x[i] + l.eps, logRate = Foundation.log(shifted)
                    (mv, mi, mt) = (abs(x[i]) + abs(t) * (abs(logRate) + 1), 1 + abs(t / shifted), abs(logRate) + 1)
                }
                if l.full && t > 1 {
                    let logT = Foundation.log(t)
                    mv += abs(t * logT) + abs(t) + 0.5 * abs(Foundation.log(2 * Double.pi * t))
                    mt += abs(logT) + 1 / (2 * t)
                }
                s.value.append(mv); s.dInput.append(mi); s.dTarget.append(mt)
            }
            s.k = l.logInput ? (8, 6, 8) : (9, 6, 8)
        case .gaussianNLL(let l):
            guard let variance = a.variance else { throw LossError(.shape, "no var") }
            let v = try l.validate(input: shape, target: target.shape, variance: variance.shape).1.expand(variance.scalars)
            let constant = l.full ? 0.5 * Foundation.log(2 * Double.pi) : 0
            for i in 0..<n {
                let vi = v[i].isNaN ? v[i] : max(v[i], l.eps), e = x[i] - y[i]
                s.value.append(0.5 * (abs(Foundation.log(vi)) + e * e / vi) + constant)
                s.dInput.append(abs(e) / vi)
                s.dTarget.append(abs(e) / vi)
            }
            s.k = (7, 5, 5)
        default:
            throw LossError(.option, "\(loss.name) is not one of \(losses)")
        }
        return s
    }

    // MARK: Comparison and statistics

    /// Measured errors of one quantity (value, a gradient, a reduced output): in Float ULPs
    /// of the reference value (normal results only), and the largest error in units of
    /// `u m_i` (elements whose bound is not the floor).
    struct Stats {
        var ulps: [Double] = []
        var worstScaled = 0.0

        mutating func merge(_ other: Stats) {
            ulps += other.ulps
            worstScaled = max(worstScaled, other.worstScaled)
        }

        func summary(_ name: String) -> String {
            guard !ulps.isEmpty else { return "\(name): no finite values" }
            let sorted = ulps.sorted()
            func pick(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(q * Double(sorted.count - 1)))] }
            return String(format: "%@: %d values, error in Float ULPs median %.3g, p99 %.3g, max %.3g; worst error / (u m) %.3g",
                          name, sorted.count, pick(0.5), pick(0.99), sorted.last!, worstScaled)
        }
    }

    /// The reference values as Float can hold them: a finite value beyond Float's range
    /// is the infinity a Float result must produce.
    static func floatRange(_ r: [Double]) -> [Double] {
        r.map { $0.isFinite && Float($0).isInfinite ? Double(Float($0)) : $0 }
    }

    /// Checks `fast` against `ref` under `|fast_i - ref_i| <= k u m_i + floor` (norm-wise
    /// through `compare`, then element-wise), records the errors, and returns a failure
    /// message or nil.
    static func check(_ what: String, fast: Tensor<Float>?, ref: Tensor<Double>?, magnitudes m: [Double], k: Double,
                      stats: inout Stats) -> String? {
        guard let fast, let ref else {
            return fast == nil && ref == nil ? nil : "\(what): present in one result only"
        }
        let expected = try! Tensor(shape: ref.shape, scalars: floatRange(ref.scalars))
        guard m.count == expected.count else { return "\(what): \(m.count) magnitudes for \(expected.count) values" }
        let scale = m.filter(\.isFinite).max() ?? 0
        let bound = k * u * scale + floor
        let result = compare(actual: fast, expected: expected, tolerance: Tolerance(rtol: 0, atol: bound))
        if !result.passed {
            return "\(what): norm-wise bound k u max m = \(k) u * \(scale): \(result)"
        }
        for i in 0..<expected.count {
            let f = Double(fast.scalars[i]), r = expected.scalars[i]
            guard f.isFinite && r.isFinite else { continue }
            let error = abs(f - r)
            let ulp = Double(Float(r).magnitude.ulp)
            // Statistics over normal results, where the floor plays no part (an error of
            // 2^-149 is millions of "ULPs" of a subnormal result's neighbourhood).
            if abs(r) >= Double(Float.leastNormalMagnitude) { stats.ulps.append(error / ulp) }
            if u * m[i] >= floor && m[i].isFinite { stats.worstScaled = max(stats.worstScaled, error / (u * m[i])) }
            let allowed = k * u * m[i] + floor
            if !(error <= allowed) {
                return "\(what)[\(ComparisonResult.multiIndex(i, shape: expected.shape))]: expected \(r), got \(f), error \(error) = "
                    + "\(error / ulp) ulp; element bound k u m = \(k) u * \(m[i]) = \(allowed) (\(error / allowed)x)"
            }
        }
        return nil
    }

    /// Runs one case through both engines and checks every output; returns the failures.
    static func run(_ c: GeneratedCase, stats: inout [String: Stats]) throws -> [String] {
        let loss = c.loss, args = c.arguments
        let fast = try FastElementwise.fast(loss, args.map { Float($0) })
        let ref = try Reference.evaluate(loss, args, gradients: .all)
        let s = try scales(loss, args)
        let n = args.input.count
        // The gradient factor per element: |g_i| (none) or |g| / den.
        let factor: [Double]
        let reduction = loss.reduction
        if reduction == .none {
            factor = args.upstream.map { $0.scalars.map { abs($0) } } ?? Array(repeating: 1, count: n)
        } else {
            let den = reduction == .sum ? 1 : Double(reduction == .batchmean ? KLDivLoss.batchSize(args.input.shape) : n)
            factor = Array(repeating: abs(args.upstream?.scalars[0] ?? 1) / den, count: n)
        }
        var failures: [String] = []
        func note(_ name: String, _ f: Tensor<Float>?, _ r: Tensor<Double>?, _ m: [Double], _ k: Double) {
            var st = Stats()
            if let failure = check(name, fast: f, ref: r, magnitudes: m, k: k, stats: &st) { failures.append(failure) }
            stats[name, default: Stats()].merge(st)
        }
        if reduction == .none {
            note("value", fast.output, ref.output, s.value, s.k.value)
        } else {
            let den = reduction == .sum ? 1 : Double(reduction == .batchmean ? KLDivLoss.batchSize(args.input.shape) : n)
            let total = s.value.reduce(0, +) / den
            let k = s.k.value + FastCompare.reductionBound / u
            note("reduced \(reduction.rawValue)", fast.output, ref.output, [total], k)
        }
        note("gradInput", fast.gradInput, ref.gradInput, zip(s.dInput, factor).map { $0 * $1 }, s.k.dInput + 2)
        note("gradTarget", fast.gradTarget, ref.gradTarget, zip(s.dTarget, factor).map { $0 * $1 }, s.k.dTarget + 2)
        return failures
    }
}

@Suite("Fast vs Reference: bce, bce_with_logits, kl_div, poisson_nll, gaussian_nll")
struct FastElementwiseTests {
    /// Cases per (regime, reduction, tails on/off) combination.
    static let casesPerCombination = 4

    /// The generator options of case `index`: the combinations of regime, reduction and
    /// SIMD tails in turn, so every one is covered.
    static func options(for name: String, index: Int) -> GeneratorOptions {
        let regimes = Generators.regimes(for: name), reductions = FastElementwise.reductions(name)
        let combination = index % (regimes.count * reductions.count * 2)
        return GeneratorOptions(regimes: [regimes[combination % regimes.count]],
                                reductions: [reductions[combination / regimes.count % reductions.count]],
                                simdTails: combination / (regimes.count * reductions.count) == 1)
    }

    @Test("generated cases: every regime, reduction, tail length and broadcast", arguments: FastElementwise.losses)
    func generatedCases(_ name: String) throws {
        let env = TestEnvironment.current
        #expect(env.problems.isEmpty, "\(env.problems)")
        let combinations = Generators.regimes(for: name).count * FastElementwise.reductions(name).count * 2
        var stats: [String: FastElementwise.Stats] = [:]
        for index in env.caseIndices(base: combinations * Self.casesPerCombination) {
            let options = Self.options(for: name, index: index)
            let c = try Generators.case(for: name, seed: env.seed, index: index, options: options)
            let failures = try FastElementwise.run(c, stats: &stats)
            #expect(failures.isEmpty, """
                \(c)
                \(failures.joined(separator: "\n"))
                rebuild: \(c.rerunHint ?? "") with options regimes [\(options.regimes![0].rawValue)], \
                reductions [\(options.reductions![0].rawValue)], simdTails \(options.simdTails)
                rerun: \(env.rerunCommand(filter: "FastElementwiseTests", caseIndex: index))
                """)
        }
        if ProcessInfo.processInfo.environment["LOSS_REPORT"] == "1" {
            print("[\(name)] seed \(TestEnvironment.hex(env.seed)):\n  "
                  + stats.keys.sorted().map { stats[$0]!.summary($0) }.joined(separator: "\n  "))
        }
    }

    @Test("long inputs: blocks and chunk boundaries", arguments: FastElementwise.losses)
    func longInputs(_ name: String) throws {
        let env = TestEnvironment.current
        var stats: [String: FastElementwise.Stats] = [:]
        // Vectors of up to 40000 elements: several 256-element blocks, two or three chunks.
        for index in env.caseIndices(base: 2) {
            let options = GeneratorOptions(regimes: [Generators.regimes(for: name)[0]], shapes: [.vector],
                                           reductions: [index % 2 == 0 ? .mean : .none], maxElements: 40_000)
            let c = try Generators.case(for: name, seed: env.seed &+ 0x10_0000, index: index, options: options)
            let failures = try FastElementwise.run(c, stats: &stats)
            #expect(failures.isEmpty, "\(c)\n\(failures.joined(separator: "\n"))\nrerun: \(env.rerunCommand(filter: "FastElementwiseTests", caseIndex: index))")
        }
    }
}

// MARK: - Special values, hand-worked

/// Checks `actual` against hand-worked `expected`: NaN at the same places, infinities and
/// zeros exactly, finite values within `k u |expected|` (k: the loss's rounding count).
private func expectValues(_ what: String, _ actual: [Float]?, _ expected: [Double], k: Double,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    guard let actual, actual.count == expected.count else {
        Issue.record("\(what): \(actual.map { "\($0.count) values" } ?? "missing"), expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    for i in expected.indices {
        let a = Double(actual[i]), e = Double(Float(expected[i]))  // e: the Float the result should round to
        let ok: Bool
        if e.isNaN { ok = a.isNaN }
        else if e.isInfinite || e == 0 { ok = a == e }
        else { ok = abs(a - expected[i]) <= k * FastElementwise.u * abs(expected[i]) + FastElementwise.floor }
        #expect(ok, "\(what)[\(i)]: expected \(expected[i]), got \(a) (\(abs(a - expected[i]) / Double(Float(expected[i]).ulp)) ulp)",
                sourceLocation: sourceLocation)
    }
}

@Suite("Fast: special values of bce, bce_with_logits, kl_div, poisson_nll, gaussian_nll")
struct FastElementwiseSpecialValueTests {
    static let inf = Double.infinity
    static let big = Double(Float.greatestFiniteMagnitude)

    @Test("bce_with_logits: huge and infinite logits give the limits, finite where the exact answer is")
    func logitLimits() throws {
        let inf = Self.inf, big = Self.big
        // x = +-inf: the limits of deviation 4; +-1e30, +-greatestFinite: the exact values
        // (t = exp(-|x|) = 0, so loss = (1 - y) x for x > 0 and -y x for x < 0, gradient
        // sigmoid - y = 1 - y or -y, target gradient -x); 1e4 with y = 1: exp(-1e4) = 0.
        let x: [Float] = [.infinity, .infinity, .infinity, -.infinity, -.infinity, -.infinity, 1e30, -1e30,
                          .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e4, -1e4]
        let y: [Float] = [1, 0, 0.25, 0, 1, 0.25, 0, 1, 0.5, 0.5, 1, 0]
        let r = try Fast.evaluate(BCEWithLogitsLoss(reduction: .none), input: Tensor(x), target: Tensor(y), gradients: .all)
        expectValues("no weights: output", r.output.scalars, [0, inf, inf, 0, inf, inf, Double(Float(1e30)), Double(Float(1e30)),
                                                               0.5 * big, 0.5 * big, 0, 0], k: 3)
        expectValues("no weights: gradInput", r.gradInput?.scalars, [0, 1, 0.75, 0, -1, -0.25, 1, -1, 0.5, -0.5, 0, 0], k: 3)
        expectValues("no weights: gradTarget", r.gradTarget?.scalars, x.map { -Double($0) }, k: 0)

        // weight 0.25, pos_weight 2.5 (c = 1 + 1.5 y): at x = -greatestFinite, y = 1 the
        // loss w p y |x| = 0.625 greatestFinite is finite although p |x| alone overflows;
        // the same for the target gradient w [log_sigmoid(-x) - p log_sigmoid(x)] = w p |x|.
        let xw: [Float] = [.infinity, .infinity, -.infinity, -.infinity, -.greatestFiniteMagnitude, .greatestFiniteMagnitude]
        let yw: [Float] = [1, 0, 0, 1, 1, 0]
        let weighted = BCEWithLogitsLoss(reduction: .none, weight: Tensor(scalar: 0.25), posWeight: Tensor(scalar: 2.5))
        let rw = try Fast.evaluate(weighted, input: Tensor(xw), target: Tensor(yw), gradients: .all)
        expectValues("weight 0.25, pos_weight 2.5: output", rw.output.scalars, [0, inf, 0, inf, 0.625 * big, 0.25 * big], k: 4)
        // d/dx = w (c sigmoid - p y): +inf: w (1 - y); -inf: -w p y.
        expectValues("weight 0.25, pos_weight 2.5: gradInput", rw.gradInput?.scalars, [0, 0.25, 0, -0.625, -0.625, 0.25], k: 4)
        expectValues("weight 0.25, pos_weight 2.5: gradTarget", rw.gradTarget?.scalars, [-inf, -inf, inf, inf, 0.625 * big, -0.25 * big], k: 4)

        // pos_weight 0 at x = -inf, y = 1: p y = 0, so the loss is 0, d/dx = -p y = 0 and
        // d/dy = log_sigmoid(+inf) - 0 * log_sigmoid(-inf), whose limit is 0.
        let zero = BCEWithLogitsLoss(reduction: .none, posWeight: Tensor(scalar: 0))
        let rz = try Fast.evaluate(zero, input: Tensor([-.infinity, .infinity]), target: Tensor([1, 1]), gradients: .all)
        expectValues("pos_weight 0: output", rz.output.scalars, [0, 0], k: 0)
        expectValues("pos_weight 0: gradInput", rz.gradInput?.scalars, [0, 0], k: 0)
        expectValues("pos_weight 0: gradTarget", rz.gradTarget?.scalars, [0, -inf], k: 0)

        // A zero weight on an infinite limit is NaN (0 * inf), as PyTorch and the reference.
        let w0 = BCEWithLogitsLoss(reduction: .none, weight: Tensor(scalar: 0))
        let r0 = try Fast.evaluate(w0, input: Tensor([.infinity, 1]), target: Tensor([0.5, 0.5]), gradients: .all)
        expectValues("weight 0: output", r0.output.scalars, [.nan, 0], k: 0)
        expectValues("weight 0: gradTarget", r0.gradTarget?.scalars, [.nan, 0], k: 0)

        // NaN in either argument is NaN in the loss; a NaN logit in both gradients.
        let rn = try Fast.evaluate(BCEWithLogitsLoss(reduction: .none), input: Tensor([.nan, 1]), target: Tensor([1, .nan]), gradients: .all)
        expectValues("NaN: output", rn.output.scalars, [.nan, .nan], k: 0)
        expectValues("NaN: gradInput", rn.gradInput?.scalars, [.nan, .nan], k: 0)
    }

    @Test("bce_with_logits: the input gradient is VectorMath.sigmoid bit for bit (y = 0, no weights)")
    func sigmoidIdentity() throws {
        // Logits across the ranges of sigmoid's two branches, the rounding-to-1 region,
        // subnormal results and the infinities; 37 values so a partial vector is included.
        var x: [Float] = [0, -0.0, 1, -1, 17.3, -17.3, 30, -87.3, -100, -103.9, .infinity, -.infinity]
        x += (0..<25).map { Float($0 - 12) * 3.7 }
        let r = try Fast.evaluate(BCEWithLogitsLoss(reduction: .none), input: Tensor(x),
                                  target: Tensor(repeating: 0, shape: [x.count]), gradients: .input)
        let expected = x.map { VectorMath.sigmoid($0).bitPattern }
        #expect(r.gradInput!.scalars.map(\.bitPattern) == expected,
                "gradInput differs from VectorMath.sigmoid at \(zip(r.gradInput!.scalars, x).filter { $0.0 != VectorMath.sigmoid($0.1) }.prefix(3))")
    }

    @Test("bce: the -100 clamp, PyTorch's gradient and the unclamped target gradient")
    func bceValues() throws {
        let x: [Float] = [0, 1, 0, 1, 0.5, 0.25]
        let y: [Float] = [1, 0, 0, 1, 0.5, 0]
        let r = try Fast.evaluate(BCELoss(reduction: .none), input: Tensor(x), target: Tensor(y), gradients: .all)
        let eps12 = Double(Float(1e-12)), inf = Self.inf
        // Certain and wrong: 100 (the clamp), gradient -+1/eps12; certain and right: 0.
        // (0.5, 0.5): -[0.5 ln 0.5 + 0.5 ln 0.5] = ln 2. (0.25, 0): -ln 0.75, gradient
        // 0.25 / (0.25 * 0.75) = 4/3, target gradient ln 0.75 - ln 0.25 = ln 3.
        expectValues("bce output", r.output.scalars, [100, 100, 0, 0, M_LN2, -log(0.75)], k: 8)
        expectValues("bce gradInput", r.gradInput?.scalars, [-1 / eps12, 1 / eps12, 0, 0, 0, 4.0 / 3], k: 7)
        expectValues("bce gradTarget", r.gradTarget?.scalars, [inf, -inf, inf, -inf, 0, log(3.0)], k: 8)
    }

    @Test("bce: values outside [0, 1] or NaN are errors naming the element, found before anything is written")
    func bceValidation() throws {
        let cases: [([Float], [Float], LossError.Kind, String)] = [
            ([0.5, 1.5, 0.2], [0, 1, 0], .input, "input[1]"),
            ([0.5, 0.5, .nan], [0, 1, 0], .input, "input[2]"),
            ([0.5, 0.5, 0.5], [0, -0.25, 0], .target, "target[1]"),
            ([0.5, 0.5, 0.5], [0, 1, .nan], .target, "target[2]"),
            ([-0.0, 1, 0], [1, 0, -0.0], .input, ""),  // -0 is in [0, 1]: no error (kind unused)
        ]
        for (x, y, kind, name) in cases {
            var out: [Float] = [-7]
            var failure: LossError?
            x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in out.withUnsafeMutableBufferPointer { ob in
                do throws(LossError) {
                    try Fast.evaluate(BCELoss(reduction: .sum), input: xb, target: yb, shape: [3], into: Fast.Outputs(output: ob))
                } catch { failure = error }
            }}}
            if name.isEmpty {
                #expect(failure == nil, "bce x \(x) y \(y): unexpected \(failure?.description ?? "")")
            } else {
                #expect(failure?.kind == kind && failure?.message.contains(name) == true, "bce x \(x) y \(y): expected a \(kind) error naming \(name), got \(failure?.description ?? "none")")
                #expect(out == [-7], "bce x \(x) y \(y): the output was written before the error: \(out)")
            }
        }
        // A wrong buffer length is reported before the values are read.
        let x: [Float] = [2, 0.5], y: [Float] = [0, 0, 0]
        var out: [Float] = [0]
        var failure: LossError?
        x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in out.withUnsafeMutableBufferPointer { ob in
            do throws(LossError) {
                try Fast.evaluate(BCELoss(), input: xb, target: yb, shape: [3], into: Fast.Outputs(output: ob))
            } catch { failure = error }
        }}}
        #expect(failure?.kind == .shape && failure?.message.contains("input buffer") == true, "short input buffer: \(failure?.description ?? "none")")
    }

    @Test("bce: a bad value in the last chunk of a parallel call is found and named")
    func bceValidationParallel() throws {
        let n = Fast.parallelThreshold + 123
        var x = [Float](repeating: 0.5, count: n)
        x[n - 2] = 1.0000001
        for threads in [1, 3] {
            #expect(throws: LossError.self, "threads \(threads)") {
                try Fast.evaluate(BCELoss(), input: Tensor(x), target: Tensor(x.map { _ in 0 }), threads: threads)
            }
            do {
                _ = try Fast.evaluate(BCELoss(), input: Tensor(x), target: Tensor(x.map { _ in 0 }), threads: threads)
            } catch {
                #expect(error.kind == .input && error.message.contains("input[\(n - 2)]"), "threads \(threads): \(error)")
            }
        }
    }

    @Test("kl_div: 0 log 0 = 0 whatever the input, NaN target gradient at t = 0, log-target limits, batchmean")
    func klDivValues() throws {
        let nan = Double.nan
        let x: [Float] = [-.infinity, .infinity, .nan, 1, -0.5]
        let t: [Float] = [0, 0, 0, 0, 0.5]
        let r = try Fast.evaluate(KLDivLoss(reduction: .none), input: Tensor(x), target: Tensor(t), gradients: .all)
        // (x = -0.5, t = 0.5): 0.5 (ln 0.5 + 0.5); d/dx = -0.5; d/dt = ln 0.5 + 1 + 0.5.
        expectValues("kl_div output", r.output.scalars, [0, 0, nan, 0, 0.5 * (-M_LN2 + 0.5)], k: 6)
        expectValues("kl_div gradInput", r.gradInput?.scalars, [0, 0, 0, 0, -0.5], k: 0)
        expectValues("kl_div gradTarget", r.gradTarget?.scalars, [nan, nan, nan, nan, -M_LN2 + 1.5], k: 8)

        let lt = Float(-M_LN2)  // log 0.5 rounded to Float; e^lt is 0.5 up to 2^-25 relative
        let xl: [Float] = [-.infinity, 1, .nan, .infinity, 0]
        let tl: [Float] = [-.infinity, -.infinity, -.infinity, -.infinity, lt]
        let rl = try Fast.evaluate(KLDivLoss(reduction: .none, logTarget: true), input: Tensor(xl), target: Tensor(tl), gradients: .all)
        let e = exp(Double(lt))
        expectValues("kl_div log_target output", rl.output.scalars, [0, 0, nan, 0, e * Double(lt)], k: 5)
        expectValues("kl_div log_target gradInput", rl.gradInput?.scalars, [0, 0, 0, 0, -e], k: 5)
        expectValues("kl_div log_target gradTarget", rl.gradTarget?.scalars, [nan, 0, nan, nan, e * (Double(lt) + 1)], k: 8)

        // batchmean divides by the size of dimension 0 (1 for a scalar; NaN over no rows).
        var rng = SeededGenerator(seed: TestEnvironment.current.seed)
        let xs = (0..<12).map { _ in Float(-rng.uniform(0.1, 3)) }, ts = (0..<12).map { _ in Float(rng.uniform(0, 1)) }
        let shaped = (try Tensor(shape: [4, 3], scalars: xs), try Tensor(shape: [4, 3], scalars: ts))
        let sum = try Fast.evaluate(KLDivLoss(reduction: .sum), input: shaped.0, target: shaped.1).output.scalars[0]
        let batchmean = try Fast.evaluate(KLDivLoss(reduction: .batchmean), input: shaped.0, target: shaped.1, gradients: .input)
        // The same Double sum divided by 4 rather than 1, each rounded once: exactly sum / 4.
        #expect(batchmean.output.scalars[0] == sum / 4, "batchmean over [4, 3]: \(batchmean.output.scalars[0]), sum / 4 = \(sum / 4)")
        #expect(batchmean.gradInput!.scalars == ts.map { -$0 / 4 }, "batchmean gradInput: -t / 4 exactly (a power of 2)")
        let scalar = try Fast.evaluate(KLDivLoss(reduction: .batchmean), input: Tensor(scalar: -1), target: Tensor(scalar: 0.25))
        let scalarSum = try Fast.evaluate(KLDivLoss(reduction: .sum), input: Tensor(scalar: -1), target: Tensor(scalar: 0.25))
        #expect(scalar.output.scalars == scalarSum.output.scalars, "batchmean of a scalar divides by 1")
        let empty = try Fast.evaluate(KLDivLoss(reduction: .batchmean), input: Tensor(shape: [0, 3], scalars: []), target: Tensor(shape: [0, 3], scalars: []))
        #expect(empty.output.scalars.count == 1 && empty.output.scalars[0].isNaN, "batchmean over 0 rows: \(empty.output.scalars)")
    }

    @Test("poisson_nll: the Stirling term is masked where t <= 1 (gradient 0, not NaN), NaN t is not")
    func poissonMask() throws {
        let t: [Float] = [0, 1, 0.5, 1 + 0x1p-20, 2, .nan]
        let x = [Float](repeating: 0, count: t.count)
        let r = try Fast.evaluate(PoissonNLLLoss(reduction: .none, full: true), input: Tensor(x), target: Tensor(t), gradients: .all)
        // log-input at x = 0: exp(0) - t * 0 = 1, d/dx = 1 - t, d/dt = -x = 0, plus where t > 1
        // s(t) = t ln t - t + 0.5 ln(2 pi t) and s'(t) = ln t + 1/(2t), evaluated here in Double.
        func s(_ t: Double) -> Double { t * log(t) - t + 0.5 * log(2 * .pi * t) }
        func ds(_ t: Double) -> Double { log(t) + 1 / (2 * t) }
        let t1 = Double(t[3])
        expectValues("poisson output", r.output.scalars, [1, 1, 1, 1 + s(t1), 1 + s(2), .nan], k: 8)
        expectValues("poisson gradInput", r.gradInput?.scalars, [1, 0, 0.5, 1 - t1, -1, .nan], k: 6)
        expectValues("poisson gradTarget", r.gradTarget?.scalars, [0, 0, 0, ds(t1), ds(2), .nan], k: 8)
    }

    @Test("gaussian_nll: variance shapes, the clamp at eps, NaN and negative variances")
    func gaussianVariance() throws {
        var rng = SeededGenerator(seed: TestEnvironment.current.seed)
        let xs = (0..<6).map { _ in Float(rng.normal()) }, ys = (0..<6).map { _ in Float(rng.normal()) }
        let x = try Tensor(shape: [2, 3], scalars: xs), y = try Tensor(shape: [2, 3], scalars: ys)
        let loss = GaussianNLLLoss(reduction: .none)
        // One variance per row: [2] (the input's shape without its last dimension) and
        // [2, 1] read the same values.
        let perRow = try Fast.evaluate(loss, input: x, target: y, variance: Tensor([0.5, 2]), gradients: .all)
        let column = try Fast.evaluate(loss, input: x, target: y, variance: Tensor(shape: [2, 1], scalars: [0.5, 2]), gradients: .all)
        #expect(perRow.output.scalars == column.output.scalars && perRow.gradInput?.scalars == column.gradInput?.scalars,
                "var [2] and [2, 1] differ")
        // Against the formula: v = 0.5 in row 0, 2 in row 1.
        let expected = (0..<6).map { i -> Double in
            let v = i < 3 ? 0.5 : 2.0, e = Double(xs[i]) - Double(ys[i])
            return 0.5 * (log(v) + e * e / v)
        }
        let m = (0..<6).map { i -> Double in
            let v = i < 3 ? 0.5 : 2.0, e = Double(xs[i]) - Double(ys[i])
            return 0.5 * (abs(log(v)) + e * e / v)
        }
        for i in 0..<6 {
            let error = abs(Double(perRow.output.scalars[i]) - expected[i])
            #expect(error <= 7 * FastElementwise.u * m[i], "gaussian var [2], element \(i): \(perRow.output.scalars[i]) vs \(expected[i])")
        }
        // Variances below eps (0 and eps / 2) are evaluated at eps; NaN propagates.
        let clamp = try Fast.evaluate(GaussianNLLLoss(reduction: .none, eps: 0.125), input: Tensor([1, 1, 1, 1]), target: Tensor([0, 0, 0, 0]),
                                      variance: Tensor([0, 0.0625, 0.125, .nan]), gradients: .input)
        let atEps = 0.5 * (log(0.125) + 1 / 0.125)
        expectValues("gaussian clamp output", clamp.output.scalars, [atEps, atEps, atEps, .nan], k: 7)
        expectValues("gaussian clamp gradInput", clamp.gradInput?.scalars, [8, 8, 8, .nan], k: 0)
        // A negative variance is an input error naming it; a var buffer of the wrong length a shape error.
        #expect(throws: LossError.self) { try Fast.evaluate(loss, input: x, target: y, variance: Tensor([1, -0.5])) }
        do {
            _ = try Fast.evaluate(loss, input: x, target: y, variance: Tensor([1, -0.5]))
        } catch {
            #expect(error.kind == .input && error.message.contains("var[1]"), "negative var: \(error)")
        }
        var out = [Float](repeating: 0, count: 6)
        var failure: LossError?
        xs.withUnsafeBufferPointer { xb in ys.withUnsafeBufferPointer { yb in [Float(1)].withUnsafeBufferPointer { vb in
            out.withUnsafeMutableBufferPointer { ob in
                do throws(LossError) {
                    try Fast.evaluate(loss, input: xb, target: yb, variance: vb, shape: [2, 3], varianceShape: [2], into: Fast.Outputs(output: ob))
                } catch { failure = error }
            }
        }}}
        #expect(failure?.kind == .shape && failure?.message.contains("variance buffer") == true, "short var buffer: \(failure?.description ?? "none")")
    }

    @Test("a weight of ones gives the bits of no weight")
    func unitWeights() throws {
        var rng = SeededGenerator(seed: TestEnvironment.current.seed &+ 7)
        let n = 53
        let logits = (0..<n).map { _ in Float(3 * rng.normal()) }, probs = (0..<n).map { _ in Float(rng.uniform()) }
        let ones = try Tensor<Double>(repeating: 1, shape: [n])
        for reduction in [Reduction.none, .mean] {
            let a = try Fast.evaluate(BCELoss(reduction: reduction), input: Tensor(probs), target: Tensor(probs.reversed()), gradients: .all)
            let b = try Fast.evaluate(BCELoss(reduction: reduction, weight: ones), input: Tensor(probs), target: Tensor(probs.reversed()), gradients: .all)
            #expect(FastResultBits(a) == FastResultBits(b), "bce \(reduction) weight of ones: \(FastResultBits(a).firstDifference(from: FastResultBits(b)))")
            let c = try Fast.evaluate(BCEWithLogitsLoss(reduction: reduction), input: Tensor(logits), target: Tensor(probs), gradients: .all)
            let d = try Fast.evaluate(BCEWithLogitsLoss(reduction: reduction, weight: ones), input: Tensor(logits), target: Tensor(probs), gradients: .all)
            #expect(FastResultBits(c) == FastResultBits(d), "bce_with_logits \(reduction) weight of ones: \(FastResultBits(c).firstDifference(from: FastResultBits(d)))")
        }
    }
}

// MARK: - Determinism

@Suite("Fast: bitwise determinism of bce, bce_with_logits, kl_div, poisson_nll, gaussian_nll")
struct FastElementwiseDeterminismTests {
    /// Over the parallel threshold (17 chunks, the last one partial). The weighted losses
    /// use `[4097, 64]` (rows of whole vectors: broadcast reads stay contiguous, which
    /// keeps debug-mode time down; the lane-by-lane reads are pure functions of the
    /// element index, checked against the reference in FastElementwiseTests), the others a
    /// vector ending in a partial one.
    static let matrix = [4097, 64]
    static let vector = [Fast.parallelThreshold + 123]

    /// The arguments of one loss's calls: made once per test (debug builds generate
    /// random numbers slowly), with the options that exercise the most machinery.
    struct Arguments {
        let x: Tensor<Float>, probs: Tensor<Float>, reversed: Tensor<Float>, counts: Tensor<Float>
        let upstream: Tensor<Float>
        let classWeight: Tensor<Double>, rowWeight: Tensor<Double>, variance: Tensor<Float>

        init(shape: [Int], seed: UInt64) throws {
            let n = shape.reduce(1, *)
            var rng = SeededGenerator(seed: seed)
            let a = (0..<n).map { _ in Float(rng.uniform(-4, 4)) }
            let p = (0..<n).map { _ in Float(rng.uniform(0.001, 0.999)) }
            x = try Tensor(shape: shape, scalars: a)
            probs = try Tensor(shape: shape, scalars: p)
            reversed = try Tensor(shape: shape, scalars: p.reversed())
            counts = try Tensor(shape: shape, scalars: a.map { Float(Int(abs($0) * 2)) })
            upstream = try Tensor(shape: shape, scalars: p.map { $0 - 0.5 })
            classWeight = Tensor((0..<shape[shape.count - 1]).map { Double(Float(0.5 + Double($0) / 64)) })
            // Per row (the matrix shape only).
            let rows = shape.count == 2 ? shape[0] : 1
            rowWeight = try Tensor(shape: [rows, 1], scalars: (0..<rows).map { Double(Float(1 + Double($0 % 5) / 4)) })
            variance = try Tensor(shape: [rows], scalars: (0..<rows).map { Float($0 % 7) / 4 })
        }
    }

    static func call(_ name: String, _ a: Arguments, reduction: Reduction, threads: Int) throws -> LossResult<Float> {
        let upstream = reduction == .none ? a.upstream : Tensor(scalar: Float(0.75))
        switch name {
        case "bce":
            return try Fast.evaluate(BCELoss(reduction: reduction, weight: a.classWeight), input: a.probs, target: a.reversed,
                                     upstream: upstream, gradients: .all, threads: threads)
        case "bce_with_logits":
            return try Fast.evaluate(BCEWithLogitsLoss(reduction: reduction, weight: a.rowWeight, posWeight: a.classWeight),
                                     input: a.x, target: a.probs, upstream: upstream, gradients: .all, threads: threads)
        case "kl_div":
            return try Fast.evaluate(KLDivLoss(reduction: reduction == .mean ? .batchmean : reduction), input: a.x, target: a.probs,
                                     upstream: upstream, gradients: .all, threads: threads)
        case "poisson_nll":
            return try Fast.evaluate(PoissonNLLLoss(reduction: reduction, full: true), input: a.x, target: a.counts,
                                     upstream: upstream, gradients: .all, threads: threads)
        default:
            return try Fast.evaluate(GaussianNLLLoss(reduction: reduction, full: true), input: a.x, target: a.probs,
                                     variance: a.variance, upstream: upstream, gradients: .all, threads: threads)
        }
    }

    @Test("threads 1, 3, 8 (and 2) give identical bits", arguments: FastElementwise.losses)
    func threadCounts(_ name: String) throws {
        // `mean` (kl_div: batchmean), where the chunk sums meet; `none` writes each
        // element from its own values only, whatever thread computes it.
        let shape = ["kl_div", "poisson_nll"].contains(name) ? Self.vector : Self.matrix
        let arguments = try Arguments(shape: shape, seed: TestEnvironment.current.seed &+ UInt64(name.count))
        for reduction in [Reduction.mean] {
            let single = FastResultBits(try Self.call(name, arguments, reduction: reduction, threads: 1))
            // Debug builds run about 0.5 s per call at this size: 3 (an uneven split of the
            // 17 chunks) and 8 (one worker per two chunks) for every loss, 2 as well for
            // bce_with_logits, the loss with the most operands.
            for threads in name == "bce_with_logits" ? [2, 3, 8] : [3, 8] {
                let other = FastResultBits(try Self.call(name, arguments, reduction: reduction, threads: threads))
                #expect(other == single, "\(name) \(reduction) shape \(shape) threads=\(threads) vs 1: \(other.firstDifference(from: single)) seed \(TestEnvironment.hex(TestEnvironment.current.seed))")
            }
        }
    }
}

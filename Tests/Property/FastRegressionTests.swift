import Foundation
import Testing
import FastLosses
import ReferenceLosses

// Fast (Float) vs the Double reference on the same Float inputs, for mse, l1, huber and
// smooth_l1: every reduction, with and without upstream, default and non-default
// options, kinks, lengths around the SIMD width, the blocks and the chunks.
//
// The error bound, derived (u = 2^-24, Float's unit roundoff; Float.ulpOfOne = 2u):
//
// - Each element's term and derivative is computed in Float with at most 5 roundings
//   (smooth_l1's quadratic part, see its doc comment; mse needs 3, huber 4), each
//   relative to the exact value of that term -- the linear parts subtract at most half
//   the magnitude, so a rounding there costs at most 2u relative. Near a kink the side is
//   chosen with Float(delta) instead of delta; both sides agree there to second order in
//   |e - delta| <= u delta for the value and to u delta for the derivative. So every term
//   and every gradient element (two more roundings: g/n and the product) errs by at most
//   7u < 4 * Float.ulpOfOne = 8u relative to itself: PER_TERM = 4 * Float.ulpOfOne.
//   Norm-wise, max_i |fast_i - ref_i| <= PER_TERM * max_i |ref_i|.
// - A reduction sums the (already perturbed) terms: Float lane partials of at most
//   k = Fast.termsPerLane terms each, error <= (k - 1) u * sum|l_i| (Higham's
//   gamma_{k-1}, to first order); then Double lanes, a pairwise tree over the chunks and
//   the division by n, whose error is at most (depth + 2) 2^-53 sum|l_i| with
//   depth = log2(chunk count) + log2(blocks per chunk) + 4 (under 40 here); then one
//   rounding to Float, u |S|. So
//       |fast - ref| <= (PER_TERM + (k - 1) u + u + 42 * 2^-53) * sum|l_i| / den,
//   the norm-wise relative bound for a sum of non-negative terms (here sum|l_i| = |S|).
// - Results in the subnormal range may err by an absolute 2^-150 per rounding: every
//   comparison allows an absolute floor of 8 * 2^-150 = 2^-147.

/// FastSplitMix64: a tiny seeded generator (Steele, Lea and Flood), enough for test data.
struct FastSplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A Float uniform in [lo, hi).
    mutating func float(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) * 0x1p-24
    }
}

/// The seed of the randomized tests: `LOSS_SEED` (decimal or 0x-hex) if set, else a
/// fixed default. Every failure message prints it; rerun with `LOSS_SEED=<seed>`.
enum FastTestSeed {
    static let value: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["LOSS_SEED"] {
            if text.hasPrefix("0x"), let v = UInt64(text.dropFirst(2), radix: 16) { return v }
            if let v = UInt64(text) { return v }
        }
        return 0x5EED_F00D_2024_0001
    }()
    static func describe(_ offset: UInt64 = 0) -> String {
        "LOSS_SEED=0x\(String(value, radix: 16))" + (offset == 0 ? "" : " (case offset \(offset))")
    }
}

/// The four regression losses with their options, as the tests run them.
enum FastRegressionCase: CustomStringConvertible, Sendable {
    case mse(MSELoss)
    case l1(L1Loss)
    case huber(HuberLoss)
    case smoothL1(SmoothL1Loss)

    var description: String {
        switch self {
        case .mse(let l): "mse(reduction: \(l.reduction))"
        case .l1(let l): "l1(reduction: \(l.reduction))"
        case .huber(let l): "huber(reduction: \(l.reduction), delta: \(l.delta))"
        case .smoothL1(let l): "smooth_l1(reduction: \(l.reduction), beta: \(l.beta))"
        }
    }

    var reduction: Reduction {
        switch self {
        case .mse(let l): l.reduction
        case .l1(let l): l.reduction
        case .huber(let l): l.reduction
        case .smoothL1(let l): l.reduction
        }
    }

    /// The kink of the loss (where the formula switches), if any.
    var kink: Double? {
        switch self {
        case .mse: nil
        case .l1: 0
        case .huber(let l): l.delta
        case .smoothL1(let l): l.beta
        }
    }

    func with(_ reduction: Reduction) -> FastRegressionCase {
        switch self {
        case .mse(var l): l.reduction = reduction; return .mse(l)
        case .l1(var l): l.reduction = reduction; return .l1(l)
        case .huber(var l): l.reduction = reduction; return .huber(l)
        case .smoothL1(var l): l.reduction = reduction; return .smoothL1(l)
        }
    }

    /// Every loss with default and non-default options.
    static let all: [FastRegressionCase] = [
        .mse(MSELoss()), .l1(L1Loss()),
        .huber(HuberLoss()), .huber(HuberLoss(delta: 0.35)), .huber(HuberLoss(delta: 2.5)),
        .smoothL1(SmoothL1Loss()), .smoothL1(SmoothL1Loss(beta: 0.35)), .smoothL1(SmoothL1Loss(beta: 0)),
    ]

    func fast(_ x: Tensor<Float>, _ y: Tensor<Float>, upstream: Tensor<Float>?, gradients: GradientRequest = .all,
              threads: Int? = nil) throws(LossError) -> LossResult<Float> {
        switch self {
        case .mse(let l): try Fast.evaluate(l, input: x, target: y, upstream: upstream, gradients: gradients, threads: threads)
        case .l1(let l): try Fast.evaluate(l, input: x, target: y, upstream: upstream, gradients: gradients, threads: threads)
        case .huber(let l): try Fast.evaluate(l, input: x, target: y, upstream: upstream, gradients: gradients, threads: threads)
        case .smoothL1(let l): try Fast.evaluate(l, input: x, target: y, upstream: upstream, gradients: gradients, threads: threads)
        }
    }

    func fast(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>, shape: [Int],
              upstream: UnsafeBufferPointer<Float>?, into outputs: Fast.Outputs, threads: Int? = nil) throws(LossError) {
        switch self {
        case .mse(let l): try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case .l1(let l): try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case .huber(let l): try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case .smoothL1(let l): try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        }
    }

    /// The Double reference's result on the same values.
    func reference(_ x: Tensor<Double>, _ y: Tensor<Double>, upstream: Tensor<Double>?) throws(LossError) -> LossResult<Double> {
        switch self {
        case .mse(let l): try Reference.evaluate(l, input: x, target: y, upstream: upstream, gradients: .all)
        case .l1(let l): try Reference.evaluate(l, input: x, target: y, upstream: upstream, gradients: .all)
        case .huber(let l): try Reference.evaluate(l, input: x, target: y, upstream: upstream, gradients: .all)
        case .smoothL1(let l): try Reference.evaluate(l, input: x, target: y, upstream: upstream, gradients: .all)
        }
    }
}

/// Norm-wise comparison of Float results with Double ones, with readable reports.
enum FastCompare {
    /// Float's unit roundoff.
    static let u = Double(Float.ulpOfOne) / 2
    /// Per element term and gradient element (derivation at the top of this file).
    static let perTerm = 4 * Double(Float.ulpOfOne)
    /// The summation's part of a reduction's bound (derivation at the top of this file).
    static let reductionBound = Double(Fast.termsPerLane - 1) * u + u + 42 * 0x1p-53
    /// Absolute floor for results in the subnormal range.
    static let floor = 0x1p-147

    /// nil if `fast` matches `ref` within `bound * scale` (scale: max |ref| unless
    /// given), NaN and infinities at the same places; else a report.
    static func check(_ what: String, fast: [Float], ref: [Double], bound: Double, scale: Double? = nil) -> String? {
        guard fast.count == ref.count else { return "\(what): \(fast.count) values, expected \(ref.count)" }
        var worst = -1, worstError = 0.0, norm = 0.0
        for i in ref.indices {
            let f = Double(fast[i]), r = ref[i]
            if r.isNaN != f.isNaN {
                return "\(what)[\(i)]: expected \(r), got \(f) (NaN must be at the same places)"
            }
            if r.isNaN { continue }
            // A reference value beyond Float's range is infinite once rounded to Float.
            let rf = Double(Float(r))
            if rf.isInfinite || f.isInfinite {
                if rf != f { return "\(what)[\(i)]: expected \(r) (Float: \(rf)), got \(f) (infinities must match)" }
                continue
            }
            norm = max(norm, abs(r))
            let error = abs(f - r)
            if error > worstError { worstError = error; worst = i }
        }
        let limit = bound * (scale ?? norm) + floor
        guard worstError > limit else { return nil }
        let r = ref[worst], f = Double(fast[worst])
        let ulps = abs(f - r) / Double(Float(r).ulp)
        return "\(what): worst index \(worst) of \(ref.count): expected \(r), got \(f), error \(worstError) = \(ulps) ulp; "
            + "norm-wise relative \(worstError / max(scale ?? norm, .leastNonzeroMagnitude)) > bound \(bound)"
    }
}

/// Inputs for one case: uniform values, with some elements placed exactly on, just
/// inside and just outside the kink (and on x == y).
func fastRegressionInputs(count: Int, kink: Double?, rng: inout FastSplitMix64) -> (x: [Float], y: [Float]) {
    var x: [Float] = [], y: [Float] = []
    x.reserveCapacity(count); y.reserveCapacity(count)
    let k = kink.map { Float($0) }
    for _ in 0..<count {
        let yi = rng.float(-3, 3)
        var xi = rng.float(-3, 3)
        if rng.next() % 8 == 0 {
            // e = x - y exactly on, below or above the (Float) kink, or 0.
            let kinkValue = k ?? 0
            let candidates = [kinkValue, kinkValue.nextDown, kinkValue.nextUp, 0]
            let e = candidates[Int(rng.next() % 4)] * (rng.next() % 2 == 0 ? 1 : -1)
            y.append(0)
            x.append(e)
            continue
        }
        if rng.next() % 16 == 0 { xi = yi }
        x.append(xi); y.append(yi)
    }
    return (x, y)
}

/// Runs one case through both engines and returns the failures (empty: passed).
func fastCompareEngines(_ c: FastRegressionCase, count: Int, upstreamKind: Int, seedOffset: UInt64) throws -> [String] {
    var rng = FastSplitMix64(seed: FastTestSeed.value &+ seedOffset)
    let (xs, ys) = fastRegressionInputs(count: count, kink: c.kink, rng: &rng)
    let shape = [count]
    let outputShape = c.reduction == .none ? shape : []
    var upstream: Tensor<Float>? = nil
    if upstreamKind == 1 {
        let n = c.reduction == .none ? count : 1
        upstream = try Tensor(shape: outputShape, scalars: (0..<n).map { _ in rng.float(-2, 2) })
    }
    let x = try Tensor(shape: shape, scalars: xs), y = try Tensor(shape: shape, scalars: ys)
    let fast = try c.fast(x, y, upstream: upstream)
    let ref = try c.reference(x.map(Double.init), y.map(Double.init), upstream: upstream?.map(Double.init))
    let label = "\(c) n=\(count) upstream=\(upstream == nil ? "nil" : "random") \(FastTestSeed.describe(seedOffset))"

    var failures: [String] = []
    if c.reduction == .none {
        if let f = FastCompare.check("\(label) output", fast: fast.output.scalars, ref: ref.output.scalars, bound: FastCompare.perTerm) { failures.append(f) }
    } else {
        // The scale of a reduction's error: sum |l_i| / den, from the unreduced reference.
        let terms = try c.with(.none).reference(x.map(Double.init), y.map(Double.init), upstream: nil).output.scalars
        let den = c.reduction == .mean ? Double(count) : 1
        let scale = terms.reduce(0) { $0 + abs($1) } / den
        if let f = FastCompare.check("\(label) output", fast: fast.output.scalars, ref: ref.output.scalars,
                                 bound: FastCompare.perTerm + FastCompare.reductionBound, scale: scale) { failures.append(f) }
    }
    if let f = FastCompare.check("\(label) gradInput", fast: fast.gradInput?.scalars ?? [], ref: ref.gradInput?.scalars ?? [], bound: FastCompare.perTerm) { failures.append(f) }
    if let f = FastCompare.check("\(label) gradTarget", fast: fast.gradTarget?.scalars ?? [], ref: ref.gradTarget?.scalars ?? [], bound: FastCompare.perTerm) { failures.append(f) }
    return failures
}

@Suite("Fast vs Reference: regression losses")
struct FastRegressionTests {
    /// Around the SIMD width (16), a block (256), a chunk (2^14), 2^k +- 1, and 10^5-ish.
    static let lengths = [0, 1, 15, 16, 17, 31, 255, 256, 257, 4095, 4097, (1 << 14) - 1, (1 << 14) + 1, 100_003]

    @Test("every loss, option, reduction and length; upstream nil and random",
          arguments: FastRegressionCase.all)
    func randomCases(_ c: FastRegressionCase) throws {
        var offset: UInt64 = 0
        for reduction in [Reduction.none, .sum, .mean] {
            for count in Self.lengths {
                for upstreamKind in 0...1 {
                    offset += 1
                    // The largest lengths once per reduction, to keep debug-mode time small.
                    if count > 10_000 && upstreamKind == 1 { continue }
                    let failures = try fastCompareEngines(c.with(reduction), count: count, upstreamKind: upstreamKind, seedOffset: offset)
                    #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
                }
            }
        }
    }

    @Test("rank-0 and multi-dimensional shapes behave as flat")
    func shapes() throws {
        for c in FastRegressionCase.all {
            for shape in [[], [3, 5], [2, 3, 4], [1, 0, 3]] as [[Int]] {
                let n = shape.reduce(1, *)
                var rng = FastSplitMix64(seed: FastTestSeed.value &+ UInt64(n))
                let (xs, ys) = fastRegressionInputs(count: n, kink: c.kink, rng: &rng)
                let x = try Tensor(shape: shape, scalars: xs), y = try Tensor(shape: shape, scalars: ys)
                for reduction in [Reduction.none, .sum, .mean] {
                    let shaped = try c.with(reduction).fast(x, y, upstream: nil)
                    let flat = try c.with(reduction).fast(Tensor<Float>(xs), Tensor<Float>(ys), upstream: nil)
                    #expect(shaped.output.shape == (reduction == .none ? shape : []), "\(c) shape \(shape): output shape \(shaped.output.shape)")
                    #expect(shaped.gradInput?.shape == shape, "\(c) shape \(shape): gradInput shape")
                    #expect(shaped.output.scalars.map(\.bitPattern) == flat.output.scalars.map(\.bitPattern), "\(c) shape \(shape) \(reduction): output differs from the flat call")
                    #expect(shaped.gradInput?.scalars.map(\.bitPattern) == flat.gradInput?.scalars.map(\.bitPattern), "\(c) shape \(shape) \(reduction): gradInput differs from the flat call")
                }
            }
        }
    }

    @Test("NaN, infinities, zeros and kinks: the same places and values as the reference")
    func specialValues() throws {
        let inf = Float.infinity, nan = Float.nan
        // Pairs (x, y): NaN in either argument, infinite differences of both signs, equal
        // infinities (NaN difference), zero differences, and differences at the kinks
        // 0.35 / 1 / 2.5 (rounded to Float) and around them.
        var xs: [Float] = [nan, 1, nan, inf, -inf, 2, 3, inf, -inf, 0, -0.0, 5, 1, -1, 0.35, -0.35, 2.5, 1e-30]
        var ys: [Float] = [1, nan, nan, 0, 0, inf, -inf, inf, -inf, 0, 0, 5, 0, 0, 0, 0, 0, 0]
        for k: Float in [0.35, 1, 2.5] {
            for e in [k, k.nextUp, k.nextDown] { xs += [e, -e]; ys += [0, 0] }
        }
        let x = Tensor<Float>(xs), y = Tensor<Float>(ys)
        for base in FastRegressionCase.all {
            for reduction in [Reduction.none, .sum, .mean] {
                let c = base.with(reduction)
                let upstream: Tensor<Float>? = reduction == .none ? nil : Tensor(scalar: Float(0.5))
                let fast = try c.fast(x, y, upstream: upstream)
                let ref = try c.reference(x.map(Double.init), y.map(Double.init), upstream: upstream?.map(Double.init))
                let label = "\(c) special values"
                // A reduction over NaN is NaN; over +inf (without NaN) +inf: FastCompare checks places.
                let scale = reduction == .none ? nil : Optional(ref.output.scalars[0].magnitude)
                for (what, f, r) in [("output", fast.output.scalars, ref.output.scalars),
                                     ("gradInput", fast.gradInput!.scalars, ref.gradInput!.scalars),
                                     ("gradTarget", fast.gradTarget!.scalars, ref.gradTarget!.scalars)] {
                    let failure = FastCompare.check("\(label) \(what)", fast: f, ref: r,
                                                bound: FastCompare.perTerm + (what == "output" ? FastCompare.reductionBound : 0),
                                                scale: what == "output" ? scale : nil)
                    #expect(failure == nil, "\(failure ?? "")")
                }
            }
        }
    }

    @Test("l1 and smooth_l1(beta: 0): gradient 0 at e = 0 and NaN at a NaN difference (deviation 3)")
    func signAtZeroAndNaN() throws {
        let x = Tensor<Float>([0, -0.0, .nan, 2]), y = Tensor<Float>([0, 0, 0, .nan])
        for c in [FastRegressionCase.l1(L1Loss(reduction: .none)), .smoothL1(SmoothL1Loss(reduction: .none, beta: 0))] {
            let r = try c.fast(x, y, upstream: nil)
            let g = r.gradInput!.scalars
            // sign(0) = 0: minimum-norm subgradient; sign(NaN) = NaN.
            #expect(g[0] == 0 && g[1] == 0 && g[2].isNaN && g[3].isNaN, "\(c): gradInput \(g), expected [0, 0, nan, nan]")
            #expect(r.output.scalars[0] == 0 && r.output.scalars[2].isNaN, "\(c): output \(r.output.scalars)")
        }
    }

    @Test("smooth_l1 with a power-of-two beta (multiplied by 1/beta) gives the bits of the formula with the division")
    func smoothL1PowerOfTwoBeta() throws {
        // For beta = 2^k, e * 2^-k and e / 2^k are the same correctly rounded number; the
        // expected values below are PyTorch's formula evaluated in Float with the division:
        // 0.5 e (e / beta) and e / beta inside |e| < beta, |e| - beta/2 and sign(e) outside.
        let differences: [Float] = [0, -0.0, 0x1p-149, -0x1p-140, 0x1.8p-127, 1e-20, 0.3, -0.7, 0.999_999_9,
                                    1, -1, 1.000_000_1, 2.5, -3, 1e20, .greatestFiniteMagnitude, .infinity, -.infinity]
        for beta: Float in [1, 2, 0.5, 0x1p-126, 0x1p-100, 0x1p100, 0x1p127] {
            let e = differences + differences.map { $0 * beta }      // values near and at the kink too
            let x = Tensor<Float>(e), y = Tensor<Float>([Float](repeating: 0, count: e.count))
            let loss = SmoothL1Loss(reduction: .none, beta: Double(beta))
            let r = try Fast.evaluate(loss, input: x, target: y, gradients: [.input, .target])
            let half = min(0.5 * Double(beta), Double(Float.greatestFiniteMagnitude))
            for (i, d) in e.enumerated() {
                let inside = abs(d) < beta
                let value = inside ? (0.5 * d) * (d / beta) : abs(d) - Float(half)
                let grad = inside ? d / beta : (d > 0 ? 1 : -1)
                let got = r.output.scalars[i], gotGrad = r.gradInput!.scalars[i], gotTarget = r.gradTarget!.scalars[i]
                #expect(got.bitPattern == value.bitPattern && gotGrad.bitPattern == grad.bitPattern
                        && gotTarget.bitPattern == (-grad).bitPattern,
                        "smooth_l1(beta: \(beta)) at e[\(i)] = \(d): value \(got) vs \(value), gradInput \(gotGrad) vs \(grad), gradTarget \(gotTarget) vs \(-grad)")
            }
            let nan = try Fast.evaluate(loss, input: Tensor<Float>([.nan, 1]), target: Tensor<Float>([0, .nan]), gradients: .input)
            #expect(nan.output.scalars.allSatisfy(\.isNaN) && nan.gradInput!.scalars.allSatisfy(\.isNaN),
                    "smooth_l1(beta: \(beta)) with NaN: \(nan.output.scalars), \(nan.gradInput!.scalars); expected NaN everywhere")
        }
    }

    @Test("empty input: mean is NaN, sum is 0, none is empty")
    func emptyInput() throws {
        for c in FastRegressionCase.all {
            let x = try Tensor<Float>(shape: [0], scalars: [])
            let mean = try c.with(.mean).fast(x, x, upstream: nil)
            let sum = try c.with(.sum).fast(x, x, upstream: nil)
            let none = try c.with(.none).fast(x, x, upstream: nil)
            #expect(mean.output.scalars.count == 1 && mean.output.scalars[0].isNaN, "\(c): mean over [] = \(mean.output.scalars)")
            #expect(sum.output.scalars == [0], "\(c): sum over [] = \(sum.output.scalars)")
            #expect(none.output.shape == [0] && none.gradInput?.scalars == [], "\(c): none over [] = \(none.output)")
        }
    }

    @Test("the reduction's error does not grow with n")
    func longSums() throws {
        // x = 0.1f, y = 0: every mse term is t = fl(0.1f * 0.1f), so the exact sum of the
        // computed terms is n t (exact in Double for n = 2^18). The engine's error bound is
        // independent of n (see the top of this file); a plain Float running sum would lose
        // about n u t per addition late in the sum -- at n = 2^18 its result is off by
        // several percent, far above the bound.
        let n = 1 << 18
        let x = Tensor<Float>([Float](repeating: 0.1, count: n)), y = Tensor<Float>([Float](repeating: 0, count: n))
        let t = Double(Float(0.1) * Float(0.1))
        let result = try Fast.evaluate(MSELoss(reduction: .sum), input: x, target: y)
        let exact = Double(n) * t
        let error = abs(Double(result.output.scalars[0]) - exact) / exact
        #expect(error <= FastCompare.reductionBound, "mse sum of \(n) equal terms: \(result.output.scalars[0]) vs \(exact), relative error \(error) > \(FastCompare.reductionBound)")
    }
}

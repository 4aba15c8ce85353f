#if arch(x86_64) && !os(Windows)
import Foundation
import Testing
import ReferenceLosses

/// The Double reference against the same code run in Float80 (64-bit significand), on
/// seeded random cases. Every Double input is exact in Float80, so the Float80 result is
/// the exact result to about 2^-64 relative, 2^11 times finer than Double's unit roundoff
/// u = 2^-53: the difference measures the Double evaluation's error. Each is checked
/// against an a-priori bound derived below from the algorithm, element by element.
///
/// Derivation for one softmax row (spread R = max_c x_c - min_c x_c, C classes), with
/// libm's exp/log within 1 ulp (2u relative) and every other operation correctly rounded:
///   1. d_c = x_c - m:              |error| <= u |x_c - m| <= u R
///   2. exp(d_c):                   relative error <= 2u + u R (step 1 amplified by exp' = exp)
///   3. s = sum_c exp(d_c):         compensated sum of positive terms: relative error
///                                  <= 2u + the terms' <= 4u + u R
///   4. log(s), 1 <= s <= C:        |error| <= (4u + u R) + 2u log C
///   5. logp_c = d_c - log(s):      |error| <= u R + (4u + u R + 2u log C) + u |logp_c|
///                                  <= u (3R + 3 log C + 4) =: E     (|logp_c| <= R + log C)
/// A loss row is sum_c a_c (-logp_c) with K = sum_c |a_c| (index targets:
/// a = (1 - eps) w_y onehot + (eps/C) w; probability targets: a = w t'). Its error is
/// <= K E from the logp's plus the products' and sum's roundings, <= 5u K (R + log C):
///   row bound = K u (8R + 8 log C + 4).
/// The gradient entry a-weighted `K' p_c - a_c` (plus the expm1 form at the target) uses
/// p_c = exp(logp_c) with relative error <= E + 2u and <= 6 further roundings on magnitudes
/// <= K: entry bound = K (E + 12u), divided by den for mean.
/// Reductions: a compensated sum adds <= 2u relative, the division 1u, a compensated
/// weight denominator 2u, and rounding the Float80 result to Double u/2: + 6u |result|.
@Suite("Reference: class losses, Double vs Float80")
struct ClassPrecisionTests {
    static let u = Double.ulpOfOne / 2

    struct Case: CustomStringConvertible, Sendable {
        var seed: UInt64
        var shape: [Int]
        /// Logits are offset + uniform(-spread/2, spread/2).
        var offset: Double
        var spread: Double
        var labelSmoothing: Double
        var weighted: Bool
        var description: String {
            "seed \(seed), shape \(shape), logits \(offset) +- \(spread / 2), label_smoothing \(labelSmoothing), \(weighted ? "weighted" : "unweighted")"
        }
    }

    static let cases = [
        Case(seed: 1, shape: [64, 10], offset: 0, spread: 40, labelSmoothing: 0, weighted: false),
        Case(seed: 2, shape: [8, 1000], offset: 0, spread: 20, labelSmoothing: 0.1, weighted: true),
        Case(seed: 3, shape: [32, 5], offset: 1e4, spread: 10, labelSmoothing: 0.2, weighted: true),
        Case(seed: 4, shape: [3, 7, 2, 3], offset: -50, spread: 60, labelSmoothing: 0.05, weighted: true),
        Case(seed: 5, shape: [17], offset: 3, spread: 8, labelSmoothing: 0, weighted: false),
    ]

    /// A seeded case: input, weights in [0.5, 2] (or nil), class-index targets with about
    /// one in eight ignored, and probability targets (non-negative, each row summing to 1).
    struct Data {
        let input: Tensor<Double>
        let weight: Tensor<Double>?
        let indices: Tensor<Int>
        let probabilities: Tensor<Double>
        let layout: (batch: Int, classes: Int, inner: Int)

        init(_ c: Case) throws {
            var random = SplitMix64(seed: c.seed)
            let classes = c.shape.count == 1 ? c.shape[0] : c.shape[1]
            let batch = c.shape.count == 1 ? 1 : c.shape[0]
            let inner = c.shape.dropFirst(2).reduce(1, *)
            let count = c.shape.reduce(1, *)
            input = try Tensor(shape: c.shape, scalars: (0..<count).map { _ in c.offset + random.uniform(-c.spread / 2, c.spread / 2) })
            weight = c.weighted ? Tensor((0..<classes).map { _ in random.uniform(0.5, 2) }) : nil
            var targetShape = c.shape
            targetShape.remove(at: c.shape.count == 1 ? 0 : 1)
            indices = try Tensor(shape: targetShape, scalars: (0..<(batch * inner)).map { _ in
                random.next() % 8 == 0 ? -100 : Int(random.next() % UInt64(classes))
            })
            var t = (0..<count).map { _ in random.uniform(0, 1) }
            for row in 0..<(batch * inner) {
                let offsets = Self.offsets(row: row, classes: classes, inner: inner)
                let total = offsets.reduce(0) { $0 + t[$1] }
                for o in offsets { t[o] /= total }
            }
            probabilities = try Tensor(shape: c.shape, scalars: t)
            layout = (batch, classes, inner)
        }

        /// The flat input offsets of row `row` ((n, s) with row = n * inner + s), class by class.
        static func offsets(row: Int, classes: Int, inner: Int) -> [Int] {
            let n = row / inner, s = row % inner
            return (0..<classes).map { (n * classes + $0) * inner + s }
        }
        func offsets(row: Int) -> [Int] { Self.offsets(row: row, classes: layout.classes, inner: layout.inner) }
        var rows: Int { layout.batch * layout.inner }
        var w: [Double] { weight?.scalars ?? Array(repeating: 1, count: layout.classes) }

        /// R + log C for the row: a bound on every |logp_c|.
        func logpMagnitude(row: Int) -> Double {
            let x = offsets(row: row).map { input.scalars[$0] }
            return x.max()! - x.min()! + log(Double(layout.classes))
        }
        /// E = u (3R + 3 log C + 4) for the row: the bound on every logp's error.
        func logpBound(row: Int) -> Double {
            let x = offsets(row: row).map { input.scalars[$0] }
            let spread = x.max()! - x.min()!
            return ClassPrecisionTests.u * (3 * spread + 3 * log(Double(layout.classes)) + 4)
        }
        /// K u (8R + 8 log C + 4): the bound on a row's loss whose coefficients sum to K.
        func rowBound(row: Int, K: Double) -> Double {
            let x = offsets(row: row).map { input.scalars[$0] }
            let spread = x.max()! - x.min()!
            return K * ClassPrecisionTests.u * (8 * spread + 8 * log(Double(layout.classes)) + 4)
        }
    }

    @Test(arguments: cases)
    func crossEntropyIndexTargets(_ c: Case) throws {
        let data = try Data(c)
        let w = data.w, C = data.layout.classes, eps = c.labelSmoothing, W = w.reduce(0, +)
        // K_i = (1 - eps) w[y] + (eps/C) sum w for a non-ignored row, 0 for an ignored one.
        let K = (0..<data.rows).map { i in
            let y = data.indices.scalars[i]
            return y == -100 ? 0 : (1 - eps) * w[y] + eps / Double(C) * W
        }
        let den = (0..<data.rows).reduce(0.0) { sum, i in
            let y = data.indices.scalars[i]
            return y == -100 ? sum : sum + w[y]
        }
        for reduction in [Reduction.none, .mean] {
            let loss = CrossEntropyLoss(reduction: reduction, weight: data.weight, labelSmoothing: eps)
            let double = try Reference.evaluate(loss, input: data.input, target: data.indices, gradients: .input)
            let wide = try Reference.evaluate(loss, input: data.input.map(Float80.init), target: data.indices, gradients: .input)
            let rowBounds = (0..<data.rows).map { data.rowBound(row: $0, K: K[$0]) }
            let scale = reduction == .mean ? den : 1
            let outputBound = reduction == .none ? rowBounds : [rowBounds.reduce(0, +) / den]
            within(double.output, wide.output, bound: outputBound, relative: 6 * Self.u, "cross_entropy index targets, \(reduction), \(c)")
            var gradBound = Array(repeating: 0.0, count: data.input.count)
            for i in 0..<data.rows {
                let entry = K[i] * (data.logpBound(row: i) + 12 * Self.u) / scale
                for o in data.offsets(row: i) { gradBound[o] = entry }
            }
            within(double.gradInput, wide.gradInput, bound: gradBound, relative: 6 * Self.u, "cross_entropy index targets gradient, \(reduction), \(c)")
        }
    }

    @Test(arguments: cases)
    func crossEntropyProbabilityTargets(_ c: Case) throws {
        let data = try Data(c)
        let w = data.w, C = Double(data.layout.classes), eps = c.labelSmoothing
        let t = data.probabilities.scalars
        // K_i = sum_c w_c t'_c with t' = (1 - eps) t + eps / C (all terms non-negative).
        let K = (0..<data.rows).map { i in
            zip(data.offsets(row: i), w).reduce(0.0) { $0 + $1.1 * ((1 - eps) * t[$1.0] + eps / C) }
        }
        let loss = CrossEntropyLoss(weight: data.weight, labelSmoothing: eps)
        let double = try Reference.evaluate(loss, input: data.input, target: data.probabilities, gradients: .all)
        let wide = try Reference.evaluate(loss, input: data.input.map(Float80.init), target: data.probabilities.map(Float80.init), gradients: .all)
        let den = Double(data.rows)
        let outputBound = (0..<data.rows).reduce(0.0) { $0 + data.rowBound(row: $1, K: K[$1]) } / den
        within(double.output, wide.output, bound: [outputBound], relative: 6 * Self.u, "cross_entropy probability targets, mean, \(c)")
        var inputBound = Array(repeating: 0.0, count: t.count), targetBound = inputBound
        for i in 0..<data.rows {
            let E = data.logpBound(row: i), logpMagnitude = data.logpMagnitude(row: i)
            for (c, o) in data.offsets(row: i).enumerated() {
                inputBound[o] = K[i] * (E + 12 * Self.u) / den
                // -(1 - eps) w logp: E from logp plus 3 roundings of a magnitude <= w (R + log C).
                targetBound[o] = w[c] * (E + 3 * Self.u * logpMagnitude) / den
            }
        }
        within(double.gradInput, wide.gradInput, bound: inputBound, relative: 6 * Self.u, "cross_entropy probability targets input gradient, \(c)")
        within(double.gradTarget, wide.gradTarget, bound: targetBound, relative: 6 * Self.u, "cross_entropy probability targets target gradient, \(c)")
    }

    @Test(arguments: cases)
    func nll(_ c: Case) throws {
        // l_i = -w[y] x: one rounding, u |w x|; mean: compensated sums and one division,
        // so 3u sum |w x| / den + 6u |result|. Gradient -w g / den: two roundings.
        let data = try Data(c)
        let w = data.w, x = data.input.scalars
        var terms = 0.0, den = 0.0
        for i in 0..<data.rows {
            let y = data.indices.scalars[i]
            guard y != -100 else { continue }
            terms += abs(w[y] * x[data.offsets(row: i)[y]])
            den += w[y]
        }
        let loss = NLLLoss(weight: data.weight)
        let double = try Reference.evaluate(loss, input: data.input, target: data.indices, gradients: .input)
        let wide = try Reference.evaluate(loss, input: data.input.map(Float80.init), target: data.indices, gradients: .input)
        within(double.output, wide.output, bound: [3 * Self.u * terms / den], relative: 6 * Self.u, "nll mean, \(c)")
        within(double.gradInput, wide.gradInput, bound: Array(repeating: 0, count: x.count), relative: 3 * Self.u, "nll gradient, \(c)")
    }

    @Test(arguments: [false, true])
    func klDiv(logTarget: Bool) throws {
        // With p the probability (t = p, or t = log p with log_target):
        // the loss p (log p - x) has error <= 4u p (|log p| + |x|) (log 2u, subtraction u,
        // product u); exp(t)(t - x) likewise (exp 2u instead of log). d/dtarget is
        // log p + 1 - x (error <= 5u (|log p| + 1 + |x|): log 2u, two additions, the division)
        // or exp(t)(t - x + 1) (<= 5u p (|log p| + |x| + 1)). d/dinput -p / den or -exp(t) / den:
        // <= 2u p / den. Reductions as above: + 6u |result|.
        var random = SplitMix64(seed: logTarget ? 11 : 10)
        let shape = [16, 9]
        let x = (0..<144).map { _ in random.uniform(-30, 5) }
        let p = (0..<144).map { i in i % 13 == 0 ? 0 : random.uniform(0, 1) }  // some exact zeros
        let t = logTarget ? p.map { log($0) } : p
        let input = try Tensor(shape: shape, scalars: x), target = try Tensor(shape: shape, scalars: t)
        // Zero targets give NaN * 0 here; their elements are exact (0, or NaN d/dtarget) anyway.
        let unweighted = (0..<144).map { i in abs(log(p[i])) + abs(x[i]) + 1 }
        let magnitude = (0..<144).map { i in p[i] * unweighted[i] }.map { $0.isNaN ? 0 : $0 }
        let targetMagnitude = logTarget ? magnitude : unweighted.map { $0.isFinite ? $0 : 0 }
        for reduction in [Reduction.none, .sum, .mean, .batchmean] {
            let loss = KLDivLoss(reduction: reduction, logTarget: logTarget)
            let double = try Reference.evaluate(loss, input: input, target: target, gradients: .all)
            let wide = try Reference.evaluate(loss, input: input.map(Float80.init), target: target.map(Float80.init), gradients: .all)
            let den: Double = switch reduction {
            case .mean: 144
            case .batchmean: 16
            default: 1
            }
            let outputBound = reduction == .none ? magnitude.map { 4 * Self.u * $0 } : [4 * Self.u * magnitude.reduce(0, +) / den]
            let context = "kl_div log_target \(logTarget), \(reduction)"
            within(double.output, wide.output, bound: outputBound, relative: 6 * Self.u, context)
            within(double.gradInput, wide.gradInput, bound: p.map { 2 * Self.u * $0 / den }, relative: 3 * Self.u, context + " input gradient")
            within(double.gradTarget, wide.gradTarget, bound: targetMagnitude.map { 5 * Self.u * $0 / den }, relative: 3 * Self.u, context + " target gradient")
        }
    }

    /// Every element of `double` is within `bound[i] + relative * |wide[i]|` of the Float80
    /// value, and non-finite values agree. Reports the worst element by bound usage.
    func within<Wide: LossReal>(_ double: Tensor<Double>?, _ wide: Tensor<Wide>?, bound: [Double], relative: Double,
                                _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let double, let wide else {
            Issue.record("\(context): missing tensor", sourceLocation: sourceLocation)
            return
        }
        #expect(double.shape == wide.shape && bound.count == double.count, "\(context): shapes differ", sourceLocation: sourceLocation)
        var worst: (index: Int, usage: Double, error: Double) = (-1, 0, 0)
        for i in 0..<min(double.count, wide.count, bound.count) {
            let d = double.scalars[i], v = wide.scalars[i].doubleValue
            guard v.isFinite && d.isFinite else {
                #expect((d.isNaN && v.isNaN) || d == v, "\(context): [\(i)] Float80 \(v), Double \(d)", sourceLocation: sourceLocation)
                continue
            }
            let error = abs(d - v), allowed = bound[i] + relative * abs(v)
            let usage = error == 0 ? 0 : error / allowed
            if usage > worst.usage { worst = (i, usage, error) }
        }
        guard worst.index >= 0 else { return }
        let i = worst.index, v = wide.scalars[i].doubleValue
        #expect(worst.usage <= 1, """
            \(context): worst index \(i): Float80 \(v), Double \(double.scalars[i]), |error| \(worst.error) \
            = \(v == 0 ? .infinity : worst.error / v.ulp) ulps, relative \(v == 0 ? .infinity : worst.error / abs(v)), \
            \(worst.usage) of the derived bound \(bound[i] + relative * abs(v))
            """, sourceLocation: sourceLocation)
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator, so cases reproduce.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [a, b) with 53 random bits.
    mutating func uniform(_ a: Double, _ b: Double) -> Double {
        a + (b - a) * Double(next() >> 11) * 0x1p-53
    }
}
#endif

import Foundation
import Losses
import ReferenceLosses
import LossVerification

// The gradient sweep's harness: one generated loss call, one differentiated argument
// (`GradProbe`), checked against the two oracles of LossVerification.
//
// What is checked. The reference's backward pass with the case's upstream `v` (ones when
// the case has none) is the gradient of the scalar `f(a) = sum_k v_k out_k(a)`, where
// `out` is the loss's output (one value for a reduction, the unreduced loss for `none`)
// and `a` the input or the target. That vector-Jacobian product is compared against
//
//  (a) dual numbers (`Dual`, through `Reference.evaluate(AnyLoss, LossArguments<Dual>)`):
//      seeding direction `u` gives `sum_k v_k out_k'(a; u) = u . grad f` to rounding.
//      Full mode: one seed per coordinate (`u = e_j`), giving every entry; the whole
//      gradient is then compared norm-wise with `compare`:
//          max_j |analytic_j - dual_j| <= 1e-12 * max_j |dual_j|.
//      Projection mode (large inputs): three random directions `u`, each compared as
//          |analytic . u - dual(u)| <= 1e-12 * max(sum_j |analytic_j u_j|, |dual(u)|).
//  (b) central differences with Richardson extrapolation (`FiniteDifferences`), with the
//      same norm-wise rule at 1e-7. An entry takes part only when the differences'
//      own error estimate is at most 1e-8 of the scale (so the oracle's error uses at most
//      a tenth of the bound); otherwise it is counted as unresolved (see below).
//
// Why 1e-12 against dual numbers. Both sides are a few roundings away from the exact
// derivative at the (Float-exact) point. The reference forms each gradient entry with
// k_a <= ~10 operations (products, quotients, exp/log/log1p/expm1 each within an ulp or
// two, one final `* g / den`); the dual evaluation follows the value's operations with
// k_d <= ~20 derivative roundings (the softmax losses' derivative goes through the
// compensated log-sum-exp, whose derivative part is a sum of C terms p_c u_c). Products,
// quotients and the elementary functions add relative errors; a sum or difference turns
// the absolute errors of its summands into the result's, so per entry
//     |analytic_j - dual_j| <= (k_a + k_d) (u / 2) terms_j,     u / 2 = 2^-53,
// where terms_j is the sum of the magnitudes of the summands the formula adds for entry j
// (times the entry's weight, upstream and 1/den). Norm-wise, dividing by max_j |dual_j|:
//     error <= 32 (u / 2) kappa,     kappa = max_j terms_j / max_j |dual_j|   (>= 1).
// For kappa <= ~280 this is below 1e-12, the bound the sweep enforces. kappa is computed
// per case (`GradProbe.cancellationTerms`) for the formulas that add several summands:
//  - regression losses, nll, kl_div's input gradient `-t`, gaussian `e / v`, bce's
//    `(x - y) / ...`: one term after a difference of two Float-exact values, which is
//    exact or rounds once relative to the result: kappa = 1, for wide-range values too.
//  - `bce_with_logits` `c sigmoid(x) - p y` (and `log_sigmoid(-x) - p log_sigmoid(x)`),
//    bce's target gradient `log(1 - x) - log x`, kl_div's `log t + 1 - x`, poisson's
//    `exp(x) - t`, `1 - t / (x + eps)`, and its Stirling derivative, and the terms the
//    dual's chain rule adds (bce_with_logits: `(1 - y) - c sigmoid(-x)`; bce:
//    `(1 - y)/(1 - x) - y/x`): kappa is large only where every element of a case sits
//    near a zero of its gradient at once. Independent draws rarely do that, but a few
//    regimes place it: poisson's near-bounds puts x = 0 against t = 1 (exp(0) - 1 = 0,
//    or 2^-41 next to it), and single wide-range logits beyond |x| ~ 36 make
//    sigmoid(x) - y vanish to rounding. In deep runs over ten seeds kappa exceeded 280 in
//    about one probe in 500; the errors measured there stayed below 1e-13 (both sides
//    evaluate the same cancelling difference), under the derived bound.
//  - softmax cross-entropy `s p - a` (`a = w t` or `a = w`, `s = sum a`): at the row's
//    most likely class the reference evaluates `(p - 1) s + sum_{j != c} a_j` with
//    `p - 1 = expm1(logp)`, which does not cancel in near-certain rows (kappa ~ 1 there,
//    so those stay held to 1e-12); elsewhere `s p_c - a_c` cancels when the softmax equals
//    the normalized weights. The one regime that produces this: wide-range logits that
//    are all tiny (|x| < 1e-8, a uniform softmax to 1e-8) with label_smoothing = 1, where
//    the whole gradient is `(1/C)((sum w) p - w)` ~ 1e-9 and kappa reaches ~1e8.
// So the sweep's dual bound is 1e-12, scaled to the derived 32 (u / 2) kappa only for
// cases with kappa > ~280 (counted in the report line). Where the exact gradient is 0 to
// within rounding (every dual entry 0, e.g. a value that cancels to exactly 0 around the
// point) only the absolute form 32 (u / 2) max_j terms_j remains, for both oracles.
// Conditioning that breaks the *premise* (the derivative is not a few roundings from the
// reference) is excluded explicitly, coordinate by coordinate (`CoordinatePlan`): the
// points where the contract prescribes something other than the derivative of the
// value (l1's sign(0) = 0, bce's clamp, kl_div's NaN at t = 0) are compared against the
// documented value instead, and so are the points where the dual evaluation is blind
// (bce_with_logits at x = 0), which finite differences still compare.
//
// Why 1e-7 against finite differences, and what "unresolved" means. With steps
// h = 2^-7 max(|a_j|, 1) and two Richardson levels the truncation error is O(h^6) ~ 1e-13
// for smooth losses, and the rounding error is about 16 u |f| / h (FiniteDifferences'
// estimate, which the oracle returns with each value). An entry is compared only where
// that estimate is at most 1e-8 of the gradient's scale; the bound 1e-7 then leaves 90%
// of itself to the analytic gradient's error, and any bug that changes the gradient by
// more than 1e-7 of its scale fails. Where |f| is huge next to the gradient (wide-range
// values: f ~ 1e60 while a coordinate's partial derivative is ~1), no step resolves the
// derivative in double precision; such entries are counted as unresolved, not compared
// (the dual oracle still compares them, at 1e-12). Kinks: a point whose distance to a
// kink of the value (|e| = 0 for l1, |e| = delta for huber, ...) is at most the first
// step is skipped and counted (the function is not smooth over the stencil); domain
// edges (bce's [0, 1], log t, log(x + eps)) shrink the step to half the distance, and a
// point on the edge itself is skipped and counted.

/// Which argument of the loss is differentiated.
enum GradArgument: String, Sendable, CaseIterable {
    case input, target
}

/// The bounds of the sweep (derived in the header comment above).
enum GradBounds {
    /// Norm-wise, analytic vs dual numbers (where the formula's condition is at most
    /// `dual / (dualRoundings u)`, about 280).
    static let dual = 1e-12
    /// The roundings the analytic gradient and the dual evaluation add between them (k_a + k_d).
    static let dualRoundings = 32.0
    /// The derived dual bound for a case whose gradient formula has condition `kappa`.
    static func dual(condition kappa: Double) -> Double {
        max(dual, dualRoundings * Double.ulpOfOne / 2 * kappa)
    }
    /// Norm-wise, analytic vs Richardson differences.
    static let finiteDifferences = 1e-7
    /// A difference entry whose own error estimate exceeds this fraction of the scale is
    /// unresolved (not compared).
    static let differenceUncertainty = 1e-8
    /// At a documented point the reference must equal the contract's formula to a few
    /// roundings, elementwise: the formula and the reference each round ~5 times.
    static let documented = 16 * Double.ulpOfOne
    /// Full Jacobians up to this many coordinates, random projections beyond.
    static let fullModeLimit = 64
    /// Projections per large case.
    static let projections = 3
}

/// How one coordinate takes part in the check.
struct CoordinatePlan {
    /// The contract's value for this gradient entry, where the test knows it in closed
    /// form at a special point (a subgradient at a kink, a clamp, NaN, a branch point);
    /// the reference's entry is compared against it (a few roundings, elementwise).
    var documented: Double?
    /// The contract's entry is the derivative of the value here. False at kinks (l1's
    /// sign(0) = 0), in bce's clamp region and at kl_div's t = 0: neither oracle applies.
    var isDerivative = true
    /// Dual numbers do not give the derivative here although it exists: the value's
    /// formula switches pieces at this point and the dual takes one-sided derivatives of
    /// two pieces from different sides (`log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|))` at
    /// x = 0 takes `min`'s left slope and `abs`'s right one: 1.5 instead of 0.5).
    var dualBlind = false
    /// The distance, along this coordinate, to the nearest kink or jump of the value
    /// (infinity: none). Finite differences skip the coordinate when it is within a step.
    var kinkDistance: Double = .infinity
    /// The distance to the edge of the value's domain, or to a singularity (log) there
    /// (infinity: none). Finite differences use steps of at most 1/64 of it (Richardson's
    /// truncation error grows like (h / distance)^6 near a log); 0 skips the coordinate.
    var domainDistance: Double = .infinity
    /// Why `documented` applies (for messages).
    var reason: String = ""

    var dualCompares: Bool { isDerivative && !dualBlind }
}

/// One generated case and the argument differentiated.
struct GradProbe {
    let generated: GeneratedCase
    let argument: GradArgument
    /// The differentiated argument's scalars and shape.
    let point: [Double]
    let shape: [Int]
    /// The upstream `v`, of the output's shape (ones when the case has none).
    let upstream: [Double]
    /// The loss output at the point (to classify non-finite cases), and its shape.
    let baseOutput: [Double]
    let outputShape: [Int]

    /// - Throws: when the loss has no gradient with respect to `argument` (class-index
    ///   targets), or when the reference throws.
    init(_ generated: GeneratedCase, _ argument: GradArgument) throws {
        self.generated = generated
        self.argument = argument
        switch argument {
        case .input:
            point = generated.arguments.input.scalars
            shape = generated.arguments.input.shape
        case .target:
            guard case .values(let t) = generated.arguments.target, !GradProbe.isNLL(generated.loss) else {
                throw LossError(.target, "\(generated.lossName): no target gradient for class-index targets")
            }
            point = t.scalars
            shape = t.shape
        }
        let base = try Reference.evaluate(generated.loss, generated.arguments).output
        baseOutput = base.scalars
        outputShape = base.shape
        upstream = generated.arguments.upstream?.scalars ?? Array(repeating: 1, count: baseOutput.count)
    }

    static func isNLL(_ loss: AnyLoss) -> Bool {
        if case .nll = loss { return true }
        return false
    }

    /// Whether the loss defines a gradient with respect to the target for this case.
    static func hasTargetGradient(_ c: GeneratedCase) -> Bool {
        if case .values = c.arguments.target { return !isNLL(c.loss) }
        return false
    }

    var reduced: Bool { generated.loss.reduction != .none }

    /// Class-index targets, every one equal to ignore_index (and at least one row).
    var allRowsIgnored: Bool {
        guard case .classes(let t) = generated.arguments.target, t.count > 0 else { return false }
        let ignore: Int
        switch generated.loss {
        case .crossEntropy(let l): ignore = l.ignoreIndex
        case .nll(let l): ignore = l.ignoreIndex
        default: return false
        }
        return t.scalars.allSatisfy { $0 == ignore }
    }

    /// The case's arguments with the differentiated one replaced by `p`.
    func arguments(at p: [Double]) throws -> LossArguments<Double> {
        var a = generated.arguments
        let tensor = try Tensor(shape: shape, scalars: p)
        switch argument {
        case .input: a.input = tensor
        case .target: a.target = .values(tensor)
        }
        return a
    }

    /// The loss output at `p` (every output, row-major).
    func outputs(at p: [Double]) throws -> [Double] {
        try Reference.evaluate(generated.loss, arguments(at: p)).output.scalars
    }

    /// The loss output on dual numbers seeded with `direction` at the point: each
    /// output's derivative part is its directional derivative. The upstream is left out
    /// (it is applied by the caller), every other argument is a constant.
    func dualOutputs(direction: [Double]) throws -> [Dual] {
        var a = generated.arguments.map { Dual($0) }
        a.upstream = nil
        let seeded = try Tensor(shape: shape, scalars: Dual.seed(point, direction: direction))
        switch argument {
        case .input: a.input = seeded
        case .target: a.target = .values(seeded)
        }
        return try Reference.evaluate(generated.loss, a).output.scalars
    }

    /// `sum_k v_k out_k'` for dual outputs.
    func upstreamDot(_ outputs: [Dual]) -> Double {
        compensatedSum(outputs.indices.lazy.map { self.upstream[$0] * outputs[$0].derivative })
    }

    /// The reference's backward pass with the case's upstream.
    func referenceGradient() throws -> [Double] {
        let r = try Reference.evaluate(generated.loss, generated.arguments,
                                       gradients: argument == .input ? .input : .target)
        guard let g = argument == .input ? r.gradInput : r.gradTarget else {
            throw LossError(.target, "\(generated.lossName): the reference returned no \(argument) gradient")
        }
        return g.scalars
    }

    /// The outputs that depend on coordinate `j`: the single output of a reduction, else
    /// the element itself (elementwise losses) or its row (class-dimension losses).
    func dependencies(of j: Int) -> [Int] {
        if reduced { return [0] }
        switch generated.loss {
        case .crossEntropy, .nll:
            let input = generated.arguments.input.shape
            guard input.count >= 2 else { return [0] }
            let classes = input[1], inner = input.dropFirst(2).reduce(1, *)
            return [(j / (classes * inner)) * inner + j % inner]
        default:
            return [j]
        }
    }

    /// `g_j / den` for elementwise losses: the upstream element `j` sees divided by the
    /// reduction's denominator (the contract's `g norm`).
    func upstreamFactor(_ j: Int) -> Double {
        let g = reduced ? upstream[0] : upstream[j]
        let input = generated.arguments.input.shape
        let n = Double(input.reduce(1, *))
        switch generated.loss.reduction {
        case .mean: return g / n
        case .batchmean: return g / Double(input.first ?? 1)
        case .none, .sum: return g
        }
    }

    /// The other argument's value at coordinate `j` (the target when differentiating the
    /// input and vice versa), for elementwise losses.
    func partner(_ j: Int) -> Double {
        switch argument {
        case .input:
            if case .values(let t) = generated.arguments.target { return t.scalars[j] }
            return .nan
        case .target:
            return generated.arguments.input.scalars[j]
        }
    }

    // MARK: Conditioning

    /// For each coordinate, the magnitudes of the summands that the gradient formula (as
    /// the reference evaluates it, and as the dual's chain rule meets them) adds, times
    /// the entry's common factor (weight, upstream, 1/den): the error of entry j is at most
    /// (k_a + k_d) u terms_j. nil where every entry is a single term (kappa = 1).
    func cancellationTerms() -> [Double]? {
        let a = point
        switch generated.loss {
        case .bceWithLogits(let l):
            return a.indices.map { j in
                let x = argument == .input ? a[j] : partner(j), y = argument == .input ? partner(j) : a[j]
                let f = (expanded(l.weight, j) * upstreamFactor(j)).magnitude
                let p = l.posWeight == nil ? 1 : expanded(l.posWeight, j)
                let c = 1 + (p - 1) * y, s = 1 / (1 + Foundation.exp(-x))
                switch argument {
                case .input:
                    // The reference: c sigmoid(x) - p y. The dual differentiates the value
                    // (1 - y) x - c log_sigmoid(x): (1 - y) - c sigmoid(-x), which cancels
                    // where the value does (x -> -inf with y = 0: x - (x - tiny)).
                    return (c.magnitude * s + (p * y).magnitude + (1 - y).magnitude + c.magnitude * (1 - s)) * f
                case .target:
                    // The reference: log_sigmoid(-x) - p log_sigmoid(x) (or -x); the dual:
                    // -x - (p - 1) log_sigmoid(x).
                    guard l.posWeight != nil else { return x.magnitude * f }
                    let ls = GradProbe.logSigmoid(x)
                    return (GradProbe.logSigmoid(-x).magnitude + (p * ls).magnitude + x.magnitude + ((p - 1) * ls).magnitude) * f
                }
            }
        case .bce(let l) where argument == .input:
            // The reference: (x - y) / (x (1 - x)), one rounding of two Float-exact values;
            // the dual differentiates -[y log x + (1 - y) log(1 - x)]: (1 - y)/(1 - x) - y/x.
            return a.indices.map { j in
                let x = a[j], y = partner(j)
                return ((x - y).magnitude / (x * (1 - x)) + (1 - y).magnitude / (1 - x) + y.magnitude / x)
                    * (expanded(l.weight, j) * upstreamFactor(j)).magnitude
            }
        case .bce(let l) where argument == .target:  // log(1 - x) - log x
            return a.indices.map { j in
                let x = partner(j)
                return (Foundation.log1p(-x).magnitude + Foundation.log(x).magnitude) * (expanded(l.weight, j) * upstreamFactor(j)).magnitude
            }
        case .klDiv(let l) where argument == .target:
            return a.indices.map { j in
                let t = a[j], x = partner(j), f = upstreamFactor(j).magnitude
                // log t + 1 - x (the dual: (log t - x) + t (1/t)); with log_target exp(t) (t - x + 1).
                return l.logTarget ? Foundation.exp(t) * (t.magnitude + x.magnitude + 1) * f
                                   : (Foundation.log(t).magnitude + 1 + x.magnitude) * f
            }
        case .poissonNLL(let l):
            return a.indices.map { j in
                let x = argument == .input ? a[j] : partner(j), t = argument == .input ? partner(j) : a[j]
                let f = upstreamFactor(j).magnitude
                switch argument {
                case .input:  // exp(x) - t, or 1 - t / (x + eps)
                    return (l.logInput ? Foundation.exp(x) + t.magnitude : 1 + (t / (x + l.eps)).magnitude) * f
                case .target:  // -x or -log(x + eps), plus log t + 1/(2t) where t > 1 (the dual: + 1 - 1)
                    var terms = l.logInput ? x.magnitude : Foundation.log(x + l.eps).magnitude
                    if l.full && t > 1 { terms += Foundation.log(t).magnitude + 2 + 1 / (2 * t) }
                    return terms * f
                }
            }
        case .crossEntropy(let l):
            return classTerms(l)
        default:
            return nil
        }
    }

    static func logSigmoid(_ x: Double) -> Double { min(x, 0) - Foundation.log1p(Foundation.exp(-x.magnitude)) }

    /// Cross-entropy: per row, the summands of
    ///   index targets:        (1 - eps) w[y] (p - onehot(y)) + (eps / C) ((sum w) p - w)
    ///   probability targets:  p * (sum_c w_c t_c) - w t   (t smoothed)
    /// where `s p - a` is evaluated, at the row's most likely class, as (p - 1) s + sum_{j != c} a_j;
    /// times |g_i / den|. The target gradient -(1 - eps) w logp is a single term.
    private func classTerms(_ l: CrossEntropyLoss) -> [Double]? {
        let input = generated.arguments.input
        let unbatched = input.shape.count == 1
        let C = unbatched ? input.shape[0] : input.shape[1]
        let inner = unbatched ? 1 : input.shape.dropFirst(2).reduce(1, *)
        let rows = input.count / max(C, 1)
        let w = l.weight?.scalars ?? Array(repeating: 1, count: C)
        let eps = l.labelSmoothing
        var classes: [Int] = []
        var probabilities: Tensor<Double>?
        switch generated.arguments.target {
        case .classes(let t): classes = t.scalars
        case .values(let t):
            guard argument == .input else { return nil }
            probabilities = t
        }
        let den: Double
        if generated.loss.reduction != .mean { den = 1 }
        else if probabilities != nil { den = Double(rows) }
        else { den = classes.filter { $0 != l.ignoreIndex }.reduce(0) { $0 + w[$1] } }
        var terms = Array(repeating: 0.0, count: input.count)
        for row in 0..<rows {
            let n = row / inner, s = row % inner
            let offsets = (0..<C).map { (n * C + $0) * inner + s }
            let x = offsets.map { input.scalars[$0] }
            let m = x.max() ?? 0
            let e = x.map { Foundation.exp($0 - m) }
            let total = e.reduce(0, +)
            let p = e.map { $0 / total }
            let top = x.indices.max { x[$0] < x[$1] } ?? 0
            func residualTerms(_ a: [Double]) -> [Double] {
                let sum = a.reduce(0, +), absSum = a.reduce(0) { $0 + $1.magnitude }
                return (0..<C).map { c in
                    c == top ? (p[c] - 1).magnitude * sum.magnitude + absSum - a[c].magnitude
                             : p[c] * sum.magnitude + a[c].magnitude
                }
            }
            let g = (reduced ? upstream[0] : upstream[row]) / den
            var rowTerms: [Double]
            if let t = probabilities {
                let smoothed = offsets.map { eps > 0 ? t.scalars[$0] * (1 - eps) + eps / Double(C) : t.scalars[$0] }
                rowTerms = residualTerms((0..<C).map { w[$0] * smoothed[$0] })
            } else {
                let y = classes[row]
                if y == l.ignoreIndex { continue }
                let smooth = residualTerms(w)
                rowTerms = (0..<C).map { c in
                    (1 - eps) * w[y].magnitude * (p[c] - (c == y ? 1 : 0)).magnitude + eps / Double(C) * smooth[c]
                }
            }
            for c in 0..<C { terms[offsets[c]] = rowTerms[c] * g.magnitude }
        }
        return terms
    }

    /// PyTorch's float constant 1e-12 in bce's gradient denominator.
    static let bceEpsilon = Double(Float(1e-12))

    /// How coordinate `j` takes part: the loss's kinks, domain edges and documented points.
    func plan(_ j: Int) -> CoordinatePlan {
        let a = point[j]
        var plan = CoordinatePlan()
        switch generated.loss {
        case .l1:
            let e = argument == .input ? a - partner(j) : partner(j) - a
            plan.kinkDistance = e.magnitude
            if e == 0 { plan.documented = 0; plan.isDerivative = false; plan.reason = "l1 at e = 0: sign(0) = 0" }
        case .smoothL1(let l):
            let e = argument == .input ? a - partner(j) : partner(j) - a
            if l.beta == 0 {
                plan.kinkDistance = e.magnitude
                if e == 0 { plan.documented = 0; plan.isDerivative = false; plan.reason = "smooth_l1 (beta 0) at e = 0: sign(0) = 0" }
            } else {
                plan.kinkDistance = (e.magnitude - l.beta).magnitude
            }
        case .huber(let l):
            let e = argument == .input ? a - partner(j) : partner(j) - a
            plan.kinkDistance = (e.magnitude - l.delta).magnitude
        case .bce(let l):
            let w = bceWeight(l, j)
            let (x, y) = argument == .input ? (a, partner(j)) : (partner(j), a)
            switch argument {
            case .input:
                plan.domainDistance = min(x, 1 - x)
                if x * (1 - x) < GradProbe.bceEpsilon {
                    plan.documented = w * (x - y) / max(x * (1 - x), GradProbe.bceEpsilon) * upstreamFactor(j)
                    plan.isDerivative = false
                    plan.reason = "bce clamp: (x - y) / max(x (1 - x), 1e-12f)"
                }
            case .target:
                plan.domainDistance = min(y, 1 - y)
                if Foundation.log(x) < -100 || Foundation.log1p(-x) < -100 {
                    plan.documented = w * (Foundation.log1p(-x) - Foundation.log(x)) * upstreamFactor(j)
                    plan.isDerivative = false
                    plan.reason = "bce target gradient with unclamped logs"
                }
            }
        case .klDiv(let l) where argument == .target && !l.logTarget:
            plan.domainDistance = a
            if a == 0 { plan.documented = .nan; plan.isDerivative = false; plan.reason = "kl_div target gradient at t = 0 is NaN" }
        case .bceWithLogits(let l) where argument == .input && a == 0:
            // sigmoid(0) = 1/2: d/dx = w (c / 2 - p y), c = 1 + (p - 1) y.
            let y = partner(j)
            let w = expanded(l.weight, j), p = l.posWeight == nil ? 1 : expanded(l.posWeight, j)
            plan.documented = w * ((1 + (p - 1) * y) / 2 - p * y) * upstreamFactor(j)
            plan.dualBlind = true
            plan.reason = "bce_with_logits at x = 0: w (c sigmoid(0) - p y)"
        case .poissonNLL(let l) where argument == .input && !l.logInput:
            plan.domainDistance = a + l.eps
        case .poissonNLL(let l) where argument == .target && l.full:
            plan.kinkDistance = (a - 1).magnitude  // the Stirling term switches on at t > 1
        default:
            break
        }
        return plan
    }

    private func bceWeight(_ l: BCELoss, _ j: Int) -> Double { expanded(l.weight, j) }

    /// Element `j` of a weight broadcast to the input's shape (1 when absent).
    private func expanded(_ w: Tensor<Double>?, _ j: Int) -> Double {
        guard let w else { return 1 }
        let input = generated.arguments.input.shape
        guard let b = try? Broadcast(w.shape, to: input, loss: generated.lossName, argument: "weight") else { return .nan }
        return b.expand(w.scalars)[j]
    }
}

/// What one probe's check found.
struct GradOutcome {
    enum Mode: String {
        case full = "full Jacobian"
        case projections = "random projections"
        case notCompared = "not compared (loss not finite)"
    }
    var mode = Mode.full
    /// Norm-wise relative error against dual numbers (absolute when the scale is 0).
    var dualError = 0.0
    var dualPassed = true
    var dualDetail = ""
    /// Norm-wise relative error against finite differences, over the compared entries.
    var differenceError = 0.0
    var differencePassed = true
    var differenceDetail = ""
    /// Documented points: all equal to the contract's value.
    var documentedPassed = true
    var documentedDetail = ""
    /// Full mode: outputs that changed with a coordinate they should not depend on.
    var couplingDetail = ""

    /// Coordinates (full mode) or projections compared by finite differences.
    var compared = 0
    /// Coordinates not compared by finite differences: within a step of a kink, on a
    /// domain edge, numerically unresolved, at a documented point, or in a case whose
    /// loss is not finite.
    var kinkSkipped = 0
    var edgeSkipped = 0
    var unresolved = 0
    var documented = 0
    var nonFiniteSkipped = 0
    /// Coordinates (or projections) compared by dual numbers.
    var dualCompared = 0
    /// The norm-wise condition of the gradient formula's sums (1 where nothing cancels),
    /// and the dual bound derived from it.
    var condition = 1.0
    var dualBound = GradBounds.dual

    var passed: Bool { dualPassed && differencePassed && documentedPassed && couplingDetail.isEmpty }
}

enum GradCheck {
    /// Checks `analytic` (by default the reference's own gradient) for one probe, in full
    /// mode up to `GradBounds.fullModeLimit` coordinates and by projections beyond.
    static func run(_ probe: GradProbe, analytic override: [Double]? = nil, forceProjections: Bool = false) throws -> GradOutcome {
        let analytic = try override ?? probe.referenceGradient()
        guard analytic.count == probe.point.count else {
            throw LossError(.shape, "gradient has \(analytic.count) entries for \(probe.point.count) coordinates")
        }
        var outcome = GradOutcome()
        var plans = probe.point.indices.map(probe.plan)
        if !probe.baseOutput.allSatisfy(\.isFinite) {
            // A loss that is NaN or infinite has no derivative to compare against. The one
            // case the contract gives a gradient for: every class target ignored (the mean
            // is 0/0 = NaN, the gradient is 0).
            outcome.nonFiniteSkipped = probe.point.count
            if probe.allRowsIgnored {
                for j in plans.indices {
                    plans[j] = CoordinatePlan(documented: 0, isDerivative: false, reason: "every target ignored: gradient 0")
                }
            }
            checkDocumented(probe, analytic, plans, &outcome)
            outcome.mode = .notCompared
            return outcome
        }
        checkDocumented(probe, analytic, plans, &outcome)
        if probe.point.count <= GradBounds.fullModeLimit && !forceProjections {
            try full(probe, analytic, plans, &outcome)
        } else {
            try projections(probe, analytic, plans, &outcome)
        }
        return outcome
    }

    /// The documented points: the analytic entry must be the contract's value.
    private static func checkDocumented(_ probe: GradProbe, _ a: [Double], _ plans: [CoordinatePlan], _ outcome: inout GradOutcome) {
        for (j, plan) in plans.enumerated() {
            guard let expected = plan.documented else { continue }
            outcome.documented += 1
            let actual = a[j]
            let ok: Bool
            if expected.isNaN { ok = actual.isNaN }
            else if expected.isInfinite || expected == 0 { ok = actual == expected }
            else { ok = (actual - expected).magnitude <= GradBounds.documented * expected.magnitude }
            if !ok && outcome.documentedPassed {
                outcome.documentedPassed = false
                outcome.documentedDetail = "documented point \(Shape.describe(ComparisonResult.multiIndex(j, shape: probe.shape))) (\(plan.reason)): "
                    + "expected \(expected), reference \(actual), \(ULP.distance(actual, expected).map { "\($0) ulp" } ?? "NaN vs number")"
            }
        }
    }

    /// The largest power of two not above `max(|x|, 1)` (1 for non-finite x).
    static func powerOfTwoScale(_ x: Double) -> Double {
        let m = max(x.magnitude, 1)
        return m.isFinite ? Double(sign: .plus, exponent: m.exponent, significand: 1) : 1
    }

    /// The largest power of two not above `x > 0`.
    static func powerOfTwoFloor(_ x: Double) -> Double {
        Double(sign: .plus, exponent: x.exponent, significand: 1)
    }

    /// The finite-difference options for coordinate `j`: the default step, shrunk to
    /// 1/64 of the distance to a domain edge.
    static func differenceOptions(at x: Double, _ plan: CoordinatePlan) -> FiniteDifferences.Options {
        var options = FiniteDifferences.Options()
        let limit = plan.domainDistance * 0x1p-6
        if FiniteDifferences.step(at: x, options: options) > limit {
            options.relativeStep = limit / max(x.magnitude, 1)
        }
        return options
    }

    private static func full(_ probe: GradProbe, _ a: [Double], _ plans: [CoordinatePlan], _ outcome: inout GradOutcome) throws {
        let n = probe.point.count
        // (a) dual numbers: one seed per coordinate.
        var included: [Int] = [], dual: [Double] = []
        for j in 0..<n where plans[j].dualCompares {
            var u = Array(repeating: 0.0, count: n)
            u[j] = 1
            included.append(j)
            dual.append(probe.upstreamDot(try probe.dualOutputs(direction: u)))
        }
        let analytic = included.map { a[$0] }
        // The bound: 1e-12, or (k_a + k_d) (u/2) kappa for a formula that cancels more
        // (kappa = max_j terms_j / max_j |dual_j|, norm-wise). Where the exact gradient
        // is 0 to within rounding (scale 0) only the absolute form remains:
        // (k_a + k_d) (u/2) max_j terms_j.
        let dualScale = dual.filter(\.isFinite).map(\.magnitude).max() ?? 0
        let terms = probe.cancellationTerms()
        let largestTerms = terms.map { t in included.map { t[$0] }.filter(\.isFinite).max() ?? 0 } ?? 0
        let absoluteFloor = GradBounds.dualRoundings * Double.ulpOfOne / 2 * largestTerms
        let tolerance: Tolerance
        if dualScale > 0 {
            outcome.condition = max(1, largestTerms / dualScale)
            outcome.dualBound = GradBounds.dual(condition: outcome.condition)
            tolerance = Tolerance(rtol: outcome.dualBound)
        } else {
            outcome.condition = largestTerms > 0 ? .infinity : 1
            outcome.dualBound = largestTerms > 0 ? .infinity : GradBounds.dual
            tolerance = Tolerance(rtol: GradBounds.dual, atol: absoluteFloor)
        }
        let result = compare(actual: analytic, expected: dual, tolerance: tolerance)
        outcome.dualCompared = included.count
        outcome.dualError = included.isEmpty ? 0 : result.error
        outcome.dualPassed = result.passed
        if !result.passed {
            let at = result.worst.map { Shape.describe(ComparisonResult.multiIndex(included[$0.flatIndex], shape: probe.shape)) } ?? "?"
            outcome.dualDetail = "dual numbers (norm-wise rtol \(outcome.dualBound), condition \(outcome.condition)), worst coordinate \(at): \(result)"
        }

        // (b) finite differences, coordinate by coordinate, on the outputs that depend on it.
        // The scale: the largest exact (dual) entry, else the largest documented-free
        // analytic entry where the dual is blind.
        var scale = result.scale.isFinite ? result.scale : 0
        for j in 0..<n where plans[j].isDerivative && plans[j].dualBlind && a[j].isFinite { scale = max(scale, a[j].magnitude) }
        var entries: [(j: Int, analytic: Double, oracle: Double, estimate: Double)] = []
        for j in 0..<n where plans[j].isDerivative {
            let x = probe.point[j], plan = plans[j]
            if plan.domainDistance == 0 { outcome.edgeSkipped += 1; continue }
            let options = differenceOptions(at: x, plan)
            let h = FiniteDifferences.step(at: x, options: options)
            if plan.kinkDistance <= h { outcome.kinkSkipped += 1; continue }
            let column = try FiniteDifferences.partialDerivatives(of: probe.outputs, at: probe.point, coordinate: j, options: options)
            let deps = probe.dependencies(of: j)
            for k in column.indices where !deps.contains(k) && column[k].value != 0 && outcome.couplingDetail.isEmpty {
                outcome.couplingDetail = "output \(k) changes with coordinate \(j), which it should not depend on (difference \(column[k]))"
            }
            var value = 0.0, estimate = 0.0
            for k in deps {
                value += probe.upstream[k] * column[k].value
                estimate += probe.upstream[k].magnitude * column[k].error
            }
            // Scale 0 (the exact gradient vanishes identically, e.g. one class): the only
            // bound is the differences' own error estimate.
            guard value.isFinite, scale == 0 || estimate <= GradBounds.differenceUncertainty * scale else {
                outcome.unresolved += 1
                continue
            }
            entries.append((j, a[j], value, estimate))
        }
        outcome.compared = entries.count
        var worst: (j: Int, analytic: Double, oracle: Double, estimate: Double)?
        var maxError = 0.0
        outcome.differencePassed = true
        for e in entries {
            let d = (e.analytic - e.oracle).magnitude
            if worst == nil || !(d <= maxError) { maxError = d; worst = e }
            // Scale 0: the differences' own estimate, or the dual's absolute floor (the value
            // itself is then only accurate to rounding of its summands, which the estimate,
            // relative to |f|, does not see).
            if !(d <= (scale > 0 ? GradBounds.finiteDifferences * scale : max(e.estimate, absoluteFloor))) { outcome.differencePassed = false }
        }
        outcome.differenceError = scale > 0 ? maxError / scale : maxError
        if !outcome.differencePassed, let w = worst {
            outcome.differenceDetail = "finite differences (norm-wise rtol \(GradBounds.finiteDifferences)), worst coordinate "
                + "\(Shape.describe(ComparisonResult.multiIndex(w.j, shape: probe.shape))): analytic \(w.analytic), "
                + "Richardson \(w.oracle) (± \(w.estimate)); |difference| \(maxError) = \(outcome.differenceError) x scale \(scale); "
                + "\(ULP.distance(w.analytic, w.oracle).map { "\($0) ulp" } ?? "NaN vs number")"
        }
    }

    /// `sum_j a_j u_j` over the coordinates the direction moves, and the scale of its terms.
    private static func dot(_ a: [Double], _ u: [Double]) -> (value: Double, scale: Double) {
        let moved = u.indices.filter { u[$0] != 0 }
        return (compensatedSum(moved.lazy.map { a[$0] * u[$0] }), compensatedSum(moved.lazy.map { (a[$0] * u[$0]).magnitude }))
    }

    private static func projections(_ probe: GradProbe, _ a: [Double], _ plans: [CoordinatePlan], _ outcome: inout GradOutcome) throws {
        let n = probe.point.count
        let c = probe.generated
        var rng = SeededGenerator(seed: SeededGenerator.derivedSeed(c.seed ?? 0, name: "gradcheck-\(c.lossName)-\(probe.argument)",
                                                                   index: c.index ?? 0))
        let t = FiniteDifferences.step(at: 0)  // the directional step: 2^-7
        let terms = probe.cancellationTerms()
        outcome.mode = .projections
        for p in 0..<GradBounds.projections {
            // Few-bit coefficients in [1/128, 2] with random signs, times a power of two
            // scaled to the coordinate: x +- t u stays exact.
            var dualDirection = Array(repeating: 0.0, count: n), fdDirection = dualDirection
            var kinks = 0, edges = 0, moved = 0
            for j in 0..<n {
                let coefficient = Double(rng.int(in: 1...255)) / 128 * rng.sign()
                let plan = plans[j]
                var s = powerOfTwoScale(probe.point[j])
                if plan.dualCompares { dualDirection[j] = coefficient * s }
                guard plan.isDerivative else { continue }
                if plan.domainDistance.isFinite {
                    // |t u_j| <= 2^-6 s must stay within 1/64 of the distance to the edge.
                    guard plan.domainDistance > 0 else { edges += 1; continue }
                    s = min(s, powerOfTwoFloor(plan.domainDistance))
                }
                if plan.kinkDistance <= t * (coefficient * s).magnitude { kinks += 1; continue }
                fdDirection[j] = coefficient * s
                moved += 1
            }

            // (a) dual numbers along the direction (every coordinate they can vouch for).
            let dual = probe.upstreamDot(try probe.dualOutputs(direction: dualDirection))
            let (analyticDual, termsDual) = dot(a, dualDirection)
            let dualScale = max(termsDual, dual.magnitude)
            let dualError = (analyticDual - dual).magnitude / (dualScale > 0 ? dualScale : 1)
            // The condition of the projection: sum_j terms_j |u_j| against its scale.
            var condition = 1.0
            if let terms, dualScale > 0 {
                let weighted: Double = compensatedSum(dualDirection.indices.lazy.filter { dualDirection[$0] != 0 && terms[$0].isFinite }
                    .map { terms[$0] * dualDirection[$0].magnitude })
                condition = max(1, weighted / dualScale)
            }
            outcome.condition = max(outcome.condition, condition)
            let bound = GradBounds.dual(condition: condition)
            outcome.dualBound = max(outcome.dualBound, bound)
            outcome.dualCompared += 1
            outcome.dualError = max(outcome.dualError, dualError)
            if !(dualError <= bound) && outcome.dualPassed {
                outcome.dualPassed = false
                outcome.dualDetail = "dual numbers, projection \(p): analytic . u = \(analyticDual), dual \(dual); "
                    + "|difference| / scale = \(dualError) (bound \(bound), condition \(condition), scale \(dualScale))"
            }

            // (b) finite differences along the direction without kinks and edges.
            let estimate = try FiniteDifferences.projection(of: probe.outputs, at: probe.point, direction: fdDirection,
                                                            cotangent: probe.upstream)
            let (analyticFD, termsFD) = dot(a, fdDirection)
            let scale = max(termsFD, estimate.value.magnitude)
            let conclusive = estimate.value.isFinite && (scale == 0 || estimate.error <= GradBounds.differenceUncertainty * scale)
            if p == 0 {
                // Counted per coordinate, from the first direction.
                outcome.kinkSkipped += kinks
                outcome.edgeSkipped += edges
                if conclusive { outcome.compared += moved } else { outcome.unresolved += moved }
            }
            guard conclusive else { continue }
            let error = (analyticFD - estimate.value).magnitude / (scale > 0 ? scale : 1)
            outcome.differenceError = max(outcome.differenceError, error)
            if !(error <= (scale > 0 ? GradBounds.finiteDifferences : estimate.error)) && outcome.differencePassed {
                outcome.differencePassed = false
                outcome.differenceDetail = "finite differences, projection \(p): analytic . u = \(analyticFD), Richardson \(estimate); "
                    + "|difference| / scale = \(error) (bound \(GradBounds.finiteDifferences), scale \(scale))"
            }
        }
    }
}

/// Per-loss totals of a sweep, for the assertions on coverage and the report line.
struct GradSweepTotals {
    var cases = 0
    var probes = 0
    var projectionProbes = 0
    var maxDual: [GradArgument: Double] = [:]
    var maxDifference: [GradArgument: Double] = [:]
    var compared = 0, kinkSkipped = 0, edgeSkipped = 0, unresolved = 0, documented = 0, nonFinite = 0
    var dualCompared = 0
    /// Probes whose dual bound was scaled above 1e-12 by the formula's condition, and the
    /// largest condition seen.
    var scaledBounds = 0
    var maxCondition = 1.0
    /// Probes whose exact gradient vanished to within rounding (absolute bound).
    var zeroScale = 0
    /// Full-mode coordinates only (small cases): compared, and everything finite
    /// differences looked at (compared, kink, edge, unresolved).
    var fullCompared = 0, fullCandidates = 0, fullKinkSkipped = 0
    /// Per regime, the small cases' finite-difference coordinates: compared, skipped
    /// near a kink, skipped on a domain edge, unresolved.
    var fullByRegime: [Generators.Regime: FDCounts] = [:]

    struct FDCounts {
        var compared = 0, kink = 0, edge = 0, unresolved = 0
        var skipped: Int { kink + edge }
    }

    /// Summed over the regimes other than `excluded`.
    func counts(excluding excluded: Generators.Regime) -> FDCounts {
        var c = FDCounts()
        for (regime, r) in fullByRegime where regime != excluded {
            c.compared += r.compared; c.kink += r.kink; c.edge += r.edge; c.unresolved += r.unresolved
        }
        return c
    }

    mutating func add(_ o: GradOutcome, argument: GradArgument, regime: Generators.Regime) {
        probes += 1
        if o.dualBound > GradBounds.dual { scaledBounds += 1 }
        if o.condition.isFinite { maxCondition = max(maxCondition, o.condition) }
        if o.mode == .full {
            fullCompared += o.compared
            fullCandidates += o.compared + o.kinkSkipped + o.edgeSkipped + o.unresolved
            fullKinkSkipped += o.kinkSkipped
            var r = fullByRegime[regime] ?? FDCounts()
            r.compared += o.compared; r.kink += o.kinkSkipped; r.edge += o.edgeSkipped; r.unresolved += o.unresolved
            fullByRegime[regime] = r
        } else if o.mode == .projections {
            projectionProbes += 1
        }
        // Relative errors only: a probe whose exact gradient is 0 (scale 0) reports an
        // absolute one, checked against its absolute floor and counted apart.
        if o.condition.isFinite {
            maxDual[argument] = max(maxDual[argument] ?? 0, o.dualError)
            maxDifference[argument] = max(maxDifference[argument] ?? 0, o.differenceError)
        } else {
            zeroScale += 1
        }
        compared += o.compared
        kinkSkipped += o.kinkSkipped
        edgeSkipped += o.edgeSkipped
        unresolved += o.unresolved
        documented += o.documented
        nonFinite += o.nonFiniteSkipped
        dualCompared += o.dualCompared
    }

    func line(_ name: String, seconds: Double) -> String {
        func e(_ x: Double?) -> String { x.map { String(format: "%.1e", $0) } ?? "   -   " }
        let padded = name.padding(toLength: 28, withPad: " ", startingAt: 0)
        return "gradcheck \(padded) cases \(String(format: "%4d", cases)) probes \(String(format: "%4d", probes)) (\(projectionProbes) proj)"
            + " | dual input \(e(maxDual[.input])) target \(e(maxDual[.target]))"
            + " | FD input \(e(maxDifference[.input])) target \(e(maxDifference[.target]))"
            + " | FD full-mode compared \(fullCompared)/\(fullCandidates); all: compared \(compared), kink \(kinkSkipped), edge \(edgeSkipped), unresolved \(unresolved), documented \(documented), non-finite \(nonFinite)"
            + " | condition max \(String(format: "%.1e", maxCondition)), bound scaled in \(scaledBounds), zero scale \(zeroScale)"
            + String(format: " | %.2f s", seconds)
            + " | by regime (compared/kink/edge/unresolved): " + fullByRegime.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value.compared)/\($0.value.kink)/\($0.value.edge)/\($0.value.unresolved)" }.joined(separator: ", ")
    }
}

/// `LOSS_REPORT=1`: print one summary line per loss.
enum GradReport {
    static let enabled: Bool = {
        switch ProcessInfo.processInfo.environment["LOSS_REPORT"]?.lowercased() {
        case "1", "true", "yes": true
        default: false
        }
    }()
}

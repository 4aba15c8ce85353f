import Foundation
import Losses

/// Seeded random loss calls: a loss with random options and matching random arguments,
/// for the property, gradient and stability suites.
///
/// Reproducible. A case is a pure function of (loss name, base seed, index, options):
/// `Generators.case(for: "cross_entropy", seed: s, index: 17)` rebuilds case 17 exactly,
/// so a failure message only has to print those (see `GeneratedCase.rerunHint` and
/// `TestEnvironment`). The stream comes from `SeededGenerator`, whose helpers are stable
/// across platforms and Swift versions.
///
/// Float-exact. Every generated real value (input, target, var, upstream, weight,
/// pos_weight, and every non-default scalar option: delta, beta, eps, label_smoothing)
/// is rounded through `Float`, so the Double reference and the Float engine evaluate the
/// very same point. The one exception: an option left at PyTorch's default keeps the
/// default's Double value (`poisson_nll` eps 1e-8, `gaussian_nll` eps 1e-6), exactly as a
/// description built with its default initializer holds it.
///
/// Valid. Every case passes its description's `validate` (`GeneratedCase.validate()`
/// runs the same checks the engines run): shapes fit, class indices lie in `[0, C)` or
/// equal `ignore_index`, probabilities lie in [0, 1] where the loss checks them,
/// variances are non-negative, upstream gradients have the output's shape.
///
/// Regimes (`Generators.Regime`), each only for the losses where it means something
/// (`Generators.regimes(for:)`):
/// - `standard-normal`: N(0, 1) values (logits N(0, 1) or N(0, 9); probabilities
///   `sigmoid(N(0, 4))`; rates and variances `exp(N(0, 1))`).
/// - `wide-range`: magnitudes log-uniform in [1e-30, 1e30] with random signs (positive
///   where the domain demands; probabilities log-uniform in [1e-30, 1] or one minus that;
///   `poisson_nll` log-rates up to 80 in magnitude so that `exp` stays finite in Double).
///   Note that squares of such values overflow Float arithmetic: a Float engine's
///   infinity against a finite Double is then the honest outcome, not a generator fault.
/// - `near-kinks`: regression differences `e = input - target` at or within 2^-8..2^-20
///   (relative) of 0 and of +-delta / +-beta (exact hits included: targets on a 2^-4
///   grid make `e` exact); `bce_with_logits` logits at or near 0.
/// - `near-one-hot`: N(0, 1) logits with one entry per row raised by 10..40, so the
///   softmax is one-hot to within about e^-6..e^-40; the raised class is usually the
///   target, sometimes another one (confidently wrong). For `nll`, the log-softmax of
///   such logits (entries near 0 and near -10..-40).
/// - `near-bounds`: probabilities at and near 0 and 1 (0, 1, 2^-k, 1 - 2^-k, the
///   smallest normal and subnormal Floats), `kl_div` targets with exact zeros,
///   `poisson_nll` zero counts and rates, `gaussian_nll` variances at, below and above eps.
/// - `soft-targets`: class-probability targets (rows of a softmax, summing to 1 up to
///   Float rounding) for `cross_entropy` and `kl_div`, uniform [0, 1] targets for `bce`.
/// - `binary-targets`: 0/1 targets for `bce` and `bce_with_logits`.
///
/// Shapes (`Generators.ShapeKind`): `scalar` `[]`, `vector` `[n]`, `batched` `[N, C]`,
/// `spatial` `[N, C, d1]` or `[N, C, d1, d2]`; for `cross_entropy`/`nll` `scalar` and
/// `vector` both mean the unbatched input `[C]` with a scalar target. Class counts are
/// 1, 2 or 3 half the time, else 4...12. With `simdTails`, the vectorized length (the
/// last dimension, or C for class losses) is drawn from 0, 1, 15, 16, 17 and 2^k +- 1
/// (a length of 0 makes an empty tensor; for class losses an empty batch).
///
/// Options are random unless `randomizeOptions` is false: weights (all the shapes that
/// broadcast: full, `[C]`, `[1]`, `[]`, `[N, 1]`, ...), pos_weight, ignore_index present
/// and absent (-100, -1 or a real class), label smoothing (0, 0.1, 0.5, 1, random),
/// log_target, log_input, full, non-default delta/beta/eps, every reduction the loss has
/// (`batchmean` for `kl_div`). With `none`, an upstream gradient of the output's shape
/// (N(0, 1)) most of the time; with a reduction, sometimes a scalar one.
public enum Generators {
    /// A family of values (see the type's documentation).
    public enum Regime: String, CaseIterable, Sendable {
        case standardNormal = "standard-normal"
        case wideRange = "wide-range"
        case nearKinks = "near-kinks"
        case nearOneHot = "near-one-hot"
        case nearBounds = "near-bounds"
        case softTargets = "soft-targets"
        case binaryTargets = "binary-targets"
    }

    /// The layout of the input.
    public enum ShapeKind: String, CaseIterable, Sendable {
        case scalar, vector, batched, spatial
    }

    /// The regimes meaningful for a loss (empty for an unknown name).
    public static func regimes(for lossName: String) -> [Regime] {
        switch lossName {
        case "mse", "l1", "huber", "smooth_l1": [.standardNormal, .wideRange, .nearKinks]
        case "bce": [.standardNormal, .wideRange, .nearBounds, .softTargets, .binaryTargets]
        case "bce_with_logits": [.standardNormal, .wideRange, .nearKinks, .softTargets, .binaryTargets]
        case "cross_entropy": [.standardNormal, .wideRange, .nearOneHot, .softTargets]
        case "nll": [.standardNormal, .wideRange, .nearOneHot]
        case "kl_div": [.standardNormal, .wideRange, .nearBounds, .softTargets]
        case "poisson_nll", "gaussian_nll": [.standardNormal, .wideRange, .nearBounds]
        default: []
        }
    }

    /// The lengths `simdTails` draws from: 0, 1, 15, 16, 17 and 2^k +- 1 for k in
    /// 2...maxExponent.
    public static func tailLengths(maxExponent: Int) -> [Int] {
        var lengths: Set<Int> = [0, 1, 15, 16, 17]
        if maxExponent >= 2 {
            for k in 2...maxExponent { lengths.insert((1 << k) - 1); lengths.insert((1 << k) + 1) }
        }
        return lengths.sorted()
    }

    /// Case `index` of `lossName` under base seed `seed`: the same triple (and options)
    /// always gives the same case.
    /// - Throws: `LossError(.option)` for an unknown loss name, or when `options` leaves
    ///   no regime, shape or reduction the loss has.
    public static func `case`(for lossName: String, seed: UInt64, index: Int,
                              options: GeneratorOptions = GeneratorOptions()) throws(LossError) -> GeneratedCase {
        var rng = SeededGenerator(seed: SeededGenerator.derivedSeed(seed, name: lossName, index: index))
        var generated = try Generators.case(for: lossName, rng: &rng, options: options)
        generated.seed = seed
        generated.index = index
        return generated
    }

    /// `count` cases of `lossName`: indices `0..<count` under `seed`.
    public static func cases(for lossName: String, count: Int, seed: UInt64,
                             options: GeneratorOptions = GeneratorOptions()) throws(LossError) -> [GeneratedCase] {
        var result: [GeneratedCase] = []
        for index in 0..<max(count, 0) {
            result.append(try Generators.case(for: lossName, seed: seed, index: index, options: options))
        }
        return result
    }

    /// One case drawn from `rng` (not tied to a seed and index; prefer the seeded form
    /// when a failure must be reproducible).
    public static func `case`(for lossName: String, rng: inout SeededGenerator,
                              options: GeneratorOptions = GeneratorOptions()) throws(LossError) -> GeneratedCase {
        let available = regimes(for: lossName)
        guard !available.isEmpty else {
            throw LossError(.option, "generators: unknown loss '\(lossName)'; expected one of \(AnyLoss.names.joined(separator: ", "))")
        }
        let allowed = options.regimes.map { wanted in available.filter(wanted.contains) } ?? available
        guard !allowed.isEmpty else {
            throw LossError(.option, "generators: \(lossName) has none of the regimes \(options.regimes!.map(\.rawValue)); its regimes are \(available.map(\.rawValue))")
        }
        let regime = rng.pick(allowed)
        var builder = CaseBuilder(rng: rng, options: options, regime: regime)
        let (loss, arguments) = try builder.build(lossName)
        rng = builder.rng
        return GeneratedCase(loss: loss, arguments: arguments, regime: regime, seed: nil, index: nil)
    }
}

/// What the generators may produce. The defaults give small, varied cases (a few dozen
/// elements) with random options, every regime, shape and reduction of the loss.
public struct GeneratorOptions: Sendable, Hashable {
    /// Restrict to these regimes (intersected with the loss's); nil: all of the loss's.
    public var regimes: [Generators.Regime]?
    /// Restrict to these layouts; nil: all.
    public var shapes: [Generators.ShapeKind]?
    /// Restrict to these reductions (intersected with the loss's); nil: all of the loss's.
    public var reductions: [Reduction]?
    /// The largest element count of the input (ignored for the vectorized length when
    /// `simdTails` is on). Default 48.
    public var maxElements: Int
    /// Draw the vectorized length from `Generators.tailLengths(maxExponent:)`. Default off.
    public var simdTails: Bool
    /// The largest k of the 2^k +- 1 tail lengths. Default 7 (up to 129).
    public var maxTailExponent: Int
    /// Random options (weights, ignore_index, smoothing, flags, non-default thresholds);
    /// false: every option at PyTorch's default except the reduction. Default true.
    public var randomizeOptions: Bool
    /// For `cross_entropy`: class-index targets (true), probability targets (false), or
    /// both (nil, the default; `soft-targets` always uses probabilities).
    public var classIndexTargets: Bool?
    /// The probability of an upstream gradient with reduction `none` (else nil = ones).
    /// Default 0.75. With a reduction a scalar upstream is drawn with a third of it.
    public var upstreamProbability: Double

    public init(regimes: [Generators.Regime]? = nil, shapes: [Generators.ShapeKind]? = nil,
                reductions: [Reduction]? = nil, maxElements: Int = 48, simdTails: Bool = false,
                maxTailExponent: Int = 7, randomizeOptions: Bool = true, classIndexTargets: Bool? = nil,
                upstreamProbability: Double = 0.75) {
        self.regimes = regimes
        self.shapes = shapes
        self.reductions = reductions
        self.maxElements = maxElements
        self.simdTails = simdTails
        self.maxTailExponent = maxTailExponent
        self.randomizeOptions = randomizeOptions
        self.classIndexTargets = classIndexTargets
        self.upstreamProbability = upstreamProbability
    }
}

/// One generated loss call.
public struct GeneratedCase: Sendable, CustomStringConvertible {
    /// The loss with its options.
    public let loss: AnyLoss
    /// Its arguments (Float-representable Doubles; class indices as `Int`).
    public let arguments: LossArguments<Double>
    /// The regime the values were drawn from.
    public let regime: Generators.Regime
    /// The base seed, when generated by (loss, seed, index).
    public internal(set) var seed: UInt64?
    /// The index, when generated by (loss, seed, index).
    public internal(set) var index: Int?

    /// The loss's name.
    public var lossName: String { loss.name }

    /// The Swift expression that rebuilds this case (nil when not generated from a seed).
    public var rerunHint: String? {
        guard let seed, let index else { return nil }
        return "Generators.case(for: \"\(lossName)\", seed: \(TestEnvironment.hex(seed)), index: \(index))"
    }

    /// Runs the checks the engines run before any arithmetic (shapes, options, class
    /// indices, value domains, the upstream's shape).
    public func validate() throws(LossError) {
        let a = arguments
        let input = a.input.shape, target = a.target.shape
        let outputShape: [Int]
        switch (loss, a.target) {
        case (.mse(let l), .values): outputShape = try l.validate(input: input, target: target).outputShape
        case (.l1(let l), .values): outputShape = try l.validate(input: input, target: target).outputShape
        case (.huber(let l), .values): outputShape = try l.validate(input: input, target: target).outputShape
        case (.smoothL1(let l), .values): outputShape = try l.validate(input: input, target: target).outputShape
        case (.bce(let l), .values(let t)):
            outputShape = try l.validate(input: input, target: target).elements.outputShape
            try BCELoss.validateValues(count: a.input.count, input: { a.input.scalars[$0] }, target: { t.scalars[$0] })
        case (.bceWithLogits(let l), .values): outputShape = try l.validate(input: input, target: target).elements.outputShape
        case (.crossEntropy(let l), .classes(let t)):
            outputShape = try withIndices(t) { buffer throws(LossError) in
                try l.validate(input: input, target: target, classIndices: buffer).outputShape
            }
        case (.crossEntropy(let l), .values): outputShape = try l.validate(input: input, probabilityTarget: target).outputShape
        case (.nll(let l), .classes(let t)):
            outputShape = try withIndices(t) { buffer throws(LossError) in
                try l.validate(input: input, target: target, classIndices: buffer).outputShape
            }
        case (.klDiv(let l), .values): outputShape = try l.validate(input: input, target: target).outputShape
        case (.poissonNLL(let l), .values): outputShape = try l.validate(input: input, target: target).outputShape
        case (.gaussianNLL(let l), .values):
            guard let variance = a.variance else {
                throw LossError(.shape, "gaussian_nll: the var argument is missing")
            }
            outputShape = try l.validate(input: input, target: target, variance: variance.shape).0.outputShape
            try GaussianNLLLoss.validateVariance(count: variance.count) { variance.scalars[$0] }
        default:
            throw LossError(.target, "\(lossName): a \(a.target.isClasses ? "class-index" : "real") target is not accepted by this loss")
        }
        try validateUpstream(a.upstream, outputShape: outputShape, loss: lossName)
    }

    /// Every real value of the case: input, target, var, upstream and option tensors.
    public var realValues: [Double] {
        var values = arguments.input.scalars
        if case .values(let t) = arguments.target { values += t.scalars }
        values += arguments.variance?.scalars ?? []
        values += arguments.upstream?.scalars ?? []
        switch loss {
        case .bce(let l): values += l.weight?.scalars ?? []
        case .bceWithLogits(let l): values += (l.weight?.scalars ?? []) + (l.posWeight?.scalars ?? [])
        case .crossEntropy(let l): values += l.weight?.scalars ?? []
        case .nll(let l): values += l.weight?.scalars ?? []
        default: break
        }
        return values
    }

    /// The scalar options that were set away from PyTorch's defaults (name, value); these
    /// are Float-representable like every tensor value.
    public var nonDefaultScalarOptions: [(String, Double)] {
        switch loss {
        case .huber(let l): l.delta == 1 ? [] : [("delta", l.delta)]
        case .smoothL1(let l): l.beta == 1 ? [] : [("beta", l.beta)]
        case .crossEntropy(let l): l.labelSmoothing == 0 ? [] : [("label_smoothing", l.labelSmoothing)]
        case .poissonNLL(let l): l.eps == PoissonNLLLoss().eps ? [] : [("eps", l.eps)]
        case .gaussianNLL(let l): l.eps == GaussianNLLLoss().eps ? [] : [("eps", l.eps)]
        default: []
        }
    }

    /// One line: loss, origin, regime, options, argument shapes.
    public var description: String {
        var text = lossName
        if let seed, let index { text += " case \(index) (seed \(TestEnvironment.hex(seed)))" }
        text += " [\(regime.rawValue)]: " + Generators.describeOptions(loss)
        text += "; input \(Shape.describe(arguments.input.shape))"
        switch arguments.target {
        case .values(let t): text += ", target \(Shape.describe(t.shape))"
        case .classes(let t): text += ", target int \(Shape.describe(t.shape))"
        }
        if let v = arguments.variance { text += ", var \(Shape.describe(v.shape))" }
        if let u = arguments.upstream { text += ", upstream \(Shape.describe(u.shape))" }
        return text
    }
}

extension GeneratedCase {
    /// A hand-built case (no seed, no index), e.g. an exact kink point, for the checks
    /// that take generated cases. Nothing is validated here: call `validate()` when the
    /// case must be a valid call.
    public init(loss: AnyLoss, arguments: LossArguments<Double>, regime: Generators.Regime) {
        self.init(loss: loss, arguments: arguments, regime: regime, seed: nil, index: nil)
    }
}

/// Runs a validation over a class-index tensor's buffer, keeping the error typed.
private func withIndices<R>(_ t: Tensor<Int>, _ body: (UnsafeBufferPointer<Int>) throws(LossError) -> R) throws(LossError) -> R {
    do {
        return try t.withUnsafeBufferPointer { buffer in try body(buffer) }
    } catch let error as LossError {
        throw error
    } catch {
        throw LossError(.target, "unexpected error: \(error)")  // unreachable: body throws LossError only
    }
}

extension LossTarget {
    /// True for class-index targets.
    fileprivate var isClasses: Bool {
        if case .classes = self { return true }
        return false
    }
}

extension Generators {
    /// `reduction mean, weight [3], ignore_index 0, label_smoothing 0.1` for a loss.
    public static func describeOptions(_ loss: AnyLoss) -> String {
        var parts = ["reduction \(loss.reduction.rawValue)"]
        func weight(_ name: String, _ w: Tensor<Double>?) {
            if let w { parts.append("\(name) \(Shape.describe(w.shape))") }
        }
        switch loss {
        case .mse, .l1: break
        case .huber(let l): parts.append("delta \(l.delta)")
        case .smoothL1(let l): parts.append("beta \(l.beta)")
        case .bce(let l): weight("weight", l.weight)
        case .bceWithLogits(let l): weight("weight", l.weight); weight("pos_weight", l.posWeight)
        case .crossEntropy(let l):
            weight("weight", l.weight)
            parts.append("ignore_index \(l.ignoreIndex)")
            parts.append("label_smoothing \(l.labelSmoothing)")
        case .nll(let l): weight("weight", l.weight); parts.append("ignore_index \(l.ignoreIndex)")
        case .klDiv(let l): parts.append("log_target \(l.logTarget)")
        case .poissonNLL(let l): parts.append("log_input \(l.logInput), full \(l.full), eps \(l.eps)")
        case .gaussianNLL(let l): parts.append("full \(l.full), eps \(l.eps)")
        }
        return parts.joined(separator: ", ")
    }
}

// MARK: - The builder

/// Rounds through Float: the value both engines will see.
@inline(__always) private func fl(_ x: Double) -> Double { Double(Float(x)) }

private struct CaseBuilder {
    var rng: SeededGenerator
    let options: GeneratorOptions
    let regime: Generators.Regime
    var randomOptions: Bool { options.randomizeOptions }

    mutating func build(_ name: String) throws(LossError) -> (AnyLoss, LossArguments<Double>) {
        let (loss, input, target, variance): (AnyLoss, Tensor<Double>, LossTarget<Double>, Tensor<Double>?)
        switch name {
        case "mse", "l1", "huber", "smooth_l1": (loss, input, target) = try regression(name); variance = nil
        case "bce": (loss, input, target) = try bce(); variance = nil
        case "bce_with_logits": (loss, input, target) = try bceWithLogits(); variance = nil
        case "cross_entropy": (loss, input, target) = try crossEntropy(); variance = nil
        case "nll": (loss, input, target) = try nll(); variance = nil
        case "kl_div": (loss, input, target) = try klDiv(); variance = nil
        case "poisson_nll": (loss, input, target) = try poissonNLL(); variance = nil
        case "gaussian_nll": (loss, input, target, variance) = try gaussianNLL()
        default: throw LossError(.option, "generators: unknown loss '\(name)'")
        }
        let outputShape = try loss.outputShape(input: input.shape, target: target.shape,
                                               classTarget: target.isClasses, variance: variance?.shape)
        var upstream: Tensor<Double>?
        if loss.reduction == .none {
            if rng.bool(options.upstreamProbability) {
                upstream = try Tensor(shape: outputShape, scalars: normals(outputShape.reduce(1, *)))
            }
        } else if rng.bool(options.upstreamProbability / 3) {
            upstream = Tensor(scalar: fl(rng.normal()))
        }
        return (loss, LossArguments(input: input, target: target, variance: variance, upstream: upstream))
    }

    // MARK: Choices

    mutating func reduction(batchmean: Bool = false) throws(LossError) -> Reduction {
        let available: [Reduction] = batchmean ? [.none, .sum, .mean, .batchmean] : [.none, .sum, .mean]
        let allowed = options.reductions.map { wanted in available.filter(wanted.contains) } ?? available
        guard !allowed.isEmpty else {
            throw LossError(.option, "generators: none of the reductions \(options.reductions!.map(\.rawValue)) applies; available \(available.map(\.rawValue))")
        }
        return rng.pick(allowed)
    }

    mutating func shapeKind() throws(LossError) -> Generators.ShapeKind {
        let all = Generators.ShapeKind.allCases
        let allowed = options.shapes.map { wanted in all.filter(wanted.contains) } ?? all
        guard !allowed.isEmpty else { throw LossError(.option, "generators: no shape kind allowed") }
        return rng.pick(allowed)
    }

    var budget: Int { max(options.maxElements, 1) }

    mutating func tail() -> Int { rng.pick(Generators.tailLengths(maxExponent: options.maxTailExponent)) }

    /// Random dimensions (each >= 1) whose product is at most `budget`.
    mutating func dims(_ rank: Int, maxDim: Int, budget: Int) -> [Int] {
        var d = (0..<rank).map { _ in rng.int(in: 1...max(maxDim, 1)) }
        while d.reduce(1, *) > budget, let largest = d.indices.max(by: { d[$0] < d[$1] }), d[largest] > 1 {
            d[largest] = (d[largest] + 1) / 2
        }
        return d
    }

    /// An elementwise loss's input shape.
    mutating func elementwiseShape() throws(LossError) -> [Int] {
        let kind = try shapeKind()
        if options.simdTails && kind != .scalar {
            let t = tail()
            switch kind {
            case .vector: return [t]
            case .batched: return [rng.int(in: 1...3), t]
            default: return [rng.int(in: 1...2), rng.int(in: 1...2), t]
            }
        }
        switch kind {
        case .scalar: return []
        case .vector: return [rng.int(in: 1...budget)]
        case .batched: return dims(2, maxDim: 8, budget: budget)
        case .spatial: return dims(rng.bool() ? 3 : 4, maxDim: 4, budget: budget)
        }
    }

    /// A class layout: input shape, target shape, and (batch, classes, inner).
    mutating func classLayout() throws(LossError) -> (input: [Int], target: [Int], batch: Int, classes: Int, inner: Int) {
        let kind = try shapeKind()
        var classes = rng.bool() ? rng.pick([1, 2, 3]) : rng.int(in: 4...12)
        var emptyBatch = false
        if options.simdTails {
            let t = tail()
            if t == 0 { emptyBatch = true } else { classes = t }
        }
        let rowBudget = max(budget / classes, 1)
        switch kind {
        case .scalar, .vector, .batched:
            if (kind == .scalar || kind == .vector) && !emptyBatch {
                return ([classes], [], 1, classes, 1)
            }
            let n = emptyBatch ? 0 : rng.int(in: 1...min(8, rowBudget))
            return ([n, classes], [n], n, classes, 1)
        case .spatial:
            let rank = rng.bool() ? 1 : 2
            let d = dims(1 + rank, maxDim: 4, budget: rowBudget)
            let n = emptyBatch ? 0 : d[0]
            let spatial = Array(d.dropFirst())
            return ([n, classes] + spatial, [n] + spatial, n, classes, spatial.reduce(1, *))
        }
    }

    /// A shape that broadcasts to `shape` by the trailing-dimension rule without
    /// enlarging it: a suffix of `shape` (possibly empty) with some dimensions set to 1.
    mutating func broadcastShape(to shape: [Int]) -> [Int] {
        if rng.bool(0.4) { return shape }
        let rank = rng.int(in: 0...shape.count)
        return shape.suffix(rank).map { rng.bool(0.3) ? 1 : $0 }
    }

    /// Positive weights (1/4..4, occasionally 0) of a broadcastable shape, or nil.
    mutating func maybeWeight(for shape: [Int], probability: Double = 0.4) throws(LossError) -> Tensor<Double>? {
        guard randomOptions, rng.bool(probability) else { return nil }
        let s = broadcastShape(to: shape)
        return try Tensor(shape: s, scalars: weights(s.reduce(1, *)))
    }

    mutating func weights(_ count: Int) -> [Double] {
        (0..<count).map { _ in rng.bool(0.05) ? 0 : fl(rng.logUniform(0.25, 4, positive: true)) }
    }

    mutating func normals(_ count: Int, sd: Double = 1) -> [Double] {
        (0..<count).map { _ in fl(sd * rng.normal()) }
    }

    mutating func wide(positive: Bool = false) -> Double {
        fl(rng.logUniform(1e-30, 1e30, positive: positive))
    }

    // MARK: Regression: mse, l1, huber, smooth_l1

    mutating func regression(_ name: String) throws(LossError) -> (AnyLoss, Tensor<Double>, LossTarget<Double>) {
        let shape = try elementwiseShape()
        let r = try reduction()
        let loss: AnyLoss, threshold: Double
        switch name {
        case "mse": loss = .mse(MSELoss(reduction: r)); threshold = 0
        case "l1": loss = .l1(L1Loss(reduction: r)); threshold = 0
        case "huber":
            let delta = randomOptions && rng.bool(0.6) ? rng.pick([0.5, 2, 0.125, 8, 0x1p-10, 3]) : 1
            loss = .huber(HuberLoss(reduction: r, delta: delta)); threshold = delta
        default:
            let beta = randomOptions && rng.bool(0.6) ? rng.pick([0, 0.5, 2, 0.125, 0x1p-10, 3]) : 1
            loss = .smoothL1(SmoothL1Loss(reduction: r, beta: beta)); threshold = beta
        }
        let n = shape.reduce(1, *)
        var x: [Double] = [], y: [Double] = []
        switch regime {
        case .wideRange:
            for _ in 0..<n { x.append(wide()); y.append(wide()) }
        case .nearKinks:
            let kinks = threshold > 0 ? [0, threshold, -threshold] : [0.0]
            for _ in 0..<n {
                let target = Double(rng.int(in: -64...64)) / 16  // the 2^-4 grid in [-4, 4]
                let kink = rng.pick(kinks)
                let offset = rng.bool(0.3) ? 0 : rng.sign() * Foundation.pow(2, -Double(rng.int(in: 8...20))) * max(kink.magnitude, 1)
                y.append(target)
                x.append(fl(target + kink + offset))
            }
        default:
            x = normals(n)
            y = normals(n)
        }
        return (loss, try Tensor(shape: shape, scalars: x), .values(try Tensor(shape: shape, scalars: y)))
    }

    // MARK: bce, bce_with_logits

    /// Targets for the binary losses: 0/1, uniform [0, 1], or either.
    mutating func binaryTargets(_ n: Int) -> [Double] {
        let binary: Bool
        switch regime {
        case .binaryTargets: binary = true
        case .softTargets: binary = false
        default: binary = rng.bool()
        }
        return (0..<n).map { _ in binary ? (rng.bool() ? 1 : 0) : fl(rng.uniform()) }
    }

    mutating func probability() -> Double {
        switch regime {
        case .wideRange:
            let p = fl(rng.logUniform(1e-30, 1, positive: true))
            return rng.bool() ? p : fl(1 - p)
        case .nearBounds:
            let k = Double(rng.int(in: 1...24))
            return rng.pick([0, 1, Foundation.pow(2, -k), 1 - Foundation.pow(2, -k),
                             Double(Float.leastNormalMagnitude), Double(Float.leastNonzeroMagnitude), fl(1e-12)])
        default:
            return fl(1 / (1 + Foundation.exp(-2 * rng.normal())))
        }
    }

    mutating func bce() throws(LossError) -> (AnyLoss, Tensor<Double>, LossTarget<Double>) {
        let shape = try elementwiseShape()
        let loss = BCELoss(reduction: try reduction(), weight: try maybeWeight(for: shape))
        let n = shape.reduce(1, *)
        let x = (0..<n).map { _ in probability() }
        return (.bce(loss), try Tensor(shape: shape, scalars: x), .values(try Tensor(shape: shape, scalars: binaryTargets(n))))
    }

    mutating func bceWithLogits() throws(LossError) -> (AnyLoss, Tensor<Double>, LossTarget<Double>) {
        let shape = try elementwiseShape()
        let weight = try maybeWeight(for: shape)
        var posWeight: Tensor<Double>?
        if randomOptions && rng.bool(0.5) {
            // Per class along the last dimension ([C]), per row ([N, 1]), one value, the
            // full shape, or any other broadcastable shape.
            var s: [Int]
            switch rng.int(below: 5) {
            case 0: s = shape.isEmpty ? [] : [shape[shape.count - 1]]
            case 1: s = shape; if !s.isEmpty { s[s.count - 1] = 1 }
            case 2: s = []
            case 3: s = shape
            default: s = broadcastShape(to: shape)
            }
            posWeight = try Tensor(shape: s, scalars: weights(s.reduce(1, *)))
        }
        let loss = BCEWithLogitsLoss(reduction: try reduction(), weight: weight, posWeight: posWeight)
        let n = shape.reduce(1, *)
        let x: [Double]
        switch regime {
        case .wideRange: x = (0..<n).map { _ in wide() }
        case .nearKinks: x = (0..<n).map { _ in rng.bool(0.2) ? 0 : rng.sign() * Foundation.pow(2, -Double(rng.int(in: 0...30))) }
        default: x = normals(n, sd: 2)
        }
        return (.bceWithLogits(loss), try Tensor(shape: shape, scalars: x), .values(try Tensor(shape: shape, scalars: binaryTargets(n))))
    }

    // MARK: cross_entropy, nll

    /// Logits for `rows x classes` (row-major in (batch, class, inner) order) by regime;
    /// `favoured[row]` is the class a near-one-hot row raises (nil: random).
    mutating func logits(batch: Int, classes: Int, inner: Int, favoured: [Int?]) -> [Double] {
        let count = batch * classes * inner
        switch regime {
        case .wideRange:
            return (0..<count).map { _ in wide() }
        case .nearOneHot:
            var x = normals(count)
            for n in 0..<batch {
                for s in 0..<inner {
                    let row = n * inner + s
                    let c = (row < favoured.count ? favoured[row] : nil).flatMap { rng.bool(0.7) ? $0 : nil }
                        ?? rng.int(below: classes)
                    let index = (n * classes + c) * inner + s
                    x[index] = fl(x[index] + rng.uniform(10, 40))
                }
            }
            return x
        default:
            return normals(count, sd: rng.bool() ? 1 : 3)
        }
    }

    /// Rows of a softmax along the class axis, rounded to Float (sums are 1 up to that
    /// rounding).
    func softmaxRows(_ x: [Double], batch: Int, classes: Int, inner: Int) -> [Double] {
        var p = x
        for n in 0..<batch {
            for s in 0..<inner {
                let indices = (0..<classes).map { (n * classes + $0) * inner + s }
                let m = indices.map { x[$0] }.max() ?? 0
                let sum = indices.reduce(0.0) { $0 + Foundation.exp(x[$1] - m) }
                for i in indices { p[i] = fl(Foundation.exp(x[i] - m) / sum) }
            }
        }
        return p
    }

    /// Rows of a log-softmax along the class axis, rounded to Float.
    func logSoftmaxRows(_ x: [Double], batch: Int, classes: Int, inner: Int) -> [Double] {
        var p = x
        for n in 0..<batch {
            for s in 0..<inner {
                let indices = (0..<classes).map { (n * classes + $0) * inner + s }
                let m = indices.map { x[$0] }.max() ?? 0
                let logSum = Foundation.log(indices.reduce(0.0) { $0 + Foundation.exp(x[$1] - m) })
                for i in indices { p[i] = fl(x[i] - m - logSum) }
            }
        }
        return p
    }

    /// Class indices for `rows` rows; when `ignore` is on, about 30% of the rows (and at
    /// least one) are set to `ignoreIndex`.
    mutating func classIndices(rows: Int, classes: Int, ignoreIndex: Int, ignore: Bool) -> [Int] {
        var y = (0..<rows).map { _ in ignore && rng.bool(0.3) ? ignoreIndex : rng.int(below: classes) }
        if ignore && rows > 0 { y[rng.int(below: rows)] = ignoreIndex }
        return y
    }

    /// ignore_index: the default -100 half the time, else -1 or a real class; and
    /// whether some targets take that value.
    mutating func ignoreOption(classes: Int, negativeOnly: Bool) -> (Int, Bool) {
        guard randomOptions, rng.bool() else { return (-100, false) }
        let index = negativeOnly || rng.bool() ? rng.pick([-100, -1]) : rng.int(below: classes)
        return (index, rng.bool(0.6))
    }

    mutating func classWeight(_ classes: Int) -> Tensor<Double>? {
        guard randomOptions, rng.bool(0.4) else { return nil }
        return Tensor(weights(classes))
    }

    mutating func crossEntropy() throws(LossError) -> (AnyLoss, Tensor<Double>, LossTarget<Double>) {
        let layout = try classLayout()
        let (batch, classes, inner) = (layout.batch, layout.classes, layout.inner)
        let rows = batch * inner
        let probabilities = regime == .softTargets || (options.classIndexTargets.map { !$0 } ?? rng.bool(0.25))
        let (ignoreIndex, ignore) = ignoreOption(classes: classes, negativeOnly: probabilities)
        let smoothing = randomOptions && rng.bool(0.4) ? rng.pick([fl(0.1), 0.5, 1, fl(rng.uniform())]) : 0
        let loss = CrossEntropyLoss(reduction: try reduction(), weight: classWeight(classes),
                                    ignoreIndex: ignoreIndex, labelSmoothing: smoothing)
        if probabilities {
            let x = logits(batch: batch, classes: classes, inner: inner, favoured: [])
            let t: [Double]
            if regime != .softTargets && rng.bool(0.3) {
                // One-hot probability rows.
                var hot = Array(repeating: 0.0, count: x.count)
                for row in 0..<rows {
                    let (n, s) = (row / inner, row % inner)
                    hot[(n * classes + rng.int(below: classes)) * inner + s] = 1
                }
                t = hot
            } else {
                t = softmaxRows(normals(x.count, sd: rng.bool() ? 1 : 3), batch: batch, classes: classes, inner: inner)
            }
            return (.crossEntropy(loss), try Tensor(shape: layout.input, scalars: x),
                    .values(try Tensor(shape: layout.input, scalars: t)))
        }
        let y = classIndices(rows: rows, classes: classes, ignoreIndex: ignoreIndex, ignore: ignore)
        let x = logits(batch: batch, classes: classes, inner: inner,
                       favoured: y.map { (0..<classes).contains($0) ? $0 : nil })
        return (.crossEntropy(loss), try Tensor(shape: layout.input, scalars: x),
                .classes(try Tensor(shape: layout.target, scalars: y)))
    }

    mutating func nll() throws(LossError) -> (AnyLoss, Tensor<Double>, LossTarget<Double>) {
        let layout = try classLayout()
        let (batch, classes, inner) = (layout.batch, layout.classes, layout.inner)
        let (ignoreIndex, ignore) = ignoreOption(classes: classes, negativeOnly: false)
        let loss = NLLLoss(reduction: try reduction(), weight: classWeight(classes), ignoreIndex: ignoreIndex)
        let y = classIndices(rows: batch * inner, classes: classes, ignoreIndex: ignoreIndex, ignore: ignore)
        let raw = logits(batch: batch, classes: classes, inner: inner, favoured: y.map { (0..<classes).contains($0) ? $0 : nil })
        // The input is not checked: wide-range values go in as they are, others as log-probabilities.
        let x = regime == .wideRange ? raw : logSoftmaxRows(raw, batch: batch, classes: classes, inner: inner)
        return (.nll(loss), try Tensor(shape: layout.input, scalars: x), .classes(try Tensor(shape: layout.target, scalars: y)))
    }

    // MARK: kl_div

    mutating func klDiv() throws(LossError) -> (AnyLoss, Tensor<Double>, LossTarget<Double>) {
        let shape = try elementwiseShape()
        let logTarget = randomOptions && rng.bool(0.4)
        let loss = KLDivLoss(reduction: try reduction(batchmean: true), logTarget: logTarget)
        let n = shape.reduce(1, *)
        // Distributions along the last dimension (a scalar is one "row" of one value).
        let classes = max(shape.last ?? 1, 1)
        let rows = classes == 0 ? 0 : n / classes
        let x: [Double]
        if regime == .wideRange {
            x = (0..<n).map { _ in wide() }
        } else if shape.isEmpty {
            x = normals(1)
        } else {
            x = logSoftmaxRows(normals(n, sd: rng.bool() ? 1 : 3), batch: rows, classes: classes, inner: 1)
        }
        var t: [Double]
        if shape.isEmpty {
            t = [fl(rng.uniform())]
        } else {
            t = softmaxRows(normals(n, sd: rng.bool() ? 1 : 3), batch: rows, classes: classes, inner: 1)
        }
        if regime == .nearBounds {
            // Exact zeros (0 log 0 = 0) and tiny probabilities.
            for i in t.indices where rng.bool(0.4) {
                t[i] = rng.bool() ? 0 : Foundation.pow(2, -Double(rng.int(in: 20...120)))
            }
        }
        if logTarget {
            // log of the probabilities; a zero probability becomes a tiny one (finite log).
            t = t.map { fl(Foundation.log(max($0, 0x1p-100))) }
        }
        return (.klDiv(loss), try Tensor(shape: shape, scalars: x), .values(try Tensor(shape: shape, scalars: t)))
    }

    // MARK: poisson_nll, gaussian_nll

    mutating func poissonNLL() throws(LossError) -> (AnyLoss, Tensor<Double>, LossTarget<Double>) {
        let shape = try elementwiseShape()
        let logInput = !randomOptions || rng.bool(0.6)
        let full = randomOptions && rng.bool(0.4)
        let eps = randomOptions && !logInput && rng.bool(0.5) ? rng.pick([0x1p-20, 0x1p-10, 0.5]) : PoissonNLLLoss().eps
        let loss = PoissonNLLLoss(reduction: try reduction(), logInput: logInput, full: full, eps: eps)
        let n = shape.reduce(1, *)
        var x: [Double] = [], t: [Double] = []
        for _ in 0..<n {
            switch regime {
            case .wideRange:
                x.append(logInput ? fl(rng.logUniform(1e-30, 80)) : wide(positive: true))
                t.append(rng.bool() ? wide(positive: true) : Double(rng.int(in: 0...1000)))
            case .nearBounds:
                x.append(logInput ? rng.pick([0, -0x1p-20, 0x1p-20, -80]) : rng.pick([0, 0x1p-30, Double(Float.leastNonzeroMagnitude), fl(eps)]))
                t.append(rng.pick([0, 1, 1 + 0x1p-20, 0.5, 2]))
            default:
                x.append(logInput ? fl(rng.normal()) : fl(Foundation.exp(rng.normal())))
                t.append(rng.bool() ? Double(rng.int(in: 0...10)) : fl(Foundation.exp(rng.normal())))
            }
        }
        return (.poissonNLL(loss), try Tensor(shape: shape, scalars: x), .values(try Tensor(shape: shape, scalars: t)))
    }

    mutating func gaussianNLL() throws(LossError) -> (AnyLoss, Tensor<Double>, LossTarget<Double>, Tensor<Double>) {
        let shape = try elementwiseShape()
        let full = randomOptions && rng.bool(0.4)
        let eps = randomOptions && rng.bool(0.3) ? rng.pick([0x1p-10, 0x1p-20, 0.125]) : GaussianNLLLoss().eps
        let loss = GaussianNLLLoss(reduction: try reduction(), full: full, eps: eps)
        let n = shape.reduce(1, *)
        let x: [Double], y: [Double]
        if regime == .wideRange {
            x = (0..<n).map { _ in wide() }
            y = (0..<n).map { _ in wide() }
        } else {
            x = normals(n)
            y = normals(n)
        }
        // var: the input's shape, the input's shape without its last dimension, or one
        // dimension set to 1.
        var varShape = shape
        if !shape.isEmpty && rng.bool(0.5) {
            if rng.bool() { varShape = Array(shape.dropLast()) } else { varShape[rng.int(below: shape.count)] = 1 }
        }
        let v: [Double] = (0..<varShape.reduce(1, *)).map { _ in
            switch regime {
            case .wideRange: wide(positive: true)
            case .nearBounds: rng.pick([0, fl(eps), fl(eps / 2), fl(eps * 2), 0x1p-30, Double(Float(eps).nextUp)])
            default: fl(Foundation.exp(rng.normal()))
            }
        }
        return (.gaussianNLL(loss), try Tensor(shape: shape, scalars: x), .values(try Tensor(shape: shape, scalars: y)),
                try Tensor(shape: varShape, scalars: v))
    }
}

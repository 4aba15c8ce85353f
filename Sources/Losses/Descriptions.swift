/// One description type per loss: its options, with PyTorch's names (in Swift style) and
/// PyTorch's defaults, and the validation both engines run before any arithmetic.
/// The engines add `evaluate` entry points for these types; nothing here computes a loss.

/// What every loss description has.
public protocol LossDescription: Sendable {
    /// The loss's name in the golden format and in messages (`cross_entropy`, ...).
    static var name: String { get }
    /// How the elementwise losses are combined. Default `.mean`.
    var reduction: Reduction { get }
}

/// `mse`: the squared error `(input - target)^2`.
public struct MSELoss: LossDescription {
    public static let name = "mse"
    public var reduction: Reduction
    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// Input and target of the same shape.
    public func validate(input: [Int], target: [Int]) throws(LossError) -> ElementwiseLayout {
        try Validate.sameShape(input, target, loss: Self.name)
        return try Validate.elementwise(input, reduction: reduction, loss: Self.name)
    }
}

/// `l1`: the absolute error `|input - target|`.
public struct L1Loss: LossDescription {
    public static let name = "l1"
    public var reduction: Reduction
    public init(reduction: Reduction = .mean) { self.reduction = reduction }

    /// Input and target of the same shape.
    public func validate(input: [Int], target: [Int]) throws(LossError) -> ElementwiseLayout {
        try Validate.sameShape(input, target, loss: Self.name)
        return try Validate.elementwise(input, reduction: reduction, loss: Self.name)
    }
}

/// `huber(delta)`: quadratic within `delta` of the target, linear beyond.
public struct HuberLoss: LossDescription {
    public static let name = "huber"
    public var reduction: Reduction
    /// The threshold between the quadratic and linear parts; finite and > 0. Default 1.
    public var delta: Double
    public init(reduction: Reduction = .mean, delta: Double = 1.0) {
        self.reduction = reduction
        self.delta = delta
    }

    /// Input and target of the same shape; `delta` finite and positive.
    public func validate(input: [Int], target: [Int]) throws(LossError) -> ElementwiseLayout {
        try Validate.option(delta, "delta", loss: Self.name, expected: "a finite value > 0") { $0 > 0 }
        try Validate.sameShape(input, target, loss: Self.name)
        return try Validate.elementwise(input, reduction: reduction, loss: Self.name)
    }
}

/// `smooth_l1(beta)`: quadratic (scaled by `1/beta`) within `beta`, `|e| - beta/2` beyond.
public struct SmoothL1Loss: LossDescription {
    public static let name = "smooth_l1"
    public var reduction: Reduction
    /// The threshold; finite and >= 0 (0 makes it exactly `l1`). Default 1.
    public var beta: Double
    public init(reduction: Reduction = .mean, beta: Double = 1.0) {
        self.reduction = reduction
        self.beta = beta
    }

    /// Input and target of the same shape; `beta` finite and non-negative.
    public func validate(input: [Int], target: [Int]) throws(LossError) -> ElementwiseLayout {
        try Validate.option(beta, "beta", loss: Self.name, expected: "a finite value >= 0") { $0 >= 0 }
        try Validate.sameShape(input, target, loss: Self.name)
        return try Validate.elementwise(input, reduction: reduction, loss: Self.name)
    }
}

/// The layout of an elementwise loss with optional broadcast weights.
public struct WeightedLayout: Sendable, Equatable {
    public let elements: ElementwiseLayout
    /// How `weight` broadcasts to the input, if given.
    public let weight: Broadcast?
    /// How `pos_weight` broadcasts to the input, if given (`bce_with_logits` only).
    public let posWeight: Broadcast?
}

/// `bce`: binary cross-entropy on probabilities, each log term clamped at -100.
public struct BCELoss: LossDescription {
    public static let name = "bce"
    public var reduction: Reduction
    /// Optional per-element rescaling weight, broadcast to the input's shape. Default none.
    public var weight: Tensor<Double>?
    public init(reduction: Reduction = .mean, weight: Tensor<Double>? = nil) {
        self.reduction = reduction
        self.weight = weight
    }

    /// Input and target of the same shape; `weight` broadcasts to it. The values are
    /// checked separately by `validateValues`.
    public func validate(input: [Int], target: [Int]) throws(LossError) -> WeightedLayout {
        try Validate.sameShape(input, target, loss: Self.name)
        let layout = try Validate.elementwise(input, reduction: reduction, loss: Self.name)
        let weight = try self.weight.map { w throws(LossError) in try Broadcast(w.shape, to: input, loss: Self.name, argument: "weight") }
        return WeightedLayout(elements: layout, weight: weight, posWeight: nil)
    }

    /// Input and target must lie in [0, 1]; NaN in either is rejected (as in PyTorch).
    /// `value(i)` reads element `i` as a Double.
    public static func validateValues(count: Int, input: (Int) -> Double, target: (Int) -> Double) throws(LossError) {
        for i in 0..<count {
            let x = input(i)
            guard x >= 0 && x <= 1 else {
                throw LossError(.input, "bce: input[\(i)] = \(x) is not a probability; expected a value in [0, 1]")
            }
            let y = target(i)
            guard y >= 0 && y <= 1 else {
                throw LossError(.target, "bce: target[\(i)] = \(y) is not a probability; expected a value in [0, 1]")
            }
        }
    }
}

/// `bce_with_logits`: binary cross-entropy on logits, with optional `weight` and `pos_weight`.
public struct BCEWithLogitsLoss: LossDescription {
    public static let name = "bce_with_logits"
    public var reduction: Reduction
    /// Optional per-element weight, broadcast to the input's shape. Default none.
    public var weight: Tensor<Double>?
    /// Optional weight of the positive term, broadcast along the trailing dimensions
    /// (shape `[C]` applies per class along the last dimension). Default none.
    public var posWeight: Tensor<Double>?
    public init(reduction: Reduction = .mean, weight: Tensor<Double>? = nil, posWeight: Tensor<Double>? = nil) {
        self.reduction = reduction
        self.weight = weight
        self.posWeight = posWeight
    }

    /// Input and target of the same shape; `weight` and `pos_weight` broadcast to it.
    public func validate(input: [Int], target: [Int]) throws(LossError) -> WeightedLayout {
        try Validate.sameShape(input, target, loss: Self.name)
        let layout = try Validate.elementwise(input, reduction: reduction, loss: Self.name)
        let weight = try self.weight.map { w throws(LossError) in try Broadcast(w.shape, to: input, loss: Self.name, argument: "weight") }
        let posWeight = try self.posWeight.map { w throws(LossError) in try Broadcast(w.shape, to: input, loss: Self.name, argument: "pos_weight") }
        return WeightedLayout(elements: layout, weight: weight, posWeight: posWeight)
    }
}

/// `cross_entropy`: softmax cross-entropy with class-index or class-probability targets.
public struct CrossEntropyLoss: LossDescription {
    public static let name = "cross_entropy"
    public var reduction: Reduction
    /// Optional class weights, exactly C entries. Default none.
    public var weight: Tensor<Double>?
    /// A class index whose targets contribute nothing (nor to the mean's denominator).
    /// Default -100. Must be negative with probability targets.
    public var ignoreIndex: Int
    /// Label smoothing `eps` in [0, 1]. Default 0.
    public var labelSmoothing: Double
    public init(reduction: Reduction = .mean, weight: Tensor<Double>? = nil, ignoreIndex: Int = -100, labelSmoothing: Double = 0) {
        self.reduction = reduction
        self.weight = weight
        self.ignoreIndex = ignoreIndex
        self.labelSmoothing = labelSmoothing
    }

    /// Class-index targets: shapes, options and every index (in `[0, C)` or `ignoreIndex`).
    public func validate(input: [Int], target: [Int], classIndices: UnsafeBufferPointer<Int>) throws(LossError) -> ClassLayout {
        try validateOptions()
        let layout = try Validate.classLayout(input: input, target: target, probabilities: false, reduction: reduction, loss: Self.name)
        try Validate.classWeight(weight, classes: layout.classes, loss: Self.name)
        try Validate.classIndices(classIndices, shape: target, classes: layout.classes, ignoreIndex: ignoreIndex, loss: Self.name)
        return layout
    }

    /// Probability targets: the target has the input's shape; `ignoreIndex` must be negative.
    public func validate(input: [Int], probabilityTarget target: [Int]) throws(LossError) -> ClassLayout {
        try validateOptions()
        guard ignoreIndex < 0 else {
            throw LossError(.option, "cross_entropy: ignore_index = \(ignoreIndex) is not supported with probability targets; expected a negative value")
        }
        let layout = try Validate.classLayout(input: input, target: target, probabilities: true, reduction: reduction, loss: Self.name)
        try Validate.classWeight(weight, classes: layout.classes, loss: Self.name)
        return layout
    }

    private func validateOptions() throws(LossError) {
        try Validate.option(labelSmoothing, "label_smoothing", loss: Self.name, expected: "a value in [0, 1]") { $0 >= 0 && $0 <= 1 }
    }
}

/// `nll`: negative log-likelihood on log-probabilities with class-index targets.
public struct NLLLoss: LossDescription {
    public static let name = "nll"
    public var reduction: Reduction
    /// Optional class weights, exactly C entries. Default none.
    public var weight: Tensor<Double>?
    /// A class index whose targets contribute nothing. Default -100.
    public var ignoreIndex: Int
    public init(reduction: Reduction = .mean, weight: Tensor<Double>? = nil, ignoreIndex: Int = -100) {
        self.reduction = reduction
        self.weight = weight
        self.ignoreIndex = ignoreIndex
    }

    /// Shapes, weight length and every index (in `[0, C)` or `ignoreIndex`).
    public func validate(input: [Int], target: [Int], classIndices: UnsafeBufferPointer<Int>) throws(LossError) -> ClassLayout {
        let layout = try Validate.classLayout(input: input, target: target, probabilities: false, reduction: reduction, loss: Self.name)
        try Validate.classWeight(weight, classes: layout.classes, loss: Self.name)
        try Validate.classIndices(classIndices, shape: target, classes: layout.classes, ignoreIndex: ignoreIndex, loss: Self.name)
        return layout
    }
}

/// `kl_div`: Kullback-Leibler divergence with the input as log-probabilities.
public struct KLDivLoss: LossDescription {
    public static let name = "kl_div"
    /// `none`, `sum`, `mean` (divides by the element count) or `batchmean` (divides by
    /// the size of dimension 0). Default `.mean`, as in PyTorch.
    public var reduction: Reduction
    /// The target is given as log-probabilities. Default false.
    public var logTarget: Bool
    public init(reduction: Reduction = .mean, logTarget: Bool = false) {
        self.reduction = reduction
        self.logTarget = logTarget
    }

    /// Input and target of the same shape.
    public func validate(input: [Int], target: [Int]) throws(LossError) -> ElementwiseLayout {
        try Validate.sameShape(input, target, loss: Self.name)
        return try Validate.elementwise(input, reduction: reduction, loss: Self.name, allowsBatchmean: true)
    }

    /// The `batchmean` denominator: the size of dimension 0, or 1 for a scalar input.
    public static func batchSize(_ shape: [Int]) -> Int { shape.first ?? 1 }
}

/// `poisson_nll`: negative log-likelihood of a Poisson target.
public struct PoissonNLLLoss: LossDescription {
    public static let name = "poisson_nll"
    public var reduction: Reduction
    /// The input is the log of the rate (`exp(x) - t x`). Default true.
    public var logInput: Bool
    /// Add the Stirling approximation term `t log t - t + 0.5 log(2 pi t)` where `t > 1`.
    /// Default false.
    public var full: Bool
    /// Added to the rate inside the log when `logInput` is false; finite and >= 0.
    /// Default 1e-8.
    public var eps: Double
    public init(reduction: Reduction = .mean, logInput: Bool = true, full: Bool = false, eps: Double = 1e-8) {
        self.reduction = reduction
        self.logInput = logInput
        self.full = full
        self.eps = eps
    }

    /// Input and target of the same shape; `eps` finite and non-negative.
    public func validate(input: [Int], target: [Int]) throws(LossError) -> ElementwiseLayout {
        try Validate.option(eps, "eps", loss: Self.name, expected: "a finite value >= 0") { $0 >= 0 }
        try Validate.sameShape(input, target, loss: Self.name)
        return try Validate.elementwise(input, reduction: reduction, loss: Self.name)
    }
}

/// `gaussian_nll`: negative log-likelihood of a Gaussian with predicted mean and variance.
public struct GaussianNLLLoss: LossDescription {
    public static let name = "gaussian_nll"
    public var reduction: Reduction
    /// Add the constant `0.5 log(2 pi)`. Default false.
    public var full: Bool
    /// The variance is clamped below at `eps` (no gradient through the clamp); finite
    /// and > 0. Default 1e-6.
    public var eps: Double
    public init(reduction: Reduction = .mean, full: Bool = false, eps: Double = 1e-6) {
        self.reduction = reduction
        self.full = full
        self.eps = eps
    }

    /// Input and target of the same shape; `var` of the input's shape, of the input's
    /// shape without its last dimension, or of the input's rank with exactly one
    /// dimension of size 1 where the input's differs. Returns how `var` broadcasts.
    public func validate(input: [Int], target: [Int], variance: [Int]) throws(LossError) -> (ElementwiseLayout, Broadcast) {
        try Validate.option(eps, "eps", loss: Self.name, expected: "a finite value > 0") { $0 > 0 }
        try Validate.sameShape(input, target, loss: Self.name)
        let layout = try Validate.elementwise(input, reduction: reduction, loss: Self.name)
        var varShape = variance
        if variance != input && !input.isEmpty && Array(input.dropLast()) == variance {
            varShape.append(1)
        }
        let differing = zip(varShape, input).filter { $0 != $1 }
        guard varShape.count == input.count, differing.count <= 1, differing.allSatisfy({ $0.0 == 1 }) else {
            throw LossError(.shape, "gaussian_nll: var shape \(Shape.describe(variance)) does not fit the input shape \(Shape.describe(input)); expected the input's shape, the input's shape without its last dimension, or one dimension of size 1")
        }
        return (layout, try Broadcast(varShape, to: input, loss: Self.name, argument: "var"))
    }

    /// A negative variance is an input error. `value(i)` reads element `i` as a Double.
    public static func validateVariance(count: Int, _ value: (Int) -> Double) throws(LossError) {
        for i in 0..<count where value(i) < 0 {
            throw LossError(.input, "gaussian_nll: var[\(i)] = \(value(i)) is negative; expected variances >= 0")
        }
    }
}

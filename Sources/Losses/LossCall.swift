/// The vocabulary both engines share for one call of any loss: which loss with which
/// options (`AnyLoss`), its arguments (`LossArguments`), which gradients to compute
/// (`GradientRequest`) and what comes back (`LossResult`). Tests, golden files and the
/// command-line tool use these to run one case through either engine.

/// Which gradients a call computes. Value-only calls skip the gradient work.
public struct GradientRequest: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// d(sum(output * upstream)) / d(input).
    public static let input = GradientRequest(rawValue: 1)
    /// d(sum(output * upstream)) / d(target), for losses differentiable in the target.
    public static let target = GradientRequest(rawValue: 2)
    /// The value only.
    public static let none: GradientRequest = []
    /// Every gradient the loss defines.
    public static let all: GradientRequest = [.input, .target]
}

/// What a loss call returns. A gradient is present exactly when it was requested and
/// the loss defines it (no `gradTarget` for class-index targets).
public struct LossResult<Scalar> {
    /// The loss: the unreduced shape for `.none`, else shape `[]`.
    public var output: Tensor<Scalar>
    /// d(sum(output * upstream)) / d(input), of the input's shape.
    public var gradInput: Tensor<Scalar>?
    /// d(sum(output * upstream)) / d(target), of the target's shape.
    public var gradTarget: Tensor<Scalar>?

    public init(output: Tensor<Scalar>, gradInput: Tensor<Scalar>? = nil, gradTarget: Tensor<Scalar>? = nil) {
        self.output = output
        self.gradInput = gradInput
        self.gradTarget = gradTarget
    }
}
extension LossResult: Sendable where Scalar: Sendable {}

/// The target of a loss: real values (regression targets, probabilities, log-targets,
/// class probabilities) or class indices (`cross_entropy`, `nll`).
public enum LossTarget<Scalar> {
    case values(Tensor<Scalar>)
    case classes(Tensor<Int>)

    public var shape: [Int] {
        switch self {
        case .values(let t): t.shape
        case .classes(let t): t.shape
        }
    }
}
extension LossTarget: Sendable where Scalar: Sendable {}

/// The arguments of one loss call, in PyTorch's order.
public struct LossArguments<Scalar> {
    public var input: Tensor<Scalar>
    public var target: LossTarget<Scalar>
    /// `gaussian_nll`'s variance argument; nil for every other loss.
    public var variance: Tensor<Scalar>?
    /// The gradient flowing into the output, of the output's shape; nil means ones.
    public var upstream: Tensor<Scalar>?

    public init(input: Tensor<Scalar>, target: LossTarget<Scalar>, variance: Tensor<Scalar>? = nil, upstream: Tensor<Scalar>? = nil) {
        self.input = input
        self.target = target
        self.variance = variance
        self.upstream = upstream
    }

    /// The same arguments with every real scalar converted.
    public func map<Other>(_ transform: (Scalar) -> Other) -> LossArguments<Other> {
        let target: LossTarget<Other>
        switch self.target {
        case .values(let t): target = .values(t.map(transform))
        case .classes(let t): target = .classes(t)
        }
        return LossArguments<Other>(input: input.map(transform), target: target,
                                    variance: variance?.map(transform), upstream: upstream?.map(transform))
    }
}
extension LossArguments: Sendable where Scalar: Sendable {}

/// Any one loss with its options: the type-erased form used where the loss is data
/// (golden files, generated cases, the command line).
public enum AnyLoss: Sendable {
    case mse(MSELoss)
    case l1(L1Loss)
    case huber(HuberLoss)
    case smoothL1(SmoothL1Loss)
    case bce(BCELoss)
    case bceWithLogits(BCEWithLogitsLoss)
    case crossEntropy(CrossEntropyLoss)
    case nll(NLLLoss)
    case klDiv(KLDivLoss)
    case poissonNLL(PoissonNLLLoss)
    case gaussianNLL(GaussianNLLLoss)

    /// Every loss name, in the order of the golden format's table.
    public static let names = ["mse", "l1", "huber", "smooth_l1", "bce", "bce_with_logits",
                               "cross_entropy", "nll", "kl_div", "poisson_nll", "gaussian_nll"]

    /// The description itself.
    public var description: any LossDescription {
        switch self {
        case .mse(let l): l
        case .l1(let l): l
        case .huber(let l): l
        case .smoothL1(let l): l
        case .bce(let l): l
        case .bceWithLogits(let l): l
        case .crossEntropy(let l): l
        case .nll(let l): l
        case .klDiv(let l): l
        case .poissonNLL(let l): l
        case .gaussianNLL(let l): l
        }
    }

    /// The loss's golden-format name.
    public var name: String { type(of: description).name }
    /// The loss's reduction.
    public var reduction: Reduction { description.reduction }

    /// The shape of the output a call with these arguments returns (for building upstream
    /// gradients); throws the same shape errors the engines would.
    public func outputShape(input: [Int], target: [Int], classTarget: Bool, variance: [Int]?) throws(LossError) -> [Int] {
        switch self {
        case .mse(let l): return try l.validate(input: input, target: target).outputShape
        case .l1(let l): return try l.validate(input: input, target: target).outputShape
        case .huber(let l): return try l.validate(input: input, target: target).outputShape
        case .smoothL1(let l): return try l.validate(input: input, target: target).outputShape
        case .bce(let l): return try l.validate(input: input, target: target).elements.outputShape
        case .bceWithLogits(let l): return try l.validate(input: input, target: target).elements.outputShape
        case .klDiv(let l): return try l.validate(input: input, target: target).outputShape
        case .poissonNLL(let l): return try l.validate(input: input, target: target).outputShape
        case .gaussianNLL(let l): return try l.validate(input: input, target: target, variance: variance ?? input).0.outputShape
        case .crossEntropy(let l):
            return try Validate.classLayout(input: input, target: target, probabilities: !classTarget, reduction: l.reduction, loss: CrossEntropyLoss.name).outputShape
        case .nll(let l):
            return try Validate.classLayout(input: input, target: target, probabilities: false, reduction: l.reduction, loss: NLLLoss.name).outputShape
        }
    }
}

/// Checks an upstream gradient's shape against the output's.
public func validateUpstream<T>(_ upstream: Tensor<T>?, outputShape: [Int], loss: String) throws(LossError) {
    guard let upstream else { return }
    guard upstream.shape == outputShape else {
        throw LossError(.shape, "\(loss): upstream gradient shape \(Shape.describe(upstream.shape)) differs from the output shape \(Shape.describe(outputShape))")
    }
}

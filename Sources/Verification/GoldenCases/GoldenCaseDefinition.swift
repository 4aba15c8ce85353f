import Losses

/// One golden case as defined in code: a loss with its options, the arguments of one
/// call, and what the case checks (the values and gradients the reference engine gives
/// there, or the kind of error both engines must throw). `losscheck golden regenerate`
/// evaluates the definitions to write `golden/<loss>.json`; the definitions in
/// `GoldenCases` are the one source of truth for which cases exist.
///
/// Every real argument value must be exactly a 32-bit float (the writer checks it and
/// names the case), so the Double and the Float engines evaluate the very same point.
public struct GoldenCaseDefinition: Sendable {
    /// What a case checks.
    public enum Expectation: Sendable, Equatable {
        /// The output and these gradients (a gradient the loss does not define, the
        /// target gradient of class indices, is left out of the file).
        case values(GradientRequest)
        /// Both engines must throw a `LossError` of this kind; regeneration checks that
        /// the reference engine does.
        case error(LossError.Kind)
    }

    /// Unique within the loss's file; lowercase words joined by `-`.
    public var name: String
    /// The loss with the case's options.
    public var loss: AnyLoss
    /// A reduction string the format does not know (`"avg"`), written into the file as
    /// is; `loss.reduction` is then a placeholder. Only with `.error(.option)`.
    public var unknownReduction: String?
    /// The call's arguments (Float-exact Doubles; class indices as `Int`).
    public var arguments: LossArguments<Double>
    /// Values (and which gradients) or an error kind.
    public var expectation: Expectation
    /// The bounds each engine is held to; the format's defaults unless a case says why not.
    public var tolerance: GoldenTolerance

    public init(name: String, loss: AnyLoss, arguments: LossArguments<Double>,
                expectation: Expectation = .values(.all), tolerance: GoldenTolerance = GoldenTolerance(),
                unknownReduction: String? = nil) {
        self.name = name
        self.loss = loss
        self.arguments = arguments
        self.expectation = expectation
        self.tolerance = tolerance
        self.unknownReduction = unknownReduction
    }

    /// The same case with another bound for the Float engine. Use only where a Float
    /// evaluation legitimately cannot meet the default (rtol 1e-5), and derive the bound
    /// in a comment next to the call.
    public func fastTolerance(rtol: Double = GoldenTolerance.fastDefault.rtol,
                              atol: Double = GoldenTolerance.fastDefault.atol) -> GoldenCaseDefinition {
        var copy = self
        copy.tolerance.fast = GoldenTolerance.Limit(rtol: rtol, atol: atol)
        return copy
    }

    /// The same case with another bound for the Double reference engine (derive it in a
    /// comment, as for `fastTolerance`).
    public func referenceTolerance(rtol: Double = GoldenTolerance.referenceDefault.rtol,
                                   atol: Double = GoldenTolerance.referenceDefault.atol) -> GoldenCaseDefinition {
        var copy = self
        copy.tolerance.reference = GoldenTolerance.Limit(rtol: rtol, atol: atol)
        return copy
    }

    /// The same case with an upstream gradient.
    public func upstream(_ upstream: Tensor<Double>) -> GoldenCaseDefinition {
        var copy = self
        copy.arguments.upstream = upstream
        return copy
    }
}

/// The golden cases of every loss, in code. `GoldenCases.definitions(for:)` lists one
/// loss's cases in file order; `GoldenCases.losses` the losses that have a file.
///
/// What the cases cover, per loss (docs/golden.md has the list):
/// - every reduction the loss has (and `batchmean` rejected where it does not apply),
///   with an upstream gradient for `none` and a scalar one for a reduction;
/// - every shape family: scalar or unbatched `[C]`, batched, k-dimensional, empty;
/// - the option families: weights (every broadcast shape), `ignore_index` (including an
///   all-ignored batch), label smoothing with weights and `ignore_index`, `pos_weight`
///   broadcast as `[C]` and `[N, 1]`, `log_target`, non-default `delta` and `beta`,
///   `log_input` false, `full`, non-default `eps`;
/// - extreme and non-finite values: huge logits, `-inf` masked classes, NaN, infinities,
///   `bce` at exactly 0 and 1, subnormals, kinks hit exactly;
/// - errors of every kind that applies (shape, target, input, option), including an
///   unknown reduction string;
/// - a few seeded generated cases (`Generators`), named after their seed and index.
public enum GoldenCases {
    /// The losses with a golden file, in the format's table order.
    public static let losses: [String] = AnyLoss.names

    /// The cases of one loss, in file order; empty for an unknown name.
    public static func definitions(for loss: String) -> [GoldenCaseDefinition] {
        switch loss {
        case MSELoss.name: mse
        case L1Loss.name: l1
        case HuberLoss.name: huber
        case SmoothL1Loss.name: smoothL1
        case BCELoss.name: bce
        case BCEWithLogitsLoss.name: bceWithLogits
        case CrossEntropyLoss.name: crossEntropy
        case NLLLoss.name: nll
        case KLDivLoss.name: klDiv
        case PoissonNLLLoss.name: poissonNLL
        case GaussianNLLLoss.name: gaussianNLL
        default: []
        }
    }
}

// MARK: - Building blocks for the definitions

extension GoldenCases {
    static let inf = Double.infinity
    static let nan = Double.nan

    /// The Double value of the Float nearest to `x` (for literals such as 0.1 that are not
    /// Floats: the case then holds `0.10000000149011612`).
    static func f(_ x: Double) -> Double { Double(Float(x)) }

    /// A float tensor of `shape` holding `values` (row-major). The count must match the
    /// shape: a definition that breaks this is a bug in this file, caught the first time
    /// the definitions are built (by `swift test`), with the shape in the message.
    static func t(_ shape: [Int], _ values: [Double]) -> Tensor<Double> {
        guard let tensor = try? Tensor(shape: shape, scalars: values) else {
            preconditionFailure("golden case definition: \(values.count) values for shape \(Shape.describe(shape))")
        }
        return tensor
    }

    /// A rank-1 float tensor.
    static func t(_ values: [Double]) -> Tensor<Double> { Tensor(values) }

    /// A scalar float tensor (shape `[]`).
    static func s(_ value: Double) -> Tensor<Double> { Tensor(scalar: value) }

    /// An `int` tensor of class indices.
    static func ix(_ shape: [Int], _ values: [Int]) -> Tensor<Int> {
        guard let tensor = try? Tensor(shape: shape, scalars: values) else {
            preconditionFailure("golden case definition: \(values.count) indices for shape \(Shape.describe(shape))")
        }
        return tensor
    }

    /// A tensor of `shape` whose values step through a small fixed pattern: element `i` is
    /// `offset + scale * (((i * stride) % modulus) - modulus / 2)`. With the defaults the
    /// values are multiples of 1/4 in [-2.5, 2.5]: exact Floats, varied, readable.
    static func pattern(_ shape: [Int], stride: Int = 7, modulus: Int = 11, scale: Double = 0.25,
                        offset: Double = 0) -> Tensor<Double> {
        let count = shape.reduce(1, *)
        let values = (0..<count).map { i in offset + scale * Double((i * stride) % modulus - modulus / 2) }
        return t(shape, values)
    }

    /// A case with a real-valued target.
    static func make(_ name: String, _ loss: AnyLoss, input: Tensor<Double>, target: Tensor<Double>,
                     variance: Tensor<Double>? = nil, upstream: Tensor<Double>? = nil,
                     error: LossError.Kind? = nil, gradients: GradientRequest = .all,
                     unknownReduction: String? = nil) -> GoldenCaseDefinition {
        GoldenCaseDefinition(
            name: name, loss: loss,
            arguments: LossArguments(input: input, target: .values(target), variance: variance, upstream: upstream),
            expectation: error.map { .error($0) } ?? .values(gradients), unknownReduction: unknownReduction)
    }

    /// A case with class-index targets (`cross_entropy`, `nll`).
    static func make(_ name: String, _ loss: AnyLoss, input: Tensor<Double>, classes: Tensor<Int>,
                     upstream: Tensor<Double>? = nil, error: LossError.Kind? = nil,
                     gradients: GradientRequest = .all, unknownReduction: String? = nil) -> GoldenCaseDefinition {
        GoldenCaseDefinition(
            name: name, loss: loss,
            arguments: LossArguments(input: input, target: .classes(classes), upstream: upstream),
            expectation: error.map { .error($0) } ?? .values(gradients), unknownReduction: unknownReduction)
    }

    /// Seeded generated cases (`Generators`): `count` cases of `loss` under `seed`, named
    /// `generated-<regime>-<seed>-<index>` (rebuild one with
    /// `Generators.case(for: loss, seed: seed, index: index, options: options)`).
    static func generated(_ loss: String, seed: UInt64, count: Int, options: GeneratorOptions) -> [GoldenCaseDefinition] {
        (0..<count).map { index in
            guard let g = try? Generators.case(for: loss, seed: seed, index: index, options: options) else {
                preconditionFailure("golden case definition: Generators cannot build \(loss) seed \(seed) index \(index)")
            }
            return GoldenCaseDefinition(name: "generated-\(g.regime.rawValue)-\(TestEnvironment.hex(seed))-\(index)",
                                        loss: g.loss, arguments: g.arguments)
        }
    }
}

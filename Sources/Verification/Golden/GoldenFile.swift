import Losses

/// One golden file in the `loss-golden-v1` format (docs/golden-format.md): stored
/// expected values for one loss, case by case.
///
/// Read one with `GoldenFile.read(contentsOf:)` or `GoldenFile.parse(_:fileName:)`; write
/// one with `serialized()`. Reading checks everything the format demands and rejects a
/// bad file with a `GoldenError` naming the file and the JSON path of the fault; a file
/// that reads is one both engines can be run on.
///
/// Equality (`==`) compares content bit for bit: every double by its bits (so `-0.0`
/// differs from `0.0`), except that any NaN equals any NaN, since the format has only
/// `"nan"` and keeps no sign or payload. `ignoredKeys` is not content and is not compared.
/// `GoldenFile.parse(file.serialized(), fileName:) == file` for every file that reads.
public struct GoldenFile: Sendable, Equatable {
    /// The format version this code reads and writes.
    public static let formatVersion = "loss-golden-v1"

    /// Always `formatVersion` for a file that was read.
    public var format: String
    /// The loss's golden name (`mse`, `cross_entropy`, ...; see `AnyLoss.names`). Every
    /// case's `loss` has this name.
    public var loss: String
    /// Free text: what produced the expected values, at what precision.
    public var source: String
    /// The cases, in file order; names are unique.
    public var cases: [GoldenCase]
    /// The JSON paths of keys the reader did not know and skipped (the format grows only
    /// by optional keys, so a reader ignores what it does not know, except inside
    /// `options`). For a tool to show as notes; empty for a file built in code.
    public var ignoredKeys: [String]

    public init(loss: String, source: String, cases: [GoldenCase], format: String = GoldenFile.formatVersion) {
        self.format = format
        self.loss = loss
        self.source = source
        self.cases = cases
        self.ignoredKeys = []
    }

    public static func == (a: GoldenFile, b: GoldenFile) -> Bool {
        a.format == b.format && a.loss == b.loss && a.source == b.source && a.cases == b.cases
    }
}

/// One case: a loss with its options, the arguments of one call, and what both engines
/// must produce (values, or an error of a given kind).
public struct GoldenCase: Sendable, Equatable {
    /// Unique within its file.
    public var name: String
    /// The loss with the case's options; options the file leaves out have PyTorch's
    /// defaults. Options outside their domain (`delta = -1`, `label_smoothing = 2`,
    /// `batchmean` for `mse`, a weight of the wrong length) are kept as written: the
    /// description types accept any value and the engines reject them with
    /// `LossError(.option)`. If `unknownReduction` is set, `loss.reduction` is a
    /// placeholder (`.mean`) and must not be evaluated: see `optionError`.
    public var loss: AnyLoss
    /// A `reduction` string that is not one of `none`, `sum`, `mean`, `batchmean`,
    /// exactly as written in the file (which the writer writes back). The format counts
    /// an unknown reduction as an `option` error both engines must report, not as a
    /// malformed file; `Reduction` cannot hold it, so it is carried here.
    public var unknownReduction: String?
    /// The call's arguments: input, target (`.values`, or `.classes` for class indices of
    /// `cross_entropy` and `nll`), `variance` (`gaussian_nll` only, its `var`), upstream
    /// (nil means ones).
    public var arguments: LossArguments<Double>
    /// What both engines must produce.
    public var expected: GoldenExpectation
    /// How close each engine must come; the format's defaults unless the file overrides them.
    public var tolerance: GoldenTolerance

    public init(name: String, loss: AnyLoss, arguments: LossArguments<Double>, expected: GoldenExpectation,
                tolerance: GoldenTolerance = GoldenTolerance(), unknownReduction: String? = nil) {
        self.name = name
        self.loss = loss
        self.unknownReduction = unknownReduction
        self.arguments = arguments
        self.expected = expected
        self.tolerance = tolerance
    }

    /// The error every evaluation of this case must produce before any validation by the
    /// engines, or nil. Set exactly when the file names a reduction the format does not
    /// know; a runner checks it first and reports it as the engines' result (both
    /// engines would reject such a call, but `AnyLoss` cannot express it).
    public var optionError: LossError? {
        guard let unknownReduction else { return nil }
        let known = loss.name == KLDivLoss.name ? "none, sum, mean or batchmean" : "none, sum or mean"
        return LossError(.option, "\(loss.name): reduction \(GoldenText.quoted(unknownReduction)) is not a reduction; expected \(known)")
    }

    public static func == (a: GoldenCase, b: GoldenCase) -> Bool {
        a.name == b.name && a.loss.name == b.loss.name && a.unknownReduction == b.unknownReduction
            && GoldenOptions.same(GoldenOptions.values(of: a.loss), GoldenOptions.values(of: b.loss))
            && GoldenSame.arguments(a.arguments, b.arguments)
            && a.expected == b.expected && a.tolerance == b.tolerance
    }
}

/// What a case expects from both engines.
public enum GoldenExpectation: Sendable, Equatable {
    /// The output and, when given, the gradients (expected values are doubles). A
    /// runner requests exactly the gradients present here.
    case values(LossResult<Double>)
    /// Both engines must reject the call with a `LossError` of this kind.
    case error(LossError.Kind)

    public static func == (a: GoldenExpectation, b: GoldenExpectation) -> Bool {
        switch (a, b) {
        case (.error(let x), .error(let y)): x == y
        case (.values(let x), .values(let y)):
            GoldenSame.tensor(x.output, y.output) && GoldenSame.tensor(x.gradInput, y.gradInput)
                && GoldenSame.tensor(x.gradTarget, y.gradTarget)
        default: false
        }
    }
}

/// The comparison bounds of a case, per engine: a tensor passes when
/// `max |actual - expected| <= atol + rtol * max |expected|` over its finite positions
/// (the comparison rule itself lives with `compare`).
public struct GoldenTolerance: Sendable, Equatable {
    /// One engine's bounds; both finite and >= 0.
    public struct Limit: Sendable, Equatable {
        public var rtol: Double
        public var atol: Double
        public init(rtol: Double, atol: Double) {
            self.rtol = rtol
            self.atol = atol
        }
    }

    /// The format's default for the Double reference engine: `rtol = 1e-12, atol = 0`.
    public static let referenceDefault = Limit(rtol: 1e-12, atol: 0)
    /// The format's default for the Float fast engine: `rtol = 1e-5, atol = 0`.
    public static let fastDefault = Limit(rtol: 1e-5, atol: 0)

    /// The Double reference engine's bounds.
    public var reference: Limit
    /// The Float fast engine's bounds.
    public var fast: Limit

    /// The defaults unless given.
    public init(reference: Limit = GoldenTolerance.referenceDefault, fast: Limit = GoldenTolerance.fastDefault) {
        self.reference = reference
        self.fast = fast
    }

    /// True when both engines have the format's defaults (the writer then omits `tolerance`).
    public var isDefault: Bool { reference == Self.referenceDefault && fast == Self.fastDefault }
}

/// A tensor as the format stores it: `dtype` `float` (doubles) or `int`.
public enum GoldenTensor: Sendable, Equatable {
    /// `"dtype": "float"`: numbers and `"nan"`, `"inf"`, `"-inf"`, held as doubles.
    case float(Tensor<Double>)
    /// `"dtype": "int"`: integers (class indices).
    case int(Tensor<Int>)

    /// The tensor's shape.
    public var shape: [Int] {
        switch self {
        case .float(let t): t.shape
        case .int(let t): t.shape
        }
    }

    /// The format's `dtype` name.
    public var dtype: String {
        switch self {
        case .float: "float"
        case .int: "int"
        }
    }

    public static func == (a: GoldenTensor, b: GoldenTensor) -> Bool {
        switch (a, b) {
        case (.float(let x), .float(let y)): GoldenSame.tensor(x, y)
        case (.int(let x), .int(let y)): x == y
        default: false
        }
    }
}

/// Content equality as the format sees it: doubles by their bits, any NaN equal to any NaN.
enum GoldenSame {
    static func double(_ a: Double, _ b: Double) -> Bool {
        (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern
    }

    static func tensor(_ a: Tensor<Double>?, _ b: Tensor<Double>?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let x?, let y?):
            return x.shape == y.shape && x.scalars.count == y.scalars.count
                && zip(x.scalars, y.scalars).allSatisfy { double($0, $1) }
        default: return false
        }
    }

    static func arguments(_ a: LossArguments<Double>, _ b: LossArguments<Double>) -> Bool {
        let targets: Bool
        switch (a.target, b.target) {
        case (.values(let x), .values(let y)): targets = tensor(x, y)
        case (.classes(let x), .classes(let y)): targets = x == y
        default: targets = false
        }
        return targets && tensor(a.input, b.input) && tensor(a.variance, b.variance) && tensor(a.upstream, b.upstream)
    }
}

import Losses

/// The options of each loss as the golden format names them (PyTorch's keyword
/// arguments, snake_case), and the conversion between an `options` object and `AnyLoss`.
public enum GoldenOptions {
    /// The options each loss takes, in the order of the format's table; the writer
    /// writes them in this order. Any other key inside `options` is rejected.
    public static let names: [String: [String]] = [
        MSELoss.name: ["reduction"],
        L1Loss.name: ["reduction"],
        HuberLoss.name: ["reduction", "delta"],
        SmoothL1Loss.name: ["reduction", "beta"],
        BCELoss.name: ["reduction", "weight"],
        BCEWithLogitsLoss.name: ["reduction", "weight", "pos_weight"],
        CrossEntropyLoss.name: ["reduction", "weight", "ignore_index", "label_smoothing"],
        NLLLoss.name: ["reduction", "weight", "ignore_index"],
        KLDivLoss.name: ["reduction", "log_target"],
        PoissonNLLLoss.name: ["reduction", "log_input", "full", "eps"],
        GaussianNLLLoss.name: ["reduction", "full", "eps"],
    ]

    /// What JSON an option's value is.
    enum Kind {
        /// `reduction`: a string.
        case reduction
        /// `delta`, `beta`, `label_smoothing`, `eps`: a number or `"nan"`, `"inf"`, `"-inf"`.
        case real
        /// `ignore_index`: an integral number.
        case integer
        /// `log_target`, `log_input`, `full`: `true` or `false`.
        case bool
        /// `weight`, `pos_weight`: a `float` tensor (or `null`, PyTorch's `None`).
        case tensor
    }

    static func kind(of option: String) -> Kind {
        switch option {
        case "reduction": .reduction
        case "ignore_index": .integer
        case "log_target", "log_input", "full": .bool
        case "weight", "pos_weight": .tensor
        default: .real
        }
    }

    /// An option's value.
    enum Value {
        case reduction(String)
        case real(Double)
        case integer(Int)
        case bool(Bool)
        case tensor(Tensor<Double>)
    }

    /// The loss `name` with the given options; options not given keep the description
    /// type's default (PyTorch's). Nil for an unknown loss name. The reduction must be
    /// a known one here (the reader handles unknown reductions).
    static func loss(named name: String, reduction: Reduction, options: [String: Value]) -> AnyLoss? {
        func real(_ key: String) -> Double? { if case .real(let v)? = options[key] { v } else { nil } }
        func integer(_ key: String) -> Int? { if case .integer(let v)? = options[key] { v } else { nil } }
        func bool(_ key: String) -> Bool? { if case .bool(let v)? = options[key] { v } else { nil } }
        func tensor(_ key: String) -> Tensor<Double>? { if case .tensor(let v)? = options[key] { v } else { nil } }

        switch name {
        case MSELoss.name:
            return .mse(MSELoss(reduction: reduction))
        case L1Loss.name:
            return .l1(L1Loss(reduction: reduction))
        case HuberLoss.name:
            var l = HuberLoss(reduction: reduction)
            if let v = real("delta") { l.delta = v }
            return .huber(l)
        case SmoothL1Loss.name:
            var l = SmoothL1Loss(reduction: reduction)
            if let v = real("beta") { l.beta = v }
            return .smoothL1(l)
        case BCELoss.name:
            return .bce(BCELoss(reduction: reduction, weight: tensor("weight")))
        case BCEWithLogitsLoss.name:
            return .bceWithLogits(BCEWithLogitsLoss(reduction: reduction, weight: tensor("weight"), posWeight: tensor("pos_weight")))
        case CrossEntropyLoss.name:
            var l = CrossEntropyLoss(reduction: reduction, weight: tensor("weight"))
            if let v = integer("ignore_index") { l.ignoreIndex = v }
            if let v = real("label_smoothing") { l.labelSmoothing = v }
            return .crossEntropy(l)
        case NLLLoss.name:
            var l = NLLLoss(reduction: reduction, weight: tensor("weight"))
            if let v = integer("ignore_index") { l.ignoreIndex = v }
            return .nll(l)
        case KLDivLoss.name:
            var l = KLDivLoss(reduction: reduction)
            if let v = bool("log_target") { l.logTarget = v }
            return .klDiv(l)
        case PoissonNLLLoss.name:
            var l = PoissonNLLLoss(reduction: reduction)
            if let v = bool("log_input") { l.logInput = v }
            if let v = bool("full") { l.full = v }
            if let v = real("eps") { l.eps = v }
            return .poissonNLL(l)
        case GaussianNLLLoss.name:
            var l = GaussianNLLLoss(reduction: reduction)
            if let v = bool("full") { l.full = v }
            if let v = real("eps") { l.eps = v }
            return .gaussianNLL(l)
        default:
            return nil
        }
    }

    /// Every option of `loss` in table order, as the writer writes them: every scalar
    /// option explicitly (so a file states the point it evaluates without relying on
    /// defaults), `weight` and `pos_weight` only when given. `reduction` overrides the
    /// reduction's text (for an unknown reduction kept as written).
    static func values(of loss: AnyLoss, reduction: String? = nil) -> [(name: String, value: Value)] {
        var out: [(name: String, value: Value)] = [("reduction", .reduction(reduction ?? loss.reduction.rawValue))]
        func add(_ name: String, _ value: Value?) { if let value { out.append((name, value)) } }
        switch loss {
        case .mse, .l1:
            break
        case .huber(let l):
            add("delta", .real(l.delta))
        case .smoothL1(let l):
            add("beta", .real(l.beta))
        case .bce(let l):
            add("weight", l.weight.map(Value.tensor))
        case .bceWithLogits(let l):
            add("weight", l.weight.map(Value.tensor))
            add("pos_weight", l.posWeight.map(Value.tensor))
        case .crossEntropy(let l):
            add("weight", l.weight.map(Value.tensor))
            add("ignore_index", .integer(l.ignoreIndex))
            add("label_smoothing", .real(l.labelSmoothing))
        case .nll(let l):
            add("weight", l.weight.map(Value.tensor))
            add("ignore_index", .integer(l.ignoreIndex))
        case .klDiv(let l):
            add("log_target", .bool(l.logTarget))
        case .poissonNLL(let l):
            add("log_input", .bool(l.logInput))
            add("full", .bool(l.full))
            add("eps", .real(l.eps))
        case .gaussianNLL(let l):
            add("full", .bool(l.full))
            add("eps", .real(l.eps))
        }
        return out
    }

    /// Bit-for-bit equality of two option lists (NaN equals NaN).
    static func same(_ a: [(name: String, value: Value)], _ b: [(name: String, value: Value)]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            guard x.name == y.name else { return false }
            switch (x.value, y.value) {
            case (.reduction(let p), .reduction(let q)): if p != q { return false }
            case (.real(let p), .real(let q)): if !GoldenSame.double(p, q) { return false }
            case (.integer(let p), .integer(let q)): if p != q { return false }
            case (.bool(let p), .bool(let q)): if p != q { return false }
            case (.tensor(let p), .tensor(let q)): if !GoldenSame.tensor(p, q) { return false }
            default: return false
            }
        }
        return true
    }
}

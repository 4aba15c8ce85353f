import Foundation
import Losses

extension GoldenFile {
    /// Reads and checks a golden file.
    ///
    /// - Parameter path: the file's path; messages name the file by this text.
    /// - Throws: `GoldenError` (`.unreadable`, `.syntax` or `.format`) naming the file and
    ///   the JSON path of the first fault. Never traps, on any bytes.
    public static func read(contentsOf path: String) throws(GoldenError) -> GoldenFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw GoldenError(.unreadable, file: path, path: "", reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse([UInt8](data), fileName: path)
    }

    /// Parses and checks a golden file's bytes (UTF-8 JSON).
    ///
    /// Rejects, naming `fileName` and the JSON path of the fault: anything that is not
    /// JSON; an unknown `format` or `loss`; an option the loss does not take; a missing
    /// required key; a value of the wrong JSON type (including `null`); a tensor whose
    /// data count differs from the product of its shape, a negative or non-integral
    /// dimension, a non-integer in an `int` tensor, a float argument that is not exactly
    /// a 32-bit float; `var` for a loss other than `gaussian_nll` (or none for it); an
    /// `int` target for a loss other than `cross_entropy` and `nll`; both or neither of
    /// `expected` and `expected_error`; duplicate case names; a file without cases.
    /// Unknown keys outside `options` are skipped and listed in `ignoredKeys`.
    public static func parse(_ bytes: [UInt8], fileName: String) throws(GoldenError) -> GoldenFile {
        let json = try GoldenJSON.parse(bytes, fileName: fileName)
        var reader = GoldenReader(fileName: fileName)
        return try reader.file(json)
    }

    /// Parses and checks a golden file given as text.
    public static func parse(_ text: String, fileName: String) throws(GoldenError) -> GoldenFile {
        try parse(Array(text.utf8), fileName: fileName)
    }
}

/// Turns a parsed JSON document into a `GoldenFile`, checking every rule of the format.
/// Each check names the JSON path of what it rejects.
struct GoldenReader {
    let fileName: String
    private var ignored: [String] = []

    init(fileName: String) { self.fileName = fileName }

    static let fileKeys: Set<String> = ["format", "loss", "source", "cases"]
    static let caseKeys: Set<String> = ["name", "options", "input", "target", "var", "upstream", "expected", "expected_error", "tolerance"]
    static let tensorKeys: Set<String> = ["dtype", "shape", "data"]
    static let expectedKeys: Set<String> = ["output", "grad_input", "grad_target"]
    static let toleranceKeys: Set<String> = ["reference", "fast"]
    static let limitKeys: Set<String> = ["rtol", "atol"]

    // MARK: File

    mutating func file(_ json: GoldenJSON) throws(GoldenError) -> GoldenFile {
        let root = GoldenPath()
        let members = try object(json, root, "an object with \"format\", \"loss\", \"source\" and \"cases\"")
        noteUnknown(members, root, known: Self.fileKeys)

        let format = try string(required(members, "format", root), root.appending("format"))
        guard format == GoldenFile.formatVersion else {
            throw fail(root.appending("format"), "unknown format \(GoldenText.quoted(format)); this reader reads \"\(GoldenFile.formatVersion)\"")
        }
        let loss = try string(required(members, "loss", root), root.appending("loss"))
        guard GoldenOptions.names[loss] != nil else {
            throw fail(root.appending("loss"), "unknown loss \(GoldenText.quoted(loss)); expected one of \(AnyLoss.names.joined(separator: ", "))")
        }
        let source = try string(required(members, "source", root), root.appending("source"))

        let casesPath = root.appending("cases")
        let casesJSON = try array(required(members, "cases", root), casesPath)
        guard !casesJSON.isEmpty else {
            throw fail(casesPath, "no cases; a golden file holds at least one case")
        }
        var cases: [GoldenCase] = []
        var firstIndex: [String: Int] = [:]
        for (i, element) in casesJSON.enumerated() {
            let path = casesPath.appending(i)
            let c = try goldenCase(element, path, loss: loss)
            if let first = firstIndex[c.name] {
                throw fail(path.appending("name"), "duplicate case name \(GoldenText.quoted(c.name)) (also cases[\(first)]); names are unique within a file")
            }
            firstIndex[c.name] = i
            cases.append(c)
        }
        var file = GoldenFile(loss: loss, source: source, cases: cases, format: format)
        file.ignoredKeys = ignored
        return file
    }

    // MARK: Case

    private mutating func goldenCase(_ json: GoldenJSON, _ path: GoldenPath, loss: String) throws(GoldenError) -> GoldenCase {
        let members = try object(json, path, "a case object")
        noteUnknown(members, path, known: Self.caseKeys)

        let name = try string(required(members, "name", path), path.appending("name"))
        guard !name.isEmpty else {
            throw fail(path.appending("name"), "empty case name; expected a unique, non-empty name")
        }
        let (anyLoss, unknownReduction) = try options(member(members, "options"), path.appending("options"), loss: loss)

        let input = try argumentTensor(required(members, "input", path), path.appending("input"))

        let targetPath = path.appending("target")
        let target: LossTarget<Double>
        switch try tensor(required(members, "target", path), targetPath) {
        case .float(let t):
            try requireFloatExact(t, targetPath)
            target = .values(t)
        case .int(let t):
            guard loss == CrossEntropyLoss.name || loss == NLLLoss.name else {
                throw fail(targetPath.appending("dtype"), "an int (class-index) target is only for cross_entropy and nll; \(loss) takes a float target")
            }
            target = .classes(t)
        }

        var variance: Tensor<Double>? = nil
        if loss == GaussianNLLLoss.name {
            variance = try argumentTensor(required(members, "var", path), path.appending("var"))
        } else if member(members, "var") != nil {
            throw fail(path.appending("var"), "var is only for gaussian_nll; \(loss) takes no variance")
        }

        let upstream = try member(members, "upstream").map { (json) throws(GoldenError) in
            try argumentTensor(json, path.appending("upstream"))
        }

        let expected: GoldenExpectation
        switch (member(members, "expected"), member(members, "expected_error")) {
        case (nil, nil):
            throw fail(path, "a case needs \"expected\" or \"expected_error\"; found neither")
        case (_?, _?):
            throw fail(path.appending("expected_error"), "a case has \"expected\" or \"expected_error\", not both")
        case (let values?, nil):
            expected = try expectedValues(values, path.appending("expected"), classTarget: target.isClasses)
        case (nil, let error?):
            let errorPath = path.appending("expected_error")
            let kind = try string(error, errorPath)
            guard let k = LossError.Kind(rawValue: kind) else {
                throw fail(errorPath, "unknown error kind \(GoldenText.quoted(kind)); expected one of shape, target, input, option")
            }
            expected = .error(k)
        }

        let tolerance = try member(members, "tolerance").map { (json) throws(GoldenError) in
            try self.tolerance(json, path.appending("tolerance"))
        } ?? GoldenTolerance()

        return GoldenCase(name: name, loss: anyLoss,
                          arguments: LossArguments(input: input, target: target, variance: variance, upstream: upstream),
                          expected: expected, tolerance: tolerance, unknownReduction: unknownReduction)
    }

    // MARK: Options

    /// The loss with its options. An unknown reduction string is returned separately
    /// (the case then carries it as `unknownReduction`); everything else that is not
    /// the right JSON type, or an option the loss does not take, is rejected.
    private mutating func options(_ json: GoldenJSON?, _ path: GoldenPath, loss: String) throws(GoldenError) -> (AnyLoss, String?) {
        var values: [String: GoldenOptions.Value] = [:]
        var reduction = Reduction.mean
        var unknownReduction: String? = nil
        if let json {
            let allowed = GoldenOptions.names[loss] ?? []
            let members = try object(json, path, "an object of options")
            for m in members {
                let p = path.appending(m.key)
                guard allowed.contains(m.key) else {
                    throw fail(p, "unknown option \(GoldenText.quoted(m.key)) for \(loss); \(loss) takes: \(allowed.joined(separator: ", "))")
                }
                switch GoldenOptions.kind(of: m.key) {
                case .reduction:
                    let text = try string(m.value, p)
                    if let r = Reduction(rawValue: text) { reduction = r } else { unknownReduction = text }
                case .real:
                    values[m.key] = .real(try floatValue(m.value, p))
                case .integer:
                    values[m.key] = .integer(try integerValue(m.value, p))
                case .bool:
                    guard case .bool(let b) = m.value else {
                        throw fail(p, "expected true or false, found \(found(m.value))")
                    }
                    values[m.key] = .bool(b)
                case .tensor:
                    values[m.key] = .tensor(try argumentTensor(m.value, p))
                }
            }
        }
        guard let anyLoss = GoldenOptions.loss(named: loss, reduction: reduction, options: values) else {
            throw fail(path, "unknown loss \(GoldenText.quoted(loss))")
        }
        return (anyLoss, unknownReduction)
    }

    // MARK: Expected values and tolerance

    private mutating func expectedValues(_ json: GoldenJSON, _ path: GoldenPath, classTarget: Bool) throws(GoldenError) -> GoldenExpectation {
        let members = try object(json, path, "an object with \"output\" and optional \"grad_input\", \"grad_target\"")
        noteUnknown(members, path, known: Self.expectedKeys)
        let output = try floatTensor(required(members, "output", path), path.appending("output"))
        let gradInput = try member(members, "grad_input").map { (json) throws(GoldenError) in
            try floatTensor(json, path.appending("grad_input"))
        }
        let gradTarget = try member(members, "grad_target").map { (json) throws(GoldenError) in
            try floatTensor(json, path.appending("grad_target"))
        }
        if gradTarget != nil && classTarget {
            throw fail(path.appending("grad_target"), "a class-index target has no gradient; leave grad_target out")
        }
        return .values(LossResult(output: output, gradInput: gradInput, gradTarget: gradTarget))
    }

    private mutating func tolerance(_ json: GoldenJSON, _ path: GoldenPath) throws(GoldenError) -> GoldenTolerance {
        let members = try object(json, path, "an object with optional \"reference\" and \"fast\"")
        noteUnknown(members, path, known: Self.toleranceKeys)
        var result = GoldenTolerance()
        if let r = member(members, "reference") {
            result.reference = try limit(r, path.appending("reference"), defaults: result.reference)
        }
        if let f = member(members, "fast") {
            result.fast = try limit(f, path.appending("fast"), defaults: result.fast)
        }
        return result
    }

    /// One engine's `{ "rtol": ..., "atol": ... }`; a key left out keeps its default.
    private mutating func limit(_ json: GoldenJSON, _ path: GoldenPath, defaults: GoldenTolerance.Limit) throws(GoldenError) -> GoldenTolerance.Limit {
        let members = try object(json, path, "an object with optional \"rtol\" and \"atol\"")
        noteUnknown(members, path, known: Self.limitKeys)
        func bound(_ key: String) throws(GoldenError) -> Double? {
            guard let value = member(members, key) else { return nil }
            guard case .number(let n) = value, let d = n.double, d.isFinite, d >= 0 else {
                throw fail(path.appending(key), "expected a finite number >= 0, found \(found(value))")
            }
            return d + 0.0  // -0 reads as +0
        }
        var result = defaults
        if let rtol = try bound("rtol") { result.rtol = rtol }
        if let atol = try bound("atol") { result.atol = atol }
        return result
    }

    // MARK: Tensors

    /// A `float` tensor that is an argument (input, target, var, upstream, an option
    /// tensor): every value must be exactly a 32-bit float.
    private mutating func argumentTensor(_ json: GoldenJSON, _ path: GoldenPath) throws(GoldenError) -> Tensor<Double> {
        let t = try floatTensor(json, path)
        try requireFloatExact(t, path)
        return t
    }

    private mutating func floatTensor(_ json: GoldenJSON, _ path: GoldenPath) throws(GoldenError) -> Tensor<Double> {
        switch try tensor(json, path) {
        case .float(let t): return t
        case .int: throw fail(path.appending("dtype"), "expected a float tensor, found dtype \"int\"")
        }
    }

    /// `{ "dtype": "float" | "int", "shape": [...], "data": [...] }`.
    private mutating func tensor(_ json: GoldenJSON, _ path: GoldenPath) throws(GoldenError) -> GoldenTensor {
        let members = try object(json, path, "a tensor object with \"dtype\", \"shape\" and \"data\"")
        noteUnknown(members, path, known: Self.tensorKeys)
        let dtypePath = path.appending("dtype")
        let dtype = try string(required(members, "dtype", path), dtypePath)
        guard dtype == "float" || dtype == "int" else {
            throw fail(dtypePath, "unknown dtype \(GoldenText.quoted(dtype)); expected \"float\" or \"int\"")
        }

        let shapePath = path.appending("shape")
        let dims = try array(required(members, "shape", path), shapePath)
        var shape: [Int] = []
        var count = 1
        for (axis, dim) in dims.enumerated() {
            let p = shapePath.appending(axis)
            guard case .number(let n) = dim else {
                throw fail(p, "expected a non-negative integer, found \(found(dim))")
            }
            switch n.integerValue {
            case .exact(let d) where d >= 0:
                shape.append(d)
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw fail(shapePath, "the element count of the shape overflows Int")
                }
                count = product
            case .exact(let d):
                throw fail(p, "negative dimension \(d); dimensions are non-negative")
            case .fractional:
                throw fail(p, "\(n) is not an integer; dimensions are non-negative integers")
            case .outOfRange:
                throw fail(p, "\(n) is too large for a dimension")
            }
        }

        let dataPath = path.appending("data")
        let data = try array(required(members, "data", path), dataPath)
        guard data.count == count else {
            throw fail(dataPath, "\(data.count) values for shape \(Shape.describe(shape)); expected \(count)")
        }
        if dtype == "int" {
            var scalars: [Int] = []
            scalars.reserveCapacity(count)
            for (i, value) in data.enumerated() {
                scalars.append(try integerValue(value, dataPath.appending(i)))
            }
            return .int(Tensor(unchecked: shape, scalars))
        } else {
            var scalars: [Double] = []
            scalars.reserveCapacity(count)
            for (i, value) in data.enumerated() {
                scalars.append(try floatValue(value, dataPath.appending(i)))
            }
            return .float(Tensor(unchecked: shape, scalars))
        }
    }

    /// Every value exactly a 32-bit float (NaN and the infinities are), so that the
    /// Double and Float engines evaluate the very same point.
    private func requireFloatExact(_ t: Tensor<Double>, _ path: GoldenPath) throws(GoldenError) {
        for (i, v) in t.scalars.enumerated() where !v.isNaN && Double(Float(v)) != v {
            throw fail(path.appending("data").appending(i),
                       "\(v) is not exactly a 32-bit float (nearest: \(Double(Float(v)))); arguments must be, so both engines evaluate the same point")
        }
    }

    /// A float value: a JSON number (correctly rounded to a double; one that overflows
    /// is rejected), or `"nan"`, `"inf"`, `"-inf"`. The path is built only on failure:
    /// one per value would dominate the reading time of a large tensor.
    private func floatValue(_ json: GoldenJSON, _ path: @autoclosure () -> GoldenPath) throws(GoldenError) -> Double {
        switch json {
        case .number(let n):
            guard let d = n.double else {
                throw fail(path(), "cannot convert \(n) to a double")
            }
            guard d.isFinite else {
                throw fail(path(), "\(n) overflows a double; write \"inf\" or \"-inf\" for an infinity")
            }
            return d
        case .string("nan"): return .nan
        case .string("inf"): return .infinity
        case .string("-inf"): return -.infinity
        case .string(let s):
            throw fail(path(), "unknown string \(GoldenText.quoted(s)); expected a number or one of \"nan\", \"inf\", \"-inf\"")
        default:
            throw fail(path(), "expected a number or one of \"nan\", \"inf\", \"-inf\", found \(found(json))")
        }
    }

    /// An integer: a JSON number whose exact decimal value is an integer in `Int`'s range.
    private func integerValue(_ json: GoldenJSON, _ path: @autoclosure () -> GoldenPath) throws(GoldenError) -> Int {
        guard case .number(let n) = json else {
            throw fail(path(), "expected an integer, found \(found(json))")
        }
        switch n.integerValue {
        case .exact(let v): return v
        case .fractional: throw fail(path(), "\(n) is not an integer")
        case .outOfRange: throw fail(path(), "\(n) is out of the range of a 64-bit integer")
        }
    }

    // MARK: JSON helpers

    private func fail(_ path: GoldenPath, _ reason: String) -> GoldenError {
        GoldenError(.format, file: fileName, path: path.description, reason: reason)
    }

    private func found(_ json: GoldenJSON) -> String {
        switch json {
        case .null: "null (leave an optional key out to use its default)"
        case .string(let s): "the string \(GoldenText.quoted(s.count > 40 ? String(s.prefix(40)) + "..." : s))"
        case .number(let n): "the number \(n)"
        default: json.kindDescription
        }
    }

    private func object(_ json: GoldenJSON, _ path: GoldenPath, _ what: String) throws(GoldenError) -> [GoldenJSON.Member] {
        guard case .object(let members) = json else {
            throw fail(path, "expected \(what), found \(found(json))")
        }
        return members
    }

    private func array(_ json: GoldenJSON, _ path: GoldenPath) throws(GoldenError) -> [GoldenJSON] {
        guard case .array(let elements) = json else {
            throw fail(path, "expected an array, found \(found(json))")
        }
        return elements
    }

    private func string(_ json: GoldenJSON, _ path: GoldenPath) throws(GoldenError) -> String {
        guard case .string(let s) = json else {
            throw fail(path, "expected a string, found \(found(json))")
        }
        return s
    }

    private func member(_ members: [GoldenJSON.Member], _ key: String) -> GoldenJSON? {
        members.first { $0.key == key }?.value
    }

    private func required(_ members: [GoldenJSON.Member], _ key: String, _ path: GoldenPath) throws(GoldenError) -> GoldenJSON {
        guard let value = member(members, key) else {
            throw fail(path.appending(key), "required key \(GoldenText.quoted(key)) is missing")
        }
        return value
    }

    private mutating func noteUnknown(_ members: [GoldenJSON.Member], _ path: GoldenPath, known: Set<String>) {
        for m in members where !known.contains(m.key) {
            ignored.append(path.appending(m.key).description)
        }
    }
}

extension LossTarget {
    /// True for class-index targets.
    fileprivate var isClasses: Bool {
        if case .classes = self { return true }
        return false
    }
}

import Foundation
import Losses
import ReferenceLosses

/// The precision the reference engine runs in when golden files are written.
public enum GoldenPrecision: String, Sendable, CaseIterable {
    /// x87 extended precision (64-bit significand), x86_64 only: the expected values are
    /// the Float80 results rounded once to Double, so they are within about half a
    /// Double ulp of the exact values wherever the formulas are well conditioned.
    case float80
    /// Double: the fallback where Float80 does not exist (`--allow-double`). Expected
    /// values are then the reference engine's own Double results.
    case double

    /// Whether Float80 exists on this platform (x86_64, not Windows).
    public static var float80Available: Bool {
        #if arch(x86_64) && !os(Windows)
        true
        #else
        false
        #endif
    }
}

/// Rebuilds golden files from the case definitions in code (`GoldenCases`): the logic
/// behind `losscheck golden regenerate`, shared with the tests.
///
/// Each definition is evaluated by the reference engine, generically, in the chosen
/// precision, and the results are rounded to Double. A definition that expects an error
/// must make the reference throw that kind; one that expects values must not throw;
/// otherwise regeneration reports the definition and writes nothing. Files are
/// serialized with `validatedSerialization` (so every argument is checked to be a
/// Float, names are unique, ...). Same definitions, same precision: same bytes.
public enum GoldenRegeneration {
    /// One regenerated file.
    public struct Output: Sendable {
        /// The loss's name; the file is `<loss>.json`.
        public let loss: String
        /// `<loss>.json`.
        public var fileName: String { loss + ".json" }
        public let file: GoldenFile
        /// The exact bytes to write (UTF-8).
        public let text: String

        public init(loss: String, file: GoldenFile, text: String) {
            self.loss = loss
            self.file = file
            self.text = text
        }
    }

    /// The `source` text of a file written at `precision`.
    public static func source(_ precision: GoldenPrecision) -> String {
        switch precision {
        case .float80:
            return "losscheck golden regenerate: cases defined in Sources/Verification/GoldenCases; expected values from the reference engine evaluated in Float80 (64-bit significand) and rounded to Double"
        case .double:
            return "losscheck golden regenerate --allow-double: cases defined in Sources/Verification/GoldenCases; expected values from the reference engine evaluated in Double (no Float80 on the platform that wrote this file), so they may differ from the Float80 values by a few ulps"
        }
    }

    /// The reference engine's result for a definition's arguments in `precision`, rounded
    /// to Double. Requests the definition's gradients (none for an error case).
    /// - Throws: the reference engine's `LossError`; `.option` when `precision` is
    ///   `.float80` on a platform without Float80.
    public static func evaluate(_ definition: GoldenCaseDefinition, precision: GoldenPrecision) throws(LossError) -> LossResult<Double> {
        let request: GradientRequest
        switch definition.expectation {
        case .values(let r): request = r
        case .error: request = .none
        }
        switch precision {
        case .double:
            return try Reference.evaluate(definition.loss, definition.arguments, gradients: request)
        case .float80:
            #if arch(x86_64) && !os(Windows)
            let extended = definition.arguments.map { Float80($0) }
            let result = try Reference.evaluate(definition.loss, extended, gradients: request)
            return LossResult(output: result.output.map(Double.init), gradInput: result.gradInput?.map(Double.init),
                              gradTarget: result.gradTarget?.map(Double.init))
            #else
            throw LossError(.option, "Float80 does not exist on this platform")
            #endif
        }
    }

    /// The golden case for a definition, or a message saying why the definition is wrong
    /// (the reference disagrees with what it expects).
    public static func goldenCase(_ definition: GoldenCaseDefinition, precision: GoldenPrecision) -> Result<GoldenCase, DefinitionProblem> {
        func problem(_ text: String) -> Result<GoldenCase, DefinitionProblem> {
            .failure(DefinitionProblem(loss: definition.loss.name, caseName: definition.name, reason: text))
        }
        let expected: GoldenExpectation
        if let reduction = definition.unknownReduction {
            guard definition.expectation == .error(.option) else {
                return problem("an unknown reduction (\(GoldenText.quoted(reduction))) is an option error; the definition must expect .error(.option)")
            }
            expected = .error(.option)
        } else {
            switch (definition.expectation, Result { () throws(LossError) in try evaluate(definition, precision: precision) }) {
            case (.values, .success(let result)):
                expected = .values(result)
            case (.values, .failure(let error)):
                return problem("the reference engine threw \(error); the definition expects values")
            case (.error(let kind), .success):
                return problem("the reference engine returned values; the definition expects \(GoldenVerify.article(kind)) error")
            case (.error(let kind), .failure(let error)):
                guard error.kind == kind else {
                    return problem("the reference engine threw \(error); the definition expects \(GoldenVerify.article(kind)) error")
                }
                expected = .error(kind)
            }
        }
        return .success(GoldenCase(name: definition.name, loss: definition.loss, arguments: definition.arguments,
                                   expected: expected, tolerance: definition.tolerance,
                                   unknownReduction: definition.unknownReduction))
    }

    /// One loss's file from its definitions, or the problems that prevent it.
    public static func output(for loss: String, precision: GoldenPrecision) -> Result<Output, GoldenRegenerationFailure> {
        var cases: [GoldenCase] = []
        var problems: [DefinitionProblem] = []
        for definition in GoldenCases.definitions(for: loss) {
            if definition.loss.name != loss {
                problems.append(DefinitionProblem(loss: loss, caseName: definition.name,
                                                  reason: "the case's loss is \(definition.loss.name), not \(loss)"))
                continue
            }
            switch goldenCase(definition, precision: precision) {
            case .success(let c): cases.append(c)
            case .failure(let p): problems.append(p)
            }
        }
        if cases.isEmpty && problems.isEmpty {
            problems.append(DefinitionProblem(loss: loss, caseName: nil, reason: "no case is defined for this loss"))
        }
        guard problems.isEmpty else { return .failure(GoldenRegenerationFailure(problems: problems)) }
        let file = GoldenFile(loss: loss, source: source(precision), cases: cases)
        do {
            let text = try file.validatedSerialization(fileName: "golden/\(loss).json")
            return .success(Output(loss: loss, file: file, text: text))
        } catch {
            return .failure(GoldenRegenerationFailure(problems: [DefinitionProblem(loss: loss, caseName: nil, reason: error.description)]))
        }
    }

    /// Every loss's file (`GoldenCases.losses` order), or every problem found.
    public static func outputs(precision: GoldenPrecision) -> Result<[Output], GoldenRegenerationFailure> {
        var outputs: [Output] = []
        var problems: [DefinitionProblem] = []
        for loss in GoldenCases.losses {
            switch output(for: loss, precision: precision) {
            case .success(let o): outputs.append(o)
            case .failure(let f): problems += f.problems
            }
        }
        return problems.isEmpty ? .success(outputs) : .failure(GoldenRegenerationFailure(problems: problems))
    }

    /// What writing `output` to `path` would change, given the bytes there now (nil: no file).
    public static func changes(_ output: Output, existing: [UInt8]?, path: String) -> GoldenFileChange {
        guard let existing else {
            return GoldenFileChange(path: path, status: .created, unreadable: nil, added: output.file.cases.map(\.name),
                                    removed: [], changed: [], reordered: false, sourceChanged: false)
        }
        if existing == Array(output.text.utf8) {
            return GoldenFileChange(path: path, status: .unchanged, unreadable: nil, added: [], removed: [], changed: [],
                                    reordered: false, sourceChanged: false)
        }
        let old: GoldenFile
        do {
            old = try GoldenFile.parse(existing, fileName: path)
        } catch {
            return GoldenFileChange(path: path, status: .replacesUnreadable, unreadable: error,
                                    added: output.file.cases.map(\.name), removed: [], changed: [],
                                    reordered: false, sourceChanged: false)
        }
        let new = output.file
        let oldByName = Dictionary(old.cases.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let newNames = Set(new.cases.map(\.name))
        let added = new.cases.map(\.name).filter { oldByName[$0] == nil }
        let removed = old.cases.map(\.name).filter { !newNames.contains($0) }
        var changed: [GoldenCaseChange] = []
        for c in new.cases {
            guard let before = oldByName[c.name], before != c else { continue }
            changed.append(GoldenCaseChange(old: before, new: c))
        }
        let common = new.cases.map(\.name).filter { oldByName[$0] != nil }
        let reordered = common != old.cases.map(\.name).filter { newNames.contains($0) }
        let sourceChanged = old.source != new.source || old.format != new.format
        let contentSame = added.isEmpty && removed.isEmpty && changed.isEmpty && !reordered && !sourceChanged
        return GoldenFileChange(path: path, status: contentSame ? .reformatted : .changed, unreadable: nil,
                                added: added, removed: removed, changed: changed, reordered: reordered,
                                sourceChanged: sourceChanged)
    }
}

/// A case definition the reference engine disagrees with, or a file that cannot be written.
public struct DefinitionProblem: Error, Sendable, CustomStringConvertible {
    public let loss: String
    /// Nil for a problem of the whole file.
    public let caseName: String?
    public let reason: String

    public var description: String {
        "\(loss): " + (caseName.map { "case \(GoldenText.quoted($0)): " } ?? "") + reason
    }
}

/// Regeneration stopped: the definitions have problems (nothing is written).
public struct GoldenRegenerationFailure: Error, Sendable {
    public let problems: [DefinitionProblem]
}

/// How one expected tensor of a case moved.
public struct GoldenTensorMove: Sendable, CustomStringConvertible {
    /// `output`, `grad_input` or `grad_target`.
    public let tensor: String
    /// The largest distance in Double ulps between old and new values; nil when the
    /// tensor appeared, disappeared, changed shape, or a value changed between NaN and a
    /// number.
    public let ulps: UInt64?
    /// What happened when `ulps` is nil.
    public let note: String?

    public var description: String {
        if let note { return "\(tensor) \(note)" }
        return "\(tensor) moved \(ulps ?? 0) ulp"
    }
}

/// How one case changed.
public struct GoldenCaseChange: Sendable, CustomStringConvertible {
    public let name: String
    /// The options, arguments, tolerance or kind of expectation changed (not only the
    /// expected values).
    public let definitionChanged: Bool
    /// The expected tensors that moved (when both old and new expect values).
    public let moves: [GoldenTensorMove]

    /// The largest move in Double ulps over the case's tensors (nil when none is
    /// measurable in ulps).
    public var largestULPs: UInt64? { moves.compactMap(\.ulps).max() }

    init(old: GoldenCase, new: GoldenCase) {
        name = new.name
        definitionChanged = !(old.loss.name == new.loss.name && old.unknownReduction == new.unknownReduction
            && GoldenOptions.same(GoldenOptions.values(of: old.loss), GoldenOptions.values(of: new.loss))
            && GoldenSame.arguments(old.arguments, new.arguments) && old.tolerance == new.tolerance)
        var moves: [GoldenTensorMove] = []
        switch (old.expected, new.expected) {
        case (.values(let a), .values(let b)):
            for (tensor, x, y) in [("output", a.output, b.output), ("grad_input", a.gradInput, b.gradInput),
                                   ("grad_target", a.gradTarget, b.gradTarget)] {
                if let move = GoldenCaseChange.move(tensor, x, y) { moves.append(move) }
            }
        case (.error(let a), .error(let b)) where a == b:
            break
        case (let a, let b):
            moves.append(GoldenTensorMove(tensor: "expectation", ulps: nil,
                                          note: "changed from \(GoldenCaseChange.describe(a)) to \(GoldenCaseChange.describe(b))"))
        }
        self.moves = moves
    }

    static func describe(_ e: GoldenExpectation) -> String {
        switch e {
        case .values: "values"
        case .error(let kind): "\(GoldenVerify.article(kind)) error"
        }
    }

    static func move(_ tensor: String, _ a: Tensor<Double>?, _ b: Tensor<Double>?) -> GoldenTensorMove? {
        switch (a, b) {
        case (nil, nil): return nil
        case (nil, _?): return GoldenTensorMove(tensor: tensor, ulps: nil, note: "added")
        case (_?, nil): return GoldenTensorMove(tensor: tensor, ulps: nil, note: "removed")
        case (let x?, let y?):
            if GoldenSame.tensor(x, y) { return nil }
            guard x.shape == y.shape else {
                return GoldenTensorMove(tensor: tensor, ulps: nil,
                                        note: "changed shape from \(Shape.describe(x.shape)) to \(Shape.describe(y.shape))")
            }
            var largest: UInt64 = 0
            for (p, q) in zip(x.scalars, y.scalars) {
                guard let d = ULP.distance(p, q) else {
                    return GoldenTensorMove(tensor: tensor, ulps: nil, note: "changed between NaN and a number")
                }
                largest = max(largest, d)
            }
            return GoldenTensorMove(tensor: tensor, ulps: largest, note: nil)
        }
    }

    public var description: String {
        var parts: [String] = []
        if definitionChanged { parts.append("options, arguments or tolerance changed") }
        parts += moves.map(\.description)
        if parts.isEmpty { parts.append("changed") }
        return parts.joined(separator: "; ")
    }
}

/// What regenerating would do to one file.
public struct GoldenFileChange: Sendable {
    public enum Status: String, Sendable {
        /// Same bytes: nothing to write.
        case unchanged
        /// No file yet.
        case created
        /// Cases added, removed, reordered or changed, or the source text changed.
        case changed
        /// Same content, different bytes (layout or number spelling).
        case reformatted
        /// The file on disk cannot be read (see `unreadable`); it would be replaced.
        case replacesUnreadable = "replaces unreadable"
    }

    /// The file's path as shown.
    public let path: String
    public let status: Status
    /// The reader's message for an unreadable file.
    public let unreadable: GoldenError?
    /// New case names, in file order.
    public let added: [String]
    /// Case names that would disappear, in the old file's order.
    public let removed: [String]
    /// Cases present in both whose content differs.
    public let changed: [GoldenCaseChange]
    /// The cases present in both appear in another order.
    public let reordered: Bool
    /// The `source` (or `format`) text differs.
    public let sourceChanged: Bool

    /// Whether `--write` would write this file.
    public var writes: Bool { status != .unchanged }

    /// The largest move in Double ulps over the changed cases, and its case.
    public var largest: (case: String, ulps: UInt64)? {
        var best: (case: String, ulps: UInt64)?
        for c in changed {
            if let u = c.largestULPs, best == nil || u > best!.ulps { best = (c.name, u) }
        }
        return best
    }

    /// A headline and one indented line per added, removed and changed case:
    ///
    ///     golden/nll.json: changed: 1 added, 1 removed, 2 changed (largest change 3 ulp, case "sum")
    ///       + weighted-mean-k-dim
    ///       - old-name
    ///       ~ sum: output moved 3 ulp; grad_input moved 1 ulp
    public var lines: [String] {
        var head = "\(path): \(status.rawValue)"
        switch status {
        case .unchanged, .reformatted:
            return [head]
        case .created:
            return [head + " (\(added.count) cases)"]
        case .replacesUnreadable:
            return [head + " (\(added.count) cases)", "  was: \(unreadable.map(\.description) ?? "unreadable")"]
        case .changed:
            var parts: [String] = []
            if !added.isEmpty { parts.append("\(added.count) added") }
            if !removed.isEmpty { parts.append("\(removed.count) removed") }
            if !changed.isEmpty {
                var text = "\(changed.count) changed"
                if let largest { text += " (largest change \(largest.ulps) ulp, case \(GoldenText.quoted(largest.case)))" }
                parts.append(text)
            }
            if reordered { parts.append("cases reordered") }
            if sourceChanged { parts.append("source text changed") }
            head += ": " + parts.joined(separator: ", ")
            return [head] + added.map { "  + \($0)" } + removed.map { "  - \($0)" }
                + changed.map { "  ~ \($0.name): \($0)" }
        }
    }
}

import Foundation
import Losses

/// Checks golden files against the engines: the logic behind `losscheck golden verify`,
/// shared with the tests so that both run the very same code.
///
///     let report = GoldenVerify.run(paths: GoldenVerify.files(in: "golden"), engines: [.reference, .fast])
///     print(report.text())          // failing cases, notes, a summary table per file
///     exit(report.passed ? 0 : 1)
///
/// For every case and engine:
/// - an engine that is not built (`LossEngine.isAvailable`) is reported as such, neither
///   passed nor failed;
/// - `GoldenCase.optionError` first: a case whose file names an unknown reduction gets
///   that option error as its result, on every engine, without calling the engine;
/// - otherwise the engine runs the call, requesting exactly the gradients the case's
///   `expected` holds (none for an `expected_error` case);
/// - an `expected_error` case passes only when the engine throws a `LossError` of that
///   kind; an `expected` case passes when the engine returns and every expected tensor
///   matches under `compare` with the case's tolerance for that engine (the norm-wise
///   rule of the format). A gradient the engine did not return fails the case.
///
/// A file that cannot be read (not JSON, not the format) is reported with the reader's
/// message (file, JSON path, reason) and fails the run; it never traps.
public enum GoldenVerify {
    /// Verifies one case with one engine.
    public static func check(_ goldenCase: GoldenCase, engine: LossEngine) -> GoldenEngineCheck {
        let expected = goldenCase.expected
        let tolerance = Tolerance(goldenCase.tolerance, engine: engine)
        guard engine.isAvailable else {
            return GoldenEngineCheck(engine: engine, outcome: .notBuilt, failure: nil)
        }
        if let error = goldenCase.optionError {
            return judge(.threw(error), expected: expected, engine: engine)
        }
        let request = requestedGradients(expected)
        let result: LossResult<Double>
        do {
            result = try engine.evaluate(goldenCase.loss, goldenCase.arguments, gradients: request)
        } catch {
            return judge(.threw(error), expected: expected, engine: engine)
        }
        guard case .values(let want) = expected else {
            return judge(.values([]), expected: expected, engine: engine)
        }
        var checks: [GoldenTensorCheck] = []
        var missing: [String] = []
        let pairs: [(String, Tensor<Double>?, Tensor<Double>?)] = [
            ("output", want.output, result.output),
            ("grad_input", want.gradInput, result.gradInput),
            ("grad_target", want.gradTarget, result.gradTarget),
        ]
        for (name, expectedTensor, actualTensor) in pairs {
            guard let expectedTensor else { continue }
            guard let actualTensor else { missing.append(name); continue }
            let comparison = compare(actual: actualTensor, expected: expectedTensor, tolerance: tolerance,
                                     floatULPs: engine == .fast)
            checks.append(GoldenTensorCheck(name: name, comparison: comparison))
        }
        var check = judge(.values(checks), expected: expected, engine: engine)
        if !missing.isEmpty {
            let text = "the engine returned no \(missing.joined(separator: " and ")), which the case expects"
            check.failure = check.failure.map { $0 + "; " + text } ?? text
        }
        return check
    }

    /// The gradients an `expected` holds: `.input` for `grad_input`, `.target` for
    /// `grad_target`; none for an error case.
    public static func requestedGradients(_ expected: GoldenExpectation) -> GradientRequest {
        guard case .values(let result) = expected else { return .none }
        var request: GradientRequest = .none
        if result.gradInput != nil { request.insert(.input) }
        if result.gradTarget != nil { request.insert(.target) }
        return request
    }

    /// Verifies every case of a file that has been read.
    public static func check(_ file: GoldenFile, path: String, engines: [LossEngine]) -> GoldenFileCheck {
        let cases = file.cases.map { c in
            GoldenCaseCheck(name: c.name, engines: engines.map { check(c, engine: $0) })
        }
        return GoldenFileCheck(path: path, loss: file.loss, malformed: nil, notes: file.ignoredKeys,
                               cases: cases, engines: engines)
    }

    /// Reads and verifies one file; a file the reader rejects is reported as malformed.
    public static func check(path: String, engines: [LossEngine]) -> GoldenFileCheck {
        do {
            let file = try GoldenFile.read(contentsOf: path)
            return check(file, path: path, engines: engines)
        } catch {
            return GoldenFileCheck(path: path, loss: nil, malformed: error, notes: [], cases: [], engines: engines)
        }
    }

    /// Verifies each file in order.
    public static func run(paths: [String], engines: [LossEngine]) -> GoldenVerifyReport {
        GoldenVerifyReport(files: paths.map { check(path: $0, engines: engines) }, engines: engines)
    }

    /// The `.json` files directly inside `directory`, sorted by name, as
    /// `directory/name.json`. Throws a message when the directory cannot be listed.
    public static func files(in directory: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return names.filter { $0.hasSuffix(".json") }.sorted().map { prefix + $0 }
    }

    /// Where `golden/` is: `./golden` if the current directory has one; else `golden/` in
    /// the nearest enclosing directory that holds a `Package.swift`; else
    /// `fallbackPackageRoot/golden` if that exists. Nil if none is a directory.
    public static func locateDirectory(currentDirectory: String = FileManager.default.currentDirectoryPath,
                                       fallbackPackageRoot: String? = nil) -> String? {
        let manager = FileManager.default
        func isDirectory(_ path: String) -> Bool {
            var directory: ObjCBool = false
            return manager.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
        }
        if isDirectory(currentDirectory + "/golden") { return "golden" }
        var url = URL(fileURLWithPath: currentDirectory).standardizedFileURL
        while true {
            if manager.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                let golden = url.appendingPathComponent("golden").path
                if isDirectory(golden) { return golden }
                break
            }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { break }
            url = parent
        }
        if let root = fallbackPackageRoot, isDirectory(root + "/golden") { return root + "/golden" }
        return nil
    }

    /// The verdict for an outcome against what the case expects.
    static func judge(_ outcome: GoldenEngineCheck.Outcome, expected: GoldenExpectation,
                      engine: LossEngine) -> GoldenEngineCheck {
        var failure: String?
        switch (expected, outcome) {
        case (_, .notBuilt):
            break
        case (.error(let kind), .threw(let error)):
            if error.kind != kind { failure = "threw \(error); expected \(article(kind)) error" }
        case (.error(let kind), .values):
            failure = "returned values; expected \(article(kind)) error"
        case (.values, .threw(let error)):
            failure = "threw \(error); expected values"
        case (.values, .values(let checks)):
            let failed = checks.filter { !$0.comparison.passed }
            if !failed.isEmpty {
                failure = failed.map { "\($0.name): \($0.comparison)" }.joined(separator: "; ")
            }
        }
        return GoldenEngineCheck(engine: engine, outcome: outcome, failure: failure)
    }

    /// "a shape", "an input", ...
    static func article(_ kind: LossError.Kind) -> String {
        (kind == .input || kind == .option ? "an " : "a ") + kind.rawValue
    }
}

extension Tolerance {
    /// A golden case's bounds for one engine.
    public init(_ tolerance: GoldenTolerance, engine: LossEngine) {
        let limit = engine == .reference ? tolerance.reference : tolerance.fast
        self.init(rtol: limit.rtol, atol: limit.atol)
    }
}

/// One expected tensor of a case compared with an engine's.
public struct GoldenTensorCheck: Sendable {
    /// `output`, `grad_input` or `grad_target`.
    public let name: String
    public let comparison: ComparisonResult
}

/// One case on one engine.
public struct GoldenEngineCheck: Sendable {
    /// What the engine did.
    public enum Outcome: Sendable {
        /// It returned; the expected tensors compared (empty for an error case).
        case values([GoldenTensorCheck])
        /// It threw (or the case's `optionError` stood for it).
        case threw(LossError)
        /// The engine is not built into this library.
        case notBuilt
    }

    public let engine: LossEngine
    public let outcome: Outcome
    /// Why the case failed on this engine; nil when it passed or did not run.
    public internal(set) var failure: String?

    /// True when the engine ran and the case passed.
    public var passed: Bool { ran && failure == nil }
    /// False when the engine is not built.
    public var ran: Bool {
        if case .notBuilt = outcome { return false }
        return true
    }

    /// The largest `max |actual - expected| / bound` over the compared tensors: the
    /// measured error relative to the tolerance (at most 1 passes). Nil when nothing was
    /// compared (an error case, or an engine that threw or did not run).
    public var relativeToTolerance: Double? {
        guard case .values(let checks) = outcome, !checks.isEmpty else { return nil }
        return checks.map(\.comparison.headroom).max()
    }

    /// The largest measured `max |actual - expected| / max |expected|` over the compared tensors.
    public var relativeError: Double? {
        guard case .values(let checks) = outcome, !checks.isEmpty else { return nil }
        return checks.map(\.comparison.error).max()
    }

    /// The kind of error the engine threw, if it threw.
    public var thrown: LossError? {
        if case .threw(let error) = outcome { return error }
        return nil
    }
}

/// One case on every engine checked.
public struct GoldenCaseCheck: Sendable {
    public let name: String
    public let engines: [GoldenEngineCheck]
    /// No engine that ran failed.
    public var passed: Bool { engines.allSatisfy { !$0.ran || $0.passed } }
}

/// One file: malformed, or its cases on every engine checked.
public struct GoldenFileCheck: Sendable {
    /// The path as given (messages name the file by it).
    public let path: String
    /// The file's loss (nil when malformed).
    public let loss: String?
    /// The reader's rejection, when the file is malformed.
    public let malformed: GoldenError?
    /// JSON paths of keys the reader skipped (`GoldenFile.ignoredKeys`).
    public let notes: [String]
    public let cases: [GoldenCaseCheck]
    /// The engines checked, in report order.
    public let engines: [LossEngine]

    /// Readable and no case failed on an engine that ran.
    public var passed: Bool { malformed == nil && cases.allSatisfy(\.passed) }

    /// One engine's tally over the file.
    public struct EngineSummary: Sendable {
        public let engine: LossEngine
        /// False when the engine is not built (the counts are then 0).
        public let ran: Bool
        public let passed: Int
        public let failed: Int
        /// The largest measured error relative to its tolerance, and its case.
        public let worst: (case: String, relativeToTolerance: Double)?
    }

    /// The tally per engine, in `engines` order.
    public var summaries: [EngineSummary] {
        engines.map { engine in
            let checks = cases.compactMap { c in c.engines.first { $0.engine == engine }.map { (c.name, $0) } }
            let ran = checks.contains { $0.1.ran } || (checks.isEmpty && engine.isAvailable)
            var worst: (case: String, relativeToTolerance: Double)?
            for (name, check) in checks {
                guard let r = check.relativeToTolerance else { continue }
                if worst == nil || r > worst!.relativeToTolerance || (r.isNaN && !worst!.relativeToTolerance.isNaN) {
                    worst = (name, r)
                }
            }
            return EngineSummary(engine: engine, ran: ran, passed: checks.filter { $0.1.passed }.count,
                                 failed: checks.filter { $0.1.ran && !$0.1.passed }.count, worst: worst)
        }
    }
}

/// The result of a `golden verify` run.
public struct GoldenVerifyReport: Sendable {
    public let files: [GoldenFileCheck]
    public let engines: [LossEngine]

    /// A report of files already checked (`GoldenVerify.run` reads and checks them).
    public init(files: [GoldenFileCheck], engines: [LossEngine]) {
        self.files = files
        self.engines = engines
    }

    /// Every file readable, no case failed on an engine that ran, and at least one file.
    public var passed: Bool { !files.isEmpty && files.allSatisfy(\.passed) }

    /// One line per failing case and engine:
    /// `FAIL golden/mse.json: case "sum" [fast]: output: FAILED: ...`.
    public var failureLines: [String] {
        files.flatMap { file in
            file.cases.flatMap { c in
                c.engines.compactMap { check in
                    check.failure.map { "FAIL \(file.path): case \(GoldenText.quoted(c.name)) [\(check.engine.rawValue)]: \($0)" }
                }
            }
        }
    }

    /// The reader's message for each malformed file: `error: golden/x.json: cases[3].input: ...`.
    public var malformedLines: [String] {
        files.compactMap { $0.malformed.map { "error: \($0)" } }
    }

    /// The keys the reader skipped, one note each.
    public var noteLines: [String] {
        files.flatMap { file in
            file.notes.map { "note: \(file.path): \($0): unknown key ignored" }
        }
    }

    /// The summary table: per file and engine the cases, passed, failed, and the worst
    /// measured error relative to its tolerance (with its case); a total row when there
    /// is more than one file.
    public var summaryTable: String {
        var rows: [[String]] = [["file", "cases", "engine", "passed", "failed", "worst error/tolerance"]]
        for file in files {
            if let malformed = file.malformed {
                rows.append([file.path, "-", "malformed", "-", "-", malformed.path.isEmpty ? "(top level)" : malformed.path])
                continue
            }
            for (i, summary) in file.summaries.enumerated() {
                let first = i == 0
                rows.append([first ? file.path : "", first ? String(file.cases.count) : "", summary.engine.rawValue]
                            + Self.tally(summary))
            }
        }
        if files.count > 1 {
            let readable = files.filter { $0.malformed == nil }
            for (i, engine) in engines.enumerated() {
                let all = readable.compactMap { $0.summaries.first { $0.engine == engine } }
                let ran = all.contains(where: \.ran)
                var worst: (case: String, relativeToTolerance: Double)?
                for (file, s) in zip(readable, all) {
                    guard let w = s.worst else { continue }
                    if worst == nil || w.relativeToTolerance > worst!.relativeToTolerance {
                        worst = ("\(file.loss ?? file.path): \(w.case)", w.relativeToTolerance)
                    }
                }
                let total = GoldenFileCheck.EngineSummary(
                    engine: engine, ran: ran, passed: all.reduce(0) { $0 + $1.passed },
                    failed: all.reduce(0) { $0 + $1.failed }, worst: worst)
                let cases = readable.reduce(0) { $0 + $1.cases.count }
                rows.append([i == 0 ? "total (\(files.count) files)" : "", i == 0 ? String(cases) : "", engine.rawValue]
                            + Self.tally(total))
            }
        }
        return Self.layout(rows, rightAligned: [1, 3, 4])
    }

    /// Everything a person reads: malformed files, failing cases, notes, the table, and a
    /// closing verdict line.
    public func text() -> String {
        var lines = malformedLines + failureLines + noteLines
        if !lines.isEmpty { lines.append("") }
        lines.append(summaryTable)
        for engine in engines where !engine.isAvailable {
            lines.append("note: the \(engine.rawValue) engine is not built into this version; its cases were not run")
        }
        let failedCases = files.reduce(0) { $0 + $1.cases.filter { !$0.passed }.count }
        let malformed = files.filter { $0.malformed != nil }.count
        if files.isEmpty {
            lines.append("FAILED: no golden files to verify")
        } else if passed {
            lines.append("passed: \(files.count) file\(files.count == 1 ? "" : "s")")
        } else {
            var parts: [String] = []
            if failedCases > 0 { parts.append("\(failedCases) failing case\(failedCases == 1 ? "" : "s")") }
            if malformed > 0 { parts.append("\(malformed) malformed file\(malformed == 1 ? "" : "s")") }
            lines.append("FAILED: " + parts.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The same result as JSON: per file, per case, per engine whether it passed, the
    /// measured error relative to the tolerance and relative to `max |expected|` (per
    /// tensor too), or the kind of error thrown. Non-finite numbers are written as the
    /// strings `"inf"` and `"nan"`, as in golden files. Deterministic.
    ///
    ///     { "passed": false, "engines": ["reference", "fast"], "files": [
    ///       { "file": "golden/mse.json", "loss": "mse", "passed": true, "malformed": null,
    ///         "notes": [], "summary": { "reference": { "ran": true, "passed": 40, ... } },
    ///         "cases": [ { "name": "sum", "passed": true, "engines": {
    ///           "reference": { "status": "passed", "relative_to_tolerance": 0.01,
    ///                          "relative_error": 1e-14, "thrown": null, "failure": null,
    ///                          "tensors": { "output": { "passed": true, ... } } },
    ///           "fast": { "status": "not_built", ... } } } ] } ] }
    public func json() -> String {
        var out = "{\n  \"passed\": \(passed),\n"
        out += "  \"engines\": [\(engines.map { GoldenText.quoted($0.rawValue) }.joined(separator: ", "))],\n"
        out += "  \"files\": ["
        out += files.map { "\n" + Self.json($0, indent: "    ") }.joined(separator: ",")
        out += files.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return out
    }

    // MARK: Rendering helpers

    static func tally(_ s: GoldenFileCheck.EngineSummary) -> [String] {
        guard s.ran else { return ["-", "-", "not built"] }
        // Name the worst case only when it used some of its bound.
        let worst = s.worst.map { $0.relativeToTolerance == 0 ? "0" : "\(ReportNumber.short($0.relativeToTolerance)) (\($0.case))" } ?? "-"
        return [String(s.passed), String(s.failed), worst]
    }

    /// Columns padded to their widest cell; `rightAligned` columns are right-aligned.
    static func layout(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() where i < columns - 1 { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                if i == columns - 1 { return cell }
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }

    static func number(_ x: Double?) -> String {
        guard let x else { return "null" }
        return GoldenText.number(x)
    }

    static func string(_ s: String?) -> String { s.map(GoldenText.quoted) ?? "null" }

    static func json(_ file: GoldenFileCheck, indent: String) -> String {
        let i1 = indent + "  ", i2 = i1 + "  "
        var members: [String] = [
            "\"file\": \(GoldenText.quoted(file.path))",
            "\"loss\": \(string(file.loss))",
            "\"passed\": \(file.passed)",
        ]
        if let m = file.malformed {
            members.append("\"malformed\": { \"kind\": \(GoldenText.quoted(m.kind.rawValue)), \"path\": \(GoldenText.quoted(m.path)), "
                           + "\"reason\": \(GoldenText.quoted(m.reason)), \"message\": \(GoldenText.quoted(m.description)) }")
        } else {
            members.append("\"malformed\": null")
        }
        members.append("\"notes\": [\(file.notes.map(GoldenText.quoted).joined(separator: ", "))]")
        let summaries = file.summaries.map { s in
            "\(GoldenText.quoted(s.engine.rawValue)): { \"ran\": \(s.ran), \"passed\": \(s.passed), \"failed\": \(s.failed), "
                + "\"worst_case\": \(string(s.worst?.case)), \"worst_relative_to_tolerance\": \(number(s.worst?.relativeToTolerance)) }"
        }
        members.append("\"summary\": { \(summaries.joined(separator: ", ")) }")
        let cases = file.cases.map { c in
            let engines = c.engines.map { "\(GoldenText.quoted($0.engine.rawValue)): \(json($0))" }
            return "\(i2){ \"name\": \(GoldenText.quoted(c.name)), \"passed\": \(c.passed), \"engines\": { \(engines.joined(separator: ", ")) } }"
        }
        members.append(cases.isEmpty ? "\"cases\": []" : "\"cases\": [\n\(cases.joined(separator: ",\n"))\n\(i1)]")
        return "\(indent){\n" + members.map { i1 + $0 }.joined(separator: ",\n") + "\n\(indent)}"
    }

    static func json(_ check: GoldenEngineCheck) -> String {
        let status = !check.ran ? "not_built" : (check.passed ? "passed" : "failed")
        var tensors: [String] = []
        if case .values(let checks) = check.outcome {
            tensors = checks.map { t in
                let c = t.comparison
                return "\(GoldenText.quoted(t.name)): { \"passed\": \(c.passed), \"relative_to_tolerance\": \(number(c.headroom)), "
                    + "\"relative_error\": \(number(c.error)), \"max_abs_error\": \(number(c.maxAbsoluteError)), "
                    + "\"worst_index\": \(c.worst.map { Shape.describe($0.index) } ?? "null") }"
            }
        }
        return "{ \"status\": \(GoldenText.quoted(status)), \"passed\": \(check.passed), "
            + "\"relative_to_tolerance\": \(number(check.relativeToTolerance)), \"relative_error\": \(number(check.relativeError)), "
            + "\"thrown\": \(string(check.thrown?.kind.rawValue)), \"failure\": \(string(check.failure)), "
            + "\"tensors\": { \(tensors.joined(separator: ", ")) } }"
    }
}

import Foundation
import Losses
import LossVerification
import Testing

/// Where the package's golden files are, and small files for the verifier's own tests.
enum GoldenVerifyFixture {
    /// `golden/` of this package, found from this file's path (Tests/Golden/...).
    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("golden").path

    /// Every golden file of the package, sorted by name (empty if the folder is missing,
    /// which `goldenFolderHoldsOneFilePerLoss` reports).
    static let paths: [String] = (try? GoldenVerify.files(in: directory)) ?? []

    /// A file for `mse` holding `cases` (raw JSON case objects).
    static func mseFile(_ cases: [String]) -> String {
        """
        { "format": "loss-golden-v1", "loss": "mse", "source": "worked by hand", "cases": [
        \(cases.joined(separator: ",\n"))
        ] }
        """
    }

    /// mse, mean, input [1, 2], target [0, 0]: the loss is (1^2 + 2^2) / 2 = 2.5; the input
    /// gradient is 2 e / n = [1, 2]; the target gradient its negative. Exact in binary.
    static func handWorkedCase(name: String = "hand-worked", output: String = "2.5", extra: String = "",
                               reduction: String = "mean") -> String {
        """
        { "name": "\(name)", "options": { "reduction": "\(reduction)" },
          "input": { "dtype": "float", "shape": [2], "data": [1, 2] },
          "target": { "dtype": "float", "shape": [2], "data": [0, 0] },
          "expected": { "output": { "dtype": "float", "shape": [], "data": [\(output)] },
                        "grad_input": { "dtype": "float", "shape": [2], "data": [1, 2] },
                        "grad_target": { "dtype": "float", "shape": [2], "data": [-1, -2] } }\(extra) }
        """
    }

    /// An error case: input [2] against target [3] is a shape error.
    static func errorCase(name: String = "shapes", kind: String = "shape", reduction: String = "mean") -> String {
        """
        { "name": "\(name)", "options": { "reduction": "\(reduction)" },
          "input": { "dtype": "float", "shape": [2], "data": [1, 2] },
          "target": { "dtype": "float", "shape": [3], "data": [0, 0, 0] },
          "expected_error": "\(kind)" }
        """
    }

    /// Writes `text` to a fresh temporary file and returns its path.
    static func write(_ text: String, name: String = "case") throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("golden-verify-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(name)-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Verifies `text` as a file with the reference engine.
    static func check(_ text: String, engines: [LossEngine] = [.reference]) throws -> GoldenFileCheck {
        GoldenVerify.check(path: try write(text), engines: engines)
    }
}

@Suite("Golden files: both engines against golden/*.json, as `losscheck golden verify` runs them")
struct GoldenFilesTests {
    @Test func goldenFolderHoldsOneFilePerLoss() {
        let names = Set(GoldenVerifyFixture.paths.map { URL(fileURLWithPath: $0).lastPathComponent })
        let expected = Set(AnyLoss.names.map { $0 + ".json" })
        #expect(names == expected,
                "golden/ at \(GoldenVerifyFixture.directory): missing \(expected.subtracting(names).sorted()), unexpected \(names.subtracting(expected).sorted()); run scripts/regenerate-golden --write")
    }

    @Test("the reference engine passes every case", arguments: GoldenVerifyFixture.paths)
    func referenceEngine(path: String) {
        let check = GoldenVerify.check(path: path, engines: [.reference])
        let report = GoldenVerifyReport(files: [check], engines: [.reference])
        #expect(check.malformed == nil, "\(check.malformed.map(\.description) ?? "")")
        #expect(report.failureLines.isEmpty, "\(report.failureLines.joined(separator: "\n"))")
        #expect(check.cases.count > 0, "\(path) has no cases")
        #expect(check.cases.allSatisfy { $0.engines.allSatisfy(\.ran) })
    }

    @Test("the fast engine passes every case", .enabled(if: LossEngine.fastAvailable), arguments: GoldenVerifyFixture.paths)
    func fastEngine(path: String) {
        let check = GoldenVerify.check(path: path, engines: [.fast])
        let report = GoldenVerifyReport(files: [check], engines: [.fast])
        #expect(check.malformed == nil, "\(check.malformed.map(\.description) ?? "")")
        #expect(report.failureLines.isEmpty, "\(report.failureLines.joined(separator: "\n"))")
    }

    @Test func wholeRunPassesAndItsTableCoversEveryFile() {
        let report = GoldenVerify.run(paths: GoldenVerifyFixture.paths, engines: [.reference, .fast])
        #expect(report.passed, "\(report.text())")
        let table = report.summaryTable
        for path in GoldenVerifyFixture.paths {
            #expect(table.contains(path), "the summary table has no row for \(path):\n\(table)")
        }
        #expect(table.contains("total (\(GoldenVerifyFixture.paths.count) files)"), "\(table)")
    }
}

@Suite("Golden verify: the verdict per case and engine")
struct GoldenVerifyTests {
    @Test func handWorkedCasePassesExactly() throws {
        let check = try GoldenVerifyFixture.check(GoldenVerifyFixture.mseFile([GoldenVerifyFixture.handWorkedCase()]))
        #expect(check.passed, "\(GoldenVerifyReport(files: [check], engines: [.reference]).text())")
        let engine = try #require(check.cases.first?.engines.first)
        // 2.5, [1, 2] and [-1, -2] are exact in binary and the reference computes them exactly.
        #expect(engine.relativeToTolerance == 0, "measured \(String(describing: engine.relativeToTolerance))")
        guard case .values(let tensors) = engine.outcome else {
            Issue.record("expected compared values, got \(engine.outcome)")
            return
        }
        #expect(tensors.map(\.name) == ["output", "grad_input", "grad_target"])
    }

    @Test func valueOutsideTheToleranceFailsWithAReadableLine() throws {
        // 2.5 + 1e-9 is off by a relative 4e-10, 400x the reference's rtol 1e-12.
        let path = try GoldenVerifyFixture.write(GoldenVerifyFixture.mseFile([GoldenVerifyFixture.handWorkedCase(output: "2.500000001")]))
        let report = GoldenVerify.run(paths: [path], engines: [.reference])
        #expect(!report.passed)
        let line = try #require(report.failureLines.first)
        #expect(line.hasPrefix("FAIL \(path): case \"hand-worked\" [reference]: output: FAILED"), "\(line)")
        let measured = try #require(report.files.first?.cases.first?.engines.first?.relativeToTolerance)
        // |2.5 - 2.500000001| / (1e-12 * 2.500000001) = 400 (to the rounding of the decimal).
        #expect(abs(measured - 400) < 1e-3, "measured \(measured)x the bound; expected 400x")
        #expect(report.text().contains("FAILED: 1 failing case"), "\(report.text())")
    }

    @Test func perCaseToleranceIsApplied() throws {
        // The same value passes with the case's own reference bound rtol 1e-9 (0.4x).
        let tolerant = GoldenVerifyFixture.handWorkedCase(output: "2.500000001",
                                                          extra: ", \"tolerance\": { \"reference\": { \"rtol\": 1e-9 } }")
        let check = try GoldenVerifyFixture.check(GoldenVerifyFixture.mseFile([tolerant]))
        #expect(check.passed)
        let measured = try #require(check.cases.first?.engines.first?.relativeToTolerance)
        #expect(abs(measured - 0.4) < 1e-6, "measured \(measured)")
    }

    @Test func errorCasePassesOnlyOnTheSameKind() throws {
        let check = try GoldenVerifyFixture.check(GoldenVerifyFixture.mseFile([
            GoldenVerifyFixture.errorCase(name: "right-kind", kind: "shape"),
            GoldenVerifyFixture.errorCase(name: "wrong-kind", kind: "input"),
        ]))
        let verdicts = check.cases.map { ($0.name, $0.passed) }
        #expect(verdicts.map(\.1) == [true, false], "\(verdicts)")
        let failure = try #require(check.cases[1].engines.first?.failure)
        #expect(failure.hasPrefix("threw shape error: mse: target shape [3] differs"), "\(failure)")
        #expect(failure.hasSuffix("expected an input error"), "\(failure)")
        #expect(check.cases[0].engines.first?.thrown?.kind == .shape)
    }

    @Test func errorExpectedButValuesReturnedFails() throws {
        let wrong = """
        { "name": "no-error", "input": { "dtype": "float", "shape": [1], "data": [1] },
          "target": { "dtype": "float", "shape": [1], "data": [0] }, "expected_error": "shape" }
        """
        let check = try GoldenVerifyFixture.check(GoldenVerifyFixture.mseFile([wrong]))
        #expect(!check.passed)
        #expect(check.cases.first?.engines.first?.failure == "returned values; expected a shape error")
    }

    @Test func valuesExpectedButThrownFails() throws {
        let wrong = """
        { "name": "throws", "input": { "dtype": "float", "shape": [2], "data": [1, 2] },
          "target": { "dtype": "float", "shape": [1], "data": [0] },
          "expected": { "output": { "dtype": "float", "shape": [], "data": [1] } } }
        """
        let check = try GoldenVerifyFixture.check(GoldenVerifyFixture.mseFile([wrong]))
        let failure = try #require(check.cases.first?.engines.first?.failure)
        #expect(failure.hasPrefix("threw shape error:") && failure.hasSuffix("expected values"), "\(failure)")
    }

    @Test func unknownReductionIsTheOptionErrorOfEveryEngine() throws {
        let check = try GoldenVerifyFixture.check(GoldenVerifyFixture.mseFile([
            GoldenVerifyFixture.errorCase(name: "avg-is-an-option-error", kind: "option", reduction: "avg"),
            GoldenVerifyFixture.handWorkedCase(name: "avg-with-values", reduction: "avg"),
        ]))
        #expect(check.cases.map(\.passed) == [true, false])
        let thrown = try #require(check.cases[0].engines.first?.thrown)
        #expect(thrown.kind == .option && thrown.message.contains("reduction \"avg\" is not a reduction"), "\(thrown)")
        let failure = try #require(check.cases[1].engines.first?.failure)
        #expect(failure.contains("reduction \"avg\"") && failure.hasSuffix("expected values"), "\(failure)")
    }

    @Test func exactlyTheExpectedGradientsAreRequested() throws {
        let output = Tensor(scalar: 1.0), gradient = Tensor([1.0, 2.0])
        #expect(GoldenVerify.requestedGradients(.values(LossResult(output: output))) == .none)
        #expect(GoldenVerify.requestedGradients(.values(LossResult(output: output, gradInput: gradient))) == .input)
        #expect(GoldenVerify.requestedGradients(.values(LossResult(output: output, gradTarget: gradient))) == .target)
        #expect(GoldenVerify.requestedGradients(.values(LossResult(output: output, gradInput: gradient, gradTarget: gradient))) == .all)
        #expect(GoldenVerify.requestedGradients(.error(.shape)) == .none)

        // A case that expects only the output compares only the output.
        let outputOnly = """
        { "name": "output-only", "input": { "dtype": "float", "shape": [2], "data": [1, 2] },
          "target": { "dtype": "float", "shape": [2], "data": [0, 0] },
          "expected": { "output": { "dtype": "float", "shape": [], "data": [2.5] } } }
        """
        let check = try GoldenVerifyFixture.check(GoldenVerifyFixture.mseFile([outputOnly]))
        guard case .values(let tensors)? = check.cases.first?.engines.first?.outcome else {
            Issue.record("expected compared values")
            return
        }
        #expect(tensors.map(\.name) == ["output"])
        #expect(check.passed)
    }

    @Test func malformedFileIsReportedWithFileAndPathNotCrashed() throws {
        let bad = GoldenVerifyFixture.mseFile([GoldenVerifyFixture.handWorkedCase()])
            .replacingOccurrences(of: "\"data\": [1, 2] }", with: "\"data\": [1, 2, 3] }")
        let path = try GoldenVerifyFixture.write(bad)
        let missing = path + ".missing"
        let good = try GoldenVerifyFixture.write(GoldenVerifyFixture.mseFile([GoldenVerifyFixture.handWorkedCase()]))
        let report = GoldenVerify.run(paths: [path, missing, good], engines: [.reference])
        #expect(!report.passed)
        #expect(report.files.map(\.malformed?.kind) == [.format, .unreadable, nil])
        #expect(report.malformedLines.first == "error: \(path): cases[0].input.data: 3 values for shape [2]; expected 2",
                "\(report.malformedLines)")
        #expect(report.files[2].passed)
        #expect(report.summaryTable.contains("malformed"), "\(report.summaryTable)")
        #expect(report.text().contains("2 malformed files"), "\(report.text())")
    }

    @Test func ignoredKeysAreNotes() throws {
        let misspelt = GoldenVerifyFixture.handWorkedCase(extra: ", \"grad_inptu\": 1")
        let path = try GoldenVerifyFixture.write(GoldenVerifyFixture.mseFile([misspelt]))
        let report = GoldenVerify.run(paths: [path], engines: [.reference])
        #expect(report.noteLines == ["note: \(path): cases[0].grad_inptu: unknown key ignored"], "\(report.noteLines)")
        #expect(report.passed)
    }

    @Test("an engine that is not built is reported, not counted", .enabled(if: !LossEngine.fastAvailable))
    func fastEngineNotBuilt() throws {
        let check = try GoldenVerifyFixture.check(GoldenVerifyFixture.mseFile([GoldenVerifyFixture.handWorkedCase()]),
                                                  engines: [.reference, .fast])
        #expect(check.passed)
        let fast = try #require(check.cases.first?.engines.last)
        #expect(fast.engine == .fast && !fast.ran && !fast.passed && fast.failure == nil)
        let report = GoldenVerifyReport(files: [check], engines: [.reference, .fast])
        #expect(report.summaryTable.contains("not built"), "\(report.summaryTable)")
        #expect(report.text().contains("note: the fast engine is not built"), "\(report.text())")
    }

    @Test func noFilesIsAFailure() {
        let report = GoldenVerify.run(paths: [], engines: [.reference])
        #expect(!report.passed)
        #expect(report.text().contains("FAILED: no golden files to verify"))
    }

    @Test func jsonReportCarriesEveryVerdict() throws {
        let good = try GoldenVerifyFixture.write(GoldenVerifyFixture.mseFile([
            GoldenVerifyFixture.handWorkedCase(),
            GoldenVerifyFixture.handWorkedCase(name: "off", output: "2.500000001"),
            GoldenVerifyFixture.errorCase(),
        ]))
        let bad = try GoldenVerifyFixture.write("{ \"format\": \"loss-golden-v1\" ")
        let report = GoldenVerify.run(paths: [good, bad], engines: [.reference, .fast])
        let json = try GoldenJSON.parse(report.json())
        #expect(json["passed"] == .bool(false))
        guard case .array(let files)? = json["files"], files.count == 2,
              case .array(let cases)? = files[0]["cases"], cases.count == 3 else {
            Issue.record("unexpected JSON layout:\n\(report.json())")
            return
        }
        let reference = cases.map { $0["engines"]?["reference"] }
        #expect(reference.map { $0?["status"] } == [.string("passed"), .string("failed"), .string("passed")])
        #expect(reference[0]?["relative_to_tolerance"] == .number(GoldenJSON.Number("0.0")!))
        #expect(reference[2]?["thrown"] == .string("shape"))
        if case .string(let failure)? = reference[1]?["failure"] {
            #expect(failure.hasPrefix("output: FAILED"), "\(failure)")
        } else {
            Issue.record("no failure text for the failing case")
        }
        #expect(cases[0]["engines"]?["fast"]?["status"] == .string(LossEngine.fastAvailable ? "passed" : "not_built"))
        #expect(files[1]["malformed"]?["kind"] == .string("syntax"), "\(report.json())")
        #expect(files[1]["cases"] == .array([]))
    }
}

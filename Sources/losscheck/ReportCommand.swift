import Foundation
import Losses
import LossVerification

/// `losscheck report`: the whole verification in one go, one row per loss.
///
/// For every loss it runs the golden files (both engines), a seeded Fast-vs-Reference
/// property sweep (`PropertySweep`), the reference gradients against Richardson
/// differences and dual numbers (`GradientSweep`) and the stability cases
/// (`StabilityCases`), prints one table and one summary line, and exits 0 only when
/// everything passed.
enum ReportCommand: Subcommand {
    static let name = "report"
    static let summary = "verify every loss (golden files, Fast vs Reference, gradient checks, stability)"

    static let usage = """
    Usage: losscheck report [options]

    Runs the whole verification of both engines and prints one row per loss:
      cases      cases run (golden + property + gradient checks + stability)
      fail       failures among them
      value ulp  Fast vs Reference on the output: max Float ULPs (max norm-wise rel. error)
      grad ulp   the same over grad_input and grad_target
      fd / dual  worst norm-wise error of the reference gradients against Richardson
                 differences / dual numbers
      golden     worst measured error / tolerance over the golden cases (both engines)
      stability  stability cases passed / run (both engines)

    Options:
      --deep         ten times the generated cases
      --seed N       base seed of the generated cases (default: LOSS_SEED or 0x10555eed)
      --loss NAME    only this loss (repeatable): \(AnyLoss.names.joined(separator: ", "))
      --golden-dir DIR  the golden files (default: golden/ of the package)
      --json         the same content as JSON on standard output
      -h, --help     show this help and exit

    Exit status: 0 if everything passed, 1 if anything failed, 2 for a bad command line.

    """

    /// What one loss's row holds.
    struct Row {
        var loss: String
        var cases = 0
        var failures: [String] = []
        var valueULP: UInt64 = 0, valueError = 0.0
        var gradULP: UInt64 = 0, gradError = 0.0
        var valueULPs: [UInt64] = [], gradULPs: [UInt64] = []
        var fdError = 0.0, dualError = 0.0, gradChecks = 0, gradSkipped = 0
        var goldenHeadroom: Double?
        var goldenCases = 0
        var stabilityPassed = 0, stabilityRun = 0
    }

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(arguments, command: "losscheck report", flags: ["--deep", "--json"],
                                         options: ["--seed", "--loss", "--golden-dir"])
        } catch {
            return error.report()
        }
        if parsed.has("--help") {
            Console.out(usage)
            return ExitStatus.success
        }
        if let extra = parsed.positionals.first {
            return UsageError(command: "losscheck report", message: "unexpected argument '\(extra)'").report()
        }
        let losses = parsed.values("--loss").isEmpty ? AnyLoss.names : parsed.values("--loss")
        for name in losses where !AnyLoss.names.contains(name) {
            return UsageError(command: "losscheck report", message: "unknown loss '\(name)'; expected one of \(AnyLoss.names.joined(separator: ", "))").report()
        }
        var seed = TestEnvironment.current.seed
        if let text = parsed.value("--seed") {
            guard let value = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text) else {
                return UsageError(command: "losscheck report", message: "--seed needs a non-negative integer, got '\(text)'").report()
            }
            seed = value
        }
        let multiplier = parsed.has("--deep") ? 10 : 1
        let propertyCount = 60 * multiplier, gradientCount = 6 * multiplier

        let start = Date()
        func progress(_ text: String) {
            if Date().timeIntervalSince(start) > 2 { Console.error("report: \(text)") }
        }

        // Golden files.
        var rows = Dictionary(uniqueKeysWithValues: losses.map { ($0, Row(loss: $0)) })
        var notes: [String] = []
        progress("golden files")
        if let directory = parsed.value("--golden-dir") ?? GoldenVerify.locateDirectory(fallbackPackageRoot: GoldenCommand.builtPackageRoot) {
            let paths = ((try? GoldenVerify.files(in: directory)) ?? [])
            let report = GoldenVerify.run(paths: paths, engines: [.reference, .fast])
            for file in report.files {
                guard let loss = file.loss, rows[loss] != nil else {
                    if file.malformed != nil { notes.append("golden: \(file.path) is malformed") }
                    continue
                }
                for c in file.cases {
                    rows[loss]!.cases += 1
                    rows[loss]!.goldenCases += 1
                    if !c.passed { rows[loss]!.failures.append("golden \(file.path): \(c.name)") }
                    for e in c.engines {
                        if let h = e.relativeToTolerance { rows[loss]!.goldenHeadroom = max(rows[loss]!.goldenHeadroom ?? 0, h) }
                    }
                }
            }
        } else {
            notes.append("golden: no golden/ folder found (use --golden-dir); golden column empty")
        }

        // Property sweep and gradient checks.
        for loss in losses {
            progress("\(loss): Fast vs Reference")
            for index in 0..<propertyCount {
                rows[loss]!.cases += 1
                let outcome: PropertySweep.CaseOutcome
                do {
                    outcome = try PropertySweep.run(lossName: loss, seed: seed, index: index)
                } catch {
                    rows[loss]!.failures.append("property case \(index): generator: \(error)")
                    continue
                }
                if !outcome.passed { rows[loss]!.failures.append("property: " + outcome.summary) }
                for t in outcome.tensors {
                    let q = t.ulps.max() ?? 0
                    if t.name == "output" {
                        rows[loss]!.valueULP = max(rows[loss]!.valueULP, q)
                        rows[loss]!.valueError = max(rows[loss]!.valueError, t.fastError)
                        rows[loss]!.valueULPs += t.ulps
                    } else {
                        rows[loss]!.gradULP = max(rows[loss]!.gradULP, q)
                        rows[loss]!.gradError = max(rows[loss]!.gradError, t.fastError)
                        rows[loss]!.gradULPs += t.ulps
                    }
                }
            }
            progress("\(loss): gradient checks")
            for index in 0..<gradientCount {
                let outcomes: [GradientSweep.Outcome]
                do {
                    outcomes = try GradientSweep.run(lossName: loss, seed: seed, index: index)
                } catch {
                    rows[loss]!.failures.append("gradient case \(index): generator: \(error)")
                    continue
                }
                for o in outcomes {
                    rows[loss]!.cases += 1
                    if o.skipped != nil { rows[loss]!.gradSkipped += 1; continue }
                    rows[loss]!.gradChecks += 1
                    if !o.passed { rows[loss]!.failures.append("gradient \(o.argument): \(o.generated) \(o.report.map { "\($0)" } ?? "")") }
                    rows[loss]!.fdError = max(rows[loss]!.fdError, o.error(.finiteDifferences) ?? 0)
                    rows[loss]!.dualError = max(rows[loss]!.dualError, o.error(.dualNumbers) ?? 0)
                }
            }
        }

        // Stability cases.
        progress("stability cases")
        for (loss, passed, run, failures) in ReportStability.results(losses: losses) {
            rows[loss]!.cases += run
            rows[loss]!.stabilityRun += run
            rows[loss]!.stabilityPassed += passed
            rows[loss]!.failures += failures
        }

        let ordered = losses.map { rows[$0]! }
        let failed = ordered.reduce(0) { $0 + $1.failures.count }
        let total = ordered.reduce(0) { $0 + $1.cases }
        let seconds = Date().timeIntervalSince(start)
        if parsed.has("--json") {
            Console.out(json(ordered, seed: seed, deep: multiplier > 1, seconds: seconds, notes: notes))
        } else {
            Console.out(table(ordered, seed: seed, deep: multiplier > 1, notes: notes))
            let verdict = failed == 0 ? "PASSED" : "FAILED"
            Console.out("\(verdict): \(total) cases over \(ordered.count) losses, \(failed) failures, seed \(seed)\(multiplier > 1 ? " (deep)" : ""), \(String(format: "%.1f", seconds)) s\n")
        }
        return failed == 0 ? ExitStatus.success : ExitStatus.failure
    }

    static func table(_ rows: [Row], seed: UInt64, deep: Bool, notes: [String]) -> String {
        var lines: [String] = []
        lines.append(ReportBuild.line)
        let header = ["loss", "cases", "fail", "value ulp (rel)", "grad ulp (rel)", "fd", "dual", "golden", "stability"]
        var body: [[String]] = []
        for r in rows {
            body.append([
                r.loss, "\(r.cases)", "\(r.failures.count)",
                "\(r.valueULP) (\(ReportFormat.sci(r.valueError)))",
                "\(r.gradULP) (\(ReportFormat.sci(r.gradError)))",
                ReportFormat.sci(r.fdError), ReportFormat.sci(r.dualError),
                r.goldenHeadroom.map { String(format: "%.3f", $0) } ?? "-",
                r.stabilityRun > 0 ? "\(r.stabilityPassed)/\(r.stabilityRun)" : "-",
            ])
        }
        let widths = header.indices.map { i in max(header[i].count, body.map { $0[i].count }.max() ?? 0) }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                                                    : String(repeating: " ", count: widths[i] - c.count) + c }
                .joined(separator: "  ")
        }
        lines.append(render(header))
        lines.append(contentsOf: body.map(render))
        lines.append("")
        lines.append("value/grad ulp: max Float ULPs of the fast engine vs the Double reference; median/p99 per loss: "
                     + rows.map { r in
                         let v = ReportFormat.quantiles(r.valueULPs), g = ReportFormat.quantiles(r.gradULPs)
                         return "\(r.loss) \(v.median)/\(v.p99) \(g.median)/\(g.p99)"
                     }.joined(separator: ", "))
        for r in rows {
            for f in r.failures.prefix(10) { lines.append("FAIL \(r.loss): \(f)") }
            if r.failures.count > 10 { lines.append("FAIL \(r.loss): ... \(r.failures.count - 10) more") }
        }
        lines.append(contentsOf: notes.map { "note: \($0)" })
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ rows: [Row], seed: UInt64, deep: Bool, seconds: Double, notes: [String]) -> String {
        func finite(_ x: Double) -> Any { x.isFinite ? x : "\(x)" }
        let losses: [[String: Any]] = rows.map { r in
            let v = ReportFormat.quantiles(r.valueULPs), g = ReportFormat.quantiles(r.gradULPs)
            return [
                "loss": r.loss, "cases": r.cases, "failures": r.failures,
                "value": ["max_ulp": r.valueULP, "median_ulp": v.median, "p99_ulp": v.p99, "max_rel_error": finite(r.valueError)],
                "gradient": ["max_ulp": r.gradULP, "median_ulp": g.median, "p99_ulp": g.p99, "max_rel_error": finite(r.gradError)],
                "gradcheck": ["checks": r.gradChecks, "skipped": r.gradSkipped,
                              "finite_differences_max_error": finite(r.fdError), "dual_max_error": finite(r.dualError)],
                "golden": ["cases": r.goldenCases, "worst_error_over_tolerance": r.goldenHeadroom.map(finite) ?? NSNull()],
                "stability": ["passed": r.stabilityPassed, "run": r.stabilityRun],
            ]
        }
        let failed = rows.reduce(0) { $0 + $1.failures.count }
        let object: [String: Any] = [
            "build": ReportBuild.line, "seed": seed, "deep": deep, "seconds": seconds,
            "passed": failed == 0, "failures": failed, "losses": losses, "notes": notes,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// Which build is running, for the first line of the report and the bench.
enum ReportBuild {
    static var line: String {
        #if DEBUG
        let configuration = "debug build (slow: use swift run -c release)"
        #else
        let configuration = "release build"
        #endif
        return "losscheck \(configuration), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }
}

/// The stability cases, per loss: (loss, passed, run, failure lines).
enum ReportStability {
    static func results(losses: [String]) -> [(String, Int, Int, [String])] {
        losses.map { loss in
            let cases = StabilityCases.all.filter { $0.loss.name == loss }
            let outcomes = [LossEngine.reference, .fast].flatMap { StabilityCases.run(engine: $0, cases: cases) }
            let failures = outcomes.filter { !$0.passed }.map { "stability: \($0)" }
            return (loss, outcomes.count - failures.count, outcomes.count, failures)
        }
    }
}

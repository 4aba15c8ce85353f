import Foundation
import LossVerification

/// `losscheck golden verify` and `losscheck golden regenerate`. The work is done by
/// `GoldenVerify` and `GoldenRegeneration` in LossVerification (shared with the tests);
/// this file reads the command line and prints.
enum GoldenCommand: Subcommand {
    static let name = "golden"
    static let summary = "verify golden files against the engines, or regenerate them"

    static let usage = """
    Usage: losscheck golden <command> [options] [arguments]

    Golden files (golden/<loss>.json, format in docs/golden-format.md) hold, per loss,
    calls and the outputs, gradients or errors both engines must produce.

    Commands:
      verify      check golden files with the reference and the fast engine
      regenerate  rebuild the golden files from the case definitions in code

    Options:
      -h, --help  show this help and exit

    Run 'losscheck golden <command> --help' for a command's options.

    """

    static func run(_ arguments: [String]) -> Int32 {
        guard let first = arguments.first else {
            return UsageError(command: "losscheck golden", message: "missing command (verify or regenerate)").report()
        }
        let rest = Array(arguments.dropFirst())
        switch first {
        case "-h", "--help", "help":
            Console.out(usage)
            return ExitStatus.success
        case "verify":
            return GoldenVerifyCommand.run(rest)
        case "regenerate":
            return GoldenRegenerateCommand.run(rest)
        default:
            let kind = first.hasPrefix("-") ? "unknown option" : "unknown command"
            return UsageError(command: "losscheck golden", message: "\(kind) '\(first)'").report()
        }
    }

    /// The package root this tool was built from (where `Package.swift` is), if it still
    /// exists: the fallback for finding `golden/` when the current directory is outside
    /// the package.
    static var builtPackageRoot: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) ? root.path : nil
    }

    /// The nearest directory at or above the current one that holds `Package.swift`, else
    /// the package this tool was built from.
    static var packageRoot: String? {
        var url = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return builtPackageRoot }
            url = parent
        }
    }
}

/// `losscheck golden verify [options] [FILE...]`.
enum GoldenVerifyCommand {
    static let command = "losscheck golden verify"

    static let usage = """
    Usage: losscheck golden verify [options] [FILE...]

    Checks every case of each golden FILE with the reference engine and the fast engine.
    Without FILE, checks every .json file in golden/ (in the current directory, else in
    the package root).

    Options:
      --engine ENGINE   reference, fast or both (default: both)
      --json            print the result as JSON instead of text
      --golden-dir DIR  the folder of golden files to check when no FILE is given
      -h, --help        show this help and exit

    Output: one line per failing case and engine (FAIL file: case "name" [engine]: why),
    a note for each key the reader ignored, and a summary table per file: cases, passed,
    failed, and the worst measured error relative to its tolerance, where at most 1
    passes. Values are compared with the golden format's norm-wise rule
    (max |actual - expected| <= atol + rtol * max |expected|, NaN and infinities at the
    same places) with each case's tolerance for the engine. A case with
    "expected_error" passes only when the engine throws an error of that kind. An engine
    that is not built is reported as such and not counted.

    Exit status: 0 if every case passed, 1 if a case failed or a file is malformed or
    missing, 2 if the command line was wrong.

    """

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(arguments, command: command, flags: ["--json"],
                                         options: ["--engine", "--golden-dir"])
        } catch {
            return error.report()
        }
        if parsed.has("--help") {
            Console.out(usage)
            return ExitStatus.success
        }
        let engines: [LossEngine]
        switch parsed.value("--engine") ?? "both" {
        case "both": engines = [.reference, .fast]
        case "reference": engines = [.reference]
        case "fast": engines = [.fast]
        case let other:
            return UsageError(command: command, message: "unknown engine '\(other)'; expected reference, fast or both").report()
        }
        if engines == [.fast] && !LossEngine.fastAvailable {
            Console.error("\(command): the fast engine is not built into this version; nothing to verify")
            return ExitStatus.failure
        }
        if !parsed.positionals.isEmpty && parsed.value("--golden-dir") != nil {
            return UsageError(command: command, message: "give FILE arguments or --golden-dir, not both").report()
        }

        var paths = parsed.positionals
        if paths.isEmpty {
            guard let directory = parsed.value("--golden-dir")
                    ?? GoldenVerify.locateDirectory(fallbackPackageRoot: GoldenCommand.builtPackageRoot) else {
                Console.error("\(command): no golden/ folder in the current directory or the package root; give FILE arguments or --golden-dir")
                return ExitStatus.failure
            }
            do {
                paths = try GoldenVerify.files(in: directory)
            } catch {
                Console.error("\(command): cannot list \(directory): \(error.localizedDescription)")
                return ExitStatus.failure
            }
            if paths.isEmpty {
                Console.error("\(command): no .json files in \(directory)")
                return ExitStatus.failure
            }
        }

        let report = GoldenVerify.run(paths: paths, engines: engines)
        Console.out(parsed.has("--json") ? report.json() : report.text())
        return report.passed ? ExitStatus.success : ExitStatus.failure
    }
}

/// `losscheck golden regenerate [options]`.
enum GoldenRegenerateCommand {
    static let command = "losscheck golden regenerate"

    static let usage = """
    Usage: losscheck golden regenerate [options]

    Rebuilds every golden file from the case definitions in code
    (Sources/Verification/GoldenCases), evaluating the reference engine in Float80 and
    rounding to Double, and compares the result with the files on disk: it prints, per
    file, the cases added, removed, and changed, with the largest change of an expected
    value in Double ulps. It writes only with --write. The output is deterministic: the
    same definitions give the same bytes.

    Options:
      -w, --write       write the files that change
      --check           exit with status 1 if any file would change (for CI);
                        writes nothing, so it cannot be combined with --write
      --allow-double    where Float80 does not exist (it does on x86_64 only), evaluate
                        in Double instead of stopping; the files' "source" says so
      --golden-dir DIR  the folder to compare with and write to (default: golden/ in the
                        current directory, else in the package root)
      -h, --help        show this help and exit

    Exit status: 0 on success, 1 if a case definition disagrees with the reference
    engine, Float80 is missing, a file cannot be written, or (with --check) a file would
    change; 2 if the command line was wrong.

    """

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(arguments, command: command, flags: ["--write", "--check", "--allow-double"],
                                         options: ["--golden-dir"], aliases: ["-w": "--write"])
        } catch {
            return error.report()
        }
        if parsed.has("--help") {
            Console.out(usage)
            return ExitStatus.success
        }
        if parsed.has("--check") && parsed.has("--write") {
            return UsageError(command: command, message: "--check and --write exclude each other").report()
        }
        if let extra = parsed.positionals.first {
            return UsageError(command: command, message: "unexpected argument '\(extra)'; regenerate takes no files").report()
        }

        let precision: GoldenPrecision
        if GoldenPrecision.float80Available {
            precision = .float80
        } else if parsed.has("--allow-double") {
            precision = .double
            Console.error("\(command): Float80 does not exist on this platform; evaluating in Double (--allow-double)")
        } else {
            Console.error("\(command): Float80 does not exist on this platform (it does on x86_64), so the expected values cannot be computed in higher precision.")
            Console.error("Regenerate on an x86_64 machine, or pass --allow-double to evaluate in Double (the files' source will say so).")
            return ExitStatus.failure
        }

        guard let directory = parsed.value("--golden-dir")
                ?? GoldenVerify.locateDirectory(fallbackPackageRoot: GoldenCommand.builtPackageRoot)
                ?? GoldenCommand.packageRoot.map({ $0 + "/golden" }) else {
            Console.error("\(command): cannot find the package root; run from inside the package or give --golden-dir")
            return ExitStatus.failure
        }

        let outputs: [GoldenRegeneration.Output]
        switch GoldenRegeneration.outputs(precision: precision) {
        case .success(let o):
            outputs = o
        case .failure(let failure):
            for problem in failure.problems { Console.error("error: \(problem)") }
            Console.error("\(command): \(failure.problems.count) case definition problem\(failure.problems.count == 1 ? "" : "s"); nothing written")
            return ExitStatus.failure
        }

        var changes: [GoldenFileChange] = []
        for output in outputs {
            let path = directory + "/" + output.fileName
            let existing = FileManager.default.contents(atPath: path).map { [UInt8]($0) }
            changes.append(GoldenRegeneration.changes(output, existing: existing, path: path))
        }
        var text = changes.flatMap(\.lines).joined(separator: "\n") + "\n"
        let generated = Set(outputs.map(\.fileName))
        let others = ((try? GoldenVerify.files(in: directory)) ?? []).filter {
            !generated.contains(URL(fileURLWithPath: $0).lastPathComponent)
        }
        for other in others {
            text += "\(other): not generated from the case definitions; left as is\n"
        }
        let changing = changes.filter(\.writes)
        let cases = outputs.reduce(0) { $0 + $1.file.cases.count }
        text += "\(outputs.count) files, \(cases) cases: \(changes.count - changing.count) unchanged, \(changing.count) "
        text += parsed.has("--write") ? "written\n" : "would change\(changing.isEmpty ? "" : " (run with --write to write them)")\n"
        Console.out(text)

        if parsed.has("--write") && !changing.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for (output, change) in zip(outputs, changes) where change.writes {
                    try Data(output.text.utf8).write(to: URL(fileURLWithPath: change.path), options: .atomic)
                }
            } catch {
                Console.error("\(command): cannot write to \(directory): \(error.localizedDescription)")
                return ExitStatus.failure
            }
        }
        if parsed.has("--check") && !changing.isEmpty {
            return ExitStatus.failure
        }
        return ExitStatus.success
    }
}

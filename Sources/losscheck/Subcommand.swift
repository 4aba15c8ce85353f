import Foundation

/// One subcommand of `losscheck` (`golden`, and later `report`, `bench`, ...). Each lives
/// in its own file and is listed once in `main.swift`'s `Losscheck.subcommands`.
protocol Subcommand: Sendable {
    /// The word that selects it: `losscheck <name> ...`.
    static var name: String { get }
    /// One line for the tool's usage text.
    static var summary: String { get }
    /// Runs with the arguments after the name; returns the exit status
    /// (`ExitStatus.success`, `.failure`, `.usage`).
    static func run(_ arguments: [String]) -> Int32
}

/// Exit statuses, as common Unix tools use them.
enum ExitStatus {
    /// Everything checked passed (or the command did what was asked).
    static let success: Int32 = 0
    /// Something checked failed, or a file could not be read or written.
    static let failure: Int32 = 1
    /// The command line itself was wrong (unknown option, missing value, ...).
    static let usage: Int32 = 2
}

/// Writing to standard output and standard error.
enum Console {
    /// Text to standard output, as given (add the newline yourself).
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// One line to standard error.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// A command line that could not be understood: what was wrong, and the command whose
/// `--help` explains it. Reported as `losscheck golden verify: <message>` plus a hint,
/// with exit status 2.
struct UsageError: Error {
    /// The command words, e.g. `losscheck golden verify`.
    let command: String
    let message: String

    /// Prints the message and the hint to standard error; returns `ExitStatus.usage`.
    func report() -> Int32 {
        Console.error("\(command): \(message)")
        Console.error("Try '\(command) --help' for more information.")
        return ExitStatus.usage
    }
}

/// A small command-line parser: long options with or without a value (`--engine both`,
/// `--engine=both`), short flags (`-h`), `--` to end the options, everything else a
/// positional argument. No abbreviations, no bundling: every option is spelt out.
struct ParsedArguments {
    /// The flags given (by their long name, e.g. `--json`).
    private(set) var flags: Set<String> = []
    /// The options given with their value (the last one wins).
    private(set) var values: [String: String] = [:]
    /// Every value given to each option, in order (for repeatable options).
    private(set) var allValues: [String: [String]] = [:]
    /// Everything that is not an option, in order.
    private(set) var positionals: [String] = []

    /// Parses `arguments` for `command`.
    /// - Parameters:
    ///   - flags: long names of the flags without a value (`--json`); `--help` and `-h`
    ///     are always accepted (as the flag `--help`).
    ///   - options: long names of the options that take a value (`--engine`).
    ///   - aliases: short names for long ones (`["-w": "--write"]`).
    /// - Throws: `UsageError` for an unknown option, a missing value, or a value given to a flag.
    init(_ arguments: [String], command: String, flags: Set<String> = [], options: Set<String> = [],
         aliases: [String: String] = [:]) throws(UsageError) {
        var rest = arguments[...]
        var optionsEnded = false
        while let argument = rest.popFirst() {
            if optionsEnded || argument == "-" || !argument.hasPrefix("-") {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            var name = argument, inlineValue: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            name = aliases[name] ?? name
            if name == "-h" { name = "--help" }
            if name == "--help" || flags.contains(name) {
                if inlineValue != nil {
                    throw UsageError(command: command, message: "option '\(name)' takes no value")
                }
                self.flags.insert(name)
            } else if options.contains(name) {
                if let value = inlineValue ?? rest.popFirst() {
                    values[name] = value
                    allValues[name, default: []].append(value)
                } else {
                    throw UsageError(command: command, message: "option '\(name)' needs a value")
                }
            } else {
                throw UsageError(command: command, message: "unknown option '\(argument)'")
            }
        }
    }

    func has(_ flag: String) -> Bool { flags.contains(flag) }
    func value(_ option: String) -> String? { values[option] }
    func values(_ option: String) -> [String] { allValues[option] ?? [] }
}

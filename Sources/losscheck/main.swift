import Foundation

/// `losscheck`: the command-line tool of the loss library. `main.swift` only dispatches
/// to the subcommands; each subcommand lives in its own file and is added to
/// `Losscheck.subcommands` below.
enum Losscheck {
    /// Every subcommand, in the order the usage text lists them.
    static let subcommands: [any Subcommand.Type] = [
        ReportCommand.self,
        GoldenCommand.self,
        BenchCommand.self,
    ]

    static var usage: String {
        let width = subcommands.map { $0.name.count }.max() ?? 0
        let list = subcommands.map { "  " + $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }
        return """
        Usage: losscheck <command> [options] [arguments]

        Checks the loss library's engines against stored and computed expectations.

        Commands:
        \(list.joined(separator: "\n"))

        Options:
          -h, --help  show this help and exit

        Run 'losscheck <command> --help' for a command's options.

        Exit status: 0 if everything checked passed, 1 if something failed or a file
        could not be read or written, 2 if the command line was wrong.

        """
    }

    static func main(_ arguments: [String]) -> Int32 {
        guard let first = arguments.first else {
            Console.error("losscheck: missing command")
            Console.error("Try 'losscheck --help' for more information.")
            return ExitStatus.usage
        }
        if first == "--help" || first == "-h" || first == "help" {
            Console.out(usage)
            return ExitStatus.success
        }
        guard let command = subcommands.first(where: { $0.name == first }) else {
            let kind = first.hasPrefix("-") ? "unknown option" : "unknown command"
            return UsageError(command: "losscheck", message: "\(kind) '\(first)'").report()
        }
        return command.run(Array(arguments.dropFirst()))
    }
}

exit(Losscheck.main(Array(CommandLine.arguments.dropFirst())))

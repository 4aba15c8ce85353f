import Foundation

/// The environment variables that steer the generated-case tests, read once per process.
///
/// | variable    | meaning | default |
/// |-------------|---------|---------|
/// | `LOSS_SEED` | the base seed of every generated case (decimal, or hex with `0x`) | `TestEnvironment.defaultSeed` |
/// | `LOSS_DEEP` | `1` (or `true`, `yes`): deep mode, 10x as many generated cases | off |
/// | `LOSS_CASE` | run only this case index (to rerun one failure) | all cases |
///
/// A test that draws cases prints the seed, the loss and the case index on failure, with
/// the command that reruns exactly that case:
///
///     LOSS_SEED=0x5eed LOSS_CASE=17 swift test --filter GradCheckTests
///
/// A malformed value is not silently ignored: it is listed in `problems` (and the
/// default is used), so a test can `#expect(TestEnvironment.current.problems.isEmpty)`.
public struct TestEnvironment: Sendable {
    /// The seed used when `LOSS_SEED` is not set.
    public static let defaultSeed: UInt64 = 0x1055_5EED
    /// The environment of this process.
    public static let current = TestEnvironment(ProcessInfo.processInfo.environment)

    /// The base seed (`LOSS_SEED`).
    public let seed: UInt64
    /// Whether `LOSS_SEED` was given (a test may print the seed only when it was not).
    public let seedIsDefault: Bool
    /// Deep mode (`LOSS_DEEP=1`).
    public let deep: Bool
    /// The single case to run (`LOSS_CASE`), or nil for all.
    public let onlyCase: Int?
    /// Values that could not be read, one message each.
    public let problems: [String]

    /// How many times the base number of cases a test should run: 10 in deep mode, else 1.
    public var caseMultiplier: Int { deep ? 10 : 1 }

    /// Reads the variables from a dictionary (the process environment by default).
    public init(_ environment: [String: String]) {
        var problems: [String] = []
        if let text = environment["LOSS_SEED"] {
            if let value = TestEnvironment.parseSeed(text) {
                seed = value
                seedIsDefault = false
            } else {
                problems.append("LOSS_SEED=\(text) is not a decimal or 0x-hex 64-bit integer; using the default seed \(TestEnvironment.hex(TestEnvironment.defaultSeed))")
                seed = TestEnvironment.defaultSeed
                seedIsDefault = true
            }
        } else {
            seed = TestEnvironment.defaultSeed
            seedIsDefault = true
        }
        switch environment["LOSS_DEEP"]?.lowercased() {
        case nil, "", "0", "false", "no": deep = false
        case "1", "true", "yes": deep = true
        case let other?:
            problems.append("LOSS_DEEP=\(other) is not 0/1; deep mode stays off")
            deep = false
        }
        if let text = environment["LOSS_CASE"] {
            if let index = Int(text), index >= 0 {
                onlyCase = index
            } else {
                problems.append("LOSS_CASE=\(text) is not a non-negative integer; running all cases")
                onlyCase = nil
            }
        } else {
            onlyCase = nil
        }
        self.problems = problems
    }

    /// The case indices a test with `base` cases should run: `0 ..< base * caseMultiplier`,
    /// or only `LOSS_CASE` when it is set (and within that range).
    public func caseIndices(base: Int) -> [Int] {
        let count = max(base, 0) * caseMultiplier
        if let onlyCase { return onlyCase < count ? [onlyCase] : [] }
        return Array(0..<count)
    }

    /// The shell command that reruns one case of a test: environment and `swift test`
    /// filter (`filter` is the suite or test name as `swift test --filter` takes it).
    public func rerunCommand(filter: String, caseIndex: Int? = nil) -> String {
        var parts = ["LOSS_SEED=\(TestEnvironment.hex(seed))"]
        if let caseIndex { parts.append("LOSS_CASE=\(caseIndex)") }
        if deep { parts.append("LOSS_DEEP=1") }
        parts.append("swift test --filter \(filter)")
        return parts.joined(separator: " ")
    }

    /// `0x...` lowercase hex, as `LOSS_SEED` accepts it.
    public static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// Decimal, or hexadecimal with a `0x`/`0X` prefix; underscores allowed as separators.
    public static func parseSeed(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
        if trimmed.lowercased().hasPrefix("0x") {
            return UInt64(trimmed.dropFirst(2), radix: 16)
        }
        return UInt64(trimmed)
    }
}

/// Errors of the golden-file layer, and the JSON paths they name.

/// Why a golden file was rejected: which file, where in it, and what was wrong.
///
/// Every rejection names the file and the JSON path of the fault, so a reader can go
/// straight to it:
///
///     golden/mse.json: cases[3].input.data: 12 values for shape [3, 5]; expected 15
///     golden/mse.json: cases[0].input.data[2]: unexpected character 'N'; NaN is not JSON, write the string "nan" (line 9, column 58, byte 311)
///
/// The path is empty (printed `(top level)`) for faults of the document as a whole.
/// Text that is not JSON also carries the position (line, column, byte offset) of the
/// first byte that could not be read.
public struct GoldenError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What stage rejected the file.
    public enum Kind: String, Sendable, CaseIterable {
        /// The file could not be read from disk.
        case unreadable
        /// The bytes are not JSON (RFC 8259), or nest deeper than the reader's limit.
        case syntax
        /// Valid JSON that does not follow the `loss-golden-v1` format.
        case format
    }

    /// A position in the file's bytes, for syntax errors.
    public struct Position: Equatable, Sendable, CustomStringConvertible {
        /// 1-based line (lines end at `\n`).
        public let line: Int
        /// 1-based column, counted in Unicode scalars (a multi-byte UTF-8 character
        /// counts once; bytes that are not valid UTF-8 count one each).
        public let column: Int
        /// 0-based byte offset from the start of the file.
        public let offset: Int

        public init(line: Int, column: Int, offset: Int) {
            self.line = line
            self.column = column
            self.offset = offset
        }

        public var description: String { "line \(line), column \(column), byte \(offset)" }
    }

    public let kind: Kind
    /// The file name as given to the reader (e.g. `golden/mse.json`).
    public let file: String
    /// The JSON path of the fault, e.g. `cases[3].input.data`; empty for the top level.
    public let path: String
    /// Where the bytes stopped being JSON; nil for `.format` and `.unreadable`.
    public let position: Position?
    /// What was wrong and what was expected.
    public let reason: String

    public init(_ kind: Kind, file: String, path: String, position: Position? = nil, reason: String) {
        self.kind = kind
        self.file = file
        self.path = path
        self.position = position
        self.reason = reason
    }

    /// `file: path: reason`, plus ` (line L, column C, byte B)` for syntax errors.
    public var description: String {
        let place = path.isEmpty ? "(top level)" : path
        let at = position.map { " (\($0))" } ?? ""
        return "\(file): \(place): \(reason)\(at)"
    }
}

/// A JSON path under construction: `cases[3].input.data`.
struct GoldenPath: CustomStringConvertible {
    enum Component {
        case key(String)
        case index(Int)
    }

    private(set) var components: [Component] = []

    init() {}

    func appending(_ key: String) -> GoldenPath {
        var copy = self
        copy.components.append(.key(key))
        return copy
    }

    func appending(_ index: Int) -> GoldenPath {
        var copy = self
        copy.components.append(.index(index))
        return copy
    }

    mutating func push(_ component: Component) { components.append(component) }
    mutating func pop() { _ = components.popLast() }
    /// Replaces the last component (used while walking an array's elements).
    mutating func replaceLast(with component: Component) {
        if !components.isEmpty { components[components.count - 1] = component }
    }

    /// Keys that look like identifiers print as `.key` (no dot at the start); any other
    /// key prints as `["key"]` with JSON escapes; indices print as `[3]`.
    var description: String {
        var text = ""
        for component in components {
            switch component {
            case .index(let i):
                text += "[\(i)]"
            case .key(let key):
                if GoldenPath.isIdentifier(key) {
                    text += text.isEmpty ? key : "." + key
                } else {
                    text += "[" + GoldenText.quoted(key) + "]"
                }
            }
        }
        return text
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return key.utf8.allSatisfy { b in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "_")
        }
    }
}

/// Text helpers shared by the writer and the messages.
enum GoldenText {
    /// A JSON string literal: `"` and `\` escaped, control characters as `\n`, `\t`,
    /// `\r`, `\b`, `\f` or `\u00XX`; every other character as itself (UTF-8).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16, uppercase: false)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A double as JSON: Swift's shortest round-trip decimal (`0.1`, `3.0`, `1e-05`,
    /// `5e-324`, `-0.0`, all valid JSON numbers), or the strings `"nan"`, `"inf"`, `"-inf"`.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "\"nan\"" }
        if value.isInfinite { return value < 0 ? "\"-inf\"" : "\"inf\"" }
        return value.description
    }
}

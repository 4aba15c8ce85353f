/// A JSON value as the golden reader sees it: objects keep their keys in file order and
/// numbers keep their source text, so that integers, non-integers and the exact decimal
/// written in the file are all still known after parsing.
public enum GoldenJSON: Sendable, Equatable {
    /// An object's members in the order of the file. Keys are unique (the parser rejects
    /// a duplicate key).
    case object([Member])
    /// An array's elements in order.
    case array([GoldenJSON])
    /// A string with its escapes decoded.
    case string(String)
    /// A number with its source text.
    case number(Number)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// One `"key": value` member of an object.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: GoldenJSON
        public init(key: String, value: GoldenJSON) {
            self.key = key
            self.value = value
        }
    }

    /// The deepest nesting of arrays and objects the parser accepts. A golden file
    /// nests 6 levels (file, cases, case, expected, tensor, data); 64 leaves room for
    /// extensions and keeps the recursive parser's stack small on any input.
    public static let maximumDepth = 64

    /// Parses one JSON text (RFC 8259, strict: no comments, no trailing commas, no
    /// `NaN`/`Infinity` literals, no leading zeros, no duplicate keys, valid UTF-8 only;
    /// a leading UTF-8 byte order mark is skipped). Never traps, on any bytes.
    ///
    /// - Parameter fileName: the name used in error messages.
    /// - Throws: `GoldenError` of kind `.syntax` with the position and JSON path of the
    ///   first byte that is not JSON.
    public static func parse(_ bytes: [UInt8], fileName: String = "<json>") throws(GoldenError) -> GoldenJSON {
        var parser = GoldenJSONParser(bytes: bytes, fileName: fileName)
        return try parser.parseDocument()
    }

    /// Parses the UTF-8 encoding of `text`.
    public static func parse(_ text: String, fileName: String = "<json>") throws(GoldenError) -> GoldenJSON {
        try parse(Array(text.utf8), fileName: fileName)
    }

    /// The member named `key` of an object; nil for a missing key or a non-object.
    public subscript(key: String) -> GoldenJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// `an object`, `an array`, `a string`, ... for messages.
    public var kindDescription: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    /// A JSON number, kept as written.
    public struct Number: Sendable, Equatable, CustomStringConvertible {
        /// The number exactly as written in the file, e.g. `-1.25e-3`.
        public let text: String

        /// A number from its JSON text; nil unless `text` follows JSON's number grammar
        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        public init?(_ text: String) {
            let bytes = Array(text.utf8)
            guard GoldenJSONParser.numberLength(bytes, from: 0) == bytes.count, !bytes.isEmpty else { return nil }
            self.text = text
        }

        /// For the parser, which has already matched the grammar.
        init(validated text: String) { self.text = text }

        public var description: String { text }

        /// The correctly rounded double (Swift's `Double(String)`): an overflowing
        /// literal like `1e400` gives an infinity, an underflowing one a subnormal or a
        /// signed zero. Nil only if the conversion fails, which JSON's grammar rules out.
        public var double: Double? { Double(text) }

        /// Whether the number's exact decimal value is an integer that fits `Int`.
        public enum IntegerValue: Sendable, Equatable {
            /// The exact value: `3`, `-0`, `3.0`, `3e2`, `300e-2` are all integers.
            case exact(Int)
            /// The exact decimal has a non-zero fraction (`3.5`, `1e-400`).
            case fractional
            /// An integer outside `Int.min...Int.max`.
            case outOfRange
        }

        /// The exact value of the decimal written, as an integer if it is one. Decided
        /// on the digits, never through a rounded double, so `9007199254740993` is
        /// exact and `1.0000000000000000001` is fractional.
        public var integerValue: IntegerValue {
            let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
            let bytes = Array(text.utf8)
            var i = 0
            var negative = false
            if i < bytes.count && bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            // The value is digits * 10^(exponent - fractionDigits).
            var digits: [UInt8] = []
            var fractionDigits = 0
            while i < bytes.count, (zero...nine).contains(bytes[i]) { digits.append(bytes[i] - zero); i += 1 }
            if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
                i += 1
                while i < bytes.count, (zero...nine).contains(bytes[i]) {
                    digits.append(bytes[i] - zero); fractionDigits += 1; i += 1
                }
            }
            var exponent = 0
            if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
                i += 1
                var exponentNegative = false
                if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) {
                    exponentNegative = bytes[i] == UInt8(ascii: "-"); i += 1
                }
                // Saturate: any exponent beyond a billion decides the answer alone.
                while i < bytes.count, (zero...nine).contains(bytes[i]) {
                    exponent = min(exponent * 10 + Int(bytes[i] - zero), 1_000_000_000)
                    i += 1
                }
                if exponentNegative { exponent = -exponent }
            }
            guard let firstNonZero = digits.firstIndex(where: { $0 != 0 }) else { return .exact(0) }
            digits.removeFirst(firstNonZero)
            var scale = exponent - fractionDigits
            while scale < 0, digits.last == 0 {
                digits.removeLast()
                scale += 1
            }
            if scale < 0 { return .fractional }
            // Int.max has 19 digits; anything longer is out of range.
            guard digits.count + scale <= 19 else { return .outOfRange }
            var magnitude: UInt64 = 0
            for d in digits + Array(repeating: 0, count: scale) {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(d))
                if o1 || o2 { return .outOfRange }
                magnitude = sum
            }
            if negative {
                if magnitude == UInt64(Int.max) + 1 { return .exact(Int.min) }
                return magnitude <= UInt64(Int.max) ? .exact(-Int(magnitude)) : .outOfRange
            }
            return magnitude <= UInt64(Int.max) ? .exact(Int(magnitude)) : .outOfRange
        }
    }
}

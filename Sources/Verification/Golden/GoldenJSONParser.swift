/// A strict recursive-descent JSON parser (RFC 8259) over UTF-8 bytes.
///
/// Goals, in order: never trap or read out of bounds on any input (it will be fuzzed);
/// reject everything that is not JSON with the byte position and JSON path of the fault;
/// keep what the golden format needs (member order, number text). Every index is checked
/// against `bytes.count` before it is read, nesting is limited to
/// `GoldenJSON.maximumDepth`, and no arithmetic can overflow (positions are bounded by
/// the input's length).
struct GoldenJSONParser {
    private let bytes: [UInt8]
    private let fileName: String
    private var index = 0
    /// The JSON path of the value being parsed, for messages.
    private var path = GoldenPath()

    init(bytes: [UInt8], fileName: String) {
        self.bytes = bytes
        self.fileName = fileName
    }

    // MARK: Document

    mutating func parseDocument() throws(GoldenError) -> GoldenJSON {
        // RFC 8259 section 8.1 lets a parser ignore a leading byte order mark.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { index = 3 }
        skipWhitespace()
        guard index < bytes.count else {
            throw fault("empty input; expected a JSON value", at: index)
        }
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else {
            throw fault("\(describeByte(at: index)) after the end of the JSON value; expected nothing more", at: index)
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue(depth: Int) throws(GoldenError) -> GoldenJSON {
        guard index < bytes.count else {
            throw fault("unexpected end of input; expected a value", at: index)
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        default:
            var hint = "expected a value"
            if startsWith("NaN") || startsWith("nan") {
                hint = "NaN is not JSON, write the string \"nan\""
            } else if startsWith("Infinity") || startsWith("inf") {
                hint = "Infinity is not JSON, write the string \"inf\""
            } else if bytes[index] == UInt8(ascii: "'") {
                hint = "JSON strings use double quotes"
            } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: ".") {
                hint = "a JSON number starts with '-' or a digit"
            }
            throw fault("unexpected \(describeByte(at: index)); \(hint)", at: index)
        }
    }

    private mutating func parseObject(depth: Int) throws(GoldenError) -> GoldenJSON {
        let open = index
        guard depth <= GoldenJSON.maximumDepth else {
            throw fault("nesting deeper than \(GoldenJSON.maximumDepth) levels", at: open)
        }
        index += 1  // '{'
        var members: [GoldenJSON.Member] = []
        var seen = Set<String>()
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else {
                throw fault("unexpected end of input inside the object that opens at byte \(open); expected a key", at: index)
            }
            guard bytes[index] == UInt8(ascii: "\"") else {
                let hint = bytes[index] == UInt8(ascii: "}") ? " (a trailing comma is not JSON)" : ""
                throw fault("unexpected \(describeByte(at: index)); expected a key in double quotes\(hint)", at: index)
            }
            let keyStart = index
            let key = try parseString()
            path.push(.key(key))
            guard seen.insert(key).inserted else {
                throw fault("duplicate key \(GoldenText.quoted(key)) in an object", at: keyStart)
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw fault(index < bytes.count ? "unexpected \(describeByte(at: index)); expected ':' after the key"
                                                : "unexpected end of input; expected ':' after the key", at: index)
            }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            path.pop()
            members.append(GoldenJSON.Member(key: key, value: value))
            skipWhitespace()
            guard index < bytes.count else {
                throw fault("unexpected end of input inside the object that opens at byte \(open); expected ',' or '}'", at: index)
            }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw fault("unexpected \(describeByte(at: index)) after an object member; expected ',' or '}'", at: index)
        }
    }

    private mutating func parseArray(depth: Int) throws(GoldenError) -> GoldenJSON {
        let open = index
        guard depth <= GoldenJSON.maximumDepth else {
            throw fault("nesting deeper than \(GoldenJSON.maximumDepth) levels", at: open)
        }
        index += 1  // '['
        var elements: [GoldenJSON] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        path.push(.index(0))
        while true {
            path.replaceLast(with: .index(elements.count))
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                throw fault("unexpected ']'; expected a value (a trailing comma is not JSON)", at: index)
            }
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else {
                throw fault("unexpected end of input inside the array that opens at byte \(open); expected ',' or ']'", at: index)
            }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                path.pop()
                return .array(elements)
            }
            throw fault("unexpected \(describeByte(at: index)) after an array element; expected ',' or ']'", at: index)
        }
    }

    private mutating func parseLiteral(_ word: StaticString) throws(GoldenError) {
        let start = index
        let count = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { expected in
            count <= bytes.count - index && (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else {
            throw fault("unexpected \(describeByte(at: start)); expected a value (did you mean '\(word)'?)", at: start)
        }
        index += count
    }

    // MARK: Strings

    /// A string literal; `index` is at the opening quote. Validates UTF-8 strictly
    /// (no overlong forms, no encoded surrogates, nothing above U+10FFFF) and every escape.
    private mutating func parseString() throws(GoldenError) -> String {
        let open = index
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw fault("unterminated string (it opens at byte \(open))", at: index)
            }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: out, as: UTF8.self)
            } else if b == UInt8(ascii: "\\") {
                try parseEscape(into: &out)
            } else if b < 0x20 {
                throw fault("control character U+\(hex4(UInt32(b))) inside a string; it must be written as an escape", at: index)
            } else if b < 0x80 {
                out.append(b)
                index += 1
            } else {
                let length = utf8SequenceLength(at: index)
                guard length > 0 else {
                    throw fault("invalid UTF-8 (byte 0x\(hex2(b))) inside a string", at: index)
                }
                out.append(contentsOf: bytes[index..<(index + length)])
                index += length
            }
        }
    }

    /// One escape sequence; `index` is at the backslash.
    private mutating func parseEscape(into out: inout [UInt8]) throws(GoldenError) {
        let start = index
        index += 1
        guard index < bytes.count else {
            throw fault("unterminated escape sequence", at: start)
        }
        let c = bytes[index]
        index += 1
        switch c {
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            let first = try parseHex4(escapeStart: start)
            var scalar = first
            if (0xD800...0xDBFF).contains(first) {
                // A high surrogate must be followed by an escaped low surrogate.
                let lowStart = index
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fault("\\u\(hex4(first)) is a high surrogate without the low surrogate escape that must follow it", at: start)
                }
                index += 2
                let second = try parseHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw fault("\\u\(hex4(first)) is a high surrogate followed by \\u\(hex4(second)), which is not a low surrogate", at: lowStart)
                }
                scalar = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(first) {
                throw fault("\\u\(hex4(first)) is a low surrogate without a high surrogate before it", at: start)
            }
            appendUTF8(scalar, to: &out)
        default:
            let shown = c >= 0x20 && c < 0x7F ? "'\\\(Character(Unicode.Scalar(c)))'" : "backslash followed by byte 0x\(hex2(c))"
            throw fault("invalid escape \(shown) in a string; JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", at: start)
        }
    }

    /// Four hex digits after `\u`.
    private mutating func parseHex4(escapeStart: Int) throws(GoldenError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count, let digit = hexValue(bytes[index]) else {
                throw fault("a \\u escape needs four hex digits", at: escapeStart)
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// The length (2 to 4) of the valid UTF-8 sequence starting at `i` with a byte >= 0x80,
    /// or 0 if it is not one (Unicode's table of well-formed byte sequences).
    private func utf8SequenceLength(at i: Int) -> Int {
        let lead = bytes[i]
        func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            i + k < bytes.count && range.contains(bytes[i + k])
        }
        switch lead {
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    private func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18 & 0x07))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(GoldenError) -> GoldenJSON.Number {
        let start = index
        let length = GoldenJSONParser.numberLength(bytes, from: start)
        guard length > 0 else {
            throw fault(GoldenJSONParser.numberFault(bytes, from: start), at: start)
        }
        index = start + length
        // A valid number directly followed by a digit is a leading zero (`01`).
        if index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            throw fault("a number with a leading zero is not JSON", at: start)
        }
        return GoldenJSON.Number(validated: String(decoding: bytes[start..<index], as: UTF8.self))
    }

    /// The length of the longest JSON number starting at `start`, or 0 if none does.
    /// The number may be followed by anything; the caller decides what may come next.
    static func numberLength(_ bytes: [UInt8], from start: Int) -> Int {
        func isDigit(_ i: Int) -> Bool { i < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) }
        var i = start
        if i < bytes.count && bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { return 0 }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
            guard isDigit(i + 1) else { return 0 }
            i += 1
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            var j = i + 1
            if j < bytes.count && (bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-")) { j += 1 }
            guard isDigit(j) else { return 0 }
            while isDigit(j) { j += 1 }
            i = j
        }
        return i - start
    }

    /// Why no number starts at `start` (which holds '-' or a digit).
    private static func numberFault(_ bytes: [UInt8], from start: Int) -> String {
        var i = start
        if i < bytes.count && bytes[i] == UInt8(ascii: "-") { i += 1 }
        if i >= bytes.count || !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) {
            if i < bytes.count && (bytes[i] == UInt8(ascii: "I") || bytes[i] == UInt8(ascii: "i")) {
                return "-Infinity is not JSON, write the string \"-inf\""
            }
            return "'-' must be followed by a digit"
        }
        return "a number needs digits after its decimal point and in its exponent"
    }

    // MARK: Helpers

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func startsWith(_ word: String) -> Bool {
        let w = Array(word.utf8)
        return w.count <= bytes.count - index && bytes[index..<(index + w.count)].elementsEqual(w)
    }

    private func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private func hex2(_ b: UInt8) -> String {
        let h = String(b, radix: 16, uppercase: true)
        return h.count < 2 ? "0" + h : h
    }

    private func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }

    /// `'x'` for a printable ASCII byte, `byte 0xC3` for anything else, `end of input`.
    private func describeByte(at i: Int) -> String {
        guard i < bytes.count else { return "end of input" }
        let b = bytes[i]
        if b > 0x20 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x\(hex2(b))"
    }

    private func fault(_ reason: String, at offset: Int) -> GoldenError {
        GoldenError(.syntax, file: fileName, path: path.description,
                    position: GoldenJSONParser.position(of: offset, in: bytes), reason: reason)
    }

    /// Line and column of a byte offset (columns count UTF-8 lead bytes, so a character
    /// counts once; computed only when an error is reported).
    static func position(of offset: Int, in bytes: [UInt8]) -> GoldenError.Position {
        let end = min(max(offset, 0), bytes.count)
        var line = 1, column = 1
        for b in bytes[0..<end] {
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        return GoldenError.Position(line: line, column: column, offset: offset)
    }
}

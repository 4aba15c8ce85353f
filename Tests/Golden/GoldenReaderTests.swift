import Foundation
import Losses
import LossVerification
import Testing

/// Builds golden-file text for the reader tests: a valid file unless a test swaps in a
/// fault. Fragments are raw JSON so each test states exactly the bytes it feeds in.
enum GoldenSample {
    static func tensor(_ data: String, shape: String, dtype: String = "float") -> String {
        "{ \"dtype\": \"\(dtype)\", \"shape\": \(shape), \"data\": [\(data)] }"
    }

    static let input = tensor("0.5, -1.25, 3, 4", shape: "[2, 2]")
    static let target = tensor("1, 2, 0.25, -8", shape: "[2, 2]")
    static let output = tensor("1.5", shape: "[]")

    /// One case; `extra` members are added after `target` (e.g. `"upstream": ...`).
    static func caseText(name: String = "a", options: String? = nil, input: String? = GoldenSample.input,
                         target: String? = GoldenSample.target, extra: [String] = [],
                         expected: String? = "{ \"output\": \(GoldenSample.output) }") -> String {
        var members = ["\"name\": \"\(name)\""]
        if let options { members.append("\"options\": \(options)") }
        if let input { members.append("\"input\": \(input)") }
        if let target { members.append("\"target\": \(target)") }
        members += extra
        if let expected { members.append("\"expected\": \(expected)") }
        return "{ " + members.joined(separator: ", ") + " }"
    }

    static func file(loss: String = "mse", format: String = "\"loss-golden-v1\"", cases: [String] = [caseText()]) -> String {
        """
        {
          "format": \(format),
          "loss": "\(loss)",
          "source": "hand-written test data",
          "cases": [
            \(cases.joined(separator: ",\n    "))
          ]
        }
        """
    }

    /// The error the reader throws for `text`, or nil if it accepts it.
    static func rejection(_ text: String, fileName: String = "golden/mse.json") -> GoldenError? {
        rejection(Array(text.utf8), fileName: fileName)
    }

    static func rejection(_ bytes: [UInt8], fileName: String = "golden/mse.json") -> GoldenError? {
        do {
            _ = try GoldenFile.parse(bytes, fileName: fileName)
            return nil
        } catch {
            return error
        }
    }

    static func parse(_ text: String, fileName: String = "golden/test.json") throws -> GoldenFile {
        try GoldenFile.parse(text, fileName: fileName)
    }
}

/// One rejection: the text, and the JSON path and message fragment it must produce.
struct GoldenRejection: CustomTestStringConvertible, Sendable {
    let label: String
    let text: String
    let path: String
    let fragment: String
    var kind: GoldenError.Kind = .format
    var testDescription: String { label }
}

@Suite("Golden reader: rejections name the file and the JSON path")
struct GoldenReaderRejectionTests {
    static let rejections: [GoldenRejection] = {
        let s = GoldenSample.self
        let gaussianCase = s.caseText(extra: ["\"var\": \(s.tensor("1, 1, 1, 1", shape: "[2, 2]"))"])
        let classTarget = s.tensor("0, 2", shape: "[2]", dtype: "int")
        let ceInput = s.tensor("1, 2, 3, 4, 5, 6", shape: "[2, 3]")
        return [
            // The document as a whole.
            GoldenRejection(label: "unknown format", text: s.file(format: "\"loss-golden-v2\""), path: "format",
                      fragment: "unknown format \"loss-golden-v2\""),
            GoldenRejection(label: "format of the wrong type", text: s.file(format: "1"), path: "format",
                      fragment: "expected a string, found the number 1"),
            GoldenRejection(label: "unknown loss", text: s.file(loss: "mse2"), path: "loss", fragment: "unknown loss \"mse2\""),
            GoldenRejection(label: "top level is an array", text: "[]", path: "", fragment: "expected an object"),
            GoldenRejection(label: "missing format", text: "{ \"loss\": \"mse\", \"source\": \"\", \"cases\": [] }", path: "format",
                      fragment: "required key \"format\" is missing"),
            GoldenRejection(label: "missing source",
                      text: "{ \"format\": \"loss-golden-v1\", \"loss\": \"mse\", \"cases\": [\(s.caseText())] }",
                      path: "source", fragment: "required key \"source\" is missing"),
            GoldenRejection(label: "missing cases", text: "{ \"format\": \"loss-golden-v1\", \"loss\": \"mse\", \"source\": \"\" }",
                      path: "cases", fragment: "required key \"cases\" is missing"),
            GoldenRejection(label: "cases is an object",
                      text: "{ \"format\": \"loss-golden-v1\", \"loss\": \"mse\", \"source\": \"\", \"cases\": {} }",
                      path: "cases", fragment: "expected an array, found an object"),
            GoldenRejection(label: "no cases", text: s.file(cases: []), path: "cases", fragment: "no cases"),
            GoldenRejection(label: "a case is a string", text: s.file(cases: [s.caseText(), "\"b\""]), path: "cases[1]",
                      fragment: "expected a case object, found the string \"b\""),

            // Case keys.
            GoldenRejection(label: "missing name",
                      text: s.file(cases: ["{ \"input\": \(s.input), \"target\": \(s.target), \"expected\": { \"output\": \(s.output) } }"]),
                      path: "cases[0].name", fragment: "required key \"name\" is missing"),
            GoldenRejection(label: "name of the wrong type", text: s.file(cases: [s.caseText().replacingOccurrences(of: "\"name\": \"a\"", with: "\"name\": 5")]),
                      path: "cases[0].name", fragment: "expected a string, found the number 5"),
            GoldenRejection(label: "empty name", text: s.file(cases: [s.caseText(name: "")]), path: "cases[0].name", fragment: "empty case name"),
            GoldenRejection(label: "duplicate case names", text: s.file(cases: [s.caseText(name: "x"), s.caseText(name: "y"), s.caseText(name: "x")]),
                      path: "cases[2].name", fragment: "duplicate case name \"x\" (also cases[0])"),
            GoldenRejection(label: "missing input", text: s.file(cases: [s.caseText(input: nil)]), path: "cases[0].input",
                      fragment: "required key \"input\" is missing"),
            GoldenRejection(label: "missing target", text: s.file(cases: [s.caseText(target: nil)]), path: "cases[0].target",
                      fragment: "required key \"target\" is missing"),
            GoldenRejection(label: "input is an array", text: s.file(cases: [s.caseText(input: "[1, 2]")]), path: "cases[0].input",
                      fragment: "expected a tensor object"),
            GoldenRejection(label: "neither expected nor expected_error", text: s.file(cases: [s.caseText(expected: nil)]),
                      path: "cases[0]", fragment: "found neither"),
            GoldenRejection(label: "both expected and expected_error", text: s.file(cases: [s.caseText(extra: ["\"expected_error\": \"shape\""])]),
                      path: "cases[0].expected_error", fragment: "not both"),
            GoldenRejection(label: "unknown error kind", text: s.file(cases: [s.caseText(expected: nil).replacingOccurrences(of: " }", with: ", \"expected_error\": \"value\" }")]),
                      path: "cases[0].expected_error", fragment: "unknown error kind \"value\""),
            GoldenRejection(label: "error kind of the wrong type", text: s.file(cases: [s.caseText(extra: ["\"expected_error\": 3"], expected: nil)]),
                      path: "cases[0].expected_error", fragment: "expected a string, found the number 3"),
            GoldenRejection(label: "missing expected output", text: s.file(cases: [s.caseText(expected: "{ \"grad_input\": \(s.input) }")]),
                      path: "cases[0].expected.output", fragment: "required key \"output\" is missing"),
            GoldenRejection(label: "expected output of dtype int", text: s.file(cases: [s.caseText(expected: "{ \"output\": \(s.tensor("1", shape: "[]", dtype: "int")) }")]),
                      path: "cases[0].expected.output.dtype", fragment: "expected a float tensor"),
            GoldenRejection(label: "null upstream", text: s.file(cases: [s.caseText(extra: ["\"upstream\": null"])]), path: "cases[0].upstream",
                      fragment: "found null"),
            GoldenRejection(label: "var for mse", text: s.file(cases: [gaussianCase]), path: "cases[0].var", fragment: "var is only for gaussian_nll"),
            GoldenRejection(label: "gaussian_nll without var", text: s.file(loss: "gaussian_nll", cases: [s.caseText()]), path: "cases[0].var",
                      fragment: "required key \"var\" is missing"),
            GoldenRejection(label: "int target for mse", text: s.file(cases: [s.caseText(target: classTarget)]), path: "cases[0].target.dtype",
                      fragment: "only for cross_entropy and nll"),
            GoldenRejection(label: "grad_target with class indices",
                      text: s.file(loss: "cross_entropy", cases: [s.caseText(input: ceInput, target: classTarget,
                                                                              expected: "{ \"output\": \(s.output), \"grad_target\": \(s.tensor("0, 0", shape: "[2]")) }")]),
                      path: "cases[0].expected.grad_target", fragment: "class-index target has no gradient"),

            // Options.
            GoldenRejection(label: "unknown option", text: s.file(cases: [s.caseText(options: "{ \"reduction\": \"sum\", \"delta\": 2 }")]),
                      path: "cases[0].options.delta", fragment: "unknown option \"delta\" for mse; mse takes: reduction"),
            GoldenRejection(label: "PyTorch's deprecated size_average", text: s.file(loss: "huber", cases: [s.caseText(options: "{ \"size_average\": true }")]),
                      path: "cases[0].options.size_average", fragment: "unknown option \"size_average\" for huber"),
            GoldenRejection(label: "pos_weight for bce", text: s.file(loss: "bce", cases: [s.caseText(options: "{ \"pos_weight\": \(s.tensor("1", shape: "[1]")) }")]),
                      path: "cases[0].options.pos_weight", fragment: "unknown option"),
            GoldenRejection(label: "options is an array", text: s.file(cases: [s.caseText(options: "[]")]), path: "cases[0].options",
                      fragment: "expected an object of options"),
            GoldenRejection(label: "reduction of the wrong type", text: s.file(cases: [s.caseText(options: "{ \"reduction\": 1 }")]),
                      path: "cases[0].options.reduction", fragment: "expected a string"),
            GoldenRejection(label: "delta as a word", text: s.file(loss: "huber", cases: [s.caseText(options: "{ \"delta\": \"big\" }")]),
                      path: "cases[0].options.delta", fragment: "unknown string \"big\""),
            GoldenRejection(label: "log_target as a string", text: s.file(loss: "kl_div", cases: [s.caseText(options: "{ \"log_target\": \"true\" }")]),
                      path: "cases[0].options.log_target", fragment: "expected true or false"),
            GoldenRejection(label: "ignore_index not an integer", text: s.file(loss: "nll", cases: [s.caseText(options: "{ \"ignore_index\": 0.5 }")]),
                      path: "cases[0].options.ignore_index", fragment: "0.5 is not an integer"),
            GoldenRejection(label: "ignore_index as a string", text: s.file(loss: "nll", cases: [s.caseText(options: "{ \"ignore_index\": \"0\" }")]),
                      path: "cases[0].options.ignore_index", fragment: "expected an integer"),
            GoldenRejection(label: "weight as a number", text: s.file(loss: "bce", cases: [s.caseText(options: "{ \"weight\": 2 }")]),
                      path: "cases[0].options.weight", fragment: "expected a tensor object"),
            GoldenRejection(label: "weight of dtype int", text: s.file(loss: "bce", cases: [s.caseText(options: "{ \"weight\": \(s.tensor("1, 2", shape: "[2]", dtype: "int")) }")]),
                      path: "cases[0].options.weight.dtype", fragment: "expected a float tensor"),
            GoldenRejection(label: "null weight", text: s.file(loss: "bce", cases: [s.caseText(options: "{ \"weight\": null }")]),
                      path: "cases[0].options.weight", fragment: "found null"),
            GoldenRejection(label: "weight not a 32-bit float", text: s.file(loss: "bce", cases: [s.caseText(options: "{ \"weight\": \(s.tensor("1, 0.1", shape: "[2]")) }")]),
                      path: "cases[0].options.weight.data[1]", fragment: "not exactly a 32-bit float"),

            // Tensors.
            GoldenRejection(label: "data count differs from the shape", text: s.file(cases: [s.caseText(input: s.tensor("1, 2, 3", shape: "[2, 2]"))]),
                      path: "cases[0].input.data", fragment: "3 values for shape [2, 2]; expected 4"),
            GoldenRejection(label: "scalar with two values", text: s.file(cases: [s.caseText(expected: "{ \"output\": \(s.tensor("1, 2", shape: "[]")) }")]),
                      path: "cases[0].expected.output.data", fragment: "2 values for shape []; expected 1"),
            GoldenRejection(label: "negative dimension", text: s.file(cases: [s.caseText(input: s.tensor("", shape: "[2, -2]"))]),
                      path: "cases[0].input.shape[1]", fragment: "negative dimension -2"),
            GoldenRejection(label: "fractional dimension", text: s.file(cases: [s.caseText(input: s.tensor("1, 2", shape: "[2.5]"))]),
                      path: "cases[0].input.shape[0]", fragment: "2.5 is not an integer"),
            GoldenRejection(label: "dimension as a string", text: s.file(cases: [s.caseText(input: s.tensor("1, 2", shape: "[\"2\"]"))]),
                      path: "cases[0].input.shape[0]", fragment: "expected a non-negative integer"),
            GoldenRejection(label: "shape is a number", text: s.file(cases: [s.caseText(input: s.tensor("1, 2", shape: "2"))]),
                      path: "cases[0].input.shape", fragment: "expected an array, found the number 2"),
            GoldenRejection(label: "shape whose element count overflows", text: s.file(cases: [s.caseText(input: s.tensor("1", shape: "[4294967296, 4294967296]"))]),
                      path: "cases[0].input.shape", fragment: "overflows"),
            GoldenRejection(label: "missing dtype", text: s.file(cases: [s.caseText(input: "{ \"shape\": [1], \"data\": [1] }")]),
                      path: "cases[0].input.dtype", fragment: "required key \"dtype\" is missing"),
            GoldenRejection(label: "missing shape", text: s.file(cases: [s.caseText(input: "{ \"dtype\": \"float\", \"data\": [1] }")]),
                      path: "cases[0].input.shape", fragment: "required key \"shape\" is missing"),
            GoldenRejection(label: "missing data", text: s.file(cases: [s.caseText(input: "{ \"dtype\": \"float\", \"shape\": [1] }")]),
                      path: "cases[0].input.data", fragment: "required key \"data\" is missing"),
            GoldenRejection(label: "unknown dtype", text: s.file(cases: [s.caseText(input: s.tensor("1", shape: "[1]", dtype: "float64"))]),
                      path: "cases[0].input.dtype", fragment: "unknown dtype \"float64\""),
            GoldenRejection(label: "non-integer in an int tensor",
                      text: s.file(loss: "cross_entropy", cases: [s.caseText(input: ceInput, target: s.tensor("0, 3.5", shape: "[2]", dtype: "int"))]),
                      path: "cases[0].target.data[1]", fragment: "3.5 is not an integer"),
            GoldenRejection(label: "\"nan\" in an int tensor",
                      text: s.file(loss: "nll", cases: [s.caseText(input: ceInput, target: s.tensor("\"nan\", 1", shape: "[2]", dtype: "int"))]),
                      path: "cases[0].target.data[0]", fragment: "expected an integer, found the string \"nan\""),
            GoldenRejection(label: "int beyond 64 bits",
                      text: s.file(loss: "nll", cases: [s.caseText(input: ceInput, target: s.tensor("0, 9223372036854775808", shape: "[2]", dtype: "int"))]),
                      path: "cases[0].target.data[1]", fragment: "out of the range of a 64-bit integer"),
            GoldenRejection(label: "boolean in float data", text: s.file(cases: [s.caseText(input: s.tensor("1, true", shape: "[2]"))]),
                      path: "cases[0].input.data[1]", fragment: "found a boolean"),
            GoldenRejection(label: "NaN spelled differently", text: s.file(cases: [s.caseText(input: s.tensor("1, \"NaN\"", shape: "[2]"))]),
                      path: "cases[0].input.data[1]", fragment: "unknown string \"NaN\""),
            GoldenRejection(label: "nested data lists", text: s.file(cases: [s.caseText(input: s.tensor("[1, 2], [3, 4], [5, 6], [7, 8]", shape: "[2, 2]"))]),
                      path: "cases[0].input.data[0]", fragment: "found an array"),
            GoldenRejection(label: "number that overflows a double", text: s.file(cases: [s.caseText(input: s.tensor("1e400", shape: "[1]"))]),
                      path: "cases[0].input.data[0]", fragment: "1e400 overflows a double"),
            GoldenRejection(label: "argument not a 32-bit float", text: s.file(cases: [s.caseText(input: s.tensor("0.5, -1.25, 0.1, 4", shape: "[2, 2]"))]),
                      path: "cases[0].input.data[2]", fragment: "0.1 is not exactly a 32-bit float"),
            GoldenRejection(label: "target below Float's subnormals", text: s.file(cases: [s.caseText(target: s.tensor("1, 2, 1e-50, 3", shape: "[2, 2]"))]),
                      path: "cases[0].target.data[2]", fragment: "not exactly a 32-bit float"),
            GoldenRejection(label: "upstream beyond Float's range", text: s.file(loss: "mse", cases: [s.caseText(options: "{ \"reduction\": \"none\" }", extra: ["\"upstream\": \(s.tensor("1, 1, 1e39, 1", shape: "[2, 2]"))"])]),
                      path: "cases[0].upstream.data[2]", fragment: "not exactly a 32-bit float"),
            GoldenRejection(label: "var not a 32-bit float", text: s.file(loss: "gaussian_nll", cases: [s.caseText(extra: ["\"var\": \(s.tensor("1, 1, 1, 0.3", shape: "[2, 2]"))"])]),
                      path: "cases[0].var.data[3]", fragment: "not exactly a 32-bit float"),

            // Tolerance.
            GoldenRejection(label: "negative rtol", text: s.file(cases: [s.caseText(extra: ["\"tolerance\": { \"fast\": { \"rtol\": -1e-5 } }"])]),
                      path: "cases[0].tolerance.fast.rtol", fragment: "expected a finite number >= 0"),
            GoldenRejection(label: "rtol as a string", text: s.file(cases: [s.caseText(extra: ["\"tolerance\": { \"reference\": { \"atol\": \"inf\" } }"])]),
                      path: "cases[0].tolerance.reference.atol", fragment: "found the string \"inf\""),
            GoldenRejection(label: "tolerance is a number", text: s.file(cases: [s.caseText(extra: ["\"tolerance\": 1e-5"])]),
                      path: "cases[0].tolerance", fragment: "expected an object"),

            // JSON-level faults in a golden file carry the path of the value being read.
            GoldenRejection(label: "duplicate key", text: s.file(cases: [s.caseText(extra: ["\"name\": \"b\""])]), path: "cases[0].name",
                      fragment: "duplicate key \"name\"", kind: .syntax),
            GoldenRejection(label: "NaN literal in data", text: s.file(cases: [s.caseText(input: s.tensor("1, NaN", shape: "[2]"))]),
                      path: "cases[0].input.data[1]", fragment: "NaN is not JSON, write the string \"nan\"", kind: .syntax),
            GoldenRejection(label: "trailing comma in data", text: s.file(cases: [s.caseText(input: s.tensor("1, 2,", shape: "[2]"))]),
                      path: "cases[0].input.data[2]", fragment: "trailing comma", kind: .syntax),
        ]
    }()

    @Test(arguments: rejections)
    func rejected(_ r: GoldenRejection) throws {
        let error = try #require(GoldenSample.rejection(r.text), "\(r.label): the reader accepted\n\(r.text)")
        #expect(error.kind == r.kind, "\(r.label): kind \(error.kind), expected \(r.kind): \(error)")
        #expect(error.file == "golden/mse.json", "\(r.label): \(error)")
        #expect(error.path == r.path, "\(r.label): path \"\(error.path)\", expected \"\(r.path)\": \(error)")
        #expect(error.reason.contains(r.fragment), "\(r.label): message lacks \"\(r.fragment)\": \(error)")
        let place = r.path.isEmpty ? "(top level)" : r.path
        #expect(error.description.hasPrefix("golden/mse.json: \(place): "), "\(r.label): \(error)")
    }

    @Test func messageReadsAsTheFormatShowsIt() throws {
        // The format's own example: the fourth case's input has 12 values for shape [3, 5].
        let twelve = (1...12).map(String.init).joined(separator: ", ")
        let bad = GoldenSample.caseText(name: "d", input: GoldenSample.tensor(twelve, shape: "[3, 5]"))
        let text = GoldenSample.file(cases: [GoldenSample.caseText(name: "a"), GoldenSample.caseText(name: "b"), GoldenSample.caseText(name: "c"), bad])
        let error = try #require(GoldenSample.rejection(text))
        #expect(error.description == "golden/mse.json: cases[3].input.data: 12 values for shape [3, 5]; expected 15")
    }

    @Test func syntaxErrorsGiveLineColumnAndByte() throws {
        // Line 3 is `  "loss": mse,`: the bad byte `m` is at column 11; the offset counts
        // the 2 bytes of line 1 (`{` and newline) and the 30 of line 2 (29 + newline), plus 10.
        let text = "{\n  \"format\": \"loss-golden-v1\",\n  \"loss\": mse,\n}"
        let error = try #require(GoldenSample.rejection(text))
        #expect(error.kind == .syntax)
        #expect(error.path == "loss")
        #expect(error.position == GoldenError.Position(line: 3, column: 11, offset: 42), "\(error)")
        #expect(error.description.hasSuffix("(line 3, column 11, byte 42)"), "\(error)")
    }

    @Test func columnsCountCharactersNotBytes() throws {
        // "é" is two bytes but one column: the stray `x` is the 7th character of the line.
        let error = try #require(GoldenSample.rejection("{\"é\": x}"))
        #expect(error.position?.column == 7, "\(error)")
        #expect(error.position?.offset == 7, "\(error)")
    }

    @Test func unreadableFileNamesThePath() {
        let path = "/nonexistent-directory/golden/mse.json"
        do {
            _ = try GoldenFile.read(contentsOf: path)
            Issue.record("read a file that does not exist")
        } catch {
            #expect(error.kind == .unreadable)
            #expect(error.file == path)
            #expect(error.description.hasPrefix("\(path): (top level): cannot read the file"), "\(error)")
        }
    }
}

@Suite("Golden reader: malformed JSON is rejected, never crashes")
struct GoldenJSONMalformedTests {
    /// Texts that are not JSON, each with the byte offset where the parser must stop.
    static let malformed: [(label: String, bytes: [UInt8], offset: Int)] = {
        func t(_ label: String, _ text: String, _ offset: Int) -> (String, [UInt8], Int) { (label, Array(text.utf8), offset) }
        return [
            t("empty input", "", 0),
            t("only whitespace", " \n\t ", 4),
            t("truncated object", "{\"a\": 1", 7),
            t("truncated string", "{\"a\": \"xy", 9),
            t("truncated literal", "[tru", 1),
            t("truncated escape", "[\"\\", 2),
            t("truncated unicode escape", "[\"\\u12\"]", 2),
            t("trailing garbage", "{} x", 3),
            t("two documents", "{} {}", 3),
            t("trailing comma in object", "{\"a\": 1,}", 8),
            t("trailing comma in array", "[1,]", 3),
            t("missing colon", "{\"a\" 1}", 5),
            t("missing comma", "[1 2]", 3),
            t("unquoted key", "{a: 1}", 1),
            t("single quotes", "['a']", 1),
            t("comment", "[1] // note", 4),
            t("bad escape \\q", "[\"a\\qb\"]", 3),
            t("bad escape \\x", "[\"\\x41\"]", 2),
            t("bad hex in \\u", "[\"\\u12G4\"]", 2),
            t("lone high surrogate", "[\"\\ud800\"]", 2),
            t("high surrogate then a letter", "[\"\\ud800a\"]", 2),
            t("high surrogate then a non-low escape", "[\"\\ud800\\u0041\"]", 8),
            t("lone low surrogate", "[\"\\udc00\"]", 2),
            t("raw newline in a string", "[\"a\nb\"]", 3),
            t("raw tab in a string", "[\"a\tb\"]", 3),
            t("NaN literal", "[NaN]", 1),
            t("Infinity literal", "[Infinity]", 1),
            t("-Infinity literal", "[-Infinity]", 1),
            t("nan literal", "[nan]", 1),
            t("leading zero", "[01]", 1),
            t("negative leading zero", "[-01]", 1),
            t("plus sign", "[+1]", 1),
            t("leading decimal point", "[.5]", 1),
            t("trailing decimal point", "[1.]", 1),
            t("empty exponent", "[1e]", 1),
            t("signed empty exponent", "[1e+]", 1),
            t("lone minus", "[-]", 1),
            t("hex number", "[0x10]", 2),
            t("capitalized literal", "[True]", 1),
            t("null with garbage", "[nullx]", 5),
            t("unclosed array", "[1, 2", 5),
            t("unbalanced bracket", "[1}", 2),
        ]
    }()

    @Test func malformedTextIsRejectedAtTheRightByte() {
        for m in Self.malformed {
            do {
                let value = try GoldenJSON.parse(m.bytes, fileName: "m.json")
                Issue.record("\(m.label): accepted as \(value)")
            } catch {
                #expect(error.kind == .syntax, "\(m.label): \(error)")
                #expect(error.position?.offset == m.offset, "\(m.label): stopped at \(String(describing: error.position)), expected byte \(m.offset): \(error)")
                #expect(error.description.hasPrefix("m.json: "), "\(m.label): \(error)")
            }
            // The golden reader reports the same fault.
            #expect(GoldenSample.rejection(m.bytes)?.kind == .syntax, "\(m.label)")
        }
    }

    /// Byte sequences that are not UTF-8 (Unicode's table of well-formed sequences), each
    /// inside a string and outside one.
    static let notUTF8: [(label: String, bytes: [UInt8])] = [
        ("lone continuation byte", [0x80]),
        ("0xFF", [0xFF]),
        ("0xFE", [0xFE]),
        ("overlong '/'", [0xC0, 0xAF]),
        ("overlong 2-byte lead 0xC1", [0xC1, 0xBF]),
        ("overlong 3-byte form", [0xE0, 0x80, 0xAF]),
        ("overlong 4-byte form", [0xF0, 0x80, 0x80, 0xAF]),
        ("encoded surrogate U+D800", [0xED, 0xA0, 0x80]),
        ("beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
        ("lead 0xF5", [0xF5, 0x80, 0x80, 0x80]),
        ("truncated 3-byte sequence", [0xE2, 0x82]),
        ("truncated 4-byte sequence", [0xF0, 0x9F, 0x98]),
        ("lead byte followed by ASCII", [0xC3, 0x41]),
    ]

    @Test func invalidUTF8IsRejected() {
        for m in Self.notUTF8 {
            let inString = Array("[\"a".utf8) + m.bytes + Array("\"]".utf8)
            let bare = Array("[".utf8) + m.bytes + Array("]".utf8)
            for (place, bytes) in [("in a string", inString), ("outside a string", bare)] {
                do {
                    let value = try GoldenJSON.parse(bytes)
                    Issue.record("\(m.label) \(place): accepted as \(value)")
                } catch {
                    #expect(error.kind == .syntax, "\(m.label) \(place): \(error)")
                    let expectedOffset = place == "in a string" ? 3 : 1
                    #expect(error.position?.offset == expectedOffset, "\(m.label) \(place): \(error)")
                }
            }
        }
    }

    @Test func nestingIsLimited() throws {
        let limit = GoldenJSON.maximumDepth
        let atLimit = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(throws: Never.self) { try GoldenJSON.parse(atLimit) }
        let beyond = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        do {
            _ = try GoldenJSON.parse(beyond)
            Issue.record("accepted \(limit + 1) levels of nesting")
        } catch {
            #expect(error.reason.contains("nesting deeper than \(limit)"), "\(error)")
            // The innermost '[' is the one that goes too deep.
            #expect(error.position?.offset == limit, "\(error)")
        }
        // A hundred thousand levels would overflow a naive recursive parser's stack.
        let abyss = String(repeating: "{\"a\":[", count: 100_000)
        #expect(GoldenSample.rejection(abyss)?.kind == .syntax)
    }

    @Test func everyPrefixOfAValidFileIsRejected() throws {
        let bytes = Array(GoldenSample.file(cases: [GoldenSample.caseText(extra: ["\"upstream\": \(GoldenSample.output)"])]).utf8)
        _ = try GoldenFile.parse(bytes, fileName: "whole.json")
        // A proper prefix lacks at least the closing brace, so it is never JSON.
        for length in 0..<bytes.count {
            let error = GoldenSample.rejection(Array(bytes[0..<length]))
            #expect(error?.kind == .syntax, "prefix of \(length) bytes: \(String(describing: error))")
        }
    }

    @Test func randomMutationsNeverCrash() throws {
        // A small in-process fuzz: flip, insert and delete bytes of a valid file with a
        // seeded generator. Each result is either rejected with a message naming the file,
        // or accepted and then rewritten to a file that reads back the same.
        let seed: UInt64 = 0x5EED_6017_DE4F_11E5
        var rng = GoldenTestRandom(seed: seed)
        let base = Array(GoldenSample.file(loss: "cross_entropy", cases: [
            GoldenSample.caseText(options: "{ \"ignore_index\": 1, \"label_smoothing\": 0.25, \"weight\": \(GoldenSample.tensor("1, 2, 0.5", shape: "[3]")) }",
                            input: GoldenSample.tensor("1, 2, 3, 4, \"nan\", \"-inf\"", shape: "[2, 3]"),
                            target: GoldenSample.tensor("0, 2", shape: "[2]", dtype: "int"),
                            extra: ["\"tolerance\": { \"fast\": { \"rtol\": 1e-4 } }"]),
        ]).utf8)
        let interesting: [UInt8] = Array("{}[]\",:\\-+.0123456789eEnatfu \n".utf8) + [0x00, 0x80, 0xC3, 0xED, 0xFF]
        var accepted = 0
        for iteration in 0..<3000 {
            var bytes = base
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let position = Int(rng.next() % UInt64(bytes.count + 1))
                let byte = interesting[Int(rng.next() % UInt64(interesting.count))]
                switch rng.next() % 3 {
                case 0 where position < bytes.count: bytes[position] = byte
                case 1: bytes.insert(byte, at: position)
                default: if position < bytes.count { bytes.remove(at: position) }
                }
            }
            do {
                let file = try GoldenFile.parse(bytes, fileName: "fuzz.json")
                accepted += 1
                let again = try GoldenFile.parse(file.serialized(), fileName: "fuzz.json")
                #expect(again == file, "seed \(seed), iteration \(iteration): accepted mutation does not round-trip")
            } catch {
                #expect(error.description.hasPrefix("fuzz.json: "), "seed \(seed), iteration \(iteration): \(error)")
                #expect(!error.reason.isEmpty)
            }
        }
        // Some mutations are harmless (a space, a digit in a name): the reader is not
        // rejecting everything.
        #expect(accepted > 0, "seed \(seed): no mutation was accepted")
    }
}

/// A small seeded generator (GoldenTestRandom) so that runs are reproducible.
struct GoldenTestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Golden reader: valid JSON")
struct GoldenJSONValidTests {
    @Test func valuesKeepOrderAndText() throws {
        let value = try GoldenJSON.parse(" {\"z\": 1.50e+3, \"a\": [true, false, null], \"m\": \"x\"} ")
        guard case .object(let members) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m"])
        #expect(value["z"] == .number(try #require(GoldenJSON.Number("1.50e+3"))))
        if case .number(let n)? = value["z"] {
            #expect(n.text == "1.50e+3")
            #expect(n.double == 1500)
        }
        #expect(value["a"] == .array([.bool(true), .bool(false), .null]))
        #expect(value["m"] == .string("x"))
    }

    @Test func escapesDecode() throws {
        let value = try GoldenJSON.parse(#"["\"\\\/\b\f\n\r\t", "\u00e9\u00E9", "\ud83d\ude00", "\u0000", "é😀"]"#)
        #expect(value == .array([.string("\"\\/\u{8}\u{C}\n\r\t"), .string("éé"), .string("😀"), .string("\u{0}"), .string("é😀")]))
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let value = try GoldenJSON.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8))
        #expect(value == .array([.number(try #require(GoldenJSON.Number("1")))]))
    }

    @Test func numberGrammar() {
        for good in ["0", "-0", "1", "-1.5", "0.25e-3", "1E+9", "123456789012345678901234567890", "5e-324"] {
            #expect(GoldenJSON.Number(good) != nil, "\(good)")
        }
        for bad in ["", "-", "01", "1.", ".5", "+1", "1e", "1e+", "0x1", " 1", "1 ", "inf", "nan", "1.5.2"] {
            #expect(GoldenJSON.Number(bad) == nil, "\(bad)")
        }
    }

    @Test func integerValuesAreExact() throws {
        let cases: [(String, GoldenJSON.Number.IntegerValue)] = [
            ("3", .exact(3)), ("-0", .exact(0)), ("3.0", .exact(3)), ("3e2", .exact(300)), ("300e-2", .exact(3)),
            ("-100", .exact(-100)), ("0.000e5", .exact(0)), ("3.5", .fractional), ("1e-400", .fractional),
            ("1.0000000000000000001", .fractional),
            // 2^53 + 1 is an integer although the nearest double is 2^53.
            ("9007199254740993", .exact(9_007_199_254_740_993)),
            ("9223372036854775807", .exact(Int.max)), ("9223372036854775808", .outOfRange),
            ("-9223372036854775808", .exact(Int.min)), ("-9223372036854775809", .outOfRange),
            ("1e18", .exact(1_000_000_000_000_000_000)), ("1e19", .outOfRange),
            ("12345678901234567890e-1", .exact(1_234_567_890_123_456_789)),
            ("0e99999999999999999999999", .exact(0)), ("1e99999999999999999999999", .outOfRange),
            ("1e-99999999999999999999999", .fractional),
        ]
        for (text, expected) in cases {
            let n = try #require(GoldenJSON.Number(text))
            #expect(n.integerValue == expected, "\(text): \(n.integerValue), expected \(expected)")
        }
    }

    @Test func doublesAreCorrectlyRounded() throws {
        // Decimal literals parsed by Swift's compiler (correctly rounded) vs the reader.
        let cases: [(String, Double)] = [
            ("0.1", 0.1), ("0.30000000000000004", 0.30000000000000004), ("5e-324", .leastNonzeroMagnitude),
            ("2.4703282292062328e-324", .leastNonzeroMagnitude),  // just above half the least subnormal
            ("1.7976931348623157e308", .greatestFiniteMagnitude), ("9007199254740993", 9_007_199_254_740_992),
            ("-0.0", -0.0), ("1e-400", 0),
        ]
        for (text, expected) in cases {
            let d = try #require(GoldenJSON.Number(text)?.double)
            #expect(d.bitPattern == expected.bitPattern, "\(text): \(d), expected \(expected)")
        }
    }
}

@Suite("Golden reader: valid files")
struct GoldenReaderValidTests {
    let s = GoldenSample.self

    /// A valid minimal case for each loss (int targets for the class losses, var for gaussian_nll).
    func minimalFile(_ loss: String, options: String? = nil) -> String {
        switch loss {
        case "cross_entropy", "nll":
            return s.file(loss: loss, cases: [s.caseText(options: options, input: s.tensor("1, 2, 3, 4, 5, 6", shape: "[2, 3]"),
                                                         target: s.tensor("0, 2", shape: "[2]", dtype: "int"))])
        case "gaussian_nll":
            return s.file(loss: loss, cases: [s.caseText(options: options, extra: ["\"var\": \(s.tensor("1, 2, 0.5, 1", shape: "[2, 2]"))"])])
        default:
            return s.file(loss: loss, cases: [s.caseText(options: options)])
        }
    }

    @Test(arguments: AnyLoss.names)
    func everyLossReadsWithItsDefaults(_ name: String) throws {
        let file = try GoldenSample.parse(minimalFile(name))
        #expect(file.loss == name)
        let c = try #require(file.cases.first)
        #expect(c.loss.name == name)
        #expect(c.loss.reduction == .mean)
        #expect(c.unknownReduction == nil && c.optionError == nil)
        #expect(c.tolerance == GoldenTolerance(reference: .init(rtol: 1e-12, atol: 0), fast: .init(rtol: 1e-5, atol: 0)))
        // PyTorch's defaults, from the format's table.
        switch c.loss {
        case .mse, .l1: break
        case .huber(let l): #expect(l.delta == 1.0)
        case .smoothL1(let l): #expect(l.beta == 1.0)
        case .bce(let l): #expect(l.weight == nil)
        case .bceWithLogits(let l): #expect(l.weight == nil && l.posWeight == nil)
        case .crossEntropy(let l): #expect(l.weight == nil && l.ignoreIndex == -100 && l.labelSmoothing == 0)
        case .nll(let l): #expect(l.weight == nil && l.ignoreIndex == -100)
        case .klDiv(let l): #expect(l.logTarget == false)
        case .poissonNLL(let l): #expect(l.logInput == true && l.full == false && l.eps == 1e-8)
        case .gaussianNLL(let l): #expect(l.full == false && l.eps == 1e-6)
        }
        switch name {
        case "cross_entropy", "nll":
            guard case .classes(let t) = c.arguments.target else {
                Issue.record("\(name): target is not class indices")
                return
            }
            #expect(t.shape == [2] && t.scalars == [0, 2])
        default:
            guard case .values(let t) = c.arguments.target else {
                Issue.record("\(name): target is not values")
                return
            }
            #expect(t.shape == [2, 2] && t.scalars == [1, 2, 0.25, -8])
        }
        #expect((c.arguments.variance != nil) == (name == "gaussian_nll"))
        #expect(c.arguments.upstream == nil)
        #expect(c.expected == .values(LossResult(output: Tensor(scalar: 1.5))))
    }

    @Test func everyOptionIsRead() throws {
        let w = GoldenSample.tensor("1, 0.5, 2", shape: "[3]")
        func loss(_ name: String, _ options: String) throws -> AnyLoss {
            try #require(GoldenSample.parse(minimalFile(name, options: options)).cases.first).loss
        }
        if case .huber(let l) = try loss("huber", "{ \"reduction\": \"sum\", \"delta\": 0.5 }") {
            #expect(l.reduction == .sum && l.delta == 0.5)
        } else { Issue.record("huber") }
        if case .smoothL1(let l) = try loss("smooth_l1", "{ \"reduction\": \"none\", \"beta\": 0 }") {
            #expect(l.reduction == .none && l.beta == 0)
        } else { Issue.record("smooth_l1") }
        if case .bce(let l) = try loss("bce", "{ \"weight\": \(w) }") {
            #expect(l.weight?.scalars == [1, 0.5, 2] && l.weight?.shape == [3])
        } else { Issue.record("bce") }
        if case .bceWithLogits(let l) = try loss("bce_with_logits", "{ \"weight\": \(w), \"pos_weight\": \(GoldenSample.tensor("3", shape: "[1]")) }") {
            #expect(l.weight?.scalars == [1, 0.5, 2] && l.posWeight?.scalars == [3])
        } else { Issue.record("bce_with_logits") }
        if case .crossEntropy(let l) = try loss("cross_entropy", "{ \"reduction\": \"sum\", \"weight\": \(w), \"ignore_index\": 1, \"label_smoothing\": 0.125 }") {
            #expect(l.reduction == .sum && l.weight?.scalars == [1, 0.5, 2] && l.ignoreIndex == 1 && l.labelSmoothing == 0.125)
        } else { Issue.record("cross_entropy") }
        if case .nll(let l) = try loss("nll", "{ \"ignore_index\": -1, \"weight\": \(w) }") {
            #expect(l.ignoreIndex == -1 && l.weight?.count == 3)
        } else { Issue.record("nll") }
        if case .klDiv(let l) = try loss("kl_div", "{ \"reduction\": \"batchmean\", \"log_target\": true }") {
            #expect(l.reduction == .batchmean && l.logTarget)
        } else { Issue.record("kl_div") }
        if case .poissonNLL(let l) = try loss("poisson_nll", "{ \"log_input\": false, \"full\": true, \"eps\": 1e-3 }") {
            #expect(!l.logInput && l.full && l.eps == 1e-3)
        } else { Issue.record("poisson_nll") }
        if case .gaussianNLL(let l) = try loss("gaussian_nll", "{ \"full\": true, \"eps\": 0.25 }") {
            #expect(l.full && l.eps == 0.25)
        } else { Issue.record("gaussian_nll") }
        // An integral number written as 1.0 is an integer option.
        if case .nll(let l) = try loss("nll", "{ \"ignore_index\": 1.0 }") {
            #expect(l.ignoreIndex == 1)
        } else { Issue.record("nll 1.0") }
    }

    @Test func invalidOptionValuesAreCasesNotMalformedFiles() throws {
        // The format lists these as `option` errors the engines must report: the reader
        // keeps them as written and the description's validation rejects them.
        let mse = try #require(GoldenSample.parse(minimalFile("mse", options: "{ \"reduction\": \"batchmean\" }")).cases.first)
        guard case .mse(let m) = mse.loss else { Issue.record("not mse"); return }
        #expect(m.reduction == .batchmean)
        #expect(throws: LossError.self) { try m.validate(input: [2, 2], target: [2, 2]) }
        do { _ = try m.validate(input: [2, 2], target: [2, 2]) } catch { #expect(error.kind == .option) }

        let huber = try #require(GoldenSample.parse(minimalFile("huber", options: "{ \"delta\": -1 }")).cases.first)
        guard case .huber(let h) = huber.loss else { Issue.record("not huber"); return }
        #expect(h.delta == -1)
        do { _ = try h.validate(input: [2, 2], target: [2, 2]); Issue.record("delta -1 validated") } catch { #expect(error.kind == .option) }

        let inf = try #require(GoldenSample.parse(minimalFile("huber", options: "{ \"delta\": \"inf\" }")).cases.first)
        guard case .huber(let hi) = inf.loss else { Issue.record("not huber"); return }
        #expect(hi.delta == .infinity)

        let ce = try #require(GoldenSample.parse(minimalFile("cross_entropy", options: "{ \"label_smoothing\": 2 }")).cases.first)
        guard case .crossEntropy(let c) = ce.loss else { Issue.record("not cross_entropy"); return }
        #expect(c.labelSmoothing == 2)
        do {
            _ = try [0, 2].withUnsafeBufferPointer { (p) throws(LossError) in try c.validate(input: [2, 3], target: [2], classIndices: p) }
            Issue.record("label_smoothing 2 validated")
        } catch { #expect(error.kind == .option) }
    }

    @Test func unknownReductionBecomesAnOptionError() throws {
        let text = minimalFile("kl_div", options: "{ \"reduction\": \"avg\" }").replacingOccurrences(of: "\"expected\": { \"output\": \(GoldenSample.output) }", with: "\"expected_error\": \"option\"")
        let c = try #require(GoldenSample.parse(text).cases.first)
        #expect(c.unknownReduction == "avg")
        #expect(c.expected == .error(.option))
        let error = try #require(c.optionError)
        #expect(error.kind == .option)
        #expect(error.message == "kl_div: reduction \"avg\" is not a reduction; expected none, sum, mean or batchmean")
    }

    @Test func probabilityTargetsForCrossEntropy() throws {
        let text = s.file(loss: "cross_entropy", cases: [s.caseText(input: s.tensor("1, 2, 3, 4", shape: "[2, 2]"),
                                                                     target: s.tensor("0.25, 0.75, 1, 0", shape: "[2, 2]"))])
        let c = try #require(GoldenSample.parse(text).cases.first)
        guard case .values(let t) = c.arguments.target else { Issue.record("not values"); return }
        #expect(t.scalars == [0.25, 0.75, 1, 0])
    }

    @Test func nonFiniteStringsAndIntegralNumbersInFloatData() throws {
        let text = s.file(cases: [s.caseText(input: s.tensor("\"nan\", \"inf\", \"-inf\", -0, 3, 1e2", shape: "[6]"),
                                             target: s.tensor("1, 1, 1, 1, 1, 1", shape: "[6]"))])
        let c = try #require(GoldenSample.parse(text).cases.first)
        let x = c.arguments.input.scalars
        #expect(x.count == 6)
        #expect(x[0].isNaN && x[1] == .infinity && x[2] == -.infinity)
        #expect(x[3].bitPattern == (-0.0).bitPattern)
        #expect(x[4] == 3 && x[5] == 100)
    }

    @Test func emptyAndScalarTensors() throws {
        let text = s.file(cases: [s.caseText(options: "{ \"reduction\": \"sum\" }", input: s.tensor("", shape: "[0, 3]"), target: s.tensor("", shape: "[0, 3]"),
                                             expected: "{ \"output\": \(s.tensor("0", shape: "[]")), \"grad_input\": \(s.tensor("", shape: "[0, 3]")) }")])
        let c = try #require(GoldenSample.parse(text).cases.first)
        #expect(c.arguments.input.shape == [0, 3] && c.arguments.input.scalars.isEmpty)
        guard case .values(let r) = c.expected else { Issue.record("not values"); return }
        #expect(r.output.shape == [] && r.output.scalars == [0])
        #expect(r.gradInput?.shape == [0, 3])
    }

    @Test func toleranceOverridesKeepTheRestDefault() throws {
        let text = s.file(cases: [s.caseText(extra: ["\"tolerance\": { \"fast\": { \"rtol\": 1e-4 }, \"reference\": { \"atol\": 1e-300 } }"])])
        let t = try #require(GoldenSample.parse(text).cases.first).tolerance
        #expect(t.fast == GoldenTolerance.Limit(rtol: 1e-4, atol: 0))
        #expect(t.reference == GoldenTolerance.Limit(rtol: 1e-12, atol: 1e-300))
    }

    @Test func upstreamAndGradientsAreRead() throws {
        let text = s.file(cases: [s.caseText(options: "{ \"reduction\": \"none\" }",
                                             extra: ["\"upstream\": \(s.tensor("1, 2, 3, 4", shape: "[2, 2]"))"],
                                             expected: "{ \"output\": \(s.target), \"grad_input\": \(s.input), \"grad_target\": \(s.target) }")])
        let c = try #require(GoldenSample.parse(text).cases.first)
        #expect(c.arguments.upstream?.scalars == [1, 2, 3, 4])
        guard case .values(let r) = c.expected else { Issue.record("not values"); return }
        #expect(r.gradInput?.scalars == [0.5, -1.25, 3, 4])
        #expect(r.gradTarget?.scalars == [1, 2, 0.25, -8])
    }

    @Test func unknownKeysOutsideOptionsAreIgnoredAndListed() throws {
        let text = """
        {
          "format": "loss-golden-v1", "loss": "mse", "source": "x", "generator": { "torch": "2.3" },
          "cases": [ { "name": "a", "note": "why", "input": { "dtype": "float", "shape": [1], "data": [1], "device": "cpu" },
                       "target": \(s.tensor("1", shape: "[1]")),
                       "expected": { "output": \(s.output), "grad_hessian": [] },
                       "tolerance": { "float80": { "rtol": 0 }, "fast": { "rtol": 1e-6, "ulps": 4 } } } ]
        }
        """
        let file = try GoldenSample.parse(text)
        #expect(file.ignoredKeys == ["generator", "cases[0].note", "cases[0].input.device", "cases[0].expected.grad_hessian",
                                     "cases[0].tolerance.float80", "cases[0].tolerance.fast.ulps"])
        #expect(file.cases.first?.tolerance.fast.rtol == 1e-6)
    }

    @Test func theDocumentedExampleReads() throws {
        // docs/golden-format.md and the reader must agree: its example file reads, and
        // its second case is an option error the engines must report.
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/golden-format.md")
        let markdown = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(markdown.range(of: "## 4. An example\n\n```json\n"))
        let end = try #require(markdown.range(of: "```", range: start.upperBound..<markdown.endIndex))
        let file = try GoldenFile.parse(String(markdown[start.upperBound..<end.lowerBound]), fileName: "docs/golden-format.md")
        #expect(file.cases.map(\.name) == ["ignore-index-with-class-weights", "label-smoothing-above-one"])
        #expect(file.ignoredKeys.isEmpty)
        guard case .crossEntropy(let l) = file.cases[1].loss else { Issue.record("not cross_entropy"); return }
        #expect(l.labelSmoothing == 2 && file.cases[1].expected == .error(.option))
        #expect(file.cases[1].tolerance.fast.rtol == 1e-4)
    }

    @Test func readsFromDisk() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("golden-reader-\(UInt64.random(in: 0...UInt64.max)).json")
        try Data(minimalFile("l1").utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try GoldenFile.read(contentsOf: url.path)
        #expect(file.loss == "l1" && file.cases.count == 1)
    }
}

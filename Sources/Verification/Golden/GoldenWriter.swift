import Losses

extension GoldenFile {
    /// The file in the `loss-golden-v1` format, deterministically: the same file always
    /// gives the same bytes.
    ///
    /// Layout: keys in a fixed order (`format`, `loss`, `source`, `cases`; in a case
    /// `name`, `options`, `input`, `target`, `var`, `upstream`, `expected` or
    /// `expected_error`, `tolerance`), 2-space indentation, each tensor on one line so a
    /// diff shows which tensor changed, a newline at the end. Every scalar option is
    /// written explicitly (so the file states the point it evaluates); `weight` and
    /// `pos_weight` only when given; `tolerance` only where it differs from the defaults,
    /// and then only the engines and keys that differ.
    ///
    /// Numbers: each double as Swift's shortest decimal that reads back to the same bits
    /// (`0.1`, `3.0`, `1e-05`, `5e-324`, `-0.0`), non-finite values as `"nan"`, `"inf"`,
    /// `"-inf"`; `int` tensors as integers. Reading the text back gives this file again,
    /// bit for bit (NaN payloads aside: the format has one NaN).
    ///
    /// The writer does not check the file (it writes what it is given); use
    /// `validatedSerialization(fileName:)` to write only what reads back.
    public func serialized() -> String {
        var out = "{\n"
        out += "  \"format\": \(GoldenText.quoted(format)),\n"
        out += "  \"loss\": \(GoldenText.quoted(loss)),\n"
        out += "  \"source\": \(GoldenText.quoted(source)),\n"
        if cases.isEmpty {
            out += "  \"cases\": []\n"
        } else {
            out += "  \"cases\": [\n"
            for (i, c) in cases.enumerated() {
                out += GoldenWriter.caseText(c, indent: "    ")
                out += i + 1 < cases.count ? ",\n" : "\n"
            }
            out += "  ]\n"
        }
        out += "}\n"
        return out
    }

    /// `serialized()`, checked: the text is read back with the full reader and must
    /// give this file again. Use it to write golden files.
    ///
    /// - Throws: a `.format` error naming the case if a case's loss is not the file's
    ///   loss or its `unknownReduction` is a known reduction; the reader's `GoldenError`
    ///   (naming `fileName` and the JSON path) if the file breaks a rule of the format; a
    ///   `.format` error at the top level if the text reads back as a different file
    ///   (which would be a writer bug).
    public func validatedSerialization(fileName: String) throws(GoldenError) -> String {
        // Two faults the text alone would hide: the reader takes each case's loss from
        // the file's `loss`, and reads a known reduction string as that reduction.
        for (i, c) in cases.enumerated() {
            if c.loss.name != loss {
                throw GoldenError(.format, file: fileName, path: "cases[\(i)]",
                                  reason: "the case's loss is \(c.loss.name) but the file's loss is \(loss)")
            }
            if let r = c.unknownReduction, Reduction(rawValue: r) != nil {
                throw GoldenError(.format, file: fileName, path: "cases[\(i)].options.reduction",
                                  reason: "unknownReduction \(GoldenText.quoted(r)) is a known reduction; set it on the loss instead")
            }
        }
        let text = serialized()
        let back = try GoldenFile.parse(text, fileName: fileName)
        guard back == self else {
            throw GoldenError(.format, file: fileName, path: "", reason: "the serialized text reads back as a different file")
        }
        return text
    }
}

/// The writer's pieces, one JSON fragment each.
enum GoldenWriter {
    static func caseText(_ c: GoldenCase, indent: String) -> String {
        let inner = indent + "  "
        var lines: [String] = []
        lines.append("\(inner)\"name\": \(GoldenText.quoted(c.name))")
        lines.append("\(inner)\"options\": \(optionsText(c.loss, reduction: c.unknownReduction))")
        lines.append("\(inner)\"input\": \(tensorText(.float(c.arguments.input)))")
        switch c.arguments.target {
        case .values(let t): lines.append("\(inner)\"target\": \(tensorText(.float(t)))")
        case .classes(let t): lines.append("\(inner)\"target\": \(tensorText(.int(t)))")
        }
        if let v = c.arguments.variance {
            lines.append("\(inner)\"var\": \(tensorText(.float(v)))")
        }
        if let u = c.arguments.upstream {
            lines.append("\(inner)\"upstream\": \(tensorText(.float(u)))")
        }
        switch c.expected {
        case .error(let kind):
            lines.append("\(inner)\"expected_error\": \(GoldenText.quoted(kind.rawValue))")
        case .values(let result):
            var parts = ["\(inner)  \"output\": \(tensorText(.float(result.output)))"]
            if let g = result.gradInput { parts.append("\(inner)  \"grad_input\": \(tensorText(.float(g)))") }
            if let g = result.gradTarget { parts.append("\(inner)  \"grad_target\": \(tensorText(.float(g)))") }
            lines.append("\(inner)\"expected\": {\n" + parts.joined(separator: ",\n") + "\n\(inner)}")
        }
        if let t = toleranceText(c.tolerance) {
            lines.append("\(inner)\"tolerance\": \(t)")
        }
        return "\(indent){\n" + lines.joined(separator: ",\n") + "\n\(indent)}"
    }

    /// `{ "reduction": "mean", "delta": 1.0 }` on one line.
    static func optionsText(_ loss: AnyLoss, reduction: String?) -> String {
        let members = GoldenOptions.values(of: loss, reduction: reduction).map { option -> String in
            let value: String
            switch option.value {
            case .reduction(let r): value = GoldenText.quoted(r)
            case .real(let d): value = GoldenText.number(d)
            case .integer(let i): value = String(i)
            case .bool(let b): value = b ? "true" : "false"
            case .tensor(let t): value = tensorText(.float(t))
            }
            return "\(GoldenText.quoted(option.name)): \(value)"
        }
        return "{ " + members.joined(separator: ", ") + " }"
    }

    /// `{ "dtype": "float", "shape": [2, 3], "data": [0.5, -1.25, "inf", 3.0, "nan", "-inf"] }`.
    static func tensorText(_ tensor: GoldenTensor) -> String {
        let data: [String]
        switch tensor {
        case .float(let t): data = t.scalars.map(GoldenText.number)
        case .int(let t): data = t.scalars.map { String($0) }
        }
        return "{ \"dtype\": \"\(tensor.dtype)\", \"shape\": \(Shape.describe(tensor.shape)), \"data\": [\(data.joined(separator: ", "))] }"
    }

    /// Only what differs from the defaults; nil when nothing does.
    static func toleranceText(_ tolerance: GoldenTolerance) -> String? {
        func limitText(_ limit: GoldenTolerance.Limit, defaults: GoldenTolerance.Limit) -> String? {
            var parts: [String] = []
            if !GoldenSame.double(limit.rtol, defaults.rtol) { parts.append("\"rtol\": \(GoldenText.number(limit.rtol))") }
            if !GoldenSame.double(limit.atol, defaults.atol) { parts.append("\"atol\": \(GoldenText.number(limit.atol))") }
            return parts.isEmpty ? nil : "{ " + parts.joined(separator: ", ") + " }"
        }
        var engines: [String] = []
        if let r = limitText(tolerance.reference, defaults: GoldenTolerance.referenceDefault) { engines.append("\"reference\": \(r)") }
        if let f = limitText(tolerance.fast, defaults: GoldenTolerance.fastDefault) { engines.append("\"fast\": \(f)") }
        return engines.isEmpty ? nil : "{ " + engines.joined(separator: ", ") + " }"
    }
}

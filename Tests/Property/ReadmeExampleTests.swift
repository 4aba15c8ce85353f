import Foundation
import Testing
import FastLosses
import ReferenceLosses

/// Keeps the README's usage example compiling and true: `example()` holds the same lines
/// as the README (checked textually), and running it must give a Float loss within the
/// fast tolerance of the Double one.
@Suite("README usage example")
struct ReadmeExampleTests {
    static func example() throws -> (fast: LossResult<Float>, exact: LossResult<Double>) {
        // readme-example-begin
        let logits = try Tensor<Float>(shape: [2, 3], scalars: [2.0, 0.5, -1.0, 0.1, 0.2, 3.0])
        let labels = Tensor<Int>([0, 2])
        let loss = CrossEntropyLoss(labelSmoothing: 0.1)                 // reduction .mean
        let fast = try Fast.evaluate(loss, input: logits, target: labels, gradients: .input)
        let exact = try Reference.evaluate(loss, input: logits.map(Double.init), target: labels, gradients: .input)
        print(fast.output.scalars[0], exact.output.scalars[0])          // the loss, Float and Double
        print(fast.gradInput!.shape)                                     // [2, 3]
        // readme-example-end
        return (fast, exact)
    }

    @Test func exampleRunsAndAgrees() throws {
        let (fast, exact) = try Self.example()
        let f = Double(fast.output.scalars[0]), e = exact.output.scalars[0]
        // The golden format's fast tolerance: rtol 1e-5 on a well-conditioned value.
        #expect(abs(f - e) <= 1e-5 * abs(e), "fast \(f) vs reference \(e)")
        #expect(fast.gradInput?.shape == [2, 3])
    }

    @Test func readmeShowsTheSameLines() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        guard let begin = source.range(of: "// readme-example-begin\n"),
              let end = source.range(of: "        // readme-example-end") else {
            Issue.record("markers missing in \(#filePath)")
            return
        }
        let lines = source[begin.upperBound..<end.lowerBound].split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for line in lines {
            #expect(readme.contains(line), "README.md lacks the example line: \(line)")
        }
    }
}

import Testing
import FastLosses
import LossVerification

// The type-erased buffer entry point `Fast.evaluate(AnyLoss, input:shape:target:...)`
// forwards to each loss's own buffer entry point: on generated cases of every loss it must
// give the same bits as the type-erased tensor entry point (which forwards to the typed
// tensor forms), and reject a target of the wrong kind or a misplaced variance.

@Suite("Fast: type-erased buffer entry point")
struct FastAnyLossBufferTests {
    /// Runs `loss` on `arguments` through the type-erased buffer entry point, with the
    /// input gradient, and returns the output and the gradient.
    func bufferCall(_ loss: AnyLoss, _ arguments: LossArguments<Float>) throws(LossError) -> (output: [Float], gradInput: [Float]) {
        // A call the engine will reject may have no output shape: one element then.
        let outputShape = (try? loss.outputShape(input: arguments.input.shape, target: arguments.target.shape,
                                               classTarget: { if case .classes = arguments.target { true } else { false } }(),
                                               variance: arguments.variance?.shape)) ?? []
        let outputCount = loss.reduction == .none ? outputShape.reduce(1, *) : 1
        var output = [Float](repeating: .nan, count: outputCount)
        var gradInput = [Float](repeating: .nan, count: arguments.input.count)
        var failure: LossError?
        let x = arguments.input.scalars, u = arguments.upstream?.scalars, v = arguments.variance
        output.withUnsafeMutableBufferPointer { out in
            gradInput.withUnsafeMutableBufferPointer { gi in
                x.withUnsafeBufferPointer { x in
                    let outputs = Fast.Outputs(output: out, gradInput: gi)
                    func run(_ target: Fast.BufferTarget) {
                        do throws(LossError) {
                            let call = { (u: UnsafeBufferPointer<Float>?, v: UnsafeBufferPointer<Float>?) throws(LossError) in
                                try Fast.evaluate(loss, input: x, shape: arguments.input.shape, target: target,
                                                  variance: v.map { ($0, arguments.variance!.shape) },
                                                  upstream: u, into: outputs)
                            }
                            switch (u, v?.scalars) {
                            case (nil, nil): try call(nil, nil)
                            case (let u?, nil): try u.withUnsafeBufferPointer { (u) throws(LossError) in try call(u, nil) }
                            case (nil, let v?): try v.withUnsafeBufferPointer { (v) throws(LossError) in try call(nil, v) }
                            case (let u?, let v?):
                                try u.withUnsafeBufferPointer { (u) throws(LossError) in
                                    try v.withUnsafeBufferPointer { (v) throws(LossError) in try call(u, v) }
                                }
                            }
                        } catch {
                            failure = error
                        }
                    }
                    switch arguments.target {
                    case .values(let t): t.scalars.withUnsafeBufferPointer { run(.values($0)) }
                    case .classes(let t): t.scalars.withUnsafeBufferPointer { run(.classes($0, shape: t.shape)) }
                    }
                }
            }
        }
        if let failure { throw failure }
        return (output, gradInput)
    }

    @Test("the same bits as the type-erased tensor entry point, every loss", arguments: AnyLoss.names)
    func sameBitsAsTensorEntryPoint(_ name: String) throws {
        let seed = TestEnvironment.current.seed
        for c in try Generators.cases(for: name, count: 12 * TestEnvironment.current.caseMultiplier, seed: seed) {
            let arguments = c.arguments.map { Float($0) }
            let tensor: LossResult<Float>
            do { tensor = try Fast.evaluate(c.loss, arguments, gradients: .input) } catch {
                Issue.record("\(c) (seed \(TestEnvironment.hex(seed))): the tensor entry point threw \(error)")
                continue
            }
            let buffer = try bufferCall(c.loss, arguments)
            let same = zip(tensor.output.scalars, buffer.output).allSatisfy { $0.bitPattern == $1.bitPattern }
                && zip(tensor.gradInput!.scalars, buffer.gradInput).allSatisfy { $0.bitPattern == $1.bitPattern }
            #expect(same && tensor.output.count == buffer.output.count,
                    "\(c) (seed \(TestEnvironment.hex(seed)), rerun: \(c.rerunHint ?? "-")): buffer output \(buffer.output.prefix(4)) vs tensor \(tensor.output.scalars.prefix(4)), or gradients differ")
        }
    }

    @Test("a target of the wrong kind is a target error; a missing or extra var a shape error")
    func wrongArguments() {
        let x = Tensor<Float>([0.5, 0.25]), t = Tensor<Float>([1, 0]), classes = Tensor<Int>([0, 1])
        let cases: [(AnyLoss, LossArguments<Float>, LossError.Kind, String)] = [
            (.mse(MSELoss()), LossArguments(input: x, target: .classes(classes)), .target, "class indices"),
            (.nll(NLLLoss()), LossArguments(input: x, target: .values(t)), .target, "real values"),
            (.gaussianNLL(GaussianNLLLoss()), LossArguments(input: x, target: .values(t)), .shape, "var argument is missing"),
            (.mse(MSELoss()), LossArguments(input: x, target: .values(t), variance: t), .shape, "takes no var"),
        ]
        for (loss, arguments, kind, text) in cases {
            do {
                _ = try bufferCall(loss, arguments)
                Issue.record("\(loss.name): expected a \(kind) error, the call returned")
            } catch {
                #expect(error.kind == kind && error.message.contains(text), "\(loss.name): got \(error), expected a \(kind) error mentioning '\(text)'")
            }
        }
    }
}

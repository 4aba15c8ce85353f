import Testing
import FastLosses

// The allocation-free buffer entry points: length checks against the shape, value-only
// calls, empty buffers, and the same bits as the tensor entry points.

@Suite("Fast: buffer entry points")
struct FastBufferAPITests {
    /// Runs `c` over fresh buffers of the given lengths and returns the error, if any.
    func bufferCall(_ c: FastRegressionCase, shape: [Int], input: Int, target: Int, upstream: Int?,
                    output: Int, gradInput: Int?, gradTarget: Int?, threads: Int? = nil) -> LossError? {
        let x = [Float](repeating: 1, count: input), y = [Float](repeating: 0, count: target)
        let u = upstream.map { [Float](repeating: 1, count: $0) }
        var out = [Float](repeating: 0, count: output)
        var gi = [Float](repeating: 0, count: gradInput ?? 0), gt = [Float](repeating: 0, count: gradTarget ?? 0)
        var failure: LossError?
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                out.withUnsafeMutableBufferPointer { out in
                    gi.withUnsafeMutableBufferPointer { gi in
                        gt.withUnsafeMutableBufferPointer { gt in
                            let outputs = Fast.Outputs(output: out, gradInput: gradInput == nil ? nil : gi,
                                                       gradTarget: gradTarget == nil ? nil : gt)
                            do throws(LossError) {
                                if let u {
                                    try u.withUnsafeBufferPointer { (u) throws(LossError) in
                                        try c.fast(x, y, shape: shape, upstream: u, into: outputs, threads: threads)
                                    }
                                } else {
                                    try c.fast(x, y, shape: shape, upstream: nil, into: outputs, threads: threads)
                                }
                            } catch {
                                failure = error
                            }
                        }
                    }
                }
            }
        }
        return failure
    }

    @Test("a buffer shorter or longer than the shape implies is a shape error naming it", arguments: FastRegressionCase.all)
    func wrongLengths(_ base: FastRegressionCase) {
        let shape = [2, 3], n = 6
        for reduction in [Reduction.none, .mean, .sum] {
            let c = base.with(reduction)
            let outCount = reduction == .none ? n : 1
            // The correct lengths pass.
            let ok = bufferCall(c, shape: shape, input: n, target: n, upstream: outCount, output: outCount, gradInput: n, gradTarget: n)
            #expect(ok == nil, "\(c): correct buffers rejected: \(ok?.description ?? "")")
            // Each buffer one too short and one too long.
            for delta in [-1, 1] {
                let cases: [(String, LossError?)] = [
                    ("input", bufferCall(c, shape: shape, input: n + delta, target: n, upstream: nil, output: outCount, gradInput: nil, gradTarget: nil)),
                    ("target", bufferCall(c, shape: shape, input: n, target: n + delta, upstream: nil, output: outCount, gradInput: nil, gradTarget: nil)),
                    ("upstream", bufferCall(c, shape: shape, input: n, target: n, upstream: outCount + delta, output: outCount, gradInput: n, gradTarget: nil)),
                    ("output", bufferCall(c, shape: shape, input: n, target: n, upstream: nil, output: outCount + delta, gradInput: nil, gradTarget: nil)),
                    ("gradInput", bufferCall(c, shape: shape, input: n, target: n, upstream: nil, output: outCount, gradInput: n + delta, gradTarget: nil)),
                    ("gradTarget", bufferCall(c, shape: shape, input: n, target: n, upstream: nil, output: outCount, gradInput: nil, gradTarget: n + delta)),
                ]
                for (name, error) in cases {
                    #expect(error?.kind == .shape, "\(c): \(name) buffer off by \(delta): expected a shape error, got \(error?.description ?? "none")")
                    #expect(error?.message.contains("\(name) buffer") == true, "\(c): the error should name the \(name) buffer: \(error?.description ?? "none")")
                }
            }
        }
    }

    @Test("threads < 1 is an option error; options are validated as in the reference")
    func badOptions() {
        let c = FastRegressionCase.mse(MSELoss())
        let error = bufferCall(c, shape: [4], input: 4, target: 4, upstream: nil, output: 1, gradInput: nil, gradTarget: nil, threads: 0)
        #expect(error?.kind == .option && error?.message.contains("threads") == true, "threads = 0: \(error?.description ?? "no error")")
        let huber = bufferCall(.huber(HuberLoss(delta: 0)), shape: [4], input: 4, target: 4, upstream: nil, output: 1, gradInput: nil, gradTarget: nil)
        #expect(huber?.kind == .option, "huber delta 0: \(huber?.description ?? "no error")")
        let smooth = bufferCall(.smoothL1(SmoothL1Loss(beta: -1)), shape: [4], input: 4, target: 4, upstream: nil, output: 1, gradInput: nil, gradTarget: nil)
        #expect(smooth?.kind == .option, "smooth_l1 beta -1: \(smooth?.description ?? "no error")")
    }

    @Test("tensor shape errors: target and upstream shapes")
    func tensorShapeErrors() throws {
        let x = try Tensor<Float>(shape: [2, 3], scalars: Array(repeating: 1, count: 6))
        let y = try Tensor<Float>(shape: [3, 2], scalars: Array(repeating: 1, count: 6))
        for c in FastRegressionCase.all {
            #expect(throws: LossError.self, "\(c): target shape [3, 2] vs input [2, 3]") { try c.fast(x, y, upstream: nil) }
            do {
                _ = try c.with(.none).fast(x, x, upstream: Tensor<Float>(scalar: 1))
                Issue.record("\(c): upstream of shape [] for reduction none was accepted")
            } catch {
                #expect(error.kind == .shape && error.message.contains("upstream"), "\(c): \(error)")
            }
            do {
                _ = try c.with(.mean).fast(x, x, upstream: x)
                Issue.record("\(c): upstream of shape [2, 3] for reduction mean was accepted")
            } catch {
                #expect(error.kind == .shape && error.message.contains("upstream"), "\(c): \(error)")
            }
        }
    }

    @Test("empty buffers with a nil base address")
    func emptyBuffers() throws {
        let empty = UnsafeBufferPointer<Float>(start: nil, count: 0)
        let emptyOut = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        for c in FastRegressionCase.all {
            var one: [Float] = [7]
            try one.withUnsafeMutableBufferPointer { out throws(LossError) in
                try c.with(.sum).fast(empty, empty, shape: [0, 4], upstream: nil,
                                      into: Fast.Outputs(output: out, gradInput: emptyOut, gradTarget: emptyOut))
            }
            #expect(one == [0], "\(c) sum over [0, 4] with nil buffers: \(one)")
            try one.withUnsafeMutableBufferPointer { out throws(LossError) in
                try c.with(.mean).fast(empty, empty, shape: [0], upstream: nil, into: Fast.Outputs(output: out))
            }
            #expect(one[0].isNaN, "\(c) mean over [0] with nil buffers: \(one)")
            try c.with(.none).fast(empty, empty, shape: [0], upstream: empty,
                                   into: Fast.Outputs(output: emptyOut, gradInput: emptyOut))
        }
    }

    @Test("value-only calls skip gradient work; each gradient is computed only when asked")
    func valueOnly() throws {
        let n = 1000
        var rng = FastSplitMix64(seed: FastTestSeed.value)
        let (xs, ys) = fastRegressionInputs(count: n, kink: 1, rng: &rng)
        let x = Tensor<Float>(xs), y = Tensor<Float>(ys)
        for c in FastRegressionCase.all {
            for reduction in [Reduction.none, .mean] {
                let c = c.with(reduction)
                let value = try c.fast(x, y, upstream: nil, gradients: .none)
                let all = try c.fast(x, y, upstream: nil, gradients: .all)
                let input = try c.fast(x, y, upstream: nil, gradients: .input)
                let target = try c.fast(x, y, upstream: nil, gradients: .target)
                #expect(value.gradInput == nil && value.gradTarget == nil, "\(c): value-only call returned gradients")
                #expect(input.gradInput != nil && input.gradTarget == nil, "\(c): .input should return gradInput only")
                #expect(target.gradInput == nil && target.gradTarget != nil, "\(c): .target should return gradTarget only")
                // The value does not depend on which gradients were computed.
                #expect(FastResultBits(value).output == FastResultBits(all).output, "\(c): value-only output differs from the fused one")
                #expect(input.gradInput?.scalars.map(\.bitPattern) == all.gradInput?.scalars.map(\.bitPattern), "\(c): gradInput alone differs")
                #expect(target.gradTarget?.scalars.map(\.bitPattern) == all.gradTarget?.scalars.map(\.bitPattern), "\(c): gradTarget alone differs")
            }
        }
        // Over buffers: only the target gradient, into a buffer; the output is the
        // value-only call's and the gradient the fused call's.
        let full = try FastRegressionCase.mse(MSELoss()).fast(x, y, upstream: nil, gradients: .all)
        var out: [Float] = [.nan], gt = [Float](repeating: .nan, count: n)
        try xs.withUnsafeBufferPointer { xb throws(LossError) in
            try ys.withUnsafeBufferPointer { yb throws(LossError) in
                try out.withUnsafeMutableBufferPointer { ob throws(LossError) in
                    try gt.withUnsafeMutableBufferPointer { gtb throws(LossError) in
                        try Fast.evaluate(MSELoss(), input: xb, target: yb, shape: [n], into: Fast.Outputs(output: ob, gradTarget: gtb))
                    }
                }
            }
        }
        #expect(out.map(\.bitPattern) == full.output.scalars.map(\.bitPattern), "mse over buffers: output \(out) vs \(full.output.scalars)")
        #expect(gt.map(\.bitPattern) == full.gradTarget?.scalars.map(\.bitPattern), "mse over buffers: gradTarget alone differs from the fused call's")
    }

    @Test("the tensor and buffer entry points give identical bits", arguments: FastRegressionCase.all)
    func tensorMatchesBuffers(_ base: FastRegressionCase) throws {
        let n = 3 * 257  // several blocks and a partial vector
        var rng = FastSplitMix64(seed: FastTestSeed.value &+ 99)
        let (xs, ys) = fastRegressionInputs(count: n, kink: base.kink, rng: &rng)
        let shape = [3, 257]
        for reduction in [Reduction.none, .sum, .mean] {
            let c = base.with(reduction)
            let outCount = reduction == .none ? n : 1
            let us = (0..<outCount).map { _ in rng.float(-2, 2) }
            let upstream = try Tensor(shape: reduction == .none ? shape : [], scalars: us)
            let tensor = try c.fast(Tensor(shape: shape, scalars: xs), Tensor(shape: shape, scalars: ys), upstream: upstream)
            var out = [Float](repeating: 0, count: outCount), gi = [Float](repeating: 0, count: n), gt = gi
            try xs.withUnsafeBufferPointer { xb throws(LossError) in
                try ys.withUnsafeBufferPointer { yb throws(LossError) in
                    try us.withUnsafeBufferPointer { ub throws(LossError) in
                        try out.withUnsafeMutableBufferPointer { ob throws(LossError) in
                            try gi.withUnsafeMutableBufferPointer { gib throws(LossError) in
                                try gt.withUnsafeMutableBufferPointer { gtb throws(LossError) in
                                    try c.fast(xb, yb, shape: shape, upstream: ub, into: Fast.Outputs(output: ob, gradInput: gib, gradTarget: gtb))
                                }
                            }
                        }
                    }
                }
            }
            #expect(tensor.output.scalars.map(\.bitPattern) == out.map(\.bitPattern), "\(c): output differs between the entry points")
            #expect(tensor.gradInput?.scalars.map(\.bitPattern) == gi.map(\.bitPattern), "\(c): gradInput differs between the entry points")
            #expect(tensor.gradTarget?.scalars.map(\.bitPattern) == gt.map(\.bitPattern), "\(c): gradTarget differs between the entry points")
        }
    }
}

// The reader that weighted kernels use for broadcast `weight` / `pos_weight` operands:
// every vector it loads must equal the operand expanded by the validated `Broadcast`.
@Suite("Fast: broadcast operands")
struct FastBroadcastOperandTests {
    @Test("loads equal Broadcast.expand for row, column, scalar, identity and general layouts")
    func loadsMatchExpand() throws {
        // (operand shape, input shape): per-class weights on the last axis with rows
        // shorter and longer than a vector, per-row weights ([N, 1]), a scalar, the
        // identity, and a middle axis (general layout).
        let cases: [([Int], [Int])] = [
            ([5], [7, 5]), ([37], [3, 37]), ([16], [4, 16]), ([7, 1], [7, 40]), ([3, 1], [3, 5]),
            ([], [6, 9]), ([1], [50]), ([4, 33], [4, 33]), ([3, 1], [2, 3, 20]), ([1, 3, 1], [2, 3, 5]), ([0], [2, 0]),
        ]
        var rng = FastSplitMix64(seed: FastTestSeed.value)
        for (operandShape, inputShape) in cases {
            let broadcast = try Broadcast(operandShape, to: inputShape, loss: "test", argument: "weight")
            let count = operandShape.reduce(1, *), n = inputShape.reduce(1, *)
            let values = (0..<count).map { _ in Double(rng.float(-2, 2)) }
            let expected = broadcast.expand(values).map { Float($0) }
            let operand = BroadcastOperand(values, broadcast)
            // Vectors starting at every offset of the first 32 elements, then stepping by 16.
            var mismatches: [String] = [], mismatchCount = 0
            for start in 0..<min(n, 32) {
                var i = start
                while i < n {
                    let lanes = min(16, n - i)
                    let v = operand.load(at: i, lanes: lanes)
                    for k in 0..<16 {
                        let want: Float = k < lanes ? expected[i + k] : 0
                        if v[k] != want {
                            mismatchCount += 1
                            if mismatches.count < 5 { mismatches.append("element \(i + k) (vector at \(i), lane \(k)) = \(v[k]), expected \(want)") }
                        }
                    }
                    i += 16
                }
            }
            #expect(mismatchCount == 0, "weight \(operandShape) on \(inputShape): \(mismatchCount) mismatched lanes; first: \(mismatches.joined(separator: "; "))")
        }
    }
}

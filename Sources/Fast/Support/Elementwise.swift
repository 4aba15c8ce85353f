/// The engine's driver for elementwise losses: a loss supplies a kernel (its value and
/// derivatives at 16 elements); the driver does everything else -- validation of the
/// buffers, chunks and threads, the fused loop that writes the unreduced values or
/// accumulates their sum, the gradient scaling by the upstream gradient and the
/// reduction's denominator, and the tensor entry point on top of the buffer one.
//
// Adding a loss:
// - Elementwise (bce, bce_with_logits, kl_div, poisson_nll): a kernel struct holding its
//   options as FloatVector constants and its broadcast operands (`BroadcastOperand`,
//   read with `load(at: index, lanes: lanes)` and multiplied into value and
//   derivatives); the two entry points exactly as in MSE.swift, with `denominator` the
//   mean's (the element count, or `KLDivLoss.batchSize` for batchmean). Value checks
//   such as bce's [0, 1] domain go in `valueCheck`, which runs after the buffer checks
//   (so it reads only buffers of the right length) and before any arithmetic; a fast
//   vectorized scan (`ValueCheck`) finds whether anything is wrong and the description's
//   validator then names the element. A kernel's padding lanes get input and target 0
//   (a broadcast operand 0 too); their values are discarded, so a loss that is not 0
//   at (0, 0) (poisson_nll) needs nothing special. Unweighted and weighted calls are
//   one kernel generic over `ElementWeight`, so the unweighted loop loads nothing.
// - gaussian_nll: its `var` has no gradient (neither `LossResult` nor `Outputs` has a
//   slot for one; the reference computes none either), so it is one more read-only
//   broadcast operand of the kernel, read in place from the caller's Float buffer
//   (`BroadcastOperand(borrowing:_:)`); the streams and the loop stay as they are. A
//   variance gradient would need a third gradient stream in `ElementwiseStreams` and
//   `ElementTerms`.
// - Row-wise (cross_entropy, nll): chunks of whole rows,
//   `Chunks(count: layout.rows, size: max(1, Fast.chunkSize / layout.classes))`, and
//   `Parallel.sum` over a `SIMD2<Double>` partial (loss sum, weight sum). The weighted
//   mean's denominator is needed before the gradient is written: a cheap first
//   `Parallel.sum` over the targets gives it. Chunk boundaries depend only on the row
//   count and C, so the same determinism argument holds.

/// The value and the derivatives of an elementwise loss at 16 elements.
struct ElementTerms {
    var value: FloatVector
    /// d(value) / d(input).
    var dInput: FloatVector
    /// d(value) / d(target).
    var dTarget: FloatVector
}

/// An elementwise loss as the engine computes it.
///
/// `terms` gets the input and target at elements `index ..< index + lanes`; `lanes` is
/// 16 except for the last partial vector of a chunk, whose padding lanes hold 0 and whose
/// results there are discarded. A loss with operands of its own (a broadcast weight)
/// keeps them in the kernel and reads them at `index` with `lanes`.
protocol ElementwiseKernel: Sendable {
    func terms(input: FloatVector, target: FloatVector, index: Int, lanes: Int) -> ElementTerms
}

/// Validated pointers for one elementwise call (nil only for empty buffers and the
/// buffers not asked for).
struct ElementwiseStreams: @unchecked Sendable {
    var input: UnsafePointer<Float>?
    var target: UnsafePointer<Float>?
    /// nil: ones. Per element for `.none`, one value otherwise.
    var upstream: UnsafePointer<Float>?
    var output: UnsafeMutablePointer<Float>?
    var gradInput: UnsafeMutablePointer<Float>?
    var gradTarget: UnsafeMutablePointer<Float>?

    var wantsGradient: Bool { gradInput != nil || gradTarget != nil }
}

extension Fast {
    /// The buffer entry point of every elementwise loss, after `loss.validate`.
    ///
    /// `denominator` is what `mean` divides by. Checks the buffers and the thread count,
    /// then calls `valueCheck` with the thread count (the loss's checks of the values in
    /// its buffers, which now have the right lengths), then runs the fused loop.
    static func evaluateElementwise<K: ElementwiseKernel>(
        _ kernel: K, loss: String, layout: ElementwiseLayout, reduction: Reduction, denominator: Int,
        input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>,
        upstream: UnsafeBufferPointer<Float>?, outputs: Outputs, threads: Int?,
        valueCheck: (_ threads: Int) throws(LossError) -> Void = { _ in }
    ) throws(LossError) {
        let threads = try threadCount(threads, loss: loss)
        try BufferCheck.elementwise(loss: loss, layout: layout, reduction: reduction, input: input, target: target,
                                    upstream: upstream, outputs: outputs)
        try valueCheck(threads)
        let streams = ElementwiseStreams(
            input: input.baseAddress, target: target.baseAddress, upstream: upstream?.baseAddress,
            output: outputs.output.baseAddress, gradInput: outputs.gradInput?.baseAddress,
            gradTarget: outputs.gradTarget?.baseAddress)
        if reduction == .none {
            ElementwiseLoop.unreduced(kernel, count: layout.count, streams: streams, threads: threads)
        } else {
            let den = reduction == .mean || reduction == .batchmean ? denominator : 1
            ElementwiseLoop.reduced(kernel, count: layout.count, denominator: den, streams: streams, threads: threads)
        }
    }

    /// The tensor entry point of every elementwise loss: checks the upstream's shape,
    /// allocates the output and the requested gradients (uninitialized: the buffer
    /// entry point writes every element), and calls `bufferCall` -- the loss's buffer
    /// entry point -- on the tensors' storage.
    static func evaluateTensors(
        loss: String, layout: ElementwiseLayout, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>?, gradients: GradientRequest,
        _ bufferCall: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>?, Outputs) throws(LossError) -> Void
    ) throws(LossError) -> LossResult<Float> {
        try validateUpstream(upstream, outputShape: layout.outputShape, loss: loss)
        let outputCount = layout.outputShape.reduce(1, *)
        var failure: LossError?
        var gradInput: [Float]?, gradTarget: [Float]?
        let output = FreshArrays.make(count: outputCount, wanted: true) { output in
            gradInput = FreshArrays.make(count: layout.count, wanted: gradients.contains(.input)) { gi in
                gradTarget = FreshArrays.make(count: layout.count, wanted: gradients.contains(.target)) { gt in
                    input.withUnsafeBufferPointer { x in
                        target.withUnsafeBufferPointer { y in
                            let outputs = Outputs(output: output!, gradInput: gi, gradTarget: gt)
                            withOptionalBuffer(upstream) { u in
                                do throws(LossError) {
                                    try bufferCall(x, y, u, outputs)
                                } catch {
                                    failure = error
                                }
                            }
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
        return LossResult(output: Tensor(unchecked: layout.outputShape, output!),
                          gradInput: gradInput.map { Tensor(unchecked: layout.shape, $0) },
                          gradTarget: gradTarget.map { Tensor(unchecked: layout.shape, $0) })
    }

    /// Calls `body` with the tensor's storage, or with nil.
    private static func withOptionalBuffer(_ tensor: Tensor<Float>?, _ body: (UnsafeBufferPointer<Float>?) -> Void) {
        guard let tensor else { return body(nil) }
        tensor.withUnsafeBufferPointer { body($0) }
    }
}

/// The fused loops. One pass over each chunk computes the terms, writes or accumulates
/// the values and writes the gradients that were asked for.
enum ElementwiseLoop {
    /// `.none`: `output_i = l_i`, `grad_i = d_i * g_i` (g = ones without upstream).
    static func unreduced<K: ElementwiseKernel>(_ kernel: K, count: Int, streams: ElementwiseStreams, threads: Int) {
        let chunks = Chunks(count: count)
        Parallel.forEachChunk(chunks.chunks, work: count, threads: threads) { k in
            var unused = BlockedSum()
            if streams.gradTarget != nil {
                chunk(kernel, chunks.range(k), streams, reduced: false, gradients: true, targetGradient: true, scale: 1, sum: &unused)
            } else if streams.wantsGradient {
                chunk(kernel, chunks.range(k), streams, reduced: false, gradients: true, scale: 1, sum: &unused)
            } else {
                chunk(kernel, chunks.range(k), streams, reduced: false, gradients: false, scale: 1, sum: &unused)
            }
        }
    }

    /// `sum`/`mean`: `output = (sum_i l_i) / den` (den = 1 for `sum`), accumulated per
    /// chunk by `BlockedSum` and across chunks by the fixed pairwise tree, in Double,
    /// rounded once to Float; `grad_i = d_i * Float(g / den)`.
    static func reduced<K: ElementwiseKernel>(_ kernel: K, count: Int, denominator: Int, streams: ElementwiseStreams, threads: Int) {
        let g = streams.upstream.map { Double($0[0]) } ?? 1
        let scale = Float(g / Double(denominator))
        let chunks = Chunks(count: count)
        let total = Parallel.sum(chunks.chunks, work: count, threads: threads) { k -> Double in
            var sum = BlockedSum()
            if streams.gradTarget != nil {
                chunk(kernel, chunks.range(k), streams, reduced: true, gradients: true, targetGradient: true, scale: scale, sum: &sum)
            } else if streams.wantsGradient {
                chunk(kernel, chunks.range(k), streams, reduced: true, gradients: true, scale: scale, sum: &sum)
            } else {
                chunk(kernel, chunks.range(k), streams, reduced: true, gradients: false, scale: scale, sum: &sum)
            }
            return sum.value
        }
        streams.output![0] = Float(total / Double(denominator))
    }

    /// One chunk. Called with literal `reduced`, `gradients` and `targetGradient`, so each
    /// combination compiles to its own loop (and a loop without the target gradient does
    /// not compute it); `scale` is the reduced case's gradient factor.
    @inline(__always)
    private static func chunk<K: ElementwiseKernel>(
        _ kernel: K, _ range: Range<Int>, _ s: ElementwiseStreams,
        reduced: Bool, gradients: Bool, targetGradient: Bool = false, scale: Float, sum: inout BlockedSum
    ) {
        let x = s.input.unsafelyUnwrapped, y = s.target.unsafelyUnwrapped
        let factor = FloatVector(repeating: scale)
        VectorIO.forEachVector(in: range, { i, lanes in
            let t = kernel.terms(input: VectorIO.load(x, i, lanes: lanes), target: VectorIO.load(y, i, lanes: lanes),
                                 index: i, lanes: lanes)
            if reduced {
                sum.add(VectorIO.keep(t.value, lanes: lanes))
            } else {
                VectorIO.store(t.value, s.output.unsafelyUnwrapped, i, lanes: lanes)
            }
            if gradients {
                let g: FloatVector
                if !reduced, let upstream = s.upstream {
                    g = VectorIO.load(upstream, i, lanes: lanes)
                } else {
                    g = factor
                }
                if let gradInput = s.gradInput { VectorIO.store(t.dInput * g, gradInput, i, lanes: lanes) }
                if targetGradient { VectorIO.store(t.dTarget * g, s.gradTarget.unsafelyUnwrapped, i, lanes: lanes) }
            }
        }, endBlock: {
            if reduced { sum.endBlock() }
        })
    }
}

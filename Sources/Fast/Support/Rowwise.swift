/// The engine's driver for the class-dimension losses (`cross_entropy` with class-index or
/// probability targets, `nll`): everything a row-wise loss shares except its arithmetic.
///
/// A row is one element of the unreduced loss: the C logits of one `(n, d1, ..., dk)`
/// position, at flat input offsets `layout.inputOffset(row: i, classIndex: c)`, i.e.
/// contiguous for `[C]` and `[N, C]` (inner = 1) and `inner` apart for `[N, C, d...]`.
///
/// - Chunks: whole rows, `Fast.rowsPerChunk` of them (about `Fast.chunkSize` elements), a
///   function of the row count, C and the kernel's layout only -- never of the thread
///   count. Each chunk returns its partial loss sum (Double), and `Parallel.sum` adds the
///   partials by its fixed pairwise tree: the same bits for every thread count.
/// - The weighted mean's denominator `sum_{i not ignored} w[y_i]` is needed before any
///   gradient is written; `Fast.classDenominator` gets it in a cheap first pass over the
///   targets (the same chunks-and-tree scheme, in Double).
/// - Two kernel layouts:
///   * wide rows (inner = 1 and C >= `Fast.wideRowClasses`): one row at a time, vectorized
///     along the classes;
///   * lane groups (small C, or k-dimensional inputs): 16 rows at a time, one row per lane,
///     copied into a class-major tile (`RowGroup.fill`: a plain vector copy when the 16
///     rows are consecutive positions of one n, a transposing gather otherwise), so the
///     per-row arithmetic -- max, exp, sums, the log1p of the finish -- runs on whole
///     vectors however small C is. Gradients are computed into the tile and copied out
///     (`RowGroup.drain`).

extension Fast {
    /// Rows per chunk of a row-wise loss with `classes` classes: whole rows covering about
    /// `Fast.chunkSize` elements (at least one row). For lane groups (`laneGroups`), a
    /// multiple of 16 rows and at least 16, so that every group but a chunk's last holds
    /// 16 rows.
    static func rowsPerChunk(classes: Int, laneGroups: Bool) -> Int {
        let rows = max(1, chunkSize / max(classes, 1))
        guard laneGroups else { return rows }
        return max(16, rows - rows % 16)
    }

    /// The smallest C (with inner = 1) for which a row is processed on its own, vectorized
    /// along the classes; below it, 16 rows go side by side in the lanes (`RowGroup`).
    ///
    /// Measured (release, default x86-64 target, one thread, thread CPU time, cross_entropy
    /// value + gradient on [2^16 / C, C] in cache, ns per element, wide rows / lane groups):
    /// C = 16: 11.5 / 3.4; 48: 4.3 / 2.5; 64: 3.5-4.0 / 2.4; 96: 2.8 / 2.4; 128: 2.34 / 2.34;
    /// 160: 2.15 / 2.30; 256: 1.85 / 2.28; 512: 1.42 / 2.48. A wide row pays a fixed cost
    /// per row (its finish in Double, the horizontal reductions, the partial tail vector),
    /// lane groups pay the transposing copies per element; they meet at C = 128. (Measured
    /// before the lane groups' copies became 4 x 4 block transposes, which made them
    /// ~15% faster at C = 10; the crossover was not measured again.)
    public static let wideRowClasses = 128
}

/// The class weights as the kernels read them: a Float copy (nil pointer: all ones) and
/// their sum.
struct ClassWeights: @unchecked Sendable {
    private let storage: FloatStorage?
    /// `sum_c w_c` of the Float weights, added in Double in class order (C without weights).
    let total: Double

    init(_ weight: Tensor<Double>?, classes: Int) {
        if let weight {
            let values = weight.scalars.map { Float($0) }
            storage = FloatStorage(values)
            total = values.reduce(0.0) { $0 + Double($1) }
        } else {
            storage = nil
            total = Double(classes)
        }
    }

    /// The weights, or nil when every weight is 1.
    var pointer: UnsafePointer<Float>? { storage.map { UnsafePointer($0.pointer) } }

    /// `w_c`.
    @inline(__always)
    func at(_ c: Int) -> Float { storage?.pointer[c] ?? 1 }
}

/// Validated pointers of one row-wise call. All are non-nil whenever the layout has at
/// least one row (then every buffer holds at least one element); `upstream`,
/// `gradInput` and `gradTarget` are nil when not given.
struct ClassStreams: @unchecked Sendable {
    var input: UnsafePointer<Float>?
    var upstream: UnsafePointer<Float>?
    var output: UnsafeMutablePointer<Float>?
    var gradInput: UnsafeMutablePointer<Float>?
    var gradTarget: UnsafeMutablePointer<Float>?
    /// True for `sum`/`mean` (one output value), false for `none`.
    var reduced: Bool

    init(input: UnsafeBufferPointer<Float>, upstream: UnsafeBufferPointer<Float>?, outputs: Fast.Outputs, reduced: Bool) {
        self.input = input.baseAddress
        self.upstream = upstream?.baseAddress
        self.output = outputs.output.baseAddress
        self.gradInput = outputs.gradInput?.baseAddress
        self.gradTarget = outputs.gradTarget?.baseAddress
        self.reduced = reduced
    }
}

/// The factor every derivative of row i is multiplied by: `g_i` for `none` (ones
/// without upstream), `Float(g / den)` for a reduction (`den` = 1 for `sum`), computed in
/// Double and rounded once.
struct RowScale: @unchecked Sendable {
    private let upstream: UnsafePointer<Float>?
    private let uniform: Float

    init(streams: ClassStreams, reduction: Reduction, denominator: Double) {
        if streams.reduced {
            let g = streams.upstream.map { Double($0[0]) } ?? 1
            upstream = nil
            uniform = Float(g / (reduction == .mean ? denominator : 1))
        } else {
            upstream = streams.upstream
            uniform = 1
        }
    }

    /// The factor of row `row`.
    @inline(__always)
    func at(_ row: Int) -> Float { upstream?[row] ?? uniform }

    /// The factors of rows `row ..< row + lanes` (0 in the lanes beyond).
    @inline(__always)
    func lanes(_ row: Int, _ lanes: Int) -> FloatVector {
        if let upstream { return VectorIO.load(upstream, row, lanes: lanes) }
        return FloatVector(repeating: uniform)
    }
}

extension BufferCheck {
    /// The buffers of a row-wise loss: input (and a probability target, and the
    /// gradients) hold the input shape's count; a class-index target holds the loss
    /// shape's count; output and upstream hold the output's count (the row count for
    /// `none`, else 1). A gradient that the loss does not define (the target gradient of
    /// class indices) must not be asked for.
    static func classBuffers(loss: String, layout: ClassLayout, inputShape: [Int], reduction: Reduction,
                             input: Int, target: Int, probabilities: Bool,
                             upstream: Int?, outputs: Fast.Outputs) throws(LossError) {
        let shape = Shape.describe(inputShape)
        let count = inputShape.reduce(1, *)
        let outputCount = reduction == .none ? layout.rows : 1
        let outputReason = reduction == .none
            ? "reduction 'none' gives the shape \(Shape.describe(layout.lossShape))"
            : "reduction '\(reduction.rawValue)' gives one value"
        try length(input, "input", expected: count, "the input shape \(shape)", loss: loss)
        if probabilities {
            try length(target, "target", expected: count, "probability targets have the input shape \(shape)", loss: loss)
        } else {
            try length(target, "target", expected: layout.rows,
                       "class indices have the shape \(Shape.describe(layout.lossShape))", loss: loss)
        }
        if let upstream {
            try length(upstream, "upstream", expected: outputCount, outputReason, loss: loss)
        }
        try length(outputs.output.count, "output", expected: outputCount, outputReason, loss: loss)
        if let gradInput = outputs.gradInput {
            try length(gradInput.count, "gradInput", expected: count, "the input shape \(shape)", loss: loss)
        }
        if let gradTarget = outputs.gradTarget {
            guard probabilities else {
                throw LossError(.target, "\(loss): gradTarget buffer given, but class-index targets have no gradient; pass gradTarget: nil")
            }
            try length(gradTarget.count, "gradTarget", expected: count, "the input shape \(shape)", loss: loss)
        }
    }
}

extension Fast {
    /// The checks every row-wise buffer entry point runs after `loss.validate`: the
    /// thread count, the buffer lengths and the aliasing rule (`reads`: the regions of
    /// the input, target and upstream buffers; BufferOverlap.swift).
    static func checkClassCall(loss: String, layout: ClassLayout, inputShape: [Int], reduction: Reduction,
                               input: Int, target: Int, probabilities: Bool, upstream: Int?,
                               outputs: Outputs, threads: Int?, reads: [BufferCheck.Region]) throws(LossError) -> Int {
        let threads = try threadCount(threads, loss: loss)
        try BufferCheck.classBuffers(loss: loss, layout: layout, inputShape: inputShape, reduction: reduction,
                                     input: input, target: target, probabilities: probabilities,
                                     upstream: upstream, outputs: outputs)
        try BufferCheck.disjoint(loss: loss, writes: BufferCheck.writes(outputs), reads: reads)
        return threads
    }

    /// The buffer entry point of the class-index losses after `loss.validate`: checks the
    /// call (`checkClassCall`), builds the streams, the class weights and the mean's
    /// denominator (`classDenominator`), handles an empty batch, calls `run` (the loss's
    /// kernel over all rows, given the streams, the non-nil targets, the weights, the
    /// rows' gradient factors and the thread count; it returns the sum of the row losses)
    /// and writes the reduced output (`RowwiseLoop.finish`).
    static func evaluateClassIndices(
        loss: String, layout: ClassLayout, reduction: Reduction, weight: Tensor<Double>?, ignoreIndex: Int,
        input: UnsafeBufferPointer<Float>, shape: [Int], target: UnsafeBufferPointer<Int>,
        upstream: UnsafeBufferPointer<Float>?, outputs: Outputs, threads: Int?,
        run: (_ streams: ClassStreams, _ targets: UnsafePointer<Int>, _ weights: ClassWeights, _ scale: RowScale,
              _ threads: Int) -> Double
    ) throws(LossError) {
        let threads = try checkClassCall(loss: loss, layout: layout, inputShape: shape,
                                         reduction: reduction, input: input.count, target: target.count,
                                         probabilities: false, upstream: upstream?.count, outputs: outputs,
                                         threads: threads, reads: [.init("input", input), .init("target", target), .init("upstream", upstream)])
        let streams = ClassStreams(input: input, upstream: upstream, outputs: outputs, reduced: reduction != .none)
        let weights = ClassWeights(weight, classes: layout.classes)
        let den = reduction == .mean
            ? classDenominator(targets: target.baseAddress, rows: layout.rows, ignoreIndex: ignoreIndex,
                               weights: weights, threads: threads)
            : 1
        guard layout.rows > 0, let targets = target.baseAddress else {
            RowwiseLoop.finish(total: 0, reduction: reduction, denominator: den, streams: streams)
            return
        }
        let scale = RowScale(streams: streams, reduction: reduction, denominator: den)
        let total = run(streams, targets, weights, scale, threads)
        RowwiseLoop.finish(total: total, reduction: reduction, denominator: den, streams: streams)
    }

    /// The denominator of a class-index `mean`: `sum_{i not ignored} w[y_i]` (the
    /// non-ignored count without weights), in Double, by fixed chunks of rows and the
    /// fixed pairwise tree. 0 when every target is ignored (the mean is then 0/0 = NaN).
    static func classDenominator(targets: UnsafePointer<Int>?, rows: Int, ignoreIndex: Int,
                                 weights: ClassWeights, threads: Int) -> Double {
        guard rows > 0, let targets else { return 0 }
        let chunks = Chunks(count: rows)
        let y = UncheckedBox(targets)
        return Parallel.sum(chunks.chunks, work: rows, threads: threads) { k -> Double in
            var sum = 0.0
            for i in chunks.range(k) where y.value[i] != ignoreIndex {
                sum += Double(weights.at(y.value[i]))
            }
            return sum
        }
    }
}

/// The row loop: fixed chunks of whole rows, their partial sums combined by the fixed
/// tree, and the reduced output.
enum RowwiseLoop {
    /// Calls `chunk(rows)` for every chunk of `rowsPerChunk` rows (on up to `threads`
    /// threads; `work` elements in all) and returns the sum of what the chunks return.
    static func run(rows: Int, rowsPerChunk: Int, work: Int, threads: Int,
                    _ chunk: (Range<Int>) -> Double) -> Double {
        let chunks = Chunks(count: rows, size: rowsPerChunk)
        return Parallel.sum(chunks.chunks, work: work, threads: threads) { k in chunk(chunks.range(k)) }
    }

    /// Writes the reduced output: `total / den` for `mean`, `total` for `sum`, rounded once.
    static func finish(total: Double, reduction: Reduction, denominator: Double, streams: ClassStreams) {
        guard streams.reduced else { return }
        streams.output![0] = Float(reduction == .mean ? total / denominator : total)
    }
}

extension Fast {
    /// The tensor entry point of every row-wise loss: checks the upstream's shape,
    /// allocates the output and the requested gradients (uninitialized: the buffer entry
    /// point writes every element), and calls `bufferCall` on the tensors' storage.
    /// `targetGradient` says whether the loss defines a target gradient.
    static func evaluateClassTensors<Target>(
        loss: String, layout: ClassLayout, input: Tensor<Float>, target: Tensor<Target>,
        upstream: Tensor<Float>?, gradients: GradientRequest, targetGradient: Bool,
        _ bufferCall: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Target>, UnsafeBufferPointer<Float>?, Outputs) throws(LossError) -> Void
    ) throws(LossError) -> LossResult<Float> {
        try validateUpstream(upstream, outputShape: layout.outputShape, loss: loss)
        let outputCount = layout.outputShape.reduce(1, *)
        let count = input.count
        var failure: LossError?
        var gradInput: [Float]?, gradTarget: [Float]?
        let output = FreshArrays.make(count: outputCount, wanted: true) { output in
            gradInput = FreshArrays.make(count: count, wanted: gradients.contains(.input)) { gi in
                gradTarget = FreshArrays.make(count: count, wanted: targetGradient && gradients.contains(.target)) { gt in
                    input.withUnsafeBufferPointer { x in
                        target.withUnsafeBufferPointer { y in
                            let outputs = Outputs(output: output!, gradInput: gi, gradTarget: gt)
                            func call(_ u: UnsafeBufferPointer<Float>?) {
                                do throws(LossError) {
                                    try bufferCall(x, y, u, outputs)
                                } catch {
                                    failure = error
                                }
                            }
                            if let upstream { upstream.withUnsafeBufferPointer { call($0) } } else { call(nil) }
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
        return LossResult(output: Tensor(unchecked: layout.outputShape, output!),
                          gradInput: gradInput.map { Tensor(unchecked: input.shape, $0) },
                          gradTarget: gradTarget.map { Tensor(unchecked: input.shape, $0) })
    }
}

// MARK: Lane groups

/// Up to 16 consecutive rows `first ..< first + lanes`, one per lane, and the class-major
/// tile they are copied into: `tile[c * 16 + k]` is class c of row `first + k`. Lanes
/// beyond `lanes` hold 0 in the tile and are never copied out.
struct RowGroup {
    let first: Int
    let lanes: Int
    let classes: Int
    let inner: Int
    /// The input offset of class 0 of lane 0.
    let base: Int
    /// True when the lanes are consecutive elements of the input (16 positions of one n
    /// with inner > 1): the tile's columns are plain vector copies. Else each lane is
    /// gathered on its own.
    let contiguous: Bool

    init(layout: ClassLayout, first: Int, lanes: Int) {
        self.first = first
        self.lanes = lanes
        self.classes = layout.classes
        self.inner = layout.inner
        // (No division for inner = 1: one per group of 16 rows was measurable with C = 10.)
        let n = layout.inner == 1 ? first : first / layout.inner, s = first - n * layout.inner
        base = n * layout.classes * layout.inner + s
        contiguous = layout.inner > 1 && s + lanes <= layout.inner
    }

    /// The input offset of class 0 for each lane `k` in `0..<lanes`, in order.
    @inline(__always)
    private func forEachLane(_ body: (_ k: Int, _ rowStart: Int) -> Void) {
        if inner == 1 {
            for k in 0..<lanes { body(k, base + k * classes) }
            return
        }
        var s = first % inner, start = base
        for k in 0..<lanes {
            body(k, start)
            s += 1
            start += 1
            if s == inner {
                s = 0
                start += (classes - 1) * inner
            }
        }
    }

    /// Copies the group's rows of `source` (an input-shaped buffer) into `tile`.
    @inline(__always)
    func fill(_ tile: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>) {
        if contiguous {
            for c in 0..<classes {
                VectorIO.store(VectorIO.load(source, base + c * inner, lanes: lanes), tile, c &* 16)
            }
            return
        }
        if lanes < 16 {
            for c in 0..<classes { VectorIO.store(FloatVector(), tile, c &* 16) }
        }
        let stride = inner, classes = self.classes
        if stride == 1 {
            if lanes == 16 {
                Self.transposeIn(tile, from: source + base, classes: classes)
                return
            }
            forEachLane { k, start in
                let row = source + start
                for c in 0..<classes { tile[c &* 16 &+ k] = row[c] }
            }
            return
        }
        forEachLane { k, start in
            let row = source + start
            var c = 0, o = k
            while c < classes {
                tile[o] = row[c &* stride]
                c &+= 1
                o &+= 16
            }
        }
    }

    /// Copies the tile's valid lanes into the group's rows of `destination`.
    @inline(__always)
    func drain(_ tile: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>) {
        if contiguous {
            for c in 0..<classes {
                VectorIO.store(VectorIO.load(tile, c &* 16), destination, base + c * inner, lanes: lanes)
            }
            return
        }
        let stride = inner, classes = self.classes
        if stride == 1 {
            if lanes == 16 {
                Self.transposeOut(tile, to: destination + base, classes: classes)
                return
            }
            forEachLane { k, start in
                let row = destination + start
                for c in 0..<classes { row[c] = tile[c &* 16 &+ k] }
            }
            return
        }
        forEachLane { k, start in
            let row = destination + start
            var c = 0, o = k
            while c < classes {
                row[c &* stride] = tile[o]
                c &+= 1
                o &+= 16
            }
        }
    }

    /// 16 consecutive rows of `classes` Floats at `rows` into the class-major `tile`, in
    /// 4 x 4 blocks (four rows by four classes: four vector loads, the transpose in
    /// register shuffles, four vector stores), the last `classes % 4` classes one by one.
    /// Measured (W9, [2^20, 10], value + gradient, 1 thread, default target): the
    /// element-by-element copies of `fill` and `drain` took about 18% of the kernel's
    /// instructions (callgrind).
    @inline(__always)
    static func transposeIn(_ tile: UnsafeMutablePointer<Float>, from rows: UnsafePointer<Float>, classes: Int) {
        let whole = classes & ~3
        for q in Swift.stride(from: 0, to: 16, by: 4) {
            let r0 = rows + q &* classes, r1 = r0 + classes, r2 = r1 + classes, r3 = r2 + classes
            var c = 0
            while c < whole {
                let (t0, t1, t2, t3) = transpose4(load4(r0 + c), load4(r1 + c), load4(r2 + c), load4(r3 + c))
                let o = tile + (c &* 16 &+ q)
                store4(t0, o); store4(t1, o + 16); store4(t2, o + 32); store4(t3, o + 48)
                c &+= 4
            }
            while c < classes {
                store4(SIMD4(r0[c], r1[c], r2[c], r3[c]), tile + (c &* 16 &+ q))
                c &+= 1
            }
        }
    }

    /// The inverse of `transposeIn`: the class-major `tile` back into 16 rows.
    @inline(__always)
    static func transposeOut(_ tile: UnsafePointer<Float>, to rows: UnsafeMutablePointer<Float>, classes: Int) {
        let whole = classes & ~3
        for q in Swift.stride(from: 0, to: 16, by: 4) {
            let r0 = rows + q &* classes, r1 = r0 + classes, r2 = r1 + classes, r3 = r2 + classes
            var c = 0
            while c < whole {
                let i = tile + (c &* 16 &+ q)
                let (t0, t1, t2, t3) = transpose4(load4(i), load4(i + 16), load4(i + 32), load4(i + 48))
                store4(t0, r0 + c); store4(t1, r1 + c); store4(t2, r2 + c); store4(t3, r3 + c)
                c &+= 4
            }
            while c < classes {
                let v = load4(tile + (c &* 16 &+ q))
                r0[c] = v[0]; r1[c] = v[1]; r2[c] = v[2]; r3[c] = v[3]
                c &+= 1
            }
        }
    }

    @inline(__always)
    private static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }

    @inline(__always)
    private static func load4(_ p: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }

    @inline(__always)
    private static func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
    }

    /// The 4 x 4 transpose: column j of the result is lane j of each input.
    @inline(__always)
    private static func transpose4(_ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>)
        -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        (SIMD4(a[0], b[0], c[0], d[0]), SIMD4(a[1], b[1], c[1], d[1]),
         SIMD4(a[2], b[2], c[2], d[2]), SIMD4(a[3], b[3], c[3], d[3]))
    }

    /// Calls `body` for each group of up to 16 rows of `rows`, in order.
    @inline(__always)
    static func forEach(in rows: Range<Int>, layout: ClassLayout, _ body: (RowGroup) -> Void) {
        var r = rows.lowerBound
        while r < rows.upperBound {
            let lanes = min(16, rows.upperBound - r)
            body(RowGroup(layout: layout, first: r, lanes: lanes))
            r += lanes
        }
    }
}

/// Per-lane sums for lane groups: each lane adds its terms in Float over blocks of at
/// most `Fast.termsPerLane` terms, then into its own Double, so a lane's sum of C terms
/// errs by at most about `(Fast.termsPerLane - 1) * 2^-24` times the sum of magnitudes,
/// whatever C.
struct LaneSums {
    private var block = FloatVector()
    private var low = SIMD8<Double>()
    private var high = SIMD8<Double>()

    @inline(__always)
    mutating func add(_ terms: FloatVector) { block += terms }

    /// Moves the block's partials into Double (call after at most `Fast.termsPerLane` adds).
    @inline(__always)
    mutating func endBlock() {
        low += SIMD8<Double>(block.lowHalf)
        high += SIMD8<Double>(block.highHalf)
        block = FloatVector()
    }

    /// The per-lane sums (after the last `endBlock`), rounded to Float.
    var value: FloatVector {
        FloatVector(lowHalf: SIMD8<Float>(low), highHalf: SIMD8<Float>(high))
    }
}

/// Lane-wise helpers of the softmax kernels.
enum SoftmaxLanes {
    /// `max(m, v)` lane by lane, keeping `m` where `v` is NaN (NaN never becomes the
    /// maximum: the kernels let it propagate through the sum of exponentials instead).
    ///
    /// Written with `replace(with:where:)`: in the max loop over a row this compiled to
    /// cmpltps + blend, 12x faster than the and/andnot/or bit-select form (since removed; whose
    /// mask the optimizer rebuilt lane by lane there) and over 100x faster than
    /// `pointwiseMax` (measured on the default x86-64 target).
    @inline(__always)
    static func runningMax(_ m: FloatVector, _ v: FloatVector) -> FloatVector {
        var m = m
        m.replace(with: v, where: v .> m)
        return m
    }

    /// The largest lane of `m` (whose lanes are never NaN).
    @inline(__always)
    static func largest(_ m: FloatVector) -> Float { m.max() }

    /// Ones where `mask` is set, zeros elsewhere (through `Lanes.choose`, which stays in
    /// vector registers where the bit-select form did not).
    @inline(__always)
    static func ones(_ mask: SIMDMask<Int32Vector>) -> FloatVector {
        Lanes.choose(mask, FloatVector(repeating: 1), else: FloatVector())
    }

    /// `v` where `mask` is clear, 0 where it is set.
    @inline(__always)
    static func zeroing(_ v: FloatVector, where mask: SIMDMask<Int32Vector>) -> FloatVector {
        Lanes.choose(mask, FloatVector(), else: v)
    }
}

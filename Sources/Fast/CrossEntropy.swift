import Foundation

extension Fast {
    /// Softmax cross-entropy with class-index targets, PyTorch's `cross_entropy`, in Float.
    ///
    /// Input `[C]` with target `[]`, `[N, C]` with `[N]`, or `[N, C, d1, ..., dk]` with
    /// `[N, d1, ..., dk]`. For each row i (each target element) with class `y = y_i`,
    /// `logp = log_softmax(input_i)`:
    ///
    ///     l_i = (1 - eps) (-w[y] logp[y]) + (eps / C) (-sum_c w_c logp[c])
    ///
    /// (`l_i = -w[y] logp[y]` when `eps = labelSmoothing` is 0), `w` the class weights
    /// (ones by default), `l_i = 0` where `y_i == ignoreIndex` (default -100). `none` keeps
    /// the target's shape; `sum` adds; `mean` (the default) divides by
    /// `den = sum_{i not ignored} w[y_i]` (the non-ignored count without weights).
    ///
    /// - Gradients (`gradients: .input`): `[(1 - eps) w[y] (p - onehot(y)) + (eps/C) ((sum_c w_c) p - w)] g_i / den`,
    ///   `p = softmax(input_i)`, 0 for an ignored row. No target gradient (the target is
    ///   discrete): `gradTarget` is nil.
    /// - Method: one read of each logit row. The row's maximum is found block by block
    ///   (2048 classes, in L1) and the exponentials `exp(x - M)` are computed against the
    ///   running maximum M, kept in the gradient buffer and summed; when a later block
    ///   raises the maximum, the sums are rescaled (the online softmax recurrence, per
    ///   block) and each block's stored exponentials get their factor
    ///   `exp(M_block - M_final) * w g / s` in the gradient pass, while the row is in cache.
    ///   Each exponential is computed once. Small C (inner = 1, C < `Fast.wideRowClasses`)
    ///   and k-dimensional inputs put 16 rows side by side in the vector lanes instead
    ///   (copied into a class-major tile in 4 x 4 transposed blocks; the max, exp, sums and
    ///   the gradient's plain entries run on whole vectors, the target's entry and the
    ///   ignored rows are written lane by lane afterwards). Measured on `[2^20, 10]`, value +
    ///   gradient, buffer API, 1 thread: 42-49 ms on a loaded machine, 21-24% of the copy
    ///   bandwidth (was 61-78 ms, 13-20%); ~350 instructions per row, a third of them the
    ///   exponentials (docs/benchmarks.md, "Kernel changes").
    ///   The sum `s = 1 + rest` keeps `rest` (every term but the first maximal one)
    ///   separately, and `log(s)` is `log1p(rest)`, so a row that is one-hot to working
    ///   precision keeps a loss of full relative accuracy; the target's entry
    ///   `p[y] - 1 = -(s - e_y)/s` is formed from `rest` too, without cancellation.
    /// - Accuracy: each exponential errs by at most 1 ulp plus `|x - m| u` from the rounded
    ///   shift (the row's condition); the sums add at most 16 terms per lane in Float
    ///   before moving to Double. FastClassTests derives a bound per row and element from
    ///   these (FastClassBounds.swift) and holds every result to it. Measured against the
    ///   Double reference over its generated, masked, wide and k-dimensional cases (u =
    ///   Float ulp; `LOSS_REPORT=1`): loss values within 13 ulp (p99 4, median 0); gradient
    ///   norm-wise within 13 ulp of the row's largest entry (elements p99 23 ulp; entries
    ///   that cancel, such as `base p_c - (eps/C) w_c`, have large relative but tiny
    ///   absolute errors). No result used more than 0.47 of its bound.
    /// - Edge cases: `-inf` logits mask classes; the target class masked gives an infinite
    ///   loss; with `eps > 0` any masked class gives an infinite loss (and a masked class
    ///   with weight 0 gives NaN, as PyTorch). A non-ignored row of all `-inf`, or with a
    ///   `+inf` or NaN logit, gives NaN in its loss and its whole gradient row (NaN is
    ///   carried through the sum of exponentials; the maximum skips it). An ignored row
    ///   gives 0 and gradient 0 whatever its logits. All targets ignored: `mean` is NaN,
    ///   `sum` 0, `none` zeros, the gradient 0. A zero or negative total weight gives
    ///   +-inf or NaN, unguarded.
    /// - Threads: see `Fast`; the same bits for every thread count.
    /// - Throws: `.shape` for shapes that do not fit (or an upstream not of the output's
    ///   shape); `.target` for an index outside `[0, C)` that is not `ignoreIndex`;
    ///   `.option` for a weight without C entries, `labelSmoothing` outside [0, 1],
    ///   `batchmean`, or `threads < 1`.
    public static func evaluate(
        _ loss: CrossEntropyLoss, input: Tensor<Float>, target: Tensor<Int>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try target.scalars.withUnsafeBufferPointer { (indices) throws(LossError) in
            try loss.validate(input: input.shape, target: target.shape, classIndices: indices)
        }
        return try evaluateClassTensors(loss: CrossEntropyLoss.name, layout: layout, input: input, target: target,
                                        upstream: upstream, gradients: gradients, targetGradient: false) {
            (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, shape: input.shape, target: y, targetShape: target.shape,
                         upstream: u, into: outputs, threads: threads)
        }
    }

    /// Softmax cross-entropy with class-index targets over caller-owned buffers, without
    /// allocating (except a Float copy of the class weights).
    ///
    /// The same loss, gradient, accuracy and edge cases as the tensor form. `input` holds
    /// the `shape`'s elements, `target` the `targetShape`'s class indices; `upstream`
    /// (nil: ones) and `outputs.output` hold the output's elements (the target's count for
    /// `none`, else 1); a non-nil `outputs.gradInput` holds the input's count.
    ///
    /// - Throws: as the tensor form; `.shape` naming a buffer whose length differs from
    ///   what the shapes imply; `.target` if `outputs.gradTarget` is given (class indices
    ///   have no gradient).
    public static func evaluate(
        _ loss: CrossEntropyLoss, input: UnsafeBufferPointer<Float>, shape: [Int],
        target: UnsafeBufferPointer<Int>, targetShape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: targetShape, classIndices: target)
        try evaluateClassIndices(loss: CrossEntropyLoss.name, layout: layout, reduction: loss.reduction,
                                 weight: loss.weight, ignoreIndex: loss.ignoreIndex, input: input, shape: shape,
                                 target: target, upstream: upstream, outputs: outputs, threads: threads) {
            streams, targets, weights, scale, threads in
            SoftmaxIndexKernel(layout: layout, streams: streams, targets: targets, weights: weights,
                               ignoreIndex: loss.ignoreIndex, smoothing: loss.labelSmoothing, scale: scale)
                .run(threads: threads)
        }
    }

    /// Softmax cross-entropy with class-probability targets, PyTorch's `cross_entropy`
    /// when the target has the input's shape, in Float.
    ///
    /// With `eps = labelSmoothing` the target is smoothed, `t <- (1 - eps) t + eps / C`;
    /// then `l_n = -sum_c w_c t_c logp_c` per row, `logp = log_softmax(input_n)`. The target
    /// is not validated. `none` gives the input's shape without the class dimension; `mean`
    /// (the default) divides by the row count `N * d1 * ... * dk` (weights do not enter).
    ///
    /// - Gradients: `d/dinput = (p * sum_c w_c t_c - w * t) g / den`;
    ///   `d/dtarget = -(1 - eps) w logp g / den`.
    /// - Method: per row, the maximum, then the exponentials and the sums (`rest`, the
    ///   target mass, `sum w t (x - m)`), then the gradients with the exponentials computed
    ///   again (one row stays in cache throughout); lane groups of 16 rows for small C and
    ///   k-dimensional inputs, as for class indices.
    /// - Accuracy: as for class indices; measured: loss values within 2 ulp, gradients
    ///   norm-wise within 5.2 ulp (FastClassTests, `LOSS_REPORT=1`). At the row's unique
    ///   maximal class the input gradient is `(p - 1) T + sum_{j != top} w_j t_j` with
    ///   `p - 1 = -rest / s` (`T = sum w t`), as the reference, so a near-certain row keeps
    ///   relative accuracy where `p T - w t` would cancel to 0: measured within 2.7 u
    ///   relative for one-hot targets with `1 - p` down to 1e-16 (FastClassTests
    ///   `oneHotProbabilityGradient`).
    /// - Edge cases: a (smoothed) target of exactly 0 on a `-inf` logit contributes 0 to the
    ///   loss and to the input gradient, even in a row of all `-inf` (whose loss is then 0
    ///   if every target is 0); its target gradient is `+inf` (NaN in an all `-inf` row).
    ///   A positive target on a `-inf` logit gives an infinite loss; a `+inf` or NaN logit,
    ///   or an all `-inf` row with a nonzero target, gives NaN. Empty input: `mean` NaN.
    /// - Throws: `.shape` if the target's shape differs from the input's (or the
    ///   upstream's from the output's); `.option` for a non-negative `ignoreIndex`, a
    ///   weight without C entries, `labelSmoothing` outside [0, 1], `batchmean`, or
    ///   `threads < 1`.
    public static func evaluate(
        _ loss: CrossEntropyLoss, input: Tensor<Float>, target: Tensor<Float>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try loss.validate(input: input.shape, probabilityTarget: target.shape)
        return try evaluateClassTensors(loss: CrossEntropyLoss.name, layout: layout, input: input, target: target,
                                        upstream: upstream, gradients: gradients, targetGradient: true) {
            (x, t, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, shape: input.shape, target: t, targetShape: target.shape,
                         upstream: u, into: outputs, threads: threads)
        }
    }

    /// Softmax cross-entropy with class-probability targets over caller-owned buffers.
    ///
    /// The same loss, gradients and edge cases as the tensor form. `input` and `target`
    /// hold the `shape`'s elements (`targetShape` must equal `shape`); `upstream` and
    /// `outputs.output` the output's; `outputs.gradInput` / `gradTarget`, when given, the
    /// input's count.
    ///
    /// - Throws: as the tensor form; `.shape` naming a buffer of the wrong length.
    public static func evaluate(
        _ loss: CrossEntropyLoss, input: UnsafeBufferPointer<Float>, shape: [Int],
        target: UnsafeBufferPointer<Float>, targetShape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, probabilityTarget: targetShape)
        let threads = try checkClassCall(loss: CrossEntropyLoss.name, layout: layout, inputShape: shape,
                                         reduction: loss.reduction, input: input.count, target: target.count,
                                         probabilities: true, upstream: upstream?.count, outputs: outputs,
                                         threads: threads, reads: [.init("input", input), .init("target", target), .init("upstream", upstream)])
        let streams = ClassStreams(input: input, upstream: upstream, outputs: outputs, reduced: loss.reduction != .none)
        let den = Double(layout.rows)
        guard layout.rows > 0, let targets = target.baseAddress else {
            RowwiseLoop.finish(total: 0, reduction: loss.reduction, denominator: den, streams: streams)
            return
        }
        let kernel = SoftmaxProbabilityKernel(
            layout: layout, streams: streams, targets: targets,
            weights: ClassWeights(loss.weight, classes: layout.classes), smoothing: loss.labelSmoothing,
            scale: RowScale(streams: streams, reduction: loss.reduction, denominator: den))
        let total = kernel.run(threads: threads)
        RowwiseLoop.finish(total: total, reduction: loss.reduction, denominator: den, streams: streams)
    }
}

// MARK: Kernels
//
// Notation: x a row's logits, M its (running) maximum, shift = M (0 while M is -inf, so
// that exp(-inf - shift) = 0 rather than exp(NaN)), e_c = exp(x_c - shift) <= 1, and
// s = sum_c e_c = 1 + rest, where the 1 is the first maximal class's e = exp(0) = 1.
// log(s) is computed as log1p(rest), and the target's entry p_y - 1 = -(s - e_y)/s as
// -rest/s when y is maximal, so both keep full relative accuracy however small rest is.
// rest comes from one of two sums:
// - s >= 2 (the usual case): rest = s - 1 from the plain sum; s's own error is at most
//   about 16 u s, and rest >= s/2, so rest keeps a relative error of a few times that.
// - s < 2 (the maximum dominates the row): rest is summed again over the stored
//   exponentials, leaving out the terms equal to 1 (the maximal classes) and counting
//   them instead: rest = (count - 1) + sum_{e_c < 1} e_c, with the relative accuracy of a
//   sum of positive terms. (A class within 2^-25 of the maximum also has e_c == 1; it
//   is counted as a tie, an error below u/2 in a rest that is then >= 1.)
// A maximum that is not finite (all -inf, or +inf) makes the row NaN, as the reference;
// a NaN logit is skipped by the maximum and makes the sum NaN.

// Measurements behind the choices (release build, default x86-64 target unless noted,
// one thread, thread CPU time on a shared 2-core machine; W7 = logits [4096, 32000],
// value + gradient; "in cache" = 16 rows of 32000, 20 calls):
// - Each exponential once: keeping exp(x - M_block) in the gradient buffer and scaling it
//   by exp(M_block - M) w g / s in a second pass costs 1.24 ns per element in cache and
//   ~180 ms on W7; computing the exponential again in the gradient pass instead costs
//   2.13 ns and ~270 ms (the exponential is the kernel's main cost: ~0.9 ns per element
//   alone, in cache).
// - The next block's maximum is taken inside this block's exp loop: with a separate
//   max pass per block the loads from memory did not overlap the arithmetic (W7: ~230
//   -> ~160 ms).
// - The running maximum with `replace(with:where:)` (see SoftmaxLanes.runningMax).
// - Plain sums in the exp loop, the exact `rest` only where s < 2: the masked sum and
//   tie count in every iteration cost ~25% more in cache.
// - Folding each 16-lane vector to 4 lanes before accumulating (fewer registers) was
//   slower (1.5-2.0 vs 1.3 ns per element in cache) and was not kept.
// Result: W7 value + gradient ~160-180 ms (5.8-6.5 GB/s of logits read + gradient
// written) in the default build, ~130 ms (8.1 GB/s) with -target-cpu native; a plain
// y = 2x loop over the same arrays runs at 11-14 GB/s here.

/// Block length of the wide-row kernels: 2048 classes (8 KiB of logits and 8 KiB of
/// stored exponentials stay in L1 between the block's max pass and its exp pass).
private let softmaxBlock = 2048

/// Below this sum of exponentials the kernels recompute `rest` leaving out the maximal
/// terms (see the notation above).
private let carefulRestBelow: Float = 2

/// The per-row finish in Double shared by the wide kernels: `log(s)` from the row's rest.
private struct RowSoftmax {
    /// The row maximum (finite unless the row is NaN).
    var maximum: Float
    /// `s - 1` (every term but the first maximal one; NaN for a NaN row).
    var rest: Double

    /// NaN unless the maximum is finite.
    init(maximum: Float, rest: Double) {
        self.maximum = maximum
        self.rest = maximum.isFinite ? rest : .nan
    }

    var sum: Double { 1 + rest }
    var logSum: Double { Foundation.log1p(rest) }
    /// `x - M` in Double (exact for Floats within 2^29 of each other, else one rounding).
    func shifted(_ x: Float) -> Double { Double(x) - Double(maximum) }
}

/// `cross_entropy` with class-index targets.
struct SoftmaxIndexKernel: @unchecked Sendable {
    let layout: ClassLayout
    let streams: ClassStreams
    let targets: UnsafePointer<Int>
    let weights: ClassWeights
    let ignoreIndex: Int
    /// eps, and the derived constants in Double.
    let smoothing: Double
    let scale: RowScale

    init(layout: ClassLayout, streams: ClassStreams, targets: UnsafePointer<Int>, weights: ClassWeights,
         ignoreIndex: Int, smoothing: Double, scale: RowScale) {
        self.layout = layout
        self.streams = streams
        self.targets = targets
        self.weights = weights
        self.ignoreIndex = ignoreIndex
        self.smoothing = Double(Float(smoothing))
        self.scale = scale
    }

    var smoothed: Bool { smoothing > 0 }

    func run(threads: Int) -> Double {
        let wide = layout.inner == 1 && layout.classes >= Fast.wideRowClasses
        let rowsPerChunk = Fast.rowsPerChunk(classes: layout.classes, laneGroups: !wide)
        let gradient = streams.gradInput != nil
        let weighted = weights.pointer != nil
        return RowwiseLoop.run(rows: layout.rows, rowsPerChunk: rowsPerChunk, work: layout.rows * layout.classes,
                               threads: threads) { rows in
            switch (wide, gradient, smoothed) {
            case (true, true, true): weighted ? wideChunk(rows, true, true, true) : wideChunk(rows, true, true, false)
            case (true, true, false): wideChunk(rows, true, false, false)
            case (true, false, true): weighted ? wideChunk(rows, false, true, true) : wideChunk(rows, false, true, false)
            case (true, false, false): wideChunk(rows, false, false, false)
            case (false, true, _): laneChunk(rows, gradient: true)
            case (false, false, _): laneChunk(rows, gradient: false)
            }
        }
    }

    // MARK: Wide rows

    /// Rows of a `[N, C]` (or `[C]`) input one at a time.
    @inline(__always)
    private func wideChunk(_ rows: Range<Int>, _ gradient: Bool, _ smoothing: Bool, _ weighted: Bool) -> Double {
        let C = layout.classes
        let blocks = (C + softmaxBlock - 1) / softmaxBlock
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: blocks) { shifts in
            var total = 0.0
            for r in rows {
                let y = targets[r]
                let value: Double
                if y == ignoreIndex {
                    value = 0
                    if gradient { (streams.gradInput! + r * C).update(repeating: 0, count: C) }
                } else {
                    value = wideRow(r, y, shifts.baseAddress!, gradient, smoothing, weighted)
                }
                if streams.reduced { total += value } else { streams.output![r] = Float(value) }
            }
            return total
        }
    }

    /// One non-ignored row: returns its loss, writes its gradient row.
    @inline(__always)
    private func wideRow(_ r: Int, _ y: Int, _ shifts: UnsafeMutablePointer<Float>,
                         _ gradient: Bool, _ smoothing: Bool, _ weighted: Bool) -> Double {
        let C = layout.classes
        let x = streams.input! + r * C
        let grad = gradient ? streams.gradInput! + r * C : nil
        let w = weights.pointer
        var maximum = -Float.infinity
        // Sums relative to the running maximum: s = sum e, and for smoothing
        // A = sum_c w_c (x_c - shift) with W the weight seen so far.
        var s = 0.0, a = 0.0, seen = 0.0
        var blocks = 0, lo = 0
        var blockMax = Self.maximum(x, 0..<min(softmaxBlock, C))
        while lo < C {
            let hi = min(lo + softmaxBlock, C)
            if blockMax > maximum {
                // The online recurrence: what was summed against the old maximum is scaled
                // to the new one. (While the maximum was -inf every term was 0 or NaN.)
                let oldShift = maximum == -.infinity ? 0 : Double(maximum)
                s *= maximum == -.infinity ? 0 : Foundation.exp(Double(maximum) - Double(blockMax))
                if smoothing { a -= seen * (Double(blockMax) - oldShift) }
                maximum = blockMax
            }
            shifts[blocks] = maximum
            let shiftV = FloatVector(repeating: maximum == -.infinity ? 0 : maximum)
            // The exp pass over this block also takes the maximum of the next one (its
            // vector at the same offset), so that the next block's loads from memory
            // overlap this block's arithmetic instead of waiting for it.
            let nextHi = min(hi + softmaxBlock, C)
            var nextMax = FloatVector(repeating: -.infinity)
            var sum = BlockedSum(), aSum = BlockedSum(), wSum = BlockedSum()
            VectorIO.forEachVector(in: lo..<hi, { i, lanes in
                let v = VectorIO.load(x, i, lanes: lanes, fill: -.infinity)
                let d = v - shiftV
                let e = VectorMath.exp(d)  // 0 in padding lanes
                if let grad { VectorIO.store(e, grad, i, lanes: lanes) }
                sum.add(e)
                if smoothing {
                    let dk = VectorIO.keep(d, lanes: lanes)
                    if weighted {
                        let wv = VectorIO.load(w!, i, lanes: lanes)
                        aSum.add(wv * dk)
                        wSum.add(wv)
                    } else {
                        aSum.add(dk)
                    }
                }
                let j = i + softmaxBlock
                if j + 16 <= nextHi {
                    nextMax = SoftmaxLanes.runningMax(nextMax, VectorIO.load(x, j))
                } else if j < nextHi {
                    nextMax = SoftmaxLanes.runningMax(nextMax, VectorIO.load(x, j, lanes: nextHi - j, fill: -.infinity))
                }
            }, endBlock: {
                sum.endBlock()
                if smoothing {
                    aSum.endBlock()
                    if weighted { wSum.endBlock() }
                }
            })
            blockMax = SoftmaxLanes.largest(nextMax)
            s += sum.value
            if smoothing {
                a += aSum.value
                seen += weighted ? wSum.value : Double(hi - lo)
            }
            blocks += 1
            lo = hi
        }
        let rest = s < Double(carefulRestBelow)
            ? carefulRest(x, grad, shifts, blocks: blocks, maximum: maximum)
            : s - 1
        let row = RowSoftmax(maximum: maximum, rest: rest)
        let logSum = row.logSum
        let wy = Double(weights.at(y))
        let dy = row.shifted(x[y])
        let nll = wy * (logSum - dy)
        let eps = self.smoothing, epsC = eps / Double(C), total = weights.total
        let value = smoothing ? (1 - eps) * nll + epsC * (total * logSum - a) : nll

        if let grad {
            let s = row.sum
            let g = Double(scale.at(r))
            let base = smoothing ? (1 - eps) * wy + epsC * total : wy
            // With smoothing the entry is (base p_c - (eps/C) w_c) g, multiplied by g last
            // as the reference does (an infinite g/den then gives +-inf, not inf - inf).
            let k = smoothing ? base / s : base * g / s
            // p_y - 1 = -(s - e_y) / s; at a maximal target, s - e_y = rest.
            let ey = dy == 0 ? 1 : Foundation.exp(dy)
            let others = dy == 0 ? row.rest : s - ey
            let targetEntry = smoothing
                ? ((1 - eps) * wy * (-others / s) + epsC * (total * (ey / s) - wy)) * g
                : wy * (-others / s) * g
            let lv = FloatVector(repeating: Float(epsC)), gv = FloatVector(repeating: Float(g))
            lo = 0
            for b in 0..<blocks {
                let hi = min(lo + softmaxBlock, C)
                let kb = FloatVector(repeating: Float(k * Foundation.exp(Double(shifts[b]) - Double(maximum))))
                VectorIO.forEachVector(in: lo..<hi, { i, lanes in
                    var entry = VectorIO.load(grad, i, lanes: lanes) * kb
                    if smoothing {
                        entry = (entry - (weighted ? VectorIO.load(w!, i, lanes: lanes) * lv : lv)) * gv
                    }
                    VectorIO.store(entry, grad, i, lanes: lanes)
                }, endBlock: {})
                lo = hi
            }
            grad[y] = Float(row.maximum.isFinite ? targetEntry : .nan)
        }
        return value
    }

    /// `rest = s - 1` summed again for a row whose maximum dominates (s < 2): over the
    /// stored exponentials (or, without a gradient buffer, computed again), each block
    /// scaled to the final maximum, the terms equal to 1 counted rather than added.
    private func carefulRest(_ x: UnsafePointer<Float>, _ grad: UnsafeMutablePointer<Float>?,
                             _ shifts: UnsafeMutablePointer<Float>, blocks: Int, maximum: Float) -> Double {
        guard maximum.isFinite else { return .nan }
        let C = layout.classes
        var rest = 0.0, ties = 0.0
        let one = FloatVector(repeating: 1)
        var lo = 0
        for b in 0..<blocks {
            let hi = min(lo + softmaxBlock, C)
            let shiftV = FloatVector(repeating: shifts[b] == -.infinity ? 0 : shifts[b])
            var sum = BlockedSum()
            var count = FloatVector()
            VectorIO.forEachVector(in: lo..<hi, { i, lanes in
                let e = grad.map { VectorIO.load($0, i, lanes: lanes) }
                    ?? VectorMath.exp(VectorIO.load(x, i, lanes: lanes, fill: -.infinity) - shiftV)
                let top = VectorIO.keep(e, lanes: lanes) .>= one
                sum.add(SoftmaxLanes.zeroing(e, where: top))
                count += SoftmaxLanes.ones(top)
            }, endBlock: { sum.endBlock() })
            if shifts[b] == maximum {
                rest += sum.value
                ties += Double(count.sum())
            } else {
                rest += (sum.value + Double(count.sum())) * Foundation.exp(Double(shifts[b]) - Double(maximum))
            }
            lo = hi
        }
        return (ties - 1) + rest
    }

    /// The largest non-NaN element of `x[range]` (-inf if none).
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, _ range: Range<Int>) -> Float {
        var m = FloatVector(repeating: -.infinity)
        VectorIO.forEachVector(in: range, { i, lanes in
            m = SoftmaxLanes.runningMax(m, VectorIO.load(x, i, lanes: lanes, fill: -.infinity))
        }, endBlock: {})
        return SoftmaxLanes.largest(m)
    }

    // MARK: Lane groups

    /// 16 rows at a time, one per lane, through a class-major tile.
    @inline(__always)
    private func laneChunk(_ rows: Range<Int>, gradient: Bool) -> Double {
        let C = layout.classes
        // The tile, then 80 Floats of scratch for the per-lane target data.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 16) { offsetBuffer in
          withUnsafeTemporaryAllocation(of: Float.self, capacity: C * 16 + 80) { tileBuffer in
            let tile = tileBuffer.baseAddress!, offsets = offsetBuffer.baseAddress!
            var sum = BlockedSum()
            var groups = 0
            RowGroup.forEach(in: rows, layout: layout) { group in
                group.fill(tile, from: streams.input!)
                let value = laneGroup(group, tile, scratch: tile + C * 16, offsets: offsets, gradient: gradient)
                if gradient { group.drain(tile, to: streams.gradInput!) }
                if streams.reduced {
                    sum.add(value)
                    groups += 1
                    if groups == Fast.termsPerLane { sum.endBlock(); groups = 0 }
                } else {
                    VectorIO.store(value, streams.output!, group.first, lanes: group.lanes)
                }
            }
            sum.endBlock()
            return sum.value
          }
        }
    }

    /// One group whose logits are in `tile`: returns the rows' losses (0 in ignored and
    /// padding lanes); with `gradient`, leaves the gradient rows in `tile`.
    @inline(__always)
    private func laneGroup(_ group: RowGroup, _ tile: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                           offsets: UnsafeMutablePointer<Int>, gradient: Bool) -> FloatVector {
        let C = layout.classes
        // Per lane: the target class (-1 for ignored and padding lanes), w[y], x[y] (and
        // later e[y] and the target's gradient entry), written
        // as scalars to scratch memory and loaded as vectors (inserting lanes into a
        // vector one by one compiles to a store-and-reload per lane).
        VectorIO.store(FloatVector(repeating: -1), scratch, 0)
        VectorIO.store(FloatVector(), scratch, 16)
        VectorIO.store(FloatVector(), scratch, 32)
        VectorIO.store(FloatVector(), scratch, 48)
        // offsets[k]: the tile offset of lane k's target entry, -1 for an ignored row.
        let w = weights.pointer
        for k in 0..<group.lanes {
            let y = targets[group.first + k]
            if y == ignoreIndex {
                offsets[k] = -1
                continue
            }
            let o = y &* 16 &+ k
            offsets[k] = o
            scratch[k] = Float(y)
            scratch[16 + k] = w?[y] ?? 1
            scratch[32 + k] = tile[o]
        }
        let yLane = VectorIO.load(scratch, 0), wy = VectorIO.load(scratch, 16), xy = VectorIO.load(scratch, 32)
        let ignored = yLane .< 0

        var m = FloatVector(repeating: -.infinity)
        for c in 0..<C { m = SoftmaxLanes.runningMax(m, VectorIO.load(tile, c &* 16)) }
        let shift = Lanes.choose(m .== -.infinity, FloatVector(), else: m)

        // The exponentials replace the logits in the tile.
        var sum = LaneSums(), a = LaneSums()
        let smoothing = smoothed
        var c = 0
        while c < C {
            let end = min(c + Fast.termsPerLane, C)
            while c < end {
                let d = VectorIO.load(tile, c &* 16) - shift
                let e = VectorMath.exp(d)
                VectorIO.store(e, tile, c &* 16)
                sum.add(e)
                if smoothing { a.add(d * weights.at(c)) }
                c += 1
            }
            sum.endBlock()
            if smoothing { a.endBlock() }
        }
        let s0 = sum.value
        var restV = s0 - 1
        // e_y = exp(x_y - shift), read back from the tile (the same bits as computing it).
        for k in 0..<group.lanes where offsets[k] >= 0 {
            scratch[48 + k] = tile[offsets[k]]
        }
        let careful = s0 .< carefulRestBelow
        if VectorMath.anyLane(careful) {
            let one = FloatVector(repeating: 1)
            var restSum = LaneSums()
            var ties = FloatVector()
            var c = 0
            while c < C {
                let end = min(c + Fast.termsPerLane, C)
                while c < end {
                    let e = VectorIO.load(tile, c &* 16)
                    let top = e .>= one
                    restSum.add(SoftmaxLanes.zeroing(e, where: top))
                    ties += SoftmaxLanes.ones(top)
                    c += 1
                }
                restSum.endBlock()
            }
            restV = Lanes.choose(careful, (ties - 1) + restSum.value, else: restV)
        }

        // The finish, lane-wise in Float.
        let bad = .!((m .> -.infinity) .& (m .< .infinity))
        restV = Lanes.choose(bad, FloatVector(repeating: .nan), else: restV)
        let s = 1 + restV
        let logSum = VectorMath.log1p(restV)
        let dy = xy - shift
        let nll = wy * (logSum - dy)
        let eps = Float(self.smoothing), epsC = eps / Float(C), total = Float(weights.total)
        var value = smoothing ? (1 - eps) * nll + epsC * (total * logSum - a.value) : nll
        value = SoftmaxLanes.zeroing(value, where: ignored)

        if gradient {
            let g = scale.lanes(group.first, group.lanes)
            let base = smoothing ? (1 - eps) * wy + epsC * total : wy
            let k = smoothing ? base / s : base * g / s  // g last with smoothing, as above
            let yTop = dy .== 0
            let ey = Lanes.choose(yTop, FloatVector(repeating: 1), else: VectorIO.load(scratch, 48))
            let others = Lanes.choose(yTop, restV, else: s - ey)
            let targetEntry = smoothing
                ? ((1 - eps) * wy * (-others / s) + epsC * (total * (ey / s) - wy)) * g
                : wy * (-others / s) * g
            // The plain entries as whole vectors; then, lane by lane, the target's entry and
            // the zero rows of ignored targets. (A per-class `replace(where: y .== c)` and a
            // mask of the ignored lanes in this loop compiled to ~60 instructions per
            // vector, the masks going through general-purpose registers.)
            for c in 0..<C {
                var gv = VectorIO.load(tile, c &* 16) * k
                if smoothing { gv = (gv - epsC * weights.at(c)) * g }
                VectorIO.store(gv, tile, c &* 16)
            }
            VectorIO.store(targetEntry, scratch, 64)
            for k in 0..<group.lanes {
                let o = offsets[k]
                if o < 0 {
                    for c in 0..<C { tile[c &* 16 &+ k] = 0 }
                } else {
                    tile[o] = scratch[64 + k]
                }
            }
        }
        return value
    }
}

/// `cross_entropy` with class-probability targets.
struct SoftmaxProbabilityKernel: @unchecked Sendable {
    let layout: ClassLayout
    let streams: ClassStreams
    let targets: UnsafePointer<Float>
    let weights: ClassWeights
    let smoothing: Double
    let scale: RowScale

    init(layout: ClassLayout, streams: ClassStreams, targets: UnsafePointer<Float>, weights: ClassWeights,
         smoothing: Double, scale: RowScale) {
        self.layout = layout
        self.streams = streams
        self.targets = targets
        self.weights = weights
        self.smoothing = Double(Float(smoothing))
        self.scale = scale
    }

    func run(threads: Int) -> Double {
        let wide = layout.inner == 1 && layout.classes >= Fast.wideRowClasses
        let rowsPerChunk = Fast.rowsPerChunk(classes: layout.classes, laneGroups: !wide)
        return RowwiseLoop.run(rows: layout.rows, rowsPerChunk: rowsPerChunk, work: layout.rows * layout.classes,
                               threads: threads) { rows in
            wide ? wideChunk(rows) : laneChunk(rows)
        }
    }

    /// `p T - a` at a row's unique maximal class, where `p = 1 / s` can be within an ulp
    /// of 1: `(p - 1) T + sum_{j != top} a_j` with `p - 1 = -rest / s` (`rest = s - 1`,
    /// summed without the maximal term) and `others` the target mass `sum_{j != top} w_j t_j`
    /// summed without it, as the reference's `softmaxResidual`. Both terms keep their
    /// relative accuracy, so the entry does too unless they cancel each other (the
    /// conditioning of the exact value, not of the method).
    @inline(__always)
    static func residualAtTop(rest: Double, sum: Double, mass: Double, others: Double) -> Double {
        -(rest / sum) * mass + others
    }

    /// The smoothed target `(1 - eps) t + eps / C` (t itself without smoothing).
    @inline(__always)
    private func smoothed(_ t: FloatVector, _ keep: Float, _ spread: Float) -> FloatVector {
        smoothing > 0 ? t * keep + spread : t
    }

    // MARK: Wide rows

    private func wideChunk(_ rows: Range<Int>) -> Double {
        var total = 0.0
        for r in rows {
            let value = wideRow(r)
            if streams.reduced { total += value } else { streams.output![r] = Float(value) }
        }
        return total
    }

    /// One row: three passes over it (maximum; exponentials and sums; gradients).
    private func wideRow(_ r: Int) -> Double {
        let C = layout.classes
        let x = streams.input! + r * C, t = targets + r * C
        let keep = Float(1 - smoothing), spread = Float(smoothing / Double(C))
        let w = weights.pointer
        let maximum = SoftmaxIndexKernel.maximum(x, 0..<C)
        let shift = maximum == -.infinity ? 0 : maximum
        let shiftV = FloatVector(repeating: shift)
        let negInf = FloatVector(repeating: -.infinity)
        var rest = BlockedSum(), mass = BlockedSum(), others = BlockedSum(), a = BlockedSum()
        var ties = FloatVector(), present = FloatVector()
        VectorIO.forEachVector(in: 0..<C, { i, lanes in
            let v = VectorIO.load(x, i, lanes: lanes, fill: -.infinity)
            let tt = VectorIO.keep(smoothed(VectorIO.load(t, i, lanes: lanes), keep, spread), lanes: lanes)
            let wt = w.map { VectorIO.load($0, i, lanes: lanes) * tt } ?? tt
            let d = v - shiftV
            let e = VectorMath.exp(d)
            let top = v .== shiftV
            rest.add(SoftmaxLanes.zeroing(e, where: top))
            ties += SoftmaxLanes.ones(top)
            // 0 log 0 = 0: a zero target on a -inf logit takes no part (padding lanes too).
            let absent = (tt .== 0) .& (v .== negInf)
            present += SoftmaxLanes.zeroing(FloatVector(repeating: 1), where: absent)
            mass.add(wt)
            others.add(SoftmaxLanes.zeroing(wt, where: top))
            a.add(SoftmaxLanes.zeroing(wt * d, where: absent))
        }, endBlock: {
            rest.endBlock(); mass.endBlock(); others.endBlock(); a.endBlock()
        })
        let row = RowSoftmax(maximum: maximum, rest: (Double(ties.sum()) - 1) + rest.value)
        let logSum = row.logSum, tMass = mass.value
        var value = tMass * logSum - a.value
        if !maximum.isFinite { value = present.sum() == 0 ? 0 : .nan }

        let gradInput = streams.gradInput.map { $0 + r * C }
        let gradTarget = streams.gradTarget.map { $0 + r * C }
        if gradInput != nil || gradTarget != nil {
            let g = scale.at(r)
            // (p_c T - w_c t_c) g, with g last as the reference.
            let k = FloatVector(repeating: Float(tMass / row.sum))
            // At the unique maximal class, p T - a = (p - 1) T + sum_{j != top} a_j with
            // p - 1 = -rest / s: no cancellation in a near-certain row (see `residualAtTop`).
            let single = ties.sum() == 1
            let topEntry = FloatVector(repeating: Float(Self.residualAtTop(rest: row.rest, sum: row.sum, mass: tMass,
                                                                           others: others.value)))
            let gv = FloatVector(repeating: g)
            let targetFactor = FloatVector(repeating: -Float(1 - smoothing) * g)
            let logSumV = FloatVector(repeating: Float(logSum))
            VectorIO.forEachVector(in: 0..<C, { i, lanes in
                let v = VectorIO.load(x, i, lanes: lanes, fill: -.infinity)
                let d = v - shiftV
                let wv = w.map { VectorIO.load($0, i, lanes: lanes) }
                if let gradInput {
                    let tt = smoothed(VectorIO.load(t, i, lanes: lanes), keep, spread)
                    let wt = wv.map { $0 * tt } ?? tt
                    let absent = (tt .== 0) .& (v .== negInf)
                    // Zero the absent classes before the factor g, so that a NaN or
                    // infinite g still reaches them (0 * g), as in the reference.
                    var residual = VectorMath.exp(d) * k - wt
                    if single { residual.replace(with: topEntry, where: v .== shiftV) }
                    let gi = SoftmaxLanes.zeroing(residual, where: absent) * gv
                    VectorIO.store(gi, gradInput, i, lanes: lanes)
                }
                if let gradTarget {
                    let logp = d - logSumV
                    let gt = (wv.map { $0 * logp } ?? logp) * targetFactor
                    VectorIO.store(gt, gradTarget, i, lanes: lanes)
                }
            }, endBlock: {})
        }
        return value
    }

    // MARK: Lane groups

    private func laneChunk(_ rows: Range<Int>) -> Double {
        let C = layout.classes
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: C * 32) { tiles in
            let xTile = tiles.baseAddress!, tTile = xTile + C * 16
            var sum = BlockedSum()
            var groups = 0
            RowGroup.forEach(in: rows, layout: layout) { group in
                group.fill(xTile, from: streams.input!)
                group.fill(tTile, from: targets)
                let value = laneGroup(group, xTile, tTile)
                if let gradInput = streams.gradInput { group.drain(xTile, to: gradInput) }
                if let gradTarget = streams.gradTarget { group.drain(tTile, to: gradTarget) }
                if streams.reduced {
                    sum.add(VectorIO.keep(value, lanes: group.lanes))
                    groups += 1
                    if groups == Fast.termsPerLane { sum.endBlock(); groups = 0 }
                } else {
                    VectorIO.store(value, streams.output!, group.first, lanes: group.lanes)
                }
            }
            sum.endBlock()
            return sum.value
        }
    }

    /// One group: returns the rows' losses; leaves the input gradient in `xTile` and the
    /// target gradient in `tTile` when they were asked for.
    @inline(__always)
    private func laneGroup(_ group: RowGroup, _ xTile: UnsafeMutablePointer<Float>, _ tTile: UnsafeMutablePointer<Float>) -> FloatVector {
        let C = layout.classes
        let keep = Float(1 - smoothing), spread = Float(smoothing / Double(C))
        let negInf = FloatVector(repeating: -.infinity)
        var m = FloatVector(repeating: -.infinity)
        for c in 0..<C { m = SoftmaxLanes.runningMax(m, VectorIO.load(xTile, c &* 16)) }
        let shift = Lanes.choose(m .== -.infinity, FloatVector(), else: m)

        var rest = LaneSums(), mass = LaneSums(), others = LaneSums(), a = LaneSums()
        var ties = FloatVector(), present = FloatVector()
        var c = 0
        while c < C {
            let end = min(c + Fast.termsPerLane, C)
            while c < end {
                let v = VectorIO.load(xTile, c &* 16)
                let tt = smoothed(VectorIO.load(tTile, c &* 16), keep, spread)
                let wt = tt * weights.at(c)
                let d = v - shift
                let e = VectorMath.exp(d)
                let top = v .== shift
                rest.add(SoftmaxLanes.zeroing(e, where: top))
                ties += SoftmaxLanes.ones(top)
                let absent = (tt .== 0) .& (v .== negInf)
                present += SoftmaxLanes.zeroing(FloatVector(repeating: 1), where: absent)
                mass.add(wt)
                others.add(SoftmaxLanes.zeroing(wt, where: top))
                a.add(SoftmaxLanes.zeroing(wt * d, where: absent))
                c += 1
            }
            rest.endBlock(); mass.endBlock(); others.endBlock(); a.endBlock()
        }
        let bad = .!((m .> -.infinity) .& (m .< .infinity))
        let restV = Lanes.choose(bad, FloatVector(repeating: .nan), else: (ties - 1) + rest.value)
        let s = 1 + restV
        let logSum = VectorMath.log1p(restV)
        let tMass = mass.value
        var value = tMass * logSum - a.value
        // A row whose maximum is not finite is NaN, unless every class is absent (0 log 0).
        value = Lanes.choose(bad, Lanes.choose(present .== 0, FloatVector(), else: FloatVector(repeating: .nan)), else: value)

        let wantsInput = streams.gradInput != nil, wantsTarget = streams.gradTarget != nil
        if wantsInput || wantsTarget {
            let g = scale.lanes(group.first, group.lanes)
            let k = tMass / s
            // The unique maximal class of a lane: (p - 1) T + sum_{j != top} a_j, p - 1 = -rest / s.
            let single = ties .== 1
            let topEntry = -(restV / s) * tMass + others.value
            let targetFactor = -keep * g
            for c in 0..<C {
                let v = VectorIO.load(xTile, c &* 16)
                let tt = smoothed(VectorIO.load(tTile, c &* 16), keep, spread)
                let wc = weights.at(c)
                let d = v - shift
                if wantsTarget {
                    VectorIO.store((d - logSum) * wc * targetFactor, tTile, c &* 16)
                }
                if wantsInput {
                    let absent = (tt .== 0) .& (v .== negInf)
                    // Zero the absent classes before g (a NaN g still reaches them).
                    var residual = VectorMath.exp(d) * k - tt * wc
                    residual.replace(with: topEntry, where: (v .== shift) .& single)
                    let gi = SoftmaxLanes.zeroing(residual, where: absent) * g
                    VectorIO.store(gi, xTile, c &* 16)
                }
            }
        }
        return value
    }
}

extension Fast {
    /// Negative log-likelihood, PyTorch's `nll_loss`, in Float.
    ///
    /// The input holds log-probabilities (not checked): `[C]` with target `[]`, `[N, C]`
    /// with `[N]`, or `[N, C, d1, ..., dk]` with `[N, d1, ..., dk]`. For each row i with
    /// class `y_i`, `l_i = -w[y_i] input_i[y_i]` (`w` the class weights, ones by default),
    /// and `l_i = 0` where `y_i == ignoreIndex` (default -100). `none` keeps the target's
    /// shape; `sum` adds; `mean` (the default) divides by `den = sum_{i not ignored} w[y_i]`.
    ///
    /// - Gradients (`.input`): `-w[y_i] g_i / den` at `[i, y_i]`, exactly 0 everywhere else
    ///   and for ignored rows (even when `den` is 0). No target gradient.
    /// - Method: only the target class's entry of each row is read; the gradient rows of a
    ///   chunk are cleared in one pass and the one entry per row written after (for
    ///   `[N, C]` in a loop specialized per option set, ~22 instructions per row). Measured
    ///   (`[2^20, 10]`, value + gradient, buffer API, 1 thread, loaded machine): 17.3 ms,
    ///   58-60% of the copy bandwidth (docs/benchmarks.md, "Kernel changes").
    /// - Accuracy: one rounded product per row (with `w` rounded to Float); the gradient
    ///   entry `-w[y] * Float(g / den)`: two roundings. Sums as in `Fast`. Measured against
    ///   the Double reference (FastClassTests, `LOSS_REPORT=1`): values within 2 ulp,
    ///   gradient entries within 1 ulp.
    /// - Edge cases: all targets ignored: `mean` NaN, `sum` 0, `none` zeros, gradient 0.
    ///   A zero or negative total weight gives +-inf or NaN, unguarded. Infinite and NaN
    ///   entries propagate from the target class only.
    /// - Throws: `.shape` for shapes that do not fit (or an upstream not of the output's
    ///   shape); `.target` for an index outside `[0, C)` that is not `ignoreIndex`;
    ///   `.option` for a weight without C entries, `batchmean`, or `threads < 1`.
    public static func evaluate(
        _ loss: NLLLoss, input: Tensor<Float>, target: Tensor<Int>,
        upstream: Tensor<Float>? = nil, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let layout = try target.scalars.withUnsafeBufferPointer { (indices) throws(LossError) in
            try loss.validate(input: input.shape, target: target.shape, classIndices: indices)
        }
        return try evaluateClassTensors(loss: NLLLoss.name, layout: layout, input: input, target: target,
                                        upstream: upstream, gradients: gradients, targetGradient: false) {
            (x, y, u, outputs) throws(LossError) in
            try evaluate(loss, input: x, shape: input.shape, target: y, targetShape: target.shape,
                         upstream: u, into: outputs, threads: threads)
        }
    }

    /// Negative log-likelihood over caller-owned buffers, without allocating (except a
    /// Float copy of the class weights).
    ///
    /// The same loss, gradient and edge cases as the tensor form. `input` holds the
    /// `shape`'s elements, `target` the `targetShape`'s class indices; `upstream` (nil:
    /// ones) and `outputs.output` the output's (the target's count for `none`, else 1); a
    /// non-nil `outputs.gradInput` the input's count.
    ///
    /// - Throws: as the tensor form; `.shape` naming a buffer of the wrong length;
    ///   `.target` if `outputs.gradTarget` is given.
    public static func evaluate(
        _ loss: NLLLoss, input: UnsafeBufferPointer<Float>, shape: [Int],
        target: UnsafeBufferPointer<Int>, targetShape: [Int],
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        let layout = try loss.validate(input: shape, target: targetShape, classIndices: target)
        try evaluateClassIndices(loss: NLLLoss.name, layout: layout, reduction: loss.reduction,
                                 weight: loss.weight, ignoreIndex: loss.ignoreIndex, input: input, shape: shape,
                                 target: target, upstream: upstream, outputs: outputs, threads: threads) {
            streams, targets, weights, scale, threads in
            let kernel = NLLKernel(layout: layout, streams: streams, targets: targets, weights: weights,
                                   ignoreIndex: loss.ignoreIndex, scale: scale)
            return RowwiseLoop.run(rows: layout.rows, rowsPerChunk: rowsPerChunk(classes: layout.classes, laneGroups: false),
                                   work: layout.rows * layout.classes, threads: threads) { rows in
                kernel.chunk(rows)
            }
        }
    }
}

/// `nll`: one read per row, gradient rows cleared then one entry written per row.
struct NLLKernel: @unchecked Sendable {
    let layout: ClassLayout
    let streams: ClassStreams
    let targets: UnsafePointer<Int>
    let weights: ClassWeights
    let ignoreIndex: Int
    let scale: RowScale

    /// Rows `rows`: returns the sum of their losses (Double, in row order); writes the
    /// unreduced output and the gradient rows.
    func chunk(_ rows: Range<Int>) -> Double {
        if layout.inner == 1 {
            let g = streams.gradInput != nil, w = weights.pointer != nil
            switch (g, streams.reduced, w) {
            case (true, true, true): return contiguousRows(rows, true, true, true)
            case (true, true, false): return contiguousRows(rows, true, true, false)
            case (true, false, true): return contiguousRows(rows, true, false, true)
            case (true, false, false): return contiguousRows(rows, true, false, false)
            case (false, true, true): return contiguousRows(rows, false, true, true)
            case (false, true, false): return contiguousRows(rows, false, true, false)
            case (false, false, true): return contiguousRows(rows, false, false, true)
            case (false, false, false): return contiguousRows(rows, false, false, false)
            }
        }
        return strided(rows)
    }

    /// Rows of a `[N, C]` (or `[C]`) input: the same arithmetic as `strided`, with the
    /// options fixed per loop (constant flags) and the row offset stepped by C. The
    /// general loop reloaded the optional buffers and weights for every row and divided
    /// the row index by `inner`; this one is ~15 instructions per row.
    @inline(__always)
    private func contiguousRows(_ rows: Range<Int>, _ gradient: Bool, _ reduced: Bool, _ weighted: Bool) -> Double {
        let x = streams.input!, C = layout.classes
        let grad = streams.gradInput, out = streams.output, w = weights.pointer
        if gradient { (grad.unsafelyUnwrapped + rows.lowerBound * C).update(repeating: 0, count: rows.count * C) }
        var total = 0.0
        var start = rows.lowerBound &* C
        for r in rows {
            let y = targets[r]
            var value: Float = 0
            if y != ignoreIndex {
                let wy: Float = weighted ? w.unsafelyUnwrapped[y] : 1
                value = -(wy * x[start &+ y])
                if gradient { grad.unsafelyUnwrapped[start &+ y] = -wy * scale.at(r) }
            }
            if reduced { total += Double(value) } else { out.unsafelyUnwrapped[r] = value }
            start &+= C
        }
        return total
    }

    /// Any layout (k-dimensional inputs): row r = n * inner + s.
    private func strided(_ rows: Range<Int>) -> Double {
        let x = streams.input!
        if let grad = streams.gradInput { clear(grad, rows) }
        var total = 0.0
        // Row r = n * inner + s is stepped along, not divided out per row.
        let C = layout.classes, inner = layout.inner
        var n = rows.lowerBound / inner, s = rows.lowerBound - n * inner
        for r in rows {
            let y = targets[r]
            var value: Float = 0
            if y != ignoreIndex {
                let offset = (n * C + y) * inner + s  // = layout.inputOffset(row: r, classIndex: y)
                let w = weights.at(y)
                value = -(w * x[offset])
                if let grad = streams.gradInput { grad[offset] = -w * scale.at(r) }
            }
            if streams.reduced { total += Double(value) } else { streams.output![r] = value }
            s += 1
            if s == inner {
                s = 0
                n += 1
            }
        }
        return total
    }

    /// Zeros the gradient entries of `rows` (for inner = 1 one contiguous run; else one
    /// run per class and batch element).
    private func clear(_ grad: UnsafeMutablePointer<Float>, _ rows: Range<Int>) {
        let C = layout.classes, inner = layout.inner
        if inner == 1 {
            (grad + rows.lowerBound * C).update(repeating: 0, count: rows.count * C)
            return
        }
        var r = rows.lowerBound
        while r < rows.upperBound {
            let n = r / inner, s = r - n * inner
            let count = min(inner - s, rows.upperBound - r)
            for c in 0..<C {
                (grad + layout.inputOffset(row: r, classIndex: c)).update(repeating: 0, count: count)
            }
            r += count
        }
    }
}

/// Fast scans of a buffer's values for the value checks of the elementwise losses (bce's
/// [0, 1] domain, gaussian_nll's non-negative variances).
///
/// A scan answers only whether some value fails; the loss then runs its description's
/// validator (`BCELoss.validateValues`, `GaussianNLLLoss.validateVariance`), which finds
/// and names the first failing element, so the error is exactly the reference's. The
/// validators read one element per closure call; on a valid buffer (the common case)
/// only the scan runs: whole vectors over `Chunks` on up to `threads` threads, at the
/// speed of reading the buffer.
enum ValueCheck {
    /// Whether some element of `values` lies outside `[lower, upper]` or is NaN (NaN
    /// fails every comparison).
    static func anyOutside(_ values: UnsafeBufferPointer<Float>, _ lower: Float, _ upper: Float, threads: Int) -> Bool {
        let lo = FloatVector(repeating: lower), hi = FloatVector(repeating: upper)
        return anyLane(values, threads: threads) { v, seen, one in
            Lanes.choose(v .<= hi, Lanes.choose(v .>= lo, seen, else: one), else: one)
        }
    }

    /// Whether some element of `values` is below `lower` (NaN is not below anything).
    static func anyBelow(_ values: UnsafeBufferPointer<Float>, _ lower: Float, threads: Int) -> Bool {
        let lo = FloatVector(repeating: lower)
        return anyLane(values, threads: threads) { v, seen, one in Lanes.choose(v .< lo, one, else: seen) }
    }

    /// Whether `mark` marks some lane of some vector of `values`: `mark(v, seen, one)`
    /// returns `seen` with the failing lanes of `v` set to 1. Padding lanes of a partial
    /// vector hold 0, which both checks above accept. (Float lanes and selects rather
    /// than mask arithmetic, which compiled to per-lane code; see `Lanes.choose`.)
    @inline(__always)
    private static func anyLane(_ values: UnsafeBufferPointer<Float>, threads: Int,
                                _ mark: (FloatVector, FloatVector, FloatVector) -> FloatVector) -> Bool {
        guard let base = values.baseAddress else { return false }
        let chunks = Chunks(count: values.count)
        let one = FloatVector(repeating: 1)
        let failingChunks = Parallel.sum(chunks.chunks, work: values.count, threads: threads) { k -> Int in
            var seen = FloatVector()
            VectorIO.forEachVector(in: chunks.range(k), { i, lanes in
                seen = mark(VectorIO.load(base, i, lanes: lanes), seen, one)
            }, endBlock: {})
            return seen == FloatVector() ? 0 : 1
        }
        return failingChunks > 0
    }
}

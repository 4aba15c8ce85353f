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
        anyLane(values, threads: threads, Outside(lower: FloatVector(repeating: lower), upper: FloatVector(repeating: upper)))
    }

    /// Whether some element of `values` is below `lower` (NaN is not below anything).
    static func anyBelow(_ values: UnsafeBufferPointer<Float>, _ lower: Float, threads: Int) -> Bool {
        anyLane(values, threads: threads, Below(lower: FloatVector(repeating: lower)))
    }

    /// A lane test: `mark(v, seen)` is `seen` with the failing lanes of `v` set to 1.
    /// (Float lanes and selects rather than mask arithmetic, which compiled to per-lane
    /// code, see `Lanes.choose`; a generic struct rather than a closure, which was called
    /// out of line once per vector.)
    private protocol LaneTest {
        func mark(_ v: FloatVector, _ seen: FloatVector) -> FloatVector
    }

    private struct Outside: LaneTest {
        let lower: FloatVector, upper: FloatVector
        @inline(__always)
        func mark(_ v: FloatVector, _ seen: FloatVector) -> FloatVector {
            let one = FloatVector(repeating: 1)
            return Lanes.choose(v .<= upper, Lanes.choose(v .>= lower, seen, else: one), else: one)
        }
    }

    private struct Below: LaneTest {
        let lower: FloatVector
        @inline(__always)
        func mark(_ v: FloatVector, _ seen: FloatVector) -> FloatVector {
            Lanes.choose(v .< lower, FloatVector(repeating: 1), else: seen)
        }
    }

    /// Whether `test` fails in some lane of some vector of `values`. Padding lanes of a
    /// partial vector hold 0, which both tests above accept.
    private static func anyLane<Test: LaneTest>(_ values: UnsafeBufferPointer<Float>, threads: Int, _ test: Test) -> Bool {
        guard let base = values.baseAddress else { return false }
        let chunks = Chunks(count: values.count)
        let failingChunks = Parallel.sum(chunks.chunks, work: values.count, threads: threads) { k -> Int in
            var seen = FloatVector()
            VectorIO.forEachVector(in: chunks.range(k), { i, lanes in
                seen = test.mark(VectorIO.load(base, i, lanes: lanes), seen)
            }, endBlock: {})
            return seen == FloatVector() ? 0 : 1
        }
        return failingChunks > 0
    }
}

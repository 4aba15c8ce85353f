import Dispatch
import Foundation

extension Fast {
    /// Elements per chunk: the unit of parallel work and of the deterministic sum.
    ///
    /// A constant, independent of the thread count, so the same elements always land in
    /// the same chunk. 2^14 Floats are 64 KiB per stream: the streams of a chunk stay in
    /// L2 while a thread works on it, a 2^24-element input gives 1024 chunks to balance
    /// over any thread count, and the per-chunk cost (one partial sum, one closure call)
    /// is paid once per 2^14 elements. Measured (release, default target, one thread):
    /// mse value + gradient on 2^24 elements runs at the speed of a plain
    /// `z[i] = x[i] - y[i]` loop over the same arrays (about 24 ms, 8 GB/s on this
    /// machine), so a larger chunk has nothing to gain.
    public static let chunkSize = 1 << 14

    /// Inputs with fewer elements than this run on the calling thread.
    ///
    /// 2^18 elements, where a second thread started to pay on the (shared, 2-core)
    /// development machine. Measured, release build, mse value + gradient over buffers,
    /// median times, 1 thread vs 2 threads (with the threshold then at 2^16):
    /// 2^16: 25 vs 36 us; 2^17: 47 vs 60 us; 2^18: 95 vs 91 us; 2^19: 210 vs 146 us;
    /// 2^20: 600 vs 275 us. Handing work to a second thread took
    /// tens of microseconds there (two 20-us work items in `concurrentPerform` took
    /// 40 us, two 50-us items 70-80 us), because other jobs kept both cores busy; on an
    /// idle machine threads may pay from a smaller size, so this errs on the side of
    /// not slowing small calls down.
    public static let parallelThreshold = 1 << 18

    /// The thread ceiling for a call: `requested`, or the active processor count.
    static func threadCount(_ requested: Int?, loss: String) throws(LossError) -> Int {
        guard let requested else { return max(1, ProcessInfo.processInfo.activeProcessorCount) }
        guard requested >= 1 else {
            throw LossError(.option, "\(loss): threads = \(requested); expected nil (all processors) or a count >= 1")
        }
        return requested
    }
}

/// Fixed-size chunks of `[0, count)`: chunk `k` is `k * size ..< min((k + 1) * size, count)`.
struct Chunks: Sendable {
    let count: Int
    let size: Int
    init(count: Int, size: Int = Fast.chunkSize) {
        precondition(size > 0)
        self.count = count
        self.size = size
    }
    /// The number of chunks (0 for an empty range).
    var chunks: Int { count == 0 ? 0 : (count - 1) / size + 1 }
    /// The element range of chunk `k`.
    func range(_ k: Int) -> Range<Int> { k * size ..< min(k * size + size, count) }
}

/// Parallel execution over chunks. Which thread runs which chunk never affects a
/// result: the bodies write disjoint outputs and return per-chunk partials that are
/// combined in a fixed order.
package enum Parallel {
    /// How many workers to start for `chunks` chunks totalling `work` elements
    /// (`package` so that tests can check that a size really runs on several threads).
    package static func workers(chunks: Int, work: Int, threads: Int) -> Int {
        if work < Fast.parallelThreshold { return 1 }
        return max(1, min(threads, chunks))
    }

    /// Calls `body(k)` once for each chunk `k` in `0..<chunks`, on up to `threads`
    /// threads (worker `w` takes a contiguous run of chunks). `work` is the number of
    /// elements the chunks cover, compared against `Fast.parallelThreshold`.
    static func forEachChunk(_ chunks: Int, work: Int, threads: Int, _ body: (Int) -> Void) {
        let workers = workers(chunks: chunks, work: work, threads: threads)
        if workers <= 1 {
            for k in 0..<chunks { body(k) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let first = w * chunks / workers, end = (w + 1) * chunks / workers
                for k in first..<end { shared.value(k) }
            }
        }
    }

    /// `sum(partial(k) for k in 0..<chunks)` where each partial is computed on some
    /// thread and the partials are added by a fixed pairwise tree over the chunk index,
    /// so the result does not depend on `threads`.
    ///
    /// The partials live in a temporary buffer of `chunks` values (on the stack when
    /// small): the one allocation of a reduction, made once per call.
    static func sum<P: AdditiveArithmetic>(_ chunks: Int, work: Int, threads: Int, _ partial: (Int) -> P) -> P {
        if chunks == 0 { return .zero }
        return withUnsafeTemporaryAllocation(of: P.self, capacity: chunks) { partials in
            let slots = UncheckedBox(partials.baseAddress!)
            forEachChunk(chunks, work: work, threads: threads) { k in
                (slots.value + k).initialize(to: partial(k))
            }
            let total = pairwiseSum(UnsafeBufferPointer(partials))
            partials.baseAddress!.deinitialize(count: chunks)
            return total
        }
    }

    /// `values[0] + ... + values[n-1]` by recursive halving: a fixed tree of depth
    /// `ceil(log2 n)`, so the rounding error grows like `log2(n) * ulp`.
    static func pairwiseSum<P: AdditiveArithmetic>(_ values: UnsafeBufferPointer<P>) -> P {
        switch values.count {
        case 0: return .zero
        case 1: return values[0]
        default:
            let half = values.count / 2
            return pairwiseSum(UnsafeBufferPointer(rebasing: values[..<half]))
                + pairwiseSum(UnsafeBufferPointer(rebasing: values[half...]))
        }
    }
}

/// Carries a value the caller knows to be safe to share across the workers of one
/// `concurrentPerform` (a non-escaping closure, or a pointer to disjoint slots).
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

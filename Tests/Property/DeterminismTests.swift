import Testing
import FastLosses

// The fast engine's results must be the same bits for every thread count and every run:
// chunk boundaries do not depend on the thread count, and the chunk sums are combined
// by a fixed tree. These sizes span several chunks and reach the parallel threshold.

/// Every bit of a result, for exact comparison (NaN payloads included).
struct FastResultBits: Equatable, CustomStringConvertible {
    let output: [UInt32]
    let gradInput: [UInt32]?
    let gradTarget: [UInt32]?

    init(_ r: LossResult<Float>) {
        output = r.output.scalars.map(\.bitPattern)
        gradInput = r.gradInput?.scalars.map(\.bitPattern)
        gradTarget = r.gradTarget?.scalars.map(\.bitPattern)
    }

    /// The first difference from `other`, for failure messages.
    func firstDifference(from other: FastResultBits) -> String {
        func first(_ a: [UInt32]?, _ b: [UInt32]?, _ name: String) -> String? {
            guard let a, let b else { return a == nil && b == nil ? nil : "\(name): present in one result only" }
            guard let i = a.indices.first(where: { $0 < b.count && a[$0] != b[$0] }) else {
                return a.count == b.count ? nil : "\(name): \(a.count) vs \(b.count) values"
            }
            return "\(name)[\(i)]: \(Float(bitPattern: a[i])) vs \(Float(bitPattern: b[i]))"
        }
        return [first(output, other.output, "output"), first(gradInput, other.gradInput, "gradInput"),
                first(gradTarget, other.gradTarget, "gradTarget")].compactMap { $0 }.joined(separator: "; ")
    }

    var description: String { "output \(output.prefix(1).map { Float(bitPattern: $0) })" }
}

@Suite("Fast: bitwise determinism across thread counts and runs")
struct DeterminismTests {
    /// Over the parallel threshold: 16 chunks and a partial one ending in a partial
    /// vector, and 21 chunks and 7 elements. Debug builds run SIMD code slowly (about
    /// 1 us per element here), so every reduction and thread count runs for mse, and the
    /// other losses (whose kernels the driver runs the same way) run `mean` with 1, 3
    /// and 8 threads at the first size.
    static let sizes = [Fast.parallelThreshold + 123, Fast.parallelThreshold + 5 * Fast.chunkSize + 7]

    @Test("the sizes used here really run on several threads")
    func sizesAreParallel() {
        for n in Self.sizes {
            let chunks = (n + Fast.chunkSize - 1) / Fast.chunkSize
            #expect(Parallel.workers(chunks: chunks, work: n, threads: 3) == 3, "n = \(n): \(chunks) chunks should run on 3 workers")
            #expect(Parallel.workers(chunks: chunks, work: n, threads: 8) == min(8, chunks), "n = \(n): \(chunks) chunks should run on min(8, chunks) workers")
        }
    }

    @Test("threads 1, 2, 3, 8 and repeated runs give identical bits", arguments: FastRegressionCase.all)
    func threadCounts(_ base: FastRegressionCase) throws {
        let isMSE: Bool
        if case .mse = base { isMSE = true } else { isMSE = false }
        for n in isMSE ? Self.sizes : [Self.sizes[0]] {
            var rng = FastSplitMix64(seed: FastTestSeed.value &+ UInt64(n))
            let (xs, ys) = fastRegressionInputs(count: n, kink: base.kink, rng: &rng)
            let x = try Tensor(shape: [n], scalars: xs), y = try Tensor(shape: [n], scalars: ys)
            let upstreamNone = try Tensor(shape: [n], scalars: (0..<n).map { _ in rng.float(-2, 2) })
            for reduction in isMSE ? [Reduction.none, .sum, .mean] : [.mean] {
                let c = base.with(reduction)
                let upstream = reduction == .none ? upstreamNone : Tensor(scalar: Float(0.75))
                let single = FastResultBits(try c.fast(x, y, upstream: upstream, threads: 1))
                // 2 again: a repeated run.
                for threads in isMSE ? [2, 3, 8, 2] : [3, 8] {
                    let other = FastResultBits(try c.fast(x, y, upstream: upstream, threads: threads))
                    #expect(other == single, "\(c) n=\(n) threads=\(threads) vs 1: \(other.firstDifference(from: single)) \(FastTestSeed.describe())")
                }
            }
        }
    }

    @Test("the default thread count gives the same bits as one thread")
    func defaultThreads() throws {
        let n = Self.sizes[0]
        var rng = FastSplitMix64(seed: FastTestSeed.value)
        let (xs, ys) = fastRegressionInputs(count: n, kink: 1, rng: &rng)
        let x = try Tensor(shape: [n], scalars: xs), y = try Tensor(shape: [n], scalars: ys)
        let c = FastRegressionCase.huber(HuberLoss(reduction: .mean))
        let one = FastResultBits(try c.fast(x, y, upstream: nil, threads: 1))
        let all = FastResultBits(try c.fast(x, y, upstream: nil, threads: nil))
        #expect(all == one, "huber mean n=\(n) default threads vs 1: \(all.firstDifference(from: one))")
    }
}

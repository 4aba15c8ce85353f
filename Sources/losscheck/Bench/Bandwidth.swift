import Dispatch
import Foundation

/// The memory bandwidth of this machine as `losscheck bench` measures it in the same run,
/// the yardstick for the workloads' effective GB/s.
///
/// Three STREAM-like loops over `Float` buffers, each buffer several times the size of
/// the last-level cache so that every pass comes from and goes to memory:
///
/// - `read`:  `s += a[i]`              4 bytes per element (one read stream)
/// - `copy`:  `c[i] = a[i]`            8 bytes per element (one read, one write stream)
/// - `triad`: `a[i] = b[i] + q * c[i]` 12 bytes per element (two reads, one write)
///
/// Bytes are counted as STREAM counts them: each stream once, the write-allocate read of
/// a written line not counted (the workloads' minimal bytes follow the same rule, so the
/// ratio compares like with like). The loops are written on `SIMD16<Float>` with several
/// independent accumulators, so that neither the add latency nor scalar code limits them:
/// in a release build they compile to packed SSE (default target) or AVX (native) loads,
/// adds and stores, and the copy is a load/store loop, not a call to `memcpy` (whose
/// non-temporal stores would measure something the loss kernels do not do). Checked with
/// `objdump -d --no-show-raw-insn` on the release binary (docs/benchmarks.md).
enum BandwidthKernel: String, Codable, CaseIterable, Sendable {
    case read, copy, triad

    /// Bytes counted per element: 4 per stream.
    var bytesPerElement: Int {
        switch self {
        case .read: 4
        case .copy: 8
        case .triad: 12
        }
    }

    /// The loop, as a formula.
    var formula: String {
        switch self {
        case .read: "s += a[i]"
        case .copy: "c[i] = a[i]"
        case .triad: "a[i] = b[i] + q*c[i]"
        }
    }
}

/// One bandwidth measurement: a kernel at a thread count.
struct BandwidthResult: Codable, Sendable {
    let kernel: BandwidthKernel
    let threads: Int
    /// "start" (before the workloads) or "end" (after them, full runs only).
    let phase: String
    /// Elements per buffer (each buffer holds this many Floats).
    let elements: Int
    /// Bytes counted per pass: `elements * kernel.bytesPerElement`.
    let bytesPerPass: Int
    let timing: Timing
    /// `bytesPerPass / median time`, in 10^9 bytes per second.
    let gbPerSecond: Double
    /// `bytesPerPass / fastest time`, in 10^9 bytes per second (what STREAM reports).
    let bestGBPerSecond: Double
    /// `bytesPerPass` over the process's CPU time per pass: on a shared machine, the rate
    /// while the bench actually ran (meaningful at 1 thread).
    let cpuGBPerSecond: Double
}

/// Three 64-byte-aligned Float buffers of equal length, touched before any timing.
final class BandwidthBuffers: @unchecked Sendable {
    let count: Int
    let a: UnsafeMutablePointer<Float>
    let b: UnsafeMutablePointer<Float>
    let c: UnsafeMutablePointer<Float>

    /// Buffers of at least `bytes` bytes each, rounded up to a multiple of 64 Floats.
    init(bytesPerBuffer bytes: Int) {
        let count = (max(bytes / 4, 64) + 63) / 64 * 64
        self.count = count
        a = Self.make(count, 1)
        b = Self.make(count, 2)
        c = Self.make(count, 0.5)
    }

    /// `count` Floats equal to `value`, 64-byte aligned, every page touched.
    private static func make(_ count: Int, _ value: Float) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: count)
        p.initialize(repeating: value, count: count)
        return p
    }

    deinit {
        for p in [a, b, c] {
            p.deinitialize(count: count)
            UnsafeMutableRawPointer(p).deallocate()
        }
    }
}

enum Bandwidth {
    /// Where the read kernel's sums go, so that the loop is not removed as dead code.
    nonisolated(unsafe) static var sink: Float = 0

    /// The buffer size for a machine whose last-level cache has `cacheBytes`: 8 times
    /// the cache (so at most an eighth of a pass could be served from it, less in
    /// practice since three buffers share it), at least 64 MiB; `quick` takes 2 times
    /// the cache, at least 16 MiB.
    static func bufferBytes(lastLevelCache cacheBytes: Int, quick: Bool) -> Int {
        quick ? max(2 * cacheBytes, 16 << 20) : max(8 * cacheBytes, 64 << 20)
    }

    /// Times `kernel` over `buffers` on `threads` threads (each takes one contiguous
    /// part, 64-element aligned); the dispatch to the threads is inside the timing.
    static func measure(_ kernel: BandwidthKernel, threads: Int, buffers: BandwidthBuffers,
                        warmup: Int, runs: Int, phase: String) -> BandwidthResult {
        let n = buffers.count
        let timing = Timing.measure(warmup: warmup, runs: runs) {
            pass(kernel, threads: threads, buffers: buffers)
        }
        let bytes = n * kernel.bytesPerElement
        return BandwidthResult(kernel: kernel, threads: threads, phase: phase, elements: n, bytesPerPass: bytes, timing: timing,
                               gbPerSecond: Double(bytes) / timing.medianSeconds / 1e9,
                               bestGBPerSecond: Double(bytes) / timing.minSeconds / 1e9,
                               cpuGBPerSecond: Double(bytes) / timing.cpuSecondsPerRun / 1e9)
    }

    /// One pass of `kernel` over the whole buffers.
    static func pass(_ kernel: BandwidthKernel, threads: Int, buffers: BandwidthBuffers) {
        let n = buffers.count
        let parts = max(1, threads)
        if parts == 1 {
            run(kernel, buffers, 0..<n, slot: nil)
            return
        }
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: parts)
        sums.initialize(repeating: 0, count: parts)
        let slots = SendablePointer(sums)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let blocks = n / 64
            let start = blocks * part / parts * 64
            let end = part == parts - 1 ? n : blocks * (part + 1) / parts * 64
            run(kernel, buffers, start..<end, slot: slots.pointer + part)
        }
        var total: Float = 0
        for part in 0..<parts { total += sums[part] }
        sink += total
        sums.deallocate()
    }

    private static func run(_ kernel: BandwidthKernel, _ buffers: BandwidthBuffers, _ range: Range<Int>,
                            slot: UnsafeMutablePointer<Float>?) {
        let count = range.count, start = range.lowerBound
        switch kernel {
        case .read:
            let s = read(buffers.a + start, count: count)
            if let slot { slot.pointee = s } else { sink += s }
        case .copy:
            copy(from: buffers.a + start, to: buffers.c + start, count: count)
        case .triad:
            triad(into: buffers.a + start, b: buffers.b + start, c: buffers.c + start, q: 3, count: count)
        }
    }

    /// `sum(a[0..<count])` with two independent `SIMD16` accumulators: eight SSE
    /// registers (four AVX ones), enough parallel adds to outrun memory and few enough
    /// that nothing spills to the stack on the default target.
    @inline(never)
    static func read(_ a: UnsafePointer<Float>, count: Int) -> Float {
        let p = UnsafeRawPointer(a)
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= count {
            let offset = i &* 4
            s0 += p.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
            s1 += p.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD16<Float>.self)
            i += 32
        }
        var tail: Float = 0
        while i < count {
            tail += a[i]
            i += 1
        }
        return (s0 + s1).sum() + tail
    }

    /// `c[i] = a[i]` for `i < count`, by vector loads and stores.
    @inline(never)
    static func copy(from a: UnsafePointer<Float>, to c: UnsafeMutablePointer<Float>, count: Int) {
        let source = UnsafeRawPointer(a), destination = UnsafeMutableRawPointer(c)
        var i = 0
        while i + 16 <= count {
            let offset = i &* 4
            destination.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self),
                                   toByteOffset: offset, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            c[i] = a[i]
            i += 1
        }
    }

    /// `a[i] = b[i] + q * c[i]` for `i < count` (a multiply and an add, not fused).
    @inline(never)
    static func triad(into a: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, c: UnsafePointer<Float>,
                      q: Float, count: Int) {
        let x = UnsafeRawPointer(b), y = UnsafeRawPointer(c), z = UnsafeMutableRawPointer(a)
        let scale = SIMD16<Float>(repeating: q)
        var i = 0
        while i + 16 <= count {
            let offset = i &* 4
            let value = x.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                + scale * y.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
            z.storeBytes(of: value, toByteOffset: offset, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            a[i] = b[i] + q * c[i]
            i += 1
        }
    }
}

/// A pointer handed to the workers of one `concurrentPerform`, each using its own slot.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

import FastLosses

/// The cost of the fast engine's vectorized elementary functions on their own, in the L1
/// cache: a lower bound for any workload that needs them per element.
///
/// A workload whose every element needs `exp` and `log1p` (bce_with_logits) cannot run
/// faster than their two times added, whatever the rest of its kernel does; when that
/// sum is above the time per element the bandwidth allows, the workload is bound by
/// arithmetic on this build, not by memory. `losscheck bench` prints these times and, per
/// workload, the %bw that the functions alone would allow (`WorkloadSpec.elementaryFunctions`).
enum ElementaryFunction: String, Codable, CaseIterable, Sendable {
    case exp, log, log1p

    /// Arguments of the kind the workloads pass (all on the functions' fast paths):
    /// `exp` on [-8, 0] (shifted logits, `-|x|`), `log` on (0, 1] (probabilities), `log1p`
    /// on [0, 1] (`exp(-|x|)`, `-p`).
    func argument(_ i: Int, of count: Int) -> Float {
        let u = (Float(i) + 0.5) / Float(count)        // in (0, 1)
        switch self {
        case .exp: return -8 * u
        case .log, .log1p: return u
        }
    }
}

/// The time per element of one elementary function over an L1-resident buffer.
struct ElementaryTiming: Codable, Sendable {
    let function: ElementaryFunction
    /// Elements per pass (a buffer of 16 KiB) and passes per timed run.
    let elements: Int
    let passes: Int
    let timing: Timing
    /// Median time per run / (passes x elements).
    let nanosecondsPerElement: Double
    /// The same for the fastest run: what the ceilings use (see `BenchReport`).
    let bestNanosecondsPerElement: Double

    static let elements = 4096
    static let passes = 1024

    /// Times `function` on `FloatVector`s: each pass reads the buffer, applies the
    /// function and adds the results into vector accumulators (so nothing is optimized
    /// away and no store traffic is counted).
    static func measure(_ function: ElementaryFunction, warmup: Int, runs: Int) -> ElementaryTiming {
        let count = elements
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        for i in 0..<count { buffer[i] = function.argument(i, of: count) }
        var sink = FloatVector()
        let timing = Timing.measure(warmup: warmup, runs: runs) {
            for _ in 0..<passes {
                sink = pass(function, buffer, count, into: sink)
            }
        }
        blackHole(sink)
        return ElementaryTiming(function: function, elements: count, passes: passes, timing: timing,
                                nanosecondsPerElement: timing.medianSeconds / Double(passes * count) * 1e9,
                                bestNanosecondsPerElement: timing.minSeconds / Double(passes * count) * 1e9)
    }

    /// One pass: the results added into `sum` through two independent accumulators (so
    /// the adds do not serialize the loop; taking `sum` in keeps the compiler from
    /// hoisting the identical passes out of the timing loop).
    @inline(never)
    private static func pass(_ function: ElementaryFunction, _ p: UnsafeMutablePointer<Float>, _ count: Int,
                             into sum: FloatVector) -> FloatVector {
        switch function {
        case .exp: accumulate(VectorMath.exp, p, count, into: sum)
        case .log: accumulate(VectorMath.log, p, count, into: sum)
        case .log1p: accumulate(VectorMath.log1p, p, count, into: sum)
        }
    }

    /// `sum + f(p[0..<16]) + f(p[16..<32]) + ...`, `count` a multiple of 32.
    @inline(__always)
    private static func accumulate(_ f: (FloatVector) -> FloatVector, _ p: UnsafeMutablePointer<Float>, _ count: Int,
                                   into sum: FloatVector) -> FloatVector {
        let width = FloatVector.scalarCount
        var even = sum, odd = FloatVector()
        var i = 0
        while i < count {
            even += f(UnsafeRawPointer(p + i).loadUnaligned(as: FloatVector.self))
            odd += f(UnsafeRawPointer(p + i + width).loadUnaligned(as: FloatVector.self))
            i += 2 * width
        }
        return even + odd
    }

    /// Keeps `value` alive without printing it.
    @inline(never)
    private static func blackHole(_ value: FloatVector) {
        if value[0] == 0x1.fffffep127 { print(value) }
    }
}

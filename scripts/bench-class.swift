// Release-build throughput of the fast engine's class losses over buffers, next to a
// plain two-stream loop (read x, write z) measured in the same run.
// Built and run by scripts/bench-class.sh; not part of the package.
//
//   bench-class [workloads = W7,W8,W9,W10] [repetitions = 5] [threads = 1]
//
// W7: cross_entropy, logits [4096, 32000], ~10% targets ignore_index -100, mean, value + gradient
// W8: W7 with label_smoothing 0.1
// W9: cross_entropy [2^20, 10], mean, value + gradient
// W10: nll [2^20, 10], mean, value + gradient
// Bytes counted: logits read once + gradient written once (+ targets for W9/W10 rows).
// W7c, W8c, W9c, W10c: the same with few rows (16 rows of 32000, or 2^13 rows of 10), 20
// calls per timing: the kernels' compute cost with the data in cache, far less sensitive
// to other jobs' memory traffic than the full workloads.
import FastLosses
import Foundation

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
/// CPU time of the calling thread: on a shared machine (other jobs keeping the cores
/// busy) wall time measures the queue, not the kernel. Single-thread runs only.
func cpuNow() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

let args = CommandLine.arguments
let workloads = args.count > 1 ? args[1].split(separator: ",").map(String.init) : ["W7", "W8", "W9", "W10"]
let reps = args.count > 2 ? Int(args[2])! : 5
let threadList = args.count > 3 ? args[3].split(separator: ",").map { Int($0)! } : [1]

struct Rng {
    var state: UInt64 = 0x1234_5678
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Roughly standard normal (sum of 4 uniforms, rescaled).
    mutating func normal() -> Float {
        var s: Float = 0
        for _ in 0..<4 { s += Float(next() >> 40) * 0x1p-24 }
        return (s - 2) * 1.732
    }
}

/// Wall-time median and thread-CPU-time minimum over the repetitions.
func median(_ body: () -> Void) -> (median: Double, min: Double, cpu: Double) {
    var times: [Double] = [], cpu = Double.infinity
    for _ in 0..<reps {
        let t0 = now(), c0 = cpuNow()
        body()
        cpu = min(cpu, cpuNow() - c0)
        times.append(now() - t0)
    }
    times.sort()
    return (times[reps / 2], times[0], cpu)
}

func run(_ name: String) {
    if name.hasPrefix("S") {
        sweep(Int(name.dropFirst())!)
        return
    }
    let cached = name.hasSuffix("c")
    let name = cached ? String(name.dropLast()) : name
    let (n, C) = name == "W7" || name == "W8" ? (cached ? 16 : 4096, 32000) : (cached ? 1 << 13 : 1 << 20, 10)
    let calls = cached ? 20 : 1
    var rng = Rng()
    let x = (0..<(n * C)).map { _ in rng.normal() }
    let y = (0..<n).map { i -> Int in
        if name == "W7" || name == "W8" { if rng.next() % 10 == 0 { return -100 } }
        return Int(rng.next() % UInt64(C))
    }
    var out: [Float] = [0]
    var grad = [Float](repeating: 0, count: n * C)
    let bytes = Double(8 * n * C)
    let plain = median {
        x.withUnsafeBufferPointer { xb in grad.withUnsafeMutableBufferPointer { gb in
            for i in 0..<(n * C) { gb[i] = xb[i] * 2 }
        }}
    }
    print(String(format: "%@%@ plain z = 2x over the same arrays: cpu %.1f ms, %.2f GB/s (wall median %.1f ms)",
                 name, cached ? " (in cache)" : "", plain.cpu * 1e3, bytes / plain.cpu / 1e9, plain.median * 1e3))
    for threads in threadList {
        for withGradient in [true, false] {
            let t = median { for _ in 0..<calls {
                x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in
                    out.withUnsafeMutableBufferPointer { ob in grad.withUnsafeMutableBufferPointer { gb in
                        let outputs = Fast.Outputs(output: ob, gradInput: withGradient ? gb : nil)
                        switch name {
                        case "W7": try! Fast.evaluate(CrossEntropyLoss(), input: xb, shape: [n, C], target: yb, targetShape: [n], into: outputs, threads: threads)
                        case "W8": try! Fast.evaluate(CrossEntropyLoss(labelSmoothing: 0.1), input: xb, shape: [n, C], target: yb, targetShape: [n], into: outputs, threads: threads)
                        case "W9": try! Fast.evaluate(CrossEntropyLoss(), input: xb, shape: [n, C], target: yb, targetShape: [n], into: outputs, threads: threads)
                        default: try! Fast.evaluate(NLLLoss(), input: xb, shape: [n, C], target: yb, targetShape: [n], into: outputs, threads: threads)
                        }
                    }}
                }}
            } }
            let b = (withGradient ? bytes : bytes / 2) * Double(calls)
            let time = threads == 1 ? t.cpu : t.median
            print(String(format: "%@ %@ threads=%d: %@ %.1f ms, %.2f GB/s (logits%@), %.2fx the plain loop's time per byte (wall median %.1f, min %.1f), loss %.6f",
                         name, withGradient ? "value+grad" : "value     ", threads, threads == 1 ? "cpu" : "wall",
                         time * 1e3, b / time / 1e9, withGradient ? " + gradient" : "",
                         (time / b) / (plain.cpu / bytes), t.median * 1e3, t.min * 1e3, out[0]))
            if cached { print(String(format: "    %.3f ns per element", time / Double(calls * n * C) * 1e9)) }
        }
    }
}
/// `S<C>`: cross_entropy value + gradient on [2^16 / C, C] (in cache), 20 calls per timing:
/// the per-element cost at one class count, for choosing `Fast.wideRowClasses`.
func sweep(_ C: Int) {
    let n = max(1, (1 << 16) / C)
    var rng = Rng()
    let x = (0..<(n * C)).map { _ in rng.normal() }
    let y = (0..<n).map { _ in Int(rng.next() % UInt64(C)) }
    var out: [Float] = [0]
    var grad = [Float](repeating: 0, count: n * C)
    let t = median { for _ in 0..<20 {
        x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in
            out.withUnsafeMutableBufferPointer { ob in grad.withUnsafeMutableBufferPointer { gb in
                try! Fast.evaluate(CrossEntropyLoss(), input: xb, shape: [n, C], target: yb, targetShape: [n],
                                   into: Fast.Outputs(output: ob, gradInput: gb), threads: 1)
            }}
        }}
    } }
    print(String(format: "C = %d: %.3f ns per element", C, t.cpu / Double(20 * n * C) * 1e9))
}

for w in workloads { run(w) }

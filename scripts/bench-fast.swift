// The fast engine's throughput on mse over buffers, against a plain three-stream loop
// measured in the same run (the memory bound as this machine delivers it).
// Built and run by scripts/bench-fast.sh; not part of the package.
//
//   bench-fast [n = 2^24] [repetitions = 11] [threads = 1,2]
import FastLosses
import Foundation

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

let args = CommandLine.arguments
let n = args.count > 1 ? Int(args[1])! : 1 << 24
let reps = args.count > 2 ? Int(args[2])! : 11
let threadList = args.count > 3 ? args[3].split(separator: ",").map { Int($0)! } : [1, 2]
var rng = SystemRandomNumberGenerator()
let x = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
let y = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
var out: [Float] = [0]
var gradient = [Float](repeating: 0, count: n)

func median(_ body: () -> Void) -> (median: Double, min: Double) {
    var times: [Double] = []
    for _ in 0..<reps {
        let t0 = now()
        body()
        times.append(now() - t0)
    }
    times.sort()
    return (times[reps / 2], times[0])
}

let plain = median {
    x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in gradient.withUnsafeMutableBufferPointer { gb in
        for i in 0..<n { gb[i] = xb[i] - yb[i] }
    }}}
}
print(String(format: "plain z = x - y, 1 thread: median %.2f ms, %.2f GB/s", plain.median * 1e3, Double(12 * n) / plain.median / 1e9))

for threads in threadList {
    for withGradient in [true, false] {
        let t = median {
            x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in
                out.withUnsafeMutableBufferPointer { ob in gradient.withUnsafeMutableBufferPointer { gb in
                    try! Fast.evaluate(MSELoss(), input: xb, target: yb, shape: [n],
                                       into: Fast.Outputs(output: ob, gradInput: withGradient ? gb : nil), threads: threads)
                }}
            }}
        }
        let bytes = Double((withGradient ? 3 : 2) * 4 * n)
        print(String(format: "mse %@ n=%d threads=%d: median %.2f ms (min %.2f), %.2f GB/s, %.2fx the plain loop's time per byte",
                     withGradient ? "value+grad" : "value     ", n, threads, t.median * 1e3, t.min * 1e3,
                     bytes / t.median / 1e9, (t.median / bytes) / (plain.median / Double(12 * n))))
    }
}

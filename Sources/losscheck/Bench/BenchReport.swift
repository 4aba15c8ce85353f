import Foundation
import Losses

/// Everything one `losscheck bench` run measured: what `--json` prints, and what the
/// table is rendered from.
struct BenchReport: Codable {
    struct Build: Codable {
        /// "release" or "debug".
        let configuration: String
        let architecture: String
        /// "default" or "native" (see `BuildInfo`).
        let target: String
        let targetDescription: String
        /// `LOSSCHECK_BUILD_FLAGS` as `scripts/bench` set it, if it did.
        let reportedFlags: String?
    }

    struct HostInfo: Codable {
        let cpu: String?
        let processors: Int
        /// Vector features the host CPU has (not what the binary was compiled for).
        let vectorFeatures: [String]
        let lastLevelCacheBytes: Int
        /// True when sysfs did not say and 32 MiB was assumed.
        let lastLevelCacheAssumed: Bool
        let loadAverageAtStart: [Double]?
        var loadAverageAtEnd: [Double]?
    }

    struct Settings: Codable {
        let quick: Bool
        let warmupRuns: Int
        let timedRuns: Int
        let threads: [Int]
        /// The reference runs on the leading rows holding at most this many elements.
        let referenceElementBudget: Int
        let seed: UInt64
    }

    let date: String
    let build: Build
    var host: HostInfo
    let settings: Settings
    var bandwidth: [BandwidthResult] = []
    var workloads: [WorkloadResult] = []
    /// The elementary functions alone, in the L1 cache (see `ElementaryTiming`).
    var elementary: [ElementaryTiming] = []

    /// The bandwidth of `kernel` at `threads` that the workloads are compared with: the
    /// higher median of the measurements before and after the workloads (on a shared
    /// machine the bandwidth drifts; the higher one is what the machine could deliver,
    /// so the percentages are not flattered by a bad moment).
    func bandwidth(_ kernel: BandwidthKernel, threads: Int) -> BandwidthResult? {
        bandwidth.filter { $0.kernel == kernel && $0.threads == threads }.max { $0.gbPerSecond < $1.gbPerSecond }
    }

    /// Fills in every rate's percentage of the bandwidth (once all is measured).
    ///
    /// The two ceilings (in cache, elementary functions) use the fastest timed run, not
    /// the median: a ceiling says how fast the arithmetic can go, and on a shared machine
    /// a slow run says more about the neighbours; with the higher bandwidth median this
    /// makes "the ceiling is below 60%" the claim least flattering to the target.
    mutating func compareWithBandwidth() {
        for w in workloads.indices {
            for m in workloads[w].fast.indices {
                let threads = workloads[w].fast[m].threads
                for keyPath in [\FastMeasurement.value, \FastMeasurement.valueAndGradient] {
                    let rate = workloads[w].fast[m][keyPath: keyPath]
                    let peer = bandwidth(rate.bandwidthKernel, threads: threads)?.gbPerSecond
                    workloads[w].fast[m][keyPath: keyPath].percentOfBandwidth = peer.map { 100 * rate.gbPerSecond / $0 }
                    if threads == 1, let cpuPeer = bandwidth(rate.bandwidthKernel, threads: 1)?.cpuGBPerSecond {
                        let cpuRate = Double(rate.bytes) / rate.timing.cpuSecondsPerRun / 1e9
                        workloads[w].fast[m][keyPath: keyPath].cpuPercentOfBandwidth = 100 * cpuRate / cpuPeer
                    }
                }
            }
            let functions = workloads[w].elementaryFunctions
            let times = functions.compactMap { f in elementary.first { $0.function == f }?.bestNanosecondsPerElement }
            if !functions.isEmpty, times.count == functions.count,
               let peer = bandwidth(workloads[w].gradientKernel, threads: 1)?.gbPerSecond {
                let elements = Double(workloads[w].shape.reduce(1, *))
                let bytesPerElement = Double(workloads[w].bytesValueAndGradient) / elements
                workloads[w].elementaryCeilingPercentOfBandwidth = 100 * bytesPerElement / times.reduce(0, +) / peer
            }
            if let inCache = workloads[w].inCache,
               let peer = bandwidth(workloads[w].gradientKernel, threads: 1)?.gbPerSecond {
                workloads[w].inCache?.ceilingPercentOfBandwidth = 100 * inCache.bytesPerElement / inCache.bestNanosecondsPerElement / peer
            }
        }
    }
}

/// One timed variant (value only, or value + input gradient) of one workload.
struct Rate: Codable {
    let timing: Timing
    /// The minimal bytes of one call (see `Workload.bytes`).
    let bytes: Int
    /// `bytes / median time`, 10^9 bytes per second.
    let gbPerSecond: Double
    /// The bandwidth kernel compared with, and `gbPerSecond` as a percentage of its
    /// median GB/s at the same thread count.
    let bandwidthKernel: BandwidthKernel
    var percentOfBandwidth: Double?
    /// At 1 thread: the same ratio with both rates taken over the process's CPU time
    /// instead of the wall time (the time the bench actually ran, on a shared machine).
    var cpuPercentOfBandwidth: Double?
}

/// The fast engine through one entry point at one thread count.
struct FastMeasurement: Codable {
    /// "buffer" (allocation-free) or "tensor".
    let api: String
    let threads: Int
    var value: Rate
    var valueAndGradient: Rate
}

/// The reference engine's one timed run of value + input gradient.
struct ReferenceMeasurement: Codable {
    /// The shape it ran on: the leading rows of the workload's input.
    let shape: [Int]
    let elements: Int
    let fullElements: Int
    /// `fullElements / elements`: the factor applied to the time.
    let scale: Double
    /// The measured time of the one run on `shape`.
    let seconds: Double
    /// The process's CPU time during that run (it runs on one thread).
    let cpuSeconds: Double
    /// `seconds * scale`: the estimated time on the full input.
    let scaledSeconds: Double
}

/// The compute time of a workload without its memory traffic: the buffer API, value +
/// input gradient, 1 thread, on the leading rows whose streams fit in the L2 cache,
/// called `repeats` times per timed run. Its time per element is what the kernel costs
/// when every load hits the cache; the full workload cannot run faster than that, so
/// `ceilingPercentOfBandwidth` (the % of the bandwidth kernel the full workload would
/// reach at that speed) tells a compute-bound workload from a memory-bound one.
struct InCacheMeasurement: Codable {
    /// The leading rows' shape, and the elements of one call on it.
    let shape: [Int]
    let elements: Int
    /// The bytes of one call on the slice (inputs, gradient): they stay in the L2 cache.
    let sliceBytes: Int
    /// Calls per timed run.
    let repeats: Int
    /// The timing of one timed run (`repeats` calls).
    let timing: Timing
    /// Median time per run / (repeats x elements).
    let nanosecondsPerElement: Double
    /// The same for the fastest run.
    let bestNanosecondsPerElement: Double
    /// The full workload's minimal bytes (value + gradient) per element.
    let bytesPerElement: Double
    /// `bytesPerElement / bestNanosecondsPerElement` as a % of the workload's gradient
    /// bandwidth kernel's GB/s at 1 thread.
    var ceilingPercentOfBandwidth: Double?
}

/// A speedup of the fast engine (buffer API, value + gradient, median) over the reference.
struct Speedup: Codable {
    let threads: Int
    let ratio: Double
}

struct WorkloadResult: Codable {
    let id: String
    let loss: String
    let options: String
    let data: String
    let shape: [Int]
    let bytesValue: Int
    let bytesValueAndGradient: Int
    var fast: [FastMeasurement] = []
    var reference: ReferenceMeasurement?
    var inCache: InCacheMeasurement?
    /// The bandwidth kernel value + gradient is compared with.
    let gradientKernel: BandwidthKernel
    /// The elementary functions evaluated per element, and the %bw (1 thread) the
    /// workload would reach if its time were theirs alone (`ElementaryTiming`).
    let elementaryFunctions: [ElementaryFunction]
    var elementaryCeilingPercentOfBandwidth: Double?
    var speedups: [Speedup] = []
    /// Anything the reader should know (a failed call, values that disagree).
    var notes: [String] = []
}

// MARK: - Text rendering

extension BenchReport {
    /// The table `losscheck bench` prints by default.
    func table() -> String {
        var lines: [String] = []
        var headline = "losscheck bench: \(build.configuration) build, target \(build.targetDescription)"
        if let flags = build.reportedFlags { headline += "; built with: \(flags)" }
        lines.append(headline)
        var hostLine = "host: \(host.cpu ?? "unknown CPU"), \(host.processors) processors"
        if !host.vectorFeatures.isEmpty { hostLine += ", CPU has \(host.vectorFeatures.joined(separator: " "))" }
        hostLine += "; load average \(Self.load(host.loadAverageAtStart)) at start, \(Self.load(host.loadAverageAtEnd)) at end"
        lines.append(hostLine)
        lines.append("date: \(date); \(settings.quick ? "QUICK smoke run (small sizes, few runs: not a measurement); " : "")"
                     + "\(settings.timedRuns) timed runs after \(settings.warmupRuns) warm-up; float32; threads \(settings.threads.map(String.init).joined(separator: " and "))")
        lines.append("")

        if let first = bandwidth.first {
            let mib = (first.elements * 4) >> 20
            let cache = host.lastLevelCacheBytes >> 20
            let phases = Array(Set(bandwidth.map(\.phase))).sorted { $0 == "start" && $1 != "start" }
            lines.append("Memory bandwidth: buffers of \(mib) MiB each (last-level cache \(cache) MiB\(host.lastLevelCacheAssumed ? ", assumed" : "")), "
                         + "GB/s = counted bytes / time, median (best) of \(first.timing.runs), then the on-CPU share"
                         + (phases.count > 1 ? "; measured before and after the workloads, %bw uses the higher median" : ""))
            var rows = [["kernel", "loop", "bytes/elem"] + (phases.count > 1 ? ["when"] : []) + settings.threads.map { Self.threadsLabel($0) }]
            for kernel in BandwidthKernel.allCases {
                for phase in phases {
                    var row = [kernel.rawValue, kernel.formula, "\(kernel.bytesPerElement)"] + (phases.count > 1 ? [phase] : [])
                    for t in settings.threads {
                        if let r = bandwidth.first(where: { $0.kernel == kernel && $0.threads == t && $0.phase == phase }) {
                            row.append("\(Self.fixed(r.gbPerSecond, 1)) (\(Self.fixed(r.bestGBPerSecond, 1))) \(Self.fixed(100 * r.timing.cpuShare(threads: t), 0))%")
                        } else {
                            row.append("-")
                        }
                    }
                    rows.append(row)
                }
            }
            let firstNumber = phases.count > 1 ? 4 : 3
            lines += Self.align(rows, rightAligned: Set([2] + Array(firstNumber..<(firstNumber + settings.threads.count)))).map { "  " + $0 }
            lines.append("")
        }

        if !elementary.isEmpty {
            lines.append("Elementary functions alone (FloatVector, \(elementary[0].elements) arguments in L1 x \(elementary[0].passes) passes, 1 thread), ns per element, median (best):")
            lines.append("  " + elementary.map { "\($0.function.rawValue) \(Self.fixed($0.nanosecondsPerElement, 3)) (\(Self.fixed($0.bestNanosecondsPerElement, 3)))" }.joined(separator: ", "))
            lines.append("")
        }

        lines.append("Workloads: ms = median / min of the timed runs; GB/s = minimal bytes (inputs read once, gradient written once) / median;")
        lines.append("%bw = that GB/s over the bandwidth kernel with the same streams at the same thread count (value: read; value+grad: triad")
        lines.append("for two input streams, copy for one). Reference: Double, value + input gradient, one run, on the leading rows shown, time scaled.")
        for w in workloads {
            lines.append("")
            lines.append("\(w.id) \(w.loss) \(Shape.describe(w.shape)), \(w.options): \(w.data)")
            lines.append("   minimal bytes: value \(Self.megabytes(w.bytesValue)), value+grad \(Self.megabytes(w.bytesValueAndGradient))")
            if !w.fast.isEmpty {
                let shares = settings.threads.map { t -> String in
                    let timings = w.fast.filter { $0.threads == t }.flatMap { [$0.value.timing, $0.valueAndGradient.timing] }
                    let cpu = timings.reduce(0) { $0 + $1.cpuSeconds }, wall = timings.reduce(0) { $0 + $1.totalSeconds }
                    return "\(Self.fixed(100 * cpu / (wall * Double(t)), 0))% at \(Self.threadsLabel(t))"
                }
                lines.append("   on-CPU share while timed (process CPU time / wall time x threads): " + shares.joined(separator: ", "))
            }
            if !w.fast.isEmpty {
                var rows = [["engine", "api", "threads", "value ms", "GB/s", "%bw", "value+grad ms", "GB/s", "%bw"]]
                for m in w.fast {
                    rows.append(["fast", m.api, "\(m.threads)",
                                 Self.milliseconds(m.value.timing), Self.fixed(m.value.gbPerSecond, 2), Self.percent(m.value.percentOfBandwidth),
                                 Self.milliseconds(m.valueAndGradient.timing), Self.fixed(m.valueAndGradient.gbPerSecond, 2),
                                 Self.percent(m.valueAndGradient.percentOfBandwidth)])
                }
                lines += Self.align(rows, rightAligned: Set(2...8)).map { "   " + $0 }
            }
            if let c = w.inCache {
                lines.append("   in cache (compute only): buffer, value+grad, 1 thread, on \(Shape.describe(c.shape)) (\(Self.fixed(Double(c.sliceBytes) / 1024, 0)) KiB) "
                             + "x \(c.repeats) calls: \(Self.fixed(c.nanosecondsPerElement, 2)) (best \(Self.fixed(c.bestNanosecondsPerElement, 2))) ns per element; "
                             + "the full workload at the best speed: \(Self.percent(c.ceilingPercentOfBandwidth)) of \(w.gradientKernel.rawValue)")
            }
            if let ceiling = w.elementaryCeilingPercentOfBandwidth {
                let names = w.elementaryFunctions.map(\.rawValue).joined(separator: " + ")
                let ns = w.elementaryFunctions.compactMap { f in elementary.first { $0.function == f }?.bestNanosecondsPerElement }.reduce(0, +)
                lines.append("   \(names) alone (per element, in L1, best runs): \(Self.fixed(ns, 2)) ns per element: at most \(Self.percent(ceiling)) of \(w.gradientKernel.rawValue) at 1 thread")
            }
            if let r = w.reference {
                var line = "   reference: \(Self.fixed(r.scaledSeconds * 1e3, 1)) ms"
                if r.elements == r.fullElements {
                    line += " (one run on the full input)"
                } else {
                    line += " estimated: \(Self.fixed(r.seconds * 1e3, 1)) ms on \(Shape.describe(r.shape)) (\(r.elements) of \(r.fullElements) elements) x \(Self.fixed(r.scale, 2))"
                }
                line += "; \(Self.fixed(r.seconds / Double(r.elements) * 1e9, 0)) ns per element, on-CPU share \(Self.fixed(100 * r.cpuSeconds / r.seconds, 0))%"
                lines.append(line)
                if !w.speedups.isEmpty {
                    lines.append("   speedup of fast (buffer, value+grad) over reference: "
                                 + w.speedups.map { "\(Self.ratio($0.ratio)) at \(Self.threadsLabel($0.threads))" }.joined(separator: ", "))
                }
            }
            for note in w.notes { lines.append("   note: \(note)") }
        }

        let built = workloads.filter { !$0.fast.isEmpty }
        if !built.isEmpty {
            lines.append("")
            lines.append("Summary: fast engine, buffer API, value + gradient (median GB/s and % of the matching bandwidth kernel)")
            let most = settings.threads.last ?? 1
            lines.append("  (by CPU time: 1 thread, bytes over the process's CPU time per call, as a % of the bandwidth kernel measured")
            lines.append("  the same way: the speed while the bench actually ran, which wall time hides when the machine is shared;")
            lines.append("  in-cache ceiling: the %bw the workload would reach if it ran at its in-cache compute speed (best run), memory free;")
            lines.append("  functions ceiling: the same for the time of its per-element exp/log/log1p alone (best runs), the rest of the kernel free)")
            var rows = [["workload", "loss"] + settings.threads.flatMap { ["\(Self.threadsLabel($0)) GB/s", "%bw"] }
                        + ["by CPU time GB/s", "%bw", "in-cache ceiling", "functions ceiling", "ref/fast at \(most)"]]
            for w in workloads {
                var row = [w.id, w.loss]
                for t in settings.threads {
                    if let m = w.fast.first(where: { $0.api == "buffer" && $0.threads == t }) {
                        row += [Self.fixed(m.valueAndGradient.gbPerSecond, 2), Self.percent(m.valueAndGradient.percentOfBandwidth)]
                    } else {
                        row += ["-", ""]
                    }
                }
                if let m = w.fast.first(where: { $0.api == "buffer" && $0.threads == 1 }) {
                    let rate = m.valueAndGradient
                    row += [Self.fixed(Double(rate.bytes) / rate.timing.cpuSecondsPerRun / 1e9, 2), Self.percent(rate.cpuPercentOfBandwidth)]
                } else {
                    row += ["-", ""]
                }
                row.append(Self.percent(w.inCache?.ceilingPercentOfBandwidth))
                row.append(Self.percent(w.elementaryCeilingPercentOfBandwidth))
                row.append(w.speedups.last.map { Self.ratio($0.ratio) } ?? "-")
                rows.append(row)
            }
            lines += Self.align(rows, rightAligned: Set(2..<(7 + 2 * settings.threads.count))).map { "  " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report as pretty-printed JSON with sorted keys.
    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self), let text = String(data: data, encoding: .utf8) else {
            return "{\"error\": \"the report could not be encoded\"}\n"
        }
        return text + "\n"
    }

    static func threadsLabel(_ n: Int) -> String { n == 1 ? "1 thread" : "\(n) threads" }

    static func fixed(_ value: Double, _ decimals: Int) -> String {
        value.isFinite ? String(format: "%.\(decimals)f", value) : "\(value)"
    }

    static func milliseconds(_ t: Timing) -> String {
        let decimals = t.medianSeconds < 0.01 ? 3 : 2
        return "\(fixed(t.medianSeconds * 1e3, decimals)) / \(fixed(t.minSeconds * 1e3, decimals))"
    }

    /// "3.4x", "57x", "1234x": three significant digits at most.
    static func ratio(_ value: Double) -> String {
        "\(fixed(value, value < 10 ? 1 : 0))x"
    }

    static func percent(_ value: Double?) -> String {
        value.map { "\(fixed($0, 0))%" } ?? "-"
    }

    static func megabytes(_ bytes: Int) -> String {
        "\(fixed(Double(bytes) / 1e6, 1)) MB"
    }

    static func load(_ values: [Double]?) -> String {
        values.map { $0.map { fixed($0, 2) }.joined(separator: " ") } ?? "unknown"
    }

    /// Pads the columns of `rows` to a common width (two spaces between columns).
    static func align(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
    }
}

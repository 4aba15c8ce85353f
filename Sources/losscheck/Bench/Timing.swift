import Dispatch
import Foundation

/// Wall-clock timing for `losscheck bench`: a few untimed warm-up calls, then `runs`
/// timed calls, summarized by their median and minimum. The process's CPU time over the
/// timed calls is kept too: on a shared machine it says how much of the wall time the
/// bench actually ran.
struct Timing: Codable, Sendable {
    /// The median of the timed runs, in seconds (the mean of the two middle ones for an
    /// even count).
    let medianSeconds: Double
    /// The fastest timed run, in seconds.
    let minSeconds: Double
    /// How many runs were timed.
    let runs: Int
    /// The wall time of all timed runs together, in seconds.
    let totalSeconds: Double
    /// The CPU time (user + system, all threads of the process) over the same runs.
    let cpuSeconds: Double

    /// Times `body`: `warmup` untimed calls, then `runs` (at least 1) timed calls.
    static func measure(warmup: Int, runs: Int, _ body: () throws -> Void) rethrows -> Timing {
        for _ in 0..<warmup { try body() }
        var seconds: [Double] = []
        seconds.reserveCapacity(runs)
        let cpuStart = Clock.processCPU()
        for _ in 0..<max(1, runs) {
            let start = Clock.now()
            try body()
            seconds.append(Clock.now() - start)
        }
        return Timing(seconds, cpuSeconds: Clock.processCPU() - cpuStart)
    }

    /// The summary of measured times (at least one).
    init(_ seconds: [Double], cpuSeconds: Double) {
        let sorted = seconds.sorted()
        let middle = sorted.count / 2
        medianSeconds = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        minSeconds = sorted[0]
        runs = sorted.count
        totalSeconds = seconds.reduce(0, +)
        self.cpuSeconds = cpuSeconds
    }

    /// The process's CPU time per timed run.
    var cpuSecondsPerRun: Double { cpuSeconds / Double(runs) }

    /// The share of `threads` processors the process had while timed: CPU time over
    /// wall time times `threads` (1 = it ran all the time on every thread it asked for;
    /// less = it waited for a processor, or its threads were idle).
    func cpuShare(threads: Int) -> Double {
        cpuSeconds / (totalSeconds * Double(max(1, threads)))
    }
}

/// The clocks the bench reads.
enum Clock {
    /// Seconds since an arbitrary fixed point (CLOCK_MONOTONIC through Dispatch).
    static func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
    }

    /// The CPU time of the whole process (all threads, user + system), in seconds.
    static func processCPU() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}

/// Facts about the machine the bench runs on, read at run time.
enum Host {
    /// The CPU's model name from /proc/cpuinfo, if there is one.
    static var cpuModel: String? {
        cpuinfoField("model name")
    }

    /// Which of the vector features that matter here the host CPU has (from the
    /// /proc/cpuinfo flags): what a `-target-cpu native` build may use. Not what this
    /// binary was compiled for (see `BuildInfo`).
    static var vectorFeatures: [String] {
        guard let flags = cpuinfoField("flags")?.split(separator: " ").map(String.init) else { return [] }
        let present = Set(flags)
        return ["sse4_2", "avx", "avx2", "fma", "avx512f"].filter(present.contains)
    }

    /// The 1-, 5- and 15-minute load averages from /proc/loadavg.
    static var loadAverage: [Double]? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        return fields.count == 3 ? fields : nil
    }

    /// The size in bytes of the largest (last-level) cache cpu0 reports in sysfs, or
    /// nil where sysfs does not say.
    static var lastLevelCacheBytes: Int? {
        var best: (level: Int, bytes: Int)?
        for index in 0..<8 {
            let base = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            guard let levelText = try? String(contentsOfFile: base + "level", encoding: .utf8),
                  let sizeText = try? String(contentsOfFile: base + "size", encoding: .utf8),
                  let level = Int(levelText.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let bytes = parseSize(sizeText.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            if best == nil || level > best!.level || (level == best!.level && bytes > best!.bytes) {
                best = (level, bytes)
            }
        }
        return best?.bytes
    }

    /// "32768K" -> 33554432; "1M" -> 1048576; plain digits are bytes.
    static func parseSize(_ text: String) -> Int? {
        guard let last = text.last else { return nil }
        let multiplier: Int
        switch last {
        case "K", "k": multiplier = 1 << 10
        case "M", "m": multiplier = 1 << 20
        case "G", "g": multiplier = 1 << 30
        default: return Int(text)
        }
        return Int(text.dropLast()).map { $0 * multiplier }
    }

    private static func cpuinfoField(_ name: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}

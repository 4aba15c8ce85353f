import Foundation
import Losses

/// `losscheck bench`: the fast engine's speed on the issue's workloads, next to the
/// reference engine and to the memory bandwidth measured in the same run.
enum BenchCommand: Subcommand {
    static let name = "bench"
    static let summary = "time the engines on the standard workloads against the measured memory bandwidth"
    static let command = "losscheck bench"

    static var usage: String {
        let list = WorkloadSpec.all.map { spec in
            "  \(spec.id.padding(toLength: 4, withPad: " ", startingAt: 0)) \(spec.loss) \(Shape.describe(spec.shape))"
                + (spec.options == "defaults" ? "" : ", \(spec.options)")
        }.joined(separator: "\n")
        return """
        Usage: losscheck bench [options]

        Times the fast engine (Float) on the standard workloads: value only and value +
        input gradient, through the allocation-free buffer API and the Tensor API, at 1
        thread and at all cores (median and min of the timed runs after warm-up; inputs
        drawn outside the timing). Times the Double reference engine once per workload
        (value + input gradient) for the speedup: on the leading rows holding at most
        2^20 elements (at least one row), the time scaled to the full input (the table
        says which; the reference is compute-bound, so its time is linear). Measures
        the memory bandwidth before and after the workloads (read, copy, triad over
        buffers 8x the last-level cache, 1 thread and all cores) and reports each
        workload's effective GB/s (minimal bytes: inputs read once, gradient written
        once) as a percentage of it. To tell compute-bound from memory-bound, it also
        times each workload (buffer API, value + gradient, 1 thread) on leading rows
        that fit in the L2 cache, called again and again, and the vectorized exp, log
        and log1p alone in L1, and prints the % of bandwidth each would allow at best
        (the in-cache and functions ceilings).

        Workloads (float32, reduction mean; kl_div batchmean):
        \(list)

        Options:
          --workload ID     run only this workload (W1 ... W11; repeatable, or W7,W8)
          --threads N       the "all cores" thread count (default: the active processor
                            count); 1 thread is always measured too
          --runs N          timed runs per measurement (default 9, at least 7 unless
                            --quick; 1 to 1000)
          --quick           smoke run: small sizes, 3 runs, seconds; not a measurement
          --json            print the report as JSON instead of the table
          --json-out FILE   also write the JSON report to FILE (the table still prints)
          --reference-elements N
                            run the reference on the leading rows holding at most N
                            elements (default 1048576 = 2^20); a large N runs it on
                            the whole input (slow, and W7 in Double needs GBs)
          -h, --help        show this help and exit

        The first line says which build this is (debug or release) and its CPU target.
        Swift cannot test CPU features at compile time: the target is "native" only when
        the build passed -DLOSSCHECK_TARGET_CPU_NATIVE (scripts/bench --native does, with
        -target-cpu native); scripts/bench also reports its build command through the
        LOSSCHECK_BUILD_FLAGS environment variable. A debug build prints a warning: its
        timings mean nothing. Progress goes to standard error.

        Exit status: 0 if every call ran, 1 if an engine call threw, 2 if the command
        line was wrong.

        """
    }

    /// What the command line asked for.
    struct Options: Equatable {
        var workloads: [String] = WorkloadSpec.all.map(\.id)
        var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var runs: Int = 9
        var quick = false
        var json = false
        var jsonOut: String?
        var help = false
        /// The reference runs on the leading rows holding at most this many elements.
        var referenceElements = 1 << 20
    }

    /// Parses the arguments after `bench`. `--workload` may repeat, so it is taken out
    /// before the common parser (which keeps one value per option) sees the rest.
    static func parse(_ arguments: [String]) throws(UsageError) -> Options {
        var rest: [String] = [], requested: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                rest += arguments[index...]
                break
            }
            if argument == "--workload" {
                guard index + 1 < arguments.count else {
                    throw UsageError(command: command, message: "option '--workload' needs a value")
                }
                requested.append(arguments[index + 1])
                index += 2
                continue
            }
            if argument.hasPrefix("--workload=") {
                requested.append(String(argument.dropFirst("--workload=".count)))
            } else {
                rest.append(argument)
            }
            index += 1
        }
        let parsed = try ParsedArguments(rest, command: command, flags: ["--quick", "--json"],
                                         options: ["--threads", "--runs", "--json-out", "--reference-elements"])
        var options = Options()
        options.help = parsed.has("--help")
        options.quick = parsed.has("--quick")
        options.json = parsed.has("--json")
        options.jsonOut = parsed.value("--json-out")
        if let extra = parsed.positionals.first {
            throw UsageError(command: command, message: "unexpected argument '\(extra)'")
        }
        if let text = parsed.value("--threads") {
            guard let n = Int(text), (1...1024).contains(n) else {
                throw UsageError(command: command, message: "--threads '\(text)': expected a whole number from 1 to 1024")
            }
            options.threads = n
        }
        options.runs = options.quick ? 3 : 9
        if let text = parsed.value("--runs") {
            guard let n = Int(text), (1...1000).contains(n) else {
                throw UsageError(command: command, message: "--runs '\(text)': expected a whole number from 1 to 1000")
            }
            if n < 7 && !options.quick {
                throw UsageError(command: command, message: "--runs \(n): a measurement takes at least 7 timed runs (use --quick for a smoke run)")
            }
            options.runs = n
        }
        if let text = parsed.value("--reference-elements") {
            guard let n = Int(text), n >= 1 else {
                throw UsageError(command: command, message: "--reference-elements '\(text)': expected a whole number >= 1")
            }
            options.referenceElements = n
        }
        if !requested.isEmpty {
            var ids: [String] = []
            for item in requested.flatMap({ $0.split(separator: ",") }) {
                let wanted = item.trimmingCharacters(in: .whitespaces).uppercased()
                guard let spec = WorkloadSpec.all.first(where: { $0.id == wanted }) else {
                    let known = WorkloadSpec.all.map(\.id).joined(separator: ", ")
                    throw UsageError(command: command, message: "unknown workload '\(item)'; expected one of \(known)")
                }
                if !ids.contains(spec.id) { ids.append(spec.id) }
            }
            options.workloads = WorkloadSpec.all.map(\.id).filter(ids.contains)
        }
        return options
    }

    static func run(_ arguments: [String]) -> Int32 {
        let options: Options
        do {
            options = try parse(arguments)
        } catch {
            return error.report()
        }
        if options.help {
            Console.out(usage)
            return ExitStatus.success
        }
        if !BuildInfo.isRelease {
            Console.error("warning: losscheck was built as \(BuildInfo.configuration): these timings mean nothing; build with 'swift build -c release' or run scripts/bench")
        }
        let (report, failed) = BenchRunner(options: options).run()
        if let path = options.jsonOut {
            do {
                try Data(report.json().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                Console.error("\(command): cannot write \(path): \(error.localizedDescription)")
                return ExitStatus.failure
            }
        }
        Console.out(options.json ? report.json() : report.table())
        return failed ? ExitStatus.failure : ExitStatus.success
    }
}

/// Runs the measurements `BenchCommand` asked for and collects the report.
struct BenchRunner {
    let options: BenchCommand.Options

    /// The fixed seed of the drawn data.
    static let seed: UInt64 = 20_240_601

    var warmup: Int { options.quick ? 1 : 2 }
    var threadCounts: [Int] { options.threads == 1 ? [1] : [1, options.threads] }

    func progress(_ line: String) { Console.error("bench: " + line) }

    /// The report, and whether any engine call threw.
    func run() -> (BenchReport, Bool) {
        let cache = Host.lastLevelCacheBytes
        let formatter = ISO8601DateFormatter()
        var report = BenchReport(
            date: formatter.string(from: Date()),
            build: .init(configuration: BuildInfo.configuration, architecture: BuildInfo.architecture,
                         target: BuildInfo.targetLabel, targetDescription: BuildInfo.target,
                         reportedFlags: BuildInfo.reportedFlags),
            host: .init(cpu: Host.cpuModel, processors: ProcessInfo.processInfo.activeProcessorCount,
                        vectorFeatures: Host.vectorFeatures, lastLevelCacheBytes: cache ?? 32 << 20,
                        lastLevelCacheAssumed: cache == nil, loadAverageAtStart: Host.loadAverage, loadAverageAtEnd: nil),
            settings: .init(quick: options.quick, warmupRuns: warmup, timedRuns: options.runs, threads: threadCounts,
                            referenceElementBudget: options.referenceElements, seed: Self.seed))
        progress(BuildInfo.headline)

        report.bandwidth = measureBandwidth(cacheBytes: report.host.lastLevelCacheBytes, phase: "start")
        progress("elementary functions alone, in L1")
        report.elementary = ElementaryFunction.allCases.map { ElementaryTiming.measure($0, warmup: warmup, runs: options.runs) }
        var failed = false
        for spec in WorkloadSpec.all where options.workloads.contains(spec.id) {
            let result = measure(spec)
            failed = failed || result.notes.contains { $0.hasPrefix("error") }
            report.workloads.append(result)
        }
        if !options.quick {
            report.bandwidth += measureBandwidth(cacheBytes: report.host.lastLevelCacheBytes, phase: "end")
        }
        report.compareWithBandwidth()
        report.host.loadAverageAtEnd = Host.loadAverage
        return (report, failed)
    }

    func measureBandwidth(cacheBytes: Int, phase: String) -> [BandwidthResult] {
        let bytes = Bandwidth.bufferBytes(lastLevelCache: cacheBytes, quick: options.quick)
        progress("bandwidth (\(phase)): 3 buffers of \(bytes >> 20) MiB")
        let buffers = BandwidthBuffers(bytesPerBuffer: bytes)
        var results: [BandwidthResult] = []
        for kernel in BandwidthKernel.allCases {
            for threads in threadCounts {
                results.append(Bandwidth.measure(kernel, threads: threads, buffers: buffers, warmup: warmup, runs: options.runs, phase: phase))
            }
        }
        return results
    }

    func measure(_ spec: WorkloadSpec) -> WorkloadResult {
        let shape = options.quick ? spec.quickShape : spec.shape
        progress("\(spec.id) \(spec.loss) \(Shape.describe(shape)): drawing the data")
        let workload = spec.make(shape, Self.seed &+ UInt64(spec.id.dropFirst())!)
        var result = WorkloadResult(id: spec.id, loss: spec.loss, options: spec.options, data: spec.data, shape: shape,
                                    bytesValue: workload.bytes(gradient: false),
                                    bytesValueAndGradient: workload.bytes(gradient: true),
                                    gradientKernel: spec.gradientKernel, elementaryFunctions: spec.elementaryFunctions)

        do {
            var values: [String: Float] = [:]
            do {
                for api in ["buffer", "tensor"] {
                    for threads in threadCounts {
                        progress("\(spec.id) fast \(api) API, \(BenchReport.threadsLabel(threads))")
                        var rates: [Rate] = []
                        for gradient in [false, true] {
                            var value: Float = .nan
                            let timing = try Timing.measure(warmup: warmup, runs: options.runs) {
                                value = api == "buffer" ? try workload.runBuffer(rows: shape[0], gradient: gradient, threads: threads)
                                                        : try workload.runTensor(gradient: gradient, threads: threads)
                            }
                            values["\(api), \(BenchReport.threadsLabel(threads)), \(gradient ? "value+grad" : "value")"] = value
                            let bytes = workload.bytes(gradient: gradient)
                            let kernel = gradient ? spec.gradientKernel : .read
                            let gbs = Double(bytes) / timing.medianSeconds / 1e9
                            rates.append(Rate(timing: timing, bytes: bytes, gbPerSecond: gbs, bandwidthKernel: kernel,
                                              percentOfBandwidth: nil))
                        }
                        result.fast.append(FastMeasurement(api: api, threads: threads, value: rates[0], valueAndGradient: rates[1]))
                    }
                }
            } catch {
                result.notes.append("error: the fast engine threw: \(error)")
            }
            // Every entry point, thread count and gradient request must give the same
            // bits (the engine is deterministic); a difference means a broken call.
            let distinct = Set(values.values.map(\.bitPattern))
            if distinct.count > 1 || values.values.contains(where: { !$0.isFinite }) {
                let listed = values.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")
                result.notes.append("the loss values differ between calls or are not finite: \(listed)")
            }
        }

        if !result.fast.isEmpty {
            do {
                result.inCache = try measureInCache(spec, workload, shape: shape)
            } catch {
                result.notes.append("error: the fast engine threw on the in-cache slice: \(error)")
            }
        }

        let rows = shape[0], rowElements = shape.dropFirst().reduce(1, *)
        let sliceRows = max(1, min(rows, options.referenceElements / max(1, rowElements)))
        progress("\(spec.id) reference on \(sliceRows) of \(rows) \(shape.count == 1 ? "elements" : "rows")")
        do {
            let call = workload.referenceCall(rows: sliceRows)
            let start = Clock.now(), cpuStart = Clock.processCPU()
            try call()
            let seconds = Clock.now() - start, cpu = Clock.processCPU() - cpuStart
            let elements = sliceRows * rowElements, full = rows * rowElements
            let scale = Double(full) / Double(elements)
            let reference = ReferenceMeasurement(shape: [sliceRows] + shape.dropFirst(), elements: elements, fullElements: full,
                                                 scale: scale, seconds: seconds, cpuSeconds: cpu,
                                                 scaledSeconds: seconds * scale)
            result.reference = reference
            for threads in threadCounts {
                if let m = result.fast.first(where: { $0.api == "buffer" && $0.threads == threads }) {
                    result.speedups.append(Speedup(threads: threads, ratio: reference.scaledSeconds / m.valueAndGradient.timing.medianSeconds))
                }
            }
        } catch {
            result.notes.append("error: the reference engine threw: \(error)")
        }
        return result
    }

    /// The L2-resident slice for `measureInCache`: streams of at most this many bytes
    /// (half of a 512 KiB L2, so the slice and the code stay in it).
    static let inCacheBytes = 256 << 10
    /// Elements per timed in-cache run (the slice called again and again).
    static let inCacheElementsPerRun = 1 << 22

    /// The buffer API, value + input gradient, 1 thread, on the leading rows whose streams
    /// fit in the L2 cache (at least one row), repeated: the kernel's compute time per
    /// element with the memory traffic taken away.
    func measureInCache(_ spec: WorkloadSpec, _ workload: any Workload, shape: [Int]) throws -> InCacheMeasurement {
        let rows = shape[0], rowElements = shape.dropFirst().reduce(1, *)
        let bytes = workload.bytes(gradient: true)
        let bytesPerRow = max(1, bytes / rows)
        let sliceRows = max(1, min(rows, Self.inCacheBytes / bytesPerRow))
        let elements = sliceRows * rowElements
        let repeats = max(1, Self.inCacheElementsPerRun / elements)
        progress("\(spec.id) in cache: \(sliceRows) \(shape.count == 1 ? "elements" : "rows") x \(repeats) calls")
        let timing = try Timing.measure(warmup: warmup, runs: options.runs) {
            for _ in 0..<repeats { _ = try workload.runBuffer(rows: sliceRows, gradient: true, threads: 1) }
        }
        let full = Double(rows * rowElements)
        return InCacheMeasurement(
            shape: [sliceRows] + shape.dropFirst(), elements: elements, sliceBytes: sliceRows * bytesPerRow, repeats: repeats,
            timing: timing, nanosecondsPerElement: timing.medianSeconds / Double(repeats * elements) * 1e9,
            bestNanosecondsPerElement: timing.minSeconds / Double(repeats * elements) * 1e9,
            bytesPerElement: Double(bytes) / full, ceilingPercentOfBandwidth: nil)
    }
}

import Foundation

/// What this binary was built as, for the first line of `losscheck bench`.
///
/// - The configuration comes from `#if DEBUG` (SwiftPM defines `DEBUG` in debug builds)
///   and, as a cross-check, from whether the standard library's debug assertions are on.
/// - The architecture comes from `#if arch(...)`.
/// - The CPU target: Swift has no compile-time test for CPU features (there is no
///   `#if` for AVX or FMA), so the build says it itself: `scripts/bench --native` passes
///   `-Xswiftc -DLOSSCHECK_TARGET_CPU_NATIVE` together with `-target-cpu native`.
///   Without that define the binary reports the default target, which is right for
///   `swift build -c release` and for `scripts/bench`, but a build by hand with its own
///   `-target-cpu` is not detected. `scripts/bench` also passes the exact build command
///   in the environment variable `LOSSCHECK_BUILD_FLAGS`, printed as given.
enum BuildInfo {
    /// "debug" or "release" (or a note when the two checks disagree).
    static var configuration: String {
        #if DEBUG
        return "debug"
        #else
        return assertionsEnabled ? "unoptimized (no DEBUG define, but assertions on)" : "release"
        #endif
    }

    /// Whether `assert` runs in this build (it does in -Onone, not in -O).
    private static var assertionsEnabled: Bool {
        var enabled = false
        assert({ enabled = true; return true }())
        return enabled
    }

    /// Whether timings from this build mean anything.
    static var isRelease: Bool { configuration == "release" }

    static var architecture: String {
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "other"
        #endif
    }

    /// Whether `scripts/bench --native` built this binary (the define it passes).
    static var nativeTarget: Bool {
        #if LOSSCHECK_TARGET_CPU_NATIVE
        return true
        #else
        return false
        #endif
    }

    /// The CPU target as far as the build says.
    static var target: String {
        if nativeTarget { return "\(architecture), -target-cpu native (host CPU features, e.g. AVX2/FMA where present)" }
        #if arch(x86_64)
        return "x86_64, default target CPU (baseline x86-64: SSE2, no AVX, no FMA; no -target-cpu define seen)"
        #else
        return "\(architecture), default target CPU (no -target-cpu define seen)"
        #endif
    }

    /// A short label for file names and JSON: "default" or "native".
    static var targetLabel: String { nativeTarget ? "native" : "default" }

    /// The build command `scripts/bench` reports in `LOSSCHECK_BUILD_FLAGS`, if set.
    static var reportedFlags: String? {
        guard let flags = ProcessInfo.processInfo.environment["LOSSCHECK_BUILD_FLAGS"], !flags.isEmpty else { return nil }
        return flags
    }

    /// The first output line: configuration and target.
    static var headline: String {
        var line = "losscheck bench: \(configuration) build, target \(target)"
        if let flags = reportedFlags { line += "; built with: \(flags)" }
        return line
    }
}

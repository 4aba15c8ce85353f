// Exhaustive accuracy check of the fast engine's vector math (Sources/Fast/VectorMath).
//
// Built by scripts/check-vector-math together with the VectorMath sources (one module,
// `swiftc -O`), so it needs no change to Package.swift. For each function named on the
// command line (default: all) it runs every one of the 2^32 Float bit patterns through
// the vector kernel, compares each lane with
//   - the Double reference from Foundation (error in Float ULPs at the Double result), and
//   - the scalar kernel (must agree bit for bit, NaN payloads included),
// and prints the worst error with the input producing it, the number of results more
// than 1 ULP away, and the number of scalar/vector mismatches. Exits with status 1 if a
// function exceeds its bound or has a mismatch.

import Dispatch
import Foundation

/// One function under test: its vector and scalar kernels, a Double reference, and the
/// bound on the error in ULPs that the check enforces.
struct Subject {
    let name: String
    let bound: Double
    let vector: (FloatVector) -> FloatVector
    let scalar: (Float) -> Float
    let reference: (Double) -> Double
}

/// log(sigmoid(x)) and softplus in Double, written so that Double itself does not lose
/// accuracy: the min/max part is exact, log1p(exp(-|x|)) has no cancellation.
func referenceLogSigmoid(_ x: Double) -> Double { min(x, 0) - log1p(exp(-abs(x))) }
func referenceSoftplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
func referenceSigmoid(_ x: Double) -> Double {
    x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
}

let allSubjects: [Subject] = [
    Subject(name: "exp", bound: 1.5, vector: VectorMath.exp, scalar: VectorMath.exp,
            reference: { exp($0) }),
    Subject(name: "log", bound: 2, vector: VectorMath.log, scalar: VectorMath.log,
            reference: { log($0) }),
    Subject(name: "log1p", bound: 2, vector: VectorMath.log1p, scalar: VectorMath.log1p,
            reference: { log1p($0) }),
    // The composites' bounds were set before measuring, from their parts: exp's 1.5 ULP
    // (halved in effect by the division or log1p around it) plus one or two roundings.
    Subject(name: "sigmoid", bound: 3, vector: VectorMath.sigmoid, scalar: VectorMath.sigmoid,
            reference: referenceSigmoid),
    Subject(name: "logSigmoid", bound: 4, vector: VectorMath.logSigmoid,
            scalar: VectorMath.logSigmoid, reference: referenceLogSigmoid),
    Subject(name: "softplus", bound: 4, vector: VectorMath.softplus,
            scalar: VectorMath.softplus, reference: referenceSoftplus),
]

/// The distance from `y` to `reference` in units of the Float ULP at `reference`: the
/// ULP of the Float binade holding |reference|, or 2^-149 below 2^-126. Magnitudes of
/// 2^128 and more (an infinite Float result, or a Double reference beyond the Float
/// range) count as 2^128, one binade past the largest finite Float. NaN must meet NaN
/// (distance 0), anything else against NaN is infinitely far; so is a zero of the
/// wrong sign.
func ulpError(_ y: Float, _ reference: Double) -> Double {
    if reference.isNaN || y.isNaN { return reference.isNaN && y.isNaN ? 0 : .infinity }
    if y == 0 && reference == 0 && (y.sign == .minus) != (reference.sign == .minus) {
        return .infinity   // a zero of the wrong sign
    }
    if Double(y) == reference { return 0 }
    func finite(_ v: Double) -> Double { v.magnitude >= 0x1p128 ? (v > 0 ? 0x1p128 : -0x1p128) : v }
    let r = finite(reference)
    let binade = r == 0 ? -126 : max(Int(r.magnitude.exponent), -126)
    let ulp = Double(sign: .plus, exponent: binade - 23, significand: 1)
    return (finite(Double(y)) - r).magnitude / ulp
}

/// What one chunk of inputs found; chunks merge in index order, so the report does not
/// depend on the thread schedule.
struct Tally {
    var worst = 0.0
    var worstInput: UInt32 = 0
    var aboveOne = 0
    var aboveBound = 0
    var mismatches = 0
    var firstMismatch: UInt32? = nil

    mutating func merge(_ other: Tally) {
        if other.worst > worst { worst = other.worst; worstInput = other.worstInput }
        aboveOne += other.aboveOne
        aboveBound += other.aboveBound
        mismatches += other.mismatches
        if firstMismatch == nil { firstMismatch = other.firstMismatch }
    }
}

func check(_ subject: Subject, chunkBits: Int = 20) -> Tally {
    let chunkCount = 1 << (32 - chunkBits)
    let chunkSize = 1 << chunkBits
    var tallies = [Tally](repeating: Tally(), count: chunkCount)
    tallies.withUnsafeMutableBufferPointer { results in
        let base = results.baseAddress!
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            var tally = Tally()
            let start = UInt32(chunk * chunkSize)
            var offset = 0
            while offset < chunkSize {
                var patterns = UInt32Vector()
                for lane in 0..<16 { patterns[lane] = start &+ UInt32(offset + lane) }
                let x = unsafeBitCast(patterns, to: FloatVector.self)
                let y = subject.vector(x)
                for lane in 0..<16 {
                    let yScalar = subject.scalar(x[lane])
                    if yScalar.bitPattern != y[lane].bitPattern {
                        tally.mismatches += 1
                        if tally.firstMismatch == nil { tally.firstMismatch = patterns[lane] }
                    }
                    let error = ulpError(y[lane], subject.reference(Double(x[lane])))
                    if error > tally.worst { tally.worst = error; tally.worstInput = patterns[lane] }
                    if error > 1 { tally.aboveOne += 1 }
                    if error > subject.bound { tally.aboveBound += 1 }
                }
                offset += 16
            }
            base[chunk] = tally
        }
    }
    var total = Tally()
    for tally in tallies { total.merge(tally) }
    return total
}

func describe(_ pattern: UInt32) -> String {
    let x = Float(bitPattern: pattern)
    let hex = "0x" + String(pattern, radix: 16)
    return "\(x) (\(x.hexDescription), bits \(hex))"
}

extension Float {
    /// C99 hex-float spelling, e.g. -0x1.76f06cp+2.
    var hexDescription: String { String(format: "%a", Double(self)) }
}

// MARK: Throughput benchmark (`bench`): single thread, 2^24 elements, best of 9 runs, timed
// with the thread's CPU clock (the machine is shared: time spent descheduled does not count,
// and the fastest run is the one least disturbed by other processes).

/// `y[i] = f(x[i])` sixteen lanes at a time (n is a multiple of 16 here).
@inline(__always)
func mapVectors(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                _ f: (FloatVector) -> FloatVector) {
    var i = 0
    while i < n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: FloatVector.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: FloatVector.self)
        i += 16
    }
}

/// `y[i] = f(x[i])` one element at a time.
@inline(__always)
func mapScalars(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                _ f: (Float) -> Float) {
    for i in 0..<n { y[i] = f(x[i]) }
}

typealias Loop = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

/// CPU time consumed by the calling thread.
func threadCPUNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// The best time per element of `loop` over `x` in 9 runs, in nanoseconds.
func nanosecondsPerElement(_ x: [Float], _ loop: Loop) -> Double {
    var y = [Float](repeating: 0, count: x.count)
    var times: [Double] = []
    for _ in 0..<9 {
        let start = threadCPUNanoseconds()
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in loop(xb.baseAddress!, yb.baseAddress!, x.count) }
        }
        times.append(Double(threadCPUNanoseconds() - start) / Double(x.count))
    }
    precondition(!y[x.count / 2].isNaN || x[x.count / 2].isNaN)   // keep the stores alive
    return times.min()!
}

func benchmark() {
    let n = 1 << 24
    var rng = SystemRandomNumberGenerator()
    func uniform(_ range: ClosedRange<Float>) -> [Float] { (0..<n).map { _ in Float.random(in: range, using: &rng) } }
    let expInput = uniform(-50...50)
    let logInput = uniform(-7...7).map { Foundation.exp($0) }       // log-uniform in [e^-7, e^7]
    let log1pInput = uniform(-0.9...10)
    let logisticInput = uniform(-20...20)
    let rows: [(String, [Float], Loop, Loop, Loop)] = [
        ("exp", expInput,
         { mapVectors($0, $1, $2) { VectorMath.exp($0) } },
         { mapScalars($0, $1, $2) { VectorMath.exp($0) } },
         { mapScalars($0, $1, $2) { Foundation.exp($0) } }),
        ("log", logInput,
         { mapVectors($0, $1, $2) { VectorMath.log($0) } },
         { mapScalars($0, $1, $2) { VectorMath.log($0) } },
         { mapScalars($0, $1, $2) { Foundation.log($0) } }),
        ("log1p", log1pInput,
         { mapVectors($0, $1, $2) { VectorMath.log1p($0) } },
         { mapScalars($0, $1, $2) { VectorMath.log1p($0) } },
         { mapScalars($0, $1, $2) { Foundation.log1p($0) } }),
        ("sigmoid", logisticInput,
         { mapVectors($0, $1, $2) { VectorMath.sigmoid($0) } },
         { mapScalars($0, $1, $2) { VectorMath.sigmoid($0) } },
         { mapScalars($0, $1, $2) { 1 / (1 + Foundation.exp(-$0)) } }),
        ("logSigmoid", logisticInput,
         { mapVectors($0, $1, $2) { VectorMath.logSigmoid($0) } },
         { mapScalars($0, $1, $2) { VectorMath.logSigmoid($0) } },
         { mapScalars($0, $1, $2) { Swift.min($0, 0) - Foundation.log1p(Foundation.exp(-Swift.abs($0))) } }),
        ("copy", expInput,
         { mapVectors($0, $1, $2) { $0 } },
         { mapScalars($0, $1, $2) { $0 } },
         { mapScalars($0, $1, $2) { $0 } }),
    ]
    print("single thread, \(n) elements, best of 9 runs (thread CPU time); ns/element (GB/s counting 8 bytes/element)")
    print("function    vector kernel      scalar kernel      Foundation (Float)")
    func cell(_ ns: Double) -> String {
        let text = String(format: "%.3f (%.1f)", ns, 8 / ns)
        return text.padding(toLength: 19, withPad: " ", startingAt: 0)
    }
    for (name, input, vector, scalar, foundation) in rows {
        let label = name.padding(toLength: 12, withPad: " ", startingAt: 0)
        print(label + cell(nanosecondsPerElement(input, vector))
            + cell(nanosecondsPerElement(input, scalar)) + cell(nanosecondsPerElement(input, foundation)))
    }
}

if CommandLine.arguments.dropFirst().first == "bench" {
    benchmark()
    exit(0)
}

/// `log1pUnit`, the form of `log1p` for arguments in [0, 1] (bce_with_logits), must
/// return the bits of `log1p` on every Float in [0, 1] and on NaN: both vector kernels on
/// all 1,065,353,217 patterns from +0 to 1.0, then a quiet NaN.
func checkLog1pUnit() -> Bool {
    let started = Date()
    let last: UInt32 = 0x3f80_0000
    let chunk = 1 << 20
    let chunks = Int(last) / chunk + 1
    let lock = NSLock()
    var mismatches = 0, firstMismatch: UInt32?
    DispatchQueue.concurrentPerform(iterations: chunks) { k in
        var local = 0, localFirst: UInt32?
        var start = UInt32(k * chunk)
        let end = min(UInt64(start) + UInt64(chunk), UInt64(last) + 1)
        while UInt64(start) < end {
            var lanes = FloatVector()
            for j in 0..<FloatVector.scalarCount {
                lanes[j] = Float(bitPattern: UInt32(min(UInt64(start) + UInt64(j), end - 1)))
            }
            let unit = VectorMath.log1pUnit(lanes), full = VectorMath.log1p(lanes)
            for j in 0..<FloatVector.scalarCount where unit[j].bitPattern != full[j].bitPattern {
                local += 1
                if localFirst == nil { localFirst = lanes[j].bitPattern }
            }
            start &+= UInt32(FloatVector.scalarCount)
        }
        lock.lock()
        mismatches += local
        if let f = localFirst, firstMismatch == nil || f < firstMismatch! { firstMismatch = f }
        lock.unlock()
    }
    let nan = FloatVector(repeating: .nan)
    let nanOK = VectorMath.log1pUnit(nan)[0].isNaN
    let seconds = Date().timeIntervalSince(started)
    print("log1pUnit: \(mismatches) results differing from log1p in [0, 1]; NaN gives \(nanOK ? "NaN" : "a number")"
        + (firstMismatch.map { "; first at x = \(describe($0))" } ?? "") + " (\(String(format: "%.0f", seconds)) s)")
    return mismatches == 0 && nanOK
}

if CommandLine.arguments.dropFirst().first == "log1pUnit" {
    exit(checkLog1pUnit() ? 0 : 1)
}

let requested = CommandLine.arguments.dropFirst()
let subjects = requested.isEmpty
    ? allSubjects : allSubjects.filter { requested.contains($0.name) }
if subjects.isEmpty {
    print("usage: vector-math-exhaustive [\(allSubjects.map(\.name).joined(separator: "|")) ...]")
    exit(2)
}

var failed = false
for subject in subjects {
    let started = Date()
    let tally = check(subject)
    let seconds = Date().timeIntervalSince(started)
    let worst = String(format: "%.4f", tally.worst)
    print("\(subject.name): worst \(worst) ULP at x = \(describe(tally.worstInput)); "
        + "\(tally.aboveOne) results above 1 ULP; \(tally.aboveBound) above the bound "
        + "\(subject.bound); \(tally.mismatches) scalar/vector mismatches "
        + "(\(String(format: "%.0f", seconds)) s)")
    if let first = tally.firstMismatch {
        let x = Float(bitPattern: first)
        print("  first mismatch at x = \(describe(first)): scalar "
            + "\(subject.scalar(x).hexDescription), vector lane "
            + "\(subject.vector(FloatVector(repeating: x))[0].hexDescription)")
    }
    if tally.aboveBound > 0 || tally.mismatches > 0 { failed = true }
}
exit(failed ? 1 : 0)

import FastLosses
import Foundation
import Testing

// Tests of the fast engine's vector math (Sources/Fast/VectorMath):
//   1. the scalar form of each kernel returns bit for bit what the vector form returns
//      in the same lane (random bit patterns, special values, range boundaries, lanes
//      mixing the fast and the special path);
//   2. sampled accuracy against Foundation's Double functions, within the bounds that
//      scripts/check-vector-math verifies over all 2^32 inputs;
//   3. exact special values from the IEEE rules (signed zeros, infinities, NaN).
// Everything runs in a debug build in a few seconds.

/// A small seeded generator (SplitMix64) so a failure names a seed that reproduces it.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// One kernel under test, with its Double reference and its accuracy bound in ULPs.
private struct Kernel: CustomStringConvertible, Sendable {
    let name: String
    /// The bound the exhaustive check enforces (the task's contract for the kernel).
    let bound: Double
    let vector: @Sendable (FloatVector) -> FloatVector
    let scalar: @Sendable (Float) -> Float
    let reference: @Sendable (Double) -> Double
    /// Boundaries of this kernel's range reduction and special path.
    let boundaries: [Float]
    /// Ranges where the fast path runs, sampled uniformly in addition to random bits.
    let fastRanges: [ClosedRange<Float>]
    var description: String { name }
}

/// Values every kernel sees: zeros, subnormals, normals at the edges, infinities, NaNs
/// (quiet, signalling, negative, with payload).
private let specialValues: [Float] = [
    0, -0.0, 1, -1, 0.5, -0.5, 2, -2,   // (-0.0: the literal -0 would be +0)
    .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
    Float.leastNormalMagnitude.nextDown, -Float.leastNormalMagnitude.nextDown,
    .leastNormalMagnitude, -.leastNormalMagnitude,
    .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
    .infinity, -.infinity,
    .nan, -.nan, .signalingNaN, Float(bitPattern: 0x7fc1_2345), Float(bitPattern: 0xff80_0001),
    .ulpOfOne, -.ulpOfOne, 0x1p-24, -0x1p-24, 0x1p-30, -0x1p-30,
]

/// `v`, its two neighbours on each side.
private func around(_ v: Float) -> [Float] {
    [v.nextDown.nextDown, v.nextDown, v, v.nextUp, v.nextUp.nextUp]
}

private let kernels: [Kernel] = [
    Kernel(
        name: "exp", bound: 1.5,
        vector: { VectorMath.exp($0) }, scalar: { VectorMath.exp($0) },
        reference: { Foundation.exp($0) },
        boundaries: (
            // fast-path limit, last finite result (ln of the largest Float plus half an
            // ULP is 88.7228391), first subnormal result (ln 2^-126 = -87.3365448),
            // last nonzero result (ln 2^-150 = -103.972077), special-path clamps.
            [87, -87, Float(bitPattern: 0x42b1_7217), -87.3365448, -103.972077, 89, -104, 0x1.62e43p-1, -0x1.62e43p-1]
        ).flatMap(around),
        fastRanges: [-87...87, -1...1, -0x1p-20...0x1p-20]),
    Kernel(
        name: "log", bound: 2,
        vector: { VectorMath.log($0) }, scalar: { VectorMath.log($0) },
        reference: { Foundation.log($0) },
        boundaries: (
            // edges of the reduced range m in [2/3, 4/3) and their neighbours in other
            // binades; 1 (log 1 = 0); the normal/subnormal edge.
            [Float(bitPattern: 0x3f2a_aaab), Float(bitPattern: 0x3faa_aaab),
             Float(bitPattern: 0x402a_aaab), Float(bitPattern: 0x3eaa_aaab), 1,
             .leastNormalMagnitude, Float(bitPattern: 0x00aa_aaab)]
        ).flatMap(around),
        fastRanges: [0.5...2, 0x1p-100...0x1p100, 0.99...1.01]),
    Kernel(
        name: "log1p", bound: 2,
        vector: { VectorMath.log1p($0) }, scalar: { VectorMath.log1p($0) },
        reference: { Foundation.log1p($0) },
        boundaries: (
            // -1, the edges of k = 0 (1 + x = 2/3 or 4/3), the inexact-r region
            // [1/3, 1/2), where 2^-k - 1 stops being exact (2^24, 2^25), the fast-path
            // limit 2^126.
            [-1, -1 / 3, 1 / 3, 0.5, -0.5, 0x1p24, 0x1p25, 0x1p126, -0.999, 0.38249433]
        ).flatMap(around),
        fastRanges: [-1...1, -0x1p-10...0x1p-10, 0.3333...0.5, -0.9999...(-0.5), 1...0x1p30]),
    // The logistic functions: bounds set from their parts (see scripts/check-vector-math);
    // references are the same formulas in Double, which lose nothing there.
    Kernel(
        name: "sigmoid", bound: 3,
        vector: { VectorMath.sigmoid($0) }, scalar: { VectorMath.sigmoid($0) },
        reference: { $0 >= 0 ? 1 / (1 + Foundation.exp(-$0)) : Foundation.exp($0) / (1 + Foundation.exp($0)) },
        boundaries: logisticBoundaries, fastRanges: [-20...20, -1...1, -87...87]),
    Kernel(
        name: "logSigmoid", bound: 4,
        vector: { VectorMath.logSigmoid($0) }, scalar: { VectorMath.logSigmoid($0) },
        reference: { min($0, 0) - Foundation.log1p(Foundation.exp(-abs($0))) },
        boundaries: logisticBoundaries, fastRanges: [-20...20, -1...1, -87...87]),
    Kernel(
        name: "softplus", bound: 4,
        vector: { VectorMath.softplus($0) }, scalar: { VectorMath.softplus($0) },
        reference: { max($0, 0) + Foundation.log1p(Foundation.exp(-abs($0))) },
        boundaries: logisticBoundaries, fastRanges: [-20...20, -1...1, -87...87]),
]

/// Where the logistic functions change regime: 0, exp's fast-path limit and its
/// subnormal and zero thresholds, where 1 + e^-|x| stops changing (|x| ~ 16.6, 17.3).
private let logisticBoundaries: [Float] =
    [0, 87, -87, 87.3365448, -87.3365448, 103.972077, -103.972077, 16.6355324, 17.3286795, -17.3286795]
        .flatMap(around)

/// The distance from `y` to `reference` in units of the Float ULP at `reference`: the
/// ULP of the Float binade holding |reference|, or 2^-149 below 2^-126. Magnitudes of
/// 2^128 and more (an infinite Float result, or a Double reference beyond the Float
/// range) count as 2^128, one binade past the largest finite Float (swift-numerics'
/// convention). NaN must meet NaN; anything else against NaN is infinitely far; so is
/// a zero of the wrong sign.
private func ulpError(_ y: Float, _ reference: Double) -> Double {
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

private func hex(_ x: Float) -> String {
    String(format: "%a (bits 0x%08x)", Double(x), x.bitPattern)
}

/// The inputs for a kernel: its boundaries, the special values, `randomBits` random bit
/// patterns and `randomFast` uniform samples from the fast-path ranges, in an order that
/// mixes special and fast lanes in the same vector.
private func inputs(for kernel: Kernel, seed: UInt64, randomBits: Int, randomFast: Int) -> [Float] {
    var rng = SplitMix64(seed: seed)
    var values = kernel.boundaries + specialValues
    for _ in 0..<randomBits { values.append(Float(bitPattern: UInt32.random(in: .min ... .max, using: &rng))) }
    for i in 0..<randomFast {
        let range = kernel.fastRanges[i % kernel.fastRanges.count]
        values.append(Float.random(in: range, using: &rng))
    }
    values.shuffle(using: &rng)
    // Pad to whole vectors with 1, a fast-path input for every kernel.
    while values.count % 16 != 0 { values.append(1) }
    return values
}

/// The vector kernel applied to `values`, 16 at a time.
private func vectorResults(_ kernel: Kernel, _ values: [Float]) -> [Float] {
    var results = [Float](repeating: 0, count: values.count)
    for start in stride(from: 0, to: values.count, by: 16) {
        var x = FloatVector()
        for lane in 0..<16 { x[lane] = values[start + lane] }
        let y = kernel.vector(x)
        for lane in 0..<16 { results[start + lane] = y[lane] }
    }
    return results
}

@Suite("VectorMath")
struct VectorMathTests {
    @Test("scalar kernel equals the vector kernel bit for bit", arguments: kernels)
    fileprivate func scalarMatchesVector(kernel: Kernel) {
        let seed: UInt64 = 0x5eed_0001
        let values = inputs(for: kernel, seed: seed, randomBits: 20_000, randomFast: 20_000)
        let vector = vectorResults(kernel, values)
        var mismatches = 0
        for (i, x) in values.enumerated() {
            let scalar = kernel.scalar(x)
            if scalar.bitPattern != vector[i].bitPattern {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("""
                        \(kernel.name)(\(hex(x))): scalar \(hex(scalar)) != vector lane \
                        \(hex(vector[i])) (seed \(seed), index \(i))
                        """)
                }
            }
        }
        #expect(mismatches == 0, "\(kernel.name): \(mismatches) of \(values.count) inputs differ (seed \(seed))")
    }

    @Test("sampled accuracy against the Double function", arguments: kernels)
    fileprivate func sampledAccuracy(kernel: Kernel) {
        let seed: UInt64 = 0x5eed_0002
        let values = inputs(for: kernel, seed: seed, randomBits: 100_000, randomFast: 20_000)
        let results = vectorResults(kernel, values)
        var worst = 0.0
        var worstIndex = 0
        var aboveBound = 0
        for (i, x) in values.enumerated() {
            let error = ulpError(results[i], kernel.reference(Double(x)))
            if error > worst { worst = error; worstIndex = i }
            if error > kernel.bound { aboveBound += 1 }
        }
        let x = values[worstIndex]
        let reference = kernel.reference(Double(x))
        // The bound is the kernel's contract, verified exhaustively by
        // scripts/check-vector-math; a sample must not exceed it.
        #expect(aboveBound == 0 && worst <= kernel.bound, """
            \(kernel.name): \(aboveBound) of \(values.count) results above \(kernel.bound) ULP \
            (seed \(seed)); worst \(worst) ULP at x = \(hex(x)): got \(hex(results[worstIndex])), \
            expected \(reference) (relative error \(abs(Double(results[worstIndex]) - reference) / abs(reference)))
            """)
    }

    @Test("sigmoidAndLogSigmoid equals sigmoid and logSigmoid bit for bit")
    func fusedLogistic() {
        var rng = SplitMix64(seed: 0x5eed_0003)
        var values = logisticBoundaries + specialValues
        for _ in 0..<2_000 { values.append(Float.random(in: -30...30, using: &rng)) }
        for _ in 0..<2_000 { values.append(Float(bitPattern: UInt32.random(in: .min ... .max, using: &rng))) }
        while values.count % 16 != 0 { values.append(0) }
        for start in stride(from: 0, to: values.count, by: 16) {
            var x = FloatVector()
            for lane in 0..<16 { x[lane] = values[start + lane] }
            let (sigmoid, logSigmoid) = VectorMath.sigmoidAndLogSigmoid(x)
            let sigmoidAlone = VectorMath.sigmoid(x)
            let logSigmoidAlone = VectorMath.logSigmoid(x)
            for lane in 0..<16 {
                let scalar = VectorMath.sigmoidAndLogSigmoid(x[lane])
                let same = sigmoid[lane].bitPattern == sigmoidAlone[lane].bitPattern
                    && logSigmoid[lane].bitPattern == logSigmoidAlone[lane].bitPattern
                    && scalar.sigmoid.bitPattern == sigmoid[lane].bitPattern
                    && scalar.logSigmoid.bitPattern == logSigmoid[lane].bitPattern
                #expect(same, """
                    x = \(hex(x[lane])): fused (\(hex(sigmoid[lane])), \(hex(logSigmoid[lane]))), \
                    separate (\(hex(sigmoidAlone[lane])), \(hex(logSigmoidAlone[lane]))), \
                    scalar (\(hex(scalar.sigmoid)), \(hex(scalar.logSigmoid)))
                    """)
            }
        }
    }

    @Test("logistic functions: limits and exact values")
    func logisticSpecialValues() {
        // sigmoid(0) = 1/2 and logSigmoid(0) = -ln 2, softplus(0) = ln 2: t = e^0 = 1
        // exactly, 1/(1 + 1) is exact; log1p(1) = ln 2 to the kernel's accuracy.
        #expect(VectorMath.sigmoid(Float(0)) == 0.5, "sigmoid(0) = \(VectorMath.sigmoid(Float(0)))")
        let ln2 = 0.693147180559945309417232121458
        let ls0 = VectorMath.logSigmoid(Float(0))
        #expect(ulpError(ls0, -ln2) <= 2, "logSigmoid(0) = \(hex(ls0)), expected -ln 2 = \(-ln2)")
        let sp0 = VectorMath.softplus(Float(0))
        #expect(ulpError(sp0, ln2) <= 2, "softplus(0) = \(hex(sp0)), expected ln 2 = \(ln2)")
        // Limits at the infinities (the mathematical limits, no 0 * inf NaN).
        let cases: [(String, Float, Float)] = [
            ("sigmoid(+inf)", VectorMath.sigmoid(Float.infinity), 1),
            ("sigmoid(-inf)", VectorMath.sigmoid(-Float.infinity), 0),
            ("logSigmoid(+inf)", VectorMath.logSigmoid(Float.infinity), 0),
            ("logSigmoid(-inf)", VectorMath.logSigmoid(-Float.infinity), -.infinity),
            ("softplus(+inf)", VectorMath.softplus(Float.infinity), .infinity),
            ("softplus(-inf)", VectorMath.softplus(-Float.infinity), 0),
        ]
        for (name, actual, expected) in cases {
            #expect(actual == expected, "\(name) = \(actual), expected \(expected)")
        }
        for x: Float in [.nan, -.nan] {
            let (sigmoid, logSigmoid, softplus) =
                (VectorMath.sigmoid(x), VectorMath.logSigmoid(x), VectorMath.softplus(x))
            #expect(sigmoid.isNaN && logSigmoid.isNaN && softplus.isNaN,
                    "NaN must propagate: sigmoid \(sigmoid), logSigmoid \(logSigmoid), softplus \(softplus)")
        }
        // logSigmoid(30) = -log1p(e^-30) = -(e^-30 - e^-60/2 + ...) = -9.357622968839737e-14
        // (e^-30 = 9.357622968840175e-14, e^-60/2 = 4.4e-27; mpmath to 30 digits):
        // a naive log(sigmoid(30)) would give log(1) = 0.
        let ls30 = VectorMath.logSigmoid(Float(30))
        // Bound: the kernel's contract (4 ULP, checked exhaustively).
        #expect(ulpError(ls30, -9.357622968839737e-14) <= 4,
                "logSigmoid(30) = \(hex(ls30)), expected -9.357622968839737e-14")
    }

    @Test("exp: exact values and IEEE special cases")
    func expSpecialValues() {
        // e^0 = 1 exactly: r = 0, p = 0, scale = 1.
        for x: Float in [0, -0.0] {
            #expect(VectorMath.exp(x) == 1, "exp(\(x)) = \(VectorMath.exp(x)), expected 1")
        }
        #expect(VectorMath.exp(-Float.infinity) == 0 && VectorMath.exp(-Float.infinity).sign == .plus,
                "exp(-inf) = \(VectorMath.exp(-Float.infinity)), expected +0")
        #expect(VectorMath.exp(Float.infinity) == .infinity, "exp(+inf) = \(VectorMath.exp(Float.infinity))")
        #expect(VectorMath.exp(Float.nan).isNaN, "exp(NaN) = \(VectorMath.exp(Float.nan))")
        // The overflow threshold is ln(greatestFinite + ulp/2) = 88.72283908: the Float
        // below it, 88.7228317 (bits 0x42b17217), has e^x = 3.4027985e38, finite; the
        // Float above it, 88.7228394 (0x42b17218), has e^x = 3.4028245e38, which rounds
        // to +inf.
        let lastFinite = Float(bitPattern: 0x42b1_7217)
        #expect(VectorMath.exp(lastFinite).isFinite,
                "exp(\(hex(lastFinite))) = \(VectorMath.exp(lastFinite)), expected finite")
        #expect(VectorMath.exp(lastFinite.nextUp) == .infinity,
                "exp(\(hex(lastFinite.nextUp))) = \(VectorMath.exp(lastFinite.nextUp)), expected +inf")
        // Subnormal results: e^-87.5 = 1.0345e-38 < 2^-126; e^-100 = 3.72e-44 = 26.6 * 2^-149.
        for x: Float in [-87.5, -100, -103] {
            let y = VectorMath.exp(x)
            #expect(y.isSubnormal, "exp(\(x)) = \(y) should be subnormal")
            let error = ulpError(y, Foundation.exp(Double(x)))
            #expect(error <= 1.5, "exp(\(x)) = \(hex(y)), \(error) ULP from \(Foundation.exp(Double(x)))")
        }
        // Below ln 2^-150 = -103.972 the result rounds to +0.
        #expect(VectorMath.exp(Float(-104)) == 0, "exp(-104) = \(VectorMath.exp(Float(-104))), expected 0")
    }

    @Test("log: exact values and IEEE special cases")
    func logSpecialValues() {
        let one = VectorMath.log(Float(1))
        #expect(one == 0 && one.sign == .plus, "log(1) = \(one), expected +0")
        for x: Float in [0, -0.0] {
            #expect(VectorMath.log(x) == -.infinity, "log(\(x)) = \(VectorMath.log(x)), expected -inf")
        }
        for x: Float in [-1, -.leastNonzeroMagnitude, -.infinity, .nan] {
            #expect(VectorMath.log(x).isNaN, "log(\(x)) = \(VectorMath.log(x)), expected NaN")
        }
        #expect(VectorMath.log(Float.infinity) == .infinity, "log(+inf) = \(VectorMath.log(Float.infinity))")
        // log 2^-149 = -149 ln 2 = -103.278929903431851...; one subnormal input, k = -149.
        let y = VectorMath.log(Float.leastNonzeroMagnitude)
        let error = ulpError(y, -149 * 0.693147180559945309417232121458)
        #expect(error <= 2, "log(2^-149) = \(hex(y)), \(error) ULP from -103.27892990343185")
    }

    @Test("log1p: exact values and IEEE special cases")
    func log1pSpecialValues() {
        for x: Float in [0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0x1p-30, -0x1p-30] {
            // log1p(x) = x - x^2/2 + ...; for |x| <= 2^-30 the x^2/2 term is below a
            // quarter ULP of x, so the correctly rounded result is x itself (sign of
            // zero included).
            let y = VectorMath.log1p(x)
            #expect(y.bitPattern == x.bitPattern, "log1p(\(hex(x))) = \(hex(y)), expected x itself")
        }
        #expect(VectorMath.log1p(Float(-1)) == -.infinity, "log1p(-1) = \(VectorMath.log1p(Float(-1)))")
        for x: Float in [Float(-1).nextDown, -2, -.infinity, .nan] {
            #expect(VectorMath.log1p(x).isNaN, "log1p(\(x)) = \(VectorMath.log1p(x)), expected NaN")
        }
        #expect(VectorMath.log1p(Float.infinity) == .infinity, "log1p(+inf) = \(VectorMath.log1p(Float.infinity))")
        // log1p(greatestFinite) = log(greatestFinite) + 3e-39 ~ 88.7228391 (special path).
        let big = VectorMath.log1p(Float.greatestFiniteMagnitude)
        let error = ulpError(big, Foundation.log1p(Double(Float.greatestFiniteMagnitude)))
        #expect(error <= 2, "log1p(greatestFinite) = \(hex(big)), \(error) ULP")
    }
}

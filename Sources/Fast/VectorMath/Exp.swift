// e^x for FloatVector lanes and for a single Float.
//
// Measured accuracy (scripts/check-vector-math, all 2^32 inputs, against Foundation's
// Double exp, error in units of the Float ULP at the Double result):
//   worst error 0.9896 ULP, at x = -5.858424 (-0x1.76f06cp+2, bits 0xc0bb7836);
//   no result is more than 1 ULP away (subnormal results and overflow included);
//   the scalar and vector forms agree bit for bit on every input.
//
// Algorithm
//   1. Range reduction.  x = n ln2 + r with n = round(x / ln2), |r| <= ln2/2 (+ a few ULP).
//      n is rounded with the magic bias: z = x * (1/ln2) + 1.5*2^23 leaves n in the low
//      mantissa bits of z, and n = z - 1.5*2^23 exactly. r = (x - n ln2Hi) - n ln2Lo:
//      n ln2Hi is exact (ln2Hi has 15 significant bits, |n| <= 150) and, x being close
//      to n ln2Hi, so is the subtraction; only the tiny n ln2Lo term rounds.
//   2. Polynomial.  e^r = 1 + r + r^2 q(r), q of degree 4 with minimax coefficients
//      (relative error of 1 + r + r^2 q on [-0.3466, 0.3466] at most 3.1e-9, 0.05 of
//      2^-24). Evaluated without FMA as p = r + r^2 ((C2 + C3 r) + r^2 ((C4 + C5 r) + r^2 C6)).
//   3. Reconstruction.  e^x = 2^n (1 + p). The scale 2^n is built in the exponent bits:
//      bits(z) << 23 puts the low 9 bits of n in the exponent field, + bits(1.0) adds the
//      bias. y = scale + scale * p.
//   Fast path: |x| <= 87, where 2^n is a normal Float (|n| <= 126) and e^x is normal.
//   Otherwise (one rare branch, taken when any lane is outside): x is clamped to
//   [-104, 89] (beyond that e^x rounds to 0 or overflows anyway), 2^n is applied in two
//   normal factors 2^(n - n/2) * 2^(n/2), so overflow to +inf and gradual underflow into
//   subnormals happen in the final IEEE multiplication; NaN returns NaN.
//
// Coefficients: derived once by a weighted least-squares (Lawson) iteration for the
// minimax relative error of 1 + r + r^2 q(r) on [-ln2/2 - 2e-6, ln2/2 + 2e-6] (numpy and
// mpmath at 40 digits), each rounded to Float; the rounded set was then checked over every
// Float in [-87, 87] in a float32 emulation of exactly these operations (worst 0.99 ULP).
// Taylor coefficients of the same degree would be 1/2, 1/6, 1/24, 1/120, 1/720.

extension VectorMath {
    /// Constants of the exp kernel.
    @usableFromInline
    internal enum ExpConstants {
        /// `1/ln 2` rounded to Float (0x1.715476p+0 = 1.44269502).
        @inlinable @inline(__always) static var invLn2: Float { 0x1.715476p+0 }
        /// Minimax coefficients of q(r) in e^r = 1 + r + r^2 q(r) (Taylor: 1/2, 1/6, ...).
        @inlinable @inline(__always) static var c2: Float { 0x1.fffffcp-2 }    // 0.49999997
        @inlinable @inline(__always) static var c3: Float { 0x1.555492p-3 }    // 0.16666555
        @inlinable @inline(__always) static var c4: Float { 0x1.5558f2p-5 }    // 0.041670058
        @inlinable @inline(__always) static var c5: Float { 0x1.1239d4p-7 }    // 0.0083686765
        @inlinable @inline(__always) static var c6: Float { 0x1.6a244cp-10 }   // 0.0013819052
        /// The fast path takes `|x| <= 87`: then |n| <= 126, 2^n is normal, and so is e^x
        /// (e^-87 = 1.6e-38 > 2^-126 = 1.2e-38; e^87 = 6.1e37 < greatestFiniteMagnitude).
        @inlinable @inline(__always) static var fastLimit: Float { 87 }
        /// Special path clamps: e^89 = 4.5e38 overflows; e^-104 = 6.8e-46 < 2^-150, the
        /// half-way point below the least subnormal, so it rounds to 0.
        @inlinable @inline(__always) static var clampHigh: Float { 89 }
        @inlinable @inline(__always) static var clampLow: Float { -104 }
        /// The bit pattern of 1.0: the exponent bias in place.
        @inlinable @inline(__always) static var oneBits: UInt32 { 0x3f80_0000 }
    }

    // MARK: Shared steps (vector)

    /// Step 1: n (as an exact Float), z (n in its low mantissa bits), and r = x - n ln2.
    @inlinable @inline(__always)
    internal static func expReduce(_ x: FloatVector)
        -> (z: FloatVector, n: FloatVector, r: FloatVector)
    {
        let z = x * ExpConstants.invLn2 + roundingShift
        let n = z - roundingShift
        let r = (x - n * ln2Hi) - n * ln2Lo
        return (z, n, r)
    }

    /// Step 2: p(r) = r + r^2 q(r), so that e^r ~ 1 + p(r).
    @inlinable @inline(__always)
    internal static func expPolynomial(_ r: FloatVector) -> FloatVector {
        typealias C = ExpConstants
        let r2 = r * r
        let q = (C.c2 + C.c3 * r) + r2 * ((C.c4 + C.c5 * r) + r2 * C.c6)
        return r + r2 * q
    }

    /// The fast path, valid for |x| <= 87 (other lanes: garbage, replaced by the caller).
    @inlinable @inline(__always)
    internal static func expFast(_ x: FloatVector) -> FloatVector {
        let (z, _, r) = expReduce(x)
        let p = expPolynomial(r)
        // Step 3: scale = 2^n from bits: n sits in the low bits of z; shifting by 23 moves
        // it to the exponent field (the high bits of z fall off), + bits(1.0) adds the bias.
        let scale = float(bits: (bits(z) &<< 23) &+ ExpConstants.oneBits)
        return scale + scale * p
    }

    /// The special path: overflow, subnormal and zero results, infinities, NaN. Correct
    /// for every lane; the caller uses it only for the lanes outside the fast path.
    @usableFromInline @inline(never)
    internal static func expSpecial(_ x: FloatVector) -> FloatVector {
        typealias C = ExpConstants
        var xc = x
        xc.replace(with: C.clampHigh, where: x .> C.clampHigh)
        xc.replace(with: C.clampLow, where: x .< C.clampLow)
        let (z, _, r) = expReduce(xc)
        let p = expPolynomial(r)
        // n as an integer (-150...128 for the clamped x), split as n = n1 + n2 with
        // n1 = floor(n/2): both halves in [-75, 64], so 2^n1 and 2^n2 are normal Floats
        // built from bits.
        let n = signed(bits(z) &- roundingShiftBits)
        let n1 = n &>> 1
        let n2 = n &- n1
        let scale1 = float(bits: (unsigned(n1) &<< 23) &+ C.oneBits)
        let scale2 = float(bits: (unsigned(n2) &<< 23) &+ C.oneBits)
        // The last multiplication rounds once more, into the subnormal range or to +inf.
        let y = (scale1 + scale1 * p) * scale2
        return select(x .!= x, x + x, else: y)
    }

    // MARK: Shared steps (scalar, same operations in the same order)

    @inlinable @inline(__always)
    internal static func expReduce(_ x: Float) -> (z: Float, n: Float, r: Float) {
        let z = x * ExpConstants.invLn2 + roundingShift
        let n = z - roundingShift
        let r = (x - n * ln2Hi) - n * ln2Lo
        return (z, n, r)
    }

    @inlinable @inline(__always)
    internal static func expPolynomial(_ r: Float) -> Float {
        typealias C = ExpConstants
        let r2 = r * r
        let q = (C.c2 + C.c3 * r) + r2 * ((C.c4 + C.c5 * r) + r2 * C.c6)
        return r + r2 * q
    }

    @inlinable @inline(__always)
    internal static func expFast(_ x: Float) -> Float {
        let (z, _, r) = expReduce(x)
        let p = expPolynomial(r)
        let scale = Float(bitPattern: (z.bitPattern &<< 23) &+ ExpConstants.oneBits)
        return scale + scale * p
    }

    @usableFromInline @inline(never)
    internal static func expSpecial(_ x: Float) -> Float {
        typealias C = ExpConstants
        var xc = x
        if x > C.clampHigh { xc = C.clampHigh }
        if x < C.clampLow { xc = C.clampLow }
        let (z, _, r) = expReduce(xc)
        let p = expPolynomial(r)
        let n = Int32(bitPattern: z.bitPattern &- roundingShiftBits)
        let n1 = n &>> 1
        let n2 = n &- n1
        let scale1 = Float(bitPattern: (UInt32(bitPattern: n1) &<< 23) &+ C.oneBits)
        let scale2 = Float(bitPattern: (UInt32(bitPattern: n2) &<< 23) &+ C.oneBits)
        let y = (scale1 + scale1 * p) * scale2
        return x != x ? x + x : y
    }

    // MARK: Public API

    /// `e^x` in each lane.
    ///
    /// Range reduction `x = n ln2 + r` (`|r| <= ln2/2`), a degree-6 minimax polynomial
    /// `e^r ~ 1 + r + r^2 q(r)`, and reconstruction `2^n (1 + p)` with `2^n` built in the
    /// exponent bits. Lanes with `|x| > 87` or NaN take one rare branch.
    ///
    /// - Accuracy: at most 0.99 ULP (worst at x = -5.858424) over all 2^32 Float inputs
    ///   (exhaustive check against Foundation's Double `exp`), subnormal results included.
    /// - Special cases: `exp(-inf) = 0`, `exp(+inf) = +inf`, `exp(NaN) = NaN`,
    ///   `exp(±0) = 1`; `x > 88.7228394` (ln of the largest Float plus half an ULP)
    ///   overflows to `+inf`; results below `2^-126` (`x < -87.3365`) are subnormal, with
    ///   gradual underflow; `x < -103.972` (ln 2^-150) gives `0`.
    /// - Complexity: branch-free vector code for `|x| <= 87` in all lanes; no library calls.
    @inlinable @inline(__always)
    public static func exp(_ x: FloatVector) -> FloatVector {
        var y = expFast(x)
        // |x| built by clearing the sign bit; NaN fails `<=` and goes to the special path.
        let magnitude = float(bits: bits(x) & 0x7fff_ffff)
        let special = .!(magnitude .<= ExpConstants.fastLimit)
        if anyLane(special) {
            y.replace(with: expSpecial(x), where: special)
        }
        return y
    }

    /// `e^x` for one Float: the same algorithm and operations as `exp(_: FloatVector)`,
    /// so it returns bit for bit what the vector form returns in a lane. Used for tails.
    ///
    /// - Accuracy and special cases: as for `exp(_: FloatVector)`.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let magnitude = Float(bitPattern: x.bitPattern & 0x7fff_ffff)
        if !(magnitude <= ExpConstants.fastLimit) {
            return expSpecial(x)
        }
        return expFast(x)
    }
}

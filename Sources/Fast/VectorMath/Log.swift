// The natural logarithm for FloatVector lanes and for a single Float, and the reduced
// logarithm log(1 + r), |r| <= 1/3, that log and log1p (Log1p.swift) share.
//
// Measured accuracy (scripts/check-vector-math, all 2^32 inputs, against Foundation's
// Double log, error in units of the Float ULP at the Double result):
//   worst error 1.3491 ULP, at x = 1.3337805 (0x1.5572a4p+0, bits 0x3faab952), just above
//   4/3 where k = 1 and log(1 + r) = -0.405 nearly cancels ln 2; 8492 inputs are more
//   than 1 ULP away; the scalar and vector forms agree bit for bit on every input.
//
// Algorithm
//   1. Range reduction.  x = 2^k m with m in [2/3, 4/3): subtracting bits(2/3) =
//      0x3f2aaaab from bits(x) makes the exponent field (arithmetic shift by 23) equal to
//      k, and the remaining 23 mantissa bits plus 0x3f2aaaab rebuild m. Then r = m - 1 is
//      exact (Sterbenz) and |r| <= 1/3, symmetric, which keeps the polynomial short.
//   2. Polynomial.  log(1 + r) = r + r^2 q(r), q of degree 7 with minimax coefficients
//      (relative error of r + r^2 q on [-1/3, 1/3] at most 2.6e-8, 0.44 of 2^-24),
//      evaluated without FMA in Estrin form:
//      q = ((C0 + C1 r) + r^2 (C2 + C3 r)) + r^4 ((C4 + C5 r) + r^2 (C6 + C7 r)).
//   3. Reconstruction.  log x = k ln2 + log(1 + r), summed from the small end:
//      y = (r + (r^2 q - nk ln2Lo)) - nk ln2Hi with nk = -k as an exact Float.
//      nk ln2Hi is exact (15-bit ln2Hi, |k| <= 149); adding it last means the only
//      roundings that count are the one of log(1 + r) (|log(1+r)| <= 0.41 <= |y| when
//      k != 0) and the final one. Written with nk = -k and subtractions so that the
//      k = 0 case adds nothing but signed zeros that keep the sign of r (log1p(-0) = -0).
//   Fast path: positive normal finite x. Otherwise (one rare branch): subnormal x is
//   scaled by 2^23 first (k - 23), and 0, negative x, +inf and NaN get their IEEE values.
//
// Coefficients: derived once by a weighted least-squares (Lawson) iteration for the
// minimax relative error of r + r^2 q(r) on [0x1.555556p-1 - 1, 0x1.555556p+0 - 1]
// (numpy and mpmath at 40 digits), each rounded to Float; checked in a float32
// emulation of these operations on 1/61 of all inputs before the exhaustive Swift check.
// Taylor coefficients would be -1/2, 1/3, -1/4, 1/5, -1/6, 1/7, -1/8, 1/9.

extension VectorMath {
    /// Constants of the log and log1p kernels.
    @usableFromInline
    internal enum LogConstants {
        /// bits(2/3 rounded up) = bits(0.666666687): the lower end of the reduced range
        /// of m; subtracting it from bits(x) puts k in the exponent field.
        @inlinable @inline(__always) static var offsetBits: UInt32 { 0x3f2a_aaab }
        /// The 23 mantissa bits.
        @inlinable @inline(__always) static var mantissaMask: UInt32 { 0x007f_ffff }
        /// Minimax coefficients of q(r) in log(1 + r) = r + r^2 q(r).
        @inlinable @inline(__always) static var c0: Float { -0x1.ffffd6p-2 }  // -0.49999937
        @inlinable @inline(__always) static var c1: Float { 0x1.5554fap-2 }   // 0.33333194
        @inlinable @inline(__always) static var c2: Float { -0x1.00148p-2 }   // -0.25007820
        @inlinable @inline(__always) static var c3: Float { 0x1.99d428p-3 }   // 0.20010854
        @inlinable @inline(__always) static var c4: Float { -0x1.5032e6p-3 }  // -0.16416053
        @inlinable @inline(__always) static var c5: Float { 0x1.1ea254p-3 }   // 0.13995124
        @inlinable @inline(__always) static var c6: Float { -0x1.3b2858p-3 }  // -0.15388972
        @inlinable @inline(__always) static var c7: Float { 0x1.1f428ep-3 }   // 0.14026368
        /// The least positive normal Float, 2^-126.
        @inlinable @inline(__always) static var leastNormal: Float { 0x1p-126 }
        /// 2^23, the scale that makes a subnormal input normal.
        @inlinable @inline(__always) static var subnormalScale: Float { 0x1p23 }
    }

    // MARK: Shared steps (vector)

    /// Step 1 for positive normal finite x: r = m - 1 and nk = -k, with x = 2^k m,
    /// m in [2/3, 4/3).
    @inlinable @inline(__always)
    internal static func logReduce(_ x: FloatVector) -> (r: FloatVector, nk: FloatVector) {
        typealias C = LogConstants
        let u = bits(x) &- C.offsetBits
        let k = signed(u) &>> 23
        let m = float(bits: (u & C.mantissaMask) &+ C.offsetBits)
        return (m - 1, negatedFloat(k))
    }

    /// Step 2: r^2 q(r), so that log(1 + r) ~ r + r^2 q(r). `r2` is `r * r`.
    @inlinable @inline(__always)
    internal static func logPolynomialTail(_ r: FloatVector, _ r2: FloatVector) -> FloatVector {
        typealias C = LogConstants
        let r4 = r2 * r2
        let low = (C.c0 + C.c1 * r) + r2 * (C.c2 + C.c3 * r)
        let high = (C.c4 + C.c5 * r) + r2 * (C.c6 + C.c7 * r)
        return r2 * (low + r4 * high)
    }

    /// Steps 2 and 3 for log: y = (r + (r^2 q - nk ln2Lo)) - nk ln2Hi.
    @inlinable @inline(__always)
    internal static func logReconstruct(_ r: FloatVector, _ nk: FloatVector) -> FloatVector {
        let tail = logPolynomialTail(r, r * r)
        return (r + (tail - nk * ln2Lo)) - nk * ln2Hi
    }

    /// The special path: zero, negative, subnormal, infinite and NaN inputs.
    @usableFromInline @inline(never)
    internal static func logSpecial(_ x: FloatVector) -> FloatVector {
        typealias C = LogConstants
        let subnormal = (x .> 0) .& (x .< C.leastNormal)
        let xs = select(subnormal, x * C.subnormalScale, else: x)
        let (r, nkScaled) = logReduce(xs)
        let nk = select(subnormal, nkScaled + 23, else: nkScaled)
        var y = logReconstruct(r, nk)
        y.replace(with: -.infinity, where: x .== 0)
        y.replace(with: .nan, where: x .< 0)
        y.replace(with: .infinity, where: x .== .infinity)
        y.replace(with: x + x, where: x .!= x)
        return y
    }

    // MARK: Shared steps (scalar, same operations in the same order)

    @inlinable @inline(__always)
    internal static func logReduce(_ x: Float) -> (r: Float, nk: Float) {
        typealias C = LogConstants
        let u = x.bitPattern &- C.offsetBits
        let k = Int32(bitPattern: u) &>> 23
        let m = Float(bitPattern: (u & C.mantissaMask) &+ C.offsetBits)
        return (m - 1, negatedFloat(k))
    }

    @inlinable @inline(__always)
    internal static func logPolynomialTail(_ r: Float, _ r2: Float) -> Float {
        typealias C = LogConstants
        let r4 = r2 * r2
        let low = (C.c0 + C.c1 * r) + r2 * (C.c2 + C.c3 * r)
        let high = (C.c4 + C.c5 * r) + r2 * (C.c6 + C.c7 * r)
        return r2 * (low + r4 * high)
    }

    @inlinable @inline(__always)
    internal static func logReconstruct(_ r: Float, _ nk: Float) -> Float {
        let tail = logPolynomialTail(r, r * r)
        return (r + (tail - nk * ln2Lo)) - nk * ln2Hi
    }

    @usableFromInline @inline(never)
    internal static func logSpecial(_ x: Float) -> Float {
        typealias C = LogConstants
        let subnormal = x > 0 && x < C.leastNormal
        let xs = subnormal ? x * C.subnormalScale : x
        let (r, nkScaled) = logReduce(xs)
        let nk = subnormal ? nkScaled + 23 : nkScaled
        var y = logReconstruct(r, nk)
        if x == 0 { y = -.infinity }
        if x < 0 { y = .nan }
        if x == .infinity { y = .infinity }
        if x != x { y = x + x }
        return y
    }

    // MARK: Public API

    /// The natural logarithm `ln x` in each lane.
    ///
    /// Range reduction `x = 2^k m`, `m` in `[2/3, 4/3)`, read from the bits; a degree-9
    /// minimax polynomial `log(1 + r) ~ r + r^2 q(r)` for `r = m - 1`; reconstruction
    /// `k ln2 + log(1 + r)` with `ln 2` in two parts. Lanes that are not positive normal
    /// finite numbers take one rare branch.
    ///
    /// - Accuracy: at most 1.35 ULP (worst at x = 1.3337805) over all 2^32 Float inputs
    ///   (exhaustive check against Foundation's Double `log`), subnormal inputs included.
    /// - Special cases: `log(±0) = -inf`, `log(x < 0) = NaN` (also `-inf`),
    ///   `log(+inf) = +inf`, `log(NaN) = NaN`, `log(1) = +0`.
    @inlinable @inline(__always)
    public static func log(_ x: FloatVector) -> FloatVector {
        let (r, nk) = logReduce(x)
        var y = logReconstruct(r, nk)
        // NaN fails both comparisons and goes to the special path.
        let special = .!((x .>= LogConstants.leastNormal) .& (x .<= .greatestFiniteMagnitude))
        if anyLane(special) {
            y.replace(with: logSpecial(x), where: special)
        }
        return y
    }

    /// `ln x` for one Float: the same algorithm and operations as `log(_: FloatVector)`,
    /// so it returns bit for bit what the vector form returns in a lane. Used for tails.
    ///
    /// - Accuracy and special cases: as for `log(_: FloatVector)`.
    @inlinable @inline(__always)
    public static func log(_ x: Float) -> Float {
        if !(x >= LogConstants.leastNormal && x <= .greatestFiniteMagnitude) {
            return logSpecial(x)
        }
        let (r, nk) = logReduce(x)
        return logReconstruct(r, nk)
    }
}

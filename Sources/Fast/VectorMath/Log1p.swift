// log(1 + x) for FloatVector lanes and for a single Float, accurate near x = 0 (no
// cancellation in 1 + x). Shares the reduced logarithm with Log.swift.
//
// Measured accuracy (scripts/check-vector-math, all 2^32 inputs, against Foundation's
// Double log1p, error in units of the Float ULP at the Double result):
//   worst error 1.3491 ULP, at x = 0.33378053 (0x1.55ca9p-2, bits 0x3eaae548), the same
//   reduced argument as log's worst case (1 + x just above 4/3); 27743 inputs are more
//   than 1 ULP away; the scalar and vector forms agree bit for bit on every input.
//
// Algorithm
//   1. Range reduction.  1 + x = 2^k (1 + r) with 1 + r in [2/3, 4/3). k is read from the
//      bits of the rounded sum m = 1 + x exactly as in log, but r is rebuilt from x itself
//      so the rounding of 1 + x is not inherited:
//          r = x 2^-k - c,  c = 1 - 2^-k,
//      where x 2^-k is formed by subtracting k from x's exponent field (exact) and c is
//      exact for k <= 24 (for k >= 25 it rounds to 1, an error below 2^-25 in a result
//      >= 17). The difference is exact except when x in [1/3, 1/2) (k = 1), where x 2^-k
//      has finer ULPs than r; there |c| = 1/2 >= |x 2^-k|, so the Fast2Sum remainder
//      e = (r + c) - x 2^-k is exactly minus the rounding error, and
//      log(1 + r_exact) = log(1 + r) - e/(1 + r) with 1/(1 + r) ~ (1 - r) + r^2 (good to
//      4%, on a term below 0.75 ULP). Elsewhere e = 0. (Subtracting c, which is +0 for
//      k = 0, keeps the sign of x = -0; adding -c = +0 would not.)
//      For k = 0 (x in about [-1/3, 1/3)) r = x exactly: tiny and subnormal x come out
//      unchanged, since r^2 q is below half an ULP of r (or underflows to 0).
//   2. Polynomial.  log(1 + r) = r + r^2 q(r), the minimax polynomial of Log.swift.
//   3. Reconstruction.  y = (r + ((r^2 q - e (1 - r + r^2)) - nk ln2Lo)) - nk ln2Hi,
//      nk = -k as an exact Float (+0 for k = 0, which keeps log1p(-0) = -0).
//   Fast path: -1 < x < 2^126 (so 2^-k is a normal Float). Otherwise (one rare branch):
//   x >= 2^126 uses log x (1 + x rounds to x and log1p(x) - log(x) < 2^-126), x = -1
//   gives -inf, x < -1 NaN, +inf gives +inf, NaN gives NaN.
//
// log1pUnit(t), for t in [0, 1] only (bce_with_logits' t = exp(-|x|)): the fast path with
// k in {0, 1} chosen by one comparison and 2^-k, c and -k as selected constants, no
// special-path test. Bit for bit log1p on all 1,065,353,217 Floats in [0, 1] and on NaN
// (`scripts/check-vector-math log1pUnit` compares the vector forms on every one: 6 s on
// 2 cores), so the accuracy figures above hold for it unchanged.

extension VectorMath {
    /// Constants of the log1p kernel (the polynomial is `LogConstants`).
    @usableFromInline
    internal enum Log1pConstants {
        /// Fast path upper limit: below it, k <= 126 and 2^-k is normal.
        @inlinable @inline(__always) static var fastLimit: Float { 0x1p126 }
        /// The bit pattern of 1.0.
        @inlinable @inline(__always) static var oneBits: UInt32 { 0x3f80_0000 }
    }

    // MARK: Vector

    /// The fast path, valid for -1 < x < 2^126.
    @inlinable @inline(__always)
    internal static func log1pFast(_ x: FloatVector) -> FloatVector {
        typealias C = LogConstants
        // Step 1: k from the rounded 1 + x, then r rebuilt from x.
        let m = x + 1
        let k = signed(bits(m) &- C.offsetBits) &>> 23
        let kShifted = unsigned(k) &<< 23
        let xScaled = float(bits: bits(x) &- kShifted)                    // x 2^-k
        let c = 1 - float(bits: Log1pConstants.oneBits &- kShifted)       // 1 - 2^-k
        let r = xScaled - c
        let e = (r + c) - xScaled                                         // -(rounding error of r)
        let r2 = r * r
        let inverse = (1 - r) + r2                                        // ~ 1/(1 + r)
        // Steps 2 and 3.
        let tail = logPolynomialTail(r, r2)
        let nk = negatedFloat(k)
        return (r + ((tail - e * inverse) - nk * ln2Lo)) - nk * ln2Hi
    }

    /// `log1p(t)` for `t` in [0, 1], bit for bit `log1p(t)` there, for a caller whose
    /// argument is known to lie in that range (`t = exp(-|x|)` in bce_with_logits).
    ///
    /// There `1 + t` is in [1, 2], so the exponent k of `log1pFast` is 0 or 1 (1 exactly
    /// where the rounded `1 + t >= bits(offsetBits + 2^23)`, the same test `log1pFast`
    /// makes in the bits) and 2^-k, `c = 1 - 2^-k` and `-k` are selected constants
    /// instead of values rebuilt from exponent bits; everything else is `log1pFast`'s
    /// operations in the same order, and no lane can need the special path. A NaN lane
    /// gives NaN (it fails the comparison and flows through the arithmetic). Not for
    /// arguments outside [0, 1].
    @inlinable @inline(__always)
    internal static func log1pUnit(_ t: FloatVector) -> FloatVector {
        typealias C = LogConstants
        let m = t + 1
        let kIsOne = m .>= Float(bitPattern: C.offsetBits &+ 0x80_0000)    // m >= 4/3
        let c = select(kIsOne, FloatVector(repeating: 0.5), else: FloatVector())   // 1 - 2^-k
        let xScaled = t * (1 - c)                                          // t 2^-k, exact
        let r = xScaled - c
        let e = (r + c) - xScaled                                         // -(rounding error of r)
        let r2 = r * r
        let inverse = (1 - r) + r2
        let tail = logPolynomialTail(r, r2)
        let nk = select(kIsOne, FloatVector(repeating: -1), else: FloatVector())   // -k
        return (r + ((tail - e * inverse) - nk * ln2Lo)) - nk * ln2Hi
    }

    /// The special path: x <= -1, x >= 2^126, +inf, NaN.
    @usableFromInline @inline(never)
    internal static func log1pSpecial(_ x: FloatVector) -> FloatVector {
        // For finite x >= 2^126 the log kernel's fast path applies (garbage elsewhere,
        // replaced below).
        let (r, nk) = logReduce(x)
        var y = logReconstruct(r, nk)
        y.replace(with: .infinity, where: x .== .infinity)
        y.replace(with: -.infinity, where: x .== -1)
        y.replace(with: .nan, where: x .< -1)
        y.replace(with: x + x, where: x .!= x)
        return y
    }

    // MARK: Scalar (same operations in the same order)

    @inlinable @inline(__always)
    internal static func log1pFast(_ x: Float) -> Float {
        typealias C = LogConstants
        let m = x + 1
        let k = Int32(bitPattern: m.bitPattern &- C.offsetBits) &>> 23
        let kShifted = UInt32(bitPattern: k) &<< 23
        let xScaled = Float(bitPattern: x.bitPattern &- kShifted)
        let c = 1 - Float(bitPattern: Log1pConstants.oneBits &- kShifted)
        let r = xScaled - c
        let e = (r + c) - xScaled
        let r2 = r * r
        let inverse = (1 - r) + r2
        let tail = logPolynomialTail(r, r2)
        let nk = negatedFloat(k)
        return (r + ((tail - e * inverse) - nk * ln2Lo)) - nk * ln2Hi
    }

    @usableFromInline @inline(never)
    internal static func log1pSpecial(_ x: Float) -> Float {
        let (r, nk) = logReduce(x)
        var y = logReconstruct(r, nk)
        if x == .infinity { y = .infinity }
        if x == -1 { y = -.infinity }
        if x < -1 { y = .nan }
        if x != x { y = x + x }
        return y
    }

    // MARK: Public API

    /// `log(1 + x)` in each lane, accurate for `x` near 0 where `log(1 + x)` would lose
    /// the low bits of `x` in the sum.
    ///
    /// Range reduction `1 + x = 2^k (1 + r)` with `r` rebuilt exactly from `x` (not from
    /// the rounded sum), the degree-9 minimax polynomial of `log`, reconstruction
    /// `k ln2 + log(1 + r)`. Lanes outside `-1 < x < 2^126` take one rare branch.
    ///
    /// - Accuracy: at most 1.35 ULP (worst at x = 0.33378053) over all 2^32 Float inputs
    ///   (exhaustive check against Foundation's Double `log1p`). Tiny and subnormal `x`
    ///   return `x`.
    /// - Special cases: `log1p(-1) = -inf`, `log1p(x < -1) = NaN` (also `-inf`),
    ///   `log1p(+inf) = +inf`, `log1p(NaN) = NaN`, `log1p(±0) = ±0`.
    @inlinable @inline(__always)
    public static func log1p(_ x: FloatVector) -> FloatVector {
        var y = log1pFast(x)
        // NaN fails both comparisons and goes to the special path.
        let special = .!((x .> -1) .& (x .< Log1pConstants.fastLimit))
        if anyLane(special) {
            y.replace(with: log1pSpecial(x), where: special)
        }
        return y
    }

    /// `log(1 + x)` for one Float: the same algorithm and operations as
    /// `log1p(_: FloatVector)`, so it returns bit for bit what the vector form returns in
    /// a lane. Used for tails.
    ///
    /// - Accuracy and special cases: as for `log1p(_: FloatVector)`.
    @inlinable @inline(__always)
    public static func log1p(_ x: Float) -> Float {
        if !(x > -1 && x < Log1pConstants.fastLimit) {
            return log1pSpecial(x)
        }
        return log1pFast(x)
    }
}

// Small SIMD helpers shared by the vectorized elementary functions (Exp.swift, Log.swift,
// Log1p.swift, Sigmoid.swift): bit casts between Float and UInt32 lanes, the "magic bias"
// rounding constant, an exact small-integer-to-Float conversion, and a lane select.
//
// Why these and not the standard library's spellings: on the default x86-64 target (SSE2,
// no FMA) `.rounded(...)`, `addingProduct` and Float -> Int32 vector conversion compile to
// one library call per lane or to a slow generic path, and comparisons of *integer* SIMD
// vectors compile to a per-lane loop. Everything here compiles to plain SSE instructions
// (andps, pslld, psrad, paddd, cmpps, movmskps) and to their AVX forms on a host-CPU build.
// The kernels therefore test lanes with *float* comparisons only.

/// The vectorized elementary functions of the fast engine: `exp`, `log`, `log1p` and the
/// logistic helpers `sigmoid`, `logSigmoid`, `softplus`, each for a `FloatVector` (16
/// lanes) and for a single `Float`.
///
/// The scalar form of each function runs the same algorithm with the same operations in
/// the same order, so it returns bit for bit what the vector form returns in the same lane
/// (the loss kernels use it for the tail of a buffer). Accuracy is measured exhaustively
/// over all 2^32 Float inputs against Foundation's Double functions by
/// `scripts/check-vector-math`; each function's documentation states the worst error found.
public enum VectorMath {}

extension VectorMath {
    // MARK: Bit casts (free: they only reinterpret the register)

    /// The IEEE-754 bit patterns of the lanes.
    @inlinable @inline(__always)
    internal static func bits(_ v: FloatVector) -> UInt32Vector {
        unsafeBitCast(v, to: UInt32Vector.self)
    }

    /// The lanes whose IEEE-754 bit patterns are `u`.
    @inlinable @inline(__always)
    internal static func float(bits u: UInt32Vector) -> FloatVector {
        unsafeBitCast(u, to: FloatVector.self)
    }

    /// The same 32 bits read as two's-complement integers (for arithmetic shifts).
    @inlinable @inline(__always)
    internal static func signed(_ u: UInt32Vector) -> Int32Vector {
        unsafeBitCast(u, to: Int32Vector.self)
    }

    /// The same 32 bits read as unsigned integers.
    @inlinable @inline(__always)
    internal static func unsigned(_ i: Int32Vector) -> UInt32Vector {
        unsafeBitCast(i, to: UInt32Vector.self)
    }

    // MARK: Magic-bias rounding

    /// `0x1.8p23 = 1.5 * 2^23`. For `|t| < 2^22`, the sum `t + roundingShift` lies in
    /// `[2^23, 2^24)`, where the spacing of Floats is exactly 1, so the addition itself
    /// rounds `t` to the nearest integer (ties to even) and leaves that integer `n` in the
    /// low mantissa bits: `bits(t + roundingShift) = 0x4b40_0000 + n` (two's complement in
    /// the low 22 bits). Subtracting `roundingShift` again gives `n` as an exact Float.
    /// This replaces `.rounded(.toNearestOrEven)`, a per-lane `rintf` call on SSE2.
    @inlinable @inline(__always)
    internal static var roundingShift: Float { 0x1.8p23 }

    /// `bits(roundingShift)`: the bit pattern of `1.5 * 2^23` (integer part 0 in the low bits).
    @inlinable @inline(__always)
    internal static var roundingShiftBits: UInt32 { 0x4b40_0000 }

    /// `-k` as an exact Float, for integers `|k| < 2^22`, with `-0` never produced:
    /// `roundingShift - (roundingShift + k)` where `roundingShift + k` is built in the bits
    /// (`0x4b40_0000 + k`), so no integer-to-float conversion instruction is needed.
    /// For `k = 0` the result is `+0`, which the logarithms rely on (see Log.swift).
    @inlinable @inline(__always)
    internal static func negatedFloat(_ k: Int32Vector) -> FloatVector {
        FloatVector(repeating: roundingShift) - float(bits: unsigned(k) &+ roundingShiftBits)
    }

    /// Scalar form of `negatedFloat(_:)`, same operations.
    @inlinable @inline(__always)
    internal static func negatedFloat(_ k: Int32) -> Float {
        roundingShift - Float(bitPattern: UInt32(bitPattern: k) &+ roundingShiftBits)
    }

    // MARK: Lane tests

    /// Whether any lane of `mask` is set: the test that guards the rare special path.
    /// The standard library's `any(_:)` reduces with a generic `min()`, which the optimizer
    /// sometimes leaves as an out-of-line call with a per-lane loop; this OR-folds the
    /// halves (free register picks on SSE, one vextract on AVX) and compiles to a few por
    /// and one movd.
    @inlinable @inline(__always)
    internal static func anyLane(_ mask: SIMDMask<Int32Vector>) -> Bool {
        let lanes = unsafeBitCast(mask, to: UInt32Vector.self)   // each lane 0 or ~0
        let eight = lanes.lowHalf | lanes.highHalf
        let four = eight.lowHalf | eight.highHalf
        let two = four.lowHalf | four.highHalf
        return (two[0] | two[1]) != 0
    }

    // MARK: Select

    /// `mask ? a : b` lane by lane (and/andnot/or on SSE2, a blend on SSE4.1/AVX).
    @inlinable @inline(__always)
    internal static func select(
        _ mask: SIMDMask<Int32Vector>, _ a: FloatVector, else b: FloatVector
    ) -> FloatVector {
        var result = b
        result.replace(with: a, where: mask)
        return result
    }

    // MARK: Shared constants

    /// `ln 2` split in two so that `n * ln2Hi` is exact for `|n| <= 512`: `ln2Hi` is ln 2
    /// cut to 15 significant bits (0x1.62e4p-1 = 0.693145751953125), so the product needs
    /// at most 24, and
    /// `ln2Lo = 0x1.7f7d1cp-20` is the rest, `ln 2 - ln2Hi` rounded to Float (its own
    /// error is 5.5e-14, far below what a Float result can see).
    @inlinable @inline(__always)
    internal static var ln2Hi: Float { 0x1.62e4p-1 }

    /// The low part of `ln 2`; see `ln2Hi`.
    @inlinable @inline(__always)
    internal static var ln2Lo: Float { 0x1.7f7d1cp-20 }
}

/// Distances in units in the last place (ULPs): how many representable values lie
/// between two floating-point numbers.
///
/// The distance counts steps along the ordered set of representable values of the type:
/// adjacent values are 1 apart, `+0` and `-0` are the same point (distance 0), and a
/// pair of opposite signs counts the full way through zero (the steps from `a` down to 0
/// plus those from 0 to `b`), so a sign error is never "a few ULPs". Infinity is the
/// step after `greatestFiniteMagnitude` in this order, i.e. it stands at `2^(emax + 1)`,
/// one binade past the largest finite value (the same convention swift-numerics uses to
/// compare against infinity); its distance from a finite value therefore counts that
/// value's steps up to the end of the largest binade, plus one.
///
/// NaN has no place in the order: the distance between NaN and a number is `nil`, and
/// between two NaNs it is 0 (they match, as in the comparison rule).
public enum ULP {
    /// The number of representable Doubles between `a` and `b` (see the type's doc).
    public static func distance(_ a: Double, _ b: Double) -> UInt64? {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : nil }
        return steps(a.magnitude.bitPattern, a.sign == .minus, b.magnitude.bitPattern, b.sign == .minus)
    }

    /// The number of representable Floats between `a` and `b` (see the type's doc).
    public static func distance(_ a: Float, _ b: Float) -> UInt64? {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : nil }
        return steps(UInt64(a.magnitude.bitPattern), a.sign == .minus, UInt64(b.magnitude.bitPattern), b.sign == .minus)
    }

    /// The distance in Floats between the Float nearest to `expected` and `actual`: how
    /// far a Float result is from the best Float answer. `nil` when exactly one is NaN.
    public static func floatDistance(actual: Double, expected: Double) -> UInt64? {
        distance(Float(actual), Float(expected))
    }

    /// For magnitudes' bit patterns (which order the non-negative values of an IEEE type,
    /// infinity included, as the integers they are): the distance along the signed line.
    private static func steps(_ a: UInt64, _ aNegative: Bool, _ b: UInt64, _ bNegative: Bool) -> UInt64 {
        // Zero has no sign in this order; a zero magnitude is 0 on either side.
        let sameSide = aNegative == bNegative || a == 0 || b == 0
        if sameSide { return a > b ? a - b : b - a }
        // Opposite signs: through zero. The largest magnitudes (infinity of Double is
        // 0x7FF0...) sum to less than 2^64, so this cannot overflow.
        return a + b
    }
}

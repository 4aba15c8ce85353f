// The logistic functions the bce_with_logits kernel needs, built on exp and log1p:
//   sigmoid(x)    = 1 / (1 + e^-x)
//   logSigmoid(x) = log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|)
//   softplus(x)   = log(1 + e^x)    = max(x, 0) + log1p(e^-|x|)
// and sigmoidAndLogSigmoid(x), both from one exponential.
//
// Measured accuracy (scripts/check-vector-math, all 2^32 inputs, against the same formulas
// in Double with Foundation's exp and log1p, error in Float ULPs at the Double result):
//   sigmoid     worst 2.4019 ULP at x = -4.157294 (-0x1.0a111ap+2, bits 0xc085088d);
//               8326655 results above 1 ULP (x < 0: t/(1 + t) carries exp's error whole)
//   logSigmoid  worst 1.8950 ULP at x = 1.3442718 (0x1.582232p+0, bits 0x3fac1119);
//               2137482 results above 1 ULP
//   softplus    worst 1.8950 ULP at x = -1.3442718 (-0x1.582232p+0, bits 0xbfac1119);
//               2137482 results above 1 ULP (softplus(x) = -logSigmoid(-x) exactly)
//   The scalar and vector forms agree bit for bit on every input. The check's bounds,
//   set from the parts before measuring, are 3, 4 and 4 ULP.
//
// Numerics
//   - Only t = e^-|x| is ever computed (-|x| by setting the sign bit, the same in the
//     vector and the scalar code, NaN payloads included), so nothing overflows: t is in
//     [0, 1] for every non-NaN x, and 1 + t in [1, 2].
//   - sigmoid: 1/(1 + t) for x >= 0, t/(1 + t) for x < 0 (= e^x/(1 + e^x)), so the result
//     keeps full relative accuracy down to sigmoid(-103) ~ 1e-45 (no 1 - tiny cancellation).
//   - logSigmoid and softplus add min(x, 0) or max(x, 0) (exact) to -+log1p(t) (same sign
//     as the other term for logSigmoid, positive for softplus): no cancellation, and
//     log1p keeps the accuracy of tiny t, so logSigmoid(30) = -9.4e-14 comes out to a few
//     ULP, not 0.
//   - The min/max are selects on x < 0, so NaN propagates through t (exp(NaN) = NaN);
//     +-inf give the limits: sigmoid 1 and 0, logSigmoid 0 and -inf, softplus inf and 0.

extension VectorMath {
    // MARK: Vector

    /// The logistic sigmoid `1 / (1 + e^-x)` in each lane.
    ///
    /// Computed from `t = exp(-|x|)` as `1/(1 + t)` for `x >= 0` and `t/(1 + t)` for
    /// `x < 0`, so it never overflows and keeps its relative accuracy for very negative `x`.
    ///
    /// - Accuracy: at most 2.41 ULP (worst at x = -4.157294) over all 2^32 Float inputs
    ///   (exhaustive check against the same formula in Double).
    /// - Special cases: `sigmoid(+inf) = 1`, `sigmoid(-inf) = 0`, `sigmoid(NaN) = NaN`;
    ///   the result rounds to 1 for `x` above about 17.3; subnormal results below `x = -87.3`.
    /// - Derivative: `sigmoid(x) (1 - sigmoid(x))`.
    @inlinable @inline(__always)
    public static func sigmoid(_ x: FloatVector) -> FloatVector {
        let t = exp(float(bits: bits(x) | 0x8000_0000))
        let numerator = select(x .< 0, t, else: FloatVector(repeating: 1))
        return numerator / (1 + t)
    }

    /// `log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|)` in each lane; PyTorch's `logsigmoid`.
    ///
    /// - Accuracy: at most 1.90 ULP (worst at x = 1.3442718) over all 2^32 Float inputs
    ///   (exhaustive check against the same formula in Double).
    /// - Special cases: `logSigmoid(+inf) = 0`, `logSigmoid(-inf) = -inf`,
    ///   `logSigmoid(NaN) = NaN`; `logSigmoid(0) = -ln 2`.
    /// - Derivative: `1 - sigmoid(x) = sigmoid(-x)`.
    @inlinable @inline(__always)
    public static func logSigmoid(_ x: FloatVector) -> FloatVector {
        let t = exp(float(bits: bits(x) | 0x8000_0000))
        let negativePart = select(x .< 0, x, else: FloatVector())
        return negativePart - log1p(t)
    }

    /// `softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|)` in each lane, without
    /// PyTorch's `threshold` shortcut (the exact function at every `x`).
    ///
    /// - Accuracy: at most 1.90 ULP (worst at x = -1.3442718) over all 2^32 Float inputs
    ///   (exhaustive check against the same formula in Double).
    /// - Special cases: `softplus(+inf) = +inf`, `softplus(-inf) = 0`,
    ///   `softplus(NaN) = NaN`; `softplus(0) = ln 2`. `softplus(x) = -logSigmoid(-x)`.
    /// - Derivative: `sigmoid(x)`.
    @inlinable @inline(__always)
    public static func softplus(_ x: FloatVector) -> FloatVector {
        let t = exp(float(bits: bits(x) | 0x8000_0000))
        let positivePart = select(x .> 0, x, else: FloatVector())
        return positivePart + log1p(t)
    }

    /// `sigmoid(x)` and `logSigmoid(x)` from one exponential, for a fused loss and
    /// gradient (bce_with_logits). Each result equals bit for bit the corresponding
    /// single function's.
    @inlinable @inline(__always)
    public static func sigmoidAndLogSigmoid(_ x: FloatVector)
        -> (sigmoid: FloatVector, logSigmoid: FloatVector)
    {
        let t = exp(float(bits: bits(x) | 0x8000_0000))
        let negative = x .< 0
        let sigmoid = select(negative, t, else: FloatVector(repeating: 1)) / (1 + t)
        let logSigmoid = select(negative, x, else: FloatVector()) - log1p(t)
        return (sigmoid, logSigmoid)
    }

    // MARK: Scalar (same operations in the same order)

    /// `sigmoid(_: FloatVector)` for one Float, bit for bit the vector lane's result.
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        let t = exp(Float(bitPattern: x.bitPattern | 0x8000_0000))
        let numerator: Float = x < 0 ? t : 1
        return numerator / (1 + t)
    }

    /// `logSigmoid(_: FloatVector)` for one Float, bit for bit the vector lane's result.
    @inlinable @inline(__always)
    public static func logSigmoid(_ x: Float) -> Float {
        let t = exp(Float(bitPattern: x.bitPattern | 0x8000_0000))
        let negativePart: Float = x < 0 ? x : 0
        return negativePart - log1p(t)
    }

    /// `softplus(_: FloatVector)` for one Float, bit for bit the vector lane's result.
    @inlinable @inline(__always)
    public static func softplus(_ x: Float) -> Float {
        let t = exp(Float(bitPattern: x.bitPattern | 0x8000_0000))
        let positivePart: Float = x > 0 ? x : 0
        return positivePart + log1p(t)
    }

    /// `sigmoidAndLogSigmoid(_: FloatVector)` for one Float.
    @inlinable @inline(__always)
    public static func sigmoidAndLogSigmoid(_ x: Float) -> (sigmoid: Float, logSigmoid: Float) {
        let t = exp(Float(bitPattern: x.bitPattern | 0x8000_0000))
        let negative = x < 0
        let sigmoid = (negative ? t : 1) / (1 + t)
        let logSigmoid = (negative ? x : 0) - log1p(t)
        return (sigmoid, logSigmoid)
    }
}

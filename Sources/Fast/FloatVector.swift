/// The SIMD types every fast kernel works in. One width for the whole engine, so the
/// vector math, the loss kernels and the reductions compose without conversions.
/// 16 lanes: four SSE registers on the default x86-64 target, two AVX registers on a
/// host-CPU build; wide enough to hide the latency of the polynomial evaluations.
public typealias FloatVector = SIMD16<Float>
/// The integer vector of the same width (bit patterns, exponents, class indices).
public typealias Int32Vector = SIMD16<Int32>
/// The unsigned integer vector of the same width.
public typealias UInt32Vector = SIMD16<UInt32>

extension SIMD16 where Scalar == Float {
    /// `-v` lane by lane as IEEE negation: the sign bit flipped (one `xorps`), so
    /// `-(+0) = -0` and `d/dy = -d/dx` holds bit for bit. The standard library's SIMD
    /// negation is `0 - v`, which gives `+0` for `+0` and compiles to a lane-by-lane loop
    /// that the optimizer has to put back together; this more specific overload is the
    /// one every `-v` on a `FloatVector` in this module uses.
    @inline(__always)
    static prefix func - (v: Self) -> Self {
        unsafeBitCast(unsafeBitCast(v, to: UInt32Vector.self) ^ UInt32Vector(repeating: 0x8000_0000), to: Self.self)
    }
}

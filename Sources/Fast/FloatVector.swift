/// The SIMD types every fast kernel works in. One width for the whole engine, so the
/// vector math, the loss kernels and the reductions compose without conversions.
/// 16 lanes: four SSE registers on the default x86-64 target, two AVX registers on a
/// host-CPU build; wide enough to hide the latency of the polynomial evaluations.
public typealias FloatVector = SIMD16<Float>
/// The integer vector of the same width (bit patterns, exponents, class indices).
public typealias Int32Vector = SIMD16<Int32>
/// The unsigned integer vector of the same width.
public typealias UInt32Vector = SIMD16<UInt32>

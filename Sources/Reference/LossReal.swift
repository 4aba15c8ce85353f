import Foundation
import Losses

/// The real-number protocol the reference engine is written against.
///
/// Arithmetic, comparison, and the handful of elementary functions the loss formulas
/// need. `Double` is the reference; `Float80` (x86_64 only) is the higher-precision
/// evaluation that writes the golden files; the verification library's dual number
/// conforms too, so running a loss on duals yields its exact directional derivative.
///
/// Comparisons of a conforming type compare values only (for a dual number, the primal
/// part), so branches such as `|e| < delta` choose the same formula at every precision.
public protocol LossReal: Comparable, Sendable, CustomStringConvertible {
    /// The nearest representable value (for a dual number: a constant, derivative 0).
    init(_ value: Double)
    /// The value as a Double (for a dual number: its primal part, rounded).
    var doubleValue: Double { get }

    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Self, rhs: Self) -> Self
    static func / (lhs: Self, rhs: Self) -> Self
    static prefix func - (operand: Self) -> Self

    var isNaN: Bool { get }
    var isInfinite: Bool { get }
    var isFinite: Bool { get }

    /// `e^x`.
    static func exp(_ x: Self) -> Self
    /// The natural logarithm; -inf at 0, NaN below 0.
    static func log(_ x: Self) -> Self
    /// `log(1 + x)`, accurate when `x` is near 0 (no cancellation in `1 + x`).
    static func log1p(_ x: Self) -> Self
    /// `e^x - 1`, accurate when `x` is near 0.
    static func expm1(_ x: Self) -> Self
}

extension LossReal {
    @inlinable public static var zero: Self { Self(0) }
    @inlinable public static var one: Self { Self(1) }
    @inlinable public static var infinity: Self { Self(Double.infinity) }
    @inlinable public static var nan: Self { Self(Double.nan) }
    @inlinable public init(_ value: Int) { self.init(Double(value)) }

    @inlinable public static func += (lhs: inout Self, rhs: Self) { lhs = lhs + rhs }
    @inlinable public static func -= (lhs: inout Self, rhs: Self) { lhs = lhs - rhs }
    @inlinable public static func *= (lhs: inout Self, rhs: Self) { lhs = lhs * rhs }
    @inlinable public static func /= (lhs: inout Self, rhs: Self) { lhs = lhs / rhs }

    /// `|x|`; NaN stays NaN. At 0 the derivative of a dual number passes through unchanged.
    @inlinable public static func abs(_ x: Self) -> Self { x < .zero ? -x : x }
    /// `sign(x)` with `sign(0) = 0` and `sign(NaN) = NaN` (deviation 3 of the contract).
    @inlinable public static func sign(_ x: Self) -> Self {
        if x.isNaN { return x }
        return x > .zero ? .one : (x < .zero ? -.one : .zero)
    }
    /// The larger value; NaN if either is NaN.
    @inlinable public static func maximum(_ a: Self, _ b: Self) -> Self {
        if a.isNaN || b.isNaN { return .nan }
        return a < b ? b : a
    }
    /// The smaller value; NaN if either is NaN.
    @inlinable public static func minimum(_ a: Self, _ b: Self) -> Self {
        if a.isNaN || b.isNaN { return .nan }
        return b < a ? b : a
    }
    /// `log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))`, finite for every finite x.
    @inlinable public static func logSigmoid(_ x: Self) -> Self {
        minimum(x, .zero) - log1p(exp(-abs(x)))
    }
    /// `1 / (1 + exp(-x))`, evaluated without overflow for either sign of x.
    @inlinable public static func sigmoid(_ x: Self) -> Self {
        if x < .zero {
            let z = exp(x)
            return z / (.one + z)
        }
        return .one / (.one + exp(-x))
    }
}

extension Double: LossReal {
    @inlinable public var doubleValue: Double { self }
    @inlinable public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inlinable public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    @inlinable public static func expm1(_ x: Double) -> Double { Foundation.expm1(x) }
}

/// Float: the reference formulas evaluated in single precision. Not an engine (the fast
/// engine is); `losscheck report` uses it as the yardstick of what a straightforward
/// Float evaluation of the same formulas achieves on a case.
extension Float: LossReal {
    @inlinable public var doubleValue: Double { Double(self) }
    @inlinable public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inlinable public static func log(_ x: Float) -> Float { Foundation.log(x) }
    @inlinable public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
    @inlinable public static func expm1(_ x: Float) -> Float { Foundation.expm1(x) }
}

#if arch(x86_64) && !os(Windows)
extension Float80: LossReal {
    @inlinable public var doubleValue: Double { Double(self) }
    @inlinable public static func exp(_ x: Float80) -> Float80 { Foundation.exp(x) }
    @inlinable public static func log(_ x: Float80) -> Float80 { Foundation.log(x) }
    @inlinable public static func log1p(_ x: Float80) -> Float80 { Foundation.log1p(x) }
    @inlinable public static func expm1(_ x: Float80) -> Float80 { Foundation.expm1(x) }
}
#endif

import Foundation
import Losses
import ReferenceLosses

/// A dual number `value + derivative * epsilon` with `epsilon^2 = 0`: forward-mode
/// automatic differentiation along one direction.
///
/// Evaluating a function on duals whose derivative parts hold a direction `u` returns,
/// in the result's derivative part, the directional derivative `J u` of the very same
/// floating-point computation, exact up to rounding (no step size, no truncation error).
/// Because `Dual` conforms to `LossReal`, every reference loss runs on it unchanged:
///
///     let x = Dual.seed([0.5, -1.0, 2.0], direction: [1, 0, 0])   // d/dx0
///     let t = [0.0, 0.0, 1.0].map(Dual.init)                       // constants
///     let r = try Reference.evaluate(MSELoss(), input: Tensor(x), target: Tensor(t))
///     r.output.scalars[0].derivative                               // 2 * 0.5 / 3
///
/// - Derivative rules: `(a b)' = a' b + a b'`, `(a / b)' = (a' - (a/b) b') / b`,
///   `exp(a)' = exp(a) a'`, `log(a)' = a' / a`, `log1p(a)' = a' / (1 + a)`,
///   `expm1(a)' = exp(a) a'`, `sqrt(a)' = a' / (2 sqrt(a))`.
/// - Strong zero: a zero derivative contributes exactly 0 to a product, even when the
///   other factor is infinite or NaN. A constant times an infinite value therefore keeps
///   derivative 0 instead of `0 * inf = NaN`, as the mathematics of a constant says.
///   (The value itself is computed as in Double, so NaN and infinity still show there.)
/// - Comparisons (`==`, `<`, ...) and `isNaN`, `isInfinite`, `isFinite` look at the value
///   only, so a branch such as `|e| < delta` takes the same side as in Double and the
///   derivative is that branch's (one-sided at a kink, the documented subgradient where
///   the loss picks one, e.g. `sign(0) = 0`).
public struct Dual: LossReal, Hashable {
    /// The primal value.
    public var value: Double
    /// The derivative along the seeded direction.
    public var derivative: Double

    /// A value with the given derivative.
    @inlinable public init(value: Double, derivative: Double) {
        self.value = value
        self.derivative = derivative
    }

    /// A constant: derivative 0.
    @inlinable public init(_ value: Double) {
        self.init(value: value, derivative: 0)
    }

    /// A constant from a Float (widened exactly).
    @inlinable public init(_ value: Float) {
        self.init(value: Double(value), derivative: 0)
    }

    /// The independent variable itself: derivative 1.
    @inlinable public static func variable(_ value: Double) -> Dual {
        Dual(value: value, derivative: 1)
    }

    /// `x[i] + direction[i] * epsilon` for each `i`. Extra entries of the longer array
    /// are ignored; a missing direction entry counts as 0.
    public static func seed(_ x: [Double], direction: [Double]) -> [Dual] {
        x.indices.map { Dual(value: x[$0], derivative: $0 < direction.count ? direction[$0] : 0) }
    }

    /// The tensor `x + direction * epsilon`; the shapes must be equal.
    public static func seed(_ x: Tensor<Double>, direction: Tensor<Double>) throws(LossError) -> Tensor<Dual> {
        guard x.shape == direction.shape else {
            throw LossError(.shape, "Dual.seed: direction shape \(Shape.describe(direction.shape)) differs from the point's shape \(Shape.describe(x.shape))")
        }
        return Tensor(unchecked: x.shape, seed(x.scalars, direction: direction.scalars))
    }

    /// The primal value (the `LossReal` requirement).
    @inlinable public var doubleValue: Double { value }

    @inlinable public var isNaN: Bool { value.isNaN }
    @inlinable public var isInfinite: Bool { value.isInfinite }
    @inlinable public var isFinite: Bool { value.isFinite }

    // MARK: Arithmetic

    /// `d * v`, but exactly 0 when `d` is 0 (the strong-zero rule).
    @inlinable static func scaled(_ d: Double, _ v: Double) -> Double { d == 0 ? 0 : d * v }

    @inlinable public static func + (lhs: Dual, rhs: Dual) -> Dual {
        Dual(value: lhs.value + rhs.value, derivative: lhs.derivative + rhs.derivative)
    }
    @inlinable public static func - (lhs: Dual, rhs: Dual) -> Dual {
        Dual(value: lhs.value - rhs.value, derivative: lhs.derivative - rhs.derivative)
    }
    @inlinable public static prefix func - (operand: Dual) -> Dual {
        Dual(value: -operand.value, derivative: -operand.derivative)
    }
    @inlinable public static func * (lhs: Dual, rhs: Dual) -> Dual {
        Dual(value: lhs.value * rhs.value,
             derivative: scaled(lhs.derivative, rhs.value) + scaled(rhs.derivative, lhs.value))
    }
    @inlinable public static func / (lhs: Dual, rhs: Dual) -> Dual {
        let q = lhs.value / rhs.value
        let numerator = lhs.derivative - scaled(rhs.derivative, q)
        return Dual(value: q, derivative: numerator == 0 ? 0 : numerator / rhs.value)
    }

    // MARK: Elementary functions

    @inlinable public static func exp(_ x: Dual) -> Dual {
        let e = Foundation.exp(x.value)
        return Dual(value: e, derivative: scaled(x.derivative, e))
    }
    @inlinable public static func log(_ x: Dual) -> Dual {
        Dual(value: Foundation.log(x.value), derivative: x.derivative == 0 ? 0 : x.derivative / x.value)
    }
    /// `log(1 + x)`; derivative `x' / (1 + x)` (the rounding of `1 + x` is relative,
    /// so the derivative keeps full relative accuracy).
    @inlinable public static func log1p(_ x: Dual) -> Dual {
        Dual(value: Foundation.log1p(x.value), derivative: x.derivative == 0 ? 0 : x.derivative / (1 + x.value))
    }
    /// `e^x - 1`; derivative `e^x x'` (computed with `exp`, not as `expm1(x) + 1`).
    @inlinable public static func expm1(_ x: Dual) -> Dual {
        Dual(value: Foundation.expm1(x.value), derivative: scaled(x.derivative, Foundation.exp(x.value)))
    }
    /// `sqrt(x)`; derivative `x' / (2 sqrt(x))` (infinite at 0 unless `x'` is 0).
    @inlinable public static func sqrt(_ x: Dual) -> Dual {
        let r = x.value.squareRoot()
        return Dual(value: r, derivative: x.derivative == 0 ? 0 : x.derivative / (2 * r))
    }

    // MARK: Comparison (values only)

    @inlinable public static func == (lhs: Dual, rhs: Dual) -> Bool { lhs.value == rhs.value }
    @inlinable public static func < (lhs: Dual, rhs: Dual) -> Bool { lhs.value < rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }

    public var description: String { "\(value) + \(derivative)ε" }
}

extension Tensor where Scalar == Dual {
    /// The primal values.
    public var values: Tensor<Double> { map(\.value) }
    /// The derivative parts: the directional derivative of each entry.
    public var derivatives: Tensor<Double> { map(\.derivative) }
}

/// A dense, row-major tensor: a shape and its scalars.
///
/// `shape` lists the dimensions outermost first; `[]` is a scalar holding exactly one
/// value. A dimension may be zero (an empty tensor). Creating a tensor whose scalar count
/// differs from the product of its shape, or whose shape has a negative dimension or a
/// product that overflows `Int`, throws a `LossError` of kind `.shape`.
public struct Tensor<Scalar> {
    /// The dimensions, outermost first. `[]` for a scalar.
    public let shape: [Int]
    /// The scalars in row-major order; `scalars.count == shape.product`.
    public private(set) var scalars: [Scalar]

    /// Creates a tensor, checking that `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Scalar]) throws(LossError) {
        let count = try Shape.elementCount(shape, argument: "shape")
        guard count == scalars.count else {
            throw LossError(.shape, "tensor: \(scalars.count) scalars for shape \(Shape.describe(shape)) (expected \(count))")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A scalar tensor (shape `[]`).
    public init(scalar: Scalar) {
        self.shape = []
        self.scalars = [scalar]
    }

    /// A one-dimensional tensor of shape `[scalars.count]`.
    public init(_ scalars: [Scalar]) {
        self.shape = [scalars.count]
        self.scalars = scalars
    }

    /// A tensor of the given shape with every scalar equal to `value`.
    public init(repeating value: Scalar, shape: [Int]) throws(LossError) {
        let count = try Shape.elementCount(shape, argument: "shape")
        self.shape = shape
        self.scalars = Array(repeating: value, count: count)
    }

    /// The number of scalars (the product of the shape; 1 for a scalar tensor).
    @inlinable public var count: Int { scalars.count }
    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// Read and write access to the scalars in row-major order.
    public subscript(flat index: Int) -> Scalar {
        get { scalars[index] }
        set { scalars[index] = newValue }
    }

    /// The same scalars converted elementwise.
    public func map<Other>(_ transform: (Scalar) throws -> Other) rethrows -> Tensor<Other> {
        Tensor<Other>(unchecked: shape, try scalars.map(transform))
    }

    /// Calls `body` with a read-only pointer to the scalars.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable pointer to the scalars.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// For code in this package that has already validated the shape.
    package init(unchecked shape: [Int], _ scalars: [Scalar]) {
        self.shape = shape
        self.scalars = scalars
    }
}

extension Tensor: Sendable where Scalar: Sendable {}
extension Tensor: Equatable where Scalar: Equatable {}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars.prefix(16).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(Shape.describe(shape)), [\(values)\(scalars.count > 16 ? ", ..." : "")])"
    }
}

/// Shape arithmetic shared by validation and both engines.
public enum Shape {
    /// The product of the dimensions, with checks: no negative dimension, and the product
    /// of the non-zero dimensions fits in `Int`.
    ///
    /// The second check is stricter than "the element count fits": `[0, 2^62, 4]` has no
    /// elements but is rejected, so that every partial product of a validated shape (an
    /// inner size, a stride, an offset) fits in `Int` and code after validation can
    /// multiply dimensions without overflow checks.
    public static func elementCount(_ shape: [Int], argument: String) throws(LossError) -> Int {
        var count = 1, nonZeroProduct = 1
        for (axis, dim) in shape.enumerated() {
            guard dim >= 0 else {
                throw LossError(.shape, "\(argument): dimension \(axis) is \(dim); dimensions must be non-negative")
            }
            let (product, overflow) = nonZeroProduct.multipliedReportingOverflow(by: max(dim, 1))
            guard !overflow else {
                let what = shape.contains(0) ? "the product of the non-zero dimensions" : "the element count"
                throw LossError(.shape, "\(argument): \(what) of shape \(describe(shape)) overflows Int")
            }
            nonZeroProduct = product
            count *= dim  // cannot overflow: |count| <= nonZeroProduct
        }
        return count
    }

    /// `[2, 3]` for a shape, as in messages.
    public static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}

/// Shape and value checks shared by both engines. No loss arithmetic lives here.

/// The layout of an elementwise loss after validation: every argument has the input's
/// shape (or broadcasts to it), and the unreduced loss has `count` elements.
public struct ElementwiseLayout: Sendable, Equatable {
    /// The input's shape, which is also the shape of the unreduced loss.
    public let shape: [Int]
    /// The number of elements of the unreduced loss.
    public let count: Int
    /// The output's shape under the given reduction: `shape` for `.none`, else `[]`.
    public let outputShape: [Int]
}

/// The layout of a class-indexed loss (`cross_entropy`, `nll`): input `[C]`, `[N, C]` or
/// `[N, C, d1, ..., dk]`. Element `(n, c, s)` of the input is at
/// `n * classes * inner + c * inner + s`; target element `(n, s)` is at `n * inner + s`.
public struct ClassLayout: Sendable, Equatable {
    /// N (1 for an unbatched `[C]` input).
    public let batch: Int
    /// C, the class dimension (dimension 1 when batched, 0 when unbatched).
    public let classes: Int
    /// `d1 * ... * dk` (1 for `[C]` and `[N, C]`).
    public let inner: Int
    /// The unreduced loss's shape: the target's shape for index targets, the input's
    /// shape without the class dimension for probability targets.
    public let lossShape: [Int]
    /// The output's shape under the given reduction.
    public let outputShape: [Int]
    /// The number of rows (`batch * inner`), i.e. elements of the unreduced loss.
    public var rows: Int { batch * inner }

    /// The flat input offset of class `c` for row `row` (`row = n * inner + s`).
    @inlinable public func inputOffset(row: Int, classIndex c: Int) -> Int {
        let n = row / inner, s = row - n * inner
        return (n * classes + c) * inner + s
    }
}

/// How a `weight` or `pos_weight` tensor broadcasts against the input (PyTorch's
/// trailing-dimension rule, never enlarging the input's shape).
public struct Broadcast: Sendable, Equatable {
    /// For each input dimension, the stride in the broadcast operand (0 where it repeats).
    public let strides: [Int]
    /// The input's shape.
    public let shape: [Int]
    /// True when the operand already has the input's shape (the identity map).
    public let isIdentity: Bool

    /// Checks that `operand` broadcasts to `target` without enlarging it.
    public init(_ operand: [Int], to target: [Int], loss: String, argument: String) throws(LossError) {
        // Both shapes well-formed first, so that the strides below cannot overflow.
        _ = try Shape.elementCount(operand, argument: "\(loss): \(argument)")
        _ = try Shape.elementCount(target, argument: "\(loss): input")
        guard operand.count <= target.count else {
            throw LossError(.shape, "\(loss): \(argument) of shape \(Shape.describe(operand)) has more dimensions than the input \(Shape.describe(target))")
        }
        let offset = target.count - operand.count
        var strides = Array(repeating: 0, count: target.count)
        var step = 1
        for axis in (0..<operand.count).reversed() {
            let dim = operand[axis], full = target[axis + offset]
            if dim == full {
                strides[axis + offset] = dim == 1 ? 0 : step
            } else if dim == 1 {
                strides[axis + offset] = 0
            } else {
                throw LossError(.shape, "\(loss): \(argument) of shape \(Shape.describe(operand)) does not broadcast to the input's shape \(Shape.describe(target))")
            }
            step *= dim
        }
        self.strides = strides
        self.shape = target
        self.isIdentity = operand == target
    }

    /// The operand's values repeated to the input's shape, row-major.
    public func expand<T>(_ values: [T]) -> [T] {
        if isIdentity { return values }
        let count = shape.reduce(1, *)
        var result: [T] = []
        result.reserveCapacity(count)
        var index = Array(repeating: 0, count: shape.count)
        for _ in 0..<count {
            var offset = 0
            for axis in 0..<shape.count { offset += index[axis] * strides[axis] }
            result.append(values[offset])
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }
}

/// Checks shared by the description types' `validate` methods.
public enum Validate {
    /// The input and target (or another argument) must have the same shape.
    public static func sameShape(_ input: [Int], _ other: [Int], loss: String, argument: String = "target") throws(LossError) {
        guard input == other else {
            throw LossError(.shape, "\(loss): \(argument) shape \(Shape.describe(other)) differs from the input shape \(Shape.describe(input))")
        }
    }

    /// An elementwise loss's layout under `reduction`; rejects `batchmean` unless allowed.
    public static func elementwise(_ input: [Int], reduction: Reduction, loss: String, allowsBatchmean: Bool = false) throws(LossError) -> ElementwiseLayout {
        if reduction == .batchmean && !allowsBatchmean {
            throw LossError(.option, "\(loss): reduction 'batchmean' is only defined for kl_div; expected none, sum or mean")
        }
        let count = try Shape.elementCount(input, argument: "\(loss): input")
        return ElementwiseLayout(shape: input, count: count, outputShape: reduction == .none ? input : [])
    }

    /// A finite option value satisfying `predicate`, else an option error.
    public static func option(_ value: Double, _ name: String, loss: String, expected: String, _ predicate: (Double) -> Bool) throws(LossError) {
        guard value.isFinite && predicate(value) else {
            throw LossError(.option, "\(loss): \(name) = \(value); expected \(expected)")
        }
    }

    /// The class layout of `cross_entropy` / `nll` for an input shape; `targetShape` is
    /// the class-index target's shape, or the input's shape for probability targets.
    public static func classLayout(input: [Int], target: [Int], probabilities: Bool, reduction: Reduction, loss: String) throws(LossError) -> ClassLayout {
        if reduction == .batchmean {
            throw LossError(.option, "\(loss): reduction 'batchmean' is only defined for kl_div; expected none, sum or mean")
        }
        _ = try Shape.elementCount(input, argument: "\(loss): input")
        _ = try Shape.elementCount(target, argument: "\(loss): target")
        guard !input.isEmpty else {
            throw LossError(.shape, "\(loss): input has shape []; expected [C], [N, C] or [N, C, d1, ..., dk]")
        }
        let batched = input.count >= 2
        let classes = batched ? input[1] : input[0]
        guard classes >= 1 else {
            throw LossError(.shape, "\(loss): the class dimension of input \(Shape.describe(input)) is 0; expected at least one class")
        }
        var lossShape = input
        lossShape.remove(at: batched ? 1 : 0)
        if probabilities {
            guard target == input else {
                throw LossError(.shape, "\(loss): probability target shape \(Shape.describe(target)) differs from the input shape \(Shape.describe(input))")
            }
        } else {
            guard target == lossShape else {
                throw LossError(.shape, "\(loss): target shape \(Shape.describe(target)) does not fit input \(Shape.describe(input)); expected \(Shape.describe(lossShape))")
            }
        }
        let batch = batched ? input[0] : 1
        let inner = batched ? input.dropFirst(2).reduce(1, *) : 1
        return ClassLayout(batch: batch, classes: classes, inner: inner, lossShape: lossShape,
                           outputShape: reduction == .none ? lossShape : [])
    }

    /// Every class index is in `[0, classes)` or equal to `ignoreIndex`.
    public static func classIndices(_ target: UnsafeBufferPointer<Int>, shape: [Int], classes: Int, ignoreIndex: Int, loss: String) throws(LossError) {
        for (position, index) in target.enumerated() where index != ignoreIndex && (index < 0 || index >= classes) {
            throw LossError(.target, "\(loss): target\(multiIndex(position, shape: shape)) = \(index) is out of range for \(classes) classes (ignore_index is \(ignoreIndex))")
        }
    }

    /// A class weight vector of exactly `classes` entries.
    public static func classWeight(_ weight: Tensor<Double>?, classes: Int, loss: String) throws(LossError) {
        guard let weight else { return }
        guard weight.shape == [classes] else {
            throw LossError(.option, "\(loss): weight has shape \(Shape.describe(weight.shape)); expected [\(classes)], one entry per class")
        }
    }

    /// `[3]` for a flat index into a rank-1 shape, `[1, 2]` for rank 2, and so on.
    public static func multiIndex(_ flat: Int, shape: [Int]) -> String {
        if shape.count <= 1 { return "[\(flat)]" }
        var rest = flat, parts: [Int] = []
        for dim in shape.reversed() {
            parts.append(dim == 0 ? 0 : rest % dim)
            rest = dim == 0 ? 0 : rest / dim
        }
        return "[" + parts.reversed().map(String.init).joined(separator: ", ") + "]"
    }
}

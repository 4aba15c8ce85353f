/// A broadcast operand (`weight`, `pos_weight`) as an elementwise kernel reads it: its
/// values rounded to Float, and the map from an input element to its value given by a
/// validated `Broadcast` (PyTorch's trailing-dimension rule).
///
/// A kernel keeps one and calls `load(at: index, lanes: lanes)` with the index and lane
/// count it is given. Reads take the cheapest form that fits the 16 elements:
/// - the operand has the input's shape: one contiguous load;
/// - every stride is 0 (a single value): a splat;
/// - the 16 elements lie in one row of the input's last dimension: a contiguous load
///   (last stride 1, e.g. `weight` `[C]` on `[N, C]`) or a splat (last stride 0, e.g.
///   `[N, 1]` on `[N, C]`), after one offset computation for the row;
/// - otherwise (rows shorter than 16, or a vector that crosses a row): lane by lane.
///
/// The Float copy is made once per call (the one allocation of a weighted call); the
/// operand is immutable and safe to share across the workers. An operand that already
/// is Float (gaussian_nll's `var`) is read in place (`init(borrowing:_:)`).
package struct BroadcastOperand: @unchecked Sendable {
    /// The operand's Float values: `owner`'s copy, or the caller's buffer.
    private let values: UnsafePointer<Float>
    /// Keeps the Float copy alive; nil when reading a borrowed buffer.
    private let owner: FloatStorage?
    /// The input's shape and, per input dimension, the stride in the operand.
    private let shape: [Int]
    private let strides: [Int]
    /// Per input dimension, the number of input elements one step along it spans.
    private let spans: [Int]
    private let layout: Layout

    private enum Layout {
        case identity
        case single
        case rows(length: Int, lastStride: Int)
        case general
    }

    /// The operand `values` (row-major, of the operand's shape) broadcast by `broadcast`.
    package init(_ values: [Double], _ broadcast: Broadcast) {
        let copy = FloatStorage(values.map { Float($0) })
        self.init(owner: copy, values: UnsafePointer(copy.pointer), broadcast)
    }

    /// The Float operand `values` (row-major, of the operand's shape) broadcast by
    /// `broadcast`, read in place: the caller keeps the buffer alive and unchanged while
    /// the operand is in use, and it holds at least as many values as the operand's shape.
    package init(borrowing values: UnsafeBufferPointer<Float>, _ broadcast: Broadcast) {
        if let base = values.baseAddress {
            self.init(owner: nil, values: base, broadcast)
        } else {
            // An empty operand (only with an empty input, so never read).
            let empty = FloatStorage([])
            self.init(owner: empty, values: UnsafePointer(empty.pointer), broadcast)
        }
    }

    private init(owner: FloatStorage?, values: UnsafePointer<Float>, _ broadcast: Broadcast) {
        self.owner = owner
        self.values = values
        shape = broadcast.shape
        strides = broadcast.strides
        var spans = Array(repeating: 1, count: shape.count)
        var span = 1
        for axis in shape.indices.reversed() {
            spans[axis] = span
            span *= shape[axis]
        }
        self.spans = spans
        if broadcast.isIdentity {
            layout = .identity
        } else if strides.allSatisfy({ $0 == 0 }) {
            layout = .single
        } else if let last = shape.last, strides.last! <= 1 {
            layout = .rows(length: last, lastStride: strides.last!)
        } else {
            layout = .general
        }
    }

    /// The operand's values at input elements `index ..< index + lanes` (0 in the lanes
    /// beyond `lanes`).
    @inline(__always)
    package func load(at index: Int, lanes: Int) -> FloatVector {
        switch layout {
        case .identity:
            return VectorIO.load(values, index, lanes: lanes)
        case .single:
            return VectorIO.keep(FloatVector(repeating: values[0]), lanes: lanes)
        case .rows(let length, let lastStride):
            let column = index % length
            if column + lanes <= length {
                let rowStart = offset(of: index - column)
                return lastStride == 1
                    ? VectorIO.load(values, rowStart + column, lanes: lanes)
                    : VectorIO.keep(FloatVector(repeating: values[rowStart]), lanes: lanes)
            }
            return gather(index, lanes: lanes)
        case .general:
            return gather(index, lanes: lanes)
        }
    }

    /// The operand offset of input element `index`.
    @inline(__always)
    private func offset(of index: Int) -> Int {
        var offset = 0
        for axis in shape.indices where strides[axis] != 0 {
            offset += (index / spans[axis]) % shape[axis] * strides[axis]
        }
        return offset
    }

    private func gather(_ index: Int, lanes: Int) -> FloatVector {
        var v = FloatVector()
        for k in 0..<lanes { v[k] = values[offset(of: index + k)] }
        return v
    }
}

/// A per-element weight as a kernel multiplies it in: a broadcast operand, or none.
///
/// Kernels are generic over it, so the unweighted case compiles to its own loop in which
/// the product by `Unweighted`'s splat of 1 folds away (`x * 1` is `x` for every Float,
/// NaN included) and nothing is loaded.
protocol ElementWeight: Sendable {
    /// The weights at input elements `index ..< index + lanes`.
    func load(at index: Int, lanes: Int) -> FloatVector
}

extension BroadcastOperand: ElementWeight {}

/// No weight: every element's weight is 1.
struct Unweighted: ElementWeight {
    @inline(__always)
    func load(at index: Int, lanes: Int) -> FloatVector { FloatVector(repeating: 1) }
}

/// Owns a Float copy for as long as an operand that reads it lives.
final class FloatStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ values: [Float]) {
        pointer = .allocate(capacity: max(values.count, 1))
        pointer.initialize(repeating: 0, count: max(values.count, 1))
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: source.count) }
        }
    }
    deinit { pointer.deallocate() }
}

import Losses

extension Fast {
    /// Evaluates any loss given as data in the fast engine (`AnyLoss` + `LossArguments`): the entry point
    /// that golden files, generated cases and the command line use. It forwards to the
    /// loss's own `evaluate`, so both paths compute the very same thing.
    ///
    /// - Throws: `.target` when the target's kind does not fit the loss (class indices
    ///   for anything but `cross_entropy`/`nll`, real values for `nll`); `.shape` when
    ///   `gaussian_nll` has no `variance` or another loss is given one; and whatever the
    ///   loss itself throws.
    public static func evaluate(
        _ loss: AnyLoss, _ arguments: LossArguments<Float>, gradients: GradientRequest = .none, threads: Int? = nil
    ) throws(LossError) -> LossResult<Float> {
        let input = arguments.input, upstream = arguments.upstream
        try LossArgumentCheck.variance(arguments.variance != nil, for: loss)
        switch (loss, arguments.target) {
        case (.mse(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.l1(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.huber(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.smoothL1(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.bce(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.bceWithLogits(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.crossEntropy(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.crossEntropy(let l), .classes(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.nll(let l), .classes(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.klDiv(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.poissonNLL(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients, threads: threads)
        case (.gaussianNLL(let l), .values(let t)):
            return try evaluate(l, input: input, target: t, variance: arguments.variance!, upstream: upstream, gradients: gradients, threads: threads)
        case (_, let target):
            throw LossArgumentCheck.targetKindError(for: loss, target: target)
        }
    }
}

extension Fast {
    /// The target of a type-erased buffer call: real values (as many as the input has
    /// elements) or class indices with their shape.
    public enum BufferTarget {
        case values(UnsafeBufferPointer<Float>)
        case classes(UnsafeBufferPointer<Int>, shape: [Int])
    }

    /// Evaluates any loss given as data over caller-owned buffers, without allocating:
    /// the type-erased form of every loss's buffer entry point (bindings, benchmarks,
    /// dispatch on a loss chosen at run time). It forwards to the loss's own buffer
    /// `evaluate`, so both paths compute the very same bits.
    ///
    /// - Parameters:
    ///   - input: the input's elements, row-major, `shape`'s element count.
    ///   - target: real values of the input's shape, or class indices and their shape
    ///     (`cross_entropy`, `nll`); `cross_entropy` takes either.
    ///   - variance: `gaussian_nll`'s variance and its shape; nil for every other loss.
    ///   - upstream, outputs, threads: as in every buffer entry point (see `Fast`).
    /// - Throws: `.target` when the target's kind does not fit the loss; `.shape` when
    ///   `gaussian_nll` has no variance or another loss is given one; and whatever the
    ///   loss's own buffer entry point throws (lengths, aliasing, options, values).
    public static func evaluate(
        _ loss: AnyLoss, input: UnsafeBufferPointer<Float>, shape: [Int], target: BufferTarget,
        variance: (buffer: UnsafeBufferPointer<Float>, shape: [Int])? = nil,
        upstream: UnsafeBufferPointer<Float>? = nil, into outputs: Outputs, threads: Int? = nil
    ) throws(LossError) {
        try LossArgumentCheck.variance(variance != nil, for: loss)
        switch (loss, target) {
        case (.mse(let l), .values(let y)): try evaluate(l, input: input, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case (.l1(let l), .values(let y)): try evaluate(l, input: input, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case (.huber(let l), .values(let y)): try evaluate(l, input: input, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case (.smoothL1(let l), .values(let y)): try evaluate(l, input: input, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case (.bce(let l), .values(let y)): try evaluate(l, input: input, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case (.bceWithLogits(let l), .values(let y)): try evaluate(l, input: input, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case (.klDiv(let l), .values(let y)): try evaluate(l, input: input, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case (.poissonNLL(let l), .values(let y)): try evaluate(l, input: input, target: y, shape: shape, upstream: upstream, into: outputs, threads: threads)
        case (.crossEntropy(let l), .values(let y)):
            try evaluate(l, input: input, shape: shape, target: y, targetShape: shape, upstream: upstream, into: outputs, threads: threads)
        case (.crossEntropy(let l), .classes(let y, let targetShape)):
            try evaluate(l, input: input, shape: shape, target: y, targetShape: targetShape, upstream: upstream, into: outputs, threads: threads)
        case (.nll(let l), .classes(let y, let targetShape)):
            try evaluate(l, input: input, shape: shape, target: y, targetShape: targetShape, upstream: upstream, into: outputs, threads: threads)
        case (.gaussianNLL(let l), .values(let y)):
            try evaluate(l, input: input, target: y, variance: variance!.buffer, shape: shape, varianceShape: variance!.shape,
                         upstream: upstream, into: outputs, threads: threads)
        case (_, .classes):
            throw LossArgumentCheck.targetKindError(for: loss, classes: true)
        case (_, .values):
            throw LossArgumentCheck.targetKindError(for: loss, classes: false)
        }
    }
}

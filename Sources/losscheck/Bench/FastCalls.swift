import FastLosses

/// The fast engine's two entry points for a loss with real-valued targets, bound to one
/// loss description: the allocation-free buffer form and the Tensor form.
struct RealTargetCalls {
    /// `(input, target, shape, outputs, threads)`: `Fast.evaluate(loss, input:target:shape:upstream: nil, into:threads:)`.
    let buffer: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, [Int], Fast.Outputs, Int) throws -> Void
    /// `(input, target, gradients, threads)`: `Fast.evaluate(loss, input:target:upstream: nil, gradients:threads:)`.
    let tensor: (Tensor<Float>, Tensor<Float>, GradientRequest, Int) throws -> LossResult<Float>
}

/// The same for a loss with class-index targets (`cross_entropy`, `nll`).
struct ClassTargetCalls {
    /// `(input, shape, target, targetShape, outputs, threads)`.
    let buffer: (UnsafeBufferPointer<Float>, [Int], UnsafeBufferPointer<Int>, [Int], Fast.Outputs, Int) throws -> Void
    /// `(input, target, gradients, threads)`.
    let tensor: (Tensor<Float>, Tensor<Int>, GradientRequest, Int) throws -> LossResult<Float>
}

/// The fast engine's calls for each benchmarked loss; nil for a loss whose fast kernel
/// is not built into this version (see FastCalls+Pending.swift).
enum FastCalls {
    static func mse(_ loss: MSELoss) -> RealTargetCalls? {
        RealTargetCalls(
            buffer: { x, y, shape, outputs, threads in
                try Fast.evaluate(loss, input: x, target: y, shape: shape, upstream: nil, into: outputs, threads: threads)
            },
            tensor: { x, y, gradients, threads in
                try Fast.evaluate(loss, input: x, target: y, upstream: nil, gradients: gradients, threads: threads)
            })
    }

    static func l1(_ loss: L1Loss) -> RealTargetCalls? {
        RealTargetCalls(
            buffer: { x, y, shape, outputs, threads in
                try Fast.evaluate(loss, input: x, target: y, shape: shape, upstream: nil, into: outputs, threads: threads)
            },
            tensor: { x, y, gradients, threads in
                try Fast.evaluate(loss, input: x, target: y, upstream: nil, gradients: gradients, threads: threads)
            })
    }

    static func huber(_ loss: HuberLoss) -> RealTargetCalls? {
        RealTargetCalls(
            buffer: { x, y, shape, outputs, threads in
                try Fast.evaluate(loss, input: x, target: y, shape: shape, upstream: nil, into: outputs, threads: threads)
            },
            tensor: { x, y, gradients, threads in
                try Fast.evaluate(loss, input: x, target: y, upstream: nil, gradients: gradients, threads: threads)
            })
    }

    static func smoothL1(_ loss: SmoothL1Loss) -> RealTargetCalls? {
        RealTargetCalls(
            buffer: { x, y, shape, outputs, threads in
                try Fast.evaluate(loss, input: x, target: y, shape: shape, upstream: nil, into: outputs, threads: threads)
            },
            tensor: { x, y, gradients, threads in
                try Fast.evaluate(loss, input: x, target: y, upstream: nil, gradients: gradients, threads: threads)
            })
    }
}

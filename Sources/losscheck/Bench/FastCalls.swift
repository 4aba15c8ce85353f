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

/// The fast engine's calls for each benchmarked loss. Each returns an optional so that a
/// loss whose fast kernel is not built yet can return nil (the bench then prints "not
/// built" for its workloads and still times the reference); every loss is built now.
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

    static func bceWithLogits(_ loss: BCEWithLogitsLoss) -> RealTargetCalls? {
        RealTargetCalls(
            buffer: { x, y, shape, outputs, threads in
                try Fast.evaluate(loss, input: x, target: y, shape: shape, upstream: nil, into: outputs, threads: threads)
            },
            tensor: { x, y, gradients, threads in
                try Fast.evaluate(loss, input: x, target: y, upstream: nil, gradients: gradients, threads: threads)
            })
    }

    static func bce(_ loss: BCELoss) -> RealTargetCalls? {
        RealTargetCalls(
            buffer: { x, y, shape, outputs, threads in
                try Fast.evaluate(loss, input: x, target: y, shape: shape, upstream: nil, into: outputs, threads: threads)
            },
            tensor: { x, y, gradients, threads in
                try Fast.evaluate(loss, input: x, target: y, upstream: nil, gradients: gradients, threads: threads)
            })
    }

    static func klDiv(_ loss: KLDivLoss) -> RealTargetCalls? {
        RealTargetCalls(
            buffer: { x, y, shape, outputs, threads in
                try Fast.evaluate(loss, input: x, target: y, shape: shape, upstream: nil, into: outputs, threads: threads)
            },
            tensor: { x, y, gradients, threads in
                try Fast.evaluate(loss, input: x, target: y, upstream: nil, gradients: gradients, threads: threads)
            })
    }

    static func crossEntropy(_ loss: CrossEntropyLoss) -> ClassTargetCalls? {
        ClassTargetCalls(
            buffer: { x, shape, y, targetShape, outputs, threads in
                try Fast.evaluate(loss, input: x, shape: shape, target: y, targetShape: targetShape,
                                  upstream: nil, into: outputs, threads: threads)
            },
            tensor: { x, y, gradients, threads in
                try Fast.evaluate(loss, input: x, target: y, upstream: nil, gradients: gradients, threads: threads)
            })
    }

    static func nll(_ loss: NLLLoss) -> ClassTargetCalls? {
        ClassTargetCalls(
            buffer: { x, shape, y, targetShape, outputs, threads in
                try Fast.evaluate(loss, input: x, shape: shape, target: y, targetShape: targetShape,
                                  upstream: nil, into: outputs, threads: threads)
            },
            tensor: { x, y, gradients, threads in
                try Fast.evaluate(loss, input: x, target: y, upstream: nil, gradients: gradients, threads: threads)
            })
    }
}

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

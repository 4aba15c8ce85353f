import Losses

extension Reference {
    /// Evaluates any loss given as data (`AnyLoss` + `LossArguments`): the entry point
    /// that golden files, generated cases and the command line use. It forwards to the
    /// loss's own `evaluate`, so both paths compute the very same thing.
    ///
    /// - Throws: `.target` when the target's kind does not fit the loss (class indices
    ///   for anything but `cross_entropy`/`nll`, real values for `nll`); `.shape` when
    ///   `gaussian_nll` has no `variance` or another loss is given one; and whatever the
    ///   loss itself throws.
    public static func evaluate<T: LossReal>(
        _ loss: AnyLoss, _ arguments: LossArguments<T>, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let input = arguments.input, upstream = arguments.upstream
        try LossArgumentCheck.variance(arguments.variance != nil, for: loss)
        switch (loss, arguments.target) {
        case (.mse(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.l1(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.huber(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.smoothL1(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.bce(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.bceWithLogits(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.crossEntropy(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.crossEntropy(let l), .classes(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.nll(let l), .classes(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.klDiv(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.poissonNLL(let l), .values(let t)): return try evaluate(l, input: input, target: t, upstream: upstream, gradients: gradients)
        case (.gaussianNLL(let l), .values(let t)):
            return try evaluate(l, input: input, target: t, variance: arguments.variance!, upstream: upstream, gradients: gradients)
        case (_, let target):
            throw LossArgumentCheck.targetKindError(for: loss, target: target)
        }
    }
}

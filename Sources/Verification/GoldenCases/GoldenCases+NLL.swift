import Losses

extension GoldenCases {
    /// `nll` (input = log-probabilities, not checked): inputs `[C]`, `[N, C]` and
    /// `[N, C, d1, ..., dk]`; every reduction; class weights (a zero total weight and a
    /// negative weight, unguarded as in PyTorch); `ignore_index` (the default, a real
    /// class, an all-ignored batch); infinite and NaN entries (only the target's entry is
    /// read); and the target, shape and option errors.
    static var nll: [GoldenCaseDefinition] {
        func nll(_ reduction: Reduction = .mean, weight: Tensor<Double>? = nil, ignoreIndex: Int = -100) -> AnyLoss {
            .nll(NLLLoss(reduction: reduction, weight: weight, ignoreIndex: ignoreIndex))
        }
        // Log-softmax-like rows (any values are accepted).
        let x34 = t([3, 4], [f(-1.2), f(-2.5), f(-0.3), -4,
                             f(-0.05), -3, -6, f(-3.1),
                             -2, -2, f(-1.4), f(-0.9)])
        let y3 = ix([3], [2, 0, 3])
        let w4 = t([0.5, 2, 1, f(1.7)])
        let x2322 = pattern([2, 3, 2, 2], stride: 5, modulus: 13, scale: 0.375, offset: -2.5)
        let y222 = ix([2, 2, 2], [0, 2, 1, 1, 2, 0, 1, 2])
        return [
            make("unbatched-mean", nll(.mean), input: t([f(-1.2), f(-2.5), f(-0.3)]), classes: ix([], [2])),
            make("unbatched-none-upstream", nll(.none), input: t([f(-1.2), f(-2.5), f(-0.3)]), classes: ix([], [0]),
                 upstream: s(3)),
            make("batched-mean", nll(.mean), input: x34, classes: y3),
            make("batched-sum", nll(.sum), input: x34, classes: y3),
            make("batched-none-upstream", nll(.none), input: x34, classes: y3, upstream: t([2, -0.5, 0])),
            make("batched-sum-scalar-upstream", nll(.sum), input: x34, classes: y3, upstream: s(-0.25)),
            make("k-dim-mean", nll(.mean), input: x2322, classes: y222),
            make("k-dim-none-upstream", nll(.none), input: x2322, classes: y222,
                 upstream: t([2, 2, 2], [1, -1, 0.5, 2, 0, 1.5, -0.25, 1])),
            make("empty-batch-mean", nll(.mean), input: t([0, 3], []), classes: ix([0], [])),
            make("positive-inputs", nll(.none), input: t([2, 2], [3, f(0.5), 1e6, -1e6]), classes: ix([2], [0, 1])),
            // Class weights.
            make("weights-mean", nll(.mean, weight: w4), input: x34, classes: y3),
            make("weights-sum", nll(.sum, weight: w4), input: x34, classes: y3),
            make("weights-none-upstream", nll(.none, weight: w4), input: x34, classes: y3, upstream: t([1, 2, -1])),
            make("weights-k-dim-mean", nll(.mean, weight: t([1, 0.25, 3])), input: x2322, classes: y222),
            // The targets' total weight is 0: mean is 0/0 = NaN, and so is the gradient.
            make("zero-total-weight-mean", nll(.mean, weight: t([0, 1, 1, 2])), input: x34, classes: ix([3], [0, 0, 0])),
            make("negative-weight-mean", nll(.mean, weight: t([-1, 1, 2, 0.5])), input: x34, classes: y3),
            // ignore_index.
            make("ignore-default-mean", nll(.mean), input: x34, classes: ix([3], [2, -100, 3])),
            make("ignore-class-1-weights-mean", nll(.mean, weight: w4, ignoreIndex: 1), input: x34, classes: ix([3], [1, 0, 3])),
            make("ignore-k-dim-sum", nll(.sum, ignoreIndex: -1), input: x2322, classes: ix([2, 2, 2], [0, -1, 1, -1, 2, 0, -1, 2])),
            make("all-ignored-mean", nll(.mean), input: x34, classes: ix([3], [-100, -100, -100])),
            make("all-ignored-sum", nll(.sum, weight: w4), input: x34, classes: ix([3], [-100, -100, -100])),
            make("all-ignored-none", nll(.none, ignoreIndex: 3), input: x34, classes: ix([3], [3, 3, 3])),
            // Non-finite entries: only the target's entry is read.
            make("infinite-entries-none", nll(.none), input: t([3, 3], [-inf, 0, f(-0.5), -inf, f(-0.2), inf, 1, 2, 3]),
                 classes: ix([3], [0, 1, 2])),
            make("infinite-target-entry-mean", nll(.mean), input: t([2, 2], [-inf, f(-0.7), f(-0.1), -2]), classes: ix([2], [0, 1])),
            make("nan-entries-none", nll(.none), input: t([2, 3], [nan, -1, -2, -1, nan, -3]), classes: ix([2], [0, 2])),
            // Errors.
            make("target-out-of-range", nll(), input: x34, classes: ix([3], [2, 4, 0]), error: .target),
            make("target-negative", nll(), input: x34, classes: ix([3], [2, -1, 0]), error: .target),
            make("float-target", nll(), input: x34, target: t([2, 0, 3]), error: .target),
            make("target-shape-mismatch", nll(), input: x34, classes: ix([4], [0, 1, 2, 3]), error: .shape),
            make("target-k-dim-shape-mismatch", nll(), input: x2322, classes: ix([2, 2], [0, 1, 2, 0]), error: .shape),
            make("scalar-input", nll(), input: s(-1), classes: ix([], [0]), error: .shape),
            make("upstream-shape-mismatch", nll(.none), input: x34, classes: y3, upstream: s(1), error: .shape),
            make("weight-wrong-length", nll(weight: t([1, 2, 3, 4, 5])), input: x34, classes: y3, error: .option),
            make("batchmean-rejected", nll(.batchmean), input: x34, classes: y3, error: .option),
            make("unknown-reduction", nll(), input: x34, classes: y3, error: .option, unknownReduction: "average"),
        ] + generated(NLLLoss.name, seed: 0x601D_0008, count: 3,
                      options: GeneratorOptions(regimes: [.standardNormal], maxElements: 16))
    }
}

import Losses

extension GoldenCases {
    /// `cross_entropy`: class-index and class-probability targets; inputs `[C]`, `[N, C]`
    /// and `[N, C, d1, ..., dk]`; every reduction; class weights; `ignore_index` (the
    /// default -100, a real class, -1, an all-ignored batch); label smoothing alone, with
    /// weights and with `ignore_index`, and 1; huge logits, `-inf` masked classes (the
    /// target's class masked too), an ignored row of all `-inf` (deviation 4), NaN and
    /// `+inf` logits, one class; and the target, shape and option errors.
    static var crossEntropy: [GoldenCaseDefinition] {
        func ce(_ reduction: Reduction = .mean, weight: Tensor<Double>? = nil, ignoreIndex: Int = -100,
                labelSmoothing: Double = 0) -> AnyLoss {
            .crossEntropy(CrossEntropyLoss(reduction: reduction, weight: weight, ignoreIndex: ignoreIndex,
                                           labelSmoothing: labelSmoothing))
        }
        let x34 = t([3, 4], [f(0.2), -1, 2.5, f(0.7),
                             -0.5, f(1.3), 0, f(-2.2),
                             3, 1, f(-0.4), 0.25])
        let y3 = ix([3], [2, 0, 3])
        let w4 = t([0.5, 2, 1, f(1.7)])
        let p34 = t([3, 4], [0.25, 0.25, 0.5, 0,
                             0, 1, 0, 0,
                             0.125, 0.375, 0.125, 0.375])
        let x2322 = pattern([2, 3, 2, 2], stride: 5, modulus: 13, scale: 0.375)
        let y222 = ix([2, 2, 2], [0, 2, 1, 1, 2, 0, 1, 2])
        let x232 = pattern([2, 3, 2], stride: 7, modulus: 11, scale: 0.5)
        let p232 = t([2, 3, 2], [0.25, 0.5, 0.5, 0, 0.25, 0.5,
                                 1, 0.125, 0, 0.375, 0, 0.5])  // each (n, d) column sums to 1 over C
        return [
            // Class-index targets: shapes and reductions.
            make("unbatched-mean", ce(.mean), input: t([f(0.2), -1, 2.5, f(0.7)]), classes: ix([], [2])),
            make("unbatched-none-upstream", ce(.none), input: t([f(0.2), -1, 2.5, f(0.7)]), classes: ix([], [1]),
                 upstream: s(-1.5)),
            make("batched-mean", ce(.mean), input: x34, classes: y3),
            make("batched-sum", ce(.sum), input: x34, classes: y3),
            make("batched-none-upstream", ce(.none), input: x34, classes: y3, upstream: t([2, -0.5, 0])),
            make("batched-mean-scalar-upstream", ce(.mean), input: x34, classes: y3, upstream: s(0.5)),
            make("k-dim-mean", ce(.mean), input: x2322, classes: y222),
            make("k-dim-none-upstream", ce(.none), input: x2322, classes: y222,
                 upstream: t([2, 2, 2], [1, -1, 0.5, 2, 0, 1.5, -0.25, 1])),
            make("k-dim-1-sum", ce(.sum), input: x232, classes: ix([2, 2], [1, 0, 2, 2])),
            make("empty-batch-mean", ce(.mean), input: t([0, 3], []), classes: ix([0], [])),
            make("empty-batch-sum", ce(.sum), input: t([0, 3], []), classes: ix([0], [])),
            make("one-class", ce(.none), input: t([3, 1], [2, -1, 0.5]), classes: ix([3], [0, 0, 0])),
            // Class weights: mean divides by the summed weight of the targets.
            make("weights-mean", ce(.mean, weight: w4), input: x34, classes: y3),
            make("weights-sum", ce(.sum, weight: w4), input: x34, classes: y3),
            make("weights-none-upstream", ce(.none, weight: w4), input: x34, classes: y3, upstream: t([1, 2, -1])),
            make("weights-k-dim-mean", ce(.mean, weight: t([1, 0.25, 3])), input: x2322, classes: y222),
            make("weights-with-zero-mean", ce(.mean, weight: t([0, 1, 1, 2])), input: x34, classes: y3),
            // ignore_index.
            make("ignore-default-mean", ce(.mean), input: x34, classes: ix([3], [2, -100, 3])),
            make("ignore-class-1-weights-mean", ce(.mean, weight: w4, ignoreIndex: 1), input: x34, classes: ix([3], [1, 0, 3])),
            make("ignore-minus-one-k-dim-sum", ce(.sum, ignoreIndex: -1), input: x2322,
                 classes: ix([2, 2, 2], [0, -1, 1, -1, 2, 0, -1, 2])),
            make("ignore-none-upstream", ce(.none, ignoreIndex: 0), input: x34, classes: ix([3], [0, 1, 0]),
                 upstream: t([5, 1.5, -2])),
            // All ignored: mean is 0/0 = NaN, sum 0, none zeros; the gradient is 0.
            make("all-ignored-mean", ce(.mean), input: x34, classes: ix([3], [-100, -100, -100])),
            make("all-ignored-sum", ce(.sum, weight: w4), input: x34, classes: ix([3], [-100, -100, -100])),
            make("all-ignored-none", ce(.none, ignoreIndex: 2), input: x34, classes: ix([3], [2, 2, 2])),
            // Label smoothing.
            make("smoothing-0.1-mean", ce(.mean, labelSmoothing: 0.1), input: x34, classes: y3),
            make("smoothing-weights-mean", ce(.mean, weight: w4, labelSmoothing: 0.25), input: x34, classes: y3),
            make("smoothing-weights-ignore-mean", ce(.mean, weight: w4, ignoreIndex: 0, labelSmoothing: 0.125),
                 input: x34, classes: ix([3], [2, 0, 3])),
            make("smoothing-weights-ignore-k-dim-sum", ce(.sum, weight: t([1, 0.25, 3]), ignoreIndex: -100, labelSmoothing: 0.5),
                 input: x2322, classes: ix([2, 2, 2], [0, -100, 1, 1, 2, -100, 1, 2])),
            make("smoothing-none-upstream", ce(.none, labelSmoothing: 0.3), input: x34, classes: y3, upstream: t([1, -2, 0.5])),
            make("smoothing-one-mean", ce(.mean, labelSmoothing: 1), input: x34, classes: y3),
            make("smoothing-all-ignored-mean", ce(.mean, labelSmoothing: 0.2), input: x34, classes: ix([3], [-100, -100, -100])),
            // Probability targets: mean divides by the row count (weights do not enter it).
            make("probabilities-mean", ce(.mean), input: x34, target: p34),
            make("probabilities-sum", ce(.sum), input: x34, target: p34),
            make("probabilities-unbatched-none", ce(.none), input: t([1, 2, f(0.5)]), target: t([0.25, 0.75, 0])),
            make("probabilities-weights-mean", ce(.mean, weight: w4), input: x34, target: p34),
            make("probabilities-smoothing-weights-mean", ce(.mean, weight: w4, labelSmoothing: 0.2), input: x34, target: p34),
            make("probabilities-k-dim-none-upstream", ce(.none), input: x232, target: p232, upstream: t([2, 2], [1, -1, 2, 0.5])),
            make("probabilities-k-dim-smoothing-mean", ce(.mean, labelSmoothing: 0.1), input: x232, target: p232),
            // The target is not validated: it need not sum to 1 nor be non-negative.
            make("probabilities-unnormalized-none", ce(.none), input: x34,
                 target: t([3, 4], [1, 1, 0, 0, 0.5, -0.25, 0, 2, 0, 0, 0, 0])),
            // Huge logits: softmax saturates; the loss is the logit gap or about e^-gap.
            make("huge-logits-none", ce(.none), input: t([4, 3], [1e4, 0, -1e4, 1e4, f(1e4 + 1), -1e4, 1e30, -1e30, 0, 100, 90, 80].map(f)),
                 classes: ix([4], [0, 0, 1, 2])),
            make("huge-logits-mean", ce(.mean), input: t([2, 3], [1e4, 0, -1e4, 1e30, -1e30, 0].map(f)), classes: ix([2], [0, 2])),
            // A confident, correct row next to an uncertain one (the scale of the norm-wise
            // bound is set by the uncertain row).
            make("confident-and-uncertain-rows-none", ce(.none), input: t([2, 4], [40, 0, 0, 0, 0.5, 0.25, 0, 1]),
                 classes: ix([2], [0, 3])),
            // -inf logits mask classes; a masked target class gives an infinite loss.
            make("masked-classes-mean", ce(.mean), input: t([2, 4], [1, -inf, 2, -inf, -inf, 0.5, -inf, -1]),
                 classes: ix([2], [2, 1])),
            make("masked-target-class-none", ce(.none), input: t([2, 3], [1, -inf, 2, 0, 1, 2]), classes: ix([2], [1, 2])),
            make("masked-classes-smoothing-none", ce(.none, labelSmoothing: 0.1), input: t([2, 3], [1, -inf, 2, 0, 1, 2]),
                 classes: ix([2], [0, 2])),
            // An ignored row of all -inf contributes 0 and gradient 0 (deviation 4).
            make("ignored-row-all-masked-mean", ce(.mean), input: t([2, 3], [-inf, -inf, -inf, 1, 2, 3]),
                 classes: ix([2], [-100, 1])),
            make("probabilities-zero-on-masked-class-mean", ce(.mean), input: t([2, 3], [1, -inf, 2, -inf, 0, 1]),
                 target: t([2, 3], [0.5, 0, 0.5, 0, 0.25, 0.75])),
            // NaN and +inf logits make their row NaN.
            make("nan-logit-none", ce(.none), input: t([2, 3], [1, nan, 2, 0, 1, 2]), classes: ix([2], [0, 1])),
            make("nan-logit-mean", ce(.mean), input: t([2, 3], [1, nan, 2, 0, 1, 2]), classes: ix([2], [0, 1])),
            make("infinite-logit-none", ce(.none), input: t([2, 3], [inf, 0, 2, 0, 1, 2]), classes: ix([2], [0, 1])),
            // Errors.
            make("target-out-of-range", ce(), input: x34, classes: ix([3], [2, 4, 0]), error: .target),
            make("target-negative", ce(), input: x34, classes: ix([3], [2, -1, 0]), error: .target),
            make("target-out-of-range-k-dim", ce(.sum), input: x2322, classes: ix([2, 2, 2], [0, 2, 1, 1, 3, 0, 1, 2]),
                 error: .target),
            make("target-shape-mismatch", ce(), input: x34, classes: ix([2], [0, 1]), error: .shape),
            make("target-k-dim-shape-mismatch", ce(), input: x2322, classes: ix([2, 2], [0, 1, 2, 0]), error: .shape),
            make("probability-target-shape-mismatch", ce(), input: x34, target: t([3, 3], Array(repeating: 0.25, count: 9)),
                 error: .shape),
            make("scalar-input", ce(), input: s(1), classes: ix([], [0]), error: .shape),
            make("zero-classes", ce(), input: t([2, 0], []), classes: ix([2], [0, 0]), error: .shape),
            make("upstream-shape-mismatch", ce(.none), input: x34, classes: y3, upstream: t([2], [1, 1]), error: .shape),
            make("weight-wrong-length", ce(weight: t([1, 2, 3])), input: x34, classes: y3, error: .option),
            make("label-smoothing-above-one", ce(labelSmoothing: 1.5), input: x34, classes: y3, error: .option),
            // PyTorch treats a negative smoothing as 0; this library rejects it (deviation 2).
            make("label-smoothing-negative", ce(labelSmoothing: -0.1), input: x34, classes: y3, error: .option),
            make("label-smoothing-nan", ce(labelSmoothing: nan), input: x34, classes: y3, error: .option),
            make("probabilities-non-negative-ignore-index", ce(ignoreIndex: 0), input: x34, target: p34, error: .option),
            make("batchmean-rejected", ce(.batchmean), input: x34, classes: y3, error: .option),
            make("unknown-reduction", ce(), input: x34, classes: y3, error: .option, unknownReduction: "avg"),
        ] + generated(CrossEntropyLoss.name, seed: 0x601D_0007, count: 2,
                      options: GeneratorOptions(regimes: [.standardNormal], maxElements: 16, classIndexTargets: true))
          + generated(CrossEntropyLoss.name, seed: 0x601D_0017, count: 2,
                      options: GeneratorOptions(regimes: [.softTargets], maxElements: 16))
    }
}

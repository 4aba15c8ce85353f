import Losses

extension GoldenCases {
    /// `bce_with_logits`: every reduction and shape family, `weight` and `pos_weight` in
    /// their broadcast shapes (`pos_weight` `[C]` along the last dimension, also of a
    /// k-dimensional input, `[N, 1]`, `[]`, the full shape) alone and together, targets
    /// outside [0, 1] (not range-checked), huge and infinite logits (the limits of
    /// deviation 4), NaN, and the shape and option errors.
    static var bceWithLogits: [GoldenCaseDefinition] {
        func bcel(_ reduction: Reduction = .mean, weight: Tensor<Double>? = nil, posWeight: Tensor<Double>? = nil) -> AnyLoss {
            .bceWithLogits(BCEWithLogitsLoss(reduction: reduction, weight: weight, posWeight: posWeight))
        }
        let x23 = t([2, 3], [f(0.3), -1.5, 2, 0, f(-0.7), 4.25])
        let y23 = t([2, 3], [1, 0, 1, 1, 0, 0])
        let soft23 = t([2, 3], [0.25, f(0.6), 1, 0.5, 0, f(0.9)])
        let x234 = pattern([2, 3, 4], stride: 7, modulus: 13, scale: 0.5)
        let y234 = pattern([2, 3, 4], stride: 5, modulus: 5, scale: 0.25, offset: 0.5)
        return [
            make("mean-batched", bcel(.mean), input: x23, target: y23),
            make("sum-batched", bcel(.sum), input: x23, target: soft23),
            make("none-batched-upstream", bcel(.none), input: x23, target: soft23,
                 upstream: t([2, 3], [1, -2, 0.5, 0, 3, -0.75])),
            make("mean-scalar-upstream", bcel(.mean), input: x23, target: y23, upstream: s(-2)),
            make("mean-scalar", bcel(.mean), input: s(f(-0.4)), target: s(1)),
            make("none-vector", bcel(.none), input: t([-3, 0, 3, f(0.1)]), target: t([0, 0.5, 1, 0.25])),
            make("mean-k-dim", bcel(.mean), input: x234, target: y234),
            make("empty-mean", bcel(.mean), input: t([0, 4], []), target: t([0, 4], [])),
            // Targets are not range-checked: values outside [0, 1] are evaluated by the formula.
            make("targets-outside-unit-interval", bcel(.none), input: t([1, -2, f(0.5), 3]), target: t([2, -1, 1.5, -0.5])),
            // weight.
            make("weight-full-sum", bcel(.sum, weight: t([2, 3], [1, 0.5, 2, 0, 1.5, 3])), input: x23, target: soft23),
            make("weight-per-class-mean", bcel(.mean, weight: t([0.5, 2, 1.25])), input: x23, target: y23),
            make("weight-per-row-none", bcel(.none, weight: t([2, 1], [2, 0.25])), input: x23, target: soft23),
            make("weight-scalar-mean", bcel(.mean, weight: s(3)), input: x23, target: y23),
            // pos_weight: [C] (per class along the last dimension), [N, 1], [], full.
            make("pos-weight-per-class-mean", bcel(.mean, posWeight: t([1, 3, 0.5])), input: x23, target: y23),
            make("pos-weight-per-class-soft-none", bcel(.none, posWeight: t([1, 3, 0.5])), input: x23, target: soft23,
                 upstream: t([2, 3], [1, 0.5, -1, 2, 1, 0.25])),
            make("pos-weight-per-row-sum", bcel(.sum, posWeight: t([2, 1], [4, 0.25])), input: x23, target: soft23),
            make("pos-weight-scalar-mean", bcel(.mean, posWeight: s(2.5)), input: x23, target: y23),
            make("pos-weight-full-mean", bcel(.mean, posWeight: t([2, 3], [1, 2, 3, 0.5, 0.25, 0])), input: x23, target: soft23),
            make("pos-weight-last-dimension-of-k-dim", bcel(.mean, posWeight: t([1, 2, 0.5, 4])), input: x234, target: y234),
            make("weight-and-pos-weight-sum", bcel(.sum, weight: t([2, 1], [0.5, 2]), posWeight: t([1, 3, 0.5])),
                 input: x23, target: soft23),
            make("weight-and-pos-weight-k-dim-none", bcel(.none, weight: t([3, 1], [1, 0.5, 2]), posWeight: t([1, 2, 0.5, 4])),
                 input: x234, target: y234, upstream: pattern([2, 3, 4], stride: 3, modulus: 7, scale: 0.5)),
            // Huge logits: the loss is |x| or about e^-|x|, the gradient sigmoid(x) - y.
            make("huge-logits-none", bcel(.none), input: t([1e4, -1e4, 1e4, -1e4, 1e30, -1e30, 88, -88].map(f)),
                 target: t([1, 0, 0, 1, 0.5, 0.25, 1, 0])),
            make("huge-logits-pos-weight-mean", bcel(.mean, posWeight: t([2, 0.5])), input: t([2, 2], [1e4, -1e4, 50, -50]),
                 target: t([2, 2], [1, 1, 0.5, 0])),
            // Infinite logits: the limits (deviation 4; PyTorch gives NaN from 0 * inf in some).
            make("infinite-logits-none", bcel(.none), input: t([inf, inf, -inf, -inf, inf, -inf]),
                 target: t([1, 0, 0, 1, 0.5, 0.25])),
            make("infinite-logits-pos-weight-none", bcel(.none, posWeight: t([3])), input: t([inf, inf, -inf, -inf, inf]),
                 target: t([1, 0, 0, 1, 0.5])),
            make("nan-logit-none", bcel(.none), input: t([nan, 1, 2]), target: t([1, nan, 0])),
            make("nan-logit-mean", bcel(.mean), input: t([nan, 1, 2]), target: t([1, 0, 0])),
            // Errors.
            make("target-shape-mismatch", bcel(), input: x23, target: t([1, 0, 1]), error: .shape),
            make("weight-does-not-broadcast", bcel(weight: t([0.5, 2])), input: x23, target: y23, error: .shape),
            make("pos-weight-does-not-broadcast", bcel(posWeight: t([2], [1, 2])), input: x23, target: y23, error: .shape),
            make("pos-weight-enlarges-input", bcel(posWeight: t([4, 2, 3], Array(repeating: 1, count: 24))),
                 input: x23, target: y23, error: .shape),
            make("upstream-shape-mismatch", bcel(.none), input: x23, target: y23, upstream: t([2, 2], [1, 1, 1, 1]), error: .shape),
            make("batchmean-rejected", bcel(.batchmean), input: x23, target: y23, error: .option),
            make("unknown-reduction", bcel(), input: x23, target: y23, error: .option, unknownReduction: "average"),
        ] + generated(BCEWithLogitsLoss.name, seed: 0x601D_0006, count: 3,
                      options: GeneratorOptions(regimes: [.standardNormal, .binaryTargets, .softTargets], maxElements: 12))
    }
}


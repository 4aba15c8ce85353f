import Foundation
import Testing
import ReferenceLosses

/// Worked examples for `cross_entropy`. Expected values are the formulas of SEMANTICS.md
/// evaluated directly in the test with Foundation's `exp`/`log` and the UNshifted
/// log-sum-exp `L = log(sum_c e^{x_c})` (safe for logits this small), i.e. independently of
/// the implementation's shifted evaluation, expm1 trick and compensated sums.
///
/// Recurring values: for logits [1, 2, 3] (or any permutation) `L = log(e + e^2 + e^3)`
/// (about 3.4076), `p = (e, e^2, e^3) / (e + e^2 + e^3)`; for [0, 0, 0] every `logp = -log 3`,
/// `p = 1/3`; for [-inf, 0, 0] `logp = (-inf, -log 2, -log 2)`, `p = (0, 1/2, 1/2)`.
@Suite("Reference: cross_entropy")
struct CrossEntropyTests {
    typealias Check = ClassCheck
    static let L = log(exp(1.0) + exp(2.0) + exp(3.0))
    /// softmax([1, 2, 3]) from the definition.
    static let p123 = [1.0, 2, 3].map { exp($0) / (exp(1.0) + exp(2.0) + exp(3.0)) }

    // MARK: class-index targets

    @Test(arguments: [Reduction.none, .sum, .mean])
    func unbatchedInput(reduction: Reduction) throws {
        // input [1, 2, 3], target 0 (shape []): l = L - x_0 = L - 1; den = 1, output shape [].
        let r = try Reference.evaluate(CrossEntropyLoss(reduction: reduction), input: Check.reals([1.0, 2, 3]),
                                       target: Tensor<Int>(scalar: 0), gradients: .all)
        Check.close(r.output, [Self.L - 1], shape: [], "unbatched [C], \(reduction)")
        // d/dx = p - onehot(0)
        let p = Self.p123
        Check.close(r.gradInput, [p[0] - 1, p[1], p[2]], shape: [3], "unbatched [C] gradient, \(reduction)")
        #expect(r.gradTarget == nil, "class-index targets have no target gradient")
    }

    /// Two rows: [1, 2, 3] with y = 2 (l0 = L - 3) and [0, 0, 0] with y = 1 (l1 = log 3).
    static let twoRows = try! Check.reals(shape: [2, 3], scalars: [1.0, 2, 3, 0, 0, 0])
    static let twoTargets = Check.indices([2, 1])

    @Test func everyReduction() throws {
        let l0 = Self.L - 3, l1 = log(3.0), p = Self.p123, third = 1.0 / 3
        // Unreduced per-row gradients p - onehot(y).
        let g0 = [p[0], p[1], p[2] - 1], g1 = [third, third - 1, third]

        let none = try Reference.evaluate(CrossEntropyLoss(reduction: .none), input: Self.twoRows, target: Self.twoTargets, gradients: .input)
        Check.close(none.output, [l0, l1], shape: [2], "none")
        Check.close(none.gradInput, g0 + g1, shape: [2, 3], "none gradient (upstream ones)")

        let sum = try Reference.evaluate(CrossEntropyLoss(reduction: .sum), input: Self.twoRows, target: Self.twoTargets, gradients: .input)
        Check.close(sum.output, [l0 + l1], shape: [], "sum")
        Check.close(sum.gradInput, g0 + g1, "sum gradient")

        // mean: den = 2 (two non-ignored targets, no weights)
        let mean = try Reference.evaluate(CrossEntropyLoss(), input: Self.twoRows, target: Self.twoTargets, gradients: .input)
        Check.close(mean.output, [(l0 + l1) / 2], shape: [], "mean")
        Check.close(mean.gradInput, (g0 + g1).map { $0 / 2 }, "mean gradient")

        // Scalar upstream 3 for mean: gradient 3 (p - onehot) / 2.
        let scaled = try Reference.evaluate(CrossEntropyLoss(), input: Self.twoRows, target: Self.twoTargets,
                                            upstream: Tensor<Double>(scalar: 3.0), gradients: .input)
        Check.close(scaled.gradInput, (g0 + g1).map { 3 * $0 / 2 }, "mean gradient, upstream 3")
    }

    @Test func noneWithUpstream() throws {
        // upstream [2, -0.5]: row i's gradient is (p - onehot(y_i)) g_i.
        let p = Self.p123, third = 1.0 / 3
        let r = try Reference.evaluate(CrossEntropyLoss(reduction: .none), input: Self.twoRows, target: Self.twoTargets,
                                       upstream: Check.reals([2.0, -0.5]), gradients: .input)
        Check.close(r.output, [Self.L - 3, log(3.0)], "none output ignores the upstream")
        Check.close(r.gradInput, [2 * p[0], 2 * p[1], 2 * (p[2] - 1), -0.5 * third, -0.5 * (third - 1), -0.5 * third],
                    "none gradient, upstream [2, -0.5]")
    }

    @Test func weightedMeanDividesByTargetWeights() throws {
        // w = [1, 2, 0.5]; row 0 has y = 2 (w = 0.5), row 1 has y = 1 (w = 2).
        // l = [0.5 (L - 3), 2 log 3]; mean = (0.5 (L - 3) + 2 log 3) / (0.5 + 2).
        let loss = CrossEntropyLoss(weight: Check.reals([1.0, 2, 0.5]))
        let r = try Reference.evaluate(loss, input: Self.twoRows, target: Self.twoTargets, gradients: .input)
        Check.close(r.output, [(0.5 * (Self.L - 3) + 2 * log(3.0)) / 2.5], "weighted mean, den = 2.5")
        // gradient w[y] (p - onehot(y)) / 2.5
        let p = Self.p123, third = 1.0 / 3
        Check.close(r.gradInput, [0.5 * p[0], 0.5 * p[1], 0.5 * (p[2] - 1), 2 * third, 2 * (third - 1), 2 * third].map { $0 / 2.5 },
                    "weighted mean gradient")
        var none = loss
        none.reduction = .none
        Check.close(try Reference.evaluate(none, input: Self.twoRows, target: Self.twoTargets).output,
                    [0.5 * (Self.L - 3), 2 * log(3.0)], "weighted none")
        none.reduction = .sum
        Check.close(try Reference.evaluate(none, input: Self.twoRows, target: Self.twoTargets).output,
                    [0.5 * (Self.L - 3) + 2 * log(3.0)], "weighted sum")
    }

    @Test func ignoredRowsLeaveTheDenominator() throws {
        // Rows [1, 2, 3] y = 2, [0, 0, 0] y = 1, and an ignored row of all -inf logits.
        // w = [1, 2, 0.5]: l = [0.5 (L - 3), 2 log 3, 0]; mean den = 0.5 + 2 (the ignored row's
        // class does not count). The ignored row's gradient is 0, not NaN (deviation 4).
        let input = try Check.reals(shape: [3, 3], scalars: [1.0, 2, 3, 0, 0, 0, -.infinity, -.infinity, -.infinity])
        let target = Check.indices([2, 1, -100])
        var loss = CrossEntropyLoss(reduction: .none, weight: Check.reals([1.0, 2, 0.5]))
        let none = try Reference.evaluate(loss, input: input, target: target)
        Check.close(none.output, [0.5 * (Self.L - 3), 2 * log(3.0), 0], "none with an ignored row")
        loss.reduction = .mean
        let mean = try Reference.evaluate(loss, input: input, target: target, gradients: .input)
        Check.close(mean.output, [(0.5 * (Self.L - 3) + 2 * log(3.0)) / 2.5], "mean with an ignored row")
        let p = Self.p123, third = 1.0 / 3
        Check.close(mean.gradInput, [0.5 * p[0], 0.5 * p[1], 0.5 * (p[2] - 1), 2 * third, 2 * (third - 1), 2 * third].map { $0 / 2.5 } + [0, 0, 0],
                    "ignored all -inf row has gradient 0")
    }

    @Test func ignoreIndexMayBeAValidClass() throws {
        // ignore_index = 1: row 0 (y = 1) is ignored; row 1 = [0, 0, 0] with y = 0 gives log 3.
        let loss = CrossEntropyLoss(ignoreIndex: 1)
        let r = try Reference.evaluate(loss, input: Self.twoRows, target: Check.indices([1, 0]), gradients: .input)
        Check.close(r.output, [log(3.0)], "mean over the single non-ignored row")
        let third = 1.0 / 3
        Check.close(r.gradInput, [0, 0, 0, third - 1, third, third], "ignore_index = 1")
    }

    @Test func allIgnored() throws {
        // Nothing counts: mean = 0 / 0 = NaN, sum = 0, none = zeros; gradients 0 (not NaN).
        let target = Check.indices([-100, -100])
        for reduction in [Reduction.none, .sum, .mean] {
            let r = try Reference.evaluate(CrossEntropyLoss(reduction: reduction, labelSmoothing: 0.1), input: Self.twoRows,
                                           target: target, gradients: .input)
            let expected: [Double] = switch reduction {
            case .none: [0, 0]
            case .sum: [0]
            default: [.nan]
            }
            Check.close(r.output, expected, "all ignored, \(reduction)")
            Check.close(r.gradInput, Array(repeating: 0, count: 6), "all ignored gradient, \(reduction)")
        }
    }

    @Test func zeroTotalWeightIsUnguarded() throws {
        // w = [1, 0, 0], targets [2, 1]: den = 0 and every l_i = 0, so mean = 0 / 0 = NaN and the
        // gradient w[y] (p - onehot) / 0 = 0 / 0 = NaN (as PyTorch); sum stays 0.
        let weight = Check.reals([1.0, 0, 0])
        let mean = try Reference.evaluate(CrossEntropyLoss(weight: weight), input: Self.twoRows, target: Self.twoTargets, gradients: .input)
        Check.close(mean.output, [.nan], "zero total weight, mean")
        Check.close(mean.gradInput, Array(repeating: .nan, count: 6), "zero total weight, gradient")
        let sum = try Reference.evaluate(CrossEntropyLoss(reduction: .sum, weight: weight), input: Self.twoRows, target: Self.twoTargets)
        Check.close(sum.output, [0], "zero total weight, sum")
    }

    // MARK: label smoothing

    @Test func labelSmoothingAlone() throws {
        // eps = 0.1, C = 3. Row [1, 2, 3], y = 2: nll = L - 3, smooth = -sum_c logp_c = 3L - 6,
        //   l0 = 0.9 (L - 3) + (0.1/3)(3L - 6).
        // Row [0, 0, 0], y = 1: nll = log 3, smooth = 3 log 3, l1 = 0.9 log 3 + 0.1 log 3 = log 3.
        let eps = 0.1
        let l0 = (1 - eps) * (Self.L - 3) + eps / 3 * (3 * Self.L - 6), l1 = log(3.0)
        let loss = CrossEntropyLoss(labelSmoothing: eps)
        let r = try Reference.evaluate(loss, input: Self.twoRows, target: Self.twoTargets, gradients: .input)
        Check.close(r.output, [(l0 + l1) / 2], "label_smoothing 0.1, mean")
        // Without weights the gradient is p - t with the smoothed target t = 0.9 onehot(y) + 0.1/3,
        // i.e. (1 - eps)(p - onehot) + (eps/C)(C p - 1): here divided by den = 2.
        let p = Self.p123, third = 1.0 / 3, s = eps / 3
        Check.close(r.gradInput, [p[0] - s, p[1] - s, p[2] - 0.9 - s, third - s, third - 0.9 - s, third - s].map { $0 / 2 },
                    "label_smoothing 0.1 gradient")
        var none = loss
        none.reduction = .none
        Check.close(try Reference.evaluate(none, input: Self.twoRows, target: Self.twoTargets).output, [l0, l1], "label_smoothing none")
        none.reduction = .sum
        Check.close(try Reference.evaluate(none, input: Self.twoRows, target: Self.twoTargets).output, [l0 + l1], "label_smoothing sum")
    }

    @Test func labelSmoothingWithWeightsAndIgnoreIndex() throws {
        // w = [1, 2, 0.5] (sum 3.5), eps = 0.2, C = 3. Rows: [1, 2, 3] y = 0; [0, 0, 0] ignored;
        // [3, 2, 1] y = 1. Both non-ignored rows have L = log(e + e^2 + e^3).
        //   row 0: nll = -1 (1 - L) = L - 1; smooth = -(1(1 - L) + 2(2 - L) + 0.5(3 - L)) = 3.5L - 6.5
        //   row 2: nll = -2 (2 - L) = 2L - 4; smooth = -(1(3 - L) + 2(2 - L) + 0.5(1 - L)) = 3.5L - 7.5
        //   l = 0.8 nll + (0.2/3) smooth; mean den = w[0] + w[1] = 3 (the ignored row does not count).
        let eps = 0.2, L = Self.L
        let l0 = 0.8 * (L - 1) + eps / 3 * (3.5 * L - 6.5)
        let l2 = 0.8 * (2 * L - 4) + eps / 3 * (3.5 * L - 7.5)
        let input = try Check.reals(shape: [3, 3], scalars: [1.0, 2, 3, 0, 0, 0, 3, 2, 1])
        let target = Check.indices([0, -100, 1])
        var loss = CrossEntropyLoss(weight: Check.reals([1.0, 2, 0.5]), labelSmoothing: eps)
        let r = try Reference.evaluate(loss, input: input, target: target, gradients: .input)
        Check.close(r.output, [(l0 + l2) / 3], "eps 0.2, weights, ignore: mean")
        // Gradient per row: [0.8 w[y] (p - onehot(y)) + (0.2/3)(3.5 p - w)] / 3.
        let w = [1.0, 2, 0.5], p0 = Self.p123, p2 = Array(Self.p123.reversed())
        let g0 = (0..<3).map { c in 0.8 * 1 * (p0[c] - (c == 0 ? 1 : 0)) + eps / 3 * (3.5 * p0[c] - w[c]) }
        let g2 = (0..<3).map { c in 0.8 * 2 * (p2[c] - (c == 1 ? 1 : 0)) + eps / 3 * (3.5 * p2[c] - w[c]) }
        Check.close(r.gradInput, (g0 + [0, 0, 0] + g2).map { $0 / 3 }, "eps 0.2, weights, ignore: gradient")
        loss.reduction = .none
        Check.close(try Reference.evaluate(loss, input: input, target: target).output, [l0, 0, l2], "eps 0.2, weights, ignore: none")
    }

    @Test func labelSmoothingGradientMatchesFiniteDifferences() throws {
        // An independent check of the smoothed, weighted gradient formula (also checked against
        // PyTorch's cross_entropy_loss_label_smoothing): central differences of the mean loss.
        // Tolerance: truncation h^2/6 |f'''| <= 1e-8/6 * ~10 (weights <= 2, derivatives of
        // log-softmax bounded by 1) plus rounding 2 eps |f| / h <= 1e-11: 1e-7 leaves room.
        let h = 1e-4
        let x0 = [0.3, -1.2, 2.0, 0.7, 0.1, -0.4, 1.5, 1.5, -2.0]
        let target = Check.indices([2, -100, 0])
        let loss = CrossEntropyLoss(weight: Check.reals([1.5, 0.5, 2.0]), labelSmoothing: 0.3)
        func f(_ x: [Double]) throws -> Double {
            try Reference.evaluate(loss, input: try Check.reals(shape: [3, 3], scalars: x), target: target).output.scalars[0]
        }
        let analytic = try #require(try Reference.evaluate(loss, input: try Check.reals(shape: [3, 3], scalars: x0), target: target,
                                                          gradients: .input).gradInput)
        let numeric = try (0..<9).map { k in
            var plus = x0, minus = x0
            plus[k] += h
            minus[k] -= h
            return (try f(plus) - f(minus)) / (2 * h)
        }
        Check.close(analytic, numeric, tolerance: 1e-7, "label smoothing gradient vs central differences (h = 1e-4)")
    }

    // MARK: probability targets

    @Test(arguments: [Reduction.none, .sum, .mean])
    func probabilityTargets(reduction: Reduction) throws {
        // Row [1, 2, 3] with t = [0.2, 0.3, 0.5]: l0 = -sum t (x - L) = L - (0.2 + 0.6 + 1.5) = L - 2.3.
        // Row [0, 0, 0] with t = [1, 0, 0]: l1 = log 3. mean divides by N = 2.
        let target = try Check.reals(shape: [2, 3], scalars: [0.2, 0.3, 0.5, 1, 0, 0])
        let r = try Reference.evaluate(CrossEntropyLoss(reduction: reduction), input: Self.twoRows, target: target, gradients: .all)
        let l = [Self.L - 2.3, log(3.0)]
        let den = reduction == .mean ? 2.0 : 1
        let expected = reduction == .none ? l : [(l[0] + l[1]) / den]
        Check.close(r.output, expected, shape: reduction == .none ? [2] : [], "probability targets, \(reduction)")
        // d/dinput = (p * sum t - t) / den = (p - t) / den; d/dtarget = -logp / den.
        let p = Self.p123, third = 1.0 / 3
        Check.close(r.gradInput, [p[0] - 0.2, p[1] - 0.3, p[2] - 0.5, third - 1, third, third].map { $0 / den },
                    shape: [2, 3], "probability targets input gradient, \(reduction)")
        let logp = [1 - Self.L, 2 - Self.L, 3 - Self.L] + Array(repeating: -log(3.0), count: 3)
        Check.close(r.gradTarget, logp.map { -$0 / den }, shape: [2, 3], "probability targets target gradient, \(reduction)")
    }

    @Test func probabilityTargetsWithSmoothingAndWeights() throws {
        // w = [1, 2, 0.5], eps = 0.3, C = 3: t' = 0.7 t + 0.1.
        // Row 0: t = [0.2, 0.3, 0.5] -> t' = [0.24, 0.31, 0.45]; w t' = [0.24, 0.62, 0.225] (sum 1.085);
        //   l0 = -sum w t' (x - L) = 1.085 L - (0.24 + 1.24 + 0.675) = 1.085 L - 2.155.
        // Row 1: t = [1, 0, 0] -> t' = [0.8, 0.1, 0.1]; w t' = [0.8, 0.2, 0.05] (sum 1.05); l1 = 1.05 log 3.
        // mean divides by N = 2 (weights do not enter the denominator).
        let target = try Check.reals(shape: [2, 3], scalars: [0.2, 0.3, 0.5, 1, 0, 0])
        var loss = CrossEntropyLoss(weight: Check.reals([1.0, 2, 0.5]), labelSmoothing: 0.3)
        let r = try Reference.evaluate(loss, input: Self.twoRows, target: target, gradients: .all)
        let l0 = 1.085 * Self.L - 2.155, l1 = 1.05 * log(3.0)
        Check.close(r.output, [(l0 + l1) / 2], "probability targets, eps 0.3, weights: mean")
        // d/dinput = (p sum(w t') - w t') / 2
        let p = Self.p123, third = 1.0 / 3
        Check.close(r.gradInput, [p[0] * 1.085 - 0.24, p[1] * 1.085 - 0.62, p[2] * 1.085 - 0.225,
                                  third * 1.05 - 0.8, third * 1.05 - 0.2, third * 1.05 - 0.05].map { $0 / 2 },
                    "probability targets, eps 0.3, weights: input gradient")
        // d/dtarget = -(1 - eps) w logp / 2 = -0.7 w logp / 2
        let logp = [1 - Self.L, 2 - Self.L, 3 - Self.L, -log(3.0), -log(3.0), -log(3.0)]
        let w = [1.0, 2, 0.5, 1, 2, 0.5]
        Check.close(r.gradTarget, (0..<6).map { -0.7 * w[$0] * logp[$0] / 2 }, "probability targets, eps 0.3, weights: target gradient")
        loss.reduction = .none
        Check.close(try Reference.evaluate(loss, input: Self.twoRows, target: target).output, [l0, l1], "probability targets none")
    }

    @Test func probabilityTargetZeroOnMaskedClass() throws {
        // [-inf, 0, 0] with t = [0, 1, 0]: 0 log 0 = 0 for the masked class (deviation 4), so
        // l = -(1)(-log 2) = log 2; d/dinput = p - t = [0, -1/2, 1/2];
        // d/dtarget = -logp = [+inf, log 2, log 2] (the true one-sided derivative, as PyTorch).
        let r = try Reference.evaluate(CrossEntropyLoss(), input: Check.reals([-.infinity, 0, 0]), target: Check.reals([0.0, 1, 0]), gradients: .all)
        Check.close(r.output, [log(2.0)], "t = 0 on a -inf logit")
        Check.close(r.gradInput, [0, -0.5, 0.5], "t = 0 on a -inf logit: input gradient")
        Check.close(r.gradTarget, [.infinity, log(2.0), log(2.0)], "t = 0 on a -inf logit: target gradient")

        // A row of only -inf logits with an all-zero target contributes 0 and gradient 0 (every
        // element is a zero target on a -inf logit); with some positive target it is NaN.
        let input = try Check.reals(shape: [2, 2], scalars: [-.infinity, -.infinity, -.infinity, -.infinity])
        let zero = try Reference.evaluate(CrossEntropyLoss(reduction: .none), input: input,
                                          target: try Check.reals(shape: [2, 2], scalars: [0, 0, 0, 1]), gradients: .input)
        Check.close(zero.output, [0, .nan], "all -inf rows: zero target gives 0, positive target NaN")
        Check.close(try #require(zero.gradInput).scalars.prefix(2).map { $0 }, [0, 0], "all -inf row with zero target: gradient 0")

        // With smoothing the masked class gets t' = eps/C > 0: an infinite loss (forced).
        let smoothed = try Reference.evaluate(CrossEntropyLoss(labelSmoothing: 0.3), input: Check.reals([-.infinity, 0, 0]), target: Check.reals([0.0, 1, 0]))
        Check.close(smoothed.output, [.infinity], "smoothed target on a -inf logit")
    }

    @Test func probabilityTargetsMatchOneHotIndices() throws {
        // One-hot probability targets without weights or smoothing are index targets; both
        // divide mean by N here (no weights). [N, C, d1] input [1, 3, 2]: rows (s = 0) [1, 2, 3]
        // with y = 2 -> L - 3 and (s = 1) [0, 0, 0] with y = 1 -> log 3. Laid out [n, c, s]:
        // [1, 0, 2, 0, 3, 0]. Target one-hot, same layout: [0, 0, 0, 1, 1, 0].
        let input = try Check.reals(shape: [1, 3, 2], scalars: [1.0, 0, 2, 0, 3, 0])
        let probability = try Reference.evaluate(CrossEntropyLoss(reduction: .none), input: input,
                                                 target: try Check.reals(shape: [1, 3, 2], scalars: [0.0, 0, 0, 1, 1, 0]))
        Check.close(probability.output, [Self.L - 3, log(3.0)], shape: [1, 2], "probability targets [N, C, d1]")
    }

    // MARK: shapes and masked classes

    @Test func kDimensionalInput() throws {
        // Input [N = 2, C = 3, d1 = 1, d2 = 2], target [2, 1, 2]. Rows (n, s):
        //   (0, 0) [1, 2, 3] y = 2 -> L - 3      (0, 1) [0, 0, 0]    y = 1 -> log 3
        //   (1, 0) [3, 2, 1] y = 0 -> L - 3      (1, 1) [-inf, 0, 0] y = 2 -> log 2
        // Laid out [n][c][s]: n = 0: c0 [1, 0], c1 [2, 0], c2 [3, 0]; n = 1: c0 [3, -inf], c1 [2, 0], c2 [1, 0].
        let input = try Check.reals(shape: [2, 3, 1, 2], scalars: [1, 0, 2, 0, 3, 0, 3, -.infinity, 2, 0, 1, 0])
        let target = try Check.indices([2, 1, 2], [2, 1, 0, 2])
        let l = [Self.L - 3, log(3.0), Self.L - 3, log(2.0)]
        let none = try Reference.evaluate(CrossEntropyLoss(reduction: .none), input: input, target: target)
        Check.close(none.output, l, shape: [2, 1, 2], "k-dimensional none")
        let mean = try Reference.evaluate(CrossEntropyLoss(), input: input, target: target, gradients: .input)
        Check.close(mean.output, [l.reduce(0, +) / 4], "k-dimensional mean, den = 4")
        // p - onehot per row, laid out like the input, / 4:
        //   (0,0) [p0, p1, p2 - 1]; (0,1) [1/3, 1/3 - 1, 1/3]; (1,0) [p2 - 1, p1, p0]; (1,1) [0, 1/2, 1/2 - 1]
        let p = Self.p123, t = 1.0 / 3
        Check.close(mean.gradInput, [p[0], t, p[1], t - 1, p[2] - 1, t, p[2] - 1, 0, p[1], 0.5, p[0], -0.5].map { $0 / 4 },
                    shape: [2, 3, 1, 2], "k-dimensional gradient")
    }

    @Test func kDimensionalNoneWithUpstream() throws {
        // The same [2, 3, 1, 2] input as above with reduction none and upstream [[[1, 2]], [[3, 4]]]:
        // row (n, s) takes g = upstream[n, 0, s], so the gradient above (times 4, as den = 1 now)
        // is scaled per row: (0,0) by 1, (0,1) by 2, (1,0) by 3, (1,1) by 4.
        let input = try Check.reals(shape: [2, 3, 1, 2], scalars: [1, 0, 2, 0, 3, 0, 3, -.infinity, 2, 0, 1, 0])
        let target = try Check.indices([2, 1, 2], [2, 1, 0, 2])
        let upstream = try Check.reals(shape: [2, 1, 2], scalars: [1, 2, 3, 4])
        let r = try Reference.evaluate(CrossEntropyLoss(reduction: .none), input: input, target: target, upstream: upstream, gradients: .input)
        let p = Self.p123, t = 1.0 / 3
        let n0: [Double] = [p[0], 2 * t, p[1], 2 * (t - 1), p[2] - 1, 2 * t]
        let n1: [Double] = [3 * (p[2] - 1), 0, 3 * p[1], 4 * 0.5, 3 * p[0], 4 * -0.5]
        Check.close(r.gradInput, n0 + n1, shape: [2, 3, 1, 2], "k-dimensional none gradient with upstream")
    }

    @Test func probabilityTargetsNoneWithUpstream() throws {
        // Rows as in probabilityTargets, upstream [2, -1]: d/dinput = (p - t) g_i, d/dtarget = -logp g_i.
        let target = try Check.reals(shape: [2, 3], scalars: [0.2, 0.3, 0.5, 1, 0, 0])
        let r = try Reference.evaluate(CrossEntropyLoss(reduction: .none), input: Self.twoRows, target: target,
                                       upstream: Check.reals([2, -1]), gradients: .all)
        let p = Self.p123, third = 1.0 / 3, L = Self.L
        let dInput: [Double] = [2 * (p[0] - 0.2), 2 * (p[1] - 0.3), 2 * (p[2] - 0.5), -(third - 1), -third, -third]
        Check.close(r.gradInput, dInput, "probability targets none input gradient, upstream [2, -1]")
        let dTarget: [Double] = [2 * (L - 1), 2 * (L - 2), 2 * (L - 3), -log(3.0), -log(3.0), -log(3.0)]
        Check.close(r.gradTarget, dTarget, "probability targets none target gradient, upstream [2, -1]")
    }

    @Test func maskedClasses() throws {
        // Row 0 [-inf, 0, 0], y = 1: l = log 2, gradient [0, -1/2, 1/2].
        // Row 1 [0, -inf, 0], y = 1 (the target class is masked): l = +inf, gradient p - onehot
        //   = [1/2, -1, 1/2] (finite, as PyTorch).
        // Row 2 all -inf, y = 0, not ignored: NaN (as PyTorch).
        let input = try Check.reals(shape: [3, 3], scalars: [-.infinity, 0, 0, 0, -.infinity, 0, -.infinity, -.infinity, -.infinity])
        let r = try Reference.evaluate(CrossEntropyLoss(reduction: .none), input: input, target: Check.indices([1, 1, 0]), gradients: .input)
        Check.close(r.output, [log(2.0), .infinity, .nan], "masked classes")
        Check.close(r.gradInput, [0, -0.5, 0.5, 0.5, -1, 0.5, .nan, .nan, .nan], "masked classes gradient")

        // Smoothing puts eps/C on the masked class: l = +inf; the gradient stays finite:
        // (1 - eps)(p - e1) + (eps/3)(3p - 1) = p - 0.7 e1 - 0.1 = [-0.1, -0.3, 0.4] for eps = 0.3.
        let s = try Reference.evaluate(CrossEntropyLoss(labelSmoothing: 0.3), input: Check.reals([-.infinity, 0, 0]),
                                       target: Tensor<Int>(scalar: 1), gradients: .input)
        Check.close(s.output, [.infinity], "smoothing with a masked class")
        Check.close(s.gradInput, [-0.1, 0.5 - 0.7 - 0.1, 0.5 - 0.1], "smoothing with a masked class: gradient")
    }

    @Test func positiveInfinityAndNaNLogitsGiveNaN() throws {
        // +inf logit: x - m = inf - inf = NaN, so the row is NaN (as PyTorch); NaN propagates.
        for bad in [Double.infinity, .nan] {
            let r = try Reference.evaluate(CrossEntropyLoss(), input: Check.reals([bad, 0, 0]), target: Tensor<Int>(scalar: 1), gradients: .input)
            Check.close(r.output, [.nan], "logit \(bad)")
            Check.close(r.gradInput, [.nan, .nan, .nan], "logit \(bad) gradient")
        }
    }

    @Test func largeLogitsStayAccurate() throws {
        // Shift invariance: logits [1, 2, 3] + 1e10 have the same loss L - 3 and gradient.
        // Forming lse = m + log(s) first would cost an ulp of 1e10 (about 2e-6); the
        // implementation's (x - m) - log(s) keeps the hand tolerance.
        let r = try Reference.evaluate(CrossEntropyLoss(), input: Check.reals([1e10 + 1, 1e10 + 2, 1e10 + 3]), target: Tensor<Int>(scalar: 2), gradients: .input)
        Check.close(r.output, [Self.L - 3], "logits shifted by 1e10")
        let p = Self.p123
        Check.close(r.gradInput, [p[0], p[1], p[2] - 1], "logits shifted by 1e10: gradient")
    }

    // MARK: errors

    @Test func errors() {
        let input = Self.twoRows
        Check.error(.shape, naming: ["target", "[3]", "[2]"], "target of the wrong shape") {
            _ = try Reference.evaluate(CrossEntropyLoss(), input: input, target: Check.indices([0, 1, 2]))
        }
        Check.error(.shape, naming: ["input", "[]"], "scalar input") {
            _ = try Reference.evaluate(CrossEntropyLoss(), input: Tensor<Double>(scalar: 1.0), target: Tensor<Int>(scalar: 0))
        }
        Check.error(.target, naming: ["target[1]", "= 3", "3 classes"], "index = C") {
            _ = try Reference.evaluate(CrossEntropyLoss(), input: input, target: Check.indices([0, 3]))
        }
        Check.error(.target, naming: ["target[0]", "= -1"], "negative index that is not ignore_index") {
            _ = try Reference.evaluate(CrossEntropyLoss(), input: input, target: Check.indices([-1, 0]))
        }
        Check.error(.target, naming: ["target[1, 0, 1]", "= 7"], "k-dimensional position") {
            let k = try Check.reals(shape: [2, 3, 1, 2], scalars: Array(repeating: 0.0, count: 12))
            _ = try Reference.evaluate(CrossEntropyLoss(), input: k, target: try Check.indices([2, 1, 2], [0, 1, 2, 7]))
        }
        Check.error(.option, naming: ["weight", "[2]", "[3]"], "weight of the wrong length") {
            _ = try Reference.evaluate(CrossEntropyLoss(weight: Check.reals([1.0, 2])), input: input, target: Self.twoTargets)
        }
        Check.error(.option, naming: ["weight"], "weight of the wrong length, probability targets") {
            _ = try Reference.evaluate(CrossEntropyLoss(weight: Check.reals([1.0, 2, 3, 4])), input: input, target: input)
        }
        for eps in [1.5, -0.1, Double.nan] {
            Check.error(.option, naming: ["label_smoothing"], "label_smoothing \(eps)") {
                _ = try Reference.evaluate(CrossEntropyLoss(labelSmoothing: eps), input: input, target: Self.twoTargets)
            }
            Check.error(.option, naming: ["label_smoothing"], "label_smoothing \(eps), probability targets") {
                _ = try Reference.evaluate(CrossEntropyLoss(labelSmoothing: eps), input: input, target: input)
            }
        }
        Check.error(.option, naming: ["ignore_index", "0"], "non-negative ignore_index with probability targets") {
            _ = try Reference.evaluate(CrossEntropyLoss(ignoreIndex: 0), input: input, target: input)
        }
        Check.error(.option, naming: ["batchmean"], "batchmean, index targets") {
            _ = try Reference.evaluate(CrossEntropyLoss(reduction: .batchmean), input: input, target: Self.twoTargets)
        }
        Check.error(.option, naming: ["batchmean"], "batchmean, probability targets") {
            _ = try Reference.evaluate(CrossEntropyLoss(reduction: .batchmean), input: input, target: input)
        }
        Check.error(.shape, naming: ["probability target", "[3, 2]"], "probability target of another shape") {
            _ = try Reference.evaluate(CrossEntropyLoss(), input: input, target: try Check.reals(shape: [3, 2], scalars: Array(repeating: 0.0, count: 6)))
        }
        Check.error(.shape, naming: ["upstream", "[3]", "[2]"], "upstream of the wrong shape") {
            _ = try Reference.evaluate(CrossEntropyLoss(reduction: .none), input: input, target: Self.twoTargets, upstream: Check.reals([1.0, 1, 1]))
        }
        Check.error(.shape, naming: ["upstream"], "upstream for mean must be a scalar") {
            _ = try Reference.evaluate(CrossEntropyLoss(), input: input, target: input, upstream: Check.reals([1.0, 1]))
        }
    }
}

/// Shared by the class-loss reference tests (cross_entropy, nll, kl_div, precision).
enum ClassCheck {
    /// Absolute tolerance for hand-worked values: every quantity in these examples
    /// (logits, log-sum-exps, losses, gradients) has magnitude <= 8, where one ulp is
    /// 4 eps; each side (the test's expression and the implementation) takes at most 8
    /// correctly rounded or <= 1-ulp libm steps, so they differ by at most 2 * 8 * 4 eps.
    static let hand = 64 * Double.ulpOfOne

    /// A real vector `[count]` (spelled out: the two cross_entropy overloads make a bare
    /// `Tensor([...])` ambiguous).
    static func reals(_ scalars: [Double]) -> Tensor<Double> { Tensor<Double>(scalars) }
    /// A real tensor of the given shape.
    static func reals(shape: [Int], scalars: [Double]) throws -> Tensor<Double> { try Tensor<Double>(shape: shape, scalars: scalars) }
    /// A class-index vector `[count]`.
    static func indices(_ scalars: [Int]) -> Tensor<Int> { Tensor<Int>(scalars) }
    /// A class-index tensor of the given shape.
    static func indices(_ shape: [Int], _ scalars: [Int]) throws -> Tensor<Int> { try Tensor<Int>(shape: shape, scalars: scalars) }

    /// `actual` equals `expected` elementwise: the same NaN positions, the same infinities,
    /// and finite values within `tolerance` (absolute). Reports the worst index with both
    /// values, the error in ulps of the expected value and relative to it.
    static func close(_ actual: Tensor<Double>?, _ expected: [Double], shape: [Int]? = nil, tolerance: Double = hand,
                      _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let actual else {
            Issue.record("\(context): the tensor is missing", sourceLocation: sourceLocation)
            return
        }
        if let shape {
            #expect(actual.shape == shape, "\(context): shape \(actual.shape), expected \(shape)", sourceLocation: sourceLocation)
        }
        close(actual.scalars, expected, tolerance: tolerance, context, sourceLocation: sourceLocation)
    }

    static func close(_ actual: [Double], _ expected: [Double], tolerance: Double = hand,
                      _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard actual.count == expected.count else {
            Issue.record("\(context): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
            return
        }
        var worst: (index: Int, error: Double)? = nil
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            if !e.isFinite || !a.isFinite {
                let same = (a.isNaN && e.isNaN) || a == e
                #expect(same, "\(context): [\(i)] expected \(e), actual \(a)", sourceLocation: sourceLocation)
                continue
            }
            let error = abs(a - e)
            if error > (worst?.error ?? tolerance) { worst = (i, error) }
        }
        if let (i, error) = worst {
            let e = expected[i]
            Issue.record("""
                \(context): worst index \(i) of \(expected.count): expected \(e), actual \(actual[i]), \
                |error| \(error) = \(e == 0 ? .infinity : error / e.ulp) ulps, relative \(e == 0 ? .infinity : error / abs(e)), \
                tolerance \(tolerance)
                """, sourceLocation: sourceLocation)
        }
    }

    /// `body` throws a `LossError` of `kind` whose message contains every string of `naming`.
    static func error(_ kind: LossError.Kind, naming words: [String], _ context: String,
                      sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("\(context): expected a \(kind) error, nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as LossError {
            #expect(error.kind == kind, "\(context): kind \(error.kind), expected \(kind) (\(error.message))", sourceLocation: sourceLocation)
            for word in words {
                #expect(error.message.contains(word), "\(context): message \"\(error.message)\" does not name \"\(word)\"",
                        sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("\(context): unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }
}

@Suite("Reference: cross_entropy on rows one-hot to working precision")
struct CrossEntropyConfidentRowTests {
    @Test func lossKeepsFullRelativeAccuracy() throws {
        // logits [0, -50], target 0: loss = log(1 + e^-50) = e^-50 - e^-100/2 + ... ;
        // e^-50 = 1.9287498479639178e-22 (mpmath), and e^-100 is 1e-22 times smaller, so the
        // loss equals e^-50 to Double precision. The old log(1 + e^-50) rounded it to 0.
        let r = try Reference.evaluate(CrossEntropyLoss(), input: Tensor([0.0, -50]), target: Tensor<Int>(scalar: 0), gradients: .input)
        let expected = 1.9287498479639178e-22
        #expect(abs(r.output.scalars[0] - expected) <= 4 * Double.ulpOfOne * expected, "loss \(r.output.scalars[0]) vs \(expected)")
        // d/dx = p - onehot: p_0 - 1 = -e^-50/(1 + e^-50) ~ -e^-50; p_1 = e^-50/(1 + e^-50) ~ e^-50.
        let g = try #require(r.gradInput).scalars
        #expect(abs(g[0] + expected) <= 4 * Double.ulpOfOne * expected, "grad[0] \(g[0])")
        #expect(abs(g[1] - expected) <= 4 * Double.ulpOfOne * expected, "grad[1] \(g[1])")
    }
}

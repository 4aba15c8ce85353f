import Losses

extension Reference {
    /// Softmax cross-entropy with class-index targets, PyTorch's `cross_entropy`.
    ///
    /// Input `[C]` with target `[]`, `[N, C]` with `[N]`, or `[N, C, d1, ..., dk]` with
    /// `[N, d1, ..., dk]`; the class dimension is 1 when batched. For each row i (each
    /// target element) with class `y = y_i`, `logp = log_softmax(input_i)` and
    ///
    ///     nll_i    = -w[y] logp[y]
    ///     smooth_i = -sum_c w_c logp[c]
    ///     l_i      = (1 - eps) nll_i + (eps / C) smooth_i      (l_i = nll_i when eps = 0)
    ///
    /// with `w` the class weights (ones by default) and `eps = labelSmoothing` (default 0).
    /// A row whose target is `ignoreIndex` (default -100) has `l_i = 0`.
    /// `none` returns the target's shape; `sum` adds; `mean` (the default) divides by
    /// `den = sum over non-ignored i of w[y_i]` (the non-ignored count without weights).
    ///
    /// - Gradients: `d/dinput_i = [(1 - eps) w[y] (p - onehot(y)) + (eps/C) ((sum_c w_c) p - w)] g_i / den`
    ///   with `p = softmax(input_i)`, 0 for an ignored row. `gradTarget` is always nil
    ///   (the target is discrete).
    /// - Accuracy: `log_softmax` is the shifted log-sum-exp
    ///   `logp[c] = (x_c - m) - log1p(sum_{j != argmax} exp(x_j - m))`, `m = max_j x_j`,
    ///   with a compensated sum, so the row's loss is accurate to a few ulps times the
    ///   logits' spread; the target's entry `p[y] - 1` is `expm1(logp[y])`, without
    ///   cancellation, also in a near-certain row where `1 - p[y]` is below an ulp of 1.
    /// - Edge cases: `-inf` logits mask classes (`exp(-inf) = 0`); the target class masked
    ///   gives an infinite loss with a finite gradient; with `eps > 0` a masked class gives
    ///   an infinite loss too (the smoothed target puts mass `eps/C` on it), and a masked
    ///   class with weight 0 gives `0 * inf = NaN`, as in PyTorch. A non-ignored row of
    ///   all `-inf` logits, or any `+inf` or NaN logit, gives NaN (as PyTorch). An ignored
    ///   row contributes 0 and gradient 0 whatever its logits (deviation 4). All targets
    ///   ignored: `mean` is NaN, `sum` is 0, `none` is zeros, the gradient is 0.
    ///   A zero or negative total weight gives +-inf or NaN, unguarded.
    /// - Throws: `.shape` for shapes that do not fit (or an upstream not of the output's
    ///   shape); `.target` for an index outside `[0, C)` that is not `ignoreIndex`, naming
    ///   its position and value; `.option` for a weight without exactly C entries,
    ///   `labelSmoothing` outside [0, 1] (negative included: deviation 2) or `batchmean`.
    public static func evaluate<T: LossReal>(
        _ loss: CrossEntropyLoss, input: Tensor<T>, target: Tensor<Int>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try target.scalars.withUnsafeBufferPointer { (indices) throws(LossError) in
            try loss.validate(input: input.shape, target: target.shape, classIndices: indices)
        }
        let x = input.scalars, y = target.scalars, C = layout.classes
        let w: [T] = classWeights(loss.weight, classes: C)
        let eps = T(loss.labelSmoothing), smoothing = loss.labelSmoothing > 0
        let totalWeight = compensatedSum(w)

        return try assembleClassRows(
            loss: CrossEntropyLoss.name, layout: layout, inputShape: input.shape, reduction: loss.reduction,
            upstream: upstream, gradients: gradients, hasTargetGradient: false
        ) { i, wanted in
            let yi = y[i]
            if yi == loss.ignoreIndex { return .ignored }
            let logp = logSoftmax(x, layout: layout, row: i)
            let nll = -(w[yi] * logp[yi])
            var row = ClassRow(value: nll, weight: w[yi])
            if smoothing {
                let smooth = -compensatedSum((0..<C).lazy.map { w[$0] * logp[$0] })
                row.value = (.one - eps) * nll + eps / T(C) * smooth
            }
            if wanted.contains(.input) {
                // (sum_c w_c) p - w, without cancelling at the most likely class.
                let smoothed = smoothing ? softmaxResidual(logp, w, total: totalWeight) : []
                row.dInput = .dense((0..<C).map { c in
                    // p[c] - onehot(y)[c]; at the target class expm1 avoids 1 - p[y] cancelling.
                    let residual = c == yi ? T.expm1(logp[c]) : T.exp(logp[c])
                    guard smoothing else { return w[yi] * residual }
                    return (.one - eps) * w[yi] * residual + eps / T(C) * smoothed[c]
                })
            }
            return row
        }
    }

    /// Softmax cross-entropy with class-probability targets, PyTorch's `cross_entropy`
    /// when the target has the input's shape.
    ///
    /// Input and target `[C]`, `[N, C]` or `[N, C, d1, ..., dk]` (class dimension 1 when
    /// batched). With `eps = labelSmoothing` the target is first smoothed,
    /// `t <- (1 - eps) t + eps / C`; then for each row `l_n = -sum_c w_c t_c logp_c` with
    /// `logp = log_softmax(input_n)` and `w` the class weights (ones by default). The
    /// target is not validated (it need not sum to 1 nor be non-negative).
    /// `none` returns the input's shape without the class dimension; `mean` (the default)
    /// divides by the row count `N * d1 * ... * dk` -- the weights do NOT enter the
    /// denominator, unlike class-index targets.
    ///
    /// - Gradients: `d/dinput = (p * sum_c w_c t_c - w * t) g / den` with `p = softmax`;
    ///   `d/dtarget = -(1 - eps) w logp g / den`.
    /// - Accuracy: the shifted log-sum-exp with compensated sums, as for index targets.
    /// - Edge cases: a (smoothed) target of exactly 0 on a `-inf` logit contributes 0 to
    ///   the loss (the `0 log 0 = 0` convention, deviation 4: PyTorch gives `0 * inf = NaN`)
    ///   and 0 to the input gradient, even in a row of all `-inf` logits; its target
    ///   gradient keeps the true one-sided derivative `-(1 - eps) w logp = +inf` (as
    ///   PyTorch). A positive target on a `-inf` logit gives an infinite loss. A row of all
    ///   `-inf` logits with some nonzero target, or any `+inf` or NaN logit, gives NaN.
    ///   An empty input gives NaN for `mean` and 0 for `sum`.
    /// - Throws: `.shape` if the target's shape differs from the input's (or the upstream's
    ///   from the output's); `.option` for a non-negative `ignoreIndex` (PyTorch does not
    ///   support it with probabilities), a weight without exactly C entries,
    ///   `labelSmoothing` outside [0, 1], or `batchmean`.
    public static func evaluate<T: LossReal>(
        _ loss: CrossEntropyLoss, input: Tensor<T>, target: Tensor<T>,
        upstream: Tensor<T>? = nil, gradients: GradientRequest = .none
    ) throws(LossError) -> LossResult<T> {
        let layout = try loss.validate(input: input.shape, probabilityTarget: target.shape)
        let x = input.scalars, C = layout.classes
        let w: [T] = classWeights(loss.weight, classes: C)
        let eps = T(loss.labelSmoothing), smoothing = loss.labelSmoothing > 0

        return try assembleClassRows(
            loss: CrossEntropyLoss.name, layout: layout, inputShape: input.shape, reduction: loss.reduction,
            upstream: upstream, gradients: gradients, hasTargetGradient: true
        ) { i, wanted in
            let offsets = (0..<C).map { layout.inputOffset(row: i, classIndex: $0) }
            let t = offsets.map { smoothing ? target.scalars[$0] * (.one - eps) + eps / T(C) : target.scalars[$0] }
            let logp = logSoftmax(x, layout: layout, row: i)
            // 0 log 0 = 0: a target of exactly 0 on a -inf logit takes no part (deviation 4).
            let absent = (0..<C).map { c in t[c] == .zero && x[offsets[c]] == -.infinity }
            let weighted = (0..<C).map { c in w[c] * t[c] }
            var row = ClassRow(
                value: -compensatedSum((0..<C).lazy.map { c in absent[c] ? .zero : weighted[c] * logp[c] }),
                weight: .one)
            if wanted.contains(.input) {
                let residual = softmaxResidual(logp, weighted, total: compensatedSum(weighted))
                row.dInput = .dense((0..<C).map { c in absent[c] ? .zero : residual[c] })
            }
            if wanted.contains(.target) {
                row.dTarget = .dense((0..<C).map { c in -((.one - eps) * w[c] * logp[c]) })
            }
            return row
        }
    }

    /// `p[c] * total - a[c]` for every class c, with `p = exp(logp)` and `total = sum_j a[j]`:
    /// the softmax-minus-target shape of the cross-entropy gradients (`a = w t` for
    /// probability targets, `a = w` for the smoothing term). At the row's most likely
    /// class p can be 1 - 1e-12 and the plain difference would cancel to an ulp of
    /// `total`; there it is evaluated as `(p - 1) total + sum_{j != c} a[j]` with
    /// `p - 1 = expm1(logp)`, which is accurate to a few ulps of the result.
    static func softmaxResidual<T: LossReal>(_ logp: [T], _ a: [T], total: T) -> [T] {
        guard let top = logp.indices.max(by: { logp[$0] < logp[$1] }) else { return [] }
        return logp.indices.map { c in
            if c == top {
                return T.expm1(logp[c]) * total + compensatedSum(a.indices.lazy.filter { $0 != c }.map { a[$0] })
            }
            return T.exp(logp[c]) * total - a[c]
        }
    }

    /// `log_softmax` of row `row` of a class-dimension input: `logp[c] = (x_c - m) - log(s)`
    /// with `m = max_c x_c` and `s = sum_c exp(x_c - m) = 1 + rest`, `log(s) = log1p(rest)`.
    ///
    /// This is `x_c - lse`, `lse = m + log(s)`, evaluated without rounding `m + log(s)`
    /// first (which would cost an ulp of `m` when the logits are large), and with `log(s)`
    /// as `log1p` of the sum without the maximum's term 1 (so a near-certain row keeps
    /// full relative accuracy in `logp[argmax]`). `-inf` logits give
    /// `exp(-inf - m) = 0` and `logp = -inf`; a row of all `-inf` gives `-inf - (-inf) = NaN`
    /// everywhere, and a `+inf` or NaN logit makes the whole row NaN (`maximum` propagates
    /// NaN), as PyTorch.
    static func logSoftmax<T: LossReal>(_ x: [T], layout: ClassLayout, row: Int) -> [T] {
        let logits = (0..<layout.classes).map { x[layout.inputOffset(row: row, classIndex: $0)] }
        let m = logits.dropFirst().reduce(logits[0], T.maximum)
        let shifted = logits.map { $0 - m }
        // The maximum's term is exp(0) = 1 exactly, so log(s) = log1p(sum of the others).
        // Rounding s = 1 + r first would cost an ulp of 1 in log(s): in a near-certain row
        // (r ~ 1e-11) that is a relative error of ~1e-5 in logp[max] and in p[y] - 1 =
        // expm1(logp[y]). A row of NaN or of infinities has no zero shift: log of the sum.
        let logSum: T
        if let top = shifted.firstIndex(where: { $0 == .zero }) {
            logSum = T.log1p(compensatedSum(shifted.indices.lazy.filter { $0 != top }.map { T.exp(shifted[$0]) }))
        } else {
            logSum = T.log(compensatedSum(shifted.lazy.map(T.exp)))
        }
        return shifted.map { $0 - logSum }
    }
}

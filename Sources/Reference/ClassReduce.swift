import Losses

/// The assembly shared by the class-dimension losses (`cross_entropy` with either kind
/// of target, and `nll`): each loss describes one row (one element of the unreduced
/// loss, i.e. one `(n, d1, ..., dk)` position) and this file reduces the rows and lays
/// out the gradients in the input's `[N, C, d1, ..., dk]` order.

/// One row of a class-dimension loss.
struct ClassRow<T: LossReal> {
    /// The row's loss `l_i` (exactly 0 for an ignored row).
    var value: T
    /// The row's share of the `mean` denominator: `w[y_i]` (1 without weights) for a
    /// class-index target, 0 for an ignored one, 1 for a probability target.
    var weight: T
    /// `d l_i / d input_i[c]`; nil when the row's gradient is 0 (an ignored row) or was
    /// not requested.
    var dInput: RowDerivative<T>?
    /// `d l_i / d target_i[c]` for every class c (probability targets only).
    var dTarget: RowDerivative<T>?

    /// An ignored row: no loss, no weight, gradient 0 (not NaN, whatever its logits).
    static var ignored: ClassRow { ClassRow(value: .zero, weight: .zero) }
}

/// The derivatives of one row's loss with respect to the row's C entries.
enum RowDerivative<T: LossReal> {
    /// One derivative per class (the loss reads the whole row, as through a softmax).
    case dense([T])
    /// The loss reads the entry of one class only (`nll`): every other entry's derivative
    /// is structurally 0 and stays exactly 0, even where `g / den` is not finite.
    case single(classIndex: Int, T)
}

/// The class weights as `T`, or C ones when the loss has none.
func classWeights<T: LossReal>(_ weight: Tensor<Double>?, classes: Int) -> [T] {
    weight?.scalars.map { T($0) } ?? Array(repeating: .one, count: classes)
}

/// Reduces the rows of a class-dimension loss and lays out its gradients.
///
/// - `none`: the output is the rows' values in `layout.lossShape`; `grad = d * g_i`.
/// - `sum`: `sum_i l_i`; `grad = d * g`.
/// - `mean`: `sum_i l_i / den` with `den = sum_i weight_i`; `grad = d * g / den`. The
///   denominator is not guarded: an all-ignored batch gives `0 / 0 = NaN` (its gradient
///   stays 0 because ignored rows have none), a zero or negative total weight gives
///   +-inf or NaN, as in PyTorch.
///
/// Both sums are compensated, so the result does not depend on the row count's size.
func assembleClassRows<T: LossReal>(
    loss: String, layout: ClassLayout, inputShape: [Int], reduction: Reduction,
    upstream: Tensor<T>?, gradients: GradientRequest, hasTargetGradient: Bool,
    row: (_ index: Int, _ gradients: GradientRequest) -> ClassRow<T>
) throws(LossError) -> LossResult<T> {
    try validateUpstream(upstream, outputShape: layout.outputShape, loss: loss)
    let rows = (0..<layout.rows).map { row($0, gradients) }
    let g = Upstream(upstream, reduction: reduction)
    let den: T = reduction == .mean ? compensatedSum(rows.lazy.map(\.weight)) : .one

    var result = LossResult(output: reduction == .none
        ? Tensor(unchecked: layout.lossShape, rows.map(\.value))
        : Tensor(scalar: compensatedSum(rows.lazy.map(\.value)) / den))

    /// Scatters each row's per-class derivatives, times `g_i / den`, into `[N, C, d...]`.
    func layOut(_ derivative: (ClassRow<T>) -> RowDerivative<T>?) -> Tensor<T> {
        var grad = Array(repeating: T.zero, count: inputShape.reduce(1, *))
        for (i, r) in rows.enumerated() {
            switch derivative(r) {
            case nil:
                continue
            case .dense(let d):
                for c in 0..<layout.classes {
                    grad[layout.inputOffset(row: i, classIndex: c)] = d[c] * g[i] / den
                }
            case .single(let c, let d):
                grad[layout.inputOffset(row: i, classIndex: c)] = d * g[i] / den
            }
        }
        return Tensor(unchecked: inputShape, grad)
    }
    if gradients.contains(.input) {
        result.gradInput = layOut(\.dInput)
    }
    if gradients.contains(.target) && hasTargetGradient {
        result.gradTarget = layOut(\.dTarget)
    }
    return result
}

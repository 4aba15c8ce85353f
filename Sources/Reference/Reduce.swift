import Losses

/// The reduction machinery shared by the reference losses: accurate sums, and the
/// assembly of output and gradients from per-element terms.

/// `sum(values)` by Neumaier's compensated summation: the error is a few ulps of the
/// result (plus ulps of the largest term), independent of the count, so the reference
/// does not need pairwise tricks to stay exact on long reductions.
@inlinable
public func compensatedSum<T: LossReal, S: Sequence>(_ values: S) -> T where S.Element == T {
    var sum = T.zero, compensation = T.zero
    for value in values {
        let t = sum + value
        if !t.isFinite {
            sum = t  // infinities and NaN: no compensation to keep
            compensation = .zero
            continue
        }
        if T.abs(sum) >= T.abs(value) {
            compensation += (sum - t) + value
        } else {
            compensation += (value - t) + sum
        }
        sum = t
    }
    return sum.isFinite ? sum + compensation : sum
}

/// The per-element terms of an elementwise loss: the loss and its partial derivatives
/// with respect to the input and the target at that element.
public struct ElementTerms<T: LossReal> {
    public var value: T
    public var dInput: T
    public var dTarget: T
    @inlinable public init(value: T, dInput: T, dTarget: T) {
        self.value = value
        self.dInput = dInput
        self.dTarget = dTarget
    }
}

/// The scalar upstream gradient for `sum`/`mean`/`batchmean`, or element `i`'s for `none`.
@usableFromInline
struct Upstream<T: LossReal> {
    let values: [T]?
    let reduced: Bool
    init(_ upstream: Tensor<T>?, reduction: Reduction) {
        values = upstream?.scalars
        reduced = reduction != .none
    }
    @usableFromInline subscript(i: Int) -> T {
        guard let values else { return .one }
        return reduced ? values[0] : values[i]
    }
}

/// Assembles the result of an elementwise loss from its per-element terms.
///
/// `denominator` is what `mean` (or `batchmean`) divides by. For `none` the output is
/// the terms' values and `grad_i = d_i * g_i`; for a reduction the output is
/// `sum(values) / den` (den = 1 for `sum`) and `grad_i = d_i * g / den`.
func assembleElementwise<T: LossReal>(
    loss: String, shape: [Int], reduction: Reduction, denominator: Int,
    upstream: Tensor<T>?, gradients: GradientRequest, hasTargetGradient: Bool,
    terms: (Int) -> ElementTerms<T>
) throws(LossError) -> LossResult<T> {
    let outputShape = reduction == .none ? shape : []
    try validateUpstream(upstream, outputShape: outputShape, loss: loss)
    let count = shape.reduce(1, *)
    let all = (0..<count).map(terms)
    let g = Upstream(upstream, reduction: reduction)
    let den: T = reduction == .sum || reduction == .none ? .one : T(denominator)

    var result = LossResult(output: reduction == .none
        ? Tensor(unchecked: shape, all.map(\.value))
        : Tensor(scalar: compensatedSum(all.lazy.map(\.value)) / den))
    if gradients.contains(.input) {
        result.gradInput = Tensor(unchecked: shape, (0..<count).map { all[$0].dInput * g[$0] / den })
    }
    if gradients.contains(.target) && hasTargetGradient {
        result.gradTarget = Tensor(unchecked: shape, (0..<count).map { all[$0].dTarget * g[$0] / den })
    }
    return result
}

/// An optional weight (`weight`, `pos_weight`) converted to `T` and repeated to the
/// input's shape by the broadcast its validation returned; nil when either is absent.
func expandWeight<T: LossReal>(_ weight: Tensor<Double>?, _ broadcast: Broadcast?) -> [T]? {
    guard let weight, let broadcast else { return nil }
    return broadcast.expand(weight.scalars.map { T($0) })
}

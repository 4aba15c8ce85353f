/// How the elementwise losses are combined into the output.
///
/// The default everywhere is `.mean`, as in PyTorch.
public enum Reduction: String, Sendable, CaseIterable {
    /// No reduction: the output has the unreduced loss's shape.
    case none
    /// The sum of the elementwise losses; shape `[]`.
    case sum
    /// The sum divided by the loss's denominator (the element count, or for class-index
    /// targets the summed weight of the non-ignored targets); shape `[]`.
    case mean
    /// `kl_div` only: the sum divided by the size of dimension 0 (1 for a scalar input).
    case batchmean
}

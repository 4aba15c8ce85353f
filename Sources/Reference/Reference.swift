@_exported import Losses

/// The Double reference engine: every loss written straight from its formula, generic
/// over `LossReal` so that the same code runs in `Double` (the reference), `Float80`
/// (golden files) and dual numbers (exact forward-mode derivatives).
///
/// One vocabulary for every loss:
///
///     let result = try Reference.evaluate(MSELoss(reduction: .mean),
///                                         input: x, target: y, gradients: .input)
///     result.output      // Tensor, shape [] for sum/mean
///     result.gradInput   // d(sum(output * upstream)) / d(input)
///
/// The description (`MSELoss`, `CrossEntropyLoss`, ...) carries the options with
/// PyTorch's defaults; `upstream` is the gradient flowing into the output (nil: ones);
/// `gradients` says which gradients to compute (default: none, value only).
/// Bad input throws `LossError`; nothing traps.
public enum Reference {}

import Foundation
@_exported import Losses

/// The Float fast engine: the same losses, options, shapes, reductions and gradients as
/// the Double reference (`Reference.evaluate`), computed with SIMD kernels that fuse the
/// value and the gradients into one pass, on several threads, with results that are
/// bitwise the same for every thread count.
///
/// ## Vocabulary
///
/// Every loss has two entry points with the same description types and the same
/// validation as the reference (`loss.validate(...)`, `validateUpstream`):
///
/// 1. Over tensors, one to one with the reference:
///
///        let r = try Fast.evaluate(MSELoss(), input: x, target: y,
///                                  upstream: nil, gradients: .input, threads: nil)
///        r.output; r.gradInput
///
/// 2. Over buffers the caller owns, allocation-free; the caller passes the output buffer
///    and the gradient buffers it wants (a nil gradient buffer skips that work):
///
///        try Fast.evaluate(MSELoss(), input: x, target: y, shape: [n],
///                          upstream: nil, into: Fast.Outputs(output: out, gradInput: gx))
///
///    Every buffer's length is checked against the shape: the input and target (and the
///    gradient buffers) hold the shape's element count, the output and the upstream hold
///    the output's count (the count for `.none`, 1 for `sum`/`mean`). A shorter or longer
///    buffer is a `.shape` error naming it. Empty buffers may have a nil base address.
///    Output and gradient buffers must not overlap each other or any other buffer of the
///    call (no in-place gradients; read-only buffers may overlap): an overlap is a
///    `.shape` error naming both buffers.
///    The tensor entry points call the buffer entry points.
///
/// `upstream` is the gradient flowing into the output, of the output's shape (nil: ones);
/// the gradients are `d(sum(output * upstream)) / d(input)` and `.../ d(target)`.
///
/// ## Threads
///
/// - `threads: nil` uses `ProcessInfo.processInfo.activeProcessorCount`; an explicit
///   count must be at least 1 (else an `.option` error). It is a ceiling: the work is cut
///   into fixed chunks of `Fast.chunkSize` elements and at most one thread per chunk runs.
/// - Inputs with fewer than `Fast.parallelThreshold` elements run on the calling thread
///   (below it, handing work to other threads costs more than it saves; see
///   `Fast.parallelThreshold` for what was measured).
/// - The thread count never changes a result: chunk boundaries do not depend on it, each
///   chunk's partial sum is computed the same way whichever thread runs it, and the
///   chunk sums are combined by one fixed pairwise tree. Repeated runs and runs with 1, 2,
///   3 or 8 threads give identical bits.
///
/// ## Accuracy
///
/// Each element's term is computed in Float with a few roundings (each loss states its
/// bound). Sums are accumulated lane-wise in Float over blocks of `Fast.termsPerLane`
/// terms per lane, then in Double: the sum's error is at most about
/// `(Fast.termsPerLane + 1) * 2^-24 * sum(|l_i|)`, independent of the element count.
/// `mean` divides the Double sum by `n` and rounds once to Float; the gradient's scale
/// `g / n` is computed in Double and rounded once, so each gradient element carries two
/// roundings more than its derivative term.
///
/// ## Inside
///
/// `Support/` holds the machinery every loss shares: `Chunks` and `Parallel` (fixed
/// chunks on several threads, partial sums combined by a fixed pairwise tree),
/// `BlockedSum` (Float lane partials moved to Double every `Fast.termsPerLane` vectors),
/// `VectorIO` and `Lanes` (loads and stores of whole and partial vectors, whole-vector
/// selects), `BufferCheck`, `BroadcastOperand` (broadcast weights), and the elementwise
/// driver (`ElementwiseKernel`, `Fast.evaluateElementwise`, `Fast.evaluateTensors`). A
/// loss file holds its two public entry points and its kernel: the loss's value and
/// derivatives at 16 elements.
public enum Fast {}

import FastLosses
import Losses
import ReferenceLosses

/// The two engines a loss call can run on, behind one entry point, so that the golden
/// verifier, the tests and the command line run either engine through the same code.
///
///     let result = try LossEngine.fast.evaluate(loss, arguments, gradients: .input)
///
/// - `reference`: the Double reference engine (`Reference.evaluate`), each loss written
///   straight from its formula.
/// - `fast`: the Float fast engine (`FastLosses`). The Double arguments are rounded to
///   Float (exactly, for golden cases and generated cases, whose values are all Floats),
///   the call runs in Float, and the result is widened back to Double (exactly). Options
///   stay as the description holds them; the fast engine converts what it needs.
///
/// Both engines validate the same way and throw the same `LossError` kinds.
public enum LossEngine: String, CaseIterable, Sendable {
    case reference
    case fast

    /// Whether the fast engine is built into this copy of the library. While it is not,
    /// `evaluate` on `.fast` computes nothing: callers check `isAvailable` first and
    /// report the engine as "not built" (the golden verifier does).
    ///
    /// Whether the fast engine is built in (always, since FastLosses landed; kept so a
    /// report can say "not built" on a platform that lacks it).
    public static let fastAvailable = true

    /// Whether this engine can run here.
    public var isAvailable: Bool {
        switch self {
        case .reference: true
        case .fast: LossEngine.fastAvailable
        }
    }

    /// Evaluates `loss` on `arguments` with this engine, returning Double values.
    ///
    /// - Parameters:
    ///   - gradients: the gradients to compute; a gradient the loss does not define (the
    ///     target gradient of class indices) is absent from the result.
    /// - Returns: for `.fast`, the Float results widened to Double.
    /// - Throws: the engine's `LossError` for arguments or options it rejects. Calling
    ///   `.fast` while `fastAvailable` is false is a caller error (check `isAvailable`):
    ///   it throws `LossError(.option, "the fast engine is not built ...")`, which must
    ///   not be read as the engine's verdict on the call.
    public func evaluate(_ loss: AnyLoss, _ arguments: LossArguments<Double>,
                         gradients: GradientRequest = .none) throws(LossError) -> LossResult<Double> {
        switch self {
        case .reference:
            return try Reference.evaluate(loss, arguments, gradients: gradients)
        case .fast:
            let single = arguments.map { Float($0) }
            let result = try LossEngine.evaluateFast(loss, single, gradients: gradients)
            return LossResult(output: result.output.map(Double.init),
                              gradInput: result.gradInput?.map(Double.init),
                              gradTarget: result.gradTarget?.map(Double.init))
        }
    }

    /// The one call into the Float fast engine: its type-erased entry point.
    public static func evaluateFast(_ loss: AnyLoss, _ arguments: LossArguments<Float>,
                                    gradients: GradientRequest) throws(LossError) -> LossResult<Float> {
        try Fast.evaluate(loss, arguments, gradients: gradients, threads: nil)
    }
}

/// The one error type of the package: bad input is reported, never trapped on.
///
/// `kind` is one of the four kinds of the golden format; `message` names the loss, the
/// argument, what was expected and what was given, e.g.
/// `cross_entropy: target[3] = 7 is out of range for 5 classes`.
public struct LossError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public enum Kind: String, Sendable, CaseIterable {
        /// Shapes that do not fit each other (or a malformed shape).
        case shape
        /// A class index out of range, or a target outside its domain.
        case target
        /// An input outside its domain (e.g. a probability outside [0, 1] for `bce`).
        case input
        /// An option outside its domain (negative `delta`, `label_smoothing` outside
        /// [0, 1], a reduction the loss does not have, a weight of the wrong length).
        case option
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind) error: \(message)" }
}

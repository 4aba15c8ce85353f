/// Checks of `LossArguments` against an `AnyLoss` that both engines' type-erased entry
/// points share.
public enum LossArgumentCheck {
    /// `gaussian_nll` needs a variance; no other loss takes one.
    public static func variance(_ present: Bool, for loss: AnyLoss) throws(LossError) {
        if case .gaussianNLL = loss {
            guard present else { throw LossError(.shape, "gaussian_nll: the var argument is missing; expected a tensor of variances") }
        } else if present {
            throw LossError(.shape, "\(loss.name): takes no var argument (only gaussian_nll does)")
        }
    }

    /// The error for a target of the wrong kind (class indices where real values are
    /// expected, or the reverse).
    public static func targetKindError<T>(for loss: AnyLoss, target: LossTarget<T>) -> LossError {
        switch target {
        case .classes: targetKindError(for: loss, classes: true)
        case .values: targetKindError(for: loss, classes: false)
        }
    }

    /// The same, for a target known only by its kind (`classes`: class indices were given).
    public static func targetKindError(for loss: AnyLoss, classes: Bool) -> LossError {
        classes
            ? LossError(.target, "\(loss.name): target holds class indices; expected a float tensor of the input's shape")
            : LossError(.target, "\(loss.name): target holds real values; expected an int tensor of class indices")
    }
}

/// Length checks of the buffer entry points: every buffer holds exactly the number of
/// elements its role and the shape imply, else a `.shape` error that names it; and the
/// aliasing rule (BufferOverlap.swift): written buffers overlap nothing.
enum BufferCheck {
    /// `actual == expected`, else a shape error: "`loss`: `name` buffer has 5 elements;
    /// expected 6 (`reason`)".
    static func length(_ actual: Int, _ name: String, expected: Int, _ reason: @autoclosure () -> String, loss: String) throws(LossError) {
        guard actual == expected else {
            throw LossError(.shape, "\(loss): \(name) buffer has \(actual) element\(actual == 1 ? "" : "s"); expected \(expected) (\(reason()))")
        }
    }

    /// The buffers of an elementwise loss: input, target and the gradients hold the
    /// shape's `count` elements; output and upstream hold the output's element count.
    static func elementwise(loss: String, layout: ElementwiseLayout, reduction: Reduction,
                            input: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>,
                            upstream: UnsafeBufferPointer<Float>?, outputs: Fast.Outputs) throws(LossError) {
        let shape = Shape.describe(layout.shape)
        let outputCount = reduction == .none ? layout.count : 1
        let outputReason = reduction == .none
            ? "reduction 'none' keeps the shape \(shape)"
            : "reduction '\(reduction.rawValue)' gives one value"
        try length(input.count, "input", expected: layout.count, "the shape \(shape)", loss: loss)
        try length(target.count, "target", expected: layout.count, "the shape \(shape)", loss: loss)
        if let upstream {
            try length(upstream.count, "upstream", expected: outputCount, outputReason, loss: loss)
        }
        try length(outputs.output.count, "output", expected: outputCount, outputReason, loss: loss)
        if let gradInput = outputs.gradInput {
            try length(gradInput.count, "gradInput", expected: layout.count, "the shape \(shape)", loss: loss)
        }
        if let gradTarget = outputs.gradTarget {
            try length(gradTarget.count, "gradTarget", expected: layout.count, "the shape \(shape)", loss: loss)
        }
        try disjoint(loss: loss, writes: writes(outputs),
                     reads: [Region("input", input), Region("target", target), Region("upstream", upstream)])
    }
}

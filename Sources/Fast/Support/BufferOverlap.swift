/// The aliasing rule of the buffer entry points: a buffer the engine writes (the output
/// and the gradients) must not share a byte with any other buffer of the call, read or
/// written. Read-only buffers may overlap each other (the same buffer as input and
/// target is fine). An overlap is a `.shape` error naming both buffers.
///
/// Why not allow in-place gradients (`gradInput` over `input`)? The kernels read an
/// element's operands before writing its results only within one 16-lane vector;
/// several losses read the input again after writing (cross_entropy keeps the row's
/// exponentials in the gradient buffer and rescales them; gaussian_nll reads a
/// broadcast variance at other offsets than it writes), and the chunks of one call run
/// on several threads. Proving each kernel safe for every partial overlap is not worth
/// the saved buffer; rejecting costs a few comparisons per call.
extension BufferCheck {
    /// A buffer's bytes: `[start, end)`, empty for an absent or empty buffer.
    struct Region {
        let name: String
        let start: UInt
        let end: UInt

        init<T>(_ name: String, _ buffer: UnsafeBufferPointer<T>?) {
            self.name = name
            if let buffer, let base = buffer.baseAddress, buffer.count > 0 {
                start = UInt(bitPattern: base)
                end = start + UInt(buffer.count * MemoryLayout<T>.stride)
            } else {
                start = 0
                end = 0
            }
        }

        init<T>(_ name: String, _ buffer: UnsafeMutableBufferPointer<T>?) {
            self.init(name, buffer.map { UnsafeBufferPointer($0) })
        }

        func overlaps(_ other: Region) -> Bool {
            start < end && other.start < other.end && start < other.end && other.start < end
        }
    }

    /// Every written region is disjoint from every other region.
    static func disjoint(loss: String, writes: [Region], reads: [Region]) throws(LossError) {
        for k in writes.indices {
            for j in writes.indices where j > k && writes[k].overlaps(writes[j]) {
                throw overlap(loss, writes[k], writes[j])
            }
            for other in reads where writes[k].overlaps(other) {
                throw overlap(loss, writes[k], other)
            }
        }
    }

    private static func overlap(_ loss: String, _ written: Region, _ other: Region) -> LossError {
        LossError(.shape, "\(loss): the \(written.name) buffer overlaps the \(other.name) buffer; expected separate memory for each output and gradient (the engine does not compute in place)")
    }

    /// The regions of the output and gradient buffers of `outputs`.
    static func writes(_ outputs: Fast.Outputs) -> [Region] {
        [Region("output", outputs.output), Region("gradInput", outputs.gradInput), Region("gradTarget", outputs.gradTarget)]
    }
}

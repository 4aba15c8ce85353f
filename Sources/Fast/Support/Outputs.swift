extension Fast {
    /// The caller's buffers for one call of a buffer entry point.
    ///
    /// `output` receives the loss: the unreduced values for `.none` (the shape's element
    /// count), one value for `sum` and `mean`. A gradient buffer, when given, receives
    /// that gradient (the shape's element count); a nil gradient buffer means that
    /// gradient is not computed. The engine writes every element of each buffer given
    /// and touches nothing else.
    public struct Outputs {
        public var output: UnsafeMutableBufferPointer<Float>
        /// d(sum(output * upstream)) / d(input), or nil to skip it.
        public var gradInput: UnsafeMutableBufferPointer<Float>?
        /// d(sum(output * upstream)) / d(target), or nil to skip it.
        public var gradTarget: UnsafeMutableBufferPointer<Float>?

        public init(output: UnsafeMutableBufferPointer<Float>,
                    gradInput: UnsafeMutableBufferPointer<Float>? = nil,
                    gradTarget: UnsafeMutableBufferPointer<Float>? = nil) {
            self.output = output
            self.gradInput = gradInput
            self.gradTarget = gradTarget
        }
    }
}

import FastLosses
import Foundation
import LossVerification
import ReferenceLosses

/// One benchmark workload as the issue defines it: a loss, its options (float32, reduction
/// mean, or batchmean for kl_div), the data's shape and how the data is drawn.
struct WorkloadSpec: Sendable {
    /// "W1" ... "W11".
    let id: String
    /// The loss's name as PyTorch spells it.
    let loss: String
    /// The options that differ from the defaults, or "defaults".
    let options: String
    /// How the input and target are drawn.
    let data: String
    /// The input's shape in a full run and in a `--quick` run.
    let shape: [Int]
    let quickShape: [Int]
    /// The bandwidth kernel with the same streams as value + gradient: `triad` for two
    /// input streams and a gradient (elementwise losses), `copy` for one input stream and
    /// a gradient (class-index losses, whose targets are one Int per row). Value only is
    /// compared with `read`.
    let gradientKernel: BandwidthKernel
    /// Draws the data for an input shape (outside any timing).
    let make: @Sendable (_ shape: [Int], _ seed: UInt64) -> any Workload

    static let all: [WorkloadSpec] = [
        elementwise("W1", "mse", "defaults", "prediction and target uniform in [-3, 3]", [1 << 24], [1 << 16],
                    input: .uniform(-3, 3), target: .uniform(-3, 3),
                    loss: .mse(MSELoss())),
        elementwise("W2", "l1", "defaults", "prediction and target uniform in [-3, 3]", [1 << 24], [1 << 16],
                    input: .uniform(-3, 3), target: .uniform(-3, 3),
                    loss: .l1(L1Loss())),
        elementwise("W3", "huber", "delta 1", "prediction and target uniform in [-3, 3] (about half the differences beyond delta)",
                    [1 << 24], [1 << 16], input: .uniform(-3, 3), target: .uniform(-3, 3),
                    loss: .huber(HuberLoss(delta: 1))),
        elementwise("W4", "smooth_l1", "beta 1", "prediction and target uniform in [-3, 3]", [1 << 24], [1 << 16],
                    input: .uniform(-3, 3), target: .uniform(-3, 3),
                    loss: .smoothL1(SmoothL1Loss(beta: 1))),
        elementwise("W5", "bce_with_logits", "defaults", "logits uniform in [-8, 8], targets 0 or 1", [1 << 14, 1 << 10], [1 << 6, 1 << 10],
                    input: .uniform(-8, 8), target: .bits,
                    loss: .bceWithLogits(BCEWithLogitsLoss())),
        elementwise("W6", "bce", "defaults", "probabilities uniform in [2^-10, 1 - 2^-10], targets 0 or 1", [1 << 24], [1 << 16],
                    input: .uniform(0x1p-10, 1 - 0x1p-10), target: .bits,
                    loss: .bce(BCELoss())),
        classIndex("W7", "cross_entropy", "ignore_index -100", "logits uniform in [-4, 4], class indices, ~10% equal to -100",
                   [4096, 32000], [16, 32000], input: .uniform(-4, 4), ignoredFraction: 0.1,
                   loss: .crossEntropy(CrossEntropyLoss())),
        classIndex("W8", "cross_entropy", "ignore_index -100, label_smoothing 0.1",
                   "logits uniform in [-4, 4], class indices, ~10% equal to -100",
                   [4096, 32000], [16, 32000], input: .uniform(-4, 4), ignoredFraction: 0.1,
                   loss: .crossEntropy(CrossEntropyLoss(labelSmoothing: 0.1))),
        classIndex("W9", "cross_entropy", "defaults", "logits uniform in [-4, 4], class indices", [1 << 20, 10], [1 << 12, 10],
                   input: .uniform(-4, 4), ignoredFraction: 0, loss: .crossEntropy(CrossEntropyLoss())),
        WorkloadSpec(
            id: "W10", loss: "nll", options: "defaults", data: "log-probabilities (log_softmax of logits uniform in [-4, 4]), class indices",
            shape: [1 << 20, 10], quickShape: [1 << 12, 10], gradientKernel: .copy,
            make: { shape, seed in
                ClassTargetWorkload(shape: shape, seed: seed, input: .logSoftmax(-4, 4), ignoredFraction: 0,
                                    loss: .nll(NLLLoss()))
            }),
        elementwise("W11", "kl_div", "reduction batchmean, log_target false",
                    "input log_softmax, target softmax of logits uniform in [-4, 4] (rows of 1000)",
                    [4096, 1000], [64, 1000], input: .logSoftmax(-4, 4), target: .softmax(-4, 4),
                    loss: .klDiv(KLDivLoss(reduction: .batchmean))),
    ]

    /// The elementary functions the kernel evaluates once per element (not per row):
    /// their times added are a floor for the workload's time per element.
    var elementaryFunctions: [ElementaryFunction] {
        switch loss {
        case "bce_with_logits": [.exp, .log1p]
        case "bce": [.log, .log1p]
        case "cross_entropy": [.exp]
        case "kl_div": [.log]
        default: []
        }
    }

    private static func elementwise(
        _ id: String, _ loss: String, _ options: String, _ data: String, _ shape: [Int], _ quickShape: [Int],
        input: Fill, target: Fill, loss description: AnyLoss
    ) -> WorkloadSpec {
        WorkloadSpec(id: id, loss: loss, options: options, data: data, shape: shape, quickShape: quickShape,
                     gradientKernel: .triad) { shape, seed in
            RealTargetWorkload(shape: shape, seed: seed, input: input, target: target, loss: description)
        }
    }

    private static func classIndex(
        _ id: String, _ loss: String, _ options: String, _ data: String, _ shape: [Int], _ quickShape: [Int],
        input: Fill, ignoredFraction: Double, loss description: AnyLoss
    ) -> WorkloadSpec {
        WorkloadSpec(id: id, loss: loss, options: options, data: data, shape: shape, quickShape: quickShape,
                     gradientKernel: .copy) { shape, seed in
            ClassTargetWorkload(shape: shape, seed: seed, input: input, ignoredFraction: ignoredFraction, loss: description)
        }
    }
}

/// The data of one workload, drawn once, and the calls that time it.
protocol Workload: AnyObject {
    /// The input's shape.
    var shape: [Int] { get }
    /// The minimal bytes one call moves: the input and target read once, and with
    /// `gradient` the input gradient written once.
    func bytes(gradient: Bool) -> Int
    /// One call of the buffer entry point (value only, or value + input gradient) on the
    /// leading `rows` rows (all of them: `shape[0]`) of the same buffers; returns the loss
    /// value.
    func runBuffer(rows: Int, gradient: Bool, threads: Int) throws -> Float
    /// One call of the Tensor entry point; returns the loss value.
    func runTensor(gradient: Bool, threads: Int) throws -> Float
    /// Prepares the reference's Double arguments for the leading `rows` rows (outside
    /// the timing) and returns the call to time.
    func referenceCall(rows: Int) -> () throws -> Void
}

/// How one argument is drawn (seeded, so every run sees the same data).
enum Fill: Sendable {
    /// Uniform in [lower, upper).
    case uniform(Double, Double)
    /// 0 or 1 with probability one half.
    case bits
    /// Each row (the last dimension) the log_softmax of logits uniform in [lower, upper).
    case logSoftmax(Double, Double)
    /// Each row the softmax of logits uniform in [lower, upper).
    case softmax(Double, Double)

    func values(shape: [Int], seed: UInt64) -> [Float] {
        let count = shape.reduce(1, *)
        var rng = SeededGenerator(seed: seed)
        switch self {
        case .uniform(let lower, let upper):
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count { buffer[i] = Float(rng.uniform(lower, upper)) }
                initialized = count
            }
        case .bits:
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count { buffer[i] = rng.next() >> 63 == 0 ? 0 : 1 }
                initialized = count
            }
        case .logSoftmax(let lower, let upper), .softmax(let lower, let upper):
            let width = shape.last ?? 1, logarithm = { if case .logSoftmax = self { true } else { false } }()
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                var row = [Double](repeating: 0, count: width)
                for start in stride(from: 0, to: count, by: width) {
                    for j in 0..<width { row[j] = rng.uniform(lower, upper) }
                    let top = row.max() ?? 0
                    let logSum = log(row.reduce(0) { $0 + exp($1 - top) })
                    for j in 0..<width {
                        let logP = row[j] - top - logSum
                        buffer[start + j] = Float(logarithm ? logP : exp(logP))
                    }
                }
                initialized = count
            }
        }
    }
}

/// A workload with real-valued targets of the input's shape (every loss but
/// cross_entropy and nll).
final class RealTargetWorkload: Workload {
    let shape: [Int]
    let input: Tensor<Float>
    let target: Tensor<Float>
    let loss: AnyLoss
    let buffers: OutputBuffers

    init(shape: [Int], seed: UInt64, input: Fill, target: Fill, loss: AnyLoss) {
        self.shape = shape
        self.input = try! Tensor(shape: shape, scalars: input.values(shape: shape, seed: seed))
        self.target = try! Tensor(shape: shape, scalars: target.values(shape: shape, seed: seed &+ 1))
        self.loss = loss
        buffers = OutputBuffers(gradientCount: self.input.count)
    }

    func bytes(gradient: Bool) -> Int { 4 * input.count * (gradient ? 3 : 2) }

    func runBuffer(rows: Int, gradient wantsGradient: Bool, threads: Int) throws -> Float {
        let leading = [rows] + shape.dropFirst(), count = leading.reduce(1, *)
        let outputs = buffers.outputs(gradient: wantsGradient, count: count)
        try input.withUnsafeBufferPointer { x in
            try target.withUnsafeBufferPointer { y in
                try Fast.evaluate(loss, input: UnsafeBufferPointer(rebasing: x[..<count]), shape: leading,
                                  target: .values(UnsafeBufferPointer(rebasing: y[..<count])), into: outputs, threads: threads)
            }
        }
        return buffers.output[0]
    }

    func runTensor(gradient wantsGradient: Bool, threads: Int) throws -> Float {
        try Fast.evaluate(loss, LossArguments(input: input, target: .values(target)),
                          gradients: wantsGradient ? .input : .none, threads: threads).output.scalars[0]
    }

    func referenceCall(rows: Int) -> () throws -> Void {
        let sliceShape = [rows] + shape.dropFirst()
        let count = sliceShape.reduce(1, *)
        let x = try! Tensor(shape: sliceShape, scalars: input.scalars[..<count].map(Double.init))
        let y = try! Tensor(shape: sliceShape, scalars: target.scalars[..<count].map(Double.init))
        let loss = self.loss
        return { _ = try Reference.evaluate(loss, LossArguments(input: x, target: .values(y)), gradients: .input) }
    }
}

/// A workload with class-index targets: input `[N, C]`, target `[N]` of Ints.
final class ClassTargetWorkload: Workload {
    let shape: [Int]
    let input: Tensor<Float>
    let target: Tensor<Int>
    let loss: AnyLoss
    let buffers: OutputBuffers

    /// Targets are uniform over the classes; each is replaced by -100 (the default
    /// ignore_index) with probability `ignoredFraction`.
    init(shape: [Int], seed: UInt64, input: Fill, ignoredFraction: Double, loss: AnyLoss) {
        self.shape = shape
        self.input = try! Tensor(shape: shape, scalars: input.values(shape: shape, seed: seed))
        let rows = shape[0], classes = shape[1]
        var rng = SeededGenerator(seed: seed &+ 1)
        let indices = (0..<rows).map { _ in rng.uniform() < ignoredFraction ? -100 : rng.int(below: classes) }
        self.target = try! Tensor(shape: [rows], scalars: indices)
        self.loss = loss
        buffers = OutputBuffers(gradientCount: self.input.count)
    }

    /// The whole input counts as read: cross_entropy needs every logit; nll needs one per
    /// row, but its rows (10 Floats, 40 bytes) are narrower than a 64-byte cache line, so
    /// every line of the input is loaded all the same. Targets are 8-byte Ints.
    func bytes(gradient: Bool) -> Int { 4 * input.count * (gradient ? 2 : 1) + 8 * target.count }

    func runBuffer(rows: Int, gradient wantsGradient: Bool, threads: Int) throws -> Float {
        let count = rows * shape[1]
        let outputs = buffers.outputs(gradient: wantsGradient, count: count)
        try input.withUnsafeBufferPointer { x in
            try target.withUnsafeBufferPointer { y in
                try Fast.evaluate(loss, input: UnsafeBufferPointer(rebasing: x[..<count]), shape: [rows, shape[1]],
                                  target: .classes(UnsafeBufferPointer(rebasing: y[..<rows]), shape: [rows]),
                                  into: outputs, threads: threads)
            }
        }
        return buffers.output[0]
    }

    func runTensor(gradient wantsGradient: Bool, threads: Int) throws -> Float {
        try Fast.evaluate(loss, LossArguments(input: input, target: .classes(target)),
                          gradients: wantsGradient ? .input : .none, threads: threads).output.scalars[0]
    }

    func referenceCall(rows: Int) -> () throws -> Void {
        let classes = shape[1]
        let x = try! Tensor(shape: [rows, classes], scalars: input.scalars[..<(rows * classes)].map(Double.init))
        let y = try! Tensor(shape: [rows], scalars: Array(target.scalars[..<rows]))
        let loss = self.loss
        return { _ = try Reference.evaluate(loss, LossArguments(input: x, target: .classes(y)), gradients: .input) }
    }
}

/// The buffers a workload's buffer entry point writes (one output value and an input
/// gradient), allocated and touched once, outside any timing.
final class OutputBuffers {
    let output: UnsafeMutableBufferPointer<Float>
    let gradient: UnsafeMutableBufferPointer<Float>

    init(gradientCount: Int) {
        output = .allocate(capacity: 1)
        output.initialize(repeating: 0)
        gradient = .allocate(capacity: gradientCount)
        gradient.initialize(repeating: 0)
    }

    deinit {
        output.deallocate()
        gradient.deallocate()
    }

    /// The outputs of one call on the leading `count` elements of the input: the value,
    /// and the gradient if asked for.
    func outputs(gradient wantsGradient: Bool, count: Int) -> Fast.Outputs {
        Fast.Outputs(output: output, gradInput: wantsGradient ? UnsafeMutableBufferPointer(rebasing: gradient[..<count]) : nil)
    }
}

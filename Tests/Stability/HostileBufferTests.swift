import Dispatch
import Foundation
import Testing
import FastLosses
import LossVerification

// Hostile input through the fast engine's buffer entry points: shapes given on their
// own (negative, overflowing, not matching the buffers), buffers of every wrong length,
// empty buffers with nil base addresses, buffers that alias each other, and many
// concurrent calls on shared inputs. Buffers are allocated at their exact length, so
// that AddressSanitizer (scripts/sanitize) sees any read or write past one.

/// One elementwise buffer entry point: `Fast.evaluate(loss, input:, target:, shape:,
/// upstream:, into:, threads:)`.
struct HostileElementwiseEntry: CustomStringConvertible, Sendable {
    typealias Call = @Sendable (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, [Int], UnsafeBufferPointer<Float>?, Fast.Outputs, Int?) throws(LossError) -> Void
    let name: String
    let reduction: Reduction
    let call: Call
    var description: String { "\(name) (\(reduction.rawValue))" }

    /// Every elementwise buffer entry point, for each reduction. `gaussian_nll` gets a
    /// variance of ones of the input's shape (its own buffer, allocated per call).
    static func all(_ reductions: [Reduction] = [.none, .mean, .sum]) -> [HostileElementwiseEntry] {
        reductions.flatMap { r -> [HostileElementwiseEntry] in [
            HostileElementwiseEntry(name: "mse", reduction: r) { (x, y, s, u, o, t) throws(LossError) in try Fast.evaluate(MSELoss(reduction: r), input: x, target: y, shape: s, upstream: u, into: o, threads: t) },
            HostileElementwiseEntry(name: "l1", reduction: r) { (x, y, s, u, o, t) throws(LossError) in try Fast.evaluate(L1Loss(reduction: r), input: x, target: y, shape: s, upstream: u, into: o, threads: t) },
            HostileElementwiseEntry(name: "huber", reduction: r) { (x, y, s, u, o, t) throws(LossError) in try Fast.evaluate(HuberLoss(reduction: r), input: x, target: y, shape: s, upstream: u, into: o, threads: t) },
            HostileElementwiseEntry(name: "smooth_l1", reduction: r) { (x, y, s, u, o, t) throws(LossError) in try Fast.evaluate(SmoothL1Loss(reduction: r), input: x, target: y, shape: s, upstream: u, into: o, threads: t) },
            HostileElementwiseEntry(name: "bce", reduction: r) { (x, y, s, u, o, t) throws(LossError) in try Fast.evaluate(BCELoss(reduction: r), input: x, target: y, shape: s, upstream: u, into: o, threads: t) },
            HostileElementwiseEntry(name: "bce_with_logits", reduction: r) { (x, y, s, u, o, t) throws(LossError) in try Fast.evaluate(BCEWithLogitsLoss(reduction: r), input: x, target: y, shape: s, upstream: u, into: o, threads: t) },
            HostileElementwiseEntry(name: "kl_div", reduction: r) { (x, y, s, u, o, t) throws(LossError) in try Fast.evaluate(KLDivLoss(reduction: r), input: x, target: y, shape: s, upstream: u, into: o, threads: t) },
            HostileElementwiseEntry(name: "poisson_nll", reduction: r) { (x, y, s, u, o, t) throws(LossError) in try Fast.evaluate(PoissonNLLLoss(reduction: r), input: x, target: y, shape: s, upstream: u, into: o, threads: t) },
            HostileElementwiseEntry(name: "gaussian_nll", reduction: r) { (x, y, s, u, o, t) throws(LossError) in
                // A shape that is itself an error gets an empty variance: the call reports the shape.
                // (4 ones for a count too large to allocate: the variance's length error then comes first.)
                let count = (try? Shape.elementCount(s, argument: "")) ?? 0
                let variance = [Float](repeating: 1, count: count > 1 << 20 ? 4 : count)
                var failure: LossError?
                variance.withUnsafeBufferPointer { v in
                    failure = caught { () throws(LossError) in
                        try Fast.evaluate(GaussianNLLLoss(reduction: r), input: x, target: y, variance: v, shape: s, varianceShape: s,
                                          upstream: u, into: o, threads: t)
                    }
                }
                if let failure { throw failure }
            },
        ] }
    }

    /// The losses that are 0 with a zero gradient at input == target.
    var zeroAtEqualArguments: Bool { ["mse", "l1", "huber", "smooth_l1", "gaussian_nll"].contains(name) }
}

/// One class-loss buffer entry point: `Fast.evaluate(loss, input:, shape:, target:,
/// targetShape:, upstream:, into:, threads:)` with class-index targets.
struct HostileClassEntry: CustomStringConvertible, Sendable {
    typealias Call = @Sendable (UnsafeBufferPointer<Float>, [Int], UnsafeBufferPointer<Int>, [Int], UnsafeBufferPointer<Float>?, Fast.Outputs, Int?) throws(LossError) -> Void
    let name: String
    let reduction: Reduction
    let call: Call
    var description: String { "\(name) (\(reduction.rawValue))" }

    static func all(_ reductions: [Reduction] = [.none, .mean, .sum]) -> [HostileClassEntry] {
        reductions.flatMap { r -> [HostileClassEntry] in [
            HostileClassEntry(name: "cross_entropy", reduction: r) { (x, s, y, ts, u, o, t) throws(LossError) in
                try Fast.evaluate(CrossEntropyLoss(reduction: r), input: x, shape: s, target: y, targetShape: ts, upstream: u, into: o, threads: t) },
            HostileClassEntry(name: "cross_entropy+smoothing", reduction: r) { (x, s, y, ts, u, o, t) throws(LossError) in
                try Fast.evaluate(CrossEntropyLoss(reduction: r, labelSmoothing: 0.25), input: x, shape: s, target: y, targetShape: ts, upstream: u, into: o, threads: t) },
            HostileClassEntry(name: "nll", reduction: r) { (x, s, y, ts, u, o, t) throws(LossError) in
                try Fast.evaluate(NLLLoss(reduction: r), input: x, shape: s, target: y, targetShape: ts, upstream: u, into: o, threads: t) },
        ] }
    }

    /// The loss's name in messages.
    var lossName: String { name.hasPrefix("cross_entropy") ? "cross_entropy" : name }
}

/// Buffers allocated at exactly the given lengths (nil: not passed), filled with legal
/// values for every loss (0.25 and 0.75 alternating; 1 for upstream); freed by `free`.
struct HostileBuffers {
    var input, target: UnsafeMutableBufferPointer<Float>
    var upstream: UnsafeMutableBufferPointer<Float>?
    var output: UnsafeMutableBufferPointer<Float>
    var gradInput, gradTarget: UnsafeMutableBufferPointer<Float>?

    init(input: Int, target: Int, upstream: Int?, output: Int, gradInput: Int?, gradTarget: Int?) {
        func make(_ count: Int, _ value: (Int) -> Float) -> UnsafeMutableBufferPointer<Float> {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            for i in 0..<count { buffer.initializeElement(at: i, to: value(i)) }
            return buffer
        }
        self.input = make(input) { 0.25 + 0.5 * Float($0 % 2) }
        self.target = make(target) { Float($0 % 2) }
        self.upstream = upstream.map { make($0) { _ in 1 } }
        self.output = make(output) { _ in .nan }
        self.gradInput = gradInput.map { make($0) { _ in .nan } }
        self.gradTarget = gradTarget.map { make($0) { _ in .nan } }
    }

    var outputs: Fast.Outputs { Fast.Outputs(output: output, gradInput: gradInput, gradTarget: gradTarget) }

    func call(_ entry: HostileElementwiseEntry, shape: [Int], threads: Int? = nil) -> LossError? {
        caught { () throws(LossError) in
            try entry.call(UnsafeBufferPointer(input), UnsafeBufferPointer(target), shape,
                           upstream.map { UnsafeBufferPointer($0) }, outputs, threads)
        }
    }

    func free() {
        for buffer in [input, target, upstream, output, gradInput, gradTarget] { buffer?.deallocate() }
    }
}

@Suite("Hostile input: buffer entry points")
struct HostileBufferTests {
    @Test("a shape with a negative dimension or an overflowing count is a shape error, whatever the buffers", arguments: HostileElementwiseEntry.all())
    func hostileShapes(_ entry: HostileElementwiseEntry) {
        let cases: [([Int], [String])] = [
            ([-1], ["\(entry.name): input: dimension 0 is -1; dimensions must be non-negative"]),
            ([3, Int.min], ["dimension 1 is \(Int.min)"]),
            ([Int.max, 2], ["the element count of shape [\(Int.max), 2] overflows Int"]),
            ([1 << 32, 1 << 31], ["overflows Int"]),
            ([0, 1 << 62, 4], ["the product of the non-zero dimensions of shape [0, \(1 << 62), 4] overflows Int"]),
        ]
        for (shape, parts) in cases {
            let b = HostileBuffers(input: 0, target: 0, upstream: nil, output: 1, gradInput: 0, gradTarget: 0)
            defer { b.free() }
            let failures = errorFailures(b.call(entry, shape: shape), kind: .shape, parts)
            #expect(failures.isEmpty, "\(entry), shape \(shape): \(failures)")
        }
        // A legal but huge shape with small buffers: a length error, nothing read.
        let b = HostileBuffers(input: 4, target: 4, upstream: nil, output: 1, gradInput: nil, gradTarget: nil)
        defer { b.free() }
        // (gaussian_nll checks its variance buffer first.)
        let failures = errorFailures(b.call(entry, shape: [Int.max]), kind: .shape, ["buffer has 4 elements; expected \(Int.max)"])
        #expect(failures.isEmpty, "\(entry), shape [Int.max]: \(failures)")
    }

    @Test("every buffer shorter or longer than the shape implies is a shape error naming it", arguments: HostileElementwiseEntry.all())
    func wrongLengths(_ entry: HostileElementwiseEntry) {
        let shape = [3, 5], n = 15, out = entry.reduction == .none ? n : 1
        for length in [0, n - 1, n + 1, 2 * n] {
            let outLength = out == 1 ? (length == 0 ? 0 : 2) : length
            let variants: [(String, HostileBuffers)] = [
                ("input", HostileBuffers(input: length, target: n, upstream: nil, output: out, gradInput: nil, gradTarget: nil)),
                ("target", HostileBuffers(input: n, target: length, upstream: nil, output: out, gradInput: nil, gradTarget: nil)),
                ("upstream", HostileBuffers(input: n, target: n, upstream: outLength, output: out, gradInput: n, gradTarget: nil)),
                ("output", HostileBuffers(input: n, target: n, upstream: nil, output: outLength, gradInput: nil, gradTarget: nil)),
                ("gradInput", HostileBuffers(input: n, target: n, upstream: nil, output: out, gradInput: length, gradTarget: nil)),
                ("gradTarget", HostileBuffers(input: n, target: n, upstream: nil, output: out, gradInput: n, gradTarget: length)),
            ]
            for (name, b) in variants {
                defer { b.free() }
                let failures = errorFailures(b.call(entry, shape: shape), kind: .shape, ["\(entry.name): \(name) buffer has"])
                #expect(failures.isEmpty, "\(entry), \(name) buffer of length \(name == "output" || name == "upstream" ? outLength : length): \(failures)")
            }
        }
    }

    @Test("empty buffers with nil base addresses: mean NaN, sum 0, none writes nothing", arguments: HostileElementwiseEntry.all())
    func nilBaseAddresses(_ entry: HostileElementwiseEntry) {
        let empty = UnsafeBufferPointer<Float>(start: nil, count: 0)
        let emptyOut = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        for shape in [[0], [4, 0], [0, 7, 3]] {
            var value: [Float] = [.nan]
            let error = value.withUnsafeMutableBufferPointer { one in
                caught { () throws(LossError) in
                    let output = entry.reduction == .none ? emptyOut : one
                    try entry.call(empty, empty, shape, entry.reduction == .none ? empty : nil,
                                   Fast.Outputs(output: output, gradInput: emptyOut, gradTarget: emptyOut), nil)
                }
            }
            #expect(error == nil, "\(entry), shape \(shape): \(String(describing: error))")
            switch entry.reduction {
            case .mean: #expect(value[0].isNaN, "\(entry), shape \(shape): the mean of nothing is 0/0 = NaN, got \(value[0])")
            case .sum: #expect(value[0] == 0, "\(entry), shape \(shape): the sum of nothing is 0, got \(value[0])")
            default: #expect(value[0].isNaN, "\(entry), shape \(shape): none must not write outside its empty output")
            }
        }
    }

    @Test("a written buffer that overlaps another buffer is a shape error naming both", arguments: HostileElementwiseEntry.all())
    func aliasing(_ entry: HostileElementwiseEntry) {
        let n = 40, out = entry.reduction == .none ? n : 1
        // One arena; buffers are windows into it.
        let arena = UnsafeMutableBufferPointer<Float>.allocate(capacity: 5 * n)
        arena.initialize(repeating: 0.5)
        defer { arena.deallocate() }
        func window(_ offset: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: arena[offset..<offset + count])
        }
        let input = window(0, n), target = window(n, n)
        let cases: [(String, [String], () throws(LossError) -> Void)] = [
            ("gradInput is the input", ["the gradInput buffer overlaps the input buffer"], { () throws(LossError) in
                try entry.call(UnsafeBufferPointer(input), UnsafeBufferPointer(target), [n], nil,
                               Fast.Outputs(output: window(2 * n, out), gradInput: input), nil) }),
            ("gradInput one element into the input", ["the gradInput buffer overlaps the input buffer"], { () throws(LossError) in
                try entry.call(UnsafeBufferPointer(window(0, n)), UnsafeBufferPointer(window(2 * n, n)), [n], nil,
                               Fast.Outputs(output: window(3 * n, out), gradInput: window(n - 1, n)), nil) }),
            ("gradTarget is the target", ["the gradTarget buffer overlaps the target buffer"], { () throws(LossError) in
                try entry.call(UnsafeBufferPointer(input), UnsafeBufferPointer(target), [n], nil,
                               Fast.Outputs(output: window(2 * n, out), gradTarget: target), nil) }),
            ("output over the gradient", ["the output buffer overlaps the gradInput buffer"], { () throws(LossError) in
                try entry.call(UnsafeBufferPointer(input), UnsafeBufferPointer(target), [n], nil,
                               Fast.Outputs(output: window(2 * n, out), gradInput: window(2 * n, n)), nil) }),
            ("gradients over each other", ["the gradInput buffer overlaps the gradTarget buffer"], { () throws(LossError) in
                try entry.call(UnsafeBufferPointer(input), UnsafeBufferPointer(target), [n], nil,
                               Fast.Outputs(output: window(4 * n, out), gradInput: window(2 * n, n), gradTarget: window(2 * n + 3, n)), nil) }),
            ("output over the upstream", ["the output buffer overlaps the upstream buffer"], { () throws(LossError) in
                try entry.call(UnsafeBufferPointer(input), UnsafeBufferPointer(target), [n], UnsafeBufferPointer(window(2 * n, out)),
                               Fast.Outputs(output: window(2 * n, out)), nil) }),
        ]
        for (name, parts, call) in cases {
            let failures = errorFailures(caught(call), kind: .shape, ["\(entry.name): "] + parts)
            #expect(failures.isEmpty, "\(entry), \(name): \(failures)")
        }
        // Read-only buffers may overlap: input and target the same buffer is legal; for
        // the losses that vanish at input == target it gives 0 and a zero gradient.
        let output = window(2 * n, out), gradient = window(3 * n, n)
        output.update(repeating: .nan)
        let error = caught { () throws(LossError) in
            try entry.call(UnsafeBufferPointer(input), UnsafeBufferPointer(input), [n], nil,
                           Fast.Outputs(output: output, gradInput: gradient), nil)
        }
        #expect(error == nil, "\(entry): input and target as one buffer must be allowed: \(String(describing: error))")
        #expect(!entry.zeroAtEqualArguments || (output.allSatisfy { $0 == 0 } && gradient.allSatisfy { $0 == 0 }),
                "\(entry): loss(x, x) must be 0 with a zero gradient; got \(Array(output.prefix(4))), \(Array(gradient.prefix(4)))")
    }

    @Test("many concurrent multithreaded calls on shared inputs give the single-threaded bits")
    func concurrentCalls() {
        // Each call is large enough to run on several workers itself (the threshold is
        // Fast.parallelThreshold elements), and several run at once: ThreadSanitizer
        // (scripts/sanitize) sees real concurrency inside and between calls.
        let n = Fast.parallelThreshold + 4099
        let chunks = (n + Fast.chunkSize - 1) / Fast.chunkSize
        #expect(Parallel.workers(chunks: chunks, work: n, threads: 3) == 3, "a call of \(n) elements should run on 3 workers")
        // Values in [0, 1) on a 1/1024 grid (legal for every loss, bce included), in a
        // scrambled order (a plain formula: the seeded generator costs seconds for 2^19
        // values in a debug build).
        func grid(_ i: Int) -> Float { Float(i % 1024) / 1024 }
        let x: [Float] = (0..<n).map { i in grid(i &* 7919) }
        let y: [Float] = (0..<n).map { i in grid(i &* 104_729 &+ 17) }
        // Default run: two entry points (mse none, huber mean: an unreduced and a reduced
        // loop), four calls at once, about 2 s in a debug build; LOSS_DEEP=1: every
        // elementwise entry point, 16 calls (about a minute in debug).
        let deep = TestEnvironment.current.deep
        let entries = deep ? HostileElementwiseEntry.all([.mean, .none])
                           : HostileElementwiseEntry.all([.none]).filter { $0.name == "mse" } + HostileElementwiseEntry.all([.mean]).filter { $0.name == "huber" }
        let calls = deep ? 16 : 4

        /// Output (count out) then gradInput then gradTarget, for one call.
        @Sendable func evaluate(_ entry: HostileElementwiseEntry, threads: Int, into result: UnsafeMutableBufferPointer<Float>) -> LossError? {
            let out = entry.reduction == .none ? n : 1
            return x.withUnsafeBufferPointer { x in
                y.withUnsafeBufferPointer { y in
                    caught { () throws(LossError) in
                        try entry.call(x, y, [n], nil, Fast.Outputs(output: UnsafeMutableBufferPointer(rebasing: result[0..<out]),
                                                                     gradInput: UnsafeMutableBufferPointer(rebasing: result[out..<out + n]),
                                                                     gradTarget: UnsafeMutableBufferPointer(rebasing: result[out + n..<out + 2 * n])), threads)
                    }
                }
            }
        }
        Self.expectConcurrentBits(entries: entries, calls: calls, size: 3 * n,
                                  used: { $0.reduction == .none ? 3 * n : 1 + 2 * n }, evaluate: evaluate)
    }
}

extension HostileBufferTests {
    /// Runs a class entry point on fresh buffers of the given lengths (nil: not passed);
    /// inputs are 0, targets cycle through the classes.
    func classCall(_ entry: HostileClassEntry, shape: [Int], targetShape: [Int], input: Int, target: Int, classes: Int,
                   upstream: Int?, output: Int, gradInput: Int?, gradTarget: Int? = nil, indices: [Int]? = nil) -> LossError? {
        let x = [Float](repeating: 0, count: input)
        let y = indices ?? (0..<target).map { $0 % max(classes, 1) }
        let u = upstream.map { [Float](repeating: 1, count: $0) }
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: output)
        let gi = UnsafeMutableBufferPointer<Float>.allocate(capacity: gradInput ?? 0)
        let gt = UnsafeMutableBufferPointer<Float>.allocate(capacity: gradTarget ?? 0)
        defer { out.deallocate(); gi.deallocate(); gt.deallocate() }
        let outputs = Fast.Outputs(output: out, gradInput: gradInput == nil ? nil : gi, gradTarget: gradTarget == nil ? nil : gt)
        return x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                caught { () throws(LossError) in
                    if let u {
                        try borrow(Tensor(unchecked: [u.count], u)) { (u) throws(LossError) in
                            try entry.call(x, shape, y, targetShape, u, outputs, nil)
                        }
                    } else {
                        try entry.call(x, shape, y, targetShape, nil, outputs, nil)
                    }
                }
            }
        }
    }

    @Test("class losses: hostile shapes and indices through the buffer entry points", arguments: HostileClassEntry.all())
    func classHostileShapes(_ entry: HostileClassEntry) {
        let out = entry.reduction == .none ? 2 : 1
        let cases: [([Int], [Int], [String], LossError.Kind)] = [
            ([-1, 3], [-1], ["\(entry.lossName): input: dimension 0 is -1"], .shape),
            ([2, Int.min], [2], ["dimension 1 is \(Int.min)"], .shape),
            ([Int.max, 2], [Int.max], ["overflows Int"], .shape),
            ([0, 3, 1 << 62, 4], [0, 1 << 62, 4], ["the product of the non-zero dimensions", "overflows Int"], .shape),
            ([2, 0], [2], ["the class dimension of input [2, 0] is 0"], .shape),
            ([2, 3], [3], ["target shape [3] does not fit input [2, 3]; expected [2]"], .shape),
            ([Int.max, 1], [Int.max], ["input buffer has 6 elements; expected \(Int.max)"], .shape),
        ]
        for (shape, targetShape, parts, kind) in cases {
            // Targets [0, 0]: legal for every C >= 1, so that the shape is what fails.
            let error = classCall(entry, shape: shape, targetShape: targetShape, input: 6, target: 2, classes: 1,
                                  upstream: nil, output: out, gradInput: nil)
            let failures = errorFailures(error, kind: kind, parts)
            #expect(failures.isEmpty, "\(entry), shape \(shape), target shape \(targetShape): \(failures)")
        }
        for bad in [Int.min, Int.max, -1, 3] {
            let error = classCall(entry, shape: [2, 3], targetShape: [2], input: 6, target: 2, classes: 3,
                                  upstream: nil, output: out, gradInput: 6, indices: [0, bad])
            let failures = errorFailures(error, kind: .target, ["\(entry.lossName): target[1] = \(bad) is out of range for 3 classes"])
            #expect(failures.isEmpty, "\(entry), index \(bad): \(failures)")
        }
    }

    @Test("class losses: every buffer of the wrong length is a shape error naming it; gradTarget is a target error", arguments: HostileClassEntry.all())
    func classWrongLengths(_ entry: HostileClassEntry) {
        let shape = [4, 3], rows = 4, n = 12, out = entry.reduction == .none ? rows : 1
        for delta in [-1, 1] {
            let variants: [(String, LossError?)] = [
                ("input", classCall(entry, shape: shape, targetShape: [rows], input: n + delta, target: rows, classes: 3, upstream: nil, output: out, gradInput: nil)),
                ("target", classCall(entry, shape: shape, targetShape: [rows], input: n, target: rows + delta, classes: 3, upstream: nil, output: out, gradInput: nil)),
                ("upstream", classCall(entry, shape: shape, targetShape: [rows], input: n, target: rows, classes: 3, upstream: out + delta, output: out, gradInput: n)),
                ("output", classCall(entry, shape: shape, targetShape: [rows], input: n, target: rows, classes: 3, upstream: nil, output: out + delta, gradInput: nil)),
                ("gradInput", classCall(entry, shape: shape, targetShape: [rows], input: n, target: rows, classes: 3, upstream: nil, output: out, gradInput: n + delta)),
            ]
            for (name, error) in variants {
                let failures = errorFailures(error, kind: .shape, ["\(entry.lossName): \(name) buffer has"])
                #expect(failures.isEmpty, "\(entry), \(name) buffer off by \(delta): \(failures)")
            }
        }
        let error = classCall(entry, shape: shape, targetShape: [rows], input: n, target: rows, classes: 3, upstream: nil, output: out, gradInput: n, gradTarget: n)
        let failures = errorFailures(error, kind: .target, ["gradTarget buffer given, but class-index targets have no gradient"])
        #expect(failures.isEmpty, "\(entry), a gradTarget buffer: \(failures)")
    }

    @Test("class losses: empty buffers with nil base addresses", arguments: HostileClassEntry.all())
    func classNilBaseAddresses(_ entry: HostileClassEntry) {
        let empty = UnsafeBufferPointer<Float>(start: nil, count: 0), emptyOut = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        let noTargets = UnsafeBufferPointer<Int>(start: nil, count: 0)
        for (shape, targetShape) in [([0, 3], [0]), ([2, 3, 0], [2, 0])] {
            var value: [Float] = [.nan]
            let error = value.withUnsafeMutableBufferPointer { one in
                caught { () throws(LossError) in
                    try entry.call(empty, shape, noTargets, targetShape, entry.reduction == .none ? empty : nil,
                                   Fast.Outputs(output: entry.reduction == .none ? emptyOut : one, gradInput: emptyOut), nil)
                }
            }
            #expect(error == nil, "\(entry), shape \(shape): \(String(describing: error))")
            switch entry.reduction {
            case .mean: #expect(value[0].isNaN, "\(entry), shape \(shape): the mean over no rows is 0/0 = NaN, got \(value[0])")
            case .sum: #expect(value[0] == 0, "\(entry), shape \(shape): the sum over no rows is 0, got \(value[0])")
            default: #expect(value[0].isNaN, "\(entry), shape \(shape): none must not write outside its empty output")
            }
        }
    }

    @Test("class losses: a written buffer over the input, the upstream or another output is a shape error", arguments: HostileClassEntry.all())
    func classAliasing(_ entry: HostileClassEntry) {
        let rows = 8, n = 24, out = entry.reduction == .none ? rows : 1
        let arena = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4 * n)
        arena.initialize(repeating: 0)
        defer { arena.deallocate() }
        func window(_ offset: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: arena[offset..<offset + count])
        }
        let targets = (0..<rows).map { $0 % 3 }
        let cases: [(String, String, Fast.Outputs, UnsafeBufferPointer<Float>?)] = [
            ("gradInput is the input", "the gradInput buffer overlaps the input buffer", Fast.Outputs(output: window(2 * n, out), gradInput: window(0, n)), nil),
            ("gradInput overlaps the input's end", "the gradInput buffer overlaps the input buffer", Fast.Outputs(output: window(3 * n, out), gradInput: window(n - 1, n)), nil),
            ("output inside the input", "the output buffer overlaps the input buffer", Fast.Outputs(output: window(5, out)), nil),
            ("output over the gradient", "the output buffer overlaps the gradInput buffer", Fast.Outputs(output: window(2 * n, out), gradInput: window(2 * n, n)), nil),
            ("output over the upstream", "the output buffer overlaps the upstream buffer", Fast.Outputs(output: window(3 * n, out)), UnsafeBufferPointer(window(3 * n, out))),
        ]
        for (name, part, outputs, upstream) in cases {
            let error = targets.withUnsafeBufferPointer { y in
                caught { () throws(LossError) in
                    try entry.call(UnsafeBufferPointer(window(0, n)), [rows, 3], y, [rows], upstream, outputs, nil)
                }
            }
            let failures = errorFailures(error, kind: .shape, ["\(entry.lossName): \(part)"])
            #expect(failures.isEmpty, "\(entry), \(name): \(failures)")
        }
    }

    @Test("concurrent multithreaded class-loss calls on shared inputs give the single-threaded bits")
    func concurrentClassCalls() {
        // [rows, 67] logits: more than Fast.parallelThreshold elements, so each call runs
        // on several workers; 4 calls at once (none and mean), each compared bitwise with a
        // single-threaded call. The default run uses nll (the row-wise driver, chunks,
        // the weighted denominator, at one read per row: fast in a debug build);
        // LOSS_DEEP=1 adds cross_entropy with and without smoothing (seconds in debug).
        let classes = 67, rows = Fast.parallelThreshold / classes + 41, n = rows * classes
        func grid(_ i: Int) -> Float { Float(i % 512) / 32 - 8 }
        let x: [Float] = (0..<n).map { i in grid(i &* 7919) }
        let y: [Int] = (0..<rows).map { i in i % 11 == 0 ? -100 : (i &* 31) % classes }
        let deep = TestEnvironment.current.deep
        let entries = HostileClassEntry.all([.none, .mean]).filter { deep || $0.name == "nll" }
        let calls = deep ? 12 : 4, size = rows + n
        @Sendable func evaluate(_ entry: HostileClassEntry, threads: Int, into result: UnsafeMutableBufferPointer<Float>) -> LossError? {
            let out = entry.reduction == .none ? rows : 1
            return x.withUnsafeBufferPointer { x in
                y.withUnsafeBufferPointer { y in
                    caught { () throws(LossError) in
                        try entry.call(x, [rows, classes], y, [rows], nil,
                                       Fast.Outputs(output: UnsafeMutableBufferPointer(rebasing: result[0..<out]),
                                                    gradInput: UnsafeMutableBufferPointer(rebasing: result[rows..<rows + n])), threads)
                    }
                }
            }
        }
        Self.expectConcurrentBits(entries: entries, calls: calls, size: size, used: { _ in size }, evaluate: evaluate)
    }

    @Test("concurrent calls on empty tensors: no write to shared storage")
    func concurrentEmptyCalls() {
        // Regression (found by ThreadSanitizer, scripts/sanitize thread): the tensor entry
        // points built their empty outputs with Array(unsafeUninitializedCapacity: 0), which
        // writes the count 0 into the runtime's shared empty-array storage -- a data race
        // between any two threads doing so. Meaningful under ThreadSanitizer; without it
        // this checks the empty results.
        let failures = HostileSendableBox(UnsafeMutableBufferPointer<Int>.allocate(capacity: 16))
        failures.value.initialize(repeating: 0)
        defer { failures.value.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            let empty = Tensor<Float>(unchecked: [0, 3], [])
            let result: LossResult<Float>?
            if i % 2 == 0 {
                result = try? Fast.evaluate(MSELoss(reduction: .none), input: empty, target: empty, gradients: .all)
            } else {
                result = try? Fast.evaluate(CrossEntropyLoss(reduction: .none), input: empty, target: Tensor<Int>(unchecked: [0], []), gradients: .input)
            }
            if result == nil || result?.output.count != 0 || result?.gradInput?.count != 0 { failures.value[i] = 1 }
        }
        #expect(failures.value.allSatisfy { $0 == 0 }, "calls with empty results: \(Array(failures.value))")
    }

    @Test("gaussian_nll: a written buffer over the variance is a shape error")
    func gaussianVarianceAliasing() {
        let n = 16
        let arena = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4 * n)
        arena.initialize(repeating: 1)
        defer { arena.deallocate() }
        func window(_ offset: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: arena[offset..<offset + count])
        }
        let error = caught { () throws(LossError) in
            try Fast.evaluate(GaussianNLLLoss(reduction: .none), input: UnsafeBufferPointer(window(0, n)), target: UnsafeBufferPointer(window(n, n)),
                              variance: UnsafeBufferPointer(window(2 * n, n)), shape: [n], varianceShape: [n],
                              into: Fast.Outputs(output: window(3 * n, n), gradInput: window(2 * n, n)))
        }
        let failures = errorFailures(error, kind: .shape, ["gaussian_nll: the gradInput buffer overlaps the variance buffer"])
        #expect(failures.isEmpty, "\(failures)")
    }
}

/// Hands buffers to the iterations of `concurrentPerform`; each iteration writes only its
/// own slots.
struct HostileSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension HostileBufferTests {
    /// Runs `calls` calls at once, call i evaluating `entries[i % entries.count]` on 3
    /// threads into its own `size` Floats (NaN-filled), and expects each to return no
    /// error and the bits of the same entry evaluated alone on 1 thread, over the first
    /// `used(entry)` Floats (the outputs the entry writes).
    static func expectConcurrentBits<Entry: CustomStringConvertible & Sendable>(
        entries: [Entry], calls: Int, size: Int, used: (Entry) -> Int,
        evaluate: @escaping @Sendable (Entry, _ threads: Int, _ into: UnsafeMutableBufferPointer<Float>) -> LossError?
    ) {
        let baseline = UnsafeMutableBufferPointer<Float>.allocate(capacity: size * entries.count)
        let results = UnsafeMutableBufferPointer<Float>.allocate(capacity: size * calls)
        let errors = UnsafeMutableBufferPointer<LossError?>.allocate(capacity: calls)
        defer { baseline.deallocate(); results.deallocate(); errors.deallocate() }
        baseline.initialize(repeating: .nan)
        results.initialize(repeating: .nan)
        errors.initialize(repeating: nil)
        for (k, entry) in entries.enumerated() {
            let error = evaluate(entry, 1, UnsafeMutableBufferPointer(rebasing: baseline[k * size..<(k + 1) * size]))
            #expect(error == nil, "\(entry): \(String(describing: error))")
        }
        let shared = HostileSendableBox((results, errors, entries))
        DispatchQueue.concurrentPerform(iterations: calls) { i in
            let (results, errors, entries) = shared.value
            errors[i] = evaluate(entries[i % entries.count], 3,
                                 UnsafeMutableBufferPointer(rebasing: results[i * size..<(i + 1) * size]))
        }
        for i in 0..<calls {
            let k = i % entries.count
            #expect(errors[i] == nil, "call \(i) (\(entries[k])): \(String(describing: errors[i]))")
            let count = used(entries[k])
            // memcmp first (fast in a debug build); the element only for the message.
            let same = memcmp(results.baseAddress! + i * size, baseline.baseAddress! + k * size, count * MemoryLayout<Float>.stride) == 0
            let mismatch = same ? nil : (0..<count).first { j in
                results[i * size + j].bitPattern != baseline[k * size + j].bitPattern
            }
            #expect(mismatch == nil, "call \(i) (\(entries[k]), 3 threads, \(calls) calls at once): element \(mismatch ?? -1) differs from the single-threaded bits: \(mismatch.map { results[i * size + $0] } ?? 0) vs \(mismatch.map { baseline[k * size + $0] } ?? 0)")
        }
    }
}

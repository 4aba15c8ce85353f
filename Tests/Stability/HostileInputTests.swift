import Foundation
import Testing
import FastLosses
import LossVerification
import ReferenceLosses

// Hostile input through the tensor and AnyLoss entry points of both engines: every
// misuse is a `LossError` whose message names the argument and what was expected, and
// every degenerate but legal input (empty tensors, all-ignored batches, NaN weights,
// zero total weight) gives exactly PyTorch's result. Each case runs through every entry
// point that exists for its loss (HostileSupport.swift: `check`); the expected values
// are worked by hand in the comments.

/// Every elementwise loss with default options, for the tests that hold for all of them.
let hostileElementwiseLosses: [AnyLoss] = [
    .mse(MSELoss()), .l1(L1Loss()), .huber(HuberLoss()), .smoothL1(SmoothL1Loss()), .bce(BCELoss()),
    .bceWithLogits(BCEWithLogitsLoss()), .klDiv(KLDivLoss()), .poissonNLL(PoissonNLLLoss()),
    .gaussianNLL(GaussianNLLLoss()),
]

/// `loss` with another reduction.
func withReduction(_ loss: AnyLoss, _ reduction: Reduction) -> AnyLoss {
    switch loss {
    case .mse(var l): l.reduction = reduction; return .mse(l)
    case .l1(var l): l.reduction = reduction; return .l1(l)
    case .huber(var l): l.reduction = reduction; return .huber(l)
    case .smoothL1(var l): l.reduction = reduction; return .smoothL1(l)
    case .bce(var l): l.reduction = reduction; return .bce(l)
    case .bceWithLogits(var l): l.reduction = reduction; return .bceWithLogits(l)
    case .crossEntropy(var l): l.reduction = reduction; return .crossEntropy(l)
    case .nll(var l): l.reduction = reduction; return .nll(l)
    case .klDiv(var l): l.reduction = reduction; return .klDiv(l)
    case .poissonNLL(var l): l.reduction = reduction; return .poissonNLL(l)
    case .gaussianNLL(var l): l.reduction = reduction; return .gaussianNLL(l)
    }
}

/// Arguments of an elementwise loss: input and target of `shape` (values in [0, 1], legal
/// for every loss), and a variance of ones for `gaussian_nll`.
func elementwiseArguments(_ loss: AnyLoss, shape: [Int], targetShape: [Int]? = nil) throws(LossError) -> LossArguments<Double> {
    let count = try Shape.elementCount(shape, argument: "test shape")
    let targetShape = targetShape ?? shape
    let targetCount = try Shape.elementCount(targetShape, argument: "test shape")
    let input = try tensor(shape, (0..<count).map { 0.25 + 0.5 * Double($0 % 2) })
    let target = try tensor(targetShape, (0..<targetCount).map { Double($0 % 2) })
    var variance: Tensor<Double>?
    if case .gaussianNLL = loss { variance = try Tensor(repeating: 1, shape: shape) }
    return LossArguments(input: input, target: .values(target), variance: variance)
}

@Suite("Hostile input: tensor and AnyLoss entry points")
struct HostileInputTests {
    // MARK: Shapes

    @Test("a negative dimension or an element count past Int.max cannot make a tensor")
    func malformedShapes() {
        // The tensor initializers are the gate of every tensor entry point.
        let negative = caught { () throws(LossError) in try Tensor<Float>(shape: [2, -3], scalars: []) }
        #expect(errorFailures(negative, kind: .shape, ["dimension 1 is -3", "non-negative"]).isEmpty, "\(String(describing: negative))")
        let overflow = caught { () throws(LossError) in try Tensor<Float>(repeating: 0, shape: [Int.max, 2]) }
        #expect(errorFailures(overflow, kind: .shape, ["[\(Int.max), 2]", "overflows Int"]).isEmpty, "\(String(describing: overflow))")
        let minDim = caught { () throws(LossError) in try Tensor<Int>(shape: [Int.min], scalars: []) }
        #expect(errorFailures(minDim, kind: .shape, ["dimension 0 is \(Int.min)"]).isEmpty, "\(String(describing: minDim))")
        let wrongCount = caught { () throws(LossError) in try Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3]) }
        #expect(errorFailures(wrongCount, kind: .shape, ["3 scalars for shape [2, 3]", "expected 6"]).isEmpty, "\(String(describing: wrongCount))")
    }

    @Test("dimensions whose product overflows Int are rejected even next to a zero dimension")
    func overflowBesideZero() {
        // [0, 2^62, 4] has 0 elements, but 2^62 * 4 overflows: a layout's inner size, a
        // broadcast stride or a row offset computed from it would trap. Regression: such
        // a tensor used to be accepted, and cross_entropy's layout then trapped.
        let shape = [0, 1 << 62, 4]
        let error = caught { () throws(LossError) in try Tensor<Double>(shape: shape, scalars: []) }
        #expect(errorFailures(error, kind: .shape, ["[0, \(1 << 62), 4]", "overflows Int"]).isEmpty, "\(String(describing: error))")
        // The buffer entry points take the shape on its own: the same check applies.
        let layout = caught { () throws(LossError) in
            try Validate.classLayout(input: [0, 3, 1 << 62, 4], target: [0, 1 << 62, 4], probabilities: false,
                                     reduction: .mean, loss: "cross_entropy")
        }
        #expect(errorFailures(layout, kind: .shape, ["cross_entropy: input", "overflows Int"]).isEmpty, "\(String(describing: layout))")
        let broadcast = caught { () throws(LossError) in
            try Broadcast([0, 1 << 62, 4], to: [0, 1 << 62, 4], loss: "bce", argument: "weight")
        }
        #expect(errorFailures(broadcast, kind: .shape, ["bce: weight", "overflows Int"]).isEmpty, "\(String(describing: broadcast))")
    }

    @Test("input and target shapes that differ (rank or dimensions) are shape errors naming both", arguments: hostileElementwiseLosses)
    func mismatchedShapes(_ loss: AnyLoss) throws {
        for (input, target) in [([2, 3], [3, 2]), ([6], [2, 3]), ([2, 3], [2, 3, 1]), ([], [1]), ([4], [])] {
            let c = HostileCase(name: "input \(input) vs target \(target)", loss: loss,
                                arguments: try elementwiseArguments(loss, shape: input, targetShape: target),
                                expect: .error(.shape, ["\(loss.name): target shape \(Shape.describe(target)) differs from the input shape \(Shape.describe(input))"]),
                                entries: [.referenceAny, .referenceTyped, .fastAny, .fastTensor])
            check(c)
        }
    }

    @Test("class-index targets whose shape does not fit the input name the expected shape")
    func classShapeMismatch() throws {
        let ce = AnyLoss.crossEntropy(CrossEntropyLoss()), nll = AnyLoss.nll(NLLLoss())
        let cases: [([Int], [Int], [String])] = [
            ([2, 3], [3], ["target shape [3] does not fit input [2, 3]; expected [2]"]),
            ([2, 3], [2, 1], ["target shape [2, 1] does not fit input [2, 3]; expected [2]"]),
            ([2, 3, 4], [2, 3], ["target shape [2, 3] does not fit input [2, 3, 4]; expected [2, 4]"]),
            ([3], [1], ["target shape [1] does not fit input [3]; expected []"]),
            ([], [], ["input has shape []; expected [C], [N, C] or [N, C, d1, ..., dk]"]),
        ]
        for loss in [ce, nll] {
            for (input, target, parts) in cases {
                let x = try Tensor(repeating: 0.0, shape: input)
                let y = try Tensor(repeating: 0, shape: target)
                check(HostileCase(name: "input \(input) target \(target)", loss: loss,
                                  arguments: LossArguments(input: x, target: .classes(y)), gradients: .input,
                                  expect: .error(.shape, ["\(loss.name): "] + parts)))
            }
        }
        // Probability targets must have the input's shape.
        let x = try Tensor(repeating: 0.0, shape: [2, 3]), y = try Tensor(repeating: 0.25, shape: [2, 4])
        check(HostileCase(name: "probability target [2, 4]", loss: ce, arguments: LossArguments(input: x, target: .values(y)),
                          expect: .error(.shape, ["cross_entropy: probability target shape [2, 4] differs from the input shape [2, 3]"]),
                          entries: HostileEntry.allCases.filter { $0 != .fastAnyBuffer }))
        // The type-erased buffer form takes real-valued targets as a bare buffer of the
        // input's shape, so what it can see is the buffer's length.
        check(HostileCase(name: "probability target [2, 4]", loss: ce, arguments: LossArguments(input: x, target: .values(y)),
                          expect: .error(.shape, ["cross_entropy: target buffer has 8 elements; expected 6"]),
                          entries: [.fastAnyBuffer]))
    }

    @Test("a class dimension of 0 is a shape error, not an empty result")
    func zeroClasses() throws {
        for loss in [AnyLoss.crossEntropy(CrossEntropyLoss()), .nll(NLLLoss())] {
            for (input, target) in [([2, 0], [2]), ([0], []), ([2, 0, 3], [2, 3]), ([0, 0], [0])] {
                check(HostileCase(name: "input \(input)", loss: loss,
                                  arguments: LossArguments(input: try Tensor(repeating: 0.0, shape: input),
                                                           target: .classes(try Tensor(repeating: 0, shape: target))),
                                  expect: .error(.shape, ["\(loss.name): the class dimension of input \(Shape.describe(input)) is 0; expected at least one class"])))
            }
        }
    }

    // A buffer has a length, not a shape: the buffer entry points check the upstream's
    // length (HostileBufferTests.wrongLengths).
    @Test("upstream gradients of the wrong shape are shape errors naming the expected shape", arguments: hostileElementwiseLosses)
    func upstreamShape(_ loss: AnyLoss) throws {
        for (reduction, upstreamShape, outputShape) in [(Reduction.none, [3, 2], [2, 3]), (.none, [], [2, 3]), (.mean, [1], []), (.sum, [2, 3], [])] {
            let l = withReduction(loss, reduction)
            var arguments = try elementwiseArguments(l, shape: [2, 3])
            arguments.upstream = try Tensor(repeating: 1, shape: upstreamShape)
            check(HostileCase(name: "upstream \(upstreamShape)", loss: l, arguments: arguments,
                              expect: .error(.shape, ["\(loss.name): upstream gradient shape \(Shape.describe(upstreamShape)) differs from the output shape \(Shape.describe(outputShape))"]),
                              entries: [.referenceAny, .referenceTyped, .fastAny, .fastTensor]))
        }
    }

    @Test("we set no rank limit: rank-64 tensors work")
    func noRankLimit() throws {
        let ones = Array(repeating: 1, count: 62)
        // mse on a single element: e = 3 - 1 = 2, loss e^2 = 4, d/dx = 2e = 4, d/dy = -4.
        check(HostileCase(name: "rank 64", loss: .mse(MSELoss()),
                          arguments: LossArguments(input: try tensor(ones + [1, 1], [3]), target: .values(try tensor(ones + [1, 1], [1]))),
                          expect: expectValues(output: [], [4], gradInput: [4], gradTarget: [-4])))
        // cross_entropy, input [1, 2, 1 x 62] of zero logits, target class 0:
        // loss = log 2, d/dx = softmax - onehot = [1/2 - 1, 1/2].
        check(HostileCase(name: "rank 64", loss: .crossEntropy(CrossEntropyLoss()),
                          arguments: LossArguments(input: try tensor([1, 2] + ones, [0, 0]), target: .classes(try indices([1] + ones, [0]))),
                          gradients: .input, expect: expectValues(output: [], [log(2)], gradInput: [-0.5, 0.5])))
    }

    // MARK: Empty tensors: PyTorch's empty reductions, not errors

    @Test("an empty input gives mean NaN, sum 0 and an empty none, with empty gradients", arguments: hostileElementwiseLosses)
    func emptyElementwise(_ loss: AnyLoss) throws {
        for shape in [[0], [2, 0, 3]] {
            for (reduction, output, values) in [(Reduction.mean, [Int](), [Double.nan]), (.sum, [], [0]), (.none, shape, [])] {
                let l = withReduction(loss, reduction)
                check(HostileCase(name: "empty \(shape)", loss: l, arguments: try elementwiseArguments(l, shape: shape),
                                  expect: expectValues(output: output, values, gradInput: [], gradTarget: [])))
            }
        }
    }

    @Test("kl_div batchmean divides by dimension 0: 0/0 = NaN for [0, 3], 0/3 = 0 for [3, 0]")
    func emptyBatchmean() throws {
        let l = AnyLoss.klDiv(KLDivLoss(reduction: .batchmean))
        check(HostileCase(name: "[0, 3]", loss: l, arguments: try elementwiseArguments(l, shape: [0, 3]),
                          expect: expectValues(output: [], [.nan], gradInput: [], gradTarget: [])))
        check(HostileCase(name: "[3, 0]", loss: l, arguments: try elementwiseArguments(l, shape: [3, 0]),
                          expect: expectValues(output: [], [0], gradInput: [], gradTarget: [])))
    }

    @Test("empty class losses: no rows gives mean NaN, sum 0, none empty")
    func emptyClassLosses() throws {
        for loss in [AnyLoss.crossEntropy(CrossEntropyLoss()), .nll(NLLLoss())] {
            for (input, target) in [([0, 3], [0]), ([2, 3, 0], [2, 0]), ([0, 3, 2], [0, 2])] {
                for (reduction, output, values) in [(Reduction.mean, [Int](), [Double.nan]), (.sum, [], [0]), (.none, target, [])] {
                    check(HostileCase(name: "empty \(input)", loss: withReduction(loss, reduction),
                                      arguments: LossArguments(input: try Tensor(repeating: 0, shape: input),
                                                               target: .classes(try Tensor(repeating: 0, shape: target))),
                                      gradients: .input, expect: expectValues(output: output, values, gradInput: [])))
                }
            }
        }
        // Probability targets: the mean divides by N * d1 * ... = 0.
        check(HostileCase(name: "empty probabilities [0, 3]", loss: .crossEntropy(CrossEntropyLoss()),
                          arguments: LossArguments(input: try Tensor(repeating: 0, shape: [0, 3]), target: .values(try Tensor(repeating: 0, shape: [0, 3]))),
                          expect: expectValues(output: [], [.nan], gradInput: [], gradTarget: [])))
    }

    // MARK: Class indices

    @Test("class indices outside [0, C) are target errors naming position and value")
    func classIndicesOutOfRange() throws {
        let x = try Tensor(repeating: 0.0, shape: [3, 4])
        for loss in [AnyLoss.crossEntropy(CrossEntropyLoss()), .nll(NLLLoss())] {
            for bad in [-1, 4, 5, Int.min, Int.max, -99, -101] {
                check(HostileCase(name: "index \(bad)", loss: loss,
                                  arguments: LossArguments(input: x, target: .classes(try indices([3], [0, bad, 2]))), gradients: .input,
                                  expect: .error(.target, ["\(loss.name): target[1] = \(bad) is out of range for 4 classes (ignore_index is -100)"])))
            }
            // A k-dimensional target names the multi-index.
            check(HostileCase(name: "k-dim index", loss: loss,
                              arguments: LossArguments(input: try Tensor(repeating: 0.0, shape: [2, 3, 2]), target: .classes(try indices([2, 2], [0, 1, 3, 2]))),
                              gradients: .input, expect: .error(.target, ["target[1, 0] = 3 is out of range for 3 classes"])))
            // Unbatched: a scalar target.
            check(HostileCase(name: "unbatched", loss: loss,
                              arguments: LossArguments(input: try Tensor(repeating: 0.0, shape: [3]), target: .classes(try indices([], [Int.max]))),
                              gradients: .input, expect: .error(.target, ["target[0] = \(Int.max) is out of range for 3 classes"])))
        }
    }

    @Test("every target equal to ignore_index: mean NaN, sum 0, none zeros, gradient 0", arguments: [-100, Int.min, Int.max, 0, 2])
    func allIgnored(_ ignore: Int) throws {
        let x = try tensor([2, 3], [1, -2, 30, 0, 0, 0])
        let y = try indices([2], [ignore, ignore])
        let ce: [AnyLoss] = [.crossEntropy(CrossEntropyLoss(ignoreIndex: ignore)), .crossEntropy(CrossEntropyLoss(ignoreIndex: ignore, labelSmoothing: 0.25)),
                             .nll(NLLLoss(ignoreIndex: ignore))]
        for loss in ce {
            for (reduction, output, values) in [(Reduction.mean, [Int](), [Double.nan]), (.sum, [], [0]), (.none, [2], [0, 0])] {
                check(HostileCase(name: "all ignored (\(ignore))", loss: withReduction(loss, reduction),
                                  arguments: LossArguments(input: x, target: .classes(y)), gradients: .input,
                                  expect: expectValues(output: output, values, gradInput: Array(repeating: 0, count: 6))))
            }
        }
    }

    @Test("an ignore_index inside [0, C) ignores that class's rows")
    func ignoreIndexInRange() throws {
        // Zero logits, C = 3, targets [1, 0] with ignore_index 1: only row 1 counts.
        // mean = log 3 / 1; d/dx row 1 = softmax - onehot(0) = [1/3 - 1, 1/3, 1/3], row 0 = 0.
        let x = try Tensor(repeating: 0.0, shape: [2, 3])
        check(HostileCase(name: "ignore 1", loss: .crossEntropy(CrossEntropyLoss(ignoreIndex: 1)),
                          arguments: LossArguments(input: x, target: .classes(try indices([2], [1, 0]))), gradients: .input,
                          expect: expectValues(output: [], [log(3)], gradInput: [0, 0, 0, -2.0 / 3, 1.0 / 3, 1.0 / 3])))
    }

    // MARK: Options

    @Test("NaN, infinite or out-of-domain options are option errors naming the option")
    func badOptions() throws {
        let args = try elementwiseArguments(.mse(MSELoss()), shape: [2])
        let bad: [Double] = [.nan, .infinity, -.infinity, -1, -.leastNonzeroMagnitude]
        for value in bad + [0] {
            check(HostileCase(name: "delta \(value)", loss: .huber(HuberLoss(delta: value)), arguments: args,
                              expect: .error(.option, ["huber: delta = \(value); expected a finite value > 0"])))
        }
        for value in bad {
            check(HostileCase(name: "beta \(value)", loss: .smoothL1(SmoothL1Loss(beta: value)), arguments: args,
                              expect: .error(.option, ["smooth_l1: beta = \(value); expected a finite value >= 0"])))
            check(HostileCase(name: "eps \(value)", loss: .poissonNLL(PoissonNLLLoss(eps: value)), arguments: args,
                              expect: .error(.option, ["poisson_nll: eps = \(value); expected a finite value >= 0"])))
        }
        var gaussianArgs = args
        gaussianArgs.variance = try Tensor(repeating: 1, shape: [2])
        for value in bad + [0] {
            check(HostileCase(name: "eps \(value)", loss: .gaussianNLL(GaussianNLLLoss(eps: value)), arguments: gaussianArgs,
                              expect: .error(.option, ["gaussian_nll: eps = \(value); expected a finite value > 0"])))
        }
        let classArgs = LossArguments(input: try Tensor(repeating: 0.0, shape: [2, 3]), target: .classes(try indices([2], [0, 1])))
        let probabilityArgs = LossArguments(input: try Tensor(repeating: 0.0, shape: [2, 3]), target: .values(try Tensor(repeating: 1.0 / 3, shape: [2, 3])))
        for value in [Double.nan, .infinity, -.infinity, -0.1, 1.5, 1 + 0x1p-52] {
            for arguments in [classArgs, probabilityArgs] {
                check(HostileCase(name: "label_smoothing \(value)", loss: .crossEntropy(CrossEntropyLoss(labelSmoothing: value)), arguments: arguments,
                                  expect: .error(.option, ["cross_entropy: label_smoothing = \(value); expected a value in [0, 1]"])))
            }
        }
        // ignore_index must be negative with probability targets.
        check(HostileCase(name: "ignore_index 0 with probabilities", loss: .crossEntropy(CrossEntropyLoss(ignoreIndex: 0)), arguments: probabilityArgs,
                          expect: .error(.option, ["cross_entropy: ignore_index = 0 is not supported with probability targets; expected a negative value"])))
        // A class weight without exactly C entries.
        for shape in [[2], [4], [1, 3], []] {
            let weight = try Tensor(repeating: 1.0, shape: shape)
            for loss in [AnyLoss.crossEntropy(CrossEntropyLoss(weight: weight)), .nll(NLLLoss(weight: weight))] {
                check(HostileCase(name: "weight \(shape)", loss: loss, arguments: classArgs, gradients: .input,
                                  expect: .error(.option, ["\(loss.name): weight has shape \(Shape.describe(shape)); expected [3], one entry per class"])))
            }
        }
    }

    @Test("batchmean is an option error for every loss but kl_div")
    func batchmeanElsewhere() throws {
        for loss in hostileElementwiseLosses where loss.name != "kl_div" {
            let l = withReduction(loss, .batchmean)
            check(HostileCase(name: "batchmean", loss: l, arguments: try elementwiseArguments(l, shape: [2]),
                              expect: .error(.option, ["\(loss.name): reduction 'batchmean' is only defined for kl_div"])))
        }
        for loss in [AnyLoss.crossEntropy(CrossEntropyLoss(reduction: .batchmean)), .nll(NLLLoss(reduction: .batchmean))] {
            check(HostileCase(name: "batchmean", loss: loss,
                              arguments: LossArguments(input: try Tensor(repeating: 0.0, shape: [2, 3]), target: .classes(try indices([2], [0, 1]))),
                              gradients: .input, expect: .error(.option, ["\(loss.name): reduction 'batchmean' is only defined for kl_div"])))
        }
    }

    @Test("threads < 1 is an option error of the fast engine", arguments: [0, -1, Int.min])
    func badThreads(_ threads: Int) throws {
        for loss in hostileElementwiseLosses {
            check(HostileCase(name: "threads \(threads)", loss: loss, arguments: try elementwiseArguments(loss, shape: [3]),
                              threads: threads, expect: .error(.option, ["threads = \(threads); expected nil (all processors) or a count >= 1"]),
                              entries: [.fastAny, .fastTensor, .fastBuffer, .fastAnyBuffer]))
        }
    }

    // MARK: Weights: unguarded, exactly as the formulas give

    @Test("a NaN class weight makes exactly the rows of that class NaN, and the mean NaN")
    func nanClassWeight() throws {
        // Zero logits, C = 3, targets [0, 1], weight [1, NaN, 1], no smoothing:
        // none = [-w0 logp = log 3, NaN]; d/dx row 0 = [1/3 - 1, 1/3, 1/3], row 1 NaN.
        let w = try tensor([3], [1, .nan, 1])
        let x = try Tensor(repeating: 0.0, shape: [2, 3]), y = try indices([2], [0, 1])
        let third = 1.0 / 3, nan = Double.nan
        check(HostileCase(name: "NaN weight", loss: .crossEntropy(CrossEntropyLoss(reduction: .none, weight: w)),
                          arguments: LossArguments(input: x, target: .classes(y)), gradients: .input,
                          expect: expectValues(output: [2], [log(3), nan], gradInput: [third - 1, third, third, nan, nan, nan])))
        // mean: the denominator 1 + NaN is NaN, so everything is NaN.
        check(HostileCase(name: "NaN weight", loss: .crossEntropy(CrossEntropyLoss(weight: w)),
                          arguments: LossArguments(input: x, target: .classes(y)), gradients: .input,
                          expect: expectValues(output: [], [nan], gradInput: Array(repeating: nan, count: 6))))
        // nll: log-probabilities [-1, -2, -3] and [-4, -5, -6]; none = [1, NaN].
        check(HostileCase(name: "NaN weight", loss: .nll(NLLLoss(reduction: .none, weight: w)),
                          arguments: LossArguments(input: try tensor([2, 3], [-1, -2, -3, -4, -5, -6]), target: .classes(y)), gradients: .input,
                          expect: expectValues(output: [2], [1, nan], gradInput: [-1, 0, 0, 0, nan, 0])))
    }

    @Test("negative class weights are used as given; a negative total flips the mean's sign")
    func negativeClassWeights() throws {
        // Zero logits, C = 3, weight [1, -2, 1], targets [0, 1]: l = [log 3, -2 log 3],
        // den = 1 - 2 = -1, mean = (log 3 - 2 log 3) / -1 = log 3.
        // d/dx = w[y] (p - onehot) / den: row 0 = [-2/3, 1/3, 1/3] / -1 = [2/3, -1/3, -1/3];
        // row 1 = -2 [1/3, -2/3, 1/3] / -1 = [2/3, -4/3, 2/3].
        let w = try tensor([3], [1, -2, 1])
        let x = try Tensor(repeating: 0.0, shape: [2, 3]), y = try indices([2], [0, 1])
        check(HostileCase(name: "negative weights", loss: .crossEntropy(CrossEntropyLoss(weight: w)),
                          arguments: LossArguments(input: x, target: .classes(y)), gradients: .input,
                          expect: expectValues(output: [], [log(3)], gradInput: [2.0 / 3, -1.0 / 3, -1.0 / 3, 2.0 / 3, -4.0 / 3, 2.0 / 3])))
    }

    @Test("a zero total weight is unguarded: x/0 = +-inf, 0/0 = NaN, gradient scale 1/0")
    func zeroTotalWeight() throws {
        // weight [1, -1, 1], targets [0, 1] => den = 0. Row 0: zero logits, l0 = log 3.
        // Row 1: logits [0, 0, -inf], p = [1/2, 1/2, 0], l1 = -w[1] logp[1] = -(-1)(-log 2) = -log 2.
        // mean = (log 3 - log 2) / 0 = +inf. d/dx = w[y] (p - onehot) * (1/0):
        // row 0: [-2/3, 1/3, 1/3] * inf = [-inf, inf, inf]; row 1: -[1/2, -1/2, 0] * inf = [-inf, inf, NaN (0 * inf)].
        let w = try tensor([3], [1, -1, 1])
        let x = try tensor([2, 3], [0, 0, 0, 0, 0, -.infinity]), y = try indices([2], [0, 1])
        let inf = Double.infinity
        check(HostileCase(name: "zero total weight", loss: .crossEntropy(CrossEntropyLoss(weight: w)),
                          arguments: LossArguments(input: x, target: .classes(y)), gradients: .input,
                          expect: expectValues(output: [], [inf], gradInput: [-inf, inf, inf, -inf, inf, .nan])))
        // sum has no denominator: log 3 - log 2, finite.
        check(HostileCase(name: "zero total weight", loss: .crossEntropy(CrossEntropyLoss(reduction: .sum, weight: w)),
                          arguments: LossArguments(input: x, target: .classes(y)), gradients: .input,
                          expect: expectValues(output: [], [log(1.5)], gradInput: [-2.0 / 3, 1.0 / 3, 1.0 / 3, -0.5, 0.5, 0])))
        // All weights 0: every term is 0, mean = 0/0 = NaN, and every gradient element is
        // 0 * (1/0) = NaN.
        let zeros = try tensor([3], [0, 0, 0])
        for loss in [AnyLoss.crossEntropy(CrossEntropyLoss(weight: zeros)), .nll(NLLLoss(weight: zeros))] {
            check(HostileCase(name: "all weights 0", loss: loss,
                              arguments: LossArguments(input: try Tensor(repeating: -1.0, shape: [2, 3]), target: .classes(y)), gradients: .input,
                              expect: .result { result, entry in
                                  var failures = valueFailures("output", actual: result.output.scalars, expected: [.nan], roundoff: entry.unitRoundoff)
                                  // nll's gradient is nonzero only at the target entries: -w[y] / den = -0 * inf = NaN there, 0 elsewhere.
                                  let expected: [Double] = loss.name == "nll" ? [.nan, 0, 0, 0, .nan, 0] : Array(repeating: .nan, count: 6)
                                  failures += valueFailures("gradInput", actual: result.gradInput?.scalars ?? [], expected: expected, roundoff: entry.unitRoundoff)
                                  return failures
                              }))
        }
    }

    @Test("NaN and negative elementwise weights propagate as the formula gives")
    func elementwiseWeights() throws {
        // bce, x = [0.5, 0.5], y = [1, 0], weight [1, NaN]: none = [w log 2, NaN];
        // d/dx = w (x - y) / (x (1 - x)) = [-0.5 / 0.25, NaN] = [-2, NaN];
        // d/dy = w (log(1 - x) - log x) = [0, NaN].
        let x = try tensor([2], [0.5, 0.5]), y = try tensor([2], [1, 0])
        check(HostileCase(name: "NaN weight", loss: .bce(BCELoss(reduction: .none, weight: try tensor([2], [1, .nan]))),
                          arguments: LossArguments(input: x, target: .values(y)),
                          expect: expectValues(output: [2], [log(2), .nan], gradInput: [-2, .nan], gradTarget: [0, .nan])))
        // Negative weight [-1, 2]: none = [-log 2, 2 log 2], mean = log 2 / 2 (weights
        // do not enter bce's denominator).
        check(HostileCase(name: "negative weight", loss: .bce(BCELoss(weight: try tensor([2], [-1, 2]))),
                          arguments: LossArguments(input: x, target: .values(y)),
                          expect: expectValues(output: [], [log(2) / 2])))
        // bce_with_logits with pos_weight NaN: (1 + (pw - 1) y) is NaN even where y = 0
        // (NaN * 0 = NaN), so both elements are NaN.
        check(HostileCase(name: "NaN pos_weight", loss: .bceWithLogits(BCEWithLogitsLoss(reduction: .none, posWeight: try tensor([1], [.nan]))),
                          arguments: LossArguments(input: try tensor([2], [0, 0]), target: .values(y)),
                          expect: expectValues(output: [2], [.nan, .nan], gradInput: [.nan, .nan], gradTarget: [.nan, .nan])))
    }

    // MARK: Value domains

    @Test("bce: NaN or out-of-range probabilities are input/target errors naming the element")
    func bceDomain() throws {
        for bad in [Double.nan, -0.5, 1.5, .infinity, -.infinity] {
            check(HostileCase(name: "input \(bad)", loss: .bce(BCELoss()),
                              arguments: LossArguments(input: try tensor([2], [0.5, bad]), target: .values(try tensor([2], [0, 1]))),
                              expect: .error(.input, ["bce: input[1] = \(bad) is not a probability; expected a value in [0, 1]"])))
            check(HostileCase(name: "target \(bad)", loss: .bce(BCELoss()),
                              arguments: LossArguments(input: try tensor([2], [0.5, 0.5]), target: .values(try tensor([2], [bad, 1]))),
                              expect: .error(.target, ["bce: target[0] = \(bad) is not a probability; expected a value in [0, 1]"])))
        }
    }

    @Test("gaussian_nll: a negative variance is an input error; a NaN variance gives NaN")
    func gaussianVariance() throws {
        let loss = AnyLoss.gaussianNLL(GaussianNLLLoss(reduction: .none))
        let x = try tensor([2], [0, 0]), y = try tensor([2], [1, 1])
        // -2^-149, the smallest Float below 0 (a negative Double that rounds to -0 in Float
        // would not be negative for the fast engine).
        for bad in [-1.0, -.infinity, -Double(Float.leastNonzeroMagnitude)] {
            check(HostileCase(name: "var \(bad)", loss: loss,
                              arguments: LossArguments(input: x, target: .values(y), variance: try tensor([2], [1, bad])),
                              expect: .error(.input, ["gaussian_nll: var[1] = \(bad) is negative; expected variances >= 0"])))
        }
        // var = [1, NaN]: element 0 = 0.5 (log 1 + 1/1) = 0.5, d/dx = e / v = -1, d/dy = 1;
        // element 1 is NaN (the clamp max(NaN, eps) keeps the NaN, as torch.clamp does).
        check(HostileCase(name: "var NaN", loss: loss,
                          arguments: LossArguments(input: x, target: .values(y), variance: try tensor([2], [1, .nan])),
                          expect: expectValues(output: [2], [0.5, .nan], gradInput: [-1, .nan], gradTarget: [1, .nan])))
        // A var of the wrong shape.
        check(HostileCase(name: "var [3]", loss: loss,
                          arguments: LossArguments(input: x, target: .values(y), variance: try tensor([3], [1, 1, 1])),
                          expect: .error(.shape, ["gaussian_nll: var shape [3] does not fit the input shape [2]"])))
    }

    @Test("every shape is checked before any value: a wrong upstream shape wins over a bad value in both engines")
    func shapesBeforeValues() throws {
        // Regression (found by the loss fuzzer): the reference checked bce's probabilities
        // and gaussian_nll's variances before the upstream's shape, the fast engine the
        // other way round, so the two engines threw different kinds for the same call.
        let upstream = try Tensor<Double>(shape: [0], scalars: [])
        check(HostileCase(name: "NaN target, upstream [0]", loss: .bce(BCELoss(reduction: .sum)),
                          arguments: LossArguments(input: try tensor([], [0.0625]), target: .values(try tensor([], [.nan])), upstream: upstream),
                          gradients: .target, expect: .error(.shape, ["bce: upstream"])))
        check(HostileCase(name: "negative var, upstream [0]", loss: .gaussianNLL(GaussianNLLLoss(reduction: .mean)),
                          arguments: LossArguments(input: try tensor([2], [0, 0]), target: .values(try tensor([2], [1, 1])),
                                                   variance: try tensor([2], [1, -1]), upstream: upstream),
                          expect: .error(.shape, ["gaussian_nll: upstream"])))
    }

    @Test("a NaN upstream reaches every gradient element, masked classes included", arguments: [3, 64])
    func nanUpstreamOnMaskedClass(_ classes: Int) throws {
        // Regression (found by the loss fuzzer): with probability targets the fast engine
        // zeroed the gradient of a class with target 0 on a -inf logit after multiplying by
        // the upstream g, so a NaN g left 0 there. d/dx_c = (p_c T - w_c t_c) g / den with
        // p_c = t_c = 0 is 0 * NaN = NaN (reference and PyTorch). C = 3 runs the fast
        // engine's 16-rows-in-lanes kernel, C = 64 its wide-row kernel.
        var logits = (0..<classes).map { Double($0 % 5) / 4 }
        logits[1] = -.infinity
        var probabilities = Array(repeating: 1 / Double(classes - 1), count: classes)
        probabilities[1] = 0
        let input = try tensor([1, classes], logits)
        for (reduction, upstreamShape) in [(Reduction.mean, [Int]()), (.sum, []), (.none, [1])] {
            for target in [LossTarget<Double>.values(try tensor([1, classes], probabilities)), .classes(try indices([1], [0]))] {
                let arguments = LossArguments(input: input, target: target, upstream: try tensor(upstreamShape, [.nan]))
                check(HostileCase(name: "NaN upstream, C = \(classes)", loss: .crossEntropy(CrossEntropyLoss(reduction: reduction)),
                                  arguments: arguments, gradients: .input,
                                  expect: .result { result, _ in
                                      let g = result.gradInput?.scalars ?? []
                                      return g.count == classes && g.allSatisfy(\.isNaN) ? [] : ["gradInput should be all NaN: \(g)"]
                                  }))
            }
        }
    }

    // MARK: Fuzzer findings that are documented Float deviations

    @Test("a label_smoothing below Float's range is 0 in the fast engine (documented deviation)")
    func tinyLabelSmoothing() throws {
        // Found by the loss fuzzer. x = [0, 1, -inf], probability target [1/2, 1/2, 0],
        // label_smoothing 1e-300, which is 0 in Float.
        // Reference: the smoothed target puts eps/3 > 0 on the masked class, so the loss
        // is +inf (SEMANTICS: a masked class with eps > 0 gives an infinite loss).
        // Fast: no smoothing; with L = log(1 + e), logp = [-L, 1 - L, -inf] and the masked
        // class's 0 * log 0 = 0, loss = L/2 + (L - 1)/2 = L - 1/2.
        let l = log1p(M_E)
        let arguments = LossArguments(input: try tensor([3], [0, 1, -.infinity]), target: .values(try tensor([3], [0.5, 0.5, 0])))
        check(HostileCase(name: "label_smoothing 1e-300", loss: .crossEntropy(CrossEntropyLoss(labelSmoothing: 1e-300)),
                          arguments: arguments, gradients: .none, expect: expectValues(output: [], [.infinity]),
                          entries: [.referenceAny, .referenceTyped]))
        check(HostileCase(name: "label_smoothing 1e-300", loss: .crossEntropy(CrossEntropyLoss(labelSmoothing: 1e-300)),
                          arguments: arguments, gradients: .none, expect: expectValues(output: [], [l - 0.5]),
                          entries: [.fastAny, .fastTensor, .fastBuffer, .fastAnyBuffer]))
    }

    @Test("bce_with_logits with an infinite target and pos_weight: NaN in the reference, never finite in the fast engine")
    func infiniteLogitTarget() throws {
        // Found by the loss fuzzer. x = -6.3125, y = -inf, pos_weight -6.3125:
        // (1 - y) x = -inf and -(1 + (pw - 1) y) log_sigmoid(x) = +inf, so PyTorch's and the
        // reference's arrangement gives inf - inf = NaN; the fast kernel's arrangement
        // reaches the limit (-inf here). Either way the value is not finite.
        let arguments = LossArguments(input: try tensor([1], [-6.3125]), target: .values(try tensor([1], [-.infinity])))
        let loss = AnyLoss.bceWithLogits(BCEWithLogitsLoss(reduction: .none, posWeight: try tensor([1], [-6.3125])))
        check(HostileCase(name: "target -inf", loss: loss, arguments: arguments, gradients: .none,
                          expect: expectValues(output: [1], [.nan]), entries: [.referenceAny, .referenceTyped]))
        check(HostileCase(name: "target -inf", loss: loss, arguments: arguments, gradients: .none,
                          expect: .result { result, _ in
                              result.output.scalars.allSatisfy { !$0.isFinite } ? [] : ["expected a non-finite value, got \(result.output.scalars)"]
                          }, entries: [.fastAny, .fastTensor, .fastBuffer, .fastAnyBuffer]))
    }

    // MARK: The AnyLoss entry points' own checks

    @Test("AnyLoss: a target of the wrong kind, a missing or extra variance")
    func anyLossArguments() throws {
        let x = try tensor([2], [0.5, 0.5])
        for loss in hostileElementwiseLosses {
            check(HostileCase(name: "class target", loss: loss, arguments: LossArguments(input: x, target: .classes(try indices([2], [0, 1])),
                                                                                           variance: loss.name == "gaussian_nll" ? x : nil),
                              expect: .error(.target, ["\(loss.name): target holds class indices; expected a float tensor of the input's shape"]),
                              entries: [.referenceAny, .referenceTyped, .fastAny, .fastAnyBuffer]))
        }
        check(HostileCase(name: "real target", loss: .nll(NLLLoss()),
                          arguments: LossArguments(input: try Tensor(repeating: 0.0, shape: [2, 3]), target: .values(try Tensor(repeating: 0.0, shape: [2, 3]))),
                          expect: .error(.target, ["nll: target holds real values; expected an int tensor of class indices"]),
                          entries: [.referenceAny, .referenceTyped, .fastAny, .fastAnyBuffer]))
        check(HostileCase(name: "no var", loss: .gaussianNLL(GaussianNLLLoss()), arguments: LossArguments(input: x, target: .values(x)),
                          expect: .error(.shape, ["gaussian_nll: the var argument is missing"]), entries: [.referenceAny, .fastAny, .fastAnyBuffer]))
        check(HostileCase(name: "extra var", loss: .mse(MSELoss()), arguments: LossArguments(input: x, target: .values(x), variance: x),
                          expect: .error(.shape, ["mse: takes no var argument (only gaussian_nll does)"]), entries: [.referenceAny, .fastAny, .fastAnyBuffer]))
    }
}

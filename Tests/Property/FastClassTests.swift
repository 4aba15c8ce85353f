import Foundation
import Testing
import FastLosses
import ReferenceLosses
import LossVerification

// Fast (Float) vs the Double reference for cross_entropy (class indices and probabilities)
// and nll: generated cases over every regime, shape, option and reduction; wide rows
// (C = 1000, 5000 over several blocks, 32000), k-dimensional inputs, -inf masked classes,
// NaN rows, ignored and zero-weight rows; algebraic properties; thread-count invariance;
// the buffer entry points. Bounds: FastClassBounds.swift. `LOSS_REPORT=1` prints the
// measured error distribution per loss.

/// Records failures (at most a few per test, with the count of the rest).
struct FailureLog {
    var messages: [String] = []
    var count = 0
    mutating func add(_ new: [String]) {
        count += new.count
        if messages.count < 5 { messages += new.prefix(5 - messages.count) }
    }
    func report(_ test: String) {
        for m in messages { Issue.record(Comment(rawValue: "\(test): \(m)")) }
        if count > messages.count { Issue.record(Comment(rawValue: "\(test): \(count - messages.count) more failures")) }
    }
}

/// A seeded generator for the hand-built cases of one test, and the rerun hint.
func classRNG(_ test: String, _ index: Int) -> (SeededGenerator, String) {
    let env = TestEnvironment.current
    let rng = SeededGenerator(seed: SeededGenerator.derivedSeed(env.seed, name: "FastClassTests." + test, index: index))
    return (rng, env.rerunCommand(filter: "FastClassTests/\(test)") + " (hand-built case \(index))")
}

extension SeededGenerator {
    mutating func floats(_ count: Int, sd: Double = 1) -> [Double] {
        (0..<count).map { _ in Double(Float(sd * normal())) }
    }
}

/// Runs `call` and records its failures (and its errors in `report`).
func runClassCall(_ call: ClassCall, _ log: inout FailureLog, report: ClassErrorReport? = nil, threads: Int? = nil) {
    do {
        let (failures, value, gradient) = try checkClassCall(call, threads: threads)
        log.add(failures)
        report?.add(call.kind, value: value, gradient: gradient)
        // The value-only call computes the same bits (it recomputes what the gradient
        // call reads back from the gradient buffer).
        let valueOnly = try call.fast(gradients: .none, threads: threads)
        let full = try call.fast(threads: threads)
        if !sameBits(valueOnly.output.scalars, full.output.scalars) {
            log.add(["value-only output differs from the value + gradient output: \(valueOnly.output.scalars.prefix(4)) vs \(full.output.scalars.prefix(4)); \(call)"])
        }
    } catch {
        log.add(["threw \(error); \(call)"])
    }
}

func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}

/// Equal values (+0 == -0), NaN where NaN.
func sameValues(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
}

/// Index targets with about `ignoredShare` of the rows ignored (-100).
func classIndices(_ rows: Int, classes: Int, ignoredShare: Double, rng: inout SeededGenerator) -> [Int] {
    (0..<rows).map { _ in rng.bool(ignoredShare) ? -100 : rng.int(below: classes) }
}

/// Probability rows (a softmax of N(0, sd^2) scores) in the input's layout.
func probabilityRows(shape: [Int], rng: inout SeededGenerator) -> [Double] {
    let batched = shape.count >= 2
    let C = batched ? shape[1] : shape[0], batch = batched ? shape[0] : 1
    let inner = batched ? shape.dropFirst(2).reduce(1, *) : 1
    var t = Array(repeating: 0.0, count: shape.reduce(1, *))
    let sd = rng.bool() ? 1.0 : 3.0
    for n in 0..<batch {
        for s in 0..<inner {
            let scores = (0..<C).map { _ in sd * rng.normal() }
            let m = scores.max()!
            let total = scores.reduce(0) { $0 + Foundation.exp($1 - m) }
            for c in 0..<C { t[(n * C + c) * inner + s] = Double(Float(Foundation.exp(scores[c] - m) / total)) }
        }
    }
    return t
}

/// Logits by regime for `count` values; rows of `classes` contiguous values (inner = 1).
func logits(_ regime: String, rows: Int, classes: Int, targets: [Int]?, rng: inout SeededGenerator) -> [Double] {
    var x = rng.floats(rows * classes, sd: regime == "normal3" ? 3 : 1)
    switch regime {
    case "one-hot":
        // One class raised by 10..60 per row (usually the target): one-hot to within
        // e^-10..e^-60, beyond Float's precision for most rows.
        for r in 0..<rows {
            let y = targets.map { $0[r] } ?? -1
            let c = y >= 0 && rng.bool(0.8) ? y : rng.int(below: classes)
            x[r * classes + c] = Double(Float(x[r * classes + c] + rng.uniform(10, 60)))
        }
    case "wide":
        x = (0..<(rows * classes)).map { _ in Double(Float(rng.logUniform(1e-30, 1e30))) }
    case "masked":
        for i in x.indices where rng.bool(0.3) { x[i] = -.infinity }
    case "ascending":
        // The maximum moves up in every block of a wide row (the online rescaling).
        for r in 0..<rows { for c in 0..<classes { x[r * classes + c] = Double(Float(x[r * classes + c] + Double(c) * 0.004)) } }
    default:
        break
    }
    return x
}

@Suite("Fast vs Reference: cross_entropy and nll")
struct FastClassTests {
    static let env = TestEnvironment.current

    // MARK: Generated cases

    @Test("generated cases: every regime, shape, option and reduction (Generators)",
          arguments: ["cross_entropy", "nll"])
    func generatedCases(_ name: String) throws {
        var log = FailureLog()
        let report = ClassErrorReport()
        let plain = GeneratorOptions()
        let tails = GeneratorOptions(simdTails: true, maxTailExponent: 6)
        for (options, base, label) in [(plain, 250, "default"), (tails, 120, "simd-tails")] {
            for index in Self.env.caseIndices(base: base) {
                let generated = try Generators.case(for: name, seed: Self.env.seed &+ (label == "default" ? 0 : 1), index: index, options: options)
                let origin = (generated.rerunHint ?? "") + " (options: \(label)); "
                    + Self.env.rerunCommand(filter: "FastClassTests/generatedCases", caseIndex: index)
                runClassCall(ClassCall(loss: generated.loss, arguments: generated.arguments, origin: origin), &log, report: report)
            }
        }
        log.report("generatedCases(\(name))")
        report.print("generated cases")
    }

    @Test("-inf masked classes: some classes, whole rows, absent probability targets")
    func maskedClasses() throws {
        var log = FailureLog()
        let report = ClassErrorReport()
        for name in ["cross_entropy", "nll"] {
            for index in Self.env.caseIndices(base: 150) {
                let generated = try Generators.case(for: name, seed: Self.env.seed &+ 2, index: index)
                var (rng, _) = classRNG("maskedClasses", index)
                var a = generated.arguments
                var x = a.input.scalars
                let wholeRows = rng.bool(0.2)
                for i in x.indices where rng.bool(wholeRows ? 0.9 : 0.25) { x[i] = -.infinity }
                a.input = try Tensor(shape: a.input.shape, scalars: x)
                if case .values(let t) = a.target, rng.bool() {
                    // Zero targets on the masked logits: 0 log 0 = 0.
                    let zeroed = t.scalars.indices.map { x[$0] == -.infinity && rng.bool(0.8) ? 0 : t.scalars[$0] }
                    a.target = .values(try Tensor(shape: t.shape, scalars: zeroed))
                }
                let origin = (generated.rerunHint ?? "") + " with -inf masks; "
                    + Self.env.rerunCommand(filter: "FastClassTests/maskedClasses", caseIndex: index)
                runClassCall(ClassCall(loss: generated.loss, arguments: a, origin: origin), &log, report: report)
            }
        }
        log.report("maskedClasses")
        report.print("masked classes")
    }

    // MARK: Wide rows

    @Test("wide rows: C = 127/128/129 (the layout threshold), 1000, 2049 and 5000 (several blocks), 32000; every regime; weights, smoothing, ignore, probabilities")
    func wideRows() throws {
        var log = FailureLog()
        let report = ClassErrorReport()
        let shapes: [(rows: Int, classes: Int)] = [(3, Fast.wideRowClasses - 1), (3, Fast.wideRowClasses), (3, Fast.wideRowClasses + 1),
                                                   (2, 1000), (1, 2049), (2, 5000), (1, 32000)]
        let regimes = ["normal", "normal3", "one-hot", "wide", "masked", "ascending"]
        var index = 0
        for (rows, C) in shapes {
            for regime in regimes where C == 1000 || (C < 1000 ? ["normal", "one-hot", "masked"] : ["normal3", "one-hot", "ascending", "masked"]).contains(regime) {
                for variant in 0..<(C == 32000 ? 2 : 4) where C != 32000 || regime == "normal3" || regime == "one-hot" {
                    index += 1
                    var (rng, origin) = classRNG("wideRows", index)
                    let y = classIndices(rows, classes: C, ignoredShare: variant == 2 ? 0.4 : 0, rng: &rng)
                    let x = logits(regime, rows: rows, classes: C, targets: y, rng: &rng)
                    let weight: Tensor<Double>? = variant >= 1
                        ? Tensor((0..<C).map { _ in Double(Float(rng.logUniform(0.25, 4, positive: true))) }) : nil
                    let smoothing: Double = variant == 1 || variant == 3 ? Double(Float(0.1)) : 0
                    let reduction = rng.pick([Reduction.none, .mean, .sum])
                    let upstream: Tensor<Double>? = reduction == .none ? Tensor(rng.floats(rows)) : nil
                    let loss = CrossEntropyLoss(reduction: reduction, weight: weight, labelSmoothing: smoothing)
                    let input = try Tensor(shape: [rows, C], scalars: x)
                    let probabilities = variant == 3
                    let target: LossTarget<Double> = probabilities
                        ? .values(try Tensor(shape: [rows, C], scalars: probabilityRows(shape: [rows, C], rng: &rng)))
                        : .classes(try Tensor(shape: [rows], scalars: y))
                    let call = ClassCall(loss: .crossEntropy(loss),
                                         arguments: LossArguments(input: input, target: target, upstream: upstream),
                                         origin: "\(origin): regime \(regime)")
                    runClassCall(call, &log, report: report)
                }
            }
        }
        log.report("wideRows")
        report.print("wide rows")
    }

    @Test("rows one-hot to working precision keep relative accuracy (log1p of the rest)")
    func oneHotRelativeAccuracy() throws {
        var log = FailureLog()
        // Row c: logits 0 at the target, -gap elsewhere; loss = log1p((C - 1) e^-gap).
        // gap 30: rest ~ 1e-13 * (C - 1), far below Float's epsilon relative to 1, so a
        // log(s) with s rounded to Float would return 0.
        for (C, gap) in [(10, 30.0), (10, 60.0), (300, 30.0), (5000, 40.0)] {
            let y = C / 3
            var x = Array(repeating: -gap, count: C)
            x[y] = 0
            let expected = Foundation.log1p(Double(C - 1) * Foundation.exp(-gap))
            for gradients in [GradientRequest.none, .input] {
                let result = try Fast.evaluate(CrossEntropyLoss(reduction: .none), input: Tensor(x.map { Float($0) }),
                                               target: Tensor(scalar: y), gradients: gradients)
                let value = Double(result.output.scalars[0])
                // Each e^-gap errs by at most 1 ulp plus gap * u from the (exact here)
                // shift; the sum adds 15u; log1p 1 ulp: well within 32u relative.
                let relative = abs(value - expected) / expected
                if !(relative <= 32 * ClassBound.u) {
                    log.add(["C = \(C), gap \(gap), gradients \(gradients): loss \(value), expected \(expected) (log1p((C-1) e^-gap)), relative error \(relative)"])
                }
                if let g = result.gradInput?.scalars {
                    // d/dx_y = p_y - 1 = -rest / s: relative accuracy too.
                    let exact = -Double(C - 1) * Foundation.exp(-gap) / (1 + Double(C - 1) * Foundation.exp(-gap))
                    let rel = abs(Double(g[y]) - exact) / abs(exact)
                    if !(rel <= 32 * ClassBound.u) {
                        log.add(["C = \(C), gap \(gap): d/dx_y = \(g[y]), expected \(exact), relative error \(rel)"])
                    }
                }
            }
        }
        log.report("oneHotRelativeAccuracy")
    }

    @Test("probability targets: the gradient at a near-certain class keeps relative accuracy (narrow and wide rows)")
    func oneHotProbabilityGradient() throws {
        var log = FailureLog()
        // Row: logits 0 at class y, -gap elsewhere; target one-hot at y (optionally with
        // class weights). Then p_y - 1 = -rest / s with rest = (C - 1) e^-gap ~ 1e-13 (C - 1),
        // far below an ulp of 1, so p_y * T - w_y t_y computed as written cancels to 0 in
        // Float. Exact: d/dx_y = (p_y - 1) w_y g, d/dx_c = p_c w_y g (c != y), g = 1 / rows
        // for mean. Expected: the Double reference (its expm1 form), checked against this
        // closed form first. C = 10 and 100 take the lane-group kernel, 300 and 5000 the
        // wide-row kernel.
        for (C, gap) in [(10, 30.0), (100, 40.0), (300, 30.0), (5000, 40.0)] {
            for weighted in [false, true] {
                for reduction in [Reduction.none, .mean] {
                    let rows = 3
                    var x = Array(repeating: -gap, count: rows * C)
                    var t = Array(repeating: 0.0, count: rows * C)
                    let ys = (0..<rows).map { (C / 3 + 7 * $0) % C }
                    for r in 0..<rows {
                        x[r * C + ys[r]] = 0
                        t[r * C + ys[r]] = 1
                    }
                    let weight: Tensor<Double>? = weighted ? Tensor((0..<C).map { 0.5 + Double($0 % 4) * 0.25 }) : nil
                    let loss = CrossEntropyLoss(reduction: reduction, weight: weight)
                    let input = try Tensor(shape: [rows, C], scalars: x), target = try Tensor(shape: [rows, C], scalars: t)
                    let reference = try Reference.evaluate(loss, input: input, target: target, gradients: .input)
                    let fast = try Fast.evaluate(loss, input: Tensor(shape: [rows, C], scalars: x.map { Float($0) }),
                                                 target: Tensor(shape: [rows, C], scalars: t.map { Float($0) }), gradients: .input)
                    let expectedGrad = reference.gradInput!.scalars, actual = fast.gradInput!.scalars
                    let g = reduction == .mean ? 1.0 / Double(rows) : 1.0
                    let rest = Double(C - 1) * Foundation.exp(-gap)
                    for r in 0..<rows {
                        let y = ys[r], i = r * C + y
                        let wy = weight?.scalars[y] ?? 1
                        let closed = -rest / (1 + rest) * wy * g
                        // The reference (Double, expm1) agrees with the closed form to Double accuracy.
                        if !(abs(expectedGrad[i] - closed) <= 1e-12 * abs(closed)) {
                            log.add(["reference d/dx_y \(expectedGrad[i]) vs closed form \(closed) (C = \(C), gap \(gap), weighted \(weighted), \(reduction))"])
                        }
                        // Fast: each e^-gap errs by at most 1 ulp (the shift is exact here),
                        // the rest adds at most 16 Float terms per lane before Double (15 u),
                        // then -rest / s, * T, * g and the final rounding: 4 more u, and
                        // weights rounded to Float 2 u: within 32 u relative.
                        let relative = abs(Double(actual[i]) - expectedGrad[i]) / abs(expectedGrad[i])
                        if !(relative <= 32 * ClassBound.u) {
                            log.add(["C = \(C), gap \(gap), weighted \(weighted), \(reduction), row \(r): d/dx_y = \(actual[i]), expected \(expectedGrad[i]) (reference), relative error \(relative) = \(relative / ClassBound.u) u (bound 32 u)"])
                        }
                        // The other classes: p_c w_y g = e^-gap / s * w_y g, relative too.
                        let c = (y + 1) % C, j = r * C + c
                        let relC = abs(Double(actual[j]) - expectedGrad[j]) / abs(expectedGrad[j])
                        if !(relC <= 32 * ClassBound.u) {
                            log.add(["C = \(C), gap \(gap), weighted \(weighted), \(reduction), row \(r): d/dx_\(c) = \(actual[j]), expected \(expectedGrad[j]), relative error \(relC / ClassBound.u) u (bound 32 u)"])
                        }
                    }
                }
            }
        }
        log.report("oneHotProbabilityGradient")
    }

    // MARK: k-dimensional inputs

    @Test("k-dimensional inputs [N, C, d...]: contiguous and gathered lane groups, C from 1 to 100")
    func kDimensional() throws {
        var log = FailureLog()
        let report = ClassErrorReport()
        let shapes: [[Int]] = [[2, 5, 40], [3, 4, 7], [2, 3, 4, 5], [1, 100, 33], [2, 60, 3], [3, 20, 16], [2, 1, 17],
                               [1, 2, 15, 2], [4, 3, 1], [2, 17, 9]]
        var index = 0
        for shape in shapes {
            for variant in 0..<4 {
                index += 1
                var (rng, origin) = classRNG("kDimensional", index)
                let C = shape[1], rows = shape[0] * shape.dropFirst(2).reduce(1, *)
                var lossShape = shape
                lossShape.remove(at: 1)
                let x = rng.floats(shape.reduce(1, *), sd: rng.bool() ? 1 : 3)
                let weight: Tensor<Double>? = variant % 2 == 1
                    ? Tensor((0..<C).map { _ in Double(Float(rng.logUniform(0.25, 4, positive: true))) }) : nil
                let reduction = rng.pick([Reduction.none, .mean, .sum])
                let upstream: Tensor<Double>? = reduction == .none ? try Tensor(shape: lossShape, scalars: rng.floats(rows)) : nil
                let input = try Tensor(shape: shape, scalars: x)
                let call: ClassCall
                switch variant {
                case 3:
                    let loss = CrossEntropyLoss(reduction: reduction, weight: weight, labelSmoothing: Double(Float(0.2)))
                    let t = try Tensor(shape: shape, scalars: probabilityRows(shape: shape, rng: &rng))
                    call = ClassCall(loss: .crossEntropy(loss), arguments: LossArguments(input: input, target: .values(t), upstream: upstream), origin: origin)
                case 2:
                    let loss = NLLLoss(reduction: reduction, weight: weight)
                    let y = try Tensor(shape: lossShape, scalars: classIndices(rows, classes: C, ignoredShare: 0.2, rng: &rng))
                    call = ClassCall(loss: .nll(loss), arguments: LossArguments(input: input, target: .classes(y), upstream: upstream), origin: origin)
                default:
                    let loss = CrossEntropyLoss(reduction: reduction, weight: weight, labelSmoothing: variant == 1 ? 0.5 : 0)
                    let y = try Tensor(shape: lossShape, scalars: classIndices(rows, classes: C, ignoredShare: 0.2, rng: &rng))
                    call = ClassCall(loss: .crossEntropy(loss), arguments: LossArguments(input: input, target: .classes(y), upstream: upstream), origin: origin)
                }
                runClassCall(call, &log, report: report)
            }
        }
        log.report("kDimensional")
        report.print("k-dimensional")
    }

    // MARK: Non-finite rows

    @Test("NaN and +inf logits, and all -inf rows, make their row NaN (loss and whole gradient row); other rows unaffected; ignored rows stay 0")
    func nonFiniteRows() throws {
        var failures: [String] = []
        // (batch, C, inner): wide rows, lane groups, k-dimensional lanes.
        for (batch, C, inner) in [(7, 3000, 1), (40, 10, 1), (3, 6, 20)] {
            let shape = inner == 1 ? [batch, C] : [batch, C, inner]
            let rows = batch * inner
            var (rng, origin) = classRNG("nonFiniteRows", C)
            var x = rng.floats(shape.reduce(1, *))
            let layout = try Validate.classLayout(input: shape, target: inner == 1 ? [batch] : [batch, inner],
                                                  probabilities: false, reduction: .none, loss: "cross_entropy")
            // Row 0: NaN at its maximum (which the running maximum skips); row 1: NaN late
            // in the row; row 2: +inf; row 3 (ignored): NaN; row 4: all -inf; row 5
            // (ignored): all -inf. Other rows regular.
            let offset = { (r: Int, c: Int) in layout.inputOffset(row: r, classIndex: c) }
            let rowMax = (0..<C).max { x[offset(0, $0)] < x[offset(0, $1)] }!
            x[offset(0, rowMax)] = .nan
            x[offset(1, C - 1)] = .nan
            x[offset(2, C / 2)] = .infinity
            x[offset(3, 0)] = .nan
            for c in 0..<C { x[offset(4, c)] = -.infinity; x[offset(5, c)] = -.infinity }
            var y = (0..<rows).map { _ in rng.int(below: C) }
            y[3] = -100
            y[5] = -100
            let target = try Tensor(shape: layout.lossShape, scalars: y)
            for smoothing in [0.0, 0.25] {
                let r = try Fast.evaluate(CrossEntropyLoss(reduction: .none, labelSmoothing: smoothing),
                                          input: Tensor(shape: shape, scalars: x.map { Float($0) }), target: target, gradients: .input)
                let grad = r.gradInput!.scalars
                for row in 0..<rows {
                    let entries = (0..<C).map { grad[offset(row, $0)] }
                    let value = r.output.scalars[row]
                    switch row {
                    case 0, 1, 2, 4:
                        if !value.isNaN || !entries.allSatisfy(\.isNaN) {
                            failures.append("shape \(shape), smoothing \(smoothing), row \(row): loss \(value), NaN gradient entries \(entries.filter(\.isNaN).count) of \(C); expected all NaN; \(origin)")
                        }
                    case 3, 5:
                        if value != 0 || !entries.allSatisfy({ $0 == 0 }) {
                            failures.append("shape \(shape), ignored row \(row) (NaN or all -inf): loss \(value), gradient \(entries.prefix(4))...; expected 0; \(origin)")
                        }
                    default:
                        if !value.isFinite || !entries.allSatisfy(\.isFinite) {
                            failures.append("shape \(shape), regular row \(row): loss \(value), non-finite gradient entries \(entries.filter { !$0.isFinite }.count); \(origin)")
                        }
                    }
                }
                // The mean of the non-ignored rows is NaN; its gradient keeps the ignored
                // rows at 0.
                let mean = try Fast.evaluate(CrossEntropyLoss(labelSmoothing: smoothing), input: Tensor(shape: shape, scalars: x.map { Float($0) }),
                                             target: target, gradients: .input)
                #expect(mean.output.scalars[0].isNaN, "shape \(shape): the mean over rows with NaN losses must be NaN; \(origin)")
                #expect((0..<C).allSatisfy { mean.gradInput!.scalars[offset(5, $0)] == 0 }, "shape \(shape): ignored all -inf row must keep gradient 0 under mean; \(origin)")
            }
        }
        for f in failures.prefix(8) { Issue.record(Comment(rawValue: f)) }
    }

    // MARK: Ignored rows and weights

    @Test("all targets ignored: mean NaN, sum 0, none zeros, gradient exactly 0",
          arguments: [(8, 5), (8, 300), (2000, 3)])
    func allIgnored(_ shape: (Int, Int)) throws {
        let (n, C) = shape
        var (rng, origin) = classRNG("allIgnored", n * C)
        let x = try Tensor(shape: [n, C], scalars: rng.floats(n * C).map { Float($0) })
        let y = try Tensor(shape: [n], scalars: Array(repeating: -100, count: n))
        for reduction in [Reduction.mean, .sum, .none] {
            for smoothing in [0.0, 0.1] {
                let ce = try Fast.evaluate(CrossEntropyLoss(reduction: reduction, labelSmoothing: smoothing), input: x, target: y, gradients: .input)
                let nll = try Fast.evaluate(NLLLoss(reduction: reduction), input: x, target: y, gradients: .input)
                for (name, r) in [("cross_entropy", ce), ("nll", nll)] {
                    let outputOK = reduction == .mean ? r.output.scalars[0].isNaN : r.output.scalars.allSatisfy { $0 == 0 }
                    #expect(outputOK, "\(name) \(reduction) smoothing \(smoothing), all ignored [\(n), \(C)]: output \(r.output.scalars.prefix(4)); expected \(reduction == .mean ? "NaN" : "zeros"); \(origin)")
                    #expect(r.gradInput!.scalars.allSatisfy { $0 == 0 && $0.sign == .plus },
                            "\(name) \(reduction), all ignored: gradient must be +0 everywhere (ignored rows have none, even with den = 0); \(origin)")
                }
            }
        }
    }

    @Test("zero weights: a zero total weight gives NaN mean and NaN gradient as the reference; zero-weight target rows add 0")
    func zeroWeights() throws {
        var log = FailureLog()
        var (rng, origin) = classRNG("zeroWeights", 0)
        for (n, C) in [(6, 4), (3, 200)] {
            let x = try Tensor(shape: [n, C], scalars: rng.floats(n * C))
            let y = try Tensor(shape: [n], scalars: (0..<n).map { $0 % 2 == 0 ? 0 : -100 })
            // Class 0 has weight 0: every non-ignored row has w_y = 0, so den = 0.
            let weight = Tensor([0] + (1..<C).map { _ in Double(Float(rng.uniform(0.5, 2))) })
            for reduction in [Reduction.mean, .sum, .none] {
                for loss in [AnyLoss.crossEntropy(CrossEntropyLoss(reduction: reduction, weight: weight)),
                             .crossEntropy(CrossEntropyLoss(reduction: reduction, weight: weight, labelSmoothing: 0.3)),
                             .nll(NLLLoss(reduction: reduction, weight: weight))] {
                    runClassCall(ClassCall(loss: loss, arguments: LossArguments(input: x, target: .classes(y)), origin: origin), &log)
                }
            }
        }
        log.report("zeroWeights")
    }

    @Test("nll writes its gradient only at [i, y_i]: exactly +0 elsewhere, whatever the other entries hold")
    func nllGradientPlacement() throws {
        var (rng, origin) = classRNG("nllGradientPlacement", 0)
        for shape in [[5, 7], [3, 4, 6], [9]] {
            let count = shape.reduce(1, *)
            var x = rng.floats(count).map { Float($0) }
            for i in x.indices where rng.bool(0.3) { x[i] = rng.pick([.nan, .infinity, -.infinity]) }
            let layout = try Validate.classLayout(input: shape, target: shape.count == 1 ? [] : [shape[0]] + shape.dropFirst(2),
                                                  probabilities: false, reduction: .none, loss: "nll")
            let y = (0..<layout.rows).map { _ in rng.bool(0.2) ? -100 : rng.int(below: layout.classes) }
            let target = try Tensor(shape: layout.lossShape, scalars: y)
            for reduction in [Reduction.none, .mean, .sum] {
                let r = try Fast.evaluate(NLLLoss(reduction: reduction), input: Tensor(shape: shape, scalars: x), target: target, gradients: .input)
                let grad = r.gradInput!.scalars
                var onTarget = Set<Int>()
                for row in 0..<layout.rows where y[row] != -100 { onTarget.insert(layout.inputOffset(row: row, classIndex: y[row])) }
                let stray = grad.indices.filter { !onTarget.contains($0) && !(grad[$0] == 0 && grad[$0].sign == .plus) }
                #expect(stray.isEmpty, "nll \(shape) \(reduction): gradient entries off [i, y_i] not +0 at \(stray.prefix(5)): \(stray.prefix(5).map { grad[$0] }); \(origin)")
            }
        }
    }

    // MARK: Algebraic properties

    @Test("one-hot probability targets equal class-index targets (unweighted, with and without smoothing)")
    func oneHotProbabilitiesEqualIndices() throws {
        var log = FailureLog()
        for (index, shape) in [[6, 5], [3, 700], [2, 4, 9], [3]].enumerated() {
            var (rng, origin) = classRNG("oneHotProbabilitiesEqualIndices", index)
            let batched = shape.count >= 2
            let C = batched ? shape[1] : shape[0]
            var lossShape = shape
            lossShape.remove(at: batched ? 1 : 0)
            let layout = try Validate.classLayout(input: shape, target: lossShape, probabilities: false, reduction: .none, loss: "cross_entropy")
            let y = (0..<layout.rows).map { _ in rng.int(below: C) }
            var onehot = Array(repeating: 0.0, count: shape.reduce(1, *))
            for r in 0..<layout.rows { onehot[layout.inputOffset(row: r, classIndex: y[r])] = 1 }
            let x = try Tensor(shape: shape, scalars: rng.floats(shape.reduce(1, *), sd: 2))
            for smoothing in [0.0, Double(Float(0.1))] {
                for reduction in [Reduction.none, .mean, .sum] {
                    let loss = CrossEntropyLoss(reduction: reduction, labelSmoothing: smoothing)
                    let indexCall = ClassCall(loss: .crossEntropy(loss), arguments: LossArguments(input: x, target: .classes(try Tensor(shape: lossShape, scalars: y))), origin: origin)
                    let probCall = ClassCall(loss: .crossEntropy(loss), arguments: LossArguments(input: x, target: .values(try Tensor(shape: shape, scalars: onehot))), origin: origin)
                    let a = try indexCall.fast(gradients: .input), b = try probCall.fast(gradients: .input)
                    // Both are within their bounds of the same exact value (the reference
                    // gives both forms the same value): the two bounds added.
                    let ra = try indexCall.reference(), rb = try probCall.reference()
                    let ba = try indexCall.bounds(reference: ra), bb = try probCall.bounds(reference: rb)
                    for (what, fa, fb, bA, bB) in [("output", a.output.scalars, b.output.scalars, ba.output, bb.output),
                                                   ("gradInput", a.gradInput!.scalars, b.gradInput!.scalars, ba.gradInput, bb.gradInput)] {
                        for i in fa.indices where !(abs(Double(fa[i]) - Double(fb[i])) <= bA[i] + bB[i]) {
                            log.add(["\(shape) smoothing \(smoothing) \(reduction) \(what)[\(i)]: class indices give \(fa[i]), one-hot probabilities \(fb[i]); allowed \(bA[i] + bB[i]); \(origin)"])
                            break
                        }
                    }
                }
            }
        }
        log.report("oneHotProbabilitiesEqualIndices")
    }

    @Test("permuting rows permutes the unreduced outputs and the gradient rows, bit for bit")
    func rowPermutation() throws {
        var log = FailureLog()
        for (index, (n, C)) in [(37, 10), (37, 3), (9, 500)].enumerated() {
            var (rng, origin) = classRNG("rowPermutation", index)
            let x = rng.floats(n * C, sd: 2).map { Float($0) }
            let t = probabilityRows(shape: [n, C], rng: &rng).map { Float($0) }
            let y = classIndices(n, classes: C, ignoredShare: 0.2, rng: &rng)
            let g = rng.floats(n).map { Float($0) }
            let perm = (0..<n).shuffled(using: &rng)
            func permuteRows(_ v: [Float]) -> [Float] { perm.flatMap { r in v[(r * C)..<(r * C + C)] } }
            let px = permuteRows(x), pt = permuteRows(t), py = perm.map { y[$0] }, pg = perm.map { g[$0] }
            let weight = Tensor((0..<C).map { _ in Double(Float(rng.uniform(0.5, 2))) })
            for loss in [CrossEntropyLoss(reduction: .none), CrossEntropyLoss(reduction: .none, weight: weight, labelSmoothing: 0.3)] {
                let a = try Fast.evaluate(loss, input: try Tensor(shape: [n, C], scalars: x), target: try Tensor(shape: [n], scalars: y), upstream: Tensor(g), gradients: .input)
                let b = try Fast.evaluate(loss, input: try Tensor(shape: [n, C], scalars: px), target: try Tensor(shape: [n], scalars: py), upstream: Tensor(pg), gradients: .input)
                if !sameBits(perm.map { a.output.scalars[$0] }, b.output.scalars) || !sameBits(permuteRows(a.gradInput!.scalars), b.gradInput!.scalars) {
                    log.add(["cross_entropy (class indices) [\(n), \(C)] \(Generators.describeOptions(.crossEntropy(loss))): permuted rows give different bits; \(origin)"])
                }
                let pa = try Fast.evaluate(loss, input: try Tensor(shape: [n, C], scalars: x), target: try Tensor(shape: [n, C], scalars: t), upstream: Tensor(g), gradients: .all)
                let pb = try Fast.evaluate(loss, input: try Tensor(shape: [n, C], scalars: px), target: try Tensor(shape: [n, C], scalars: pt), upstream: Tensor(pg), gradients: .all)
                if !sameBits(perm.map { pa.output.scalars[$0] }, pb.output.scalars) || !sameBits(permuteRows(pa.gradInput!.scalars), pb.gradInput!.scalars)
                    || !sameBits(permuteRows(pa.gradTarget!.scalars), pb.gradTarget!.scalars) {
                    log.add(["cross_entropy (probabilities) [\(n), \(C)]: permuted rows give different bits; \(origin)"])
                }
            }
            let a = try Fast.evaluate(NLLLoss(reduction: .none), input: try Tensor(shape: [n, C], scalars: x), target: try Tensor(shape: [n], scalars: y), upstream: Tensor(g), gradients: .input)
            let b = try Fast.evaluate(NLLLoss(reduction: .none), input: try Tensor(shape: [n, C], scalars: px), target: try Tensor(shape: [n], scalars: py), upstream: Tensor(pg), gradients: .input)
            if !sameBits(perm.map { a.output.scalars[$0] }, b.output.scalars) || !sameBits(permuteRows(a.gradInput!.scalars), b.gradInput!.scalars) {
                log.add(["nll [\(n), \(C)]: permuted rows give different bits; \(origin)"])
            }
        }
        log.report("rowPermutation")
    }

    @Test("gradients scale linearly with the upstream (by 2 and -1/2: exactly)")
    func upstreamLinearity() throws {
        var log = FailureLog()
        for (index, shape) in [[13, 7], [4, 900], [2, 5, 11]].enumerated() {
            var (rng, origin) = classRNG("upstreamLinearity", index)
            let count = shape.reduce(1, *), C = shape[1]
            var lossShape = shape
            lossShape.remove(at: 1)
            let rows = lossShape.reduce(1, *)
            let x = try Tensor(shape: shape, scalars: rng.floats(count, sd: 2).map { Float($0) })
            let y = try Tensor(shape: lossShape, scalars: classIndices(rows, classes: C, ignoredShare: 0.2, rng: &rng))
            let t = try Tensor(shape: shape, scalars: probabilityRows(shape: shape, rng: &rng).map { Float($0) })
            let g = rng.floats(rows).map { Float($0) }
            for factor: Float in [2, -0.5] {
                // Multiplying by a power of two is exact, so the scaled gradients are the
                // scaled bits (no overflow or underflow at these magnitudes).
                let u1 = try Tensor(shape: lossShape, scalars: g), u2 = try Tensor(shape: lossShape, scalars: g.map { $0 * factor })
                let ce = CrossEntropyLoss(reduction: .none, labelSmoothing: 0.2)
                let pairs: [(String, LossResult<Float>, LossResult<Float>)] = [
                    ("cross_entropy (class indices)", try Fast.evaluate(ce, input: x, target: y, upstream: u1, gradients: .input),
                     try Fast.evaluate(ce, input: x, target: y, upstream: u2, gradients: .input)),
                    ("cross_entropy (probabilities)", try Fast.evaluate(ce, input: x, target: t, upstream: u1, gradients: .all),
                     try Fast.evaluate(ce, input: x, target: t, upstream: u2, gradients: .all)),
                    ("nll", try Fast.evaluate(NLLLoss(reduction: .none), input: x, target: y, upstream: u1, gradients: .input),
                     try Fast.evaluate(NLLLoss(reduction: .none), input: x, target: y, upstream: u2, gradients: .input)),
                ]
                for (name, a, b) in pairs {
                    // Values, not bits: ignored rows and nll's off-target entries are +0
                    // whatever the upstream (0 * -1/2 would be -0).
                    if !sameValues(a.gradInput!.scalars.map { $0 * factor }, b.gradInput!.scalars)
                        || (a.gradTarget.map { !sameValues($0.scalars.map { $0 * factor }, b.gradTarget!.scalars) } ?? false) {
                        log.add(["\(name) \(shape): gradient with upstream x \(factor) is not the gradient x \(factor); \(origin)"])
                    }
                    if !sameBits(a.output.scalars, b.output.scalars) {
                        log.add(["\(name) \(shape): the upstream changed the output; \(origin)"])
                    }
                }
            }
        }
        log.report("upstreamLinearity")
    }

    @Test("sum == mean * denominator (to the two roundings of the outputs)")
    func sumIsMeanTimesDenominator() throws {
        var log = FailureLog()
        for index in Self.env.caseIndices(base: 60) {
            for name in ["cross_entropy", "nll"] {
                let generated = try Generators.case(for: name, seed: Self.env.seed &+ 3, index: index,
                                                    options: GeneratorOptions(reductions: [.mean], upstreamProbability: 0))
                let call = ClassCall(loss: generated.loss, arguments: generated.arguments, origin: generated.rerunHint ?? "")
                var noUpstream = call.arguments
                noUpstream.upstream = nil
                let meanCall = ClassCall(loss: call.loss, arguments: noUpstream, origin: call.origin)
                let sumCall = meanCall.with(.sum)
                let mean = Double(try meanCall.fast(gradients: .none).output.scalars[0])
                let sum = Double(try sumCall.fast(gradients: .none).output.scalars[0])
                // The denominator as the contract defines it.
                var den: Double
                let layout = try Validate.classLayout(input: call.arguments.input.shape, target: call.arguments.target.shape,
                                                      probabilities: !call.arguments.target.isClassIndices, reduction: .mean, loss: name)
                switch (call.loss, call.arguments.target) {
                case (.crossEntropy(let l), .classes(let t)):
                    den = t.scalars.reduce(0.0) { sum, y in y == l.ignoreIndex ? sum : sum + (l.weight.map { Double(Float($0.scalars[y])) } ?? 1) }
                case (.nll(let l), .classes(let t)):
                    den = t.scalars.reduce(0.0) { sum, y in y == l.ignoreIndex ? sum : sum + (l.weight.map { Double(Float($0.scalars[y])) } ?? 1) }
                default:
                    den = Double(layout.rows)
                }
                // Both round the same Double total once (the mean after one more Double
                // division): |sum - mean * den| <= (u + u + 2^-52) |total|.
                let allowed = (2 * ClassBound.u + 0x1p-52) * abs(sum) * 1.0000001 + 0x1p-146 * max(1, abs(den))
                if den == 0 {
                    // A zero (weighted) denominator is unguarded (SEMANTICS): the mean is
                    // total / 0, +-inf, or NaN for 0/0 (label smoothing keeps the total
                    // nonzero when every counted target has weight 0).
                    let expected = sum / 0
                    if !(expected.isNaN ? mean.isNaN : mean == expected) {
                        log.add(["\(name): den 0, sum \(sum): mean \(mean), expected \(expected); \(call)"])
                    }
                } else if sum.isNaN || mean.isNaN {
                    if !sum.isNaN { log.add(["\(name): mean NaN with sum \(sum), den \(den); \(call)"]) }
                } else if !(abs(sum - mean * den) <= allowed) && !(sum.isInfinite && mean.isInfinite) {
                    log.add(["\(name): sum \(sum) vs mean \(mean) * den \(den) = \(mean * den); allowed \(allowed); \(call)"])
                }
            }
        }
        log.report("sumIsMeanTimesDenominator")
    }

    // MARK: Threads

    @Test("results are the same bits for 1, 2, 3 and 8 threads (inputs above the parallel threshold)")
    func threadCountInvariance() throws {
        var log = FailureLog()
        var (rng, origin) = classRNG("threadCountInvariance", 0)
        // Element counts just above Fast.parallelThreshold (2^18): wide rows, lane groups,
        // k-dimensional lanes; class indices with ignored rows and weights, smoothing,
        // probabilities, nll.
        // Element counts just above Fast.parallelThreshold (2^18): wide rows, lane groups,
        // k-dimensional lanes. Threads 1, 2, 3 and 8 for class indices (the common driver);
        // 1 and 8 or 3 for the slower-in-debug probability and k-dimensional kernels.
        let shapes: [[Int]] = [[40, 6600], [26300, 10], [1, 8, 32800]]
        for shape in shapes {
            let count = shape.reduce(1, *), C = shape[1]
            var lossShape = shape
            lossShape.remove(at: 1)
            let rows = lossShape.reduce(1, *)
            let x = try Tensor(shape: shape, scalars: rng.floats(count, sd: 2).map { Float($0) })
            let y = try Tensor(shape: lossShape, scalars: classIndices(rows, classes: C, ignoredShare: 0.1, rng: &rng))
            let weight = Tensor((0..<C).map { _ in Double(Float(rng.uniform(0.5, 2))) })
            let layout = try Validate.classLayout(input: shape, target: lossShape, probabilities: false, reduction: .none, loss: "cross_entropy")
            let wide = layout.inner == 1 && C >= Fast.wideRowClasses
            let rowsPerChunk = wide ? max(1, Fast.chunkSize / C) : max(16, Fast.chunkSize / C / 16 * 16)
            let chunks = (rows + rowsPerChunk - 1) / rowsPerChunk
            #expect(Parallel.workers(chunks: chunks, work: count, threads: 8) > 1, "\(shape) must run on several threads for this test to mean anything")
            // `mean` with the gradient: the chunks' partial sums meet in the output, and
            // the denominator's in every gradient element.
            var runs: [(String, [Int], (Int) throws -> LossResult<Float>)] = []
            switch shape {
            case shapes[0]:
                let t = try Tensor(shape: shape, scalars: probabilityRows(shape: shape, rng: &rng).map { Float($0) })
                runs = [("cross_entropy weighted, smoothing", [2, 3, 8], { try Fast.evaluate(CrossEntropyLoss(weight: weight, labelSmoothing: 0.1), input: x, target: y, gradients: .input, threads: $0) }),
                        ("cross_entropy probabilities", [8], { try Fast.evaluate(CrossEntropyLoss(), input: x, target: t, gradients: .all, threads: $0) })]
            case shapes[1]:
                runs = [("cross_entropy weighted", [2, 3, 8], { try Fast.evaluate(CrossEntropyLoss(weight: weight), input: x, target: y, gradients: .input, threads: $0) }),
                        ("nll weighted", [2, 3, 8], { try Fast.evaluate(NLLLoss(weight: weight), input: x, target: y, gradients: .input, threads: $0) })]
            default:
                runs = [("cross_entropy", [3], { try Fast.evaluate(CrossEntropyLoss(), input: x, target: y, gradients: .input, threads: $0) })]
            }
            for (name, threadCounts, run) in runs {
                let one = try run(1)
                for threads in threadCounts {
                    let other = try run(threads)
                    let same = sameBits(one.output.scalars, other.output.scalars)
                        && sameBits(one.gradInput!.scalars, other.gradInput!.scalars)
                        && (one.gradTarget.map { sameBits($0.scalars, other.gradTarget!.scalars) } ?? true)
                    if !same {
                        log.add(["\(name) \(shape): threads = \(threads) differs from threads = 1 (output \(one.output.scalars[0]) vs \(other.output.scalars[0])); \(origin)"])
                    }
                }
            }
        }
        log.report("threadCountInvariance")
    }

    // MARK: Buffer entry points

    @Test("buffer entry points: lengths checked and named, gradTarget refused for class indices, same bits as the tensor form")
    func bufferEntryPoints() throws {
        let shape = [3, 4], n = 12
        let x = (0..<n).map { Float($0 % 5) - 2 }, y = [1, -100, 3], t = (0..<n).map { _ in Float(0.25) }
        func call(input: Int = n, target: Int? = nil, upstream: Int? = nil, output: Int = 1, gradInput: Int? = n,
                  gradTarget: Int? = nil, probabilities: Bool = false, reduction: Reduction = .mean, nll: Bool = false) -> (LossError?, [Float], [Float]) {
            let xs = Array(x.prefix(input)) + Array(repeating: 0, count: max(0, input - n))
            var out = [Float](repeating: -7, count: output), gi = [Float](repeating: -7, count: gradInput ?? 0), gt = [Float](repeating: -7, count: gradTarget ?? 0)
            let u = upstream.map { [Float](repeating: 1, count: $0) }
            var failure: LossError?
            xs.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { ob in gi.withUnsafeMutableBufferPointer { gib in gt.withUnsafeMutableBufferPointer { gtb in
                let outputs = Fast.Outputs(output: ob, gradInput: gradInput == nil ? nil : gib, gradTarget: gradTarget == nil ? nil : gtb)
                func run(_ ub: UnsafeBufferPointer<Float>?) {
                    do throws(LossError) {
                        if probabilities {
                            let ts = Array(t.prefix(target ?? n)) + Array(repeating: 0, count: max(0, (target ?? n) - n))
                            try ts.withUnsafeBufferPointer { (tb) throws(LossError) in
                                try Fast.evaluate(CrossEntropyLoss(reduction: reduction), input: xb, shape: shape, target: tb, targetShape: shape, upstream: ub, into: outputs)
                            }
                        } else {
                            let ys = Array(y.prefix(target ?? 3)) + Array(repeating: 0, count: max(0, (target ?? 3) - 3))
                            try ys.withUnsafeBufferPointer { (yb) throws(LossError) in
                                if nll {
                                    try Fast.evaluate(NLLLoss(reduction: reduction), input: xb, shape: shape, target: yb, targetShape: [3], upstream: ub, into: outputs)
                                } else {
                                    try Fast.evaluate(CrossEntropyLoss(reduction: reduction), input: xb, shape: shape, target: yb, targetShape: [3], upstream: ub, into: outputs)
                                }
                            }
                        }
                    } catch { failure = error }
                }
                if let u { u.withUnsafeBufferPointer { run($0) } } else { run(nil) }
            }}}}
            return (failure, out, gi)
        }
        for nll in [false, true] {
            let name = nll ? "nll" : "cross_entropy"
            #expect(call(nll: nll).0 == nil, "\(name): correct buffers rejected: \(call(nll: nll).0?.description ?? "")")
            for (buffer, error) in [("input", call(input: n + 1, nll: nll).0), ("target", call(target: 2, nll: nll).0),
                                    ("output", call(output: 2, nll: nll).0), ("gradInput", call(gradInput: n - 1, nll: nll).0),
                                    ("upstream", call(upstream: 3, nll: nll).0)] {
                #expect(error?.kind == .shape && error?.message.contains("\(buffer) buffer") == true,
                        "\(name): a wrong \(buffer) length should be a shape error naming it; got \(error?.description ?? "none")")
            }
            let none = call(output: 3, reduction: .none, nll: nll)
            #expect(none.0 == nil, "\(name) none with 3 outputs: \(none.0?.description ?? "")")
            let refused = call(gradTarget: n, nll: nll).0
            #expect(refused?.kind == .target && refused?.message.contains("gradTarget") == true,
                    "\(name): a gradTarget buffer with class indices should be refused; got \(refused?.description ?? "none")")
            // The tensor form: the same bits.
            let tensor = nll
                ? try Fast.evaluate(NLLLoss(), input: Tensor(shape: shape, scalars: x), target: Tensor(shape: [3], scalars: y), gradients: .input)
                : try Fast.evaluate(CrossEntropyLoss(), input: Tensor(shape: shape, scalars: x), target: Tensor(shape: [3], scalars: y), gradients: .input)
            let buffers = call(nll: nll)
            #expect(sameBits(tensor.output.scalars, buffers.1) && sameBits(tensor.gradInput!.scalars, buffers.2),
                    "\(name): buffer and tensor entry points differ")
        }
        let probs = call(gradTarget: n, probabilities: true)
        #expect(probs.0 == nil, "probabilities with a gradTarget buffer: \(probs.0?.description ?? "")")
        let shortTarget = call(target: n - 1, probabilities: true).0
        #expect(shortTarget?.kind == .shape && shortTarget?.message.contains("target buffer") == true, "probability target length: \(shortTarget?.description ?? "none")")
        // Validation as in the reference.
        func error(_ body: () throws(LossError) -> Void) -> LossError? {
            do throws(LossError) { try body(); return nil } catch { return error }
        }
        let outOfRange = error { () throws(LossError) in _ = try Fast.evaluate(CrossEntropyLoss(), input: try Tensor(shape: shape, scalars: x), target: try Tensor(shape: [3], scalars: [1, 4, 0])) }
        #expect(outOfRange?.kind == .target && outOfRange?.message.contains("[1]") == true,
                "a class index of 4 for 4 classes should be a target error naming position [1]; got \(outOfRange?.description ?? "none")")
        let threads = error { () throws(LossError) in _ = try Fast.evaluate(NLLLoss(), input: try Tensor(shape: shape, scalars: x), target: try Tensor(shape: [3], scalars: y), threads: 0) }
        #expect(threads?.kind == .option, "threads = 0 should be an option error; got \(threads?.description ?? "none")")
        let badWeight = error { () throws(LossError) in _ = try Fast.evaluate(CrossEntropyLoss(weight: Tensor([1, 2])), input: try Tensor(shape: shape, scalars: x), target: try Tensor(shape: [3], scalars: y)) }
        #expect(badWeight?.kind == .option, "a weight of 2 entries for 4 classes should be an option error; got \(badWeight?.description ?? "none")")
    }
}

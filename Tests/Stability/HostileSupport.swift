import Foundation
import Testing
import FastLosses
import LossVerification
import ReferenceLosses

// The harness of the Hostile suites: one hostile case (a loss, its arguments, what must
// happen) runs through every public entry point of both engines, and each entry point's
// outcome is checked on its own.

/// A public entry point through which a case given as data (`AnyLoss` +
/// `LossArguments`) can be run.
enum HostileEntry: String, CaseIterable, CustomStringConvertible, Sendable {
    /// `Reference.evaluate(_: AnyLoss, _: LossArguments<Double>, gradients:)`.
    case referenceAny
    /// `Reference.evaluate(_: <Description>, input:, target:, [variance:], upstream:, gradients:)`.
    case referenceTyped
    /// `Fast.evaluate(_: AnyLoss, _: LossArguments<Float>, gradients:, threads:)`.
    case fastAny
    /// `Fast.evaluate(_: <Description>, input: Tensor<Float>, ..., gradients:, threads:)`.
    case fastTensor
    /// `Fast.evaluate(_: <Description>, input: UnsafeBufferPointer<Float>, ..., into:, threads:)`.
    case fastBuffer
    /// `Fast.evaluate(_: AnyLoss, input: UnsafeBufferPointer<Float>, shape:, target:, variance:, upstream:, into:, threads:)`.
    case fastAnyBuffer

    var description: String { rawValue }
    /// True for the Float engine.
    var isFast: Bool { self != .referenceAny && self != .referenceTyped }
    /// The unit roundoff of the entry's precision.
    var unitRoundoff: Double { isFast ? 0x1p-24 : 0x1p-53 }
}

/// What must happen when a case runs.
enum HostileExpectation {
    /// A `LossError` of this kind whose message contains every one of the strings.
    case error(LossError.Kind, [String])
    /// A result; the closure returns failure descriptions (empty: fine). It gets the
    /// result widened to Double and the entry, for the entry's precision.
    case result((LossResult<Double>, HostileEntry) -> [String])
}

/// One hostile call.
struct HostileCase: CustomStringConvertible {
    var name: String
    var loss: AnyLoss
    var arguments: LossArguments<Double>
    var gradients: GradientRequest = .all
    /// The fast engine's `threads` argument.
    var threads: Int? = nil
    var expect: HostileExpectation
    /// The entry points to run. The buffer entry points take one shape for input and
    /// target, so a case about mismatched input and target shapes leaves them out
    /// (HostileBufferTests covers buffer lengths).
    var entries: [HostileEntry] = HostileEntry.allCases

    var description: String { "\(name) [\(loss.name), \(loss.reduction.rawValue)]" }
}

/// Tensors from literal shapes; the shapes in the tests are valid by construction, and an
/// error here fails the test that builds them (`try`), it does not trap.
func tensor(_ shape: [Int], _ values: [Double]) throws(LossError) -> Tensor<Double> {
    try Tensor(shape: shape, scalars: values)
}
func indices(_ shape: [Int], _ values: [Int]) throws(LossError) -> Tensor<Int> {
    try Tensor(shape: shape, scalars: values)
}

/// Runs `body`, returning its error or nil.
func caught<R>(_ body: () throws(LossError) -> R) -> LossError? {
    do throws(LossError) {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Checks that `error` has `kind` and a message containing every string of `parts`;
/// returns the failures (empty when fine).
func errorFailures(_ error: LossError?, kind: LossError.Kind, _ parts: [String]) -> [String] {
    guard let error else { return ["expected a \(kind) error containing \(parts), got no error"] }
    var failures: [String] = []
    if error.kind != kind { failures.append("expected a \(kind) error, got \(error)") }
    for part in parts where !error.message.contains(part) {
        failures.append("the message should contain \"\(part)\": \(error)")
    }
    return failures
}

/// Compares values element by element: NaN must meet NaN, an infinity the same
/// infinity, a zero a zero of either sign unless `signedZeros`, and finite values agree
/// within `ulps` units of `roundoff` relative to the expected value (absolute `floor`
/// for values near zero). Returns the failures.
func valueFailures(_ name: String, actual: [Double], expected: [Double], roundoff: Double, ulps: Double = 8,
                   floor: Double = 0) -> [String] {
    guard actual.count == expected.count else {
        return ["\(name): \(actual.count) values, expected \(expected.count)"]
    }
    var failures: [String] = []
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let ok: Bool
        if e.isNaN {
            ok = a.isNaN
        } else if e.isInfinite {
            ok = a == e
        } else {
            let bound = ulps * roundoff * abs(e) + floor
            ok = a.isFinite && abs(a - e) <= bound
        }
        if !ok {
            let relative = e == 0 ? abs(a) : abs(a - e) / abs(e)
            failures.append("\(name)[\(i)] = \(a), expected \(e) (relative error \(relative), allowed \(ulps) x \(roundoff))")
        }
    }
    return failures
}

/// The typed reference entry points, selected by the description's case.
func referenceTyped(_ loss: AnyLoss, _ a: LossArguments<Double>, gradients: GradientRequest) throws(LossError) -> LossResult<Double> {
    let x = a.input, u = a.upstream
    switch (loss, a.target) {
    case (.mse(let l), .values(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.l1(let l), .values(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.huber(let l), .values(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.smoothL1(let l), .values(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.bce(let l), .values(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.bceWithLogits(let l), .values(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.crossEntropy(let l), .values(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.crossEntropy(let l), .classes(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.nll(let l), .classes(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.klDiv(let l), .values(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.poissonNLL(let l), .values(let t)): return try Reference.evaluate(l, input: x, target: t, upstream: u, gradients: gradients)
    case (.gaussianNLL(let l), .values(let t)):
        // The typed entry point has no optional variance; a missing one is the AnyLoss
        // entry point's check, so pass the input's shape of ones here.
        var v = a.variance ?? x
        if a.variance == nil { v = try Tensor(repeating: 1, shape: x.shape) }
        return try Reference.evaluate(l, input: x, target: t, variance: v, upstream: u, gradients: gradients)
    default:
        throw LossArgumentCheck.targetKindError(for: loss, target: a.target)
    }
}

/// The typed fast tensor entry points; nil for a target of the wrong kind (the typed
/// entry points cannot be called with it).
func fastTensor(_ loss: AnyLoss, _ a: LossArguments<Float>, gradients: GradientRequest, threads: Int?) -> Result<LossResult<Float>, LossError>? {
    let x = a.input, u = a.upstream
    func run(_ body: () throws(LossError) -> LossResult<Float>) -> Result<LossResult<Float>, LossError> {
        do throws(LossError) { return .success(try body()) } catch { return .failure(error) }
    }
    switch (loss, a.target) {
    case (.mse(let l), .values(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.l1(let l), .values(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.huber(let l), .values(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.smoothL1(let l), .values(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.bce(let l), .values(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.bceWithLogits(let l), .values(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.klDiv(let l), .values(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.poissonNLL(let l), .values(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.gaussianNLL(let l), .values(let t)):
        guard let v = a.variance else { return nil }
        return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, variance: v, upstream: u, gradients: gradients, threads: threads) }
    case (.crossEntropy(let l), .values(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.crossEntropy(let l), .classes(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    case (.nll(let l), .classes(let t)): return run { () throws(LossError) in try Fast.evaluate(l, input: x, target: t, upstream: u, gradients: gradients, threads: threads) }
    default:
        return nil
    }
}

/// `body` on the tensor's storage, keeping the typed error (`withUnsafeBufferPointer`
/// rethrows untyped).
func borrow<S, R>(_ t: Tensor<S>, _ body: (UnsafeBufferPointer<S>) throws(LossError) -> R) throws(LossError) -> R {
    var result: Result<R, LossError>?
    t.withUnsafeBufferPointer { b in
        do throws(LossError) { result = .success(try body(b)) } catch { result = .failure(error) }
    }
    return try result!.get()
}

/// The fast buffer entry points over the tensors' storage, with output and gradient
/// buffers sized as the entry point documents (the output's count from
/// `AnyLoss.outputShape`; one value when that shape is itself an error, which the call
/// must then report). The elementwise buffer entry points take one shape for input and
/// target: a target of another shape is passed with the input's shape (its buffer length
/// then differs). nil for a target of the wrong kind. With `typeErased`, the call goes
/// through the `AnyLoss` buffer entry point instead, which checks the target's kind and
/// the variance itself.
func fastBuffer(_ loss: AnyLoss, _ a: LossArguments<Float>, gradients: GradientRequest, threads: Int?,
                typeErased: Bool = false) -> Result<LossResult<Float>, LossError>? {
    typealias Call = (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>?, Fast.Outputs) throws(LossError) -> Void
    let shape = a.input.shape, targetShape = a.target.shape
    let realTarget: Tensor<Float>
    var classTarget: Tensor<Int>?
    switch a.target {
    case .values(let t): realTarget = t
    case .classes(let t): realTarget = Tensor(unchecked: [0], []); classTarget = t
    }
    // Each call gets the input buffer, the upstream buffer and the outputs; the targets
    // (and the variance) are borrowed inside.
    func elementwise(_ body: @escaping (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>?, Fast.Outputs) throws(LossError) -> Void) -> Call {
        { (x, u, o) throws(LossError) in
            try borrow(realTarget) { (y) throws(LossError) in try body(x, y, u, o) }
        }
    }
    func classes(_ body: @escaping (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Int>, UnsafeBufferPointer<Float>?, Fast.Outputs) throws(LossError) -> Void) -> Call {
        { (x, u, o) throws(LossError) in
            try borrow(classTarget!) { (y) throws(LossError) in try body(x, y, u, o) }
        }
    }
    let call: Call
    switch (loss, classTarget == nil) {
    case _ where typeErased:
        call = { (x, u, o) throws(LossError) in
            func run(_ target: Fast.BufferTarget) throws(LossError) {
                guard let variance = a.variance else {
                    return try Fast.evaluate(loss, input: x, shape: shape, target: target, upstream: u, into: o, threads: threads)
                }
                try borrow(variance) { (v) throws(LossError) in
                    try Fast.evaluate(loss, input: x, shape: shape, target: target, variance: (v, variance.shape),
                                      upstream: u, into: o, threads: threads)
                }
            }
            if let classTarget {
                try borrow(classTarget) { (y) throws(LossError) in try run(.classes(y, shape: targetShape)) }
            } else {
                try borrow(realTarget) { (y) throws(LossError) in try run(.values(y)) }
            }
        }
    case (.mse(let l), true): call = elementwise { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: u, into: o, threads: threads) }
    case (.l1(let l), true): call = elementwise { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: u, into: o, threads: threads) }
    case (.huber(let l), true): call = elementwise { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: u, into: o, threads: threads) }
    case (.smoothL1(let l), true): call = elementwise { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: u, into: o, threads: threads) }
    case (.bce(let l), true): call = elementwise { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: u, into: o, threads: threads) }
    case (.bceWithLogits(let l), true): call = elementwise { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: u, into: o, threads: threads) }
    case (.klDiv(let l), true): call = elementwise { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: u, into: o, threads: threads) }
    case (.poissonNLL(let l), true): call = elementwise { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, target: y, shape: shape, upstream: u, into: o, threads: threads) }
    case (.gaussianNLL(let l), true):
        guard let variance = a.variance else { return nil }
        call = elementwise { (x, y, u, o) throws(LossError) in
            try borrow(variance) { (v) throws(LossError) in
                try Fast.evaluate(l, input: x, target: y, variance: v, shape: shape, varianceShape: variance.shape, upstream: u, into: o, threads: threads)
            }
        }
    case (.crossEntropy(let l), true): call = elementwise { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, shape: shape, target: y, targetShape: targetShape, upstream: u, into: o, threads: threads) }
    case (.crossEntropy(let l), false): call = classes { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, shape: shape, target: y, targetShape: targetShape, upstream: u, into: o, threads: threads) }
    case (.nll(let l), false): call = classes { (x, y, u, o) throws(LossError) in try Fast.evaluate(l, input: x, shape: shape, target: y, targetShape: targetShape, upstream: u, into: o, threads: threads) }
    default: return nil
    }
    let elementwiseTarget: Bool
    switch loss {
    case .crossEntropy, .nll: elementwiseTarget = false
    default: elementwiseTarget = true
    }
    let outputShape = (try? loss.outputShape(input: shape, target: elementwiseTarget ? shape : targetShape, classTarget: classTarget != nil,
                                             variance: a.variance?.shape)) ?? []
    let outputCount = outputShape.reduce(1, *)
    var output = [Float](repeating: .nan, count: outputCount)
    var gradInput = [Float](repeating: .nan, count: a.input.count)
    var gradTarget = [Float](repeating: .nan, count: realTarget.count)
    let wantsTarget = gradients.contains(.target) && classTarget == nil
    var failure: LossError?
    a.input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { out in
            gradInput.withUnsafeMutableBufferPointer { gi in
                gradTarget.withUnsafeMutableBufferPointer { gt in
                    let outputs = Fast.Outputs(output: out, gradInput: gradients.contains(.input) ? gi : nil,
                                               gradTarget: wantsTarget ? gt : nil)
                    func run(_ u: UnsafeBufferPointer<Float>?) {
                        do throws(LossError) {
                            try call(x, u, outputs)
                        } catch {
                            failure = error
                        }
                    }
                    if let upstream = a.upstream {
                        upstream.withUnsafeBufferPointer { run($0) }
                    } else {
                        run(nil)
                    }
                }
            }
        }
    }
    if let failure { return .failure(failure) }
    return .success(LossResult(
        output: Tensor(unchecked: outputShape, output),
        gradInput: gradients.contains(.input) ? Tensor(unchecked: shape, gradInput) : nil,
        gradTarget: wantsTarget ? Tensor(unchecked: realTarget.shape, gradTarget) : nil))
}

/// Runs `c` through `entry`; nil when the entry point does not exist for the loss in
/// this build.
func run(_ c: HostileCase, on entry: HostileEntry) -> Result<LossResult<Double>, LossError>? {
    func widen(_ r: LossResult<Float>) -> LossResult<Double> {
        LossResult(output: r.output.map(Double.init), gradInput: r.gradInput?.map(Double.init),
                   gradTarget: r.gradTarget?.map(Double.init))
    }
    switch entry {
    case .referenceAny:
        do throws(LossError) { return .success(try Reference.evaluate(c.loss, c.arguments, gradients: c.gradients)) } catch { return .failure(error) }
    case .referenceTyped:
        do throws(LossError) { return .success(try referenceTyped(c.loss, c.arguments, gradients: c.gradients)) } catch { return .failure(error) }
    case .fastAny:
        do throws(LossError) {
            return .success(widen(try Fast.evaluate(c.loss, c.arguments.map { Float($0) }, gradients: c.gradients, threads: c.threads)))
        } catch {
            return .failure(error)
        }
    case .fastTensor:
        return fastTensor(c.loss, c.arguments.map { Float($0) }, gradients: c.gradients, threads: c.threads)?.map(widen)
    case .fastBuffer:
        return fastBuffer(c.loss, c.arguments.map { Float($0) }, gradients: c.gradients, threads: c.threads)?.map(widen)
    case .fastAnyBuffer:
        return fastBuffer(c.loss, c.arguments.map { Float($0) }, gradients: c.gradients, threads: c.threads, typeErased: true)?.map(widen)
    }
}

/// Runs `c` through every entry point that exists for it and checks the expectation on
/// each; returns how many entry points ran (so a test can require that some did).
@discardableResult
func check(_ c: HostileCase, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
    var ran = 0
    for entry in c.entries {
        guard let outcome = run(c, on: entry) else { continue }
        ran += 1
        let failures: [String]
        switch (c.expect, outcome) {
        case (.error(let kind, let parts), .failure(let error)):
            failures = errorFailures(error, kind: kind, parts)
        case (.error(let kind, let parts), .success):
            failures = ["expected a \(kind) error containing \(parts), got a result"]
        case (.result, .failure(let error)):
            failures = ["expected a result, got \(error)"]
        case (.result(let verify), .success(let result)):
            failures = verify(result, entry)
        }
        for failure in failures.prefix(6) {
            Issue.record("\(c) via \(entry): \(failure)", sourceLocation: sourceLocation)
        }
    }
    return ran
}

/// A result check: the output's shape and values, and optionally the gradients'. `ulps`
/// is in units of the entry's precision.
func expectValues(output shape: [Int], _ values: [Double], gradInput: [Double]? = nil, gradTarget: [Double]? = nil,
                  ulps: Double = 8) -> HostileExpectation {
    .result { result, entry in
        var failures: [String] = []
        if result.output.shape != shape {
            failures.append("output shape \(Shape.describe(result.output.shape)), expected \(Shape.describe(shape))")
        }
        failures += valueFailures("output", actual: result.output.scalars, expected: values, roundoff: entry.unitRoundoff, ulps: ulps)
        if let gradInput {
            if let actual = result.gradInput {
                failures += valueFailures("gradInput", actual: actual.scalars, expected: gradInput, roundoff: entry.unitRoundoff, ulps: ulps)
            } else {
                failures.append("gradInput missing")
            }
        }
        if let gradTarget {
            if let actual = result.gradTarget {
                failures += valueFailures("gradTarget", actual: actual.scalars, expected: gradTarget, roundoff: entry.unitRoundoff, ulps: ulps)
            } else {
                failures.append("gradTarget missing")
            }
        }
        return failures
    }
}

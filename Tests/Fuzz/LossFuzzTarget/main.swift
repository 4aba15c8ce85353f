// libFuzzer target: bytes -> one loss call, run through both engines' AnyLoss entry
// points. Built and run by scripts/fuzz (swiftc -sanitize=fuzzer,address), not by SwiftPM:
// Tests/Fuzz is not a target of Package.swift.
//
// The bytes choose a loss, its options, a shape (rank 0 to 4, dimensions including 0),
// the values (NaN, infinities, subnormals, the largest Floats, or "moderate" values),
// class indices (negative, >= C, Int.min, Int.max, ignore_index), weights, a variance,
// an upstream gradient, and now and then a mismatched shape or a target of the wrong
// kind. Float values are exact in Double, so both engines see the same numbers.
//
// What must hold (a violation calls `fail`, which aborts with the case printed):
// 1. Nothing traps or touches memory it should not (libFuzzer + AddressSanitizer).
// 2. Both engines throw a LossError of the same kind, or both return.
// 3. When both return: the same output shape, the same gradients present with the same
//    shapes, and no NaN of the Double reference is finite in Float (a NaN is never made
//    finite). Float overflows and underflows sooner, so Float may have NaN and
//    infinities where Double is finite; and with infinite operands the engines may
//    arrange a formula differently (bce_with_logits with an infinite target: the
//    reference's (1 - y) x - (1 + (pw - 1) y) log_sigmoid(x) is inf - inf = NaN, as in
//    PyTorch, the fast kernel's arrangement gives the limit, +-inf), so a reference NaN
//    may be an infinity in Float. Moderate cases (4.) have no such operands.
// 3b. The type-erased buffer form (`Fast.evaluate(AnyLoss, input:shape:target:...)`), on
//    buffers allocated at exactly the lengths the call implies (so AddressSanitizer sees
//    any access past them): when the tensor form returns, the same bits; when it throws,
//    the buffer form may throw another kind (a bare buffer has a length, not a shape) or
//    return, but it must not crash.
// 4. Moderate cases (every real value a multiple of 1/16 in [-8, 8], probabilities in
//    [0, 1], variances >= 1/16, weights in [1/16, 4], options from a moderate list):
//    the same non-finite values at the same positions, and finite values within
//    |fast - ref| <= 2^-8 * S + 2^-20 * A * G, S = ||ref||_inf for unreduced outputs and
//    for gradients, S = sum_i |l_i| / |den| for a reduced output (the magnitude of the
//    terms before any cancellation, from a reference call with reduction none); the
//    floor 2^-20 * A * G covers results that are 0 up to rounding (`Scales` below).
//    Why 2^-8: each term is a few (<= 16 = 2^4) Float roundings, u = 2^-24, amplified
//    by at most the cancellation of the formulas on this range, e^8 ~ 2^11.5
//    (sigmoid(x) - y, exp(x) - t x, log-sum-exp - x_y): 2^(4 - 24 + 11.5) = 2^-8.5.
//    It is a bound for gross faults (a wrong branch, index, term or scale), not the
//    accuracy claim: the property suite holds the engines to a few ulps.
import FastLosses
import Losses
import ReferenceLosses

#if canImport(Glibc)
import Glibc
#endif

// MARK: Bytes

/// Reads the fuzzer's bytes front to back; past the end every read gives 0.
struct ByteReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }
    mutating func below(_ bound: Int) -> Int { Int(byte()) % bound }
    mutating func chance(_ oneIn: Int) -> Bool { below(oneIn) == 0 }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
    mutating func word() -> UInt32 {
        UInt32(byte()) | UInt32(byte()) << 8 | UInt32(byte()) << 16 | UInt32(byte()) << 24
    }
}

/// Float values that break naive code.
let specialFloats: [Float] = [
    .nan, .infinity, -.infinity, 0, -0.0, 1, -1, 0.5,
    .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
    -.greatestFiniteMagnitude, 1e-30, 88.75, -104, 0.99999994, 1e20, -1e20, 0x1p-140, 3.4e38, 2,
]
/// Option values that break naive validation.
let specialOptions: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, -1, 1e-300, 1e300, .leastNonzeroMagnitude, 1, 0.5, 2]
let specialIndices: [Int] = [-1, -100, Int.min, Int.max, -2, 1 << 40]

/// What the bytes make.
struct FuzzCase: CustomStringConvertible {
    var loss: AnyLoss
    var arguments: LossArguments<Float>
    var gradients: GradientRequest
    var moderate: Bool

    var description: String {
        var text = "loss \(loss) gradients \(gradients.rawValue) moderate \(moderate)\n"
        text += "input \(arguments.input.shape) \(arguments.input.scalars)\n"
        switch arguments.target {
        case .values(let t): text += "target \(t.shape) \(t.scalars)\n"
        case .classes(let t): text += "classes \(t.shape) \(t.scalars)\n"
        }
        if let v = arguments.variance { text += "var \(v.shape) \(v.scalars)\n" }
        if let u = arguments.upstream { text += "upstream \(u.shape) \(u.scalars)\n" }
        return text
    }
}

struct CaseBuilder {
    var reader: ByteReader
    let moderate: Bool

    /// A real value: moderate multiples of 1/16 in [-8, 8), or anything.
    mutating func value(probability: Bool = false) -> Float {
        if moderate {
            return probability ? Float(reader.below(17)) / 16 : Float(Int(reader.byte()) - 128) / 16
        }
        switch reader.below(4) {
        case 0: return reader.pick(specialFloats)
        case 1: return Float(bitPattern: reader.word())
        case 2: return Float(reader.below(17)) / 16
        default: return Float(Int(reader.byte()) - 128) / 16
        }
    }

    mutating func positive() -> Float {
        moderate ? Float(1 + reader.below(64)) / 16 : value()
    }

    mutating func option(_ moderateValues: [Double]) -> Double {
        moderate || reader.chance(2) ? reader.pick(moderateValues) : reader.pick(specialOptions)
    }

    mutating func dim() -> Int {
        reader.pick([0, 1, 1, 2, 2, 3, 3, 4, 5, 7, 16, 17, 1, 2, 3, 33])
    }

    /// A shape of rank `rank`, at most ~1024 elements.
    mutating func shape(rank: Int) -> [Int] {
        var s = (0..<rank).map { _ in dim() }
        while s.reduce(1, *) > 1024, let i = s.indices.max(by: { s[$0] < s[$1] }) { s[i] = 1 }
        return s
    }

    /// Now and then a shape that differs from `s`.
    mutating func perhapsMismatched(_ s: [Int]) -> [Int] {
        guard reader.chance(24) else { return s }
        var t = s
        switch reader.below(3) {
        case 0: t.append(reader.below(3))
        case 1: if !t.isEmpty { t.removeLast() }
        default: if !t.isEmpty { t[reader.below(t.count)] += 1 }
        }
        return t
    }

    mutating func tensor(_ shape: [Int], probability: Bool = false, positive: Bool = false) -> Tensor<Float> {
        let count = shape.reduce(1, *)
        let values = (0..<count).map { _ in positive ? self.positive() : value(probability: probability) }
        return Tensor(unchecked: shape, values)
    }

    mutating func doubleTensor(_ shape: [Int], positive: Bool = true) -> Tensor<Double> {
        tensor(shape, positive: positive).map { Double($0) }
    }

    mutating func reduction(batchmean: Bool) -> Reduction {
        let r = reader.pick([Reduction.none, .mean, .mean, .sum])
        if reader.chance(batchmean ? 4 : 32) { return .batchmean }
        return r
    }

    /// A weight broadcast to `shape`: its trailing dimensions, of size 1 or full.
    mutating func broadcastWeight(_ shape: [Int]) -> Tensor<Double>? {
        guard reader.chance(3) else { return nil }
        let rank = reader.below(shape.count + 1)
        var s = Array(shape.suffix(rank)).map { reader.chance(3) ? 1 : $0 }
        s = perhapsMismatched(s)
        return doubleTensor(s)
    }

    mutating func build() -> FuzzCase {
        let kind = reader.below(12)
        let gradients = GradientRequest(rawValue: reader.below(4))
        let rank = reader.below(5)
        var shape = self.shape(rank: rank)
        var loss: AnyLoss
        var target: LossTarget<Float>
        var variance: Tensor<Float>?
        var probability = false
        switch kind {
        case 0: loss = .mse(MSELoss(reduction: reduction(batchmean: false)))
        case 1: loss = .l1(L1Loss(reduction: reduction(batchmean: false)))
        case 2: loss = .huber(HuberLoss(reduction: reduction(batchmean: false), delta: option([1, 0.5, 2, 0.0625])))
        case 3: loss = .smoothL1(SmoothL1Loss(reduction: reduction(batchmean: false), beta: option([1, 0.5, 0, 2])))
        case 4:
            loss = .bce(BCELoss(reduction: reduction(batchmean: false), weight: broadcastWeight(shape)))
            probability = true
        case 5:
            loss = .bceWithLogits(BCEWithLogitsLoss(reduction: reduction(batchmean: false), weight: broadcastWeight(shape),
                                                    posWeight: broadcastWeight(shape)))
        case 6: loss = .klDiv(KLDivLoss(reduction: reduction(batchmean: true), logTarget: reader.chance(2)))
        case 7: loss = .poissonNLL(PoissonNLLLoss(reduction: reduction(batchmean: false), logInput: !reader.chance(3),
                                                  full: reader.chance(2), eps: option([1e-8, 0, 0.5])))
        case 8:
            loss = .gaussianNLL(GaussianNLLLoss(reduction: reduction(batchmean: false), full: reader.chance(2), eps: option([1e-6, 0.5, 1e-3])))
            var varShape = shape
            switch reader.below(4) {
            case 0: if !varShape.isEmpty { varShape.removeLast() }
            case 1: if !varShape.isEmpty { varShape[reader.below(varShape.count)] = 1 }
            default: break
            }
            variance = tensor(perhapsMismatched(varShape), positive: true)
        default:
            // cross_entropy (indices or probabilities) or nll: input [C], [N, C] or [N, C, d...].
            if shape.isEmpty && !reader.chance(16) { shape = [dim()] }
            if shape.count >= 2 || shape.count == 1 {
                let c = shape.count >= 2 ? 1 : 0
                if shape[c] == 0 && !reader.chance(8) { shape[c] = 1 + reader.below(5) }
            }
            let classes = shape.isEmpty ? 0 : shape[shape.count >= 2 ? 1 : 0]
            let ignore = moderate ? reader.pick([-100, 0, -1]) : reader.pick([-100, 0, 1, -1, Int.min, Int.max])
            let weight: Tensor<Double>? = reader.chance(3) ? doubleTensor(perhapsMismatched([classes])) : nil
            if kind == 11 {
                loss = .nll(NLLLoss(reduction: reduction(batchmean: false), weight: weight, ignoreIndex: ignore))
            } else {
                let eps = option([0, 0.1, 0.5, 1])
                loss = .crossEntropy(CrossEntropyLoss(reduction: reduction(batchmean: false), weight: weight,
                                                      ignoreIndex: kind == 10 && !reader.chance(8) ? -100 : ignore, labelSmoothing: eps))
            }
            if kind == 10 {
                target = .values(tensor(perhapsMismatched(shape), probability: true))
            } else {
                var targetShape = shape
                if !targetShape.isEmpty { targetShape.remove(at: targetShape.count >= 2 ? 1 : 0) }
                targetShape = perhapsMismatched(targetShape)
                let count = targetShape.reduce(1, *)
                let values = (0..<count).map { _ -> Int in
                    if moderate || !reader.chance(4) {
                        return reader.chance(8) ? ignore : reader.below(max(classes, 1))
                    }
                    return reader.pick(specialIndices + [classes, ignore])
                }
                target = .classes(Tensor(unchecked: targetShape, values))
            }
            let input = tensor(shape)
            var arguments = LossArguments(input: input, target: target)
            arguments.upstream = upstream(loss, arguments)
            if reader.chance(32) { arguments.target = .values(tensor(arguments.target.shape)) }
            return FuzzCase(loss: loss, arguments: arguments, gradients: gradients, moderate: moderate)
        }
        let input = tensor(shape, probability: probability)
        target = .values(tensor(perhapsMismatched(shape), probability: probability))
        if reader.chance(48) { target = .classes(Tensor(unchecked: shape, Array(repeating: 0, count: shape.reduce(1, *)))) }
        if reader.chance(48) { variance = variance == nil ? input : nil }
        var arguments = LossArguments(input: input, target: target, variance: variance)
        arguments.upstream = upstream(loss, arguments)
        return FuzzCase(loss: loss, arguments: arguments, gradients: gradients, moderate: moderate)
    }

    /// nil (ones), a tensor of the output's shape, or now and then one of another shape.
    mutating func upstream(_ loss: AnyLoss, _ a: LossArguments<Float>) -> Tensor<Float>? {
        guard reader.chance(2) else { return nil }
        let classTarget: Bool
        if case .classes = a.target { classTarget = true } else { classTarget = false }
        let shape = (try? loss.outputShape(input: a.input.shape, target: a.target.shape, classTarget: classTarget,
                                           variance: a.variance?.shape)) ?? []
        return tensor(perhapsMismatched(shape))
    }
}

// MARK: Checks

func fail(_ what: String, _ c: FuzzCase) -> Never {
    fputs("LOSS FUZZ FAILURE: \(what)\n\(c)\n", stderr)
    abort()
}

/// The scales of the moderate-case bound (see the header):
/// `|fast - ref| <= 2^-8 * S + 2^-20 * A * G` per element, with
/// - S: `||ref||_inf` of the tensor, or for a reduced output `sum_i |l_i| / |den|` (the
///   terms' magnitude before the sum's cancellation);
/// - A: a bound on the operands a term or derivative subtracts (what cancels: `x - y`,
///   `log-sum-exp - x_y`, `sigmoid(x) - y`, `exp(x) - t x`, `p - t`): 64 W^2 with W the
///   largest weight (>= 1), and e^8 + 64 for poisson_nll, whose exp(x) reaches e^8;
/// - G: what scales a term into the result: for an output, 1 (none) or n / |den|; for a
///   gradient, max |g_i| (none) or |g| / |den|.
/// The floor `2^-20 * A * G` = 16 roundings of the operands' size: a result that is 0 up to
/// rounding (a gradient p - t with p = t) can differ by that much between Double and Float.
struct Scales {
    var outputScale: Double?
    var outputFloor: Double
    var gradientFloor: Double
}

func scales(_ c: FuzzCase) -> Scales? {
    var loss = c.loss
    let reduction = loss.reduction
    switch loss {
    case .mse(var l): l.reduction = .none; loss = .mse(l)
    case .l1(var l): l.reduction = .none; loss = .l1(l)
    case .huber(var l): l.reduction = .none; loss = .huber(l)
    case .smoothL1(var l): l.reduction = .none; loss = .smoothL1(l)
    case .bce(var l): l.reduction = .none; loss = .bce(l)
    case .bceWithLogits(var l): l.reduction = .none; loss = .bceWithLogits(l)
    case .crossEntropy(var l): l.reduction = .none; loss = .crossEntropy(l)
    case .nll(var l): l.reduction = .none; loss = .nll(l)
    case .klDiv(var l): l.reduction = .none; loss = .klDiv(l)
    case .poissonNLL(var l): l.reduction = .none; loss = .poissonNLL(l)
    case .gaussianNLL(var l): l.reduction = .none; loss = .gaussianNLL(l)
    }
    var arguments = c.arguments.map { Double($0) }
    arguments.upstream = nil
    guard let terms = try? Reference.evaluate(loss, arguments, gradients: .none) else { return nil }
    let absSum = terms.output.scalars.reduce(0) { $0 + abs($1) }
    let n = Double(terms.output.count)
    var weights: [Double] = [1]
    var a = 64.0
    var den = 1.0
    switch c.loss {
    case .crossEntropy(let l):
        weights += l.weight?.scalars ?? []
        if case .classes(let t) = c.arguments.target {
            den = t.scalars.filter { $0 != l.ignoreIndex }.reduce(0.0) { $0 + (l.weight?.scalars[$1] ?? 1) }
        } else {
            den = n
        }
    case .nll(let l):
        weights += l.weight?.scalars ?? []
        guard case .classes(let t) = c.arguments.target else { return nil }
        den = t.scalars.filter { $0 != l.ignoreIndex }.reduce(0.0) { $0 + (l.weight?.scalars[$1] ?? 1) }
    case .bce(let l):
        weights += l.weight?.scalars ?? []
        den = n
    case .bceWithLogits(let l):
        weights += (l.weight?.scalars ?? []) + (l.posWeight?.scalars ?? [])
        den = n
    case .klDiv:
        den = reduction == .batchmean ? Double(c.arguments.input.shape.first ?? 1) : n
    case .poissonNLL:
        a = 2981 + 64  // e^8 < 2981
        den = n
    default:
        den = n
    }
    let w = weights.map(abs).max() ?? 1
    a *= w * w
    if reduction == .none || reduction == .sum { den = 1 }
    let upstream = c.arguments.upstream?.scalars.map { abs(Double($0)) }.max() ?? 1
    let reduced = reduction != .none
    return Scales(outputScale: reduced ? absSum / abs(den) : nil,
                  outputFloor: 0x1p-20 * a * (reduced ? n / abs(den) : 1),
                  gradientFloor: 0x1p-20 * a * upstream / abs(den))
}

/// True when a real option of `loss` is nonzero but below the least normal Float (so the
/// fast engine, which rounds it to Float, works with 0 or a subnormal).
func tinyOption(_ loss: AnyLoss) -> Bool {
    let options: [Double]
    switch loss {
    case .huber(let l): options = [l.delta]
    case .smoothL1(let l): options = [l.beta]
    case .crossEntropy(let l): options = [l.labelSmoothing]
    case .poissonNLL(let l): options = [l.eps]
    case .gaussianNLL(let l): options = [l.eps]
    default: options = []
    }
    return options.contains { $0 != 0 && abs($0) < Double(Float.leastNormalMagnitude) }
}

/// Compares one tensor of both engines; `scale` and `floor` as in `Scales` (moderate
/// cases only).
func compare(_ name: String, fast: Tensor<Float>?, reference: Tensor<Double>?, scale: Double?, floor: Double, _ c: FuzzCase,
             values: Bool = true) {
    guard let fast, let reference else {
        if (fast == nil) != (reference == nil) { fail("\(name): present in one engine only", c) }
        return
    }
    if fast.shape != reference.shape { fail("\(name): shape \(fast.shape) (fast) vs \(reference.shape) (reference)", c) }
    guard values else { return }
    var norm = 0.0
    for r in reference.scalars where r.isFinite { norm = max(norm, abs(r)) }
    let bound = 0x1p-8 * (scale ?? norm) + floor
    for (i, (f, r)) in zip(fast.scalars, reference.scalars).enumerated() {
        if r.isNaN && f.isFinite { fail("\(name)[\(i)]: reference NaN, fast \(f) (a NaN made finite)", c) }
        guard c.moderate else { continue }
        if r.isNaN != f.isNaN || r.isInfinite != f.isInfinite || (r.isInfinite && Double(f) != r) {
            fail("\(name)[\(i)]: fast \(f) vs reference \(r) (non-finite positions differ in a moderate case)", c)
        }
        if r.isFinite && abs(Double(f) - r) > bound {
            fail("\(name)[\(i)]: fast \(f) vs reference \(r): |difference| \(abs(Double(f) - r)) > bound \(bound)", c)
        }
    }
}

/// The fast engine's type-erased buffer form on `c`, with output and gradient buffers
/// of exactly `outputCount` and the input's count (heap-allocated at those sizes).
func fastBufferCall(_ c: FuzzCase, outputCount: Int) -> Result<(output: [Float], gradInput: [Float]?, gradTarget: [Float]?), LossError> {
    let a = c.arguments
    let wantsInput = c.gradients.contains(.input)
    var wantsTarget = c.gradients.contains(.target)
    if case .classes = a.target { wantsTarget = false }
    var output = [Float](repeating: .nan, count: outputCount)
    var gradInput = [Float](repeating: .nan, count: wantsInput ? a.input.count : 0)
    var gradTarget = [Float](repeating: .nan, count: wantsTarget ? a.target.shape.reduce(1, *) : 0)
    var failure: LossError?
    let x = a.input.scalars, u = a.upstream?.scalars, v = a.variance?.scalars
    output.withUnsafeMutableBufferPointer { out in
        gradInput.withUnsafeMutableBufferPointer { gi in
            gradTarget.withUnsafeMutableBufferPointer { gt in
                let outputs = Fast.Outputs(output: out, gradInput: wantsInput ? gi : nil, gradTarget: wantsTarget ? gt : nil)
                x.withUnsafeBufferPointer { x in
                    func run(_ target: Fast.BufferTarget, _ u: UnsafeBufferPointer<Float>?, _ v: UnsafeBufferPointer<Float>?) {
                        do throws(LossError) {
                            try Fast.evaluate(c.loss, input: x, shape: a.input.shape, target: target,
                                              variance: v.map { ($0, a.variance!.shape) }, upstream: u, into: outputs)
                        } catch {
                            failure = error
                        }
                    }
                    func withTarget(_ u: UnsafeBufferPointer<Float>?, _ v: UnsafeBufferPointer<Float>?) {
                        switch a.target {
                        case .values(let t): t.scalars.withUnsafeBufferPointer { run(.values($0), u, v) }
                        case .classes(let t): t.scalars.withUnsafeBufferPointer { run(.classes($0, shape: t.shape), u, v) }
                        }
                    }
                    func withVariance(_ u: UnsafeBufferPointer<Float>?) {
                        if let v { v.withUnsafeBufferPointer { withTarget(u, $0) } } else { withTarget(u, nil) }
                    }
                    if let u { u.withUnsafeBufferPointer { withVariance($0) } } else { withVariance(nil) }
                }
            }
        }
    }
    if let failure { return .failure(failure) }
    return .success((output, wantsInput ? gradInput : nil, wantsTarget ? gradTarget : nil))
}

/// Bitwise equality, NaN payloads aside (any NaN equals any NaN).
func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func lossFuzzTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var reader = ByteReader(bytes: UnsafeBufferPointer(start: data, count: size))
    let moderate = reader.chance(2)
    var builder = CaseBuilder(reader: reader, moderate: moderate)
    let c = builder.build()

    let reference: Result<LossResult<Double>, LossError>
    do throws(LossError) {
        reference = .success(try Reference.evaluate(c.loss, c.arguments.map { Double($0) }, gradients: c.gradients))
    } catch {
        reference = .failure(error)
    }
    let fast: Result<LossResult<Float>, LossError>
    do throws(LossError) {
        fast = .success(try Fast.evaluate(c.loss, c.arguments, gradients: c.gradients))
    } catch {
        fast = .failure(error)
    }
    switch fast {
    case .success(let f):
        switch fastBufferCall(c, outputCount: f.output.count) {
        case .failure(let error):
            fail("the tensor form returns, the buffer form throws \(error)", c)
        case .success(let b):
            if !sameBits(b.output, f.output.scalars) || !sameBits(b.gradInput ?? [], f.gradInput?.scalars ?? [])
                || !sameBits(b.gradTarget ?? [], f.gradTarget?.scalars ?? []) {
                fail("the buffer form's bits differ from the tensor form's: \(b.output.prefix(4)) vs \(f.output.scalars.prefix(4))", c)
            }
        }
    case .failure:
        let shape = try? c.loss.outputShape(input: c.arguments.input.shape, target: c.arguments.target.shape,
                                            classTarget: { if case .classes = c.arguments.target { true } else { false } }(),
                                            variance: c.arguments.variance?.shape)
        _ = fastBufferCall(c, outputCount: c.loss.reduction == .none ? (shape ?? [1]).reduce(1, *) : 1)
    }
    switch (reference, fast) {
    case (.failure(let r), .failure(let f)):
        if r.kind != f.kind { fail("error kinds differ: reference \(r), fast \(f)", c) }
        if r.message.isEmpty || f.message.isEmpty { fail("an empty error message", c) }
    case (.failure(let r), .success):
        fail("the reference throws \(r), the fast engine returns", c)
    case (.success, .failure(let f)):
        fail("the fast engine throws \(f), the reference returns", c)
    case (.success(let r), .success(let f)):
        // An option that is nonzero in Double but 0 or subnormal in Float (label_smoothing
        // = 1e-300) makes the engines compute different functions (a masked class gets
        // smoothing mass eps / C > 0 in Double and 0 in Float: an infinite loss and a NaN
        // gradient in one, finite values in the other); docs/safety.md lists it. Only the
        // shapes are compared then.
        if tinyOption(c.loss) {
            compare("output", fast: f.output, reference: r.output, scale: nil, floor: 0, c, values: false)
            compare("gradInput", fast: f.gradInput, reference: r.gradInput, scale: nil, floor: 0, c, values: false)
            compare("gradTarget", fast: f.gradTarget, reference: r.gradTarget, scale: nil, floor: 0, c, values: false)
            return 0
        }
        let s = c.moderate ? scales(c) : nil
        compare("output", fast: f.output, reference: r.output, scale: s?.outputScale, floor: s?.outputFloor ?? 0, c)
        compare("gradInput", fast: f.gradInput, reference: r.gradInput, scale: nil, floor: s?.gradientFloor ?? 0, c)
        compare("gradTarget", fast: f.gradTarget, reference: r.gradTarget, scale: nil, floor: s?.gradientFloor ?? 0, c)
    }
    return 0
}

import FastLosses
import Foundation
import Losses
import LossVerification
import ReferenceLosses
import Testing

/// Extreme, non-finite and subnormal arguments on both engines (the cases live in
/// `StabilityCases`, shared with `losscheck report`), and long reductions.
@Suite("Stability")
struct StabilityTests {
    @Test("every stability case on the reference engine", arguments: StabilityCases.all.map(\.name))
    func reference(name: String) throws {
        try check(name: name, engine: .reference)
    }

    @Test("every stability case on the fast engine", arguments: StabilityCases.all.map(\.name))
    func fast(name: String) throws {
        try check(name: name, engine: .fast)
    }

    private func check(name: String, engine: LossEngine) throws {
        let stabilityCase = try #require(StabilityCases.all.first { $0.name == name })
        let outcome = StabilityCases.run(stabilityCase, engine: engine)
        #expect(outcome.passed, "\(outcome)\n    loss \(stabilityCase.loss.name) \(stabilityCase.loss.reduction); tolerance \(stabilityCase.tolerance(engine)): \(stabilityCase.derivation)")
    }

    @Test("with LOSS_REPORT=1: print every case's measured error on both engines")
    func report() {
        guard ProcessInfo.processInfo.environment["LOSS_REPORT"] == "1" else { return }
        let reference = StabilityCases.run(engine: .reference), fast = StabilityCases.run(engine: .fast)
        print("| case | reference | fast |\n|---|---|---|")
        for (r, f) in zip(reference, fast) {
            func cell(_ o: StabilityOutcome) -> String {
                o.passed ? String(format: "%.2g", o.worstError) : "FAILED"
            }
            print("| \(r.name) | \(cell(r)) | \(cell(f)) |")
        }
    }

    @Test("case names are unique and every case has a derivation")
    func caseList() {
        let names = StabilityCases.all.map(\.name)
        #expect(Set(names).count == names.count, "duplicate stability case names")
        for c in StabilityCases.all { #expect(!c.derivation.isEmpty, "\(c.name) has no tolerance derivation") }
    }

    @Test("the runner reports a wrong expected value as a failure")
    func runnerCanFail() {
        // mse of e = 1 is 1; claim 2 and the runner must say FAILED on both engines.
        let wrong = StabilityCase("self-test/wrong", .mse(MSELoss()),
                                  LossArguments(input: Tensor([1.0]), target: .values(Tensor([0.0]))),
                                  gradients: .none, expect: .closedForm(output: [2], gradInput: nil, gradTarget: nil),
                                  reference: .exact, fast: .exact, derivation: "self-test")
        for engine in LossEngine.allCases {
            #expect(!StabilityCases.run(wrong, engine: engine).passed, "\(engine): a wrong expected value passed")
        }
    }
}

/// Long mean reductions against closed forms: the fast engine's error bound must not grow
/// with the element count.
///
/// The fast engine sums in Float lanes for `Fast.termsPerLane` (16) terms, then in Double
/// (DeterministicSum.swift). A lane's Float block of k <= 16 non-negative terms errs by at
/// most (k - 1) u_f of their sum, the Double part by about N u_d, the squares (exact here)
/// by 0, and the final division and rounding to Float by 1 u_f:
///
///     |mean - exact| / exact  <=  15 u_f + 1 u_f + N u_d  <=  17 u_f   for N <= 2^29
///
/// Naive sequential Float accumulation of the same terms loses every small term after the
/// large one (pattern A: 6% at N = 2^20, growing with N).
@Suite("Stability: long reductions")
struct LongReductionTests {
    /// 2^20 always (a second or so in a debug build); 1e7 and 1e8 in deep mode (`LOSS_DEEP=1`).
    static let sizes: [Int] = TestEnvironment.current.deep ? [1 << 20, 10_000_000, 100_000_000] : [1 << 20]

    /// The bound above.
    static func bound(_ n: Int) -> Double { 17 * 0x1p-24 + Double(n) * 0x1p-53 }

    /// Pattern A: x_0 = 4096 (square 2^24), every other x_i = 1, target 0.
    /// mean = (2^24 + N - 1) / N; in Float, 2^24 + 1 rounds back to 2^24.
    static func patternA(_ n: Int) -> (input: [Float], exact: Double) {
        var x = [Float](repeating: 1, count: n)
        x[0] = 4096
        return (x, (0x1p24 + Double(n - 1)) / Double(n))
    }

    /// Pattern B, the blocked sum's worst case: x_i = 4096 where i % 256 < 16 (the first
    /// vector of every 256-element block, so every lane's block starts at 2^24 and its 15
    /// ones are lost if the blocks align with the chunk), else 1.
    static func patternB(_ n: Int) -> (input: [Float], exact: Double) {
        let x = (0..<n).map { $0 % 256 < 16 ? Float(4096) : 1 }
        let large = (n / 256) * 16 + min(n % 256, 16)
        return (x, (Double(large) * 0x1p24 + Double(n - large)) / Double(n))
    }

    @Test("fast mse mean: relative error within 17 u_f + N u_d for every N", arguments: [0, 1])
    func fastMean(pattern: Int) throws {
        for n in Self.sizes {
            let (x, exact) = pattern == 0 ? Self.patternA(n) : Self.patternB(n)
            let zeros = try Tensor<Float>(repeating: 0, shape: [n])
            let input = try Tensor(shape: [n], scalars: x)
            for threads in [1, 2] {
                let result = try Fast.evaluate(MSELoss(), input: input, target: zeros, threads: threads)
                let actual = Double(result.output.scalars[0])
                let error = abs(actual - exact) / exact
                if ProcessInfo.processInfo.environment["LOSS_REPORT"] == "1" {
                    print("long mse mean pattern \(pattern == 0 ? "A" : "B") N = \(n) threads \(threads): relative error \(error) = \(error / 0x1p-24) u_f")
                }
                #expect(error <= Self.bound(n),
                        "mse mean pattern \(pattern == 0 ? "A" : "B"), N = \(n), threads \(threads): expected \(exact), actual \(actual), relative error \(error) (\(error / 0x1p-24) u_f) > bound \(Self.bound(n))")
            }
        }
    }

    @Test("naive sequential Float accumulation of pattern A really loses digits")
    func naiveLoses() {
        // The point of pattern A: a plain Float loop is off by ~6%, far outside the bound.
        let n = 1 << 20
        let (x, exact) = Self.patternA(n)
        var sum: Float = 0
        for v in x { sum += v * v }
        let error = abs(Double(sum / Float(n)) - exact) / exact
        #expect(error > 100 * Self.bound(n), "naive Float sum erred by only \(error)")
    }

    @Test("fast l1 mean of pattern A")
    func fastL1() throws {
        // l1 of x = 2^24 once, 1 elsewhere: mean (2^24 + N - 1) / N, the same bound.
        let n = 1 << 20
        var x = [Float](repeating: 1, count: n)
        x[0] = 0x1p24
        let exact = (0x1p24 + Double(n - 1)) / Double(n)
        let result = try Fast.evaluate(L1Loss(), input: Tensor(shape: [n], scalars: x),
                                       target: Tensor<Float>(repeating: 0, shape: [n]))
        let actual = Double(result.output.scalars[0])
        let error = abs(actual - exact) / exact
        #expect(error <= Self.bound(n), "l1 mean N = \(n): expected \(exact), actual \(actual), relative error \(error)")
    }

    @Test("reference mse mean of pattern A: compensated sum, error <= 2 u_d")
    func referenceMean() throws {
        // Reference sums are compensated: error <= 2 u_d + O(N u_d^2), plus the division.
        let n = 1 << 16
        let (x, exact) = Self.patternA(n)
        let result = try Reference.evaluate(MSELoss(), input: Tensor(shape: [n], scalars: x.map(Double.init)),
                                            target: Tensor<Double>(repeating: 0, shape: [n]))
        let actual = result.output.scalars[0]
        let error = abs(actual - exact) / exact
        #expect(error <= 3 * 0x1p-53, "reference mse mean N = \(n): expected \(exact), actual \(actual), relative error \(error)")
    }
}

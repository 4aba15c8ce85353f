import Foundation
import Testing
import Losses
import ReferenceLosses
import LossVerification

/// The checker checks itself: gradients that are wrong in the ways real backward passes
/// go wrong are fed to the sweep's harness (both oracles) and to the public
/// `GradientChecker`, and every one must be caught. Each wrong gradient is built from the
/// reference's correct one, transformed the way the bug would (so it is right everywhere
/// the bug does not reach). A case is used only when the correct gradient passes both
/// oracles there with something compared, and the bug changes the gradient by more than
/// 1e-6 of its scale (so "caught" means the checker saw the bug, not noise).
@Suite("Mutations: wrong gradients are caught by both oracles")
struct MutationTests {
    static let env = TestEnvironment.current

    /// A bug: which cases it can occur in, and the wrong gradient it produces.
    struct Bug: Sendable, CustomTestStringConvertible {
        let name: String
        /// The generator's loss name and options (standard-normal values, so finite
        /// differences resolve every coordinate).
        let loss: String
        let options: GeneratorOptions
        /// Check by random projections (large cases) instead of full Jacobians.
        let projections: Bool
        /// The argument whose gradient is broken.
        let argument: GradArgument
        /// Whether the case has what the bug needs (a weight, a mean, ignored rows, ...).
        let applies: @Sendable (GeneratedCase) -> Bool
        /// The wrong gradient, from the case, its upstream `v` (output-shaped; ones when
        /// absent) and the correct gradient for that upstream.
        let wrong: @Sendable (GeneratedCase, [Double], [Double]) -> [Double]
        var testDescription: String { "\(name) (\(loss)\(projections ? ", projections" : ""), grad_\(argument))" }
    }

    // MARK: Building blocks of the bugs

    /// `(batch, classes, inner)` of a class-dimension input.
    static func classLayout(_ c: GeneratedCase) -> (batch: Int, classes: Int, inner: Int) {
        let s = c.arguments.input.shape
        if s.count == 1 { return (1, s[0], 1) }
        return (s[0], s[1], s.dropFirst(2).reduce(1, *))
    }

    static func classTargets(_ c: GeneratedCase) -> [Int] {
        if case .classes(let t) = c.arguments.target { return t.scalars }
        return []
    }

    static func ignoreIndex(_ c: GeneratedCase) -> Int {
        switch c.loss {
        case .crossEntropy(let l): l.ignoreIndex
        case .nll(let l): l.ignoreIndex
        default: Int.min
        }
    }

    static func classWeights(_ c: GeneratedCase) -> [Double]? {
        switch c.loss {
        case .crossEntropy(let l): l.weight?.scalars
        case .nll(let l): l.weight?.scalars
        default: nil
        }
    }

    /// `sum over non-ignored rows of w[y_i]` (the count without weights): the weighted
    /// mean's denominator.
    static func weightSum(_ c: GeneratedCase) -> Double {
        let w = classWeights(c), ignore = ignoreIndex(c)
        return classTargets(c).filter { $0 != ignore }.reduce(0) { $0 + (w?[$1] ?? 1) }
    }

    static func nonIgnoredRows(_ c: GeneratedCase) -> Int {
        let ignore = ignoreIndex(c)
        return classTargets(c).filter { $0 != ignore }.count
    }

    /// Element i's upstream: `v_i` for `none`, the scalar `v_0` for a reduction.
    static func upstream(_ c: GeneratedCase, _ v: [Double], _ i: Int) -> Double {
        c.loss.reduction == .none ? v[i] : v[0]
    }

    /// A weight (or pos_weight) broadcast to the input's shape; ones when absent.
    static func expand(_ w: Tensor<Double>?, _ c: GeneratedCase) -> [Double] {
        let shape = c.arguments.input.shape
        guard let w, let b = try? Broadcast(w.shape, to: shape, loss: c.lossName, argument: "weight") else {
            return Array(repeating: 1, count: shape.reduce(1, *))
        }
        return b.expand(w.scalars)
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    /// The softmax of row `row` (classes in order), computed here with a shifted exp.
    static func softmax(_ c: GeneratedCase, row: Int) -> [Double] {
        let (_, C, inner) = classLayout(c)
        let n = row / inner, s = row % inner
        let x = (0..<C).map { c.arguments.input.scalars[(n * C + $0) * inner + s] }
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    static func isMean(_ c: GeneratedCase) -> Bool { c.loss.reduction == .mean }

    // MARK: The bugs

    /// Standard-normal cases with reduction mean.
    static let meanOptions = GeneratorOptions(regimes: [.standardNormal], reductions: [.mean])

    static let bugs: [Bug] = {
        var bugs: [Bug] = []
        // 1. The sign flipped: every loss (both target kinds of cross_entropy), by full
        //    Jacobians, and by projections on large cases.
        let signLosses: [(String, GeneratorOptions, GradArgument)] = [
            ("mse", .init(), .input), ("l1", .init(), .target), ("huber", .init(), .input),
            ("smooth_l1", .init(), .input), ("bce", .init(), .input), ("bce_with_logits", .init(), .target),
            ("cross_entropy", .init(classIndexTargets: true), .input), ("cross_entropy", .init(classIndexTargets: false), .target),
            ("nll", .init(), .input), ("kl_div", .init(), .input), ("poisson_nll", .init(), .target), ("gaussian_nll", .init(), .input),
        ]
        for (loss, base, argument) in signLosses {
            var options = base
            options.regimes = loss == "bce" || loss == "bce_with_logits" ? [.softTargets] : [.standardNormal]
            if loss == "cross_entropy" && base.classIndexTargets == false { options.regimes = [.softTargets] }
            bugs.append(Bug(name: "sign flipped", loss: loss, options: options, projections: false, argument: argument,
                            applies: { _ in true }, wrong: { _, _, g in g.map { -$0 } }))
        }
        var large = GeneratorOptions(regimes: [.standardNormal], shapes: [.batched, .spatial], maxElements: 800)
        bugs.append(Bug(name: "sign flipped", loss: "gaussian_nll", options: large, projections: true, argument: .input,
                        applies: { _ in true }, wrong: { _, _, g in g.map { -$0 } }))

        // 2. The mean's 1/N missing: elementwise losses (and kl_div's batchmean: 1/batch),
        //    and the class losses' 1/den.
        for loss in ["mse", "huber", "bce_with_logits", "poisson_nll"] {
            bugs.append(Bug(name: "missing 1/N of the mean", loss: loss, options: meanOptions, projections: false, argument: .input,
                            applies: { isMean($0) && $0.arguments.input.count > 1 },
                            wrong: { c, _, g in g.map { $0 * Double(c.arguments.input.count) } }))
        }
        large.reductions = [.mean]
        bugs.append(Bug(name: "missing 1/N of the mean", loss: "mse", options: large, projections: true, argument: .target,
                        applies: { isMean($0) && $0.arguments.input.count > 1 },
                        wrong: { c, _, g in g.map { $0 * Double(c.arguments.input.count) } }))
        bugs.append(Bug(name: "missing 1/batch of batchmean", loss: "kl_div",
                        options: GeneratorOptions(regimes: [.standardNormal], shapes: [.batched, .spatial], reductions: [.batchmean]),
                        projections: false, argument: .input,
                        applies: { ($0.arguments.input.shape.first ?? 1) > 1 },
                        wrong: { c, _, g in g.map { $0 * Double(c.arguments.input.shape[0]) } }))
        bugs.append(Bug(name: "missing 1/den of the mean", loss: "nll", options: meanOptions, projections: false, argument: .input,
                        applies: { weightSum($0) > 0 && (weightSum($0) - 1).magnitude > 1e-3 },
                        wrong: { c, _, g in g.map { $0 * weightSum(c) } }))

        // 3. The weighted mean divided by the count N of non-ignored rows instead of the
        //    sum of their weights: grad * sum(w) / N.
        for loss in ["cross_entropy", "nll"] {
            var options = meanOptions
            options.classIndexTargets = true
            bugs.append(Bug(name: "weighted mean over N, not the weight sum", loss: loss, options: options, projections: false,
                            argument: .input,
                            applies: { classWeights($0) != nil && nonIgnoredRows($0) > 0 && weightSum($0) > 0
                                && (weightSum($0) / Double(nonIgnoredRows($0)) - 1).magnitude > 1e-3 },
                            wrong: { c, _, g in g.map { $0 * weightSum(c) / Double(nonIgnoredRows(c)) } }))
        }

        // 4. pos_weight on the negative term: the loss -w [y log s + p (1 - y) log(1 - s)]
        //    instead of -w [p y log s + (1 - y) log(1 - s)], so d/dx becomes
        //    w [(y + p (1 - y)) s - y] instead of w [(1 + (p - 1) y) s - p y].
        bugs.append(Bug(name: "pos_weight on the negative term", loss: "bce_with_logits",
                        options: GeneratorOptions(regimes: [.softTargets]), projections: false, argument: .input,
                        applies: { c in
                            if case .bceWithLogits(let l) = c.loss, let p = l.posWeight { return p.scalars.contains { $0 != 1 } }
                            return false
                        },
                        wrong: { c, v, g in
                            guard case .bceWithLogits(let l) = c.loss, case .values(let t) = c.arguments.target else { return g }
                            let w = expand(l.weight, c), p = expand(l.posWeight, c)
                            let n = Double(c.arguments.input.count)
                            return g.indices.map { i in
                                let x = c.arguments.input.scalars[i], y = t.scalars[i], s = sigmoid(x)
                                let right = (1 + (p[i] - 1) * y) * s - p[i] * y
                                let swapped = (y + p[i] * (1 - y)) * s - y
                                let norm = c.loss.reduction == .mean ? 1 / n : 1
                                return g[i] + w[i] * (swapped - right) * upstream(c, v, i) * norm
                            }
                        }))

        // 5. Label smoothing leaking into ignored rows: an ignored row gets the smoothing
        //    term (eps / C) ((sum_c w_c) p - w) g_i / den that only kept rows should get.
        bugs.append(Bug(name: "label smoothing leaks into ignored rows", loss: "cross_entropy",
                        options: GeneratorOptions(regimes: [.standardNormal], classIndexTargets: true), projections: false,
                        argument: .input,
                        applies: { c in
                            guard case .crossEntropy(let l) = c.loss, l.labelSmoothing > 0 else { return false }
                            let rows = classTargets(c).count, kept = nonIgnoredRows(c)
                            return kept > 0 && kept < rows && weightSum(c) > 0 && classLayout(c).classes > 1
                        },
                        wrong: { c, v, g in
                            guard case .crossEntropy(let l) = c.loss else { return g }
                            let (_, C, inner) = classLayout(c)
                            let w = l.weight?.scalars ?? Array(repeating: 1, count: C)
                            let total = w.reduce(0, +)
                            let den = c.loss.reduction == .mean ? weightSum(c) : 1
                            var wrong = g
                            for (row, y) in classTargets(c).enumerated() where y == l.ignoreIndex {
                                let p = softmax(c, row: row)
                                let n = row / inner, s = row % inner
                                for k in 0..<C {
                                    wrong[(n * C + k) * inner + s] += l.labelSmoothing / Double(C) * (total * p[k] - w[k])
                                        * upstream(c, v, row) / den
                                }
                            }
                            return wrong
                        }))
        return bugs
    }()

    /// The first case (from index 0 under the base seed) the bug applies to, whose correct
    /// gradient passes both oracles with entries compared, and which the bug changes by
    /// more than 1e-6 of the gradient's scale.
    static func findCase(_ bug: Bug, also accept: (GeneratedCase, GradProbe) -> Bool = { _, _ in true }) throws -> (GeneratedCase, GradProbe, [Double])? {
        for index in 0..<400 {
            let c = try Generators.case(for: bug.loss, seed: env.seed, index: index, options: bug.options)
            guard bug.applies(c), bug.argument == .input || GradProbe.hasTargetGradient(c) else { continue }
            let probe = try GradProbe(c, bug.argument)
            guard probe.baseOutput.allSatisfy(\.isFinite) else { continue }
            let correct = try probe.referenceGradient()
            let wrong = bug.wrong(c, probe.upstream, correct)
            let scale = correct.filter(\.isFinite).map(\.magnitude).max() ?? 0
            let change = zip(wrong, correct).map { ($0 - $1).magnitude }.max() ?? 0
            guard scale > 0, change > 1e-6 * scale else { continue }
            let baseline = try GradCheck.run(probe, forceProjections: bug.projections)
            guard baseline.passed, baseline.compared > 0, baseline.dualCompared > 0, accept(c, probe) else { continue }
            return (c, probe, wrong)
        }
        return nil
    }

    @Test(arguments: bugs)
    func theSweepsHarnessCatchesTheBug(_ bug: Bug) throws {
        let found = try MutationTests.findCase(bug)
        let (c, probe, wrong) = try #require(found, "\(bug.testDescription): no applicable case in 400 (seed \(TestEnvironment.hex(MutationTests.env.seed)))")
        let o = try GradCheck.run(probe, analytic: wrong, forceProjections: bug.projections)
        let context = "\(bug.testDescription)\n  case: \(c)\n  rerun: \(MutationTests.env.rerunCommand(filter: "MutationTests"))"
        #expect(!o.dualPassed, "dual numbers missed the bug: error \(o.dualError)\n  \(context)")
        #expect(!o.differencePassed, "finite differences missed the bug: error \(o.differenceError)\n  \(context)")
        if GradReport.enabled {
            print("mutation \(bug.testDescription.padding(toLength: 72, withPad: " ", startingAt: 0)) dual error \(String(format: "%.2e", o.dualError)), "
                  + "FD error \(String(format: "%.2e", o.differenceError)) (\(o.mode.rawValue), case \(c.index ?? -1), \(Shape.describe(c.arguments.input.shape)), \(c.loss.reduction))")
        }
    }

    /// The public checker on a probe, with the reference's backward pass for any upstream
    /// v (the checker draws its own), broken by the bug or not.
    static func publicCheck(_ bug: Bug, _ c: GeneratedCase, _ probe: GradProbe, broken: Bool) throws -> GradientCheckReport {
        func vectorJacobianProduct(_ x: [Double], _ v: [Double]) throws -> [Double] {
            var arguments = try probe.arguments(at: x)
            arguments.upstream = try Tensor(shape: probe.outputShape, scalars: v)
            let r = try Reference.evaluate(c.loss, arguments, gradients: bug.argument == .input ? .input : .target)
            guard let g = bug.argument == .input ? r.gradInput : r.gradTarget else {
                throw LossError(.target, "no \(bug.argument) gradient")
            }
            return broken ? bug.wrong(c, v, g.scalars) : g.scalars
        }
        let options = GradientChecker.Options(mode: bug.projections ? .projections(3) : .automatic,
                                              dualTolerance: Tolerance(rtol: GradBounds.dual))
        return try GradientChecker.check(at: probe.point, value: probe.outputs, vectorJacobianProduct: vectorJacobianProduct,
                                         dual: { x in try probe.dualOutputs(direction: x.map(\.derivative)) }, options: options)
    }

    @Test(arguments: bugs)
    func thePublicGradientCheckerCatchesTheBug(_ bug: Bug) throws {
        // A case where the checker's fixed steps stay inside the loss's domain and the
        // correct backward pass passes (the checker has no notion of bce's [0, 1]).
        let found = try MutationTests.findCase(bug) { c, probe in
            (try? MutationTests.publicCheck(bug, c, probe, broken: false).passed) == true
        }
        let (c, probe, _) = try #require(found, "\(bug.testDescription): no applicable case")
        let broken = try MutationTests.publicCheck(bug, c, probe, broken: true)
        #expect(broken.oracles.count == 2 && broken.oracles.allSatisfy { !$0.passed && $0.mismatches > 0 },
                "\(bug.testDescription): \(broken)\n  case: \(c)")
    }
}

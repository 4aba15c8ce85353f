import Foundation
import Testing
import Losses
import ReferenceLosses
import LossVerification

/// A coverage family: a kind of case (an option, a reduction, a layout, a regime) the
/// sweep must contain at least once.
struct GradFamily: Sendable {
    let name: String
    let matches: @Sendable (GeneratedCase) -> Bool
}

/// One loss (or one target kind of `cross_entropy`) as the sweep runs it.
struct GradVariant: Sendable, CustomTestStringConvertible {
    let name: String
    /// The generator's loss name.
    let loss: String
    let options: GeneratorOptions
    /// The options of the large cases (checked by random projections).
    let largeOptions: GeneratorOptions
    let families: [GradFamily]
    var testDescription: String { name }
}

extension GradVariant {
    // MARK: Predicates on generated cases

    static func rank(_ c: GeneratedCase) -> Int { c.arguments.input.shape.count }

    /// The number of class-index targets equal to ignore_index, and the row count.
    static func ignored(_ c: GeneratedCase) -> (ignored: Int, rows: Int) {
        guard case .classes(let t) = c.arguments.target else { return (0, 0) }
        let index: Int
        switch c.loss {
        case .crossEntropy(let l): index = l.ignoreIndex
        case .nll(let l): index = l.ignoreIndex
        default: return (0, t.count)
        }
        return (t.scalars.filter { $0 == index }.count, t.count)
    }

    static func classWeight(_ c: GeneratedCase) -> Bool {
        switch c.loss {
        case .crossEntropy(let l): l.weight != nil
        case .nll(let l): l.weight != nil
        default: false
        }
    }

    static func smoothing(_ c: GeneratedCase) -> Double {
        if case .crossEntropy(let l) = c.loss { return l.labelSmoothing }
        return 0
    }

    /// The families every loss has: its reductions, its layouts, its regimes, and an
    /// upstream gradient with `none`.
    static func common(_ loss: String, classLoss: Bool, regimes: [Generators.Regime]) -> [GradFamily] {
        var f: [GradFamily] = []
        let reductions: [Reduction] = loss == "kl_div" ? [.none, .sum, .mean, .batchmean] : [.none, .sum, .mean]
        for r in reductions {
            f.append(GradFamily(name: "reduction \(r.rawValue)") { $0.loss.reduction == r })
        }
        f.append(GradFamily(name: "none with a random upstream") { $0.loss.reduction == .none && $0.arguments.upstream != nil })
        f.append(GradFamily(name: "reduction with a scalar upstream") { $0.loss.reduction != .none && $0.arguments.upstream != nil })
        if classLoss {
            f.append(GradFamily(name: "unbatched [C]") { rank($0) == 1 })
            f.append(GradFamily(name: "batched [N, C]") { rank($0) == 2 })
            f.append(GradFamily(name: "k-dimensional [N, C, d...]") { rank($0) >= 3 })
        } else {
            f.append(GradFamily(name: "scalar []") { rank($0) == 0 })
            f.append(GradFamily(name: "vector [n]") { rank($0) == 1 })
            f.append(GradFamily(name: "batched [N, C]") { rank($0) == 2 })
            f.append(GradFamily(name: "k-dimensional") { rank($0) >= 3 })
        }
        for regime in regimes {
            f.append(GradFamily(name: "regime \(regime.rawValue)") { $0.regime == regime })
        }
        return f
    }

    static func make(_ name: String, loss: String, options: GeneratorOptions = GeneratorOptions(),
                     regimes: [Generators.Regime]? = nil, families extra: [GradFamily] = []) -> GradVariant {
        var options = options
        options.regimes = regimes
        var large = options
        large.maxElements = 1500
        large.shapes = [.vector, .batched, .spatial]
        let classLoss = loss == "cross_entropy" || loss == "nll"
        return GradVariant(name: name, loss: loss, options: options, largeOptions: large,
                           families: common(loss, classLoss: classLoss, regimes: regimes ?? Generators.regimes(for: loss)) + extra)
    }

    // MARK: The variants

    static let all: [GradVariant] = [
        make("mse", loss: "mse"),
        make("l1", loss: "l1"),
        make("huber", loss: "huber", families: [
            GradFamily(name: "delta != 1") { if case .huber(let l) = $0.loss { l.delta != 1 } else { false } },
        ]),
        make("smooth_l1", loss: "smooth_l1", families: [
            GradFamily(name: "beta > 0, != 1") { if case .smoothL1(let l) = $0.loss { l.beta != 1 && l.beta > 0 } else { false } },
            GradFamily(name: "beta = 0") { if case .smoothL1(let l) = $0.loss { l.beta == 0 } else { false } },
        ]),
        make("bce", loss: "bce", families: [
            GradFamily(name: "weight of the input's shape") { if case .bce(let l) = $0.loss { l.weight?.shape == $0.arguments.input.shape } else { false } },
            GradFamily(name: "weight broadcast") {
                if case .bce(let l) = $0.loss, let w = l.weight { w.shape != $0.arguments.input.shape } else { false }
            },
        ]),
        make("bce_with_logits", loss: "bce_with_logits", families: [
            GradFamily(name: "weight") { if case .bceWithLogits(let l) = $0.loss { l.weight != nil } else { false } },
            GradFamily(name: "weight broadcast") {
                if case .bceWithLogits(let l) = $0.loss, let w = l.weight { w.shape != $0.arguments.input.shape } else { false }
            },
            GradFamily(name: "pos_weight") { if case .bceWithLogits(let l) = $0.loss { l.posWeight != nil } else { false } },
            GradFamily(name: "pos_weight broadcast") {
                if case .bceWithLogits(let l) = $0.loss, let p = l.posWeight { p.shape != $0.arguments.input.shape } else { false }
            },
            GradFamily(name: "weight and pos_weight") {
                if case .bceWithLogits(let l) = $0.loss { l.weight != nil && l.posWeight != nil } else { false }
            },
        ]),
        make("cross_entropy (index)", loss: "cross_entropy", options: GeneratorOptions(classIndexTargets: true),
             regimes: [.standardNormal, .wideRange, .nearOneHot], families: [
            GradFamily(name: "weight") { classWeight($0) },
            GradFamily(name: "ignore_index absent (no row ignored)") { ignored($0).ignored == 0 },
            GradFamily(name: "ignore_index present (some rows ignored)") { let i = ignored($0); return i.ignored > 0 && i.ignored < i.rows },
            GradFamily(name: "all rows ignored") { let i = ignored($0); return i.rows > 0 && i.ignored == i.rows },
            GradFamily(name: "all rows ignored, mean") { let i = ignored($0); return i.rows > 0 && i.ignored == i.rows && $0.loss.reduction == .mean },
            GradFamily(name: "label_smoothing") { smoothing($0) > 0 },
            GradFamily(name: "label_smoothing 1") { smoothing($0) == 1 },
            GradFamily(name: "label_smoothing with weight and ignored rows") {
                smoothing($0) > 0 && classWeight($0) && ignored($0).ignored > 0
            },
        ]),
        make("cross_entropy (probabilities)", loss: "cross_entropy", options: GeneratorOptions(classIndexTargets: false), families: [
            GradFamily(name: "weight") { classWeight($0) },
            GradFamily(name: "label_smoothing") { smoothing($0) > 0 },
            GradFamily(name: "label_smoothing with weight") { smoothing($0) > 0 && classWeight($0) },
        ]),
        make("nll", loss: "nll", families: [
            GradFamily(name: "weight") { classWeight($0) },
            GradFamily(name: "ignore_index absent (no row ignored)") { ignored($0).ignored == 0 },
            GradFamily(name: "ignore_index present (some rows ignored)") { let i = ignored($0); return i.ignored > 0 && i.ignored < i.rows },
            GradFamily(name: "all rows ignored") { let i = ignored($0); return i.rows > 0 && i.ignored == i.rows },
            GradFamily(name: "weight with ignored rows, mean") {
                classWeight($0) && ignored($0).ignored > 0 && $0.loss.reduction == .mean
            },
        ]),
        make("kl_div", loss: "kl_div", families: [
            GradFamily(name: "log_target") { if case .klDiv(let l) = $0.loss { l.logTarget } else { false } },
            GradFamily(name: "log_target, batchmean") {
                if case .klDiv(let l) = $0.loss { l.logTarget && l.reduction == .batchmean } else { false }
            },
        ]),
        make("poisson_nll", loss: "poisson_nll", families: [
            GradFamily(name: "log_input false") { if case .poissonNLL(let l) = $0.loss { !l.logInput } else { false } },
            GradFamily(name: "full") { if case .poissonNLL(let l) = $0.loss { l.full } else { false } },
            GradFamily(name: "full, log_input false") { if case .poissonNLL(let l) = $0.loss { l.full && !l.logInput } else { false } },
            GradFamily(name: "eps != 1e-8") { if case .poissonNLL(let l) = $0.loss { l.eps != 1e-8 } else { false } },
        ]),
        make("gaussian_nll", loss: "gaussian_nll", families: [
            GradFamily(name: "full") { if case .gaussianNLL(let l) = $0.loss { l.full } else { false } },
            GradFamily(name: "eps != 1e-6") { if case .gaussianNLL(let l) = $0.loss { l.eps != 1e-6 } else { false } },
            GradFamily(name: "var broadcast") { $0.arguments.variance?.shape != $0.arguments.input.shape },
        ]),
    ]
}

/// Every reference gradient against dual numbers (1e-12) and Richardson differences
/// (1e-7), norm-wise, over seeded generated cases: every loss, reduction, option family
/// and layout (each asserted to occur), small cases by full Jacobians, large ones by
/// random projections. The bounds are derived in GradCheckSupport.swift.
///
/// Run more: `LOSS_DEEP=1 swift test --filter LossGradientTests` (10x the cases). Print
/// per-loss errors and counts: `LOSS_REPORT=1`. Rerun one case: the failure message
/// prints the command (`LOSS_SEED=... LOSS_CASE=... swift test --filter ...`).
@Suite("Gradients: reference vs dual numbers and Richardson differences")
struct LossGradientTests {
    static let env = TestEnvironment.current
    /// Small cases per loss (full Jacobians), times 10 in deep mode.
    static let smallCases = 48
    /// Large cases per loss (random projections), times 10 in deep mode.
    static let largeCases = 6
    /// Large cases have indices from here on (so `LOSS_CASE` names either kind).
    static let largeIndexOffset = 1_000_000
    /// How far past the small cases to look for a case of a family not yet seen.
    static let coverageScanLimit = 1000

    static func generate(_ v: GradVariant, _ index: Int) throws -> GeneratedCase {
        try Generators.case(for: v.loss, seed: env.seed, index: index,
                            options: index >= largeIndexOffset ? v.largeOptions : v.options)
    }

    /// The small cases, then any later case that brings a family not yet covered, then
    /// the large cases; or only `LOSS_CASE`.
    static func selectCases(_ v: GradVariant) throws -> [GeneratedCase] {
        if let only = env.onlyCase { return [try generate(v, only)] }
        let small = smallCases * env.caseMultiplier
        var cases = try (0..<small).map { try generate(v, $0) }
        var uncovered = v.families.filter { f in !cases.contains(where: f.matches) }
        var index = small
        while !uncovered.isEmpty && index < small + coverageScanLimit {
            let c = try generate(v, index)
            if uncovered.contains(where: { $0.matches(c) }) {
                cases.append(c)
                uncovered.removeAll { $0.matches(c) }
            }
            index += 1
        }
        cases += try (0..<largeCases * env.caseMultiplier).map { try generate(v, largeIndexOffset + $0) }
        return cases
    }

    static func failure(_ c: GeneratedCase, _ argument: GradArgument, _ detail: String) -> Comment {
        "\(c.lossName) grad_\(argument): \(detail)\n  case: \(c)\n  rerun: \(env.rerunCommand(filter: "LossGradientTests", caseIndex: c.index))"
    }

    @Test func environmentIsReadable() {
        #expect(LossGradientTests.env.problems.isEmpty, "\(LossGradientTests.env.problems)")
    }

    @Test(arguments: GradVariant.all)
    func referenceGradients(_ variant: GradVariant) throws {
        let start = Date()
        let env = LossGradientTests.env
        let cases = try LossGradientTests.selectCases(variant)
        var totals = GradSweepTotals()
        for c in cases {
            totals.cases += 1
            let large = (c.index ?? 0) >= LossGradientTests.largeIndexOffset
            var arguments: [GradArgument] = [.input]
            if GradProbe.hasTargetGradient(c) { arguments.append(.target) }
            for argument in arguments {
                let probe = try GradProbe(c, argument)
                let outcome = try GradCheck.run(probe, forceProjections: large)
                totals.add(outcome, argument: argument, regime: c.regime)
                #expect(outcome.dualPassed, LossGradientTests.failure(c, argument, outcome.dualDetail))
                #expect(outcome.differencePassed, LossGradientTests.failure(c, argument, outcome.differenceDetail))
                #expect(outcome.documentedPassed, LossGradientTests.failure(c, argument, outcome.documentedDetail))
                #expect(outcome.couplingDetail.isEmpty, LossGradientTests.failure(c, argument, outcome.couplingDetail))
            }
        }
        if GradReport.enabled {
            print(totals.line(variant.name, seconds: Date().timeIntervalSince(start)))
        }
        guard env.onlyCase == nil else { return }

        // Every family of options, reductions, layouts and regimes was checked.
        for family in variant.families {
            #expect(cases.contains(where: family.matches),
                    "\(variant.name): no case of the family '\(family.name)' among \(cases.count) cases (seed \(TestEnvironment.hex(env.seed)))")
        }
        // Finite differences compared most points: skips at kinks and domain edges are
        // the exception outside the near-kinks regime (which places every point within a
        // step of a kink by construction: there all are skipped, and dual numbers compare
        // them). Entries no step can resolve in double precision (unresolved) concentrate
        // in the wide-range regime; elsewhere they are rare.
        let outsideKinks = totals.counts(excluding: .nearKinks)
        #expect(outsideKinks.compared > outsideKinks.skipped,
                "\(variant.name): finite differences compared \(outsideKinks.compared) points and skipped \(outsideKinks.skipped) (kink \(outsideKinks.kink), edge \(outsideKinks.edge)) outside the near-kinks regime")
        let outsideWide = totals.counts(excluding: .wideRange)
        #expect(outsideWide.unresolved * 10 <= outsideWide.compared + outsideWide.unresolved,
                "\(variant.name): \(outsideWide.unresolved) of \(outsideWide.compared + outsideWide.unresolved) difference entries unresolved outside the wide-range regime")
        // The dual oracle compared every non-documented coordinate.
        #expect(totals.dualCompared > 0)
    }
}

/// The near-certain softmax rows that the sweep's dual oracle found mishandled (relative
/// errors from ~1e-5 to 100% at p ~ 1 - 1e-11 .. 1 - 1e-18, from rounding 1 + r before the
/// log, and from p * mass - w t cancelling at the most likely class), pinned with values
/// computed independently at 50 digits (mpmath). For logits [z, 0] and r = e^-z:
///   p1 = r / (1 + r),  p0 - 1 = -r / (1 + r),  loss = log(1 + r).
@Suite("Gradients: near-certain softmax rows keep full relative accuracy")
struct NearCertainRowTests {
    static let rows: [(z: Double, p1: Double, loss: Double)] = [
        (40.0, 4.2483542552915889773e-18, 4.2483542552915889863e-18),
        (25.0, 1.388794386477114561e-11, 1.3887943864867583102e-11),
    ]
    /// A few roundings each (exp, log1p, expm1, a product or two, one division): 16 ulps.
    static let bound = 16 * Double.ulpOfOne

    static func close(_ actual: Double, _ expected: Double) -> Bool {
        (actual - expected).magnitude <= bound * expected.magnitude
    }

    @Test(arguments: rows)
    func indexTarget(row: (z: Double, p1: Double, loss: Double)) throws {
        // sum reduction, target class 0: grad = p - onehot(0) = [-p1, p1].
        let r = try Reference.evaluate(CrossEntropyLoss(reduction: .sum), input: Tensor([row.z, 0]),
                                       target: Tensor<Int>(scalar: 0), gradients: .input)
        let g = try #require(r.gradInput).scalars
        #expect(Self.close(g[0], -row.p1) && Self.close(g[1], row.p1), "z \(row.z): reference \(g), expected [\(-row.p1), \(row.p1)]")
        #expect(Self.close(r.output.scalars[0], row.loss), "z \(row.z): loss \(r.output.scalars[0]), expected \(row.loss)")
    }

    @Test(arguments: rows)
    func oneHotProbabilityTarget(row: (z: Double, p1: Double, loss: Double)) throws {
        // t = [1, 0], mass 1: grad = p * 1 - t = [-p1, p1], as for the index target.
        let r = try Reference.evaluate(CrossEntropyLoss(reduction: .sum), input: Tensor([row.z, 0]),
                                       target: Tensor([1.0, 0]), gradients: .input)
        let g = try #require(r.gradInput).scalars
        #expect(Self.close(g[0], -row.p1) && Self.close(g[1], row.p1), "z \(row.z): reference \(g), expected [\(-row.p1), \(row.p1)]")
    }

    @Test(arguments: rows)
    func smoothingWithAZeroWeight(row: (z: Double, p1: Double, loss: Double)) throws {
        // weight [5/2, 0], eps 1/2, C 2, target 0, sum: W = sum w = 5/2 = w0, so
        //   grad_0 = (1 - eps) w0 (p0 - 1) + (eps/C)(W p0 - w0) = (5/4 + 5/8)(p0 - 1) = -15/8 p1
        //   grad_1 = (1 - eps) w0 p1 + (eps/C)(W p1 - w1)      = (5/4 + 5/8) p1       =  15/8 p1
        let loss = CrossEntropyLoss(reduction: .sum, weight: Tensor([2.5, 0]), labelSmoothing: 0.5)
        let r = try Reference.evaluate(loss, input: Tensor([row.z, 0]), target: Tensor<Int>(scalar: 0), gradients: .input)
        let g = try #require(r.gradInput).scalars
        let expected = 1.875 * row.p1
        #expect(Self.close(g[0], -expected) && Self.close(g[1], expected), "z \(row.z): reference \(g), expected [\(-expected), \(expected)]")
    }
}

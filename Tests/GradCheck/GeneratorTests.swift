import Foundation
import Testing
import Losses
import LossVerification

/// The seeded generator and the case generators: reproducible, Float-exact, valid, and
/// covering every regime, layout and option they document.
@Suite("Random: seeded generator")
struct RandomTests {
    @Test func streamsMatchTheirPublishedAlgorithms() {
        // Computed independently (a Python transcription of Steele et al.'s SplitMix64
        // and Blackman & Vigna's xoshiro256** seeded by it). SplitMix64's first output
        // from state 0 is the widely published 0xe220a8397b1dcdaf.
        var mix = SplitMix64(seed: 0)
        #expect(mix.next() == 0xE220_A839_7B1D_CDAF)
        var rng = SeededGenerator(seed: 0)
        #expect([rng.next(), rng.next(), rng.next()] == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0])
    }

    @Test func helpersStayInRange() {
        var rng = SeededGenerator(seed: 3)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let u = rng.uniform()
            #expect(u >= 0 && u < 1)
            let k = rng.int(below: 7)
            #expect((0..<7).contains(k))
            seen.insert(k)
            let m = rng.logUniform(1e-30, 1e30)
            #expect(m.magnitude >= 1e-30 * (1 - 1e-12) && m.magnitude <= 1e30 * (1 + 1e-12))
            #expect(rng.normal().isFinite)
        }
        #expect(seen.count == 7)   // P(missing a value in 2000 draws) ~ 7 (6/7)^2000: never
        #expect(rng.int(below: 0) == 0 && rng.int(below: 1) == 0)
    }

    @Test func derivedSeedsDependOnNameAndIndex() {
        let a = SeededGenerator.derivedSeed(1, name: "mse", index: 0)
        #expect(a == SeededGenerator.derivedSeed(1, name: "mse", index: 0))
        #expect(a != SeededGenerator.derivedSeed(1, name: "mse", index: 1))
        #expect(a != SeededGenerator.derivedSeed(1, name: "l1", index: 0))
        #expect(a != SeededGenerator.derivedSeed(2, name: "mse", index: 0))
    }

    @Test func environmentParsing() {
        let defaults = TestEnvironment([:])
        #expect(defaults.seed == TestEnvironment.defaultSeed && defaults.seedIsDefault && !defaults.deep)
        #expect(defaults.caseMultiplier == 1 && defaults.problems.isEmpty)
        let deep = TestEnvironment(["LOSS_SEED": "0x2a", "LOSS_DEEP": "1", "LOSS_CASE": "3"])
        #expect(deep.seed == 42 && deep.deep && deep.caseMultiplier == 10 && deep.onlyCase == 3)
        #expect(deep.caseIndices(base: 5) == [3])
        #expect(deep.rerunCommand(filter: "GradCheckTests", caseIndex: 3) == "LOSS_SEED=0x2a LOSS_CASE=3 LOSS_DEEP=1 swift test --filter GradCheckTests")
        #expect(TestEnvironment(["LOSS_SEED": "1_000"]).seed == 1000)
        let bad = TestEnvironment(["LOSS_SEED": "twelve", "LOSS_DEEP": "maybe", "LOSS_CASE": "-1"])
        #expect(bad.problems.count == 3 && bad.seed == TestEnvironment.defaultSeed && !bad.deep && bad.onlyCase == nil)
        #expect(TestEnvironment(["LOSS_DEEP": "1"]).caseIndices(base: 2) == Array(0..<20))
    }
}

@Suite("Generators: valid, Float-exact, reproducible, covering")
struct GeneratorTests {
    static let env = TestEnvironment.current
    /// Cases per loss: enough for every regime/layout/option to show up (checked below).
    static let perLoss = 150

    static func generate(_ name: String, options: GeneratorOptions = GeneratorOptions()) throws -> [GeneratedCase] {
        try env.caseIndices(base: perLoss).map { try Generators.case(for: name, seed: env.seed, index: $0, options: options) }
    }

    func failure(_ c: GeneratedCase, _ what: String) -> Comment {
        "\(what)\n  \(c)\n  rerun: \(c.rerunHint ?? "?")  (\(GeneratorTests.env.rerunCommand(filter: "GeneratorTests", caseIndex: c.index)))"
    }

    @Test(arguments: AnyLoss.names)
    func everyCaseValidatesAndIsFloatExact(_ name: String) throws {
        for c in try GeneratorTests.generate(name) {
            #expect(c.lossName == name)
            #expect(throws: Never.self, failure(c, "validate() threw")) { try c.validate() }
            for v in c.realValues where Double(Float(v)) != v && !v.isNaN {
                Issue.record(failure(c, "value \(v) is not representable as Float"))
                break
            }
            for (option, v) in c.nonDefaultScalarOptions where Double(Float(v)) != v {
                Issue.record(failure(c, "option \(option) = \(v) is not representable as Float"))
            }
        }
    }

    @Test(arguments: AnyLoss.names)
    func casesAreReproducibleFromSeedAndIndex(_ name: String) throws {
        let seed = GeneratorTests.env.seed
        let batch = try Generators.cases(for: name, count: 12, seed: seed)
        for (index, c) in batch.enumerated() {
            // Rebuilding case `index` alone (no earlier cases drawn) gives the same case.
            let again = try Generators.case(for: name, seed: seed, index: index)
            #expect(again.description == c.description && again.realValues == c.realValues,
                    failure(c, "not reproducible"))
            if case .classes(let t) = c.arguments.target, case .classes(let u) = again.arguments.target {
                #expect(t == u)
            }
        }
        // Different indices and seeds give different cases (all 12 distinct here).
        #expect(Set(batch.map { $0.realValues.description + $0.description }).count == batch.count)
        let other = try Generators.case(for: name, seed: seed &+ 1, index: 0)
        #expect(other.description + "\(other.realValues)" != batch[0].description + "\(batch[0].realValues)")
    }

    @Test(arguments: AnyLoss.names)
    func everyRegimeReductionAndLayoutAppears(_ name: String) throws {
        let cases = try GeneratorTests.generate(name)
        let regimes = Set(cases.map(\.regime))
        #expect(regimes == Set(Generators.regimes(for: name)), "\(name): regimes seen \(regimes)")
        let reductions = Set(cases.map(\.loss.reduction))
        let expected: Set<Reduction> = name == "kl_div" ? Set(Reduction.allCases) : [.none, .sum, .mean]
        #expect(reductions == expected, "\(name): reductions seen \(reductions)")
        let ranks = Set(cases.map(\.arguments.input.shape.count))
        let expectedRanks: Set<Int> = ["cross_entropy", "nll"].contains(name) ? [1, 2, 3, 4] : [0, 1, 2, 3, 4]
        #expect(ranks == expectedRanks, "\(name): input ranks seen \(ranks)")
        // Upstream gradients: for none most of the time, and scalar ones with reductions.
        #expect(cases.contains { $0.loss.reduction == .none && $0.arguments.upstream != nil })
        #expect(cases.contains { $0.loss.reduction != .none && $0.arguments.upstream?.shape == [] })
    }

    @Test func optionsCoverWhatTheDocumentationPromises() throws {
        func all(_ name: String) throws -> [AnyLoss] { try GeneratorTests.generate(name).map(\.loss) }

        // 300 cases: an option drawn with probability p is missing with probability
        // (1 - p)^300; the rarest checked here (ignore_index present, p ~ 8%) ~ 1e-11.
        let ce = try (0..<300).map { try Generators.case(for: "cross_entropy", seed: GeneratorTests.env.seed, index: $0) }
        #expect(ce.contains { $0.arguments.target.shape == [] })               // unbatched [C]
        #expect(ce.contains { if case .values = $0.arguments.target { true } else { false } })  // probabilities
        #expect(ce.contains { if case .classes = $0.arguments.target { true } else { false } })
        let ceLosses = ce.compactMap { if case .crossEntropy(let l) = $0.loss { l } else { nil } }
        #expect(ceLosses.contains { $0.labelSmoothing > 0 && $0.labelSmoothing < 1 })
        #expect(ceLosses.contains { $0.labelSmoothing == 1 })
        #expect(ceLosses.contains { $0.weight != nil })
        #expect(ceLosses.contains { $0.ignoreIndex >= 0 })
        // ignore_index present among the targets, and absent.
        let ignoredPresent = ce.contains { c in
            guard case .crossEntropy(let l) = c.loss, case .classes(let t) = c.arguments.target else { return false }
            return l.ignoreIndex < 0 && t.scalars.contains(l.ignoreIndex)
        }
        #expect(ignoredPresent)
        // Class counts 1, 2 and 3.
        let classCounts = Set(ce.map { $0.arguments.input.shape.count == 1 ? $0.arguments.input.shape[0] : $0.arguments.input.shape[1] })
        #expect(classCounts.isSuperset(of: [1, 2, 3]), "\(classCounts)")

        let bcel = try all("bce_with_logits").compactMap { if case .bceWithLogits(let l) = $0 { l } else { nil } }
        let posShapes = Set(bcel.compactMap { $0.posWeight?.shape.count })
        #expect(posShapes.count >= 3, "pos_weight ranks seen: \(posShapes)")  // e.g. [], [C], [N, 1], full
        // For [N, C] inputs both [C] and [N, 1] pos_weights (N, C > 1 to tell them apart).
        // (300 batched cases, each [C] or [N, 1] with probability ~0.1: missing ~ 0.9^300 ~ 2e-14.)
        let bcelCases = try (0..<300).map {
            try Generators.case(for: "bce_with_logits", seed: GeneratorTests.env.seed, index: $0, options: GeneratorOptions(shapes: [.batched]))
        }
        let perClass = bcelCases.contains { c in
            guard case .bceWithLogits(let l) = c.loss, let pw = l.posWeight else { return false }
            return c.arguments.input.shape[1] > 1 && pw.shape == [c.arguments.input.shape[1]]
        }
        let perRow = bcelCases.contains { c in
            guard case .bceWithLogits(let l) = c.loss, let pw = l.posWeight else { return false }
            return c.arguments.input.shape[0] > 1 && pw.shape == [c.arguments.input.shape[0], 1]
        }
        #expect(perClass && perRow)
        #expect(bcel.contains { $0.weight != nil && $0.weight!.shape.count < 2 })

        let kl = try all("kl_div").compactMap { if case .klDiv(let l) = $0 { l } else { nil } }
        #expect(kl.contains { $0.logTarget } && kl.contains { !$0.logTarget })
        let poisson = try all("poisson_nll").compactMap { if case .poissonNLL(let l) = $0 { l } else { nil } }
        #expect(poisson.contains { !$0.logInput } && poisson.contains { $0.full } && poisson.contains { $0.eps != 1e-8 })
        let gauss = try GeneratorTests.generate("gaussian_nll")
        #expect(gauss.contains { $0.arguments.variance!.shape != $0.arguments.input.shape })
        let huber = try all("huber").compactMap { if case .huber(let l) = $0 { l } else { nil } }
        #expect(huber.contains { $0.delta != 1 } && huber.contains { $0.delta == 1 })
        let smooth = try all("smooth_l1").compactMap { if case .smoothL1(let l) = $0 { l } else { nil } }
        #expect(smooth.contains { $0.beta == 0 })
    }

    @Test func defaultOptionsMode() throws {
        let options = GeneratorOptions(randomizeOptions: false)
        for c in try GeneratorTests.generate("cross_entropy", options: options) {
            guard case .crossEntropy(let l) = c.loss else { continue }
            #expect(l.weight == nil && l.ignoreIndex == -100 && l.labelSmoothing == 0, failure(c, "non-default option"))
        }
    }

    @Test func regimePropertiesHold() throws {
        // Soft targets sum to 1 per row up to Float rounding: each entry is within 2^-24
        // relative of the exact probability, so the sum is within 2^-24 (+ Double
        // rounding of the sum, < C 2^-53), bounded by 2^-23.
        for c in try GeneratorTests.generate("cross_entropy", options: GeneratorOptions(regimes: [.softTargets])) {
            guard case .values(let t) = c.arguments.target else {
                Issue.record(failure(c, "soft-targets gave class indices")); continue
            }
            let shape = t.shape
            let classes = shape.count == 1 ? shape[0] : shape[1]
            let batch = shape.count == 1 ? 1 : shape[0]
            let inner = shape.count <= 2 ? 1 : shape.dropFirst(2).reduce(1, *)
            for n in 0..<batch {
                for s in 0..<inner {
                    let sum = (0..<classes).reduce(0.0) { $0 + t.scalars[(n * classes + $1) * inner + s] }
                    #expect((sum - 1).magnitude <= 0x1p-23, failure(c, "row (\(n), \(s)) sums to \(sum)"))
                }
            }
        }
        // Binary targets are exactly 0 or 1; bce inputs are probabilities.
        for c in try GeneratorTests.generate("bce", options: GeneratorOptions(regimes: [.binaryTargets])) {
            guard case .values(let t) = c.arguments.target else { continue }
            #expect(t.scalars.allSatisfy { $0 == 0 || $0 == 1 }, failure(c, "non-binary target"))
        }
        // Near-bounds bce inputs include exact 0 and 1 and values within 2^-20 of them.
        let bounds = try GeneratorTests.generate("bce", options: GeneratorOptions(regimes: [.nearBounds])).flatMap(\.arguments.input.scalars)
        #expect(bounds.contains(0) && bounds.contains(1) && bounds.contains { $0 > 0 && $0 < 0x1p-20 } && bounds.contains { $0 < 1 && $0 > 1 - 0x1p-20 })
        // Wide range: magnitudes within [1e-30, 1e30] (Float(1e30) is 1.5e-8 relative above
        // 1e30), and both ends reached by decades.
        let wide = try GeneratorTests.generate("mse", options: GeneratorOptions(regimes: [.wideRange])).flatMap(\.arguments.input.scalars)
        #expect(wide.allSatisfy { $0.magnitude >= 1e-30 * (1 - 0x1p-23) && $0.magnitude <= 1e30 * (1 + 0x1p-23) })
        #expect(wide.contains { $0.magnitude < 1e-20 } && wide.contains { $0.magnitude > 1e20 })
        // Near kinks: huber differences hit 0 and +-delta exactly, and come within 2^-8 relative.
        var exactKinks = 0, nearKinks = 0
        for c in try GeneratorTests.generate("huber", options: GeneratorOptions(regimes: [.nearKinks])) {
            guard case .huber(let l) = c.loss, case .values(let t) = c.arguments.target else { continue }
            for (x, y) in zip(c.arguments.input.scalars, t.scalars) {
                let e = (x - y).magnitude  // exact: both on fine grids
                if e == 0 || e == l.delta { exactKinks += 1 }
                else if e < 0x1p-8 * max(l.delta, 1) || (e - l.delta).magnitude <= 0x1p-8 * max(l.delta, 1) { nearKinks += 1 }
            }
        }
        #expect(exactKinks > 0 && nearKinks > 0, "exact \(exactKinks), near \(nearKinks)")
        // Near one-hot: the raised logit leads its row by a margin (the +10 raise against
        // N(0, 1) neighbours; a lead below 1 needs a 9-sigma spread).
        for c in try GeneratorTests.generate("cross_entropy", options: GeneratorOptions(regimes: [.nearOneHot], classIndexTargets: true)) {
            let shape = c.arguments.input.shape, x = c.arguments.input.scalars
            let classes = shape.count == 1 ? shape[0] : shape[1]
            guard classes >= 2 else { continue }
            let batch = shape.count == 1 ? 1 : shape[0]
            let inner = shape.count <= 2 ? 1 : shape.dropFirst(2).reduce(1, *)
            for n in 0..<batch {
                for s in 0..<inner {
                    let row = (0..<classes).map { x[(n * classes + $0) * inner + s] }.sorted(by: >)
                    #expect(row[0] - row[1] >= 1, failure(c, "row (\(n), \(s)) is not near one-hot: \(row)"))
                }
            }
        }
    }

    @Test func simdTailLengths() throws {
        #expect(Generators.tailLengths(maxExponent: 7) == [0, 1, 3, 5, 7, 9, 15, 16, 17, 31, 33, 63, 65, 127, 129])
        let options = GeneratorOptions(simdTails: true)
        let tails = Set(Generators.tailLengths(maxExponent: 7))
        var seen = Set<Int>()
        for name in ["mse", "bce_with_logits", "cross_entropy", "kl_div"] {
            for c in try GeneratorTests.generate(name, options: options) {
                #expect(throws: Never.self, failure(c, "validate() threw")) { try c.validate() }
                let shape = c.arguments.input.shape
                guard !shape.isEmpty else { continue }
                let classLoss = name == "cross_entropy"
                let length = classLoss ? (shape.count == 1 ? shape[0] : shape[1]) : shape[shape.count - 1]
                let empty = shape.contains(0)
                #expect(tails.contains(length) || (classLoss && empty), failure(c, "vector length \(length) is not a tail length"))
                seen.insert(empty ? 0 : length)
            }
        }
        #expect(seen.isSuperset(of: [0, 1, 15, 16, 17]), "tail lengths seen: \(seen.sorted())")
    }

    @Test func misuseThrowsOptionErrors() {
        #expect(throws: LossError.self) { try Generators.case(for: "hinge", seed: 1, index: 0) }
        #expect(throws: LossError.self) {
            try Generators.case(for: "mse", seed: 1, index: 0, options: GeneratorOptions(regimes: [.nearOneHot]))
        }
        #expect(throws: LossError.self) {
            try Generators.case(for: "mse", seed: 1, index: 0, options: GeneratorOptions(reductions: [.batchmean]))
        }
    }
}

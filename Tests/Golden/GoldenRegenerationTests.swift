import Foundation
import Losses
import LossVerification
import Testing

@Suite("Golden regeneration: the files on disk are exactly what the definitions give")
struct GoldenRegenerationTests {
    /// Regenerates every file in memory, or records the definitions' problems.
    static func outputs(_ precision: GoldenPrecision) -> [GoldenRegeneration.Output]? {
        switch GoldenRegeneration.outputs(precision: precision) {
        case .success(let outputs):
            return outputs
        case .failure(let failure):
            Issue.record("case definitions the reference engine disagrees with:\n\(failure.problems.map(\.description).joined(separator: "\n"))")
            return nil
        }
    }

    /// On x86_64 (where the files are written): regenerating in memory reproduces every
    /// file byte for byte, so any change of the reference engine that moves a golden
    /// value, or of a case definition, fails here until the files are regenerated and
    /// the change reviewed.
    @Test(.enabled(if: GoldenPrecision.float80Available))
    func regeneratingReproducesTheFilesOnDisk() throws {
        let start = ContinuousClock.now
        guard let outputs = Self.outputs(.float80) else { return }
        let elapsed = ContinuousClock.now - start
        var differing: [String] = []
        for output in outputs {
            let path = GoldenVerifyFixture.directory + "/" + output.fileName
            let existing = FileManager.default.contents(atPath: path).map { [UInt8]($0) }
            let change = GoldenRegeneration.changes(output, existing: existing, path: path)
            if change.writes { differing += change.lines }
        }
        #expect(differing.isEmpty, """
            the golden files differ from what the case definitions and the reference engine give now:
            \(differing.joined(separator: "\n"))
            If the change is intended, run scripts/regenerate-golden, review the diff and commit golden/.
            """)
        let names = Set(outputs.map(\.fileName))
        let onDisk = Set(GoldenVerifyFixture.paths.map { URL(fileURLWithPath: $0).lastPathComponent })
        #expect(onDisk == names, "files in golden/ not generated from the definitions: \(onDisk.subtracting(names).sorted())")
        // Regenerating is part of `swift test`, so it must stay quick in a debug build.
        #expect(elapsed < .seconds(30), "regenerating every file in memory took \(elapsed)")
    }

    @Test(.enabled(if: GoldenPrecision.float80Available))
    func regenerationIsDeterministic() throws {
        guard let first = Self.outputs(.float80), let second = Self.outputs(.float80) else { return }
        #expect(first.map(\.text) == second.map(\.text))
    }

    /// The Double fallback gives files that the Float80 expected values check: each
    /// Double value is within the reference tolerance of its Float80 counterpart, and the
    /// source says how the file was made.
    @Test func doubleFallbackIsMarkedAndClose() throws {
        guard let outputs = Self.outputs(.double) else { return }
        for output in outputs {
            #expect(output.file.source.contains("--allow-double"), "\(output.file.source)")
            #expect(output.file.source.contains("evaluated in Double"))
            guard GoldenPrecision.float80Available else { continue }
            // The Double results, checked against the Float80 file as the verifier would.
            let path = GoldenVerifyFixture.directory + "/" + output.fileName
            guard let onDisk = try? GoldenFile.read(contentsOf: path) else { continue }
            for (regenerated, stored) in zip(output.file.cases, onDisk.cases) {
                guard case .values(let actual) = regenerated.expected, case .values(let expected) = stored.expected else { continue }
                let tolerance = Tolerance(stored.tolerance, engine: .reference)
                let comparison = compare(actual: actual.output, expected: expected.output, tolerance: tolerance)
                #expect(comparison.passed, "\(output.loss) \(regenerated.name): Double vs Float80 output: \(comparison)")
            }
        }
    }
}

@Suite("Golden case definitions: what the cases cover")
struct GoldenCaseDefinitionTests {
    static func definitions(_ loss: String) -> [GoldenCaseDefinition] { GoldenCases.definitions(for: loss) }

    /// The error kinds that apply to each loss, each of which must have a case: `input`
    /// where an input can be outside its domain (bce probabilities, gaussian variances),
    /// `target` where a target can (class indices, bce probabilities, a float target for
    /// nll).
    static let errorKinds: [String: Set<LossError.Kind>] = [
        "mse": [.shape, .option], "l1": [.shape, .option], "huber": [.shape, .option],
        "smooth_l1": [.shape, .option], "bce": [.shape, .input, .target, .option],
        "bce_with_logits": [.shape, .option], "cross_entropy": [.shape, .target, .option],
        "nll": [.shape, .target, .option], "kl_div": [.shape, .option], "poisson_nll": [.shape, .option],
        "gaussian_nll": [.shape, .input, .option],
    ]

    /// The cases whose tolerance differs from the format's defaults. Each is derived in a
    /// comment at its definition; a new one must be added here too, so that widening a
    /// tolerance is always a visible, reviewed change.
    static let widenedTolerances: Set<String> = [
        "kl_div/nearly-equal-distributions-sum",
        "poisson_nll/near-minimum-none",
    ]

    @Test(arguments: AnyLoss.names)
    func namesAreUniqueAndReadable(loss: String) {
        let names = Self.definitions(loss).map(\.name)
        #expect(!names.isEmpty, "\(loss) has no golden cases")
        #expect(Set(names).count == names.count, "\(loss): duplicate names \(Dictionary(grouping: names) { $0 }.filter { $1.count > 1 }.keys.sorted())")
        for name in names {
            let readable = !name.isEmpty && name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." }
            #expect(readable, "\(loss): case name \"\(name)\" is not lowercase words joined by '-'")
        }
        #expect(Self.definitions(loss).allSatisfy { $0.loss.name == loss }, "\(loss): a case of another loss is listed")
    }

    @Test(arguments: AnyLoss.names)
    func everyReductionHasValueCases(loss: String) {
        let values = Self.definitions(loss).filter { if case .values = $0.expectation { true } else { false } }
        var reductions: [Reduction] = [.none, .sum, .mean]
        if loss == "kl_div" { reductions.append(.batchmean) }
        for reduction in reductions {
            #expect(values.contains { $0.loss.reduction == reduction && $0.unknownReduction == nil },
                    "\(loss): no value case with reduction \(reduction)")
        }
        #expect(values.contains { $0.loss.reduction == .none && $0.arguments.upstream != nil },
                "\(loss): no case with reduction none and an upstream gradient")
        #expect(values.contains { $0.loss.reduction != .none && $0.arguments.upstream?.shape == [] },
                "\(loss): no case with a reduction and a scalar upstream gradient")
        #expect(values.contains { $0.name.hasPrefix("generated-") }, "\(loss): no seeded generated case")
    }

    @Test(arguments: AnyLoss.names)
    func everyShapeFamilyIsCovered(loss: String) {
        let values = Self.definitions(loss).filter { if case .values = $0.expectation { true } else { false } }
        let ranks = Set(values.map(\.arguments.input.rank))
        let classLoss = loss == "cross_entropy" || loss == "nll"
        // Scalar (or unbatched [C] for the class losses), batched, and k-dimensional.
        #expect(ranks.contains(classLoss ? 1 : 0), "\(loss): no scalar/unbatched case (ranks \(ranks.sorted()))")
        #expect(ranks.contains(2), "\(loss): no batched case")
        #expect(ranks.contains { $0 >= 3 }, "\(loss): no k-dimensional case")
        #expect(values.contains { $0.arguments.input.count == 0 }, "\(loss): no empty case")
    }

    @Test(arguments: AnyLoss.names)
    func everyApplicableErrorKindHasACase(loss: String) {
        let kinds = Set(Self.definitions(loss).compactMap { d -> LossError.Kind? in
            if case .error(let kind) = d.expectation { kind } else { nil }
        })
        let wanted = Self.errorKinds[loss] ?? []
        #expect(wanted.isSubset(of: kinds), "\(loss): no case for the error kinds \(wanted.subtracting(kinds).map(\.rawValue).sorted())")
        #expect(Self.definitions(loss).contains { $0.unknownReduction != nil }, "\(loss): no unknown-reduction case")
    }

    @Test(arguments: AnyLoss.names)
    func extremeAndNonFiniteInputsAreCovered(loss: String) {
        let values = Self.definitions(loss).filter { if case .values = $0.expectation { true } else { false } }
        func all(_ d: GoldenCaseDefinition) -> [Double] {
            var v = d.arguments.input.scalars
            if case .values(let t) = d.arguments.target { v += t.scalars }
            return v + (d.arguments.variance?.scalars ?? [])
        }
        // bce rejects NaN and infinite inputs; its extremes are the bounds 0 and 1.
        if loss == "bce" {
            #expect(values.contains { all($0).contains(0) && all($0).contains(1) && $0.arguments.input.scalars.contains(0) })
            return
        }
        #expect(values.contains { all($0).contains { $0.isNaN } }, "\(loss): no case with NaN")
        #expect(values.contains { all($0).contains { $0.isInfinite } }, "\(loss): no case with an infinity")
    }

    @Test func optionFamiliesAreCovered() {
        func has(_ loss: String, _ predicate: (AnyLoss, GoldenCaseDefinition) -> Bool) -> Bool {
            Self.definitions(loss).contains { d in
                guard case .values = d.expectation else { return false }
                return predicate(d.loss, d)
            }
        }
        func classes(_ d: GoldenCaseDefinition) -> [Int] {
            if case .classes(let t) = d.arguments.target { t.scalars } else { [] }
        }
        #expect(has("cross_entropy") { l, d in
            if case .crossEntropy(let c) = l { c.weight != nil && c.labelSmoothing > 0 && classes(d).contains(c.ignoreIndex) } else { false }
        }, "cross_entropy: label smoothing with weights and an ignored target")
        for loss in ["cross_entropy", "nll"] {
            #expect(has(loss) { l, d in
                let ignore: Int
                switch l {
                case .crossEntropy(let c): ignore = c.ignoreIndex
                case .nll(let n): ignore = n.ignoreIndex
                default: return false
                }
                return !classes(d).isEmpty && classes(d).allSatisfy { $0 == ignore }
            }, "\(loss): an all-ignored batch")
        }
        #expect(has("bce_with_logits") { l, d in
            if case .bceWithLogits(let b) = l { b.posWeight?.shape == [d.arguments.input.shape.last ?? -1] } else { false }
        }, "bce_with_logits: pos_weight of shape [C]")
        #expect(has("bce_with_logits") { l, d in
            if case .bceWithLogits(let b) = l { b.posWeight?.shape == [d.arguments.input.shape.first ?? -1, 1] } else { false }
        }, "bce_with_logits: pos_weight of shape [N, 1]")
        #expect(has("kl_div") { l, _ in if case .klDiv(let k) = l { k.logTarget } else { false } }, "kl_div: log_target")
        #expect(has("huber") { l, _ in if case .huber(let h) = l { h.delta != 1 } else { false } }, "huber: delta")
        #expect(has("smooth_l1") { l, _ in if case .smoothL1(let s) = l { s.beta == 0 } else { false } }, "smooth_l1: beta 0")
        #expect(has("poisson_nll") { l, _ in if case .poissonNLL(let p) = l { !p.logInput } else { false } }, "poisson_nll: log_input false")
        #expect(has("poisson_nll") { l, _ in if case .poissonNLL(let p) = l { p.full } else { false } }, "poisson_nll: full")
        #expect(has("gaussian_nll") { l, _ in if case .gaussianNLL(let g) = l { g.full } else { false } }, "gaussian_nll: full")
    }

    @Test func onlyTheDerivedCasesWidenATolerance() {
        var widened: Set<String> = []
        for loss in AnyLoss.names {
            for d in Self.definitions(loss) where !d.tolerance.isDefault {
                widened.insert("\(loss)/\(d.name)")
                #expect(d.tolerance.reference == GoldenTolerance.referenceDefault,
                        "\(loss)/\(d.name): the reference tolerance is widened")
                #expect(d.tolerance.fast.rtol >= GoldenTolerance.fastDefault.rtol,
                        "\(loss)/\(d.name): a fast tolerance tighter than the default is not a widening; drop it")
            }
        }
        #expect(widened == Self.widenedTolerances,
                "cases with a non-default tolerance: \(widened.sorted()); listed here: \(Self.widenedTolerances.sorted())")
    }

    /// A definition the reference engine disagrees with is reported, naming the case.
    @Test func disagreeingDefinitionIsReported() {
        let input = Tensor([1.0, 2.0]), target = Tensor([0.0, 0.0])
        let wrong = GoldenCaseDefinition(name: "not-an-error", loss: .mse(MSELoss()),
                                         arguments: LossArguments(input: input, target: .values(target)),
                                         expectation: .error(.shape))
        guard case .failure(let problem) = GoldenRegeneration.goldenCase(wrong, precision: .double) else {
            Issue.record("a definition expecting an error the reference does not throw was accepted")
            return
        }
        #expect(problem.description == "mse: case \"not-an-error\": the reference engine returned values; the definition expects a shape error")

        let throwing = GoldenCaseDefinition(name: "throws", loss: .huber(HuberLoss(delta: -1)),
                                            arguments: LossArguments(input: input, target: .values(target)))
        guard case .failure(let other) = GoldenRegeneration.goldenCase(throwing, precision: .double) else {
            Issue.record("a definition expecting values where the reference throws was accepted")
            return
        }
        #expect(other.reason.hasPrefix("the reference engine threw option error: huber: delta = -1.0"), "\(other)")
    }
}

@Suite("Golden regeneration: what would change")
struct GoldenRegenerationChangeTests {
    /// A small regenerated file: mse's first three definitions, evaluated in Double.
    static func output() throws -> GoldenRegeneration.Output {
        let cases = GoldenCases.definitions(for: "mse").prefix(3).compactMap {
            try? GoldenRegeneration.goldenCase($0, precision: .double).get()
        }
        let file = GoldenFile(loss: "mse", source: GoldenRegeneration.source(.double), cases: cases)
        return GoldenRegeneration.Output(loss: "mse", file: file, text: try file.validatedSerialization(fileName: "mse.json"))
    }

    static func bytes(_ file: GoldenFile) -> [UInt8] { Array(file.serialized().utf8) }

    @Test func sameBytesAreUnchanged() throws {
        let output = try Self.output()
        let change = GoldenRegeneration.changes(output, existing: Array(output.text.utf8), path: "golden/mse.json")
        #expect(change.status == .unchanged && !change.writes)
        #expect(change.lines == ["golden/mse.json: unchanged"])
    }

    @Test func missingFileIsCreated() throws {
        let change = GoldenRegeneration.changes(try Self.output(), existing: nil, path: "golden/mse.json")
        #expect(change.status == .created && change.writes)
        #expect(change.lines == ["golden/mse.json: created (3 cases)"])
    }

    @Test func movedValuesAreMeasuredInULPs() throws {
        let output = try Self.output()
        var old = output.file
        // Move case 0's output by 3 ulps and one grad_input entry of case 1 by 1 ulp.
        guard case .values(var r0) = old.cases[0].expected, case .values(var r1) = old.cases[1].expected,
              var g1 = r1.gradInput else {
            Issue.record("the first mse cases should expect values with an input gradient")
            return
        }
        let x = r0.output[flat: 0]
        r0.output[flat: 0] = x.nextUp.nextUp.nextUp
        g1[flat: 2] = g1[flat: 2].nextDown
        r1.gradInput = g1
        old.cases[0].expected = .values(r0)
        old.cases[1].expected = .values(r1)
        let change = GoldenRegeneration.changes(output, existing: Self.bytes(old), path: "golden/mse.json")
        #expect(change.status == .changed)
        #expect(change.changed.map(\.name) == [old.cases[0].name, old.cases[1].name])
        #expect(change.changed.map(\.largestULPs) == [3, 1])
        #expect(change.largest?.ulps == 3 && change.largest?.case == old.cases[0].name)
        #expect(change.lines.first == "golden/mse.json: changed: 2 changed (largest change 3 ulp, case \"\(old.cases[0].name)\")",
                "\(change.lines)")
        #expect(change.lines.contains("  ~ \(old.cases[1].name): grad_input moved 1 ulp"), "\(change.lines)")
    }

    @Test func addedRemovedAndRedefinedCasesAreListed() throws {
        let output = try Self.output()
        var old = output.file
        let dropped = old.cases.removeLast()  // regenerating adds it back
        var extra = old.cases[0]
        extra.name = "old-only"
        old.cases.append(extra)  // regenerating removes it
        old.cases[0].arguments.upstream = Tensor(scalar: 2)  // the definition changed
        let change = GoldenRegeneration.changes(output, existing: Self.bytes(old), path: "p.json")
        #expect(change.added == [dropped.name])
        #expect(change.removed == ["old-only"])
        #expect(change.changed.map(\.name) == [old.cases[0].name])
        #expect(change.changed.first?.definitionChanged == true)
        #expect(change.lines.contains("  + \(dropped.name)") && change.lines.contains("  - old-only"), "\(change.lines)")
    }

    @Test func layoutOnlyChangeIsReformatted() throws {
        let output = try Self.output()
        let spaced = output.text.replacingOccurrences(of: "\n", with: "\n  ")
        let change = GoldenRegeneration.changes(output, existing: Array(spaced.utf8), path: "p.json")
        #expect(change.status == .reformatted && change.writes)
    }

    @Test func unreadableFileIsReplaced() throws {
        let change = GoldenRegeneration.changes(try Self.output(), existing: Array("{ not json".utf8), path: "p.json")
        #expect(change.status == .replacesUnreadable && change.writes)
        #expect(change.unreadable?.kind == .syntax)
        #expect(change.lines.count == 2 && change.lines[1].hasPrefix("  was: p.json: "), "\(change.lines)")
    }

    @Test func sourceChangeIsReported() throws {
        let output = try Self.output()
        var old = output.file
        old.source = "written by hand"
        let change = GoldenRegeneration.changes(output, existing: Self.bytes(old), path: "p.json")
        #expect(change.status == .changed && change.sourceChanged)
        #expect(change.lines == ["p.json: changed: source text changed"])
    }
}

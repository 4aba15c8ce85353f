import Losses
import ReferenceLosses

/// The reference engine's analytic gradients against both oracles of `GradientChecker`
/// (Richardson central differences and dual numbers) on seeded generated cases: the
/// summary `losscheck report` prints. The exhaustive suite with derived per-case bounds,
/// kink handling and mutation tests is `Tests/GradCheck`; this sweep uses the checker's
/// default tolerances (rtol 1e-8 against differences plus their estimated error, 1e-10
/// against dual numbers) on the smooth regimes only (no points near kinks, no wide
/// dynamic range, no probabilities at the domain's edge, where a difference step would
/// leave the domain).
public enum GradientSweep {
    /// The regimes the sweep draws from.
    public static let smoothRegimes: [Generators.Regime] = [.standardNormal, .nearOneHot, .softTargets, .binaryTargets]

    /// One gradient (input or target) of one case against both oracles.
    public struct Outcome: Sendable {
        public let generated: GeneratedCase
        /// `grad_input` or `grad_target`.
        public let argument: String
        public let report: GradientCheckReport?
        /// Set when the check could not run (an evaluation threw inside the step).
        public let skipped: String?

        /// Passed: no mismatch against either oracle (inconclusive finite-difference
        /// entries are counted separately, not as failures).
        public var passed: Bool { report?.oracles.allSatisfy { $0.mismatches == 0 } ?? true }
        /// The worst error relative to the allowed bound for an oracle, if it ran.
        public func headroom(_ oracle: GradientCheckReport.Oracle) -> Double? {
            report?.oracles.first { $0.oracle == oracle }?.headroom
        }
        public func error(_ oracle: GradientCheckReport.Oracle) -> Double? {
            report?.oracles.first { $0.oracle == oracle }?.error
        }
    }

    /// Checks case `index` of `lossName` under `seed`: its input gradient and, where the
    /// loss defines one, its target gradient.
    public static func run(lossName: String, seed: UInt64, index: Int) throws(LossError) -> [Outcome] {
        let regimes = Generators.regimes(for: lossName).filter(smoothRegimes.contains)
        let generated = try Generators.case(for: lossName, seed: seed, index: index,
                                            options: GeneratorOptions(regimes: regimes, maxElements: 48))
        var outcomes = [check(generated, target: false)]
        if case .values = generated.arguments.target,
           (try? Reference.evaluate(generated.loss, generated.arguments, gradients: .target))?.gradTarget != nil {
            outcomes.append(check(generated, target: true))
        }
        return outcomes
    }

    /// Checks one gradient of one case.
    public static func check(_ generated: GeneratedCase, target: Bool) -> Outcome {
        let loss = generated.loss, arguments = generated.arguments
        let argument = target ? "grad_target" : "grad_input"
        let point: Tensor<Double>
        if target {
            guard case .values(let t) = arguments.target else {
                return Outcome(generated: generated, argument: argument, report: nil, skipped: "class-index targets have no gradient")
            }
            point = t
        } else {
            point = arguments.input
        }
        let shape = point.shape

        func with<T>(_ args: LossArguments<T>, _ values: [T]) -> LossArguments<T> {
            var args = args
            let tensor = Tensor<T>(unchecked: shape, values)
            if target { args.target = .values(tensor) } else { args.input = tensor }
            return args
        }
        do {
            let output = try Reference.evaluate(loss, arguments).output
            // A loss that is NaN or infinite at this point (a zero total weight: 0/0) has no
            // derivative there; its analytic gradient is whatever the formula gives (NaN, as
            // PyTorch), which neither oracle can confirm.
            guard output.scalars.allSatisfy(\.isFinite) else {
                return Outcome(generated: generated, argument: argument, report: nil,
                               skipped: "the loss is not finite at this point: no derivative to check")
            }
            let outputShape = output.shape
            let report = try GradientChecker.check(
                at: point.scalars,
                value: { x in try Reference.evaluate(loss, with(arguments, x)).output.scalars },
                vectorJacobianProduct: { x, v in
                    var args = with(arguments, x)
                    args.upstream = Tensor(unchecked: outputShape, v)
                    let r = try Reference.evaluate(loss, args, gradients: target ? .target : .input)
                    return (target ? r.gradTarget : r.gradInput)?.scalars ?? []
                },
                dual: { x in
                    try Reference.evaluate(loss, with(arguments.map(Dual.init), x)).output.scalars
                })
            return Outcome(generated: generated, argument: argument, report: report, skipped: nil)
        } catch {
            return Outcome(generated: generated, argument: argument, report: nil, skipped: "\(error)")
        }
    }
}

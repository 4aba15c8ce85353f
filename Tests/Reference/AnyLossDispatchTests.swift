import Testing
import ReferenceLosses

@Suite("Reference: AnyLoss dispatch")
struct AnyLossDispatchTests {
    @Test func forwardsToTheLossItself() throws {
        let input = Tensor([2.5, 0, 4]), target = Tensor([3.0, -1, 2])
        let direct = try Reference.evaluate(HuberLoss(delta: 1), input: input, target: target, gradients: .all)
        let erased = try Reference.evaluate(.huber(HuberLoss(delta: 1)), LossArguments(input: input, target: .values(target)), gradients: .all)
        #expect(direct.output == erased.output)
        #expect(direct.gradInput == erased.gradInput)
        #expect(direct.gradTarget == erased.gradTarget)
    }

    @Test func classTargetsReachCrossEntropy() throws {
        let input = try Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 0, 0, 0])
        let target = Tensor([2, 0])
        let direct = try Reference.evaluate(CrossEntropyLoss(), input: input, target: target)
        let erased = try Reference.evaluate(.crossEntropy(CrossEntropyLoss()), LossArguments(input: input, target: .classes(target)))
        #expect(direct.output == erased.output)
    }

    @Test func wrongTargetKindIsATargetError() {
        let input = Tensor([0.5, 0.25])
        #expect(throws: LossError.self) {
            try Reference.evaluate(.mse(MSELoss()), LossArguments(input: input, target: .classes(Tensor([1, 0]))))
        }
        do {
            _ = try Reference.evaluate(.nll(NLLLoss()), LossArguments(input: input, target: .values(Tensor(scalar: 1.0))))
            Issue.record("nll with a real target must throw")
        } catch {
            #expect(error.kind == .target && error.message.contains("class indices"), "\(error)")
        }
    }

    @Test func varianceOnlyForGaussianNLL() {
        let x = Tensor([1.0, 2])
        do {
            _ = try Reference.evaluate(.gaussianNLL(GaussianNLLLoss()), LossArguments(input: x, target: .values(x)))
            Issue.record("gaussian_nll without var must throw")
        } catch {
            #expect(error.kind == .shape && error.message.contains("var"), "\(error)")
        }
        do {
            _ = try Reference.evaluate(.mse(MSELoss()), LossArguments(input: x, target: .values(x), variance: x))
            Issue.record("mse with a var must throw")
        } catch {
            #expect(error.kind == .shape && error.message.contains("var"), "\(error)")
        }
    }
}

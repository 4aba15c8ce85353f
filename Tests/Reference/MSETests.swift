import Testing
import ReferenceLosses

@Suite("Reference: mse")
struct MSETests {
    @Test func classicExample() throws {
        // (0.5^2 + 1^2 + 2^2) / 3 = 5.25 / 3 = 1.75
        let r = try Reference.evaluate(MSELoss(), input: Tensor([2.5, 0, 4]), target: Tensor([3, -1, 2]), gradients: .all)
        #expect(r.output.scalars == [1.75])
        // d/dx = 2 e / 3 with e = [-0.5, 1, 2]
        #expect(r.gradInput?.scalars == [-1.0 / 3, 2.0 / 3, 4.0 / 3])
        #expect(r.gradTarget?.scalars == [1.0 / 3, -2.0 / 3, -4.0 / 3])
    }
}

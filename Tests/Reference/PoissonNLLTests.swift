import Testing
import ReferenceLosses

private let ln2 = ElementwiseHarness.ln2, ln3 = ElementwiseHarness.ln3

@Suite("Reference: poisson_nll")
struct PoissonNLLTests {
    static let cases: [ElementwiseCase] = [
        // log_input (default), x = [0, 1, -1, 2], t = [0, 1, 2, 3]: l = e^x - t x (mpmath):
        //   (0, 0):  1                    d/dx = e^0 - 0 = 1            d/dt = -x = 0
        //   (1, 1):  e - 1 = 1.7182818284590453                 d/dx = e - 1               d/dt = -1
        //   (-1, 2): e^-1 + 2 = 2.3678794411714423              d/dx = e^-1 - 2 = -1.6321205588285577   d/dt = 1
        //   (2, 3):  e^2 - 6 = 1.3890560989306502               d/dx = e^2 - 3 = 4.38905609893065       d/dt = -2
        ElementwiseCase(name: "log_input", loss: .poissonNLL(PoissonNLLLoss()), shape: [4],
                        input: [0, 1, -1, 2], target: [0, 1, 2, 3], upstream: [2, -1, 0.5, 3],
                        values: [1, 1.7182818284590453, 2.3678794411714423, 1.3890560989306502],
                        dInput: [1, 1.7182818284590453, -1.6321205588285577, 4.38905609893065],
                        dTarget: [0, -1, 1, -2],
                        // e^2 - 6: (7.39 + 6) / 1.39 = 9.6
                        condition: 10),
        // full, log_input, [2, 3]: x = [[0, 1, 1], [-1, 2, 1]], t = [[0, 1, 0.5], [2, 3, 1]].
        // The Stirling term s(t) = t log t - t + 0.5 log(2 pi t), s'(t) = log t + 1/(2t), only
        // where t > 1 (masked where t <= 1, gradient 0 there: deviation 4, PyTorch's d/dt is
        // NaN at t = 0):
        //   (0, 0):   1,                     d/dt = 0
        //   (1, 1):   e - 1,                 d/dt = -1
        //   (1, 0.5): e - 0.5 = 2.218281828459045, d/dx = e - 0.5, d/dt = -1
        //   (-1, 2):  e^-1 + 2 + 2 ln2 - 2 + 0.5 log(4 pi) = 3.0196859257759785
        //             d/dt = 1 + ln2 + 1/4 = 1.9431471805599454
        //   (2, 3):   e^2 - 6 + 3 ln3 - 3 + 0.5 log(6 pi) = 3.1531376424737068
        //             d/dt = -2 + ln3 + 1/6 = -0.7347210446652236
        //   (1, 1):   e - 1 again (t = 1 exactly is masked)
        ElementwiseCase(name: "full, t <= 1 and t > 1", loss: .poissonNLL(PoissonNLLLoss(full: true)), shape: [2, 3],
                        input: [0, 1, 1, -1, 2, 1], target: [0, 1, 0.5, 2, 3, 1], upstream: [1, 2, 3, -1, 0.5, 4],
                        values: [1, 1.7182818284590453, 2.218281828459045, 3.0196859257759785, 3.1531376424737068, 1.7182818284590453],
                        dInput: [1, 1.7182818284590453, 2.218281828459045, -1.6321205588285577, 4.38905609893065, 1.7182818284590453],
                        dTarget: [0, -1, -1, 1.9431471805599454, -0.7347210446652236, -1],
                        // (2, 3): (7.39 + 6 + 3.30 + 3 + 1.47) / 3.15 = 6.7; its d/dt (2 + 1.10 + 0.17) / 0.73 = 4.4
                        condition: 7),
        // log_input false, eps 0 (closed forms): l = x - t log x, d/dx = 1 - t/x, d/dt = -log x:
        //   (1, 0):   1,            d/dx = 1,     d/dt = 0
        //   (2, 2):   2 - 2 ln2,    d/dx = 0,     d/dt = -ln2
        //   (0.5, 1): 0.5 + ln2,    d/dx = -1,    d/dt = ln2
        //   (4, 3):   4 - 6 ln2,    d/dx = 0.25,  d/dt = -2 ln2
        ElementwiseCase(name: "rate input, eps 0", loss: .poissonNLL(PoissonNLLLoss(logInput: false, eps: 0)), shape: [4],
                        input: [1, 2, 0.5, 4], target: [0, 2, 1, 3], upstream: [3, 1, -2, 0.5],
                        values: [1, 2 - 2 * ln2, 0.5 + ln2, 4 - 6 * ln2],
                        dInput: [1, 0, -1, 0.25], dTarget: [0, -ln2, ln2, -2 * ln2],
                        // 4 - 6 ln2: (4 + 4.16) / 0.159 = 51.3
                        condition: 52),
        // log_input false, default eps 1e-8: l = x - t log(x + eps) (mpmath with eps = the double 1e-8):
        //   (0, 1):   -log(1e-8) = 8 ln 10 = 18.420680743952367; d/dx = 1 - 1e8 = -99999999; d/dt = 18.420680743952367
        //   (4, 0):   4;  d/dx = 1;  d/dt = -log(4 + 1e-8) = -1.3862943636198906
        //             (not x = 1: log(1 + 1e-8) after rounding 1 + 1e-8 has condition 1e8)
        //   (2, 3):   2 - 3 log(2 + 1e-8) = -0.07944155667983589; d/dx = 1 - 3/(2 + 1e-8) = -0.49999999250000005
        //             d/dt = -log(2 + 1e-8) = -0.6931471855599453
        //   (0.5, 2): 0.5 - 2 log(0.5 + 1e-8) = 1.886294321119891; d/dx = 1 - 2/(0.5 + 1e-8) = -2.999999920000002
        //             d/dt = 0.6931471605599455
        ElementwiseCase(name: "rate input, default eps", loss: .poissonNLL(PoissonNLLLoss(logInput: false)), shape: [4],
                        input: [0, 4, 2, 0.5], target: [1, 0, 3, 2], upstream: [1, -1, 2, 0.25],
                        values: [18.420680743952367, 4, -0.07944155667983589, 1.886294321119891],
                        dInput: [-99999999, 1, -0.49999999250000005, -2.999999920000002],
                        dTarget: [18.420680743952367, -1.3862943636198906, -0.6931471855599453, 0.6931471605599455],
                        // 2 - 3 log(2 + eps): (2 + 2.08) / 0.0794 = 51.4
                        condition: 52),
        // full with a rate input, eps 0: x = 3, t = 2: 3 - 2 log 3 + 2 ln2 - 2 + 0.5 log(4 pi) (mpmath: 1.4545819072683166)
        // d/dx = 1 - 2/3 = 1/3; d/dt = -log 3 + ln2 + 1/4 = -0.15546510810816438
        ElementwiseCase(name: "full, rate input", loss: .poissonNLL(PoissonNLLLoss(logInput: false, full: true, eps: 0)), shape: [1],
                        input: [3], target: [2], upstream: [2], values: [1.4545819072683166],
                        dInput: [1.0 / 3], dTarget: [-0.15546510810816438],
                        // d/dt: (1.10 + 0.69 + 0.25) / 0.155 = 13.1 (the value: 9.85 / 1.45 = 6.8)
                        condition: 14),
        // NaN target with full is not masked (NaN <= 1 is false): NaN loss; x = -inf, t = 0
        // (log_input) is 0 - 0 * (-inf) = NaN as PyTorch (not a listed deviation).
        ElementwiseCase(name: "NaN", loss: .poissonNLL(PoissonNLLLoss(full: true)), shape: [2],
                        input: [0, -.infinity], target: [.nan, 0], upstream: [1, 1],
                        values: [.nan, .nan], dInput: [.nan, 0], dTarget: [.nan, .infinity]),
        // scalar: x = 0, t = 2: 1 - 0 = 1; d/dx = 1 - 2 = -1; d/dt = 0.
        ElementwiseCase(name: "scalar", loss: .poissonNLL(PoissonNLLLoss()), shape: [],
                        input: [0], target: [2], upstream: [5], values: [1], dInput: [-1], dTarget: [0]),
        ElementwiseCase(name: "empty", loss: .poissonNLL(PoissonNLLLoss(full: true)), shape: [0],
                        input: [], target: [], upstream: [], values: [], dInput: [], dTarget: []),
    ]

    @Test(arguments: cases)
    func everyReduction(_ c: ElementwiseCase) throws {
        try ElementwiseHarness.checkEveryReduction(c)
    }

    @Test func fullMaskHasNoGradientAtZeroTarget() throws {
        // Deviation 4: at t = 0 the masked Stirling term contributes nothing to d/dt
        // (PyTorch: NaN); d/dt = -x = -0.5 exactly.
        let r = try Reference.evaluate(PoissonNLLLoss(reduction: .sum, full: true), input: Tensor<Double>([0.5]), target: Tensor<Double>([0.0]), gradients: .target)
        #expect(r.gradTarget?.scalars == [-0.5])
    }

    @Test func errors() {
        let x = Tensor<Double>([1.0, 2])
        for eps in [-1e-8, .infinity, .nan] {
            ElementwiseHarness.expectError(.option, mentioning: ["poisson_nll", "eps"]) {
                _ = try Reference.evaluate(PoissonNLLLoss(logInput: false, eps: eps), input: x, target: x)
            }
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["poisson_nll", "target", "[2, 1]"]) {
            _ = try Reference.evaluate(PoissonNLLLoss(), input: x, target: try Tensor(shape: [2, 1], scalars: [1.0, 2]))
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["poisson_nll", "upstream"]) {
            _ = try Reference.evaluate(PoissonNLLLoss(reduction: .none), input: x, target: x, upstream: Tensor<Double>([1.0, 2, 3]))
        }
        ElementwiseHarness.expectError(.option, mentioning: ["poisson_nll", "batchmean"]) {
            _ = try Reference.evaluate(PoissonNLLLoss(reduction: .batchmean), input: x, target: x)
        }
    }
}

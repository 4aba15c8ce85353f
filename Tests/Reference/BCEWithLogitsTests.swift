import Testing
import ReferenceLosses

private let ln2 = ElementwiseHarness.ln2, ln3 = ElementwiseHarness.ln3

@Suite("Reference: bce_with_logits")
struct BCEWithLogitsTests {
    // Logits x = [0, 2, -1, 3], targets y = [0, 1, 0.5, 0.25]. Without pos_weight the loss is
    // softplus(x) - y x with softplus(x) = log(1 + e^x); values from mpmath (40 digits):
    //   (0, 0):     ln 2                                   = 0.6931471805599453
    //   (2, 1):     log(1 + e^2) - 2 = log1p(e^-2)         = 0.1269280110429725
    //   (-1, 0.5):  log1p(e^-1) + 0.5                      = 0.8132616875182228
    //   (3, 0.25):  3 + log1p(e^-3) - 0.75                 = 2.298587351573742
    // d/dx = sigmoid(x) - y: 0.5; 1/(1+e^-2) - 1 = -0.11920292202211756;
    //   1/(1+e) - 0.5 = -0.23105857863000487; 1/(1+e^-3) - 0.25 = 0.7025741268224333
    // d/dy = -x: 0, -2, 1, -3
    static let x = [0.0, 2, -1, 3], y = [0, 1, 0.5, 0.25]
    static let l = [ln2, 0.1269280110429725, 0.8132616875182228, 2.298587351573742]
    static let dx = [0.5, -0.11920292202211756, -0.23105857863000487, 0.7025741268224333]
    static let dy = [0.0, -2, 1, -3]
    /// sigmoid(2) - 1 = -0.119 from terms of size 0.88 and 1: (0.88 + 1) / 0.119 = 15.8;
    /// the pos_weight cases' 0.5 sigmoid(2) - 0.5 and 2 sigmoid(2) - 2 have the same ratio.
    static let condition = 16.0

    static let cases: [ElementwiseCase] = [
        ElementwiseCase(name: "classic", loss: .bceWithLogits(BCEWithLogitsLoss()), shape: [4],
                        input: x, target: y, upstream: [2, -1, 0.5, 3], values: l, dInput: dx, dTarget: dy, condition: condition),
        // weight [2, 0.5] over [2, 2]: w = [2, 0.5, 2, 0.5] times the above.
        ElementwiseCase(name: "weight [C] over [N, C]", loss: .bceWithLogits(BCEWithLogitsLoss(weight: Tensor<Double>([2, 0.5]))),
                        shape: [2, 2], input: x, target: y, upstream: [1, -2, 4, 0.5],
                        values: zip(l, [2, 0.5, 2, 0.5]).map(*), dInput: zip(dx, [2, 0.5, 2, 0.5]).map(*),
                        dTarget: zip(dy, [2, 0.5, 2, 0.5]).map(*), condition: condition),
        // pos_weight [2, 0.5] (shape [C], along the last dimension): p = [2, 0.5, 2, 0.5],
        // c = 1 + (p - 1) y; l = (1 - y) x - c log_sigmoid(x); d/dx = c sigmoid(x) - p y;
        // d/dy = log_sigmoid(-x) - p log_sigmoid(x). By hand with log_sigmoid(x) = -log1p(e^-x):
        //   (0, 0, p 2):     c = 1:     l = ln2;                       d/dx = 0.5;                d/dy = -ln2 + 2 ln2 = ln2
        //   (2, 1, p 0.5):   c = 0.5:   l = 0.5 log1p(e^-2)            = 0.06346400552148625
        //                               d/dx = 0.5 sigmoid(2) - 0.5    = -0.05960146101105878
        //                               d/dy = -log1p(e^2) + 0.5 log1p(e^-2) = -2.063464005521486
        //   (-1, 0.5, p 2):  c = 1.5:   l = -0.5 + 1.5 log1p(e)        = 1.4698925312773343
        //                               d/dx = 1.5 sigmoid(-1) - 1     = -0.5965878679450073
        //                               d/dy = -log1p(e^-1) + 2 log1p(e) = 2.313261687518223
        //   (3, 0.25, p 0.5): c = 0.875: l = 2.25 + 0.875 log1p(e^-3)  = 2.2925139326270245
        //                               d/dx = 0.875 sigmoid(3) - 0.125 = 0.708502360969629
        //                               d/dy = -log1p(e^3) + 0.5 log1p(e^-3) = -3.024293675786871
        ElementwiseCase(name: "pos_weight [C] along the last dimension",
                        loss: .bceWithLogits(BCEWithLogitsLoss(posWeight: Tensor<Double>([2, 0.5]))), shape: [2, 2],
                        input: x, target: y, upstream: [3, 1, -0.5, 2],
                        values: [ln2, 0.06346400552148625, 1.4698925312773343, 2.2925139326270245],
                        dInput: [0.5, -0.05960146101105878, -0.5965878679450073, 0.708502360969629],
                        dTarget: [ln2, -2.063464005521486, 2.313261687518223, -3.024293675786871], condition: condition),
        // pos_weight [[2], [0.5]] (shape [N, 1]): p = [2, 2, 0.5, 0.5]:
        //   (0, 0, p 2):     as above
        //   (2, 1, p 2):     c = 2:    l = 2 log1p(e^-2) = 0.253856022085945; d/dx = 2 sigmoid(2) - 2 = -0.23840584404423512
        //                              d/dy = -log1p(e^2) + 2 log1p(e^-2) = -1.8730719889570275
        //   (-1, 0.5, p 0.5): c = 0.75: l = -0.5 + 0.75 log1p(e) = 0.4849462656386671
        //                              d/dx = 0.75 sigmoid(-1) - 0.25 = -0.04829393397250366
        //                              d/dy = -log1p(e^-1) + 0.5 log1p(e) = 0.3433691562408886
        //   (3, 0.25, p 0.5): as above
        // with weight [3] (shape [1]) on top: everything times 3.
        ElementwiseCase(name: "pos_weight [N, 1] and weight [1]",
                        loss: .bceWithLogits(BCEWithLogitsLoss(weight: Tensor<Double>([3.0]),
                                                               posWeight: try! Tensor(shape: [2, 1], scalars: [2, 0.5]))),
                        shape: [2, 2], input: x, target: y, upstream: [1, 2, 3, -1],
                        values: [3 * ln2, 3 * 0.253856022085945, 3 * 0.4849462656386671, 3 * 2.2925139326270245],
                        dInput: [3 * 0.5, 3 * -0.23840584404423512, 3 * -0.04829393397250366, 3 * 0.708502360969629],
                        dTarget: [3 * ln2, 3 * -1.8730719889570275, 3 * 0.3433691562408886, 3 * -3.024293675786871], condition: condition),
        // Infinite logits, no pos_weight (deviation 4: the limits, where PyTorch has 0 * inf = NaN):
        //   (+inf, 1):   (1 - y) x -> 0            d/dx = 1 - 1 = 0     d/dy = -inf
        //   (+inf, 0):   +inf                      d/dx = 1             d/dy = -inf
        //   (-inf, 0):   -y x -> 0                 d/dx = 0             d/dy = +inf
        //   (-inf, 1):   -y x = +inf               d/dx = -1            d/dy = +inf
        //   (+inf, 0.5): +inf                      d/dx = 0.5           d/dy = -inf
        //   (+inf, 2):   (1 - 2) inf = -inf        d/dx = -1            d/dy = -inf  (target not range-checked)
        //   (800, 0):    800 (no overflow)         d/dx = 1             d/dy = -800
        //   (-800, 1):   -log_sigmoid(-800) = 800  d/dx = -1            d/dy = 800
        ElementwiseCase(name: "infinite logits", loss: .bceWithLogits(BCEWithLogitsLoss()), shape: [8],
                        input: [.infinity, .infinity, -.infinity, -.infinity, .infinity, .infinity, 800, -800],
                        target: [1, 0, 0, 1, 0.5, 2, 0, 1], upstream: [1, 2, 3, 4, 5, 6, 7, 8],
                        values: [0, .infinity, 0, .infinity, .infinity, -.infinity, 800, 800],
                        dInput: [0, 1, 0, -1, 0.5, -1, 1, -1],
                        dTarget: [-.infinity, -.infinity, .infinity, .infinity, -.infinity, -.infinity, -800, 800]),
        // Infinite logits, pos_weight 3 (shape []): c = 1 + 2 y; limits (1 - y) x at +inf, -3 y x at -inf:
        //   (+inf, 1):   0      d/dx = c - p y = 3 - 3 = 0       d/dy = log_sigmoid(-inf) - 3 * 0 = -inf
        //   (+inf, 0):   +inf   d/dx = 1                         d/dy = -inf
        //   (-inf, 0):   0      d/dx = 0                         d/dy = 0 - 3 (-inf) = +inf
        //   (-inf, 1):   +inf   d/dx = -p y = -3                 d/dy = +inf
        //   (+inf, 0.5): +inf   d/dx = 2 - 1.5 = 0.5             d/dy = -inf
        ElementwiseCase(name: "infinite logits with pos_weight", loss: .bceWithLogits(BCEWithLogitsLoss(posWeight: Tensor(scalar: 3.0))),
                        shape: [5], input: [.infinity, .infinity, -.infinity, -.infinity, .infinity],
                        target: [1, 0, 0, 1, 0.5], upstream: [2, 1, -1, 0.5, 1],
                        values: [0, .infinity, 0, .infinity, .infinity],
                        dInput: [0, 1, 0, -3, 0.5],
                        dTarget: [-.infinity, -.infinity, .infinity, .infinity, -.infinity]),
        // pos_weight 0 at x = -inf, y = 1: c = 0, the loss is 0 for every x, so 0;
        // d/dx = 0 - 0 = 0; d/dy = log_sigmoid(+inf) - 0 * log_sigmoid(-inf) -> 0 (PyTorch: NaN).
        // And x = -inf, y = 0.5: p y = 0 -> loss 0, d/dx 0, d/dy 0.
        ElementwiseCase(name: "pos_weight 0 at -inf", loss: .bceWithLogits(BCEWithLogitsLoss(posWeight: Tensor<Double>([0.0]))),
                        shape: [2], input: [-.infinity, -.infinity], target: [1, 0.5], upstream: [1, 1],
                        values: [0, 0], dInput: [0, 0], dTarget: [0, 0]),
        // NaN logit or target: NaN everywhere in that element.
        ElementwiseCase(name: "NaN", loss: .bceWithLogits(BCEWithLogitsLoss()), shape: [2],
                        input: [.nan, 1], target: [0, .nan], upstream: [1, 1],
                        values: [.nan, .nan], dInput: [.nan, .nan], dTarget: [.nan, -1]),
        // target outside [0, 1] is accepted: x = 0, y = 2: l = (1 - 2) 0 + ln 2 = ln2,
        // d/dx = 0.5 - 2 = -1.5, d/dy = 0; x = 0, y = -1: ln 2, d/dx = 1.5.
        ElementwiseCase(name: "target not range-checked", loss: .bceWithLogits(BCEWithLogitsLoss()), shape: [2],
                        input: [0, 0], target: [2, -1], upstream: [1, 2],
                        values: [ln2, ln2], dInput: [-1.5, 1.5], dTarget: [0, 0]),
        // scalar: x = 0, y = 1: l = ln2, d/dx = -0.5, d/dy = 0.
        ElementwiseCase(name: "scalar", loss: .bceWithLogits(BCEWithLogitsLoss()), shape: [],
                        input: [0], target: [1], upstream: [-2], values: [ln2], dInput: [-0.5], dTarget: [0]),
        ElementwiseCase(name: "empty", loss: .bceWithLogits(BCEWithLogitsLoss(posWeight: Tensor<Double>([2.0, 3]))), shape: [0, 2],
                        input: [], target: [], upstream: [], values: [], dInput: [], dTarget: []),
    ]

    @Test(arguments: cases)
    func everyReduction(_ c: ElementwiseCase) throws {
        try ElementwiseHarness.checkEveryReduction(c)
    }

    @Test func posWeightOneIsNoPosWeight() throws {
        // c = 1 and p y = y: the same loss and input gradient; the target gradient
        // log_sigmoid(-x) - log_sigmoid(x) = -x up to rounding (relative 4 eps: two libm
        // results of size <= |x| + ln 2 and a difference, result |x| >= 1 here).
        let x = Tensor<Double>([0.5, -2, 3, 1]), y = Tensor<Double>([0.0, 1, 0.25, 0.5])
        let a = try Reference.evaluate(BCEWithLogitsLoss(reduction: .none, posWeight: Tensor<Double>([1.0])), input: x, target: y, gradients: .all)
        let b = try Reference.evaluate(BCEWithLogitsLoss(reduction: .none), input: x, target: y, gradients: .all)
        #expect(a.output == b.output)
        #expect(a.gradInput == b.gradInput)
        ElementwiseHarness.expectClose(a.gradTarget, [4], b.gradTarget!.scalars, ElementwiseHarness.handTolerance, "pos_weight 1 grad_target")
    }

    @Test func zeroWeightOnAnInfiniteLimitIsNaN() throws {
        // Documented: the weight multiplies the limit, so 0 * inf = NaN (as PyTorch).
        let r = try Reference.evaluate(BCEWithLogitsLoss(reduction: .none, weight: Tensor<Double>([0.0, 1])),
                                       input: Tensor<Double>([Double.infinity, .infinity]), target: Tensor<Double>([0.0, 1]), gradients: .input)
        #expect(r.output.scalars[0].isNaN && r.output.scalars[1] == 0)
        #expect(r.gradInput?.scalars == [0, 0])
    }

    @Test func errors() {
        let square = try! Tensor(shape: [2, 2], scalars: [0.5, 0.5, 0.5, 0.5])
        ElementwiseHarness.expectError(.shape, mentioning: ["bce_with_logits", "target", "[4]", "[2, 2]"]) {
            _ = try Reference.evaluate(BCEWithLogitsLoss(), input: square, target: Tensor<Double>([0.5, 0.5, 0.5, 0.5]))
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["bce_with_logits", "weight", "[3]"]) {
            _ = try Reference.evaluate(BCEWithLogitsLoss(weight: Tensor<Double>([1.0, 2, 3])), input: square, target: square)
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["bce_with_logits", "pos_weight", "[3]"]) {
            _ = try Reference.evaluate(BCEWithLogitsLoss(posWeight: Tensor<Double>([1.0, 2, 3])), input: square, target: square)
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["bce_with_logits", "pos_weight", "[2, 2, 2]"]) {
            _ = try Reference.evaluate(BCEWithLogitsLoss(posWeight: try Tensor(repeating: 1.0, shape: [2, 2, 2])), input: square, target: square)
        }
        ElementwiseHarness.expectError(.shape, mentioning: ["bce_with_logits", "upstream"]) {
            _ = try Reference.evaluate(BCEWithLogitsLoss(reduction: .none), input: square, target: square, upstream: Tensor(scalar: 1.0))
        }
        ElementwiseHarness.expectError(.option, mentioning: ["bce_with_logits", "batchmean"]) {
            _ = try Reference.evaluate(BCEWithLogitsLoss(reduction: .batchmean), input: square, target: square)
        }
    }
}

@Suite("Reference: bce_with_logits never turns a NaN logit finite")
struct BCEWithLogitsNaNLogitTests {
    @Test func nanLogitWithZeroCoefficients() throws {
        // y = 1 and pos_weight 0 make both coefficients of the gradient 0; the NaN logit
        // must still give NaN (0 * NaN), not the 0 the zero coefficients would suggest.
        let r = try Reference.evaluate(BCEWithLogitsLoss(reduction: .none, posWeight: Tensor(scalar: 0.0)),
                                       input: Tensor([Double.nan]), target: Tensor([1.0]), gradients: .input)
        #expect(r.gradInput?.scalars[0].isNaN == true, "gradient at a NaN logit: \(String(describing: r.gradInput))")
    }
}

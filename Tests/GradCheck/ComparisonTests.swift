import Testing
import Losses
import LossVerification

/// The golden format's comparison rule, case by case, and the ULP distances it reports.
/// Values are powers of two or small sums of them so that every difference below is
/// exact and the bound's edges can be hit exactly.
@Suite("Comparison: norm-wise rule and report")
struct ComparisonTests {
    @Test func identicalTensorsPassWithZeroError() {
        let r = compare(actual: [1, -2, 0.5], expected: [1, -2, 0.5], tolerance: .referenceDefault)
        #expect(r.passed, "\(r)")
        #expect(r.mismatches == 0 && r.maxAbsoluteError == 0 && r.error == 0 && r.headroom == 0)
        #expect(r.scale == 2)  // max |expected|
        #expect(r.worst?.ulps == 0)
    }

    @Test func defaultsAreTheGoldenFormats() {
        #expect(Tolerance.referenceDefault == Tolerance(rtol: 1e-12, atol: 0))
        #expect(Tolerance.fastDefault == Tolerance(rtol: 1e-5, atol: 0))
    }

    @Test func matchingNaNAndInfinitiesPass() {
        let e: [Double] = [.nan, .infinity, -.infinity, 1]
        let r = compare(actual: e, expected: e, tolerance: .exact)
        #expect(r.passed, "\(r)")
        #expect(r.nonFiniteMismatches == 0)
        #expect(r.scale == 1)  // only the finite expected value sets the scale
    }

    @Test(arguments: [
        // (expected, actual, position of the mismatch)
        ([1, .nan, 3], [1, 2, 3], 1),                   // NaN expected, number given
        ([1, 2, 3], [1, 2, .nan], 2),                   // number expected, NaN given
        ([.infinity, 2], [-.infinity, 2], 0),           // wrong infinity
        ([.infinity, 2], [.greatestFiniteMagnitude, 2], 0),  // infinity expected, finite given
        ([1, 2], [1, .infinity], 1),                    // finite expected, infinity given
        ([.nan, 2], [.infinity, 2], 0),                 // NaN expected, infinity given
    ] as [([Double], [Double], Int)])
    func nonFiniteMismatchesFailAtTheirPosition(expected: [Double], actual: [Double], position: Int) {
        // Even an unbounded tolerance cannot excuse a NaN/infinity mismatch.
        let r = compare(actual: actual, expected: expected, tolerance: Tolerance(rtol: .infinity, atol: .infinity))
        #expect(!r.passed, "\(r)")
        #expect(r.nonFiniteMismatches == 1 && r.mismatches == 1, "\(r)")
        #expect(r.worst?.flatIndex == position, "\(r)")
        #expect(r.headroom == .infinity)
    }

    @Test func boundIsNormWiseAndInclusive() {
        // expected [4, 0.25], rtol 2^-20: bound = 2^-20 * max|e| = 2^-20 * 4 = 2^-18.
        let tolerance = Tolerance(rtol: 0x1p-20, atol: 0)
        // The small entry may be off by 2^-18, i.e. 2^-16 relative to itself: norm-wise.
        let atEdge = compare(actual: [4, 0.25 + 0x1p-18], expected: [4, 0.25], tolerance: tolerance)
        #expect(atEdge.passed, "\(atEdge)")
        #expect(atEdge.bound == 0x1p-18 && atEdge.maxAbsoluteError == 0x1p-18)
        #expect(atEdge.headroom == 1)
        #expect(atEdge.error == 0x1p-20)  // 2^-18 / 4
        #expect(atEdge.worst?.flatIndex == 1)

        // One step beyond: 2^-18 + 2^-30 -> headroom 1 + 2^-12, fails.
        let beyond = compare(actual: [4, 0.25 + 0x1p-18 + 0x1p-30], expected: [4, 0.25], tolerance: tolerance)
        #expect(!beyond.passed, "\(beyond)")
        #expect(beyond.mismatches == 1)
        #expect(beyond.headroom == 1 + 0x1p-12)
    }

    @Test func headroomMeasuresTheFractionOfTheBoundUsed() {
        // bound = 1e-3 * 2 = 2e-3 (scale 2), error 2^-10 = 9.765625e-4,
        // headroom = 9.765625e-4 / 2e-3 = 0.48828125 (up to the rounding of 1e-3: 1e-16 relative).
        let r = compare(actual: [2, 1 + 0x1p-10], expected: [2, 1], tolerance: Tolerance(rtol: 1e-3))
        #expect(r.passed)
        #expect(abs(r.headroom - 0.48828125) <= 4 * Double.ulpOfOne, "\(r.headroom)")
    }

    @Test func zeroScaleReportsTheAbsoluteError() {
        // Every expected value is 0: no relative error exists, only atol can pass it.
        let small = compare(actual: [0, 0x1p-11], expected: [0, 0], tolerance: Tolerance(rtol: 1e-3, atol: 0x1p-10))
        #expect(small.passed, "\(small)")
        #expect(small.scale == 0 && small.error == 0x1p-11 && small.headroom == 0.5)
        let noAtol = compare(actual: [0, 0x1p-11], expected: [0, 0], tolerance: Tolerance(rtol: 1e-3))
        #expect(!noAtol.passed)
        #expect(noAtol.headroom == .infinity)
    }

    @Test func mismatchesCountEveryPositionBeyondTheBound() {
        let r = compare(actual: [1.5, 2, 3.5, 4], expected: [1, 2, 3, 4], tolerance: Tolerance(rtol: 0x1p-4))
        // bound = 4 / 16 = 0.25; positions 0 and 2 are 0.5 off.
        #expect(r.mismatches == 2 && !r.passed)
        #expect(r.worst?.flatIndex == 0)  // the first of the equal largest errors
    }

    @Test func worstIndexIsAMultiIndex() throws {
        let expected = try Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 4, 5, 6])
        let actual = try Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 4, 5.5, 6])
        let r = compare(actual: actual, expected: expected, tolerance: .referenceDefault)
        #expect(r.worst?.index == [1, 1] && r.worst?.flatIndex == 4)
        #expect(r.worst?.expected == 5 && r.worst?.actual == 5.5)
        #expect(r.description.contains("[1, 1]"), "\(r)")
        #expect(r.description.contains("FAILED") && r.description.contains("mismatched 1 / 6"), "\(r)")
    }

    @Test func scalarShapeHasAnEmptyIndex() {
        let r = compare(actual: Tensor(scalar: 1.0), expected: Tensor(scalar: 1.0), tolerance: .referenceDefault)
        #expect(r.passed && r.worst?.index == [])
    }

    @Test func structuralProblemsFailWithoutTrapping() throws {
        let counts = compare(actual: [1, 2], expected: [1, 2, 3], tolerance: .referenceDefault)
        #expect(!counts.passed && counts.problem != nil)
        let badShape = compare(actual: [1, 2], expected: [1, 2], shape: [3], tolerance: .referenceDefault)
        #expect(!badShape.passed && badShape.problem != nil)
        let shapes = compare(actual: try Tensor(shape: [2, 1], scalars: [1.0, 2]),
                             expected: try Tensor(shape: [1, 2], scalars: [1.0, 2]), tolerance: .referenceDefault)
        #expect(!shapes.passed && shapes.problem?.contains("[2, 1]") == true, "\(shapes)")
    }

    @Test func emptyTensorsPass() {
        let r = compare(actual: [], expected: [], tolerance: .exact)
        #expect(r.passed && r.worst == nil && r.count == 0)
    }

    @Test func floatResultsReportFloatULPs() {
        // 1 + 2^-23 is the next Float after 1: 1 Float ulp, 2^29 Double ulps.
        let r = compare(actual: Tensor([Float(1) + .ulpOfOne]), expected: Tensor([1.0]), tolerance: .fastDefault)
        #expect(r.passed)
        #expect(r.worst?.floatULPs == 1)
        #expect(r.worst?.ulps == 1 << 29)
    }

    @Test func differenceOverflowingToInfinityFails() {
        // Both finite, but |a - e| = 2 * greatestFiniteMagnitude overflows.
        let r = compare(actual: [Double.greatestFiniteMagnitude], expected: [-Double.greatestFiniteMagnitude],
                        tolerance: Tolerance(rtol: 1))
        #expect(!r.passed && r.maxAbsoluteError == .infinity && r.nonFiniteMismatches == 0)
    }
}

@Suite("ULP distances")
struct ULPTests {
    @Test func adjacentValuesAreOneApart() {
        #expect(ULP.distance(1.0, 1.0.nextUp) == 1)
        #expect(ULP.distance(1.0.nextDown, 1.0) == 1)  // across a binade boundary
        #expect(ULP.distance(Float(1), Float(1).nextUp) == 1)
        #expect(ULP.distance(1.0, 2.0) == 1 << 52)   // one binade of Doubles
        #expect(ULP.distance(Float(1), Float(2)) == 1 << 23)
    }

    @Test func signedZerosAreOnePoint() {
        #expect(ULP.distance(0.0, -0.0) == 0)
        #expect(ULP.distance(Float(0), -Float(0)) == 0)
        #expect(ULP.distance(-0.0, Double.leastNonzeroMagnitude) == 1)
    }

    @Test func signChangeCountsTheWholeWayThroughZero() {
        #expect(ULP.distance(-Double.leastNonzeroMagnitude, Double.leastNonzeroMagnitude) == 2)
        #expect(ULP.distance(-Float.leastNonzeroMagnitude, Float.leastNonzeroMagnitude) == 2)
        // -1 to 1: twice the count of Doubles in (0, 1], i.e. twice 1.0's bit pattern.
        #expect(ULP.distance(-1.0, 1.0) == UInt64(0x3FF0_0000_0000_0000) * 2)
        // The two infinities: the largest possible distance, no overflow.
        #expect(ULP.distance(-Double.infinity, .infinity) == UInt64(0x7FF0_0000_0000_0000) * 2)
    }

    @Test func infinityIsOneBinadePastTheLargestFiniteValue() {
        #expect(ULP.distance(Double.greatestFiniteMagnitude, .infinity) == 1)
        // From the start of Float's last binade, 2^127, to infinity: the binade's 2^23 values.
        #expect(ULP.distance(Float(0x1p127), .infinity) == 1 << 23)
        #expect(ULP.distance(0x1p1023, Double.infinity) == 1 << 52)
    }

    @Test func nanHasNoDistanceExceptToNaN() {
        #expect(ULP.distance(Double.nan, 1) == nil)
        #expect(ULP.distance(1, Double.nan) == nil)
        #expect(ULP.distance(Double.nan, .nan) == 0)
        #expect(ULP.distance(Float.nan, .infinity) == nil)
    }

    @Test func floatDistanceRoundsTheExpectedValue() {
        // 0.1 is not a Float; the nearest Float is the best answer, 0 ulp away.
        #expect(ULP.floatDistance(actual: Double(Float(0.1)), expected: 0.1) == 0)
        #expect(ULP.floatDistance(actual: Double(Float(0.1).nextUp), expected: 0.1) == 1)
    }
}

extension Fast {
    /// Terms each Float lane adds before its partial sum moves to Double.
    ///
    /// A lane's Float sum of `k` terms errs by at most `(k - 1) * 2^-24` times the sum
    /// of their magnitudes; with 16 terms per lane (blocks of 256 elements) a sum's
    /// relative error stays below `16 * 2^-24` whatever the element count. Moving the
    /// 16 lane partials into Double costs 8 conversions and 8 adds per 256 elements.
    public static let termsPerLane = 16
}

/// The sum of one chunk's terms: Float lane partials over blocks of at most
/// `Fast.termsPerLane` vectors, each block's partials added into Double lanes.
///
/// Everything about the order of the additions depends only on the element positions
/// inside the chunk, so a chunk's sum is the same bits on every thread.
struct BlockedSum {
    /// The current block's Float partials, one per lane.
    private var block = FloatVector()
    /// The Double partials of the finished blocks (lanes `k` and `k + 8` share slot `k`).
    private var total = SIMD8<Double>()

    /// Adds one vector of terms (call at most `Fast.termsPerLane` times per block).
    @inline(__always)
    mutating func add(_ terms: FloatVector) { block += terms }

    /// Ends the block: its partials move into Double.
    @inline(__always)
    mutating func endBlock() {
        Self.flush(block, into: &total)
        block = FloatVector()
    }

    /// Kept out of line on purpose: when the conversion to Double was inlined into the
    /// block loop, the optimizer split the Float accumulator across registers and added
    /// some lanes with scalar instructions in every iteration (seen on the default
    /// x86-64 target). One call per `Fast.termsPerLane` vectors costs nothing measurable.
    @inline(never)
    private static func flush(_ block: FloatVector, into total: inout SIMD8<Double>) {
        total += SIMD8<Double>(block.lowHalf) + SIMD8<Double>(block.highHalf)
    }

    /// The sum of the finished blocks, combined by a fixed pairwise tree of lanes.
    var value: Double {
        let four = total.lowHalf + total.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }
}

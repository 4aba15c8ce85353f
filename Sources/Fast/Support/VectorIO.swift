/// Loads and stores of `FloatVector`s at any element offset (no alignment needed), and
/// their partial forms for the last `count % 16` elements of a range.
///
/// The partial forms take `lanes`, the number of valid elements (1...16). Kernels call
/// them with the literal 16 in their main loop, where the check folds away, and with the
/// tail's count once per range.
enum VectorIO {
    /// The lanes of a `FloatVector`.
    static let width = FloatVector.scalarCount

    /// Elements `i ..< i + 16` of `p`.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> FloatVector {
        UnsafeRawPointer(p + i).loadUnaligned(as: FloatVector.self)
    }

    /// Elements `i ..< i + lanes` of `p` in the first lanes, `fill` in the others;
    /// never reads past element `i + lanes - 1`. (The partial case copies bytes into a
    /// whole vector rather than inserting lanes, so the compiler keeps vectors whole.)
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int, lanes: Int, fill: Float = 0) -> FloatVector {
        if lanes == width { return load(p, i) }
        var v = FloatVector(repeating: fill)
        withUnsafeMutableBytes(of: &v) { bytes in
            bytes.copyMemory(from: UnsafeRawBufferPointer(start: p + i, count: lanes * MemoryLayout<Float>.stride))
        }
        return v
    }

    /// Writes `v` to elements `i ..< i + 16` of `p`.
    @inline(__always)
    static func store(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: FloatVector.self)
    }

    /// Writes the first `lanes` lanes of `v` to elements `i ..< i + lanes` of `p`;
    /// never writes past element `i + lanes - 1`.
    @inline(__always)
    static func store(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>, _ i: Int, lanes: Int) {
        if lanes == width { return store(v, p, i) }
        withUnsafeBytes(of: v) { bytes in
            UnsafeMutableRawPointer(p + i).copyMemory(from: bytes.baseAddress!, byteCount: lanes * MemoryLayout<Float>.stride)
        }
    }

    /// `v` with the lanes at and beyond `lanes` set to 0 (so padding adds nothing to a sum).
    @inline(__always)
    static func keep(_ v: FloatVector, lanes: Int) -> FloatVector {
        if lanes == width { return v }
        let index = Int32Vector(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        return Lanes.choose(index .< Int32Vector(repeating: Int32(lanes)), v, else: FloatVector())
    }

    /// Calls `body(i, lanes)` for the vectors covering `range`: full vectors
    /// (`lanes == 16`) in order, then one partial vector for the remainder. After every
    /// `Fast.termsPerLane` full vectors, and once at the end, it calls `endBlock`, so
    /// a lane accumulator sees at most `Fast.termsPerLane` terms between flushes.
    @inline(__always)
    static func forEachVector(in range: Range<Int>, _ body: (_ i: Int, _ lanes: Int) -> Void, endBlock: () -> Void) {
        let blockLength = Fast.termsPerLane * width
        var i = range.lowerBound
        while range.upperBound - i >= blockLength {
            for _ in 0..<Fast.termsPerLane {
                body(i, width)
                i += width
            }
            endBlock()
        }
        // At most termsPerLane - 1 full vectors and one partial one remain: one block.
        while range.upperBound - i >= width {
            body(i, width)
            i += width
        }
        if i < range.upperBound { body(i, range.upperBound - i) }
        endBlock()
    }
}

/// Lane-wise helpers the kernels share.
enum Lanes {
    /// `|v|` lane by lane (clears the sign bit; NaN stays NaN).
    @inline(__always)
    static func magnitude(_ v: FloatVector) -> FloatVector {
        let bits = unsafeBitCast(v, to: UInt32Vector.self) & UInt32Vector(repeating: 0x7fff_ffff)
        return unsafeBitCast(bits, to: FloatVector.self)
    }

    /// `-|v|` lane by lane (sets the sign bit: one `orps`; NaN stays NaN).
    @inline(__always)
    static func negativeMagnitude(_ v: FloatVector) -> FloatVector {
        let bits = unsafeBitCast(v, to: UInt32Vector.self) | UInt32Vector(repeating: 0x8000_0000)
        return unsafeBitCast(bits, to: FloatVector.self)
    }

    /// `max(floor, v)` lane by lane for a `floor` that is never NaN, with a NaN `v`
    /// passed through: `v < floor ? floor : v`, one `maxps` (which returns its second
    /// operand when either is NaN).
    @inline(__always)
    static func atLeast(_ floor: FloatVector, _ v: FloatVector) -> FloatVector {
        choose(v .< floor, floor, else: v)
    }

    /// `mask ? a : b` lane by lane through the standard library's `replace(with:where:)`,
    /// which LLVM lowers to a whole-vector select: and/andnot/or (a blend with SSE4.1),
    /// or `minps`/`maxps` where that is the same function, NaN included.
    ///
    /// The only lane select of the kernels. Measured with Swift 6.3.1 on the default
    /// x86-64 target: in the bce and bce_with_logits loops, and in a huber loop taken
    /// apart on its own, a bit-cast form (`(a & m) | (b & ~m)` on the mask as integers,
    /// removed since) sent each mask through general-purpose registers (cmpps, movq, shr, pinsrw,
    /// pslld/psrad per lane pair: 24 pinsrw per select of 16 lanes), while this form
    /// stayed in vector registers; the huber loop ran in 1.36 ns per element with it
    /// against 2.69 with the bit-cast form (thread CPU time, 2^22 elements). The losses written
    /// after that measurement (bce, bce_with_logits, kl_div, poisson_nll, gaussian_nll)
    /// use this form, and huber, l1 (`sign`) and smooth_l1 were moved to it: their value +
    /// input gradient loops went from 1.95 / 2.60 / 3.2-3.7 to 1.19 / 1.30 / 1.51 ns per
    /// element (thread CPU time, 2^24 elements, 1 thread). It looks at no value except
    /// through the mask, so NaN passes through from whichever side is chosen.
    @inline(__always)
    static func choose(_ mask: SIMDMask<Int32Vector>, _ a: FloatVector, else b: FloatVector) -> FloatVector {
        var result = b
        result.replace(with: a, where: mask)
        return result
    }

    /// `+1` or `-1` with the sign bit of `v` (copysign(1, v)): `sign(v)` for lanes known
    /// to be nonzero and not NaN. Two bit operations.
    @inline(__always)
    static func unitWithSign(of v: FloatVector) -> FloatVector {
        let bits = (unsafeBitCast(v, to: UInt32Vector.self) & UInt32Vector(repeating: 0x8000_0000))
            | UInt32Vector(repeating: 0x3f80_0000)
        return unsafeBitCast(bits, to: FloatVector.self)
    }

    /// `sign(v)`: 1, -1, 0 at +-0, and NaN at NaN (deviation 3 of the contract).
    @inline(__always)
    static func sign(_ v: FloatVector) -> FloatVector {
        var s = choose(v .> 0, FloatVector(repeating: 1), else: FloatVector())
        s = choose(v .< 0, FloatVector(repeating: -1), else: s)
        return choose(v .!= v, v, else: s)  // only NaN differs from itself
    }
}

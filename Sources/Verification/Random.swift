import Foundation

// Seeded, reproducible randomness for tests and generated cases.
//
// The raw 64-bit stream depends only on the seed (never on the platform or the Swift
// version), and so do `uniform()`, `int(below:)` and `bool(_:)`, which are written here
// instead of borrowing the standard library's `random(in:using:)` (whose algorithm is
// not a stable contract). `normal()` also calls `log` and `cos` from the C library;
// those may differ in the last bit between C libraries, which generated cases then
// erase by rounding through `Float`.

/// SplitMix64 (Steele, Lea and Flood): a 64-bit state advanced by a constant, then
/// mixed. Used to spread one seed over a larger state and to derive independent seeds
/// (per loss, per case) from one user-visible seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finalizer: a bijection of 64-bit words that scatters nearby inputs.
    @inlinable public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The package's seeded generator: xoshiro256** (Blackman and Vigna), 256 bits of state
/// filled from the seed by SplitMix64. Fast (a few shifts and rotations per word), a
/// period of 2^256 - 1, and good statistical quality for test generation.
///
///     var rng = SeededGenerator(seed: 42)
///     let x = rng.normal()              // standard normal
///     let k = rng.int(below: 10)        // 0..<10, unbiased
///
/// It conforms to `RandomNumberGenerator`, so `array.shuffled(using: &rng)` works too
/// (but the standard library's algorithms are not promised to be stable across Swift
/// versions; the helpers here are).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The seed this generator started from (for messages that let a reader rerun).
    public let seed: UInt64
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        var mixer = SplitMix64(seed: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
        // SplitMix64 never yields four zero words in a row (it is a bijection of a
        // counter), so the all-zero state, xoshiro's one fixed point, cannot occur.
    }

    public mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Double in [0, 1): the top 53 bits of one word, scaled by 2^-53.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform Double in [lower, upper) (both finite, lower <= upper).
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * uniform()
    }

    /// A uniform integer in 0..<bound (bound > 0), without modulo bias (Lemire's
    /// multiply-and-reject method). Returns 0 for a bound <= 0 instead of trapping.
    public mutating func int(below bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// A uniform integer in the closed range.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + int(below: range.upperBound - range.lowerBound + 1)
    }

    /// True with the given probability.
    public mutating func bool(_ probability: Double = 0.5) -> Bool {
        uniform() < probability
    }

    /// One element of a non-empty array, uniformly. (Callers pass literal lists.)
    public mutating func pick<T>(_ choices: [T]) -> T {
        choices[int(below: choices.count)]
    }

    /// A standard normal deviate (Box-Muller, one of the pair). `1 - uniform()` is in
    /// (0, 1], so the logarithm is finite.
    public mutating func normal() -> Double {
        let u = 1 - uniform(), v = uniform()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }

    /// A random sign, +1 or -1.
    public mutating func sign() -> Double { next() >> 63 == 0 ? 1 : -1 }

    /// A value whose magnitude is log-uniform in [lower, upper] (both > 0), random sign
    /// unless `positive`.
    public mutating func logUniform(_ lower: Double, _ upper: Double, positive: Bool = false) -> Double {
        let magnitude = Foundation.exp(uniform(Foundation.log(lower), Foundation.log(upper)))
        return positive ? magnitude : sign() * magnitude
    }

    /// A seed derived from a base seed, a name and an index: distinct names or indices
    /// give unrelated streams, and the result depends on nothing else (FNV-1a of the
    /// name's UTF-8 bytes, not Swift's per-process randomized `Hasher`).
    public static func derivedSeed(_ seed: UInt64, name: String, index: Int) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return SplitMix64.mix(SplitMix64.mix(seed ^ hash) &+ UInt64(bitPattern: Int64(index)) &* 0x9E37_79B9_7F4A_7C15)
    }
}

/// Numerical derivatives by central differences with Richardson extrapolation, each with
/// an error estimate: the independent oracle the analytic gradients are checked against.
///
/// Method. For a step `h` the central difference `D(h) = (f(x + h) - f(x - h)) / 2h`
/// equals `f'(x) + c2 h^2 + c4 h^4 + ...` for smooth `f`. Evaluating it at `h, h/2, h/4,
/// ...` and combining (the Richardson tableau `T[i][j] = T[i][j-1] + (T[i][j-1] -
/// T[i-1][j-1]) / (4^j - 1)`) removes the `h^2`, `h^4`, ... terms one level at a time;
/// with the default three step sizes the result's truncation error is `O(h^6)`.
///
/// Step. Per coordinate, `h` is the largest power of two not above
/// `relativeStep * max(|x|, 1)`: scaled to the coordinate's magnitude (so the relative
/// perturbation is the same for 1e-3 and 1e3, and never below `relativeStep` absolute),
/// and a power of two so that `x +- h` (and the halved steps) are exact for every
/// Float-representable `x` of magnitude at least 2^-30, and for 0 (a Float has 24
/// significant bits; `x +- h` then spans at most 53). Below 2^-30 the sum rounds, which
/// moves the sample points by less than `|x|` itself. The realized step
/// `((x + h) - (x - h)) / 2` is used in any case.
///
/// Error estimate, returned with every derivative. The sum of two parts:
/// - truncation: as in Ridders' method, the larger difference between the final
///   tableau entry and its two lower-order neighbours (`T[L][L-1]` and `T[L-1][L-1]`).
///   Those differences estimate the error of the lower-order entries, so they bound the
///   final entry's error generously when `f` is smooth on `[x - h, x + h]`;
/// - rounding: each `f` value is taken as accurate to `valueAccuracy` relative, so each
///   `D(h)` carries `valueAccuracy (|f(x+h)| + |f(x-h)|) / 2h`, propagated through the
///   tableau's coefficients.
/// A kink, a discontinuity or a branch switch inside `[x - h, x + h]` is detected where
/// it can be: the first three differences must shrink like a smooth function's (ratio
/// between 2 and 32, 4 expected), else the estimate is +infinity ("no estimate"). Where
/// the check cannot see it (the differences are within rounding noise, or a
/// second-derivative jump such as huber's gives a plausible ratio) the levels still
/// disagree and the estimate is large next to the derivative: treat an estimate that is
/// large relative to the values compared as "no verdict here" (`GradientChecker` does).
///
/// Cost: `2 * levels` evaluations per coordinate (full gradient or Jacobian) or per
/// direction (`directionalDerivative`, `projection`), whatever the input size.
public enum FiniteDifferences {
    /// How the steps are chosen and how the error is estimated.
    public struct Options: Sendable, Hashable {
        /// `c` in `h = c * max(|x|, 1)` (rounded down to a power of two). Default 2^-7:
        /// for the `O(h^6)` result the truncation (~h^6 ~ 1e-13) and the rounding
        /// (~valueAccuracy / h ~ 1e-13) errors balance for derivatives of order 1.
        public var relativeStep: Double
        /// The number of step sizes `h, h/2, ..., h/2^(levels-1)`; `levels - 1` Richardson
        /// extrapolations. Default 3 (two extrapolation levels); values below 2 are
        /// treated as 2 (one extrapolation).
        public var levels: Int
        /// The relative accuracy assumed for each value of `f` in the rounding part of the
        /// error estimate. Default `16 * ulpOfOne` (a loss evaluated with a compensated
        /// sum and a handful of correctly rounded-ish elementary functions).
        public var valueAccuracy: Double

        public init(relativeStep: Double = 0x1p-7, levels: Int = 3, valueAccuracy: Double = 16 * .ulpOfOne) {
            self.relativeStep = relativeStep
            self.levels = levels
            self.valueAccuracy = valueAccuracy
        }
    }

    /// A numerical derivative and how far it may be from the true one.
    public struct Estimate: Sendable, Hashable, CustomStringConvertible {
        /// The extrapolated derivative.
        public var value: Double
        /// The estimated absolute error (truncation + rounding); +infinity when a sample
        /// was not finite.
        public var error: Double
        /// The largest step used (the first level's `h`).
        public var step: Double

        public init(value: Double, error: Double, step: Double) {
            self.value = value
            self.error = error
            self.step = step
        }

        public var description: String { "\(value) ± \(ReportNumber.short(error)) (h = \(step))" }
    }

    /// A Jacobian `J[k][j] = d output_k / d input_j`, each entry with its error estimate.
    public struct Jacobian: Sendable {
        /// The number of outputs (rows).
        public let outputs: Int
        /// The number of inputs (columns).
        public let inputs: Int
        /// Row-major: entry `(k, j)` is at `k * inputs + j`.
        public let values: [Double]
        /// The error estimates, same layout.
        public let errors: [Double]
        /// The first-level step of each input coordinate.
        public let steps: [Double]

        /// The estimate of `d output_k / d input_j`.
        public subscript(output k: Int, input j: Int) -> Estimate {
            Estimate(value: values[k * inputs + j], error: errors[k * inputs + j], step: steps[j])
        }
    }

    /// The first-level step for a coordinate at `x`: the largest power of two not above
    /// `relativeStep * max(|x|, 1)`. NaN for a non-finite `x`.
    public static func step(at x: Double, options: Options = Options()) -> Double {
        let scaled = options.relativeStep * max(x.magnitude, 1)
        guard x.isFinite, scaled.isFinite, scaled > 0 else { return .nan }
        return Double(sign: .plus, exponent: scaled.exponent, significand: 1)
    }

    /// `f'(x)` for a scalar function.
    public static func derivative(of f: (Double) throws -> Double, at x: Double,
                                  options: Options = Options()) rethrows -> Estimate {
        let h = step(at: x, options: options)
        return try extrapolate(outputs: 1, options: options, firstStep: h) { level in
            let hk = h / Double(1 << level)
            let xp = x + hk, xm = x - hk
            return (try [f(xp)], try [f(xm)], (xp - xm) / 2)
        }[0]
    }

    /// Column `j` of the Jacobian of `f` at `x`: `d f(x) / d x_j` for every output.
    public static func partialDerivatives(of f: ([Double]) throws -> [Double], at x: [Double], coordinate j: Int,
                                          options: Options = Options()) rethrows -> [Estimate] {
        let h = step(at: x[j], options: options)
        var point = x
        return try extrapolate(outputs: nil, options: options, firstStep: h) { level in
            let hk = h / Double(1 << level)
            let xp = x[j] + hk, xm = x[j] - hk
            point[j] = xp
            let plus = try f(point)
            point[j] = xm
            let minus = try f(point)
            point[j] = x[j]
            return (plus, minus, (xp - xm) / 2)
        }
    }

    /// The full Jacobian of `f` at `x`, one coordinate at a time (`2 * levels * x.count`
    /// evaluations). For large inputs prefer `projection`.
    public static func jacobian(of f: ([Double]) throws -> [Double], at x: [Double],
                                options: Options = Options()) rethrows -> Jacobian {
        var columns: [[Estimate]] = []
        columns.reserveCapacity(x.count)
        for j in x.indices {
            columns.append(try partialDerivatives(of: f, at: x, coordinate: j, options: options))
        }
        let outputs = try columns.first?.count ?? f(x).count
        var values = Array(repeating: 0.0, count: outputs * x.count)
        var errors = values
        for j in x.indices {
            for k in 0..<outputs {
                // A column shorter than the first means f's output count changed with its
                // input; that entry has no estimate.
                let e = k < columns[j].count ? columns[j][k] : Estimate(value: .nan, error: .infinity, step: .nan)
                values[k * x.count + j] = e.value
                errors[k * x.count + j] = e.error
            }
        }
        return Jacobian(outputs: outputs, inputs: x.count, values: values, errors: errors,
                        steps: x.map { step(at: $0, options: options) })
    }

    /// The gradient of a scalar function, one coordinate at a time.
    public static func gradient(of f: ([Double]) throws -> Double, at x: [Double],
                                options: Options = Options()) rethrows -> [Estimate] {
        try x.indices.map { j in
            try partialDerivatives(of: { [try f($0)] }, at: x, coordinate: j, options: options)[0]
        }
    }

    /// `d/dt f(x + t d)` at `t = 0` for every output: the Jacobian-vector product `J d`.
    ///
    /// The steps are `t = h, h/2, ...` with `h` the largest power of two not above
    /// `relativeStep`, so `direction` should already carry the coordinates' scale (e.g.
    /// `d_j = u_j * max(|x_j|, 1)` rounded to a power of two times a few-bit `u_j`, which
    /// keeps `x +- t d` exact; `GradientChecker` builds such directions).
    public static func directionalDerivative(of f: ([Double]) throws -> [Double], at x: [Double], direction: [Double],
                                             options: Options = Options()) rethrows -> [Estimate] {
        let h = step(at: 0, options: options)
        return try extrapolate(outputs: nil, options: options, firstStep: h) { level in
            let t = h / Double(1 << level)
            let plus = try f(x.indices.map { x[$0] + t * direction[$0] })
            let minus = try f(x.indices.map { x[$0] - t * direction[$0] })
            return (plus, minus, t)
        }
    }

    /// `v^T J u` from one directional derivative (`2 * levels` evaluations whatever the
    /// input size): the randomized check of PyTorch's fast gradcheck. The error estimate
    /// is `sum_k |v_k| error_k`.
    public static func projection(of f: ([Double]) throws -> [Double], at x: [Double], direction u: [Double],
                                  cotangent v: [Double], options: Options = Options()) rethrows -> Estimate {
        let column = try directionalDerivative(of: f, at: x, direction: u, options: options)
        var value = 0.0, error = 0.0
        for k in column.indices {
            let vk = k < v.count ? v[k] : 0
            if vk == 0 { continue }
            value += vk * column[k].value
            error += vk.magnitude * column[k].error
        }
        return Estimate(value: value, error: error, step: column.first?.step ?? .nan)
    }

    /// Whether the first three central differences shrink as a smooth function's do.
    /// For smooth `f`, `D(h) - D(h/2)` is about 4x (`h^2` term) or 16x (`h^4` term when
    /// `f''' = 0`) `D(h/2) - D(h/4)`. Anything far outside (a kink gives 1/2: `D`
    /// doubles with each halving) means the steps do not see a smooth function, and the
    /// tableau's differences say nothing about the error. Differences within rounding
    /// noise (about `6 r` for the first level's rounding `r`, 16 `r` with margin) carry no
    /// information and pass.
    private static func inAsymptoticRegime(_ d0: Double, _ d1: Double, _ d2: Double, rounding r: Double) -> Bool {
        let first = d1 - d0, second = d2 - d1
        let noise = 16 * r
        if first.magnitude <= noise || second.magnitude <= noise { return true }
        let ratio = first / second
        return ratio >= 2 && ratio <= 32
    }

    /// The Richardson tableau over `levels` step sizes. `sample(level)` returns f at the
    /// plus and minus points and the realized half-step for that level.
    private static func extrapolate(
        outputs: Int?, options: Options, firstStep h: Double,
        sample: (Int) throws -> (plus: [Double], minus: [Double], step: Double)
    ) rethrows -> [Estimate] {
        let levels = max(options.levels, 2)
        guard h.isFinite else {
            let count = outputs ?? 0
            return Array(repeating: Estimate(value: .nan, error: .infinity, step: h), count: count)
        }
        // tableau[k][i][j]: output k, level i, extrapolation j; the same for rounding.
        var tableau: [[[Double]]] = []
        var rounding: [[[Double]]] = []
        var finite: [Bool] = []
        for i in 0..<levels {
            let (plus, minus, step) = try sample(i)
            let count = min(plus.count, minus.count)
            if i == 0 {
                tableau = Array(repeating: [], count: count)
                rounding = tableau
                finite = Array(repeating: true, count: count)
            }
            for k in 0..<min(count, tableau.count) {
                let d = (plus[k] - minus[k]) / (2 * step)
                let r = options.valueAccuracy * (plus[k].magnitude + minus[k].magnitude) / (2 * step)
                finite[k] = finite[k] && plus[k].isFinite && minus[k].isFinite
                var row = [d], roundingRow = [r]
                for j in stride(from: 1, through: i, by: 1) {
                    let factor = Double(1 << (2 * j)) - 1  // 4^j - 1
                    row.append(row[j - 1] + (row[j - 1] - tableau[k][i - 1][j - 1]) / factor)
                    roundingRow.append(((factor + 1) * roundingRow[j - 1] + rounding[k][i - 1][j - 1]) / factor)
                }
                tableau[k].append(row)
                rounding[k].append(roundingRow)
            }
        }
        let last = levels - 1
        return tableau.indices.map { k in
            let t = tableau[k]
            guard finite[k], t.count == levels else { return Estimate(value: .nan, error: .infinity, step: h) }
            let best = t[last][last]
            if levels >= 3 && !inAsymptoticRegime(t[0][0], t[1][0], t[2][0], rounding: rounding[k][0][0]) {
                return Estimate(value: best, error: .infinity, step: h)
            }
            let truncation = max((best - t[last][last - 1]).magnitude, (best - t[last - 1][last - 1]).magnitude)
            return Estimate(value: best, error: truncation + rounding[k][last][last], step: h)
        }
    }
}

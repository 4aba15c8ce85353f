import Losses

extension GoldenCases {
    /// `l1`: the shared regression cases (among them the subgradient 0 at a zero
    /// difference and NaN gradients at NaN differences, deviation 3) and generated ones.
    static var l1: [GoldenCaseDefinition] {
        regressionCases { .l1(L1Loss(reduction: $0)) }
            + generated(L1Loss.name, seed: 0x601D_0002, count: 3,
                        options: GeneratorOptions(regimes: [.standardNormal, .nearKinks], maxElements: 8))
    }
}

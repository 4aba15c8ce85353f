import Losses

extension GoldenCases {
    /// `mse`: the shared regression cases and seeded generated ones.
    static var mse: [GoldenCaseDefinition] {
        regressionCases { .mse(MSELoss(reduction: $0)) }
            + generated(MSELoss.name, seed: 0x601D_0001, count: 3,
                        options: GeneratorOptions(regimes: [.standardNormal, .nearKinks], maxElements: 8))
    }
}

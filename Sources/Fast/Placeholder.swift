public enum FastLossesPlaceholder {}

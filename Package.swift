// swift-tools-version:6.0
// A verified loss-function library: a Double reference engine, a Float fast engine,
// and the verification suite that holds them to PyTorch's semantics.
// No package dependencies: Foundation, Dispatch and Swift Testing come with the toolchain.
import PackageDescription

let package = Package(
    name: "swift-losses",
    products: [
        .library(name: "Losses", targets: ["Losses"]),
        .library(name: "ReferenceLosses", targets: ["ReferenceLosses"]),
        .library(name: "FastLosses", targets: ["FastLosses"]),
        .library(name: "LossVerification", targets: ["LossVerification"]),
        .executable(name: "losscheck", targets: ["losscheck"]),
    ],
    targets: [
        .target(name: "Losses", path: "Sources/Losses"),
        .target(name: "ReferenceLosses", dependencies: ["Losses"], path: "Sources/Reference"),
        .target(name: "FastLosses", dependencies: ["Losses"], path: "Sources/Fast"),
        .target(
            name: "LossVerification",
            dependencies: ["Losses", "ReferenceLosses", "FastLosses"],
            path: "Sources/Verification"),
        .executableTarget(
            name: "losscheck",
            dependencies: ["Losses", "ReferenceLosses", "FastLosses", "LossVerification"],
            path: "Sources/losscheck"),
        .testTarget(
            name: "ReferenceTests",
            dependencies: ["Losses", "ReferenceLosses", "LossVerification"],
            path: "Tests/Reference"),
        .testTarget(
            name: "GradCheckTests",
            dependencies: ["Losses", "ReferenceLosses", "LossVerification"],
            path: "Tests/GradCheck"),
        .testTarget(
            name: "PropertyTests",
            dependencies: ["Losses", "ReferenceLosses", "FastLosses", "LossVerification"],
            path: "Tests/Property"),
        .testTarget(
            name: "GoldenTests",
            dependencies: ["Losses", "ReferenceLosses", "FastLosses", "LossVerification"],
            path: "Tests/Golden"),
        .testTarget(
            name: "StabilityTests",
            dependencies: ["Losses", "ReferenceLosses", "FastLosses", "LossVerification"],
            path: "Tests/Stability"),
    ]
)

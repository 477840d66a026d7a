// swift-tools-version: 6.2
import PackageDescription

// Uses fp8sim's three libraries from another package. Here the dependency is this repository
// itself (two folders up); elsewhere use `.package(url: "https://…/fp8sim.git", branch: "main")`.
let package = Package(
  name: "UnitChecks",
  dependencies: [.package(name: "fp8sim", path: "../..")],
  targets: [
    .target(
      name: "UnitChecks",
      dependencies: [
        .product(name: "FP8Formats", package: "fp8sim"),
        .product(name: "FP8ISA", package: "fp8sim"),
        .product(name: "FP8Sim", package: "fp8sim"),
      ]),
    .testTarget(name: "UnitChecksTests", dependencies: ["UnitChecks"]),
  ]
)

// swift-tools-version: 6.2
import PackageDescription

// MARK: - Shared settings

/// Every target builds in Swift 6 mode with warnings treated as errors.
let strict: [SwiftSetting] = [
  .treatAllWarnings(as: .error)
]

/// `Double.rounded(_:)` lowers to libm's `rint`/`round`; a target that does not import
/// Foundation must link libm itself on Linux.
let libm: [LinkerSetting] = [.linkedLibrary("m", .when(platforms: [.linux]))]

let package = Package(
  name: "fp8sim",
  products: [
    .executable(name: "fp8sim", targets: ["fp8sim"]),
    .library(name: "FP8Formats", targets: ["FP8Formats"]),
    .library(name: "FP8Data", targets: ["FP8Data"]),
    .library(name: "FP8ISA", targets: ["FP8ISA"]),
    .library(name: "FP8Sim", targets: ["FP8Sim"]),
    .library(name: "FP8Models", targets: ["FP8Models"]),
  ],
  targets: [
    // MARK: - Public modules (dependency order)
    .target(name: "FP8Formats", swiftSettings: strict, linkerSettings: libm),
    // Data files: .npy, .safetensors and JSON readers and writers.
    .target(name: "FP8Data", dependencies: ["FP8Formats"], swiftSettings: strict),
    .target(name: "FP8ISA", dependencies: ["FP8Formats", "FP8Data"], swiftSettings: strict),
    // The mma kernels for the host's vector unit (x86-64 AVX2), chosen at run time.
    .target(name: "FP8KernelsC"),
    .target(
      name: "FP8Sim", dependencies: ["FP8Formats", "FP8Data", "FP8ISA", "FP8KernelsC"], swiftSettings: strict),
    // Models on the simulated device: kernels built as programs, run as a chain.
    .target(name: "FP8Models", dependencies: ["FP8Formats", "FP8Data", "FP8ISA", "FP8Sim"], swiftSettings: strict),
    .target(
      name: "FP8SimCLI", dependencies: ["FP8Formats", "FP8ISA", "FP8Sim", "FP8Models"], swiftSettings: strict),
    .executableTarget(name: "fp8sim", dependencies: ["FP8SimCLI"], swiftSettings: strict),

    // MARK: - libFuzzer harnesses (build with --sanitize fuzzer -Xswiftc -parse-as-library)
    .executableTarget(name: "FP8FuzzAssembler", dependencies: ["FP8ISA"], swiftSettings: strict),
    .executableTarget(
      name: "FP8FuzzRun", dependencies: ["FP8ISA", "FP8Sim", "FP8FuzzSupport"], swiftSettings: strict),
    /// The limits fuzzed programs run under, shared by the harness and the replay test.
    .target(name: "FP8FuzzSupport", dependencies: ["FP8ISA", "FP8Sim"], swiftSettings: strict),
    .executableTarget(name: "FP8FuzzDevice", dependencies: ["FP8Sim"], swiftSettings: strict),
    .executableTarget(name: "FP8FuzzNPY", dependencies: ["FP8Formats", "FP8Data"], swiftSettings: strict),
    .executableTarget(
      name: "FP8FuzzSafetensors", dependencies: ["FP8Formats", "FP8Data"], swiftSettings: strict),

    // MARK: - Unit test bundles
    .testTarget(
      name: "FP8FormatsTests", dependencies: ["FP8Formats"], exclude: ["Fixtures"], swiftSettings: strict),
    .testTarget(
      name: "FP8ISATests", dependencies: ["FP8Data", "FP8ISA"], exclude: ["FuzzCases", "Fixtures"],
      swiftSettings: strict),
    .testTarget(
      name: "FP8SimTests", dependencies: ["FP8Data", "FP8Sim", "FP8FuzzSupport"], exclude: ["FuzzCases"],
      swiftSettings: strict),
    .testTarget(
      name: "FP8ModelsTests", dependencies: ["FP8Data", "FP8ISA", "FP8Sim", "FP8Models"], swiftSettings: strict),
    .testTarget(
      name: "FP8SimCLITests", dependencies: ["FP8Data", "FP8Models", "FP8SimCLI", "fp8sim"],
      exclude: ["Snapshots", "Hostile"],
      swiftSettings: strict),
  ]
)

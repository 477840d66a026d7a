import FP8Sim
import Foundation
import Testing

@testable import FP8SimCLI

/// The relations the scaling examples exist to show, measured on the teaching device
/// (docs/scaling.md has the full tables).
@Suite struct ScalingExperimentTests {
  /// Runs an example with `--format json` and extra `--set`s.
  static func report(_ example: String, _ sets: [String] = [], device: String? = nil) throws -> Report {
    inPackageRoot()
    var args = ["run", "examples/\(example).isa", "--format", "json"]
    for s in sets { args += ["--set", s] }
    if let device { args += ["--device", device] }
    let r = runCLI(args)
    guard r.status == .success else {
      Issue.record("\(example) failed: \(r.stderr)")
      throw CLITestError.executableNotFound([])
    }
    return try Report.decode(r.stdout)
  }

  static func snr(_ r: Report, _ output: String = "Y") -> Double {
    r.value(.snrDB, output)?.double ?? .nan
  }

  /// Stall cycles of one cause, summed over units.
  static func stall(_ r: Report, _ key: StatKey) -> Int64 {
    r.values(key).reduce(0) { $0 + ($1.value.int ?? 0) }
  }

  @Test func amaxReadsTheActivationTwiceWhenItSpills() throws {
    // M = 1024: 16 blocks per tile, more than the 6 a tile may keep.
    let sets = ["S=2", "M=1024"]
    let amax = try Self.report("linear_amax", sets)
    let cscale = try Self.report("linear_cscale", sets)
    let delayed = try Self.report("linear_delayed", sets)
    let x = { (r: Report, key: StatKey) in r.count(key, "X") }
    #expect(x(amax, .tensorL2ToSram) == 2 * x(cscale, .tensorL2ToSram))
    #expect(x(delayed, .tensorL2ToSram) == x(cscale, .tensorL2ToSram))
    #expect(x(amax, .tensorDramToL2) > x(cscale, .tensorDramToL2))  // the second pass misses L2 too
    #expect(amax.count(.cycles) > cscale.count(.cycles))
    #expect(amax.number(.energyTotal) > cscale.number(.energyTotal))
  }

  @Test func amaxReadsTheActivationOnceWhenItFits() throws {
    let amax = try Self.report("linear_amax", ["S=2"])
    let cscale = try Self.report("linear_cscale", ["S=2"])
    #expect(amax.count(.tensorL2ToSram, "X") == cscale.count(.tensorL2ToSram, "X"))
    for key: StatKey in [.dramToL2, .l2ToSram, .sramToL2, .l2ToDram] {
      #expect(amax.count(key) == cscale.count(key))
    }
    // ... but it still waits for the other tiles: the all-reduce is on the data path.
    #expect(Self.stall(amax, .syncStall) > 0 && Self.stall(cscale, .syncStall) == 0)
    #expect(amax.count(.cycles) > cscale.count(.cycles))
  }

  @Test func amaxSyncCostGrowsWithTheNumberOfTiles() throws {
    // The same work per tile on 4 and on 64 tiles: the all-reduce tree gets deeper.
    let small = try Self.report("linear_amax", ["S=2", "M=64", "RB=16"])
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID().uuidString).json")
    try #"{ base: "teach", tiles: 64 }"#.write(to: dir, atomically: true, encoding: .utf8)
    let many = try Self.report("linear_amax", ["S=2", "M=1024", "RB=16"], device: dir.path)
    let perTile = { (r: Report) in Double(Self.stall(r, .syncStall)) / Double(r.device.tiles) }
    #expect(perTile(many) > perTile(small))
    #expect(many.count(.exchange) > small.count(.exchange))
  }

  @Test func cscaleMatchesAmaxInsideABandAndFailsOutsideIt() throws {
    let amax = Self.snr(try Self.report("linear_amax", ["S=1"]))
    for bias in [0, 3, 6] {
      let c = Self.snr(try Self.report("linear_cscale", ["S=1", "bias=\(bias)"]))
      #expect(abs(c - amax) < 0.5, "bias \(bias): CSCALE \(c) dB vs AMAX \(amax) dB")
    }
    let low = Self.snr(try Self.report("linear_cscale", ["S=1", "bias=-5"]))
    #expect(low < amax - 10, "bias -5: \(low) dB")
    let high = try Self.report("linear_cscale", ["S=1", "bias=8"])
    #expect(Self.snr(high) < amax - 10 && high.count(.totalOverflow) > 0, "bias 8: \(Self.snr(high)) dB")
  }

  @Test func delayedScalingHasCscaleTrafficAndAmaxAccuracy() throws {
    let amax = try Self.report("linear_amax", ["S=4"])
    let cscale = try Self.report("linear_cscale", ["S=4"])
    let delayed = try Self.report("linear_delayed", ["S=4"])
    #expect(delayed.instances(.tensor) == cscale.instances(.tensor))
    for key: StatKey in [.tensorDramToL2, .tensorL2ToSram, .tensorSramToL2, .tensorL2ToDram] {
      #expect(delayed.values(key).map(\.value) == cscale.values(key).map(\.value))
    }
    #expect(abs(Self.snr(delayed) - Self.snr(amax)) < 0.5)
  }

  @Test func ffnAmaxSpillsTheHiddenActivation() throws {
    let sets = ["S=2", "M=1024"]
    let amax = try Self.report("ffn_amax", sets)
    let cscale = try Self.report("ffn_cscale", sets)
    let delayed = try Self.report("ffn_delayed", sets)
    // H (2 steps × 1024 rows × 128 × 2 bytes) goes out to L2 and comes back.
    let hBytes = 2 * 1024 * 128 * 2
    #expect(amax.count(.tensorSramToL2, "HS") == hBytes && amax.count(.tensorL2ToSram, "HS") == hBytes)
    #expect(!cscale.instances(.tensor).contains("HS") && !delayed.instances(.tensor).contains("HS"))
    #expect(amax.count(.l2ToSram) == cscale.count(.l2ToSram) + Int64(hBytes))
    #expect(amax.count(.cycles) > cscale.count(.cycles))
    #expect(abs(Self.snr(delayed) - Self.snr(amax)) < 0.5 && abs(Self.snr(cscale) - Self.snr(amax)) < 0.5)
    // When H fits, AMAX keeps it in SRAM: no traffic for H.
    let fits = try Self.report("ffn_amax", ["S=2"])
    #expect(!fits.instances(.tensor).contains("HS"))
  }

  @Test func backwardPassNeedsLossScalingAndAGradientMargin() throws {
    let base = try Self.report("backward_fp8")
    #expect(Self.snr(base, "DX") > 24 && Self.snr(base, "DW") > 24 && base.count(.totalUnderflow) == 0)
    #expect(base.count(.macsByFormat, "e5m2×e4m3fn→f16") == 64 * 48 * 48)
    // Without loss scaling the tiny gradients underflow FP16 on their way in.
    let unscaled = try Self.report("backward_fp8", ["LS=0"])
    #expect(unscaled.count(.totalUnderflow) > 0 && Self.snr(unscaled, "DX") < Self.snr(base, "DX") - 1)
    // With the paper's margin of 3, Gaussian gradients overflow the FP16 accumulators.
    let margin3 = try Self.report("backward_fp8", ["MARGIN=3"])
    #expect(Self.snr(margin3, "DX") == -.infinity && margin3.count(.inf, "DX") > 0)
  }

  @Test func attentionKeepsScoresAndSoftmaxInHigherPrecision() throws {
    let r = try Self.report("attention_rows")
    #expect(r.count(.macsByFormat, "e4m3fn×e4m3fn→f16") == 3 * 32 * 64 * 64)
    #expect(r.count(.macsByFormat, "f16×f16→f32") == 32 * 32 * 64 * 2)
    #expect(Self.snr(r, "O") > 20)
  }

  @Test func withoutTheMarginFP16AccumulationOverflows() throws {
    // Both operands scaled to the top of E4M3: 448·448 > 65504 (paper §3.2).
    let r = try Self.report("linear_amax", ["S=1", "MARGIN=0"])
    #expect(Self.snr(r) == -.infinity)
    #expect(r.count(.inf, "Y") > 0)
  }
}

extension Report {
  /// A count, or -1 when the report has none (so that a comparison with a missing figure fails).
  func count(_ key: StatKey, _ instance: String? = nil) -> Int64 { value(key, instance)?.int ?? -1 }
  /// A figure as a number, NaN when the report has none.
  func number(_ key: StatKey, _ instance: String? = nil) -> Double { value(key, instance)?.double ?? .nan }
}

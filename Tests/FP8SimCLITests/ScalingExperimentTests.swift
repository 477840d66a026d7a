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
    r.outputs.first { $0.name == output }?.snrDB ?? .nan
  }

  static func stall(_ r: Report, _ key: KeyPath<Report.Stalls, Int64>) -> Int64 {
    r.units.values.reduce(0) { $0 + $1.stallCycles[keyPath: key] }
  }

  @Test func amaxReadsTheActivationTwiceWhenItSpills() throws {
    // M = 1024: 16 blocks per tile, more than the 6 a tile may keep.
    let sets = ["S=2", "M=1024"]
    let amax = try Self.report("linear_amax", sets)
    let cscale = try Self.report("linear_cscale", sets)
    let delayed = try Self.report("linear_delayed", sets)
    let x = { (r: Report) in r.traffic.tensors["X"]! }
    #expect(x(amax).l2ToSram == 2 * x(cscale).l2ToSram)
    #expect(x(delayed).l2ToSram == x(cscale).l2ToSram)
    #expect(x(amax).dramToL2 > x(cscale).dramToL2)  // the second pass misses L2 too
    #expect(amax.cycles > cscale.cycles)
    #expect(amax.energy.total > cscale.energy.total)
  }

  @Test func amaxReadsTheActivationOnceWhenItFits() throws {
    let amax = try Self.report("linear_amax", ["S=2"])
    let cscale = try Self.report("linear_cscale", ["S=2"])
    #expect(amax.traffic.tensors["X"]!.l2ToSram == cscale.traffic.tensors["X"]!.l2ToSram)
    #expect(amax.traffic.bytes == cscale.traffic.bytes.with(exchange: amax.traffic.bytes.exchange))
    // ... but it still waits for the other tiles: the all-reduce is on the data path.
    #expect(Self.stall(amax, \.sync) > 0 && Self.stall(cscale, \.sync) == 0)
    #expect(amax.cycles > cscale.cycles)
  }

  @Test func amaxSyncCostGrowsWithTheNumberOfTiles() throws {
    // The same work per tile on 4 and on 64 tiles: the all-reduce tree gets deeper.
    let small = try Self.report("linear_amax", ["S=2", "M=64", "RB=16"])
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID().uuidString).json")
    try #"{ base: "teach", tiles: 64 }"#.write(to: dir, atomically: true, encoding: .utf8)
    let many = try Self.report("linear_amax", ["S=2", "M=1024", "RB=16"], device: dir.path)
    let perTile = { (r: Report) in Double(Self.stall(r, \.sync)) / Double(r.device.tiles) }
    #expect(perTile(many) > perTile(small))
    #expect(many.traffic.bytes.exchange > small.traffic.bytes.exchange)
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
    #expect(Self.snr(high) < amax - 10 && high.totalOverflow > 0, "bias 8: \(Self.snr(high)) dB")
  }

  @Test func delayedScalingHasCscaleTrafficAndAmaxAccuracy() throws {
    let amax = try Self.report("linear_amax", ["S=4"])
    let cscale = try Self.report("linear_cscale", ["S=4"])
    let delayed = try Self.report("linear_delayed", ["S=4"])
    #expect(delayed.traffic.tensors == cscale.traffic.tensors)
    #expect(abs(Self.snr(delayed) - Self.snr(amax)) < 0.5)
  }

  @Test func ffnAmaxSpillsTheHiddenActivation() throws {
    let sets = ["S=2", "M=1024"]
    let amax = try Self.report("ffn_amax", sets)
    let cscale = try Self.report("ffn_cscale", sets)
    let delayed = try Self.report("ffn_delayed", sets)
    // H (2 steps × 1024 rows × 128 × 2 bytes) goes out to L2 and comes back.
    let hBytes = 2 * 1024 * 128 * 2
    #expect(amax.traffic.tensors["HS"]?.sramToL2 == hBytes && amax.traffic.tensors["HS"]?.l2ToSram == hBytes)
    #expect(cscale.traffic.tensors["HS"] == nil && delayed.traffic.tensors["HS"] == nil)
    #expect(amax.traffic.bytes.l2ToSram == cscale.traffic.bytes.l2ToSram + hBytes)
    #expect(amax.cycles > cscale.cycles)
    #expect(abs(Self.snr(delayed) - Self.snr(amax)) < 0.5 && abs(Self.snr(cscale) - Self.snr(amax)) < 0.5)
    // When H fits, AMAX keeps it in SRAM: no traffic for H.
    let fits = try Self.report("ffn_amax", ["S=2"])
    #expect(fits.traffic.tensors["HS"] == nil)
  }

  @Test func backwardPassNeedsLossScalingAndAGradientMargin() throws {
    let base = try Self.report("backward_fp8")
    #expect(Self.snr(base, "DX") > 24 && Self.snr(base, "DW") > 24 && base.totalUnderflow == 0)
    #expect(base.compute.macsByFormat["e5m2×e4m3fn→f16"] == 64 * 48 * 48)
    // Without loss scaling the tiny gradients underflow FP16 on their way in.
    let unscaled = try Self.report("backward_fp8", ["LS=0"])
    #expect(unscaled.totalUnderflow > 0 && Self.snr(unscaled, "DX") < Self.snr(base, "DX") - 1)
    // With the paper's margin of 3, Gaussian gradients overflow the FP16 accumulators.
    let margin3 = try Self.report("backward_fp8", ["MARGIN=3"])
    #expect(Self.snr(margin3, "DX") == -.infinity && (margin3.outputs.first?.inf ?? 0) > 0)
  }

  @Test func attentionKeepsScoresAndSoftmaxInHigherPrecision() throws {
    let r = try Self.report("attention_rows")
    #expect(r.compute.macsByFormat["e4m3fn×e4m3fn→f16"] == 3 * 32 * 64 * 64)
    #expect(r.compute.macsByFormat["f16×f16→f32"] == 32 * 32 * 64 * 2)
    #expect(Self.snr(r, "O") > 20)
  }

  @Test func withoutTheMarginFP16AccumulationOverflows() throws {
    // Both operands scaled to the top of E4M3: 448·448 > 65504 (paper §3.2).
    let r = try Self.report("linear_amax", ["S=1", "MARGIN=0"])
    #expect(Self.snr(r) == -.infinity)
    #expect((r.outputs.first?.inf ?? 0) > 0)
  }
}

extension Report.Bytes {
  func with(exchange: Int) -> Report.Bytes {
    var b = self
    b.exchange = exchange
    return b
  }
}

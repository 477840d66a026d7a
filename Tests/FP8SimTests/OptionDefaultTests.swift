import FP8Formats
import FP8ISA
import Testing

@testable import FP8Sim

/// Every option default pinned twice: as the table declares it, and by what a run does when the
/// option is left out. (Changing a default in one place must fail here.)
@Suite struct OptionDefaultTests {
  @Test func tableDefaultsAreTheDocumentedOnes() {
    var defaults: [String: String] = [:]
    for op in Opcode.allCases {
      for o in op.spec.options { defaults["\(op.spec.mnemonic) \(o.name)"] = o.defaultText ?? "none" }
    }
    let output = [
      "bias": "0", "round": "nearest-even", "overflow": "nonfinite", "seed": "0", "amax": "none",
      "tamax": "none", "tscale": "none",
    ]
    var expected: [String: String] = [
      "bias margin": "0", "bias min": "-31", "bias max": "31",
      "layernorm gamma": "none", "layernorm beta": "none", "layernorm eps": "1e-05",
      "rmsnorm gamma": "none", "rmsnorm eps": "1e-06", "rope pos": "0", "rope base": "10000.0",
      "mma acc": "auto", "mma ta": "0", "mma tb": "0", "mma clear": "0", "mma amax": "none",
      "allreduce.max async": "0", "allreduce.sum async": "0", "fence unit": "all", "dma.load mcast": "1",
    ]
    for op in [
      "vadd", "vsub", "vmul", "vdiv", "vmax", "vfill", "cast", "relu", "gelu", "gelu.tanh", "silu", "exp",
      "softmax", "gelu.grad", "gelu.tanh.grad", "silu.grad", "vsqrt",
      "layernorm", "rmsnorm", "rope", "rowmax", "rowsum",
    ] {
      for (name, value) in output { expected["\(op) \(name)"] = value }
    }
    let differing = Set(defaults.keys).union(expected.keys).sorted().filter { defaults[$0] != expected[$0] }
    #expect(
      differing.isEmpty,
      "\(differing.map { "\($0): table \(defaults[$0] ?? "-"), expected \(expected[$0] ?? "-")" })")
  }

  /// `bias` without options clamps to −31...31 and subtracts no margin.
  @Test func biasClampsToPlusMinus31ByDefault() throws {
    let r = try simulate(
      """
      .tensor s f32 [3] sram
      .tensor out f32 [3] dram
      .output out
        fmov f1, 1e30
        bias r1, f1, fp8e4
        fmov f2, 1e-30
        bias r2, f2, fp8e4
        fmov f3, 1.0
        bias r3, f3, fp8e4
        vfill s[0:+1], 1.0, bias=r1
        vfill s[1:+1], 1.0, bias=r2
        vfill s[2:+1], 1.0, bias=r3
        dma.store out, s
        dma.wait
      """)
    let values = output(r, "out")?.values ?? []
    try #require(values.count == 3)
    #expect(values[0] == 0x1p-31)
    #expect(values[1] == 0x1p31)
    // With amax 1 the rule gives floor(log2(max finite of the device's fp8e4)).
    let e4 = DeviceConfig.teach.e4
    let maxFinite = e4.decode(e4.maxFiniteCode())
    let b = Int(maxFinite.exponent)
    #expect(values[2] == Float(sign: .plus, exponent: b, significand: 1))
  }

  /// Output options left out: bias 0, nearest-even, non-finite on overflow.
  @Test func vectorOutputDefaults() throws {
    let r = try simulate(
      """
      .tensor x f32 [3] sram
      .tensor y fp8e4 [3] sram
      .tensor out fp8e4 [3] dram
      .output out
        fmov f1, 1e6
        vfill x[0:+1], f1
        vfill x[1:+1], 1.0625
        vfill x[2:+1], 1.1875
        cast y, x
        dma.store out, y
        dma.wait
      """)
    let e4 = DeviceConfig.teach.e4
    let values = output(r, "out")?.values ?? []
    try #require(values.count == 3)
    // Non-finite on overflow: inf where the format has one, else NaN (saturate would give max).
    if e4.hasInfinity { #expect(values[0] == .infinity) } else { #expect(values[0].isNaN) }
    // 1.0625 and 1.1875 are ties between neighbours 1/1.125 and 1.125/1.25: the even one wins.
    #expect(Array(values[1...]) == [1.0, 1.25])
  }

  /// `acc=auto` accumulates in D's type: an f16 D stagnates where f32 would not.
  @Test func autoAccumulatorIsDsType() throws {
    func run(_ acc: String) throws -> [Float] {
      let r = try simulate(
        """
        .tensor a fp8e4 [1, 64] sram const(1)
        .tensor b fp8e4 [64, 1] sram const(1)
        .tensor d f16 [1, 1] sram const(2048)
        .tensor out f16 [1, 1] dram
        .output out
          mma d, a, b\(acc)
          dma.store out, d
          dma.wait
        """)
      return output(r, "out")?.values ?? []
    }
    #expect(try run("") == run(", acc=f16"))
    #expect(try run("") == [2048])  // 2048 + 1 rounds back to 2048 in f16, 64 times
  }

  /// `layernorm` without `eps=` adds 1e-5 to the variance: the row [0, 2] (mean 1, variance 1)
  /// normalises to ∓1/√(1 + 1e-5), not ∓1.
  @Test func layernormEpsilonIs1e5() throws {
    let r = try simulate(
      """
      .tensor x f32 [1, 2] sram
      .tensor y f32 [1, 2] sram
      .tensor out f32 [1, 2] dram
      .output out
        vfill x[0, 1:+1], 2.0
        layernorm y, x
        dma.store out, y
        dma.wait
      """)
    let expected = Float(1 / (1 + 1e-5).squareRoot())
    #expect(output(r, "out")?.values == [-expected, expected])
    #expect(expected != 1)
  }
}

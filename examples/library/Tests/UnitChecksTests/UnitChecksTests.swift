import FP8Formats
import FP8ISA
import FP8Sim
import Testing
import UnitChecks

/// FP8Formats: a format is a value; `encode` rounds once and says what happened.
@Test func e4m3fnCodes() {
  let e4 = FloatFormat.e4m3fn
  #expect(e4.maxFinite == 448)
  #expect(e4.encode(448).code == 0x7E)
  #expect(e4.encode(0.1).code == 0x1D && e4.decode(0x1D) == 0.1015625)  // the nearest E4M3 value
  let saturated = e4.encode(500, overflow: .saturate)
  #expect(saturated.code == 0x7E && saturated.event == .overflow)
  #expect(e4.classify(e4.encode(500).code) == .nan)  // no infinity in E4M3FN: overflow is NaN
  #expect(e4.encode(3, scale: 4).code == e4.encode(48).code)  // a scaling bias of 4: 3 · 2^4
}

/// FP8ISA: a built program prints as canonical text; programs are also assembled from text, and
/// every error of a file comes back at once, as a `DiagnosticList` (typed throws) with
/// `file:line:col` locations.
@Test func assemblerDiagnostics() throws {
  let built = try matmulProgram(m: 16, n: 16, k: 32)
  #expect(built.tensors.map(\.name) == ["A", "B", "C", "a", "b", "c"])
  #expect(Disassembler.text(of: built).contains("\n  mma c, a, b, clear=1\n"))
  do {
    _ = try Assembler.assemble(text: "  mma c, a, b\n  frobnicate r1\n", path: "bad.isa")
    Issue.record("a bad program assembled")
  } catch {
    #expect(error.diagnostics.map(\.location.description) == ["bad.isa:1:7", "bad.isa:2:3"])
    #expect(error.description.hasPrefix("bad.isa:1:7: error: unknown tensor 'c'"))
  }
}

/// FP8Sim: on the teaching device the tensor unit does 64 FP8 MACs per cycle, so a 16×16×32
/// mma occupies it for 16·16·32 / 64 = 128 cycles; C holds k · 0.5 exactly.
@Test func tensorUnitCycles() throws {
  var device = DeviceConfig.teach
  device.tiles = 1
  let (m, n, k) = (16, 16, 32)
  let (result, mmaCycles) = try runTraced(matmulProgram(m: m, n: n, k: k), on: device)
  #expect(mmaCycles == [Int64(Double(m * n * k) / device.tensorMacsPerCycleFP8)])
  #expect(mmaCycles == [128])
  let c = try #require(result.outputs.first { $0.name == "C" })
  #expect(c.values.allSatisfy { $0 == Float(k) / 2 })
  #expect(c.metrics.maxAbsError == 0)  // the FP32 shadow run agrees: 1 and 0.5 are exact in FP8
}

/// The tensor unit's time grows linearly with the work: twice the K, twice the cycles.
@Test(arguments: [32, 64, 128])
func mmaCyclesGrowWithK(k: Int) throws {
  var device = DeviceConfig.teach
  device.tiles = 1
  let (_, mmaCycles) = try runTraced(matmulProgram(m: 16, n: 16, k: k), on: device)
  #expect(mmaCycles == [Int64(16 * 16 * k / 64)])
}

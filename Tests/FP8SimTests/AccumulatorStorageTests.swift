import FP8Formats
import FP8ISA
import Testing

@testable import FP8Sim

/// `acc` tensors: accumulator storage per tile (docs/cost-model.md, isa/syntax.md).
@Suite struct AccumulatorStorageTests {
  static func gemm(_ space: String) -> String {
    """
    .tensor A fp8e4 [16, 32] dram uniform(1, -2, 2)
    .tensor B fp8e4 [32, 16] dram uniform(2, -2, 2)
    .tensor C f32 [16, 16] dram
    .tensor a fp8e4 [16, 32] sram
    .tensor b fp8e4 [32, 16] sram
    .tensor c f32 [16, 16] \(space)
    .tensor o f32 [16, 16] sram
    .output C
      dma.load a, A
      dma.load b, B
      dma.wait
      mma c, a, b, clear=1
      mma c, a, b
      cast o, c
      dma.store C, o
      dma.wait
    """
  }

  /// The same values and cycles; no SRAM bytes for the accumulator. teach, one tile: each mma
  /// reads A (512 B) and B (512 B) from SRAM and, in SRAM, reads and writes C (1 KiB each; the
  /// first, with clear=1, only writes it); the cast reads C and writes o (1 KiB each); DMA moves
  /// 512 + 512 + 1024 B.
  @Test func accumulatorsInRegistersUseNoSRAM() throws {
    let inSRAM = try simulate(Self.gemm("sram"))
    let inAcc = try simulate(Self.gemm("acc"))
    #expect(inAcc.cycles == inSRAM.cycles)
    #expect(inAcc.outputs[0].values == inSRAM.outputs[0].values)
    let dma = 512 + 512 + 1024
    #expect(inSRAM.compute.sramBytes == dma + (512 + 512 + 1024) + (512 + 512 + 2 * 1024) + (1024 + 1024))
    #expect(inAcc.compute.sramBytes == dma + (512 + 512) + (512 + 512) + (0 + 1024))
  }

  /// acc tensors do not take SRAM: 48 KiB in acc beside 32 KiB in SRAM fits teach's 64 KiB SRAM
  /// and 64 KiB accumulator storage; 80 KiB in acc does not.
  @Test func capacityIsItsOwn() throws {
    let fits = """
      .tensor s f32 [8192] sram
      .tensor x f32 [12288] acc
        vfill x, 1.0
      """
    _ = try simulate(fits)
    let tooBig = fits.replacingOccurrences(of: "[12288] acc", with: "[20480] acc")
    #expect(
      fault(tooBig)?.message
        == "accumulator overflow: the acc tensors up to 'x' need 81920 bytes per tile; device 'teach' has 65536"
    )
  }

  @Test func aDeviceWithoutAccumulatorStorageRefusesAccTensors() throws {
    let f = fault(Self.gemm("acc"), device: .ipu)
    #expect(
      f?.message
        == "device 'ipu' has no accumulator storage (tensor.accumulatorBytesPerTile = 0): declare 'c' in sram"
    )
    #expect(f?.location?.line == 6)
  }

  /// DMA cannot reach accumulator storage, and mma operands A and B are in SRAM.
  @Test func whatMayTouchAcc() throws {
    let base = """
      .tensor X f32 [16, 16] dram
      .tensor c f32 [16, 16] acc
      .tensor a fp8e4 [16, 16] acc

      """
    for (line, message) in [
      ("  dma.store X, c", "source 'c' must be in sram"),
      ("  mma c, a, a", "A 'a' must be in sram"),
      ("  vfill X, 1.0", "destination 'X' must be in sram or acc"),
    ] {
      #expect(throws: DiagnosticList.self) { try Assembler.assemble(text: base + line) }
      do {
        _ = try Assembler.assemble(text: base + line)
      } catch {
        #expect(error.description.contains(message), "\(line): \(error.description)")
      }
    }
  }
}

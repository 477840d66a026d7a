import FP8Data
import FP8Formats
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// Bad programs fault cleanly, naming the instruction (or declaration) and the tile.
@Suite struct FaultTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var source: String
    var line: Int
    var message: String
    var tiles = 1
    var testDescription: String { name }
  }

  @Test(arguments: [
    Case(
      name: "slice out of bounds",
      source:
        ".tensor X f16 [8, 8] dram\n.tensor x f16 [4, 8] sram\n  mov r1, 6\n  dma.load x, X[r1:+4, :]\n",
      line: 4, message: "slice out of bounds: X dimension 0 is 0..<8, the view asks 6:+4"),
    Case(
      name: "index out of bounds", source: ".tensor x f16 [4, 8] sram\n  mov r1, -1\n  vfill x[r1, :], 0\n",
      line: 3, message: "index out of bounds: x dimension 0 is 0..<4, index -1"),
    Case(
      name: "sram overflow", source: ".tensor a f32 [8192] sram\n.tensor b f32 [8192] sram\n  nop\n", line: 2,
      message: "SRAM overflow: the sram tensors up to 'b' need 65536 bytes per tile; device 'teach' has 65535"
    ),
    Case(
      name: "read before dma.wait",
      source: ".tensor X f16 [8] dram\n.tensor x f16 [8] sram\n  dma.load x, X\n  cast x, x\n", line: 4,
      message: "reads 'x' while the dma.load at line 3 that writes it has not been waited for"),
    Case(
      name: "endless loop", source: "top:\n  jmp top\n", line: 2,
      message: "more than 1000 instructions executed (an endless loop?)"),
    Case(
      name: "division by zero", source: "  mov r1, 0\n  div r2, 5, r1\n", line: 2, message: "division by zero"
    ),
    Case(
      name: "integer overflow", source: "  mov r1, 9223372036854775807\n  add r1, r1, 1\n", line: 2,
      message: "integer overflow in 'add'"),
    Case(
      name: "barrier mismatch", source: "  beq tid, 0, other\n  barrier\n  halt\nother:\n  barrier\n",
      line: 5,
      message: "tile 0 waits at line 5 but tile 1 waits at line 2", tiles: 2),
    Case(
      name: "halted tile", source: "  beq tid, 1, done\n  barrier\ndone:\n  halt\n", line: 2,
      message: "tile 1 halted (line 4) without reaching this barrier", tiles: 2),
    Case(
      name: "bias out of range", source: ".tensor x f32 [4] sram\n  mov r3, 1000\n  vfill x, 1, bias=r3\n",
      line: 3,
      message: "bias 1000 is outside -300...300"),
  ])
  func faultsNameTheLine(c: Case) throws {
    var options = RunOptions()
    options.maxInstructions = 1000
    let device = teach(tiles: c.tiles) { $0.sramBytesPerTile = 65535 }
    let f = try #require(fault(c.source, device: device, options: options))
    #expect(f.location?.line == c.line, "\(f)")
    #expect(f.message.contains(c.message), "\(f)")
    #expect(f.description.hasPrefix("t.isa:\(c.line):"))
  }

  @Test func faultRenderingQuotesTheSource() throws {
    let source = SourceFile(path: "p.isa", text: "  mov r1, 0\n  div r2, 5, r1\n")
    let f = RuntimeFault("division by zero", at: SourceLocation(file: "p.isa", line: 2, column: 3), tile: 0)
    #expect(
      f.rendered(source: source) == "p.isa:2:3: error: tile 0: division by zero\n  div r2, 5, r1\n  ^\n")
  }

  @Test func numericRunsRefuseHugeTensorsButTimingOnlyRunsThem() throws {
    // 2^36 elements: far too many to hold, but a timing-only run never allocates them.
    let text = """
      .tensor X f16 [65536, 1048576] dram
      .tensor x f16 [64, 64] sram
        dma.load x, X[0:+64, 0:+64]
        dma.wait
      """
    let f = try #require(fault(text))
    #expect(f.message.contains("run with --timing-only") && f.location?.line == 1)
    var options = RunOptions()
    options.timingOnly = true
    let r = try simulate(text, options: options)
    #expect(r.traffic.l2ToSram == 64 * 64 * 2)
  }
}

/// Non-finite input data is not an error, but every report says where it came from.
@Suite struct NonFiniteDataTests {
  @Test func nanAndInfInAFileAreReportedAndPropagate() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nonfinite-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    var data = Data()
    for v: Float in [1, .nan, .infinity, -2] {
      withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
    try NPY.write(dir.appendingPathComponent("x.npy"), shape: [4], descr: "<f4", data: data)
    let text = """
      .tensor X f32 [4] dram npy("x.npy")
      .tensor x f32 [4] sram
      .tensor q fp8e4 [4] sram
      .tensor Y f32 [4] dram
      .output Y
        dma.load x, X
        dma.wait
        cast q, x, overflow=saturate
        cast x, q
        dma.store Y, x
      """
    let program = try Assembler.assemble(text: text, path: "t.isa", options: .init(baseDirectory: dir))
    var options = RunOptions()
    options.baseDirectory = dir
    let r = try Machine(program: program, device: teach(), options: options).run()
    #expect(r.warnings.contains { $0.contains("tensor 'X' starts with 1 NaN and 1 infinite values") })
    #expect(
      r.warnings.contains { $0.contains("output 'Y': 2 values of the FP32 reference are NaN or infinite") })
    let y = try #require(output(r, "Y"))
    // NaN stays NaN; +inf saturates to 448 in E4M3 with overflow=saturate.
    #expect(y.values[0] == 1 && y.values[1].isNaN && y.values[2] == 448 && y.values[3] == -2)
    #expect(y.metrics.nanCount == 1 && y.metrics.snrDB.isNaN)
    let q = try #require(r.casts.first { $0.name == "q" }?.counts)
    #expect(q.nan == 1 && q.overflow == 1)
  }
}

/// A device built in Swift gets the checks a device file gets (a field out of its range would
/// otherwise reach the simulator's own limits, e.g. the scheduler's 2^13 tiles).
@Suite struct DeviceValueTests {
  @Test(arguments: [
    ("tiles", 9000, "tiles = 9000 is outside 1...8192"),
    ("ways", 65, "l2.ways = 65 is outside 1...64"),
    ("line", 96, "l2.bytes (262144) must be a multiple of l2.lineBytes × l2.ways (768)"),
  ])
  func outOfRangeFieldsAreRefused(field: String, value: Int, message: String) throws {
    var device = teach()
    switch field {
    case "tiles": device.tiles = value
    case "ways": device.l2Ways = value
    default: device.l2LineBytes = value
    }
    let f = try #require(fault(".tensor a f32 [4] sram\nhalt\n", device: device))
    #expect(f.message == "the device value is not a valid device: " + message)
  }
}

/// The work budget counts the rows a transfer walks, even where they merge into one run of lines
/// that the L2 model skips through (a tiny L2 here): else a loop of such loads ran for hours.
@Suite struct TransferBudgetTests {
  @Test func mergedRowsAreCharged() throws {
    var device = teach { $0.sramBytesPerTile = 1 << 30 }
    device.l2Bytes = 16
    device.l2LineBytes = 16
    device.l2Ways = 1
    var options = RunOptions()
    options.timingOnly = true
    options.maxWork = 10_000_000
    options.maxInstructions = 30  // uncharged, the loop would stop here instead, slowly
    let f = try #require(
      fault(
        ".tensor X fp8e4 [1048576, 32] dram\n.tensor S fp8e4 [1048576, 17] sram\na: dma.load S, X[:, 0:+17]\n   dma.wait 0\n   jmp a\n",
        device: device, options: options))
    #expect(f.location?.line == 3 && f.message.contains("work budget of 10000000 units"))
  }
}

/// Counts a user controls never overflow: the run faults at the instruction instead.
@Suite struct OverflowTests {
  static let bigSRAM = teach { $0.sramBytesPerTile = 1 << 30 }

  @Test func slowTensorUnitFaultsInsteadOfOverflowing() throws {
    var device = Self.bigSRAM
    device.tensorMacsPerCycleFP8 = 0.001
    var options = RunOptions()
    options.timingOnly = true
    let f = try #require(
      fault(
        ".tensor a fp8e4 [8192, 8192] sram\n.tensor b fp8e4 [8192, 8192] sram\n.tensor c f32 [8192, 8192] sram\nloop: mma c, a, b\n  jmp loop\n",
        device: device, options: options))
    #expect(f.location?.line == 4)
    #expect(
      f.message
        == "mma 8192×8192×8192 (549755813888 padded MACs) would take 549755813888000.0 cycles, more than the 17592186044416 (2^44) a run may simulate; check the device's rates"
    )
  }

  @Test func costlyVectorWorkFaultsInsteadOfOverflowing() throws {
    var device = Self.bigSRAM
    device.vectorElementsPerCycle = 1e9
    device.vectorTranscendentalCost = 1e6
    var options = RunOptions()
    options.timingOnly = true
    // 2^30 elements · 10^6 / 10^9 per cycle ≈ 1.07·10^6 cycles: fits; the counts stay exact.
    let r = try simulate(
      ".tensor x fp8e4 [32768, 32768] sram\n  exp x, x\n", device: device, options: options)
    #expect(r.compute.vectorElementOps == (1 << 30) * 1_000_000)
    // ceil(2^30 · 10^6 / 10^9) cycles of occupancy, then the vector latency.
    #expect(r.cycles == 1_073_742 + Int64(device.vectorLatency))
  }

  @Test func endlessTimeFaultsAtTheTimeLimit() throws {
    var device = Self.bigSRAM
    device.vectorElementsPerCycle = 0.001
    device.vectorTranscendentalCost = 1000
    var options = RunOptions()
    options.timingOnly = true
    // Each exp takes 2^30·1000·10^3 ≈ 10^15 cycles: over the limit at once.
    let f = try #require(
      fault(
        ".tensor x fp8e4 [32768, 32768] sram\nloop: exp x, x\n  jmp loop\n", device: device, options: options)
    )
    #expect(f.location?.line == 2)
    #expect(f.message.contains("more than the 17592186044416 (2^44) a run may simulate"), "\(f)")
    // Many instructions, each under the limit, reach it too.
    let g = try #require(
      fault(
        ".tensor x fp8e4 [1024, 1024] sram\nloop: exp x, x\n  jmp loop\n", device: device, options: options))
    #expect(g.location?.line == 2 || g.location?.line == 3)
    #expect(
      g.message == "simulated time passed 17592186044416 (2^44) cycles, the most a run may simulate", "\(g)")
  }

  @Test func runawayNumericWorkStopsAtTheBudget() throws {
    #expect(RunOptions().maxWork == 1 << 34)
    #expect(RunOptions().maxInstructions == 1 << 24)
    // Weights: f32-input MACs 8, FP8 MACs into f32 1 (into fp22 4), vector elements 192, plus
    // a fixed cost per instruction (mma 32768, vector 8192 in numeric runs).
    #expect(WorkCost.instruction(.tensor, timingOnly: false) == 32768)
    #expect(WorkCost.instruction(.vector, timingOnly: false) == 8192)
    var options = RunOptions()
    let mma = ".tensor a f32 [32, 32] sram\n.tensor c f32 [32, 32] sram\n"
    options.maxWork = 3 * (8 * 32 * 32 * 32 + 32768)
    _ = try simulate(mma + "  mma c, a, a\n  mma c, a, a\n  mma c, a, a\n", options: options)
    let f = try #require(
      fault(mma + "  mma c, a, a\n  mma c, a, a\n  mma c, a, a\n  mma c, a, a\n", options: options))
    #expect(f.location?.line == 6)
    #expect(f.message.hasPrefix("the run exceeded its work budget of 884736 units"), "\(f)")
    let fp8 = ".tensor a fp8e4 [32, 32] sram\n.tensor c f32 [32, 32] sram\n"
    options.maxWork = 5 * 32 * 32 * 32 + 2 * 32768
    _ = try simulate(fp8 + "  mma c, a, a\n  mma c, a, a, acc=fp22\n", options: options)
    #expect(
      fault(fp8 + "  mma c, a, a, acc=fp22\n  mma c, a, a, acc=fp22\n", options: options)?.location?.line == 4
    )
    options.maxWork = 2 * (192 * 1024 + 8192)
    let vector = ".tensor a f32 [1024] sram\n"
    _ = try simulate(vector + "  vadd a, a, a\n  exp a, a\n", options: options)
    #expect(
      fault(vector + "  vadd a, a, a\n  exp a, a\n  nop\n  rsum f1, a\n", options: options)?.location?.line
        == 5)
  }

  @Test func timingOnlyRunsPayForL2LinesAndInstructionsNotMACs() throws {
    var options = RunOptions()
    options.timingOnly = true
    // 32×32 f32 = 4 KiB = 64 lines of 64 B, 64 units each, plus 2048 per DMA instruction: two
    // loads, a dma.wait and an mma (6144) fit; the mma's MACs are free.
    #expect(WorkCost.instruction(.dma, timingOnly: true) == 2048)
    options.maxWork = 2 * (64 * 64 + 2048) + 2048 + 6144
    let program = ".tensor X f32 [32, 32] dram\n.tensor x f32 [32, 32] sram\n.tensor c f32 [32, 32] sram\n"
    let ok = try simulate(
      program + "  dma.load x, X\n  dma.load x, X\n  dma.wait\n  mma c, x, x\n", options: options)
    #expect(ok.compute.macs["single"] == 32 * 32 * 32)
    let f = try #require(
      fault(
        program + "  dma.load x, X\n  dma.load x, X\n  dma.load x, X\n  dma.load x, X\n", options: options))
    #expect(f.location?.line == 7)
    #expect(f.message.hasPrefix("the run exceeded its work budget of 20480 units"))
  }
}

/// Numeric work in chunks: the same values as element-by-element references, bounded memory.
@Suite struct ChunkingTests {
  static let big = teach { $0.sramBytesPerTile = 1 << 24 }

  @Test func chunkedVectorWorkMatchesElementReferences() throws {
    // 150,000 elements: three chunks and a part. x = i mod 7 − 3.
    let n = 150_000
    var options = RunOptions()
    options.maxNumericElements = 1 << 24
    let program = try Assembler.assemble(
      text: """
        .tensor X f32 [\(n)] dram
        .tensor x f32 [\(n)] sram
        .tensor y f32 [\(n)] sram
        .tensor Y f32 [\(n)] dram
        .tensor Z f32 [\(n)] dram
        .output Y, Z
          dma.load x, X
          dma.wait
          rsum f1, x
          vadd y, x, x
          vadd x[1:+\(n - 1)], x[0:+\(n - 1)], x[0:+\(n - 1)]
          dma.store Y, y
          dma.store Z, x
          dma.wait
        """, path: "t.isa")
    let machine = try Machine(program: program, device: Self.big, options: options)
    let storage = try machine.storage(0, tile: 0, location: program.tensors[0].location)
    for i in 0..<n { storage.main[i] = Float(i % 7 - 3); storage.shadow[i] = storage.main[i] }
    let r = try machine.run()
    let y = r.outputs[0].values
    let z = r.outputs[1].values
    #expect((0..<n).allSatisfy { y[$0] == Float(2 * ($0 % 7 - 3)) })
    // A partly overlapping output reads every input before writing (not chunk by chunk).
    #expect(z[0] == -3)
    #expect((1..<n).allSatisfy { z[$0] == Float(2 * (($0 - 1) % 7 - 3)) })
    // rsum folds in order across chunks: Σ (i mod 7 − 3).
    let expected = (0..<n).reduce(0.0) { $0 + Double($1 % 7 - 3) }
    #expect(machine.tiles[0].floatRegisters[1] == expected)
  }

  @Test func stochasticRoundingUsesTheGlobalElementIndexAcrossChunks() throws {
    let n = 70_000
    var options = RunOptions()
    options.maxNumericElements = 1 << 24
    let r = try simulate(
      ".tensor x f32 [\(n)] sram uniform(5, -1, 1)\n.tensor y fp8e4 [\(n)] sram\n.tensor Y fp8e4 [\(n)] dram\n.output Y\n  cast y, x, round=stochastic, seed=9\n  dma.store Y, y\n  dma.wait\n",
      device: Self.big, options: options)
    // The reference: the same per-instruction stream, element index i (tile 0, first stochastic instruction).
    let x = try simulate(
      ".tensor x f32 [\(n)] sram uniform(5, -1, 1)\n.tensor X f32 [\(n)] dram\n.output X\n  dma.store X, x\n  dma.wait\n",
      device: Self.big, options: options
    ).outputs[0].values
    let seed = RandomBits.at(seed: 9, index: 0 << 40 | 1)
    let format = FloatFormat.e4m3fn
    var mismatches = 0
    for i in 0..<n {
      let e = format.encode(
        Double(x[i]), rounding: .stochastic, overflow: .nonfinite,
        randomBits: RandomBits.at(seed: seed, index: UInt64(i)))
      if r.outputs[0].values[i] != Float(format.decode(e.code)) { mismatches += 1 }
    }
    #expect(mismatches == 0)
  }

  @Test func mmaTemporariesCountAgainstTheNumericCap() throws {
    var options = RunOptions()
    options.maxNumericElements = 3 * 2 * 4096 + 2 * 3 * 4096 - 1  // tensors + copies, less one
    let text =
      ".tensor a f32 [64, 64] sram\n.tensor b f32 [64, 64] sram\n.tensor c f32 [64, 64] sram\n  mma c, a, b\n"
    let f = try #require(fault(text, device: Self.big, options: options))
    #expect(f.location?.line == 4)
    #expect(f.message.hasPrefix("this mma needs 24576 temporary values besides the 24576 the tensors hold"))
    options.maxNumericElements += 1
    _ = try simulate(text, device: Self.big, options: options)
  }
}

/// Strided and column views pay for a line per element at the strided weight.
@Suite struct StridedWorkTests {
  @Test func columnTransfersPayStridedLines() throws {
    var options = RunOptions()
    options.timingOnly = true
    // A 64-row column of f32: 64 lines of their own, 256 units each, plus the DMA instruction.
    options.maxWork = 64 * WorkCost.l2StridedLine + WorkCost.instruction(.dma, timingOnly: true)
    let text = ".tensor D f32 [64, 64] dram\n.tensor s f32 [64, 1] sram\n  dma.load s, D[:, 3:+1]\n"
    _ = try simulate(text, options: options)
    options.maxWork -= 1
    #expect(fault(text, options: options)?.location?.line == 3)
    // A contiguous 64-row block of the same bytes (4 rows of 64 f32 = 16 lines of 64 B) costs less.
    #expect(WorkCost.l2StridedLine == 4 * WorkCost.l2Line)
  }
}

/// Program values changed by hand after assembly are refused with a fault, never trapped on.
@Suite struct ProgramValueTests {
  static let text = """
    .tensor T f32 [4] sram
    top:
      add r1, r1, 1
      blt r1, 3, top
    """

  func refused(_ change: (inout Program) -> Void) throws -> String? {
    var p = try Assembler.assemble(text: Self.text, path: "v.isa")
    change(&p)
    do {
      _ = try Machine(program: p, device: teach()).run()
      return nil
    } catch {
      return error.message
    }
  }

  @Test func unchangedProgramsRun() throws {
    #expect(try refused { _ in } == nil)
  }

  @Test func outOfRangeRegistersTensorsAndTargetsAreRefused() throws {
    let bad: [(String, (inout Program) -> Void)] = [
      (
        "r99",
        {
          $0.instructions[0] = Instruction(.move(dest: 99, source: 1), location: $0.instructions[0].location)
        }
      ),
      (
        "tensor #7",
        {
          $0.instructions[0] = Instruction(
            .vector(VectorOperation(.fill(1), destination: TensorView(tensor: 7, indices: []))),
            location: $0.instructions[0].location)
        }
      ),
      ("target", { $0.labels["top"] = 40 }),
      ("output", { $0.outputs = [3] }),
      ("shape", { $0.tensors[0].shape = [0] }),
    ]
    for (what, change) in bad {
      let message = try refused(change)
      #expect(
        message?.hasPrefix("the program value is not a valid program") == true, "\(what): \(message ?? "ran")"
      )
    }
  }
}

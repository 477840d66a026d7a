import FP8Formats
import FP8ISA
import Testing

@testable import FP8Sim

/// Exact cycles and bytes from the cost formulas (docs/cost-model.md) on small cases, on the
/// `teach` device: DMA setup 10, port 32 B/cycle, L2 link 64 B/cycle, L2 hit 20 cycles, DRAM
/// 16 B/cycle + 100 cycles, 64-B lines; tensor 64 FP8 MAC/cycle + 8; vector 16 elem/cycle + 4;
/// barrier 20 cycles.
@Suite struct TimingTests {
  @Test func dmaLoadThatMissesL2() throws {
    // 1024 B = 16 lines, all misses. Issued at 0: t0 = 10; port 10+32 = 42, link 10+16 = 26,
    // DRAM 10+1024/16 = 74; end = 74 + 20 + 100 = 194. dma.wait issues at 194 (→195), halt
    // at 195 (→196).
    let r = try simulate(
      """
      .tensor X f16 [512] dram
      .tensor x f16 [512] sram
        dma.load x, X
        dma.wait
        halt
      """)
    #expect(r.cycles == 196)
    #expect(r.traffic.dramToL2 == 1024 && r.traffic.l2ToSram == 1024)
    #expect(r.traffic.l2Misses == 16 && r.traffic.l2Hits == 0)
    let dma = r.units[.dma]!
    #expect(dma.busy == 32 && dma.bandwidth == 32)  // port busy 32; DRAM finished 32 cycles later
    #expect(r.units[.scalar]!.dependency == 193)  // dma.wait from 1 to 194
  }

  @Test func dmaLoadThatHitsL2() throws {
    // The second load hits: issued at 195, t0 = 205, port 237, link 221; end = 237 + 20 = 257.
    let r = try simulate(
      """
      .tensor X f16 [512] dram
      .tensor x f16 [512] sram
        dma.load x, X
        dma.wait
        dma.load x, X
        dma.wait
      """)
    #expect(r.cycles == 258)
    #expect(r.traffic.l2Hits == 16 && r.traffic.l2Misses == 16)
    #expect(r.traffic.l2ToSram == 2048 && r.traffic.dramToL2 == 1024)
  }

  @Test(arguments: [1, 2, 4])
  func tilesContendForTheDRAMLink(tiles: Int) throws {
    // Each tile loads its own 1024 B: the DRAM link serves them one after another, 64 cycles
    // each, so tile i's transfer ends at 10 + 64·(i+1) + 120.
    let r = try simulate(
      """
      .tensor X f16 [4, 512] dram
      .tensor x f16 [512] sram
        dma.load x, X[tid, :]
        dma.wait
      """, device: teach(tiles: tiles))
    #expect(r.cycles == Int64(10 + 64 * tiles + 120 + 1))
    #expect(r.traffic.dramToL2 == 1024 * tiles)
    var expected: Int64 = 0
    for i in 0..<tiles { expected += Int64(64 * (i + 1) - 32) }
    #expect(r.units[.dma]!.bandwidth == expected)
  }

  @Test func storesAllocateDirtyLinesAndFlushAtTheEnd() throws {
    // A 1024-B store: SRAM→L2 1024 B, no DRAM traffic until the run ends (16 dirty lines).
    let r = try simulate(
      """
      .tensor Y f16 [512] dram
      .tensor y f16 [512] sram
        dma.store Y, y
        dma.wait
      """)
    // t0 = 10; port 42, link 26; end = 42 + 20 = 62; dma.wait issues at 62 → 63.
    #expect(r.cycles == 63)
    #expect(r.traffic.sramToL2 == 1024 && r.traffic.l2ToDram == 1024 && r.traffic.finalWriteback == 1024)
  }

  @Test func withoutL2EveryAccessGoesToDRAM() throws {
    let device = teach { $0.l2Bytes = 0 }
    let r = try simulate(
      """
      .tensor X f16 [512] dram
      .tensor x f16 [512] sram
        dma.load x, X
        dma.wait
        dma.load x, X
        dma.wait
        dma.store X, x
        dma.wait
      """, device: device)
    #expect(r.traffic.dramToL2 == 2048 && r.traffic.l2Hits == 0 && r.traffic.l2Misses == 32)
    #expect(r.traffic.l2ToDram == 1024 && r.traffic.finalWriteback == 0)
  }

  @Test(arguments: [(16, 16, 32), (4, 8, 64), (1, 1, 1), (64, 64, 64)])
  func mmaCostsMacsOverRatePlusLatency(m: Int, n: Int, k: Int) throws {
    // Occupancy ceil(m·n·k / 64), visible after +8. The scalar core issues mma at 0 (→1) and
    // halts at 1 (→2); the run ends when the tensor unit is done.
    let r = try simulate(
      """
      .tensor a fp8e4 [\(m), \(k)] sram
      .tensor b fp8e4 [\(k), \(n)] sram
      .tensor c f32 [\(m), \(n)] sram
        mma c, a, b
        halt
      """)
    let busy = (m * n * k + 63) / 64
    #expect(r.units[.tensor]!.busy == Int64(busy))
    #expect(r.cycles == max(2, Int64(busy + 8)))
    #expect(r.compute.macs["fp8"] == m * n * k)
  }

  @Test func mmaPadsToTheNativeShape() throws {
    // H100-like padding: M to 64, N to 8, K to 32 bytes. 16×8×16 FP8 → 64×8×32 = 16384 MACs.
    let device = teach {
      $0.tensorTileM = 64; $0.tensorTileN = 8; $0.tensorTileKBytes = 32
    }
    let r = try simulate(
      """
      .tensor a fp8e4 [16, 16] sram
      .tensor b fp8e4 [16, 8] sram
      .tensor c f32 [16, 8] sram
      .tensor ah f16 [16, 16] sram
      .tensor bh f16 [16, 8] sram
        mma c, a, b
        mma c, ah, bh
      """, device: device)
    #expect(r.compute.paddedMacs["fp8"] == 64 * 8 * 32)
    #expect(r.compute.paddedMacs["half"] == 64 * 8 * 16)  // f16: K padded to 16 elements
    let busy: Int64 = 64 * 8 * 32 / 64 + 64 * 8 * 16 / 32
    #expect(r.units[.tensor]!.busy == busy)
  }

  @Test func chainedMmasOnOneAccumulatorDoNotPayLatency() throws {
    // Four 16×16×16 mmas into one accumulator: 64 cycles each back to back, + 8 at the end.
    let r = try simulate(
      """
      .tensor a fp8e4 [16, 16] sram
      .tensor b fp8e4 [16, 16] sram
      .tensor c f32 [16, 16] sram
        mma c, a, b
        mma c, a, b
        mma c, a, b
        mma c, a, b
      """)
    #expect(r.cycles == 4 * 64 + 8)
    #expect(r.units[.tensor]!.dependency == 0)
  }

  @Test func otherUnitsWaitForTheTensorLatency() throws {
    // The vector cast of c waits until the mma's result is visible: 64 + 8 = 72; it then takes
    // 256/16 = 16 cycles and + 4 latency.
    let r = try simulate(
      """
      .tensor a fp8e4 [16, 16] sram
      .tensor b fp8e4 [16, 16] sram
      .tensor c f32 [16, 16] sram
      .tensor h f16 [16, 16] sram
        mma c, a, b
        cast h, c
      """)
    #expect(r.cycles == 72 + 16 + 4)
    #expect(r.units[.vector]!.dependency == 72 - 1)
  }

  @Test func vectorCostsPerElement() throws {
    // 256 elements: add 16 cycles, gelu 16·4 = 64, softmax 16·(2+4) = 96, layernorm 16·4 = 64,
    // amax 16. All on the vector unit, back to back (independent), + 4 at the end.
    let r = try simulate(
      """
      .tensor x f32 [16, 16] sram
      .tensor y f32 [16, 16] sram
        vadd y, x, x
        gelu y, x
        softmax y, x
        layernorm y, x
        amax f1, x
      """)
    let busy: Int64 = 16 + 64 + 96 + 64 + 16
    #expect(r.units[.vector]!.busy == busy)
    #expect(r.cycles == busy + 4)
    #expect(r.compute.vectorElementOps == 256 * (1 + 4 + 6 + 4 + 1))
  }

  @Test func barrierReleasesAllTilesAfterTheLastArrival() throws {
    // Tile t spins 10·t iterations of 2 instructions, then all meet: the last tile (3) arrives at
    // 1 + 60 + ... ; everyone leaves 20 cycles later.
    let r = try simulate(
      """
        mul r1, tid, 10
      spin:
        sub r1, r1, 1
        bge r1, 0, spin
        barrier
        halt
      """, device: teach(tiles: 4))
    // Tile 3: mul (1) + 31 iterations × 2 = 63 cycles → arrives at 63; release at 83; the
    // barrier's issue cycle → 84; halt → 85.
    #expect(r.cycles == 85)
    let sync: Int64 = (83 - 63) + (83 - 43) + (83 - 23) + (83 - 3)
    #expect(r.units[.scalar]!.sync == sync)
  }

  @Test func allReduceCostsATreeOfHops() throws {
    // 4 tiles: 2·ceil(log2 4) = 4 hops of (5 + ceil(4/4)) = 24 cycles after the last arrival.
    // Tile 2 arrives last, at 3 (fmov, bne, fmov); release 27, issue → 28; then 28 + 24 = 52,
    // issue → 53.
    let r = try simulate(
      """
        fmov f1, 1.0
        bne tid, 2, go
        fmov f1, 5.0
      go:
        allreduce.max f2, f1
        allreduce.sum f3, f1
      """, device: teach(tiles: 4))
    #expect(r.cycles == 53)
    #expect(r.traffic.exchange == 2 * 2 * 3 * 4)
  }

  @Test func dmaInFlightLimitStallsTheScalarCore() throws {
    let device = teach { $0.dmaMaxInFlight = 1 }
    let r = try simulate(
      """
      .tensor X f16 [512] dram
      .tensor x f16 [512] sram
      .tensor y f16 [512] sram
        dma.load x, X
        dma.load y, X
      """, device: device)
    // The second load cannot issue before the first ends at 194.
    #expect(r.units[.scalar]!.queue == 193)
  }

  /// `fence` stalls the scalar core until the unit's work is visible. The mma issues at 0
  /// (16·16·32 / 64 = 128 cycles + latency 8: visible at 136), the vfill at 1 (256 / 16 = 16
  /// cycles + latency 4: visible at 21); the fence issues at 2.
  @Test(arguments: [("unit=vector", 19), ("unit=tensor", 134), ("unit=all", 134), ("", 134)])
  func fenceWaitsForItsUnits(option: String, stall: Int64) throws {
    let r = try simulate(
      """
      .tensor a fp8e4 [16, 32] sram
      .tensor b fp8e4 [32, 16] sram
      .tensor c f32 [16, 16] sram
      .tensor v f32 [256] sram
        mma c, a, b
        vfill v, 1.0
        fence \(option)
        halt
      """)
    #expect(r.units[.scalar]?.dependency == stall)
    #expect(r.units[.scalar]?.instructions == 2)  // fence and halt
  }

  /// `dma.wait rN` waits like `dma.wait N`; a negative count faults at its line.
  @Test func dmaWaitTakesARegister() throws {
    let program = { (n: String) in
      """
      .tensor X f16 [512] dram
      .tensor x f16 [512] sram
      .tensor y f16 [512] sram
        mov r1, \(n)
        dma.load x, X
        dma.load y, X
        dma.wait r1
        halt
      """
    }
    let constant = try simulate(program("1").replacingOccurrences(of: "dma.wait r1", with: "dma.wait 1"))
    let register = try simulate(program("1"))
    #expect(register.cycles == constant.cycles)
    #expect(register.units[.scalar]?.dependency == constant.units[.scalar]?.dependency)
    #expect((register.units[.scalar]?.dependency ?? 0) > 0)
    let f = fault(program("-1"))
    #expect(f?.message == "dma.wait count -1 is negative")
    #expect(f?.location?.line == 7)
  }

  /// Tiles start issuing `kernel.launchCycles` after the run starts: the miss of
  /// `dmaLoadThatMissesL2` ends 1000 cycles later, with the same stalls.
  @Test func kernelLaunchDelaysEveryTile() throws {
    let program = """
      .tensor X f16 [512] dram
      .tensor x f16 [512] sram
        dma.load x, X
        dma.wait
        halt
      """
    let r = try simulate(program, device: teach { $0.kernelLaunchCycles = 1000 })
    #expect(r.cycles == 1196)
    #expect(r.units[.scalar]?.dependency == 193)
    #expect(try simulate(program).cycles == 196)
  }

  /// `call` and `ret`: a subroutine called twice runs twice, each an issue cycle; a `ret` with no
  /// call and calls nested past the limit fault at their line.
  @Test func callAndReturn() throws {
    let r = try simulate(
      """
      .tensor out f32 [2] dram
      .tensor s f32 [2] sram
      .output out
        call bump
        call bump
        vfill s, f1
        dma.store out, s
        dma.wait
        halt
      bump:
        fadd f1, f1, 1.5
        ret
      """)
    #expect(output(r, "out")?.values == [3, 3])
    #expect(r.instructions == 2 + 2 * 2 + 4)
    #expect(fault("  ret\n")?.message == "ret without a call in progress")
    let deep = fault("top:\n  call top\n")
    #expect(deep?.message == "call nested more than 64 deep (a recursion without end?)")
    #expect(deep?.location?.line == 2)
  }
}

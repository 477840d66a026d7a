import FP8Formats
import FP8ISA
import Testing

@testable import FP8Sim

/// The shared links as calendars with fractional time (docs/cost-model.md, "Links").
@Suite struct LinkTests {
  /// N back-to-back transfers of B bytes take N·B / bandwidth, with no rounding per transfer.
  @Test func backToBackTransfersAddUpExactly() throws {
    var link = Link(bytesPerCycle: 16)
    var ends: [Double] = []
    for _ in 0..<4 { ends.append(try link.reserve(at: 0, bytes: 24)) }
    #expect(ends == [1.5, 3, 4.5, 6])
    #expect(link.busy.count == 1 && link.busy[0] == (0, 6))
  }

  /// A transfer reserved later but ready earlier uses the link's free time before the earlier
  /// reservation, instead of queueing behind it.
  @Test func laterReservationReadyEarlierIsNotDelayed() throws {
    var link = Link(bytesPerCycle: 16)
    #expect(try link.reserve(at: 1000, bytes: 1600) == 1100)
    #expect(try link.reserve(at: 0, bytes: 160) == 10)
    // 5 cycles fit before 1000 (80 B); the other 80 B follow the reservation at 1100.
    #expect(try link.reserve(at: 995, bytes: 160) == 1105)
    #expect(link.busy.map { [$0.start, $0.end] } == [[0, 10], [995, 1105]])
    // A gap between two reservations is filled piece by piece.
    #expect(try link.reserve(at: 5, bytes: 16 * 990) == 1105 + 5)
    #expect(link.busy.map { [$0.start, $0.end] } == [[0, 1110]])
  }

  /// Against a reference that keeps the link as slots of one byte (a quarter cycle at 4 B/cycle)
  /// and gives each transfer the first free slots from its ready time: seeded reservations in
  /// any order of ready time.
  @Test(arguments: [1, 2, 3])
  func matchesASlotReference(seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    var link = Link(bytesPerCycle: 4)
    var slots = [Bool](repeating: false, count: 700_000)  // 2000 · 300 B + 40,000 at most
    for _ in 0..<2000 {
      let ready = Int(rng.next() % 40_000)  // in slots (quarter cycles)
      let bytes = 1 + Int(rng.next() % 300)
      var left = bytes
      var slot = ready
      while left > 0 {
        if !slots[slot] {
          slots[slot] = true
          left -= 1
        }
        slot += 1
      }
      let end = try link.reserve(at: Double(ready) / 4, bytes: bytes)
      #expect(end == Double(slot) / 4, "ready \(ready), \(bytes) B")
    }
    // The calendar is the reference's busy slots, merged.
    var runs: [[Double]] = []
    for (i, busy) in slots.enumerated() where busy {
      if let last = runs.last, last[1] == Double(i) / 4 {
        runs[runs.count - 1][1] = Double(i + 1) / 4
      } else {
        runs.append([Double(i) / 4, Double(i + 1) / 4])
      }
    }
    #expect(link.busy.map { [$0.start, $0.end] } == runs)
  }

  @Test func forgettingHistoryKeepsTheFuture() throws {
    var link = Link(bytesPerCycle: 1)
    _ = try link.reserve(at: 0, bytes: 10)
    _ = try link.reserve(at: 20, bytes: 10)
    _ = try link.reserve(at: 40, bytes: 10)
    link.forget(before: 25)
    #expect(link.busy.map { [$0.start, $0.end] } == [[20, 30], [40, 50]])
    #expect(try link.reserve(at: 25, bytes: 10) == 40)
  }

  /// On a machine: tile 0's store must wait for a long vector instruction, and is reserved on
  /// the shared L2 link first; tile 1's load, issued later in the run but ready at once, is not
  /// held up by it. teach: DMA setup 10, port 32 B/cycle, L2 link 64 B/cycle, L2 hit 20, DRAM
  /// 16 B/cycle + 100.
  @Test func aReadyTransferDoesNotWaitForOneThatIsNot() throws {
    let program = """
      .tensor S f32 [8192] dram
      .tensor s f32 [8192] sram
      .tensor X f32 [256] dram
      .tensor x f32 [256] sram
        beq tid, 1, loader
        exp s, s
        dma.store S, s
        halt
      loader:
        nop
        nop
        nop
        dma.load x, X
        dma.wait
        halt
      """
    let r = try simulate(program, device: teach(tiles: 2), options: traced())
    let loads = events(r, "dma.load")
    try #require(loads.count == 1)
    // The load issues at 4 on tile 1 (beq, three nops): t0 = 14; 1 KiB: port 32, link 16, DRAM
    // 64 cycles; it ends at 14 + 64 + 20 + 100 = 198, whatever tile 0's store (reserved first,
    // ready after the exp) does.
    #expect(loads[0].end == 198)
    let stores = events(r, "dma.store")
    try #require(stores.count == 1)
    #expect(stores[0].start > 1000)
  }

  /// A load that hits a line another tile's miss is still filling waits for the fill: four
  /// tiles load the same 1 KiB at 1 (after a mov); tile 0 misses (t0 = 11; link 16, DRAM 64
  /// cycles → 75 + 100 + 20 = 195) and the three hits end with it, not 20 cycles after their
  /// own link time.
  @Test func aHitOnALineInFlightWaitsForTheFill() throws {
    let program = """
      .tensor X f32 [256] dram
      .tensor x f32 [256] sram
        mov r1, tid
        dma.load x, X
        dma.wait
      """
    let r = try simulate(program, device: teach(tiles: 4), options: traced())
    let ends = events(r, "dma.load").map(\.end)
    #expect(ends == [195, 195, 195, 195])
    #expect(r.traffic.dramToL2 == 1024)
  }

  /// A miss issued first but ready later (tile 0's load waits for its destination to be
  /// written from a long exp) does not hold back a load of the same lines that is ready at once
  /// (tile 1, issued at 4, t0 = 14): it waits at most a DRAM latency, 14 + 100 + 20 = 134, as if
  /// it had missed.
  @Test func aLineAllocatedByALaterTransferWaitsAtMostADRAMLatency() throws {
    let program = """
      .tensor X f32 [256] dram
      .tensor x f32 [256] sram
      .tensor s f32 [8192] sram
        beq tid, 1, loader
        exp s, s
        rsum f1, s
        vfill x, f1
        dma.load x, X
        dma.wait
        halt
      loader:
        nop
        nop
        nop
        dma.load x, X
        dma.wait
      """
    let r = try simulate(program, device: teach(tiles: 2), options: traced())
    let loads = events(r, "dma.load")
    try #require(loads.count == 2)
    let early = try #require(loads.first { $0.tile == 1 })
    let late = try #require(loads.first { $0.tile == 0 })
    #expect(late.start > 100)
    #expect(early.end == 134)
  }

  /// With two L2 partitions, a tile pays the far latency for a line of the other partition:
  /// two tiles load the same single line (X, line 0, partition 0). Tile 0 (near partition 0)
  /// misses: t0 = 10; link 1, port 2, DRAM 4 cycles → 14 + 100 + 20 = 134. Tile 1 (near
  /// partition 1) hits the line tile 0 is filling: its data is in L2 at 114, + 50 far = 164.
  @Test func aLineInTheOtherPartitionPaysTheFarLatency() throws {
    let program = """
      .tensor X f32 [16] dram
      .tensor x f32 [16] sram
        dma.load x, X
        dma.wait
      """
    let device = teach(tiles: 2) {
      $0.l2Partitions = 2
      $0.l2FarHitLatency = 50
    }
    let r = try simulate(program, device: device, options: traced())
    let ends = events(r, "dma.load").sorted {
      $0.tile < $1.tile
    }
    .map(\.end)
    #expect(ends == [134, 164])
    // One partition: both near.
    let uniform = try simulate(
      program, device: teach(tiles: 2) { $0.l2FarHitLatency = 50 }, options: traced())
    #expect(
      events(uniform, "dma.load").map(\.end) == [
        134, 134,
      ])
  }

}

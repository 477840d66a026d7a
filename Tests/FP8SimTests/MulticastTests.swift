import FP8ISA
import Testing

@testable import FP8Sim

/// `dma.load … mcast=G`: a group of tiles shares one read of L2. teach: DMA setup 10, port
/// 32 B/cycle, L2 link 64 B/cycle, 64-B lines, L2 hit 20, DRAM 16 B/cycle + 100.
@Suite struct MulticastTests {
  /// Every tile loads the same 1 KiB view, then stores it to its own row of Y.
  func program(mcast: Int, view: String = "X") -> String {
    """
    .tensor X f32 [256] dram randn(1, 0.0, 1.0)
    .tensor Y f32 [4, 256] dram
    .tensor x f32 [256] sram
    .output X
    .output Y
      mov r1, tid
      dma.load x, \(view), mcast=\(mcast)
      dma.wait
      dma.store Y[r1, :], x
    """
  }

  func loadEnds(_ r: RunResult) -> [Int64] {
    events(r, "dma.load").sorted { $0.tile < $1.tile }.map(
      \.end)
  }

  /// One read for the group: 1 KiB through L2 and the link, 3 KiB delivered by multicast.
  @Test func aMulticastLoadReadsL2Once() throws {
    let r = try simulate(program(mcast: 4), device: teach(tiles: 4), options: traced())
    #expect(r.traffic.l2ToSram == 1024)
    #expect(r.traffic.multicast == 3072)
    #expect(r.traffic.dramToL2 == 1024)
    #expect(r.traffic.l2Hits + r.traffic.l2Misses == 16 + 4 * 16)  // one read of 16 lines, four stores
    // Issued at 1 (after the mov). Tile 0 reads: t0 = 11; port 32, link 16, DRAM 64 cycles →
    // 75 + 20 + 100 = 195. The others write their SRAM by 11 + 32 = 43 and wait for that read.
    #expect(loadEnds(r) == [195, 195, 195, 195])
    // Every tile got X's values.
    let x = try #require(output(r, "X")).values
    let y = try #require(output(r, "Y")).values
    #expect(y == x + x + x + x)
  }

  /// Without mcast every tile reads L2 itself: 4 KiB through L2.
  @Test func withoutMulticastEveryTileReadsL2() throws {
    let r = try simulate(program(mcast: 1), device: teach(tiles: 4))
    #expect(r.traffic.l2ToSram == 4096)
    #expect(r.traffic.multicast == 0)
    #expect(r.traffic.dramToL2 == 1024)
  }

  /// Groups are tid ÷ G: mcast=2 on four tiles makes two reads.
  @Test func groupsAreConsecutiveTiles() throws {
    let r = try simulate(program(mcast: 2), device: teach(tiles: 4))
    #expect(r.traffic.l2ToSram == 2048)
    #expect(r.traffic.multicast == 2048)
  }

  /// Different views are never shared: tile t loads its own quarter.
  @Test func differentViewsAreReadSeparately() throws {
    let text = """
      .tensor X f32 [1024] dram
      .tensor x f32 [256] sram
        mov r1, tid
        mul r1, r1, 256
        dma.load x, X[r1:+256], mcast=4
        dma.wait
      """
    let r = try simulate(text, device: teach(tiles: 4))
    #expect(r.traffic.l2ToSram == 4096)
    #expect(r.traffic.multicast == 0)
  }

  /// A tile receives each read once: loading the same view twice on two tiles makes two reads,
  /// each received by the other tile.
  @Test func eachReadIsReceivedOncePerTile() throws {
    let text = """
      .tensor X f32 [256] dram
      .tensor x f32 [2, 256] sram
        dma.load x[0, :], X, mcast=2
        dma.load x[1, :], X, mcast=2
        dma.wait
      """
    let r = try simulate(text, device: teach(tiles: 2))
    #expect(r.traffic.l2ToSram == 2048)
    #expect(r.traffic.multicast == 2048)
  }

  /// A group larger than the device's clusters faults at the line; a device without multicast
  /// (ipu-like, multicastTiles 1) accepts only mcast=1.
  @Test func aGroupLargerThanTheDeviceAllowsFaults() throws {
    let f = try #require(fault(program(mcast: 8), device: teach(tiles: 8)))
    #expect(f.location?.line == 7)
    #expect(
      f.message.contains("mcast=8 is larger than device 'teach''s multicast groups (dma.multicastTiles = 4)"))
    let none = teach(tiles: 4) { $0.dmaMulticastTiles = 1 }
    #expect(fault(program(mcast: 2), device: none) != nil)
    #expect(fault(program(mcast: 1), device: none) == nil)
  }

  /// The last group may be smaller (tiles 4 and 5 of 6 with mcast=4), and a group of one reads
  /// L2 itself.
  @Test func aPartialLastGroupShares() throws {
    let r = try simulate(
      program(mcast: 4).replacingOccurrences(of: "[4, 256]", with: "[6, 256]"), device: teach(tiles: 6))
    #expect(r.traffic.l2ToSram == 2048)
    #expect(r.traffic.multicast == 4096)
    let alone = try simulate(
      program(mcast: 4).replacingOccurrences(of: "[4, 256]", with: "[5, 256]"), device: teach(tiles: 5))
    #expect(alone.traffic.l2ToSram == 2048)
    #expect(alone.traffic.multicast == 3072)
  }
}

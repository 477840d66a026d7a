import FP8Formats
import FP8ISA

/// A device: N tiles (each with SRAM, a DMA engine, a vector unit and a tensor unit), a shared L2
/// cache and DRAM. Every number the cost model uses is a field here; `DeviceConfig.fields`
/// documents each one, gives its default and its valid range, and drives JSON loading,
/// `fp8sim devices --dump` and `docs/devices.md`.
public struct DeviceConfig: Sendable, Equatable {
  public var name = "custom"
  public var summary = ""
  public var clockGHz = 1.0
  public var tiles = 4
  public var formatE4 = "e4m3fn"
  public var formatE5 = "e5m2"

  public var sramBytesPerTile = 65_536

  public var l2Bytes = 262_144
  public var l2LineBytes = 64
  public var l2Ways = 8
  public var l2HitLatency = 20
  /// L2 partitions: a tile is near one of them (tiles split evenly in order); lines alternate
  /// between them. 1: a uniform L2.
  public var l2Partitions = 1
  /// Latency of a transfer that touches a line in a partition other than its tile's.
  public var l2FarHitLatency = 20

  /// The hit latency a device's GEMM planner assumes: the far one when the L2 is partitioned
  /// (a transfer of consecutive lines touches every partition).
  public var l2TypicalHitLatency: Int { l2Partitions > 1 ? max(l2HitLatency, l2FarHitLatency) : l2HitLatency }
  public var l2BytesPerCycle = 64.0

  public var dramLatency = 100
  public var dramBytesPerCycle = 16.0

  public var dmaBytesPerCycle = 32.0
  public var dmaSetupCycles = 10
  public var dmaMaxInFlight = 8
  /// Largest multicast group (`dma.load … mcast=G`); 1: no multicast.
  public var dmaMulticastTiles = 1

  public var tensorMacsPerCycleFP8 = 64.0
  public var tensorMacsPerCycleHalf = 32.0
  public var tensorMacsPerCycleSingle = 8.0
  /// FP6 inputs and unscaled FP4 ones (`kind::f8f6f4`), then block-scaled FP4 inputs (MXFP4,
  /// NVFP4); 0: the tensor unit has no such path.
  public var tensorMacsPerCycleFP6 = 64.0
  public var tensorMacsPerCycleFP4 = 128.0
  public var tensorLatency = 8
  public var tensorTileM = 1
  public var tensorTileN = 1
  public var tensorTileKBytes = 1
  /// Accumulator storage per tile (`acc` tensors), bytes; 0: none.
  public var tensorAccumulatorBytesPerTile = 0

  public var vectorElementsPerCycle = 16.0
  public var vectorLatency = 4
  public var vectorTranscendentalCost = 4.0

  public var unitQueueDepth = 4

  public var barrierCycles = 20
  /// Cycles from the start of a run until the tiles begin to issue (kernel launch).
  public var kernelLaunchCycles = 0
  public var exchangeHopCycles = 5
  public var exchangeBytesPerCycle = 4.0

  public var energyMacFP8 = 0.6
  public var energyMacHalf = 1.5
  public var energyMacSingle = 4.6
  public var energyVectorOp = 1.0
  public var energySramByte = 1.25
  public var energyL2Byte = 12.5
  public var energyDramByte = 160.0
  public var energyExchangeByte = 5.0

  public init() {}

  /// The native E4 and E5 formats that `fp8e4` / `fp8e5` stand for.
  public var e4: FloatFormat { FloatFormat.named(formatE4) ?? .e4m3fn }
  public var e5: FloatFormat { FloatFormat.named(formatE5) ?? .e5m2 }

  /// Number of L2 sets (0 when there is no L2).
  public var l2Sets: Int { l2Bytes == 0 ? 0 : l2Bytes / (l2LineBytes * l2Ways) }

  public func macsPerCycle(_ c: MMAInputClass) -> Double {
    switch c {
    case .fp8: return tensorMacsPerCycleFP8
    case .half: return tensorMacsPerCycleHalf
    case .single: return tensorMacsPerCycleSingle
    case .fp6: return tensorMacsPerCycleFP6
    case .fp4: return tensorMacsPerCycleFP4
    }
  }

  /// The shape the tensor unit works on for an m×n×k `mma` with `inputBits`-bit inputs: M and
  /// N rounded up to `tensor.tileM` and `tensor.tileN`, K to a multiple of
  /// `8 · tensor.tileKBytes / inputBits` elements (FP4 inputs are packed two to a byte, as
  /// Blackwell's `kind::mxf4` takes K = 64 where FP8 takes 32; FP6 ones sit in bytes, `inputBits`
  /// 8, as in `kind::mxf8f6f4`). The `mma` executor and the GEMM planner both
  /// price an `mma` by it.
  public func paddedMMAShape(m: Int, n: Int, k: Int, inputBits: Int) -> (m: Int, n: Int, k: Int) {
    func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }
    let kGranule = max(1, 8 * tensorTileKBytes / max(inputBits, 1))
    return (roundUp(m, tensorTileM), roundUp(n, tensorTileN), roundUp(k, kGranule))
  }

  public func energyPerMac(_ c: MMAInputClass) -> Double {
    switch c {
    case .fp8: return energyMacFP8
    case .half: return energyMacHalf
    case .single: return energyMacSingle
    case .fp6, .fp4: return energyMacFP8  // no separate figure: FP8's
    }
  }

  /// Peak dense FP8 throughput, TFLOP/s (2 flops per MAC).
  public var peakFP8TFLOPS: Double { 2 * tensorMacsPerCycleFP8 * Double(tiles) * clockGHz / 1000 }
  /// DRAM bandwidth in GB/s.
  public var dramGBps: Double { dramBytesPerCycle * clockGHz }
}

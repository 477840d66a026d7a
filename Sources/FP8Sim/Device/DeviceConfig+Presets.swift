/// The built-in devices. Each number cites the row of `docs/hardware-numbers.md`
/// (and through it the primary source) it comes from; `docs/devices.md` repeats the table.
/// Tags: [C] calibrated (fitted with `fp8sim validate`), [P] primary, [S] secondary, [D] derived,
/// [U] unconfirmed placeholder.
extension DeviceConfig {
  public static let presets: [DeviceConfig] = [teach, h100, ipu, b200]

  public static func preset(named name: String) -> DeviceConfig? {
    presets.first { $0.name == name }
  }

  /// A handful of small tiles with round numbers, so that tiny examples show every effect and
  /// every cost can be worked out by hand.
  public static let teach: DeviceConfig = {
    var d = DeviceConfig()
    d.name = "teach"
    d.summary = "Teaching device: 4 tiles, 64 KiB SRAM, 256 KiB L2, round numbers."
    d.tensorAccumulatorBytesPerTile = 65_536
    d.dmaMulticastTiles = 4
    return d
  }()

  /// NVIDIA H100 SXM5, one tile per SM.
  public static let h100: DeviceConfig = {
    var d = DeviceConfig()
    d.name = "h100"
    d.summary = "NVIDIA H100 SXM5 (132 SMs as tiles, 228 KiB SMEM, 50 MiB L2, HBM3); see docs/devices.md."
    d.clockGHz = 1.41  // [C] fitted on the AZURE-H100 GEMMs (docs/validation.md): the sustained clock at 700 W
    d.tiles = 132  // [P] SMs enabled, SXM5 (§A1, NV-BLOG T3)
    d.formatE4 = "e4m3fn"  // [P] OCP E4M3 / E5M2 (§A7)
    d.formatE5 = "e5m2"
    d.sramBytesPerTile = 233_472  // [P] 228 KiB shared memory per SM (§A1)
    d.l2Bytes = 52_428_800  // [P] 50 MB L2 (§A1), as 50 MiB
    d.l2LineBytes = 128  // [P] 128-B L2 line (4 × 32-B sectors)
    d.l2Ways = 16  // [U] associativity not published
    d.l2HitLatency = 263  // [S] L2 hit, near partition, 263 cycles (§A3, LUO24 Table IV)
    d.l2Partitions = 2  // [S] two L2 partitions of 25 MiB (mt4g "segment size"; validation/sources.md §2)
    d.l2FarHitLatency = 465  // [S] far partition 414–515 cycles (LUO25, HPMLL, RRZE; validation/sources.md §2): the middle
    d.l2BytesPerCycle = 3942.4  // [S] L2 load 3,942.4 B/clk whole GPU (§A4, LUO24 Table V)
    d.dramLatency = 350  // [P] DRAM ≈ 594–657 cycles total (§A3, HPMLL) minus the 263-cycle L2 hit
    d.dramBytesPerCycle = 2078.0  // [D] 2.93 TB/s measured (BabelStream copy 2.90, triad 2.97; validation/sources.md §1) / 1.41 GHz
    d.dmaBytesPerCycle = 128  // [P] ≈128 B/clk/SM L1 bandwidth (§A4, RRZE)
    d.dmaSetupCycles = 105  // [P] TMA load ≈ +105 cycles over a plain load (§A3, HPMLL)
    d.dmaMaxInFlight = 16  // [U]
    d.dmaMulticastTiles = 16  // [P] TMA multicast within a thread-block cluster of up to 16 CTAs (non-portable size; 8 portable)
    d.tensorMacsPerCycleFP8 = 4096  // [D] 1,978.9 TFLOP/s / (132 × 1.83 GHz × 2) (§A2): per SM and cycle
    d.tensorMacsPerCycleHalf = 2048  // [D] 989.4 TFLOP/s (§A2)
    d.tensorMacsPerCycleSingle = 1024  // [D] TF32 494.7 TFLOP/s (§A2)
    d.tensorMacsPerCycleFP6 = 0  // [P] Hopper's tensor cores have no FP6 or FP4 inputs (PTX: kind::f8f6f4 is sm_100)
    d.tensorMacsPerCycleFP4 = 0
    d.tensorLatency = 24  // [S] mma.sync latency 24 cycles (§A5, LUO24 Table VII)
    d.tensorTileM = 64  // [S] wgmma m64nNk32 (§A5): M in steps of 64
    d.tensorTileN = 8  // [S] N a multiple of 8
    d.tensorTileKBytes = 32  // [S] k32 for FP8, k16 for f16 (32 bytes of K)
    d.tensorAccumulatorBytesPerTile = 262_144  // [P] 256 KB register file per SM (§A1, NV-BLOG T1/T3)
    d.vectorElementsPerCycle = 128  // [P] 128 FP32 lanes per SM (§A1)
    d.vectorLatency = 4  // [U] dependent ALU latency 4 (§A3, model assumption)
    d.vectorTranscendentalCost = 8  // [U] 16 SFU ops/clk/SM vs 128 FP32 lanes
    d.unitQueueDepth = 4  // [U]
    d.barrierCycles = 1720  // [D] grid.sync() with ≈1 CTA per SM ≈ 1.22 µs on H200, the same die (validation/sources.md §3, RRZE) × 1.41 GHz
    d.kernelLaunchCycles = 1833  // [S] ≈1.3 µs per kernel back to back in a CUDA graph (validation/sources.md §4) × 1.41 GHz
    d.exchangeHopCycles = 180  // [S] SM-to-SM (DSM) latency 180 cycles (§A3, LUO24)
    d.exchangeBytesPerCycle = 32  // [U]
    d.setComponentEnergyEstimates()
    return d
  }()

  /// Graphcore Bow IPU with the C600's FP8 rates, one tile per IPU tile.
  public static let ipu: DeviceConfig = {
    var d = DeviceConfig()
    d.name = "ipu"
    d.summary =
      "Graphcore IPU (Bow clock, C600 FP8 rates): 1,472 tiles × 624 KiB SRAM, no L2, streaming DRAM; see docs/devices.md."
    d.clockGHz = 1.85  // [P] Bow IPU 1.85 GHz (§C1, GC-BOW)
    d.tiles = 1472  // [P] 1,472 tiles (§C1)
    d.formatE4 = "e4m3fnuz"  // [P] float8_143 / float8_152, the paper's formats (§C4)
    d.formatE5 = "e5m2fnuz"
    d.sramBytesPerTile = 638_976  // [P] 624.0 kB per tile as Poplar reports it (§C1, UCL-PI)
    d.l2Bytes = 0  // [P] no cache between tiles and streaming memory
    d.l2LineBytes = 64  // [U] transfer granularity to streaming memory
    d.l2Ways = 1
    d.l2HitLatency = 0
    d.l2FarHitLatency = 0
    d.l2BytesPerCycle = 5888  // [D] exchange: 4 B/tile/cycle × 1,472 tiles (§C2)
    d.dramLatency = 3000  // [U] streaming-memory latency not published (gap §C3)
    d.dramBytesPerCycle = 5.19  // [U] 9.6 GB/s per IPU (§C2, Bow-2000 DDR4) / 1.85 GHz
    d.dmaBytesPerCycle = 4  // [D] exchange ≈4 B per tile per cycle (§C2)
    d.dmaSetupCycles = 30  // [U]
    d.dmaMaxInFlight = 8  // [U]
    d.dmaMulticastTiles = 1  // [U] no multicast from streaming memory modelled
    d.tensorMacsPerCycleFP8 = 128  // [D] C600 560 TFLOP/s FP8 = 2 × FP16 rate (§C2) [U]
    d.tensorMacsPerCycleHalf = 64  // [D] 348.5 TFLOP/s / (1,472 × 1.85 GHz × 2) (§C2)
    d.tensorMacsPerCycleSingle = 16  // [D] 87.2 TFLOP/s FP32 (§C2)
    d.tensorMacsPerCycleFP6 = 0  // [P] the IPU has no FP6 or FP4 arithmetic (§C4)
    d.tensorMacsPerCycleFP4 = 0
    d.tensorLatency = 16  // [U]
    d.tensorTileM = 1  // [U] AMP works on vectors; no padding modelled beyond K
    d.tensorTileN = 4
    d.tensorTileKBytes = 16
    d.tensorAccumulatorBytesPerTile = 0  // [U] none modelled: AMP results are written to tile memory
    d.vectorElementsPerCycle = 4  // [D] 64-bit datapath: 4 × f16 per cycle [U]
    d.vectorLatency = 6  // [S] 6-cycle local memory latency (§C3, JIA19)
    d.vectorTranscendentalCost = 4  // [U]
    d.unitQueueDepth = 4  // [U]
    d.barrierCycles = 150  // [U] hardware BSP sync; cost not published (gap §C3)
    d.exchangeHopCycles = 20  // [U]
    d.exchangeBytesPerCycle = 4  // [D] 4 B per tile per cycle (§C2)
    d.setComponentEnergyEstimates()  // the same component figures as h100 (§D1, §D2)
    return d
  }()

  /// NVIDIA HGX B200 (Blackwell, 1,000 W), one tile per SM. Sources: docs/hardware-numbers.md §E.
  /// Not calibrated against measured GEMMs (no public B200 GEMM timings with shapes were found):
  /// the clock is the one its tensor peaks imply.
  public static let b200: DeviceConfig = {
    var d = DeviceConfig()
    d.name = "b200"
    d.summary =
      "NVIDIA HGX B200 (148 SMs as tiles, 228 KiB SMEM, 256 KiB TMEM, 126.5 MiB L2, HBM3e); uncalibrated; see docs/devices.md."
    d.clockGHz = 1.856  // [D] 4.5 PFLOP/s dense FP8 / (148 SMs × 16,384 FLOP/clk) (§E2); nvidia-smi max 1.965
    d.tiles = 148  // [P] 148 SMs enabled of 160 (§E1: CUDA device query, Chips and Cheese)
    d.formatE4 = "e4m3fn"  // [P] OCP E4M3 / E5M2, as H100 (§A7)
    d.formatE5 = "e5m2"
    d.sramBytesPerTile = 233_472  // [P] 228 KB shared memory per SM (§E3, Blackwell Tuning Guide §1.4.1.1)
    d.l2Bytes = 132_644_864  // [P] l2CacheSize 132,644,864 B = 126.5 MiB (§E4, CUDA device query)
    d.l2LineBytes = 128  // [U] not published for Blackwell; Hopper's 128-B lines
    d.l2Ways = 16  // [U] associativity not published
    d.l2HitLatency = 343  // [D] median near-partition hit 293 cycles at 1.587 GHz = 185 ns (§E4) × 1.856 GHz
    d.l2Partitions = 2  // [S] one L2 partition per die, ≈63 MB each (§E4)
    d.l2FarHitLatency = 643  // [S] + die-to-die ≈300 extra cycles (§E4, SemiAnalysis) [U] not measured as an L2 hit
    d.l2BytesPerCycle = 11_444  // [D] ≈21.24 TB/s measured L2 bandwidth (§E4) / 1.856 GHz
    d.dramLatency = 637  // [D] DRAM random chase ≈838 cycles at 1.587 GHz = 528 ns (§E5) × 1.856 GHz, minus the L2 hit
    d.dramBytesPerCycle = 3911.6  // [D] 7.26 TB/s measured with TMA loads (§E5, SemiAnalysis) / 1.856 GHz
    d.dmaBytesPerCycle = 128  // [U] per-SM L1 bandwidth not published for B200; H100's 128 B/clk
    d.dmaSetupCycles = 105  // [U] H100's TMA overhead (§A3)
    d.dmaMaxInFlight = 16  // [U]
    d.dmaMulticastTiles = 16  // [P] non-portable cluster size 16 (§E3, Blackwell Tuning Guide §1.4.1.2)
    d.tensorMacsPerCycleFP8 = 8192  // [D] 4.5 PFLOP/s dense FP8/FP6 / (148 × 1.856 GHz × 2) (§E2); measured 16,352 FLOP/clk/SM
    d.tensorMacsPerCycleHalf = 4096  // [D] 2.25 PFLOP/s dense FP16/BF16 (§E2)
    d.tensorMacsPerCycleSingle = 2048  // [D] 1.1 PFLOP/s dense TF32 (§E2)
    d.tensorMacsPerCycleFP6 = 8192  // [P] "FP8/FP6 Tensor Core" 4.5 PFLOP/s dense: FP6 at the FP8 rate (§E2, §E6)
    d.tensorMacsPerCycleFP4 = 16384  // [D] 9 PFLOP/s dense FP4 (§E2)
    d.tensorLatency = 104  // [S] tcgen05.mma ≈104 + N/2 cycles with A in tensor memory (§E6, SemiAnalysis)
    d.tensorTileM = 128  // [P] tcgen05.mma M = 128 on one SM (§E6, PTX ISA)
    d.tensorTileN = 8  // [P] N from 8 to 256 (§E6)
    d.tensorTileKBytes = 32  // [P] K = 32 bytes of FP8 (§E6)
    d.tensorAccumulatorBytesPerTile = 262_144  // [P] tensor memory: 128 lanes × 512 columns × 32 bit (§E3, PTX ISA)
    d.vectorElementsPerCycle = 128  // [S] 128 FP32 lanes per SM (§E1)
    d.vectorLatency = 4  // [U] as h100
    d.vectorTranscendentalCost = 8  // [U] as h100
    d.unitQueueDepth = 4  // [U]
    d.barrierCycles = 2264  // [U] H200's grid.sync() 1.22 µs (no B200 figure) × 1.856 GHz
    d.kernelLaunchCycles = 2413  // [U] H100's ≈1.3 µs per kernel in a CUDA graph × 1.856 GHz
    d.exchangeHopCycles = 180  // [U] H100's SM-to-SM latency
    d.exchangeBytesPerCycle = 32  // [U]
    d.setComponentEnergyEstimates()  // [U] the same component estimates as h100 (§D1, §D2)
    return d
  }()

  /// The energy per operation and per byte of the h100, ipu and b200 presets: estimates from
  /// published component figures (§D1, §D2), not measured on any of those devices.
  private mutating func setComponentEnergyEstimates() {
    energyMacFP8 = 0.6  // [U] FP8 mult 0.4 + add 0.2 pJ estimates at 45 nm (§D2, esim)
    energyMacHalf = 1.5  // [S] 16-bit FP mult 1.1 + add 0.4 pJ (§D1, Horowitz 2014)
    energyMacSingle = 4.6  // [S] 32-bit FP mult 3.7 + add 0.9 pJ (§D1)
    energyVectorOp = 0.9  // [S] 32-bit FP add (§D1)
    energySramByte = 1.25  // [S] 10 pJ per 64-bit access of an 8 KB SRAM (§D1)
    energyL2Byte = 12.5  // [S] 100 pJ per 64-bit access of a 1 MB SRAM (§D1)
    energyDramByte = 160  // [S] ≈640 pJ per 32-bit DRAM word (§D2, Dally)
    energyExchangeByte = 5  // [U]
  }
}

/// Every statistic of a run report: one case per statistic, one `statistic` row per case.
///
/// This table is the single source of truth: the JSON report (`fp8sim-report/1`) writes every
/// row at its path, the text report and `fp8sim compare` pick rows by key and print them with the
/// row's label and format, and the statistics section of docs/report.md is generated from it (a
/// test fails when the file is stale). Stored counts are read from the structs the machine fills
/// (`UnitStats`, `TrafficStats`, `ComputeStats`, `CastCounts`, `ErrorMetrics`) by key path;
/// ratios and rates are derived here, when the report is built, never stored.
///
/// Adding a statistic: one case and one row here (plus the stored field, if it is a new count),
/// then `RECORD_SNAPSHOTS=1 swift test --filter reportDocumentIsCurrent` to regenerate the docs.
public enum StatKey: String, Sendable, CaseIterable {
  case cycles, seconds, instructions
  case unitInstructions, busyCycles, utilization
  case dependencyStall, bandwidthStall, syncStall, queueStall
  case dramToL2, l2ToSram, sramToL2, l2ToDram, exchange, multicast, finalWritebackBytes
  case l2Hits, l2Misses, l2HitRate, l2Writebacks, dramGBps, l2GBps
  case tensorDramToL2, tensorL2ToSram, tensorSramToL2, tensorL2ToDram
  case macs, paddedMacs, macsByFormat, tensorEfficiency, achievedTFLOPS, vectorElementOps, sramBytes
  case energyTensor, energyVector, energySram, energyL2, energyDram, energyExchange, energyTotal
  case snrDB, maxAbsError, maxRelError, nan, inf, outputOverflow, outputUnderflow
  case castValues, castRounded, castOverflow, castUnderflow, castNaN
  case totalOverflow, totalUnderflow

  public var statistic: Statistic {
    switch self {
    // MARK: The run
    case .cycles:
      return Statistic(
        "cycles", .run(\.cycles), unit: .cycles, label: "cycles", combine: .maxOverTiles, format: .count,
        "From the start to the moment the last unit of the last tile finished.")
    case .seconds:
      return Statistic(
        "seconds", .run { .real($0.seconds) }, unit: .seconds, label: "time",
        combine: .derived("cycles / clockGHz / 10⁹"), format: .duration,
        "The run's time on the device's clock.")
    case .instructions:
      return Statistic(
        "instructions", .run(\.instructions), unit: .instructions, label: "instructions", combine: .sum,
        format: .count, "Instructions issued, all tiles together.")

    // MARK: Units
    case .unitInstructions:
      return Statistic(
        "units.<unit>.instructions", .unit(\.instructions), unit: .instructions, label: "instructions",
        combine: .sum, format: .count,
        "Instructions of that unit (`barrier` and the all-reduces count as scalar).")
    case .busyCycles:
      return Statistic(
        "units.<unit>.busyCycles", .unit(\.busy), unit: .cycles, label: "busy", combine: .sum, format: .count,
        "Cycles the unit was occupied (scalar core: one per instruction; DMA: its port moving bytes).")
    case .utilization:
      return Statistic(
        "units.<unit>.utilization",
        .unit { u, r in .real(Double(u.busy) / (Double(max(1, r.cycles)) * Double(r.device.tiles))) },
        unit: .ratio, label: "util", combine: .derived("busyCycles / (cycles · tiles)"), format: .percent,
        "The share of the run the unit was busy, over all tiles.")
    case .dependencyStall:
      return Statistic(
        "units.<unit>.stallCycles.dependency", .unit(\.dependency), unit: .cycles, label: "dependency",
        group: "stall", combine: .sum, format: .count,
        "The unit was free but waited for an input: data not yet produced, a `dma.wait`, a float register.")
    case .bandwidthStall:
      return Statistic(
        "units.<unit>.stallCycles.bandwidth", .unit(\.bandwidth), unit: .cycles, label: "bandwidth",
        group: "stall", combine: .sum, format: .count,
        "DMA: a transfer waited for a shared link (tile↔L2, L2↔DRAM) beyond its own port time.")
    case .syncStall:
      return Statistic(
        "units.<unit>.stallCycles.sync", .unit(\.sync), unit: .cycles, label: "sync", group: "stall",
        combine: .sum, format: .count, "Scalar core: waiting in barriers and all-reduces for other tiles.")
    case .queueStall:
      return Statistic(
        "units.<unit>.stallCycles.queue", .unit(\.queue), unit: .cycles, label: "queue", group: "stall",
        combine: .sum, format: .count, "Scalar core: a unit's queue or the DMA in-flight limit was full.")

    // MARK: Memory traffic
    case .dramToL2:
      return Statistic(
        "traffic.bytes.dramToL2", .run(\.traffic.dramToL2), unit: .bytes, label: "DRAM -> L2", combine: .sum,
        format: .count, "Line fills from DRAM.")
    case .l2ToSram:
      return Statistic(
        "traffic.bytes.l2ToSram", .run(\.traffic.l2ToSram), unit: .bytes, label: "L2 -> SRAM", combine: .sum,
        format: .count, "Bytes loaded by `dma.load`.")
    case .sramToL2:
      return Statistic(
        "traffic.bytes.sramToL2", .run(\.traffic.sramToL2), unit: .bytes, label: "SRAM -> L2", combine: .sum,
        format: .count, "Bytes stored by `dma.store`.")
    case .l2ToDram:
      return Statistic(
        "traffic.bytes.l2ToDram", .run(\.traffic.l2ToDram), unit: .bytes, label: "L2 -> DRAM", combine: .sum,
        format: .count, "Dirty lines written back: evictions and the end-of-run flush.")
    case .exchange:
      return Statistic(
        "traffic.bytes.exchange", .run(\.traffic.exchange), unit: .bytes, label: "exchange", combine: .sum,
        format: .count, "Tile-to-tile bytes (all-reduce messages).")
    case .multicast:
      return Statistic(
        "traffic.bytes.multicast", .run(\.traffic.multicast), unit: .bytes, label: "multicast", combine: .sum,
        format: .count, absentWhen: Statistic.olderReport,
        "Bytes `dma.load … mcast=G` delivered to a tile from another tile's read of L2 (not in `l2ToSram`).")
    case .finalWritebackBytes:
      return Statistic(
        "traffic.finalWritebackBytes", .run(\.traffic.finalWriteback), unit: .bytes, label: "final flush",
        combine: .sum, format: .count, "The part of `l2ToDram` flushed when the run ended.")
    case .l2Hits:
      return Statistic(
        "traffic.l2Hits", .run(\.traffic.l2Hits), unit: .lines, label: "hits", combine: .sum, format: .count,
        "Line lookups by loads and stores that hit.")
    case .l2Misses:
      return Statistic(
        "traffic.l2Misses", .run(\.traffic.l2Misses), unit: .lines, label: "misses", combine: .sum,
        format: .count, "Line lookups by loads and stores that missed.")
    case .l2HitRate:
      return Statistic(
        "traffic.l2HitRate",
        .run { r in
          let accesses = r.traffic.l2Hits + r.traffic.l2Misses
          return accesses > 0 ? .real(Double(r.traffic.l2Hits) / Double(accesses)) : nil
        }, unit: .ratio, label: "L2 hit rate", combine: .derived("l2Hits / (l2Hits + l2Misses)"),
        format: .percent, absentWhen: "nothing went through L2", "The share of line lookups that hit.")
    case .l2Writebacks:
      return Statistic(
        "traffic.l2Writebacks", .run(\.traffic.l2Writebacks), unit: .lines, label: "write-backs",
        combine: .sum, format: .count, "Dirty lines written back to DRAM.")
    case .dramGBps:
      return Statistic(
        "traffic.dramGBps",
        .run { r in
          let t = r.traffic
          return .real(
            r.cycles == 0
              ? 0 : Double(t.dramToL2 + t.l2ToDram - t.finalWriteback) / max(r.seconds, 1e-30) / 1e9)
        }, unit: .gigabytesPerSecond, label: "DRAM",
        combine: .derived("(dramToL2 + l2ToDram − finalWritebackBytes) / seconds"), format: .fixed(1),
        "Achieved DRAM bandwidth over the run, both directions, the final flush excluded.")
    case .l2GBps:
      return Statistic(
        "traffic.l2GBps",
        .run { r in
          .real(
            r.cycles == 0 ? 0 : Double(r.traffic.l2ToSram + r.traffic.sramToL2) / max(r.seconds, 1e-30) / 1e9)
        }, unit: .gigabytesPerSecond, label: "tile<->L2",
        combine: .derived("(l2ToSram + sramToL2) / seconds"),
        format: .fixed(1), "Achieved bandwidth between the tiles and L2 over the run, both directions.")

    // MARK: Memory traffic per DRAM tensor
    case .tensorDramToL2:
      return Statistic(
        "traffic.tensors.<name>.dramToL2", .tensor(\.dramToL2), unit: .bytes, label: "DRAM -> L2",
        combine: .sum, format: .count, "Line fills of the tensor from DRAM.")
    case .tensorL2ToSram:
      return Statistic(
        "traffic.tensors.<name>.l2ToSram", .tensor(\.l2ToSram), unit: .bytes, label: "L2 -> SRAM",
        combine: .sum, format: .count, "Bytes of the tensor loaded by `dma.load`.")
    case .tensorSramToL2:
      return Statistic(
        "traffic.tensors.<name>.sramToL2", .tensor(\.sramToL2), unit: .bytes, label: "SRAM -> L2",
        combine: .sum, format: .count, "Bytes of the tensor stored by `dma.store`.")
    case .tensorL2ToDram:
      return Statistic(
        "traffic.tensors.<name>.l2ToDram", .tensor(\.l2ToDram), unit: .bytes, label: "L2 -> DRAM",
        combine: .sum, format: .count, "Write-backs of the lines the tensor owns.")

    // MARK: Compute
    case .macs:
      return Statistic(
        "compute.macs.<class>", .keyed(.inputClass, \.macs), unit: .macs, label: "MACs", combine: .sum,
        format: .count, "MACs requested by `mma`.")
    case .paddedMacs:
      return Statistic(
        "compute.paddedMacs.<class>", .keyed(.inputClass, \.paddedMacs), unit: .macs, label: "padded",
        combine: .sum, format: .count, "MACs the tensor unit spent, padding to its native shape included.")
    case .macsByFormat:
      return Statistic(
        "compute.macsByFormat.<A×B→acc>", .keyed(.mmaFormat, \.macsByFormat), unit: .macs, label: "MACs",
        combine: .sum, format: .count, "MACs by the formats of A and B and the accumulator.")
    case .tensorEfficiency:
      return Statistic(
        "compute.tensorEfficiency",
        .run { r in
          let padded = r.compute.paddedMacs.values.reduce(0, +)
          return padded > 0 ? .real(Double(r.compute.macs.values.reduce(0, +)) / Double(padded)) : nil
        }, unit: .ratio, label: "tensor efficiency", combine: .derived("Σ macs / Σ paddedMacs"),
        format: .percent, absentWhen: "no `mma` ran",
        "The share of the tensor unit's MACs that were asked for.")
    case .achievedTFLOPS:
      return Statistic(
        "compute.achievedTFLOPS",
        .run { r in
          .real(
            r.cycles == 0 ? 0 : 2 * Double(r.compute.macs.values.reduce(0, +)) / max(r.seconds, 1e-30) / 1e12)
        }, unit: .teraflops, label: "achieved", combine: .derived("2 · Σ macs / seconds / 10¹²"),
        format: .fixed(3), "Achieved tensor throughput over the run.")
    case .vectorElementOps:
      return Statistic(
        "compute.vectorElementOps", .run(\.compute.vectorElementOps), unit: .operations,
        label: "vector element ops", combine: .sum, format: .count,
        "Element operations of the vector unit, weighted by their cost.")
    case .sramBytes:
      return Statistic(
        "compute.sramBytes", .run(\.compute.sramBytes), unit: .bytes, label: "SRAM", combine: .sum,
        format: .count, "Bytes read and written in SRAM by all units.")

    // MARK: Energy (see docs/cost-model.md)
    case .energyTensor:
      return Self.energy("tensor", "tensor", { $0.tensor }, "Padded MACs × energy per MAC of their class.")
    case .energyVector:
      return Self.energy(
        "vector", "vector", { $0.vector }, "Vector element operations × energy per operation.")
    case .energySram: return Self.energy("sram", "SRAM", { $0.sram }, "SRAM bytes × energy per byte.")
    case .energyL2:
      return Self.energy("l2", "L2", { $0.l2 }, "(`l2ToSram` + `sramToL2`) bytes × energy per L2 byte.")
    case .energyDram:
      return Self.energy(
        "dram", "DRAM", { $0.dram }, "(`dramToL2` + `l2ToDram`) bytes × energy per DRAM byte.")
    case .energyExchange:
      return Self.energy(
        "exchange", "exchange", { $0.exchange }, "Exchange bytes × energy per exchanged byte.")
    case .energyTotal: return Self.energy("total", "energy", { $0.total }, "The sum of the components.")

    // MARK: Outputs against the FP32 shadow run
    case .snrDB:
      return Statistic(
        "outputs[].snrDB", .output { .real($0.snrDB) }, unit: .decibels, label: "SNR",
        combine: .derived("10·log10(Σ ref² / Σ (x − ref)²)"), format: .fixed(2),
        "Signal to noise against the FP32 shadow run; `inf` when exact, `nan` when the reference is not finite."
      )
    case .maxAbsError:
      return Statistic(
        "outputs[].maxAbsError", .output { .real($0.maxAbsError) }, unit: .tensorUnit, label: "max abs err",
        combine: .max, format: .scientific, "The largest |x − ref| over elements where both are finite.")
    case .maxRelError:
      return Statistic(
        "outputs[].maxRelError", .output { .real($0.maxRelError) }, unit: .ratio, label: "max rel err",
        combine: .max, format: .scientific, "The largest |x − ref| / |ref| where both are finite and ref ≠ 0."
      )
    case .nan:
      return Statistic(
        "outputs[].nan", .output { .count(Int64($0.nanCount)) }, unit: .values, label: "NaN", combine: .sum,
        format: .count, "NaN values in the output.")
    case .inf:
      return Statistic(
        "outputs[].inf", .output { .count(Int64($0.infCount)) }, unit: .values, label: "inf", combine: .sum,
        format: .count, "Infinite values in the output.")
    case .outputOverflow:
      return Statistic(
        "outputs[].overflow", .output { .count(Int64($0.overflowCount)) }, unit: .events, label: "overflow",
        combine: .sum, format: .count, "Cast overflows into the output tensor itself.")
    case .outputUnderflow:
      return Statistic(
        "outputs[].underflow", .output { .count(Int64($0.underflowCount)) }, unit: .events,
        label: "underflow", combine: .sum, format: .count, "Cast underflows into the output tensor itself.")

    // MARK: Casts per tensor
    case .castValues:
      return Statistic(
        "casts[].values", .casts(\.total), unit: .values, label: "values", combine: .sum, format: .count,
        "Values stored into the tensor by casts.")
    case .castRounded:
      return Statistic(
        "casts[].rounded", .casts(\.rounded), unit: .events, label: "rounded", combine: .sum, format: .count,
        "Stores that rounded.")
    case .castOverflow:
      return Statistic(
        "casts[].overflow", .casts(\.overflow), unit: .events, label: "overflow", combine: .sum,
        format: .count, "Stores beyond the format's range (saturated or non-finite).")
    case .castUnderflow:
      return Statistic(
        "casts[].underflow", .casts(\.underflow), unit: .events, label: "underflow", combine: .sum,
        format: .count, "Non-zero values that became zero.")
    case .castNaN:
      return Statistic(
        "casts[].nan", .casts(\.nan), unit: .events, label: "NaN", combine: .sum, format: .count,
        "Stores that produced NaN.")
    case .totalOverflow:
      return Statistic(
        "totalOverflow",
        .run(needsValues: true) { r in .count(Int64(r.casts.reduce(0) { $0 + $1.counts.overflow })) },
        unit: .events, label: "cast overflows", combine: .sum, format: .count,
        "Cast overflows of the whole run.")
    case .totalUnderflow:
      return Statistic(
        "totalUnderflow",
        .run(needsValues: true) { r in .count(Int64(r.casts.reduce(0) { $0 + $1.counts.underflow })) },
        unit: .events, label: "cast underflows", combine: .sum, format: .count,
        "Cast underflows of the whole run.")
    }
  }

  /// A component of the energy estimate, stored in pJ and reported in µJ.
  static func energy(
    _ name: String, _ label: String, _ component: @escaping @Sendable (EnergyBreakdown) -> Double,
    _ summary: String
  ) -> Statistic {
    Statistic(
      "energy.\(name)", .run { .real(component($0.energy) / 1e6) }, unit: .microjoules, label: label,
      combine: .sum, format: .fixed(3), summary)
  }
}

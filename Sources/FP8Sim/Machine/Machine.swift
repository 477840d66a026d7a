import FP8Formats
import FP8ISA
import Foundation

/// Runs a program on a device: every tile executes the instruction stream, the units and the
/// shared links keep `busy-until` times, and every instruction also computes its values (twice:
/// on the device's formats and in the FP32 shadow run) unless `timingOnly` is set.
///
/// Scheduling: the tile whose scalar core is earliest in simulated time issues next (ties by
/// tile id), so requests reach the shared links roughly in time order. Execution is
/// deterministic: the same program, device and options give the same bits and cycles.
public final class Machine {
  let program: Program
  public let device: DeviceConfig
  let options: RunOptions
  let layouts: [TensorLayout]
  /// (address, bytes, tensor) of every DRAM tensor, in increasing address.
  let dramRanges: [(address: Int, bytes: Int, tensor: Int)]

  // Hot state, with Swift's dynamic exclusivity checks turned off (each access from a class
  // method would pay one). That is sound only while no two accesses to the same property
  // overlap: an `inout` piece of one of these (`add(&traffic.dramToL2, n)`,
  // `add(&compute.macs[k], n)`) is only ever passed to a function that does not itself touch that
  // property through `self`, and no closure mutates them during another access. A helper that
  // takes `&self.tiles[...]` (or `&traffic`, `&compute`, a link) and also reads the same
  // property through `self` would corrupt state silently: pass values to such helpers instead.
  // (Threads are not the issue: a Machine runs on one thread; the numeric kernels work on copies.)
  @exclusivity(unchecked) var tiles: [TileState]
  var dram: [TensorStorage?]
  /// sram[tile][tensor], allocated when a tile first touches the tensor.
  var sram: [[TensorStorage?]]
  var allocatedElements = 0

  let l2: L2Cache
  @exclusivity(unchecked) var l2Link: Link
  @exclusivity(unchecked) var dramLink: Link
  /// Calendar entries (both links) above which `forgetLinkHistory` prunes.
  var linkForgetAt = 256
  @exclusivity(unchecked) var traffic = TrafficStats()
  /// Per instruction: whether a view takes a length from a register (shapes checked at run time).
  let registerLengths: [Bool]
  /// Per instruction: its scalar-core form (`.other` for the other units and sync).
  let scalarOps: [ScalarOp]
  let biasRules: [(rule: BiasRule, format: FloatFormat)]
  /// Scratch: the L2 slots whose data the current transfer brings (see `moveLines`).
  let lineSlots = Scratch<Int>()
  /// Scratch: the dirty lines the current transfer evicts.
  let evictedLines = Scratch<UInt64>()
  /// Scratch: the current transfer's runs of lines (first, count, strided).
  let lineRuns = Scratch<(first: UInt64, count: Int, strided: Bool)>()
  /// Multicast reads some tile of their group has not received yet.
  var multicasts = MulticastBoard()
  @exclusivity(unchecked) var compute = ComputeStats()
  /// MACs and padded MACs of the `mma`s so far, by input class and formats (`makeResult` puts
  /// them in `compute`).
  @exclusivity(unchecked) var mmaCounts: [MMACounterKey: (macs: Int, padded: Int)] = [:]
  /// Cast events per tensor index (summed over tiles).
  var castCounts: [Int: CastCounts] = [:]
  var executed = 0
  /// MACs and element operations so far (for `RunOptions.maxWork`).
  var work = 0
  /// Unit activity for the Chrome trace (kept when the run faults: see `partialTrace`).
  var trace = Trace()
  var traceNames: [String: Int32] = [:]
  /// Things a user should know that are not errors (non-finite input data, ...).
  var warnings: [String] = []
  var warnedTensors = Set<Int>()

  public init(program: Program, device: DeviceConfig, options: RunOptions = RunOptions()) throws(RuntimeFault)
  {
    do {
      try program.validate()
    } catch {
      let first =
        error.diagnostics.first.map { "\($0.message.text) (printed line \($0.location.line))" } ?? ""
      throw RuntimeFault("the program value is not a valid program: \(first)")
    }
    if let problem = device.problems().first {
      throw RuntimeFault("the device value is not a valid device: \(problem)")
    }
    self.program = program
    var rules: [(rule: BiasRule, format: FloatFormat)] = []
    scalarOps = program.instructions.map { ScalarOp($0.operation, device: device, rules: &rules) }
    biasRules = rules
    registerLengths = program.instructions.map {
      ShapeRules.views(of: $0.operation).contains(where: \.hasRegisterLength)
    }
    self.device = device
    self.options = options
    var layouts: [TensorLayout] = []
    var dramAddress = 0
    var sramOffset = 0
    var accOffset = 0
    for t in program.tensors {
      let format = t.dtype.resolved(e4: device.e4, e5: device.e5)
      var strides = [Int](repeating: 1, count: t.shape.count)
      for d in stride(from: t.shape.count - 2, through: 0, by: -1) {
        strides[d] = strides[d + 1] * t.shape[d + 1]
      }
      var address = 0
      switch t.space {
      case .dram:
        address = dramAddress
        // Tensors are at most 2^42 bytes; the address space is capped at 2^56 so sums fit.
        dramAddress += (t.byteCount + 4095) / 4096 * 4096
        if dramAddress > 1 << 56 {
          throw RuntimeFault(
            "the dram tensors up to '\(t.name)' need more than 2^56 bytes of address space", at: t.location)
        }
      case .sram:
        address = sramOffset
        sramOffset += (t.byteCount + 63) / 64 * 64
        if sramOffset > device.sramBytesPerTile {
          throw RuntimeFault(
            "SRAM overflow: the sram tensors up to '\(t.name)' need \(sramOffset) bytes per tile; device '\(device.name)' has \(device.sramBytesPerTile)",
            at: t.location)
        }
      case .acc:
        address = accOffset
        accOffset += (t.byteCount + 63) / 64 * 64
        let capacity = device.tensorAccumulatorBytesPerTile
        if accOffset > capacity {
          throw RuntimeFault(
            capacity == 0
              ? "device '\(device.name)' has no accumulator storage (tensor.accumulatorBytesPerTile = 0): declare '\(t.name)' in sram"
              : "accumulator overflow: the acc tensors up to '\(t.name)' need \(accOffset) bytes per tile; device '\(device.name)' has \(capacity)",
            at: t.location)
        }
      }
      layouts.append(TensorLayout(decl: t, format: format, strides: strides, address: address))
    }
    self.layouts = layouts
    dramRanges = layouts.indices.filter { layouts[$0].isDRAM }.map {
      (layouts[$0].address, layouts[$0].bytes, $0)
    }
    tiles = (0..<device.tiles).map { TileState(id: $0, tensorCount: program.tensors.count) }
    // Every tile starts issuing once the kernel has launched.
    for t in tiles.indices { tiles[t].time = Int64(device.kernelLaunchCycles) }
    dram = Array(repeating: nil, count: program.tensors.count)
    sram = Array(repeating: Array(repeating: nil, count: program.tensors.count), count: device.tiles)
    l2 = L2Cache(
      sets: device.l2Sets, ways: device.l2Ways,
      maxLine: UInt64(max(dramAddress, 1) - 1) / UInt64(device.l2LineBytes))
    l2Link = Link(bytesPerCycle: device.l2BytesPerCycle)
    dramLink = Link(bytesPerCycle: device.dramBytesPerCycle)
    if !options.timingOnly {
      for (i, t) in program.tensors.enumerated() where t.space == .dram {
        dram[i] = try allocate(i, location: t.location)
      }
    }
  }

  // MARK: - Storage

  /// Allocates and initialises tensor `index`.
  func allocate(_ index: Int, location: SourceLocation) throws(RuntimeFault) -> TensorStorage {
    let layout = layouts[index]
    let (total, overflow) = allocatedElements.addingReportingOverflow(2 * layout.count)
    guard !overflow, total <= options.maxNumericElements else {
      throw RuntimeFault(
        "a numeric run would hold more than \(options.maxNumericElements) values (main and shadow) when allocating '\(layout.decl.name)'; run with --timing-only, or use smaller tensors",
        at: location)
    }
    allocatedElements = total
    let storage = TensorStorage(count: layout.count)
    if layout.isDRAM, let given = options.inputs[layout.decl.name] {
      guard given.values.count == layout.count, !layout.hasRecords else {
        throw RuntimeFault(
          "the input given for '\(layout.decl.name)' has \(given.values.count) values; the tensor holds \(layout.count)\(layout.hasRecords ? " in records, which cannot be given" : "")",
          at: location)
      }
      // The device's values as the tensor's format holds them (unchanged when they came from
      // a tensor of the same type); the shadow as given.
      let format = layout.format
      storage.main = given.values.map { Float(format.round(Double($0))) }
      storage.shadow = given.reference
      return storage
    }
    let nonFinite = try Initializers.fill(storage, layout: layout, baseDirectory: options.baseDirectory)
    if nonFinite.nan + nonFinite.inf > 0 && !warnedTensors.contains(index) {
      warnedTensors.insert(index)
      warnings.append(
        "\(layout.decl.location): tensor '\(layout.decl.name)' starts with \(nonFinite.nan) NaN and \(nonFinite.inf) infinite values"
      )
    }
    return storage
  }

  /// The storage of tensor `index` as tile `tile` sees it.
  func storage(_ index: Int, tile: Int, location: SourceLocation) throws(RuntimeFault) -> TensorStorage {
    if layouts[index].isDRAM {
      // DRAM tensors are allocated when a numeric run starts; only numeric runs read values.
      guard let s = dram[index] else {
        throw RuntimeFault(
          "internal error: '\(layouts[index].decl.name)' has no values in a timing-only run", at: location)
      }
      return s
    }
    if let s = sram[tile][index] { return s }
    let s = try allocate(index, location: location)
    sram[tile][index] = s
    return s
  }

  // MARK: - The run

  /// Runs every tile to completion and returns the measurements.
  public func run() throws(RuntimeFault) -> RunResult {
    try TileScheduler.run(
      tiles: tiles.count, time: { tiles[$0].time }, step: { id throws(RuntimeFault) in try step(id) },
      release: { blocked throws(RuntimeFault) in try releaseSync(blocked) })
    for t in tiles.indices { tiles[t].endTime = tiles[t].drainedAt }
    // Dirty lines reach DRAM when the run ends (counted, not timed).
    let flushed = l2.flush()
    traffic.finalWriteback = flushed.count * device.l2LineBytes
    do throws(RuntimeFaultMessage) {
      try writeBack(flushed)
    } catch {
      throw RuntimeFault(error.text)
    }
    traffic.l2Hits = l2.hits
    traffic.l2Misses = l2.misses
    traffic.l2Writebacks = l2.writebacks
    return try makeResult()
  }

  enum StepOutcome { case running, blocked, halted }

  /// Issues the tile's next instruction.
  func step(_ id: Int) throws(RuntimeFault) -> StepOutcome {
    let pc = tiles[id].pc
    guard pc < program.instructions.count else {
      halt(id, line: program.instructions.last?.location.line ?? 0)
      return .halted
    }
    executed += 1
    if executed > options.maxInstructions {
      throw RuntimeFault(
        "more than \(options.maxInstructions) instructions executed (an endless loop?); raise the limit with --max-instructions",
        at: program.instructions[pc].location, tile: id)
    }
    let scalar = scalarOps[pc]
    if case .other = scalar {
    } else {
      // The scalar core's instructions: no work budget (weight 0), no views, no copy of the
      // instruction.
      tiles[id].pc = pc + 1
      tiles[id].stats[.scalar].instructions += 1
      do throws(RuntimeFaultMessage) {
        try executeScalar(scalar, tile: id)
        try checkTime(id)
      } catch {
        throw RuntimeFault(error.text, at: program.instructions[pc].location, tile: id)
      }
      return .running
    }
    let instruction = program.instructions[pc]
    tiles[id].pc = pc + 1
    tiles[id].stats[instruction.opcode.unit.reportedUnit].instructions += 1
    do throws(RuntimeFaultMessage) {
      try spend(1, weight: WorkCost.instruction(instruction.opcode.unit, timingOnly: options.timingOnly))
      if registerLengths[pc] { try checkShapes(instruction.operation, tile: id) }
      switch instruction.operation {
      case .halt:
        issue(id)
        halt(id, line: instruction.location.line)
        return .halted
      case .nop, .move, .integer, .floatMove, .float, .jump, .call, .ret, .branch, .bias, .fence:
        throw RuntimeFaultMessage("internal error: a scalar instruction outside the scalar path")
      case .dma(let transfer): try executeTransfer(transfer, tile: id, instruction: instruction)
      case .dmaWait(let keep):
        let n = int(keep, tile: id)
        guard n >= 0 else { throw RuntimeFaultMessage("dma.wait count \(n) is negative") }
        dmaWait(keep: n, tile: id)
        issue(id)
      case .vector(let v): try executeVector(v, tile: id, instruction: instruction)
      case .reduction(let r, let dest, let source):
        try executeReduction(r, dest: dest, source: source, tile: id, instruction: instruction)
      case .mma(let m): try executeMMA(m, tile: id, line: instruction.location.line)
      case .barrier:
        arriveAtSync(index: pc, tile: id, async: false, operand: nil)
        return .blocked
      case .allReduce(let r):
        arriveAtSync(index: pc, tile: id, async: r.async, operand: r.source)
        return .blocked
      }
      try checkTime(id)
    } catch {
      throw RuntimeFault(error.text, at: instruction.location, tile: id)
    }
    return .running
  }

  func halt(_ id: Int, line: Int) {
    tiles[id].halted = true
    tiles[id].haltLine = line
    tiles[id].endTime = tiles[id].drainedAt
  }

  /// Counts `count` items of `weight` work units each (`WorkCost`) against the budget.
  func spend(_ count: Int, weight: Int) throws(RuntimeFaultMessage) {
    let (amount, o1) = count.multipliedReportingOverflow(by: weight)
    let (total, o2) = work.addingReportingOverflow(amount)
    work = o1 || o2 ? .max : total
    if work > options.maxWork {
      throw RuntimeFaultMessage(
        "the run exceeded its work budget of \(options.maxWork) units (MACs, elements and L2 lines, weighted as in docs/performance.md); raise it with --max-work"
      )
    }
  }

  /// Adds `amount` to a statistic, faulting instead of overflowing.
  @inline(__always)
  func add(_ counter: inout Int, _ amount: Int) throws(RuntimeFaultMessage) {
    let (sum, overflow) = counter.addingReportingOverflow(amount)
    if overflow {
      throw RuntimeFaultMessage("a statistic of the run passed 2^63; the run is too large to count")
    }
    counter = sum
  }

  /// Product of counts a user controls, faulting instead of overflowing.
  func product(_ factors: Int...) throws(RuntimeFaultMessage) -> Int {
    var p = 1
    for f in factors {
      let (r, overflow) = p.multipliedReportingOverflow(by: f)
      if overflow {
        throw RuntimeFaultMessage("a count of this instruction passed 2^63; the run is too large to count")
      }
      p = r
    }
    return p
  }

  /// Faults when a tile's simulated time passed `RunLimits.maxCycles`.
  func checkTime(_ id: Int) throws(RuntimeFaultMessage) {
    if tiles[id].time > RunLimits.maxCycles || tiles[id].endTime > RunLimits.maxCycles {
      throw RuntimeFaultMessage(
        "simulated time passed \(RunLimits.maxCycles) (2^44) cycles, the most a run may simulate")
    }
  }

  /// The scalar core spends one issue cycle.
  @inline(__always)
  func issue(_ id: Int) {
    tiles[id].time += 1
    tiles[id].stats[.scalar].busy += 1
  }

  // MARK: - Operands

  func int(_ value: IntValue, tile: Int) -> Int64 {
    switch value {
    case .register(let r): return tiles[tile].intRegisters[r]
    case .special(.tid): return Int64(tile)
    case .special(.ntiles): return Int64(device.tiles)
    case .constant(let v): return v
    }
  }

  /// A float operand's (main, shadow) values and when it is ready.
  func float(_ value: FloatValue, tile: Int) -> (main: Double, shadow: Double, ready: Int64) {
    switch value {
    case .register(let r):
      return (tiles[tile].floatRegisters[r], tiles[tile].shadowFloatRegisters[r], tiles[tile].floatReady[r])
    case .constant(let v): return (v, v, 0)
    }
  }

  /// The shape rules (`ShapeRules`) for an instruction whose views take a length from a
  /// register, on the shapes they have now (the assembler could not check them); a view out of
  /// bounds faults first.
  func checkShapes(_ operation: FP8ISA.Operation, tile id: Int) throws(RuntimeFaultMessage) {
    for view in ShapeRules.views(of: operation) { _ = try resolve(view, tile: id) }
    let bad = ShapeRules.check(operation) { view in
      (try? resolve(view, tile: id)).map { Array($0.shape) } ?? []
    }
    if let bad { throw RuntimeFaultMessage("shape mismatch at run time: \(bad.message)") }
  }

  func resolve(_ view: TensorView, tile: Int) throws(RuntimeFaultMessage) -> ResolvedView {
    // Reads the registers in place (a copy of the tile's state would retain every array in it).
    switch layouts[view.tensor].resolve(view, registers: { self.register($0, tile: tile) }) {
    case .success(let v): return v
    case .failure(let m): throw m
    }
  }

  /// The value of a view start's base register on `tile`.
  @inline(__always)
  func register(_ base: SliceStart.Base, tile: Int) -> Int64 {
    switch base {
    case .register(let r): return tiles[tile].intRegisters[r]
    case .special(.tid): return Int64(tile)
    case .special(.ntiles): return Int64(device.tiles)
    }
  }

  func record(
    _ tile: Int, _ unit: UnitKind, _ name: @autoclosure () -> String, start: Int64, end: Int64, line: Int
  ) {
    guard options.traceEventLimit > 0, end > start else { return }
    let name = name()
    guard trace.events.count < options.traceEventLimit else {
      trace.dropped += 1
      return
    }
    let index: Int32
    if let known = traceNames[name] {
      index = known
    } else {
      index = Int32(trace.names.count)
      traceNames[name] = index
      trace.names.append(name)
    }
    trace.events.append(
      Trace.Event(
        start: start, end: end, tile: Int32(tile), name: index, line: Int32(clamping: line), unit: unit))
  }

  /// The trace recorded so far, with the simulated time reached: what a faulted run leaves.
  public var partialTrace: (trace: Trace, cycles: Int64) {
    (trace, tiles.map(\.drainedAt).max() ?? 0)
  }

}

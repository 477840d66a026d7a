import FP8ISA

/// Barriers and all-reduces: every tile that has not halted must arrive at the same one.
extension Machine {
  /// Tile `id` reaches the barrier or all-reduce at instruction `index`. A blocking one waits for
  /// the tile's own work; an async all-reduce only for its operand.
  func arriveAtSync(index: Int, tile id: Int, async: Bool, operand: FloatValue?) {
    tiles[id].blockedAt = index
    var arrival = async ? tiles[id].time : tiles[id].drainedAt
    if case .register(let r) = operand { arrival = max(arrival, tiles[id].floatReady[r]) }
    tiles[id].arrival = arrival
  }

  /// Called when no tile can run: every blocked tile is released together, or the run faults.
  func releaseSync(_ blocked: [Int]) throws(RuntimeFault) {
    guard let first = blocked.min(), let index = tiles[first].blockedAt else {
      throw RuntimeFault("internal error: a sync released with no tile waiting at one")
    }
    let instruction = program.instructions[index]
    for t in blocked where tiles[t].blockedAt != index {
      let otherLine = tiles[t].blockedAt.map { program.instructions[$0].location.line } ?? 0
      throw RuntimeFault(
        "tile \(first) waits at line \(instruction.location.line) but tile \(t) waits at line \(otherLine): every tile must reach the same barrier or all-reduce",
        at: instruction.location, tile: first)
    }
    if let halted = tiles.first(where: { $0.halted }) {
      throw RuntimeFault(
        "tile \(halted.id) halted (line \(halted.haltLine)) without reaching this \(instruction.opcode.mnemonic); every tile must take part",
        at: instruction.location, tile: first)
    }
    let arrivals = blocked.map { tiles[$0].arrival }
    let last = arrivals.max() ?? 0
    var cost = Int64(device.barrierCycles)
    var main: Double = 0
    var shadow: Double = 0
    var reduce: AllReduce?
    switch instruction.operation {
    case .allReduce(let r): reduce = r
    case .barrier: break
    case .nop, .halt, .move, .integer, .floatMove, .float, .jump, .call, .ret, .branch, .bias, .dma, .dmaWait,
      .fence, .vector, .reduction, .mma:
      throw RuntimeFault("internal error: a tile blocked at a non-sync instruction", at: instruction.location)
    }
    if let reduce {
      // Reduce then broadcast over a binary tree: 2·ceil(log2 T) hops of one 4-byte message.
      let levels = Int64(ceilLog2(device.tiles))
      let messageCycles = Int64((4 / device.exchangeBytesPerCycle).rounded(.up))
      cost = 2 * levels * (Int64(device.exchangeHopCycles) + messageCycles)
      do throws(RuntimeFaultMessage) {
        try add(&traffic.exchange, 2 * (device.tiles - 1) * 4)
      } catch {
        throw RuntimeFault(error.text, at: instruction.location, tile: first)
      }
      let values = blocked.sorted().map { float(reduce.source, tile: $0) }
      switch reduce.combine {
      case .max:
        main = values.map(\.main).reduce(-.infinity, VectorNumerics.maxNaN)
        shadow = values.map(\.shadow).reduce(-.infinity, VectorNumerics.maxNaN)
      case .sum:
        main = values.map(\.main).reduce(0, +)
        shadow = values.map(\.shadow).reduce(0, +)
      }
    }
    let release = last + cost
    let async = reduce?.async ?? false
    for t in blocked {
      if async {
        // The tile went on from its own arrival; only fD waits for the reduction.
        tiles[t].time = max(tiles[t].time, tiles[t].arrival)
      } else {
        tiles[t].stats[.scalar].sync += release - tiles[t].time
        record(
          t, .scalar, instruction.opcode.mnemonic, start: tiles[t].time, end: release,
          line: instruction.location.line)
        tiles[t].time = release
      }
      tiles[t].blockedAt = nil
      if let r = reduce?.dest {
        tiles[t].floatRegisters[r] = main
        tiles[t].shadowFloatRegisters[r] = shadow
        tiles[t].floatReady[r] = release
      }
      issue(t)
      do throws(RuntimeFaultMessage) {
        try checkTime(t)
      } catch {
        throw RuntimeFault(error.text, at: instruction.location, tile: t)
      }
    }
  }
}

/// ceil(log2(n)) for n ≥ 1.
func ceilLog2(_ n: Int) -> Int {
  var levels = 0
  var span = 1
  while span < n {
    span *= 2
    levels += 1
  }
  return levels
}

import FP8ISA

/// Handing work to the vector and tensor units: queue limits, data hazards on SRAM ranges and
/// float registers, occupancy and latency.
extension Machine {
  /// An SRAM range an instruction reads or writes.
  struct Access {
    var tensor: Int
    var low: Int
    var high: Int
    init(_ view: ResolvedView) {
      tensor = view.tensor
      low = view.low
      high = view.high
    }
  }

  /// The SRAM ranges an instruction reads or writes: at most 4 (an `mma` reads 3, `layernorm`
  /// 3), held inline, so dispatching allocates nothing.
  struct AccessList: Sequence, ExpressibleByArrayLiteral {
    fileprivate var items: (Access?, Access?, Access?, Access?) = (nil, nil, nil, nil)
    private(set) var count = 0

    init(_ accesses: Access...) { for a in accesses { append(a) } }
    init(arrayLiteral accesses: Access...) { for a in accesses { append(a) } }
    init(_ accesses: [Access]) { for a in accesses { append(a) } }

    mutating func append(_ a: Access) {
      switch count {
      case 0: items.0 = a
      case 1: items.1 = a
      case 2: items.2 = a
      case 3: items.3 = a
      default: preconditionFailure("an instruction with more than 4 tensor accesses")
      }
      count += 1
    }

    struct Iterator: IteratorProtocol {
      fileprivate var list: AccessList
      fileprivate var position = 0
      mutating func next() -> Access? {
        defer { position += 1 }
        switch position {
        case 0: return list.items.0
        case 1: return list.items.1
        case 2: return list.items.2
        case 3: return list.items.3
        default: return nil
        }
      }
    }

    func makeIterator() -> Iterator { Iterator(list: self) }
  }

  /// Waits (in the scalar core) until `queue` has room, counting the wait as a queue stall.
  func waitForRoom(_ queue: inout UnitQueue, tile: Int, depth: Int) {
    let now = tiles[tile].time
    queue.inFlight.removeAll { $0 <= now }
    if queue.inFlight.count >= depth {
      let until = queue.inFlight[queue.inFlight.count - depth]
      tiles[tile].stats[.scalar].queue += until - now
      tiles[tile].time = until
      queue.inFlight.removeAll { $0 <= until }
    }
  }

  /// When data written to `access` becomes readable by `unit`; faults if a DMA load wrote it
  /// and no `dma.wait` covers that load.
  func readReady(_ access: Access, unit: UnitKind, tile: Int) throws(RuntimeFaultMessage) -> Int64 {
    var ready: Int64 = 0
    for w in tiles[tile].hazards[access.tensor].writes where w.low < access.high && access.low < w.high {
      if let id = w.dmaID, id > tiles[tile].waitedThrough {
        throw RuntimeFaultMessage(
          "reads '\(layouts[access.tensor].decl.name)' while the dma.load at line \(w.line) that writes it has not been waited for; add a dma.wait before this instruction"
        )
      }
      ready = max(ready, w.unit == unit ? w.sameUnitReady : w.visible)
    }
    return ready
  }

  /// When `access` may be overwritten: after earlier reads end and earlier writes land.
  func writeReady(_ access: Access, tile: Int) -> Int64 {
    var ready: Int64 = 0
    let h = tiles[tile].hazards[access.tensor]
    for r in h.reads where r.low < access.high && access.low < r.high { ready = max(ready, r.visible) }
    for w in h.writes where w.low < access.high && access.low < w.high { ready = max(ready, w.sameUnitReady) }
    return ready
  }

  /// Schedules one vector or tensor instruction; returns its start and occupancy end.
  @discardableResult
  func dispatch(
    unit: UnitKind, tile: Int, reads: AccessList, writes: AccessList, floatReads: [Int] = [],
    floatWrites: [Int] = [], duration: Int64, latency: Int64, name: @autoclosure () -> String, line: Int
  ) throws(RuntimeFaultMessage) -> (start: Int64, end: Int64) {
    // The unit's queue, moved out and back (a copy would copy its list on the first append).
    var queue = UnitQueue()
    if unit == .tensor { swap(&queue, &tiles[tile].tensor) } else { swap(&queue, &tiles[tile].vector) }
    waitForRoom(&queue, tile: tile, depth: device.unitQueueDepth)
    let dispatchTime = tiles[tile].time
    var ready: Int64 = 0
    for r in reads { ready = max(ready, try readReady(r, unit: unit, tile: tile)) }
    for w in writes { ready = max(ready, writeReady(w, tile: tile)) }
    for f in floatReads { ready = max(ready, tiles[tile].floatReady[f]) }
    let free = max(dispatchTime, queue.freeAt)
    let start = max(free, ready)
    let end = start + duration
    let visible = end + latency
    queue.freeAt = end
    queue.inFlight.append(visible)
    if unit == .tensor { tiles[tile].tensor = queue } else { tiles[tile].vector = queue }

    var stats = tiles[tile].stats[unit]
    stats.busy += duration
    stats.dependency += start - free
    tiles[tile].stats[unit] = stats
    for r in reads {
      tiles[tile].hazards[r.tensor].reads.append(
        PendingAccess(
          low: r.low, high: r.high, visible: end, sameUnitReady: end, unit: unit, dmaID: nil, line: line))
    }
    for w in writes {
      tiles[tile].hazards[w.tensor].writes.append(
        PendingAccess(
          low: w.low, high: w.high, visible: visible, sameUnitReady: end, unit: unit, dmaID: nil, line: line))
    }
    for f in floatWrites { tiles[tile].floatReady[f] = visible }
    tiles[tile].endTime = max(tiles[tile].endTime, visible)
    record(tile, unit, name(), start: start, end: end, line: line)
    for access in reads { pruneHazards(tile, tensor: access.tensor) }
    for access in writes { pruneHazards(tile, tensor: access.tensor) }
    issue(tile)
    return (start, end)
  }

  /// Keeps a tensor's hazard lists short: entries that cannot delay future work are dropped.
  /// (Lists only grow when their tensor is accessed, so pruning there is enough.)
  func pruneHazards(_ tile: Int, tensor: Int) {
    let now = tiles[tile].time
    let waited = tiles[tile].waitedThrough
    tiles[tile].hazards[tensor].prune(before: now, waitedThrough: waited)
  }
}

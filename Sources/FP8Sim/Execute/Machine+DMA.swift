import FP8ISA

/// `dma.load`, `dma.store`, `dma.wait`.
///
/// Cost of a transfer of B bytes issued at time t (see docs/cost-model.md):
///
///     start = max(t, when the SRAM range may be written / has been written)
///     t0    = start + dma.setupCycles
///     port  = max(t0, port free) + B / dma.bytesPerCycle                   (this tile only)
///     link  = t0 + B / l2.bytesPerCycle of the link's free time             (shared, a calendar)
///     dram  = t0 + (fills + write-backs) / dram.bytesPerCycle of its free time  (shared)
///     end   = ceil(max(port, link, dram) + hit (+ dram.latency if any line missed)),
///             no earlier than the data of the lines it hit (fills still on their way)
///
/// `hit` is the near or far partition's L2 latency. A multicast receiver only pays its port
/// and waits for the read it takes. Transfers of one tile finish in issue order.
extension Machine {
  /// The fault of an access that splits the records of a tensor stored in records: "'X' is
  /// nvfp4: a transfer must move whole blocks of it".
  func wholeRecords(_ layout: TensorLayout, _ what: String) -> RuntimeFaultMessage {
    let unit = layout.isBlocked ? "blocks" : "groups of \(layout.recordCols) elements (whole bytes)"
    return RuntimeFaultMessage("'\(layout.decl.name)' is \(layout.decl.dtype): \(what) whole \(unit) of it")
  }

  /// `instruction` is the one whose payload `transfer` is (for its line and name in the trace).
  func executeTransfer(_ transfer: Transfer, tile id: Int, instruction: Instruction)
    throws(RuntimeFaultMessage)
  {
    let line = instruction.location.line
    let load = transfer.direction == .load
    let dst = try resolve(transfer.destination, tile: id)
    let src = try resolve(transfer.source, tile: id)
    let dramView = load ? src : dst
    let access = Access(load ? dst : src)
    // A tensor stored in records moves whole records (a block-scaled one's elements and scales,
    // a packed one's whole bytes): its view in records is what the transfer's bytes and lines
    // are counted on.
    let dramLayout = layouts[dramView.tensor]
    guard let recordView = dramLayout.recordView(dramView) else {
      throw wholeRecords(dramLayout, "a transfer must move")
    }
    // The SRAM side too (its records are the same: the two tensors have one type).
    let sramView = load ? dst : src
    guard layouts[sramView.tensor].recordView(sramView) != nil else {
      throw wholeRecords(layouts[sramView.tensor], "a transfer must move")
    }
    let bytes = dramLayout.bytes(of: dramView)
    if !options.timingOnly { try spend(dramView.count, weight: WorkCost.dmaElement) }

    let dispatchTime = waitForDMASlot(tile: id)
    let ready = max(dispatchTime, transferReady(access, load: load, tile: id))
    let group = try multicastKey(transfer, dramView, tile: id)
    let end: Int64
    if let group, let arrival = multicasts.receive(group, tile: id) {
      try add(&traffic.multicast, bytes)
      try add(&compute.sramBytes, bytes)
      end = try receiveEnd(bytes: bytes, arrival: arrival, dispatched: dispatchTime, ready: ready, tile: id)
    } else {
      let lines = try moveLines(
        recordView, load: load, bytes: bytes, t0: ready + Int64(device.dmaSetupCycles), tile: id)
      end = try transferEnd(
        bytes: bytes, lines: lines, load: load, dispatched: dispatchTime, ready: ready, tile: id)
      if let group { multicasts.offer(group, arrival: end, tile: id) }
    }

    let transferID = tiles[id].nextDMAID
    tiles[id].nextDMAID += 1
    tiles[id].dmaInFlight.append(DMATransfer(id: transferID, end: end))
    tiles[id].lastDMAEnd = end
    tiles[id].endTime = max(tiles[id].endTime, end)
    let pending = PendingAccess(
      low: access.low, high: access.high, visible: end, sameUnitReady: end, unit: .dma,
      dmaID: load ? transferID : nil, line: line)
    if load {
      tiles[id].hazards[access.tensor].addDMAWrite(pending)
    } else {
      tiles[id].hazards[access.tensor].reads.append(pending)
    }
    record(id, .dma, instruction.opcode.mnemonic, start: ready, end: end, line: line)
    pruneHazards(id, tensor: access.tensor)
    if !options.timingOnly { try copyValues(from: src, to: dst, tile: id) }
    issue(id)
  }

  /// Waits (in the scalar core, a queue stall) while the tile has `dma.maxInFlight` transfers
  /// unfinished; returns the time the transfer is handed to the DMA engine.
  func waitForDMASlot(tile id: Int) -> Int64 {
    let now = tiles[id].time
    tiles[id].dmaInFlight.removeAll { $0.end <= now }
    let inFlight = tiles[id].dmaInFlight
    if inFlight.count >= device.dmaMaxInFlight {
      let until = inFlight[inFlight.count - device.dmaMaxInFlight].end
      tiles[id].stats[.scalar].queue += until - now
      tiles[id].time = until
      tiles[id].dmaInFlight.removeAll { $0.end <= until }
    }
    return tiles[id].time
  }

  /// SRAM hazards: a load waits for earlier reads and writes of its destination; a store waits
  /// for the data it sends to be written (by any unit, earlier DMA loads included).
  func transferReady(_ access: Access, load: Bool, tile id: Int) -> Int64 {
    if load { return writeReady(access, tile: id) }
    var ready: Int64 = 0
    for w in tiles[id].hazards[access.tensor].writes where w.low < access.high && access.low < w.high {
      ready = max(ready, w.visible)
    }
    return ready
  }

  /// What a transfer did in L2: lines filled from DRAM, dirty lines evicted, and when the
  /// latest line it hit has its data (a fill or store still on its way).
  struct LineMoves {
    var fills = 0
    var writebacks = 0
    var inFlight: Int64 = 0
    /// Whether a line lies in another L2 partition than the tile's.
    var far = false
  }

  /// Moves the DRAM view's lines through L2 (loads read, stores write-allocate), counting the
  /// bytes at every boundary. The slots whose data this transfer brings (a load's fills, a
  /// store's lines) are left in `lineSlots`, for `transferEnd` to date.
  ///
  /// A hit on a line whose data is still on its way waits for it when the transfer that
  /// allocated the line was ready no later than this one (`t0`); one that was ready later only
  /// came first in issue order, and this transfer waits at most a DRAM latency (had it come
  /// first, it would have filled the line itself).
  func moveLines(_ dramView: ResolvedView, load: Bool, bytes: Int, t0: Int64, tile: Int)
    throws(RuntimeFaultMessage) -> LineMoves
  {
    let latest = t0 + Int64(device.dramLatency)
    let layout = layouts[dramView.tensor]
    let lineBytes = device.l2LineBytes
    let l2 = self.l2
    var moves = LineMoves()
    var skippedWritebacks: [Range<UInt64>] = []
    let runs = lineRuns
    lineSlots.removeAll()
    evictedLines.removeAll()
    runs.removeAll()
    var lines = LineCollector(load: load, t0: t0, latest: latest, slots: lineSlots, evicted: evictedLines)
    var rows = 0
    forEachLineRun(dramView, layout: layout) { first, count, strided, rowsInRun in
      runs.append((first, count, strided))
      rows += rowsInRun
    }
    let partitions = device.l2Partitions
    let near = UInt64(tile * partitions / max(device.tiles, 1))
    let mask = partitions & (partitions - 1) == 0 ? UInt64(partitions - 1) : nil
    func partition(_ line: UInt64) -> UInt64 { mask.map { line & $0 } ?? line % UInt64(partitions) }
    var lookups = 0
    var stridedLookups = 0
    for (first, count, strided) in runs.values {
      let n = l2.lookups(run: count)
      if strided { stridedLookups += n } else { lookups += n }
      if partitions > 1, !moves.far {
        // Lines alternate between partitions: a run of `partitions` lines or more reaches a far one.
        moves.far = count >= partitions || (0..<UInt64(count)).contains { partition(first + $0) != near }
      }
    }
    // The host walks every row too, even where rows merge into one run the L2 skips through.
    try spend(max(lookups, rows - stridedLookups), weight: WorkCost.l2Line)
    try spend(stridedLookups, weight: WorkCost.l2StridedLine)
    // Rows far apart look up sets far apart: the host fetches a few rows ahead.
    let runList = runs.values
    let ahead = 6
    for i in 0..<min(ahead, runList.count) { l2.prefetch(line: runList[i].0) }
    for (i, (first, count, _)) in runList.enumerated() {
      if i + ahead < runList.count { l2.prefetch(line: runList[i + ahead].0) }
      let skipped = l2.accessRun(first: first, count: count, write: !load, at: t0, &lines)
      // Without L2 a store's whole run is skipped: it goes straight to DRAM.
      if load { lines.fills += skipped.count } else if !skipped.isEmpty { skippedWritebacks.append(skipped) }
    }
    moves.fills = lines.fills
    moves.inFlight = lines.inFlight
    let fills = moves.fills
    moves.writebacks = lines.evicted.count + skippedWritebacks.reduce(0) { $0 + $1.count }
    var own = traffic.perTensor[dramView.tensor, default: TensorTraffic()]
    if load {
      try add(&traffic.dramToL2, fills * lineBytes)
      try add(&traffic.l2ToSram, bytes)
      try add(&own.dramToL2, fills * lineBytes)
      try add(&own.l2ToSram, bytes)
    } else {
      try add(&traffic.sramToL2, bytes)
      try add(&own.sramToL2, bytes)
    }
    traffic.perTensor[dramView.tensor] = own
    try writeBack(lines.evicted.values)
    for range in skippedWritebacks { try writeBack(range) }
    try add(&compute.sramBytes, bytes)
    return moves
  }

  /// A transfer's bookkeeping for each line it looks up in L2: a load's hits give the latest
  /// time their data is there, its misses are fills; the slots whose data it brings (a load's
  /// fills, a store's lines) are kept for `transferEnd` to date; dirty lines evicted go to DRAM.
  struct LineCollector: L2Visitor {
    let load: Bool
    let t0: Int64
    let latest: Int64
    let slots: Scratch<Int>
    let evicted: Scratch<UInt64>
    var inFlight: Int64 = 0
    var fills = 0

    init(load: Bool, t0: Int64, latest: Int64, slots: Scratch<Int>, evicted: Scratch<UInt64>) {
      (self.load, self.t0, self.latest, self.slots, self.evicted) = (load, t0, latest, slots, evicted)
    }

    @inline(__always)
    mutating func visit(_ line: UInt64, _ r: (hit: Bool, writeback: UInt64?, slot: Int), in cache: L2Cache) {
      if !load {
        slots.append(r.slot)
      } else if r.hit {
        inFlight = max(inFlight, cache.dataTime(slot: r.slot, readyAt: t0, latest: latest))
      } else {
        fills += 1
        if r.slot >= 0 { slots.append(r.slot) }
      }
      if let e = r.writeback { evicted.append(e) }
    }
  }

  /// When a transfer ends: its port, the shared L2 link and (for fills and write-backs) the
  /// DRAM link, plus latency, never before the tile's previous transfer, nor before the lines it
  /// hit have their data (see `moveLines`). Dates the lines in `lineSlots`: a load's fills
  /// arrive with its DRAM bytes, a store's lines with its link bytes. Counts the DMA unit's busy,
  /// dependency and bandwidth cycles.
  func transferEnd(bytes: Int, lines: LineMoves, load: Bool, dispatched: Int64, ready: Int64, tile id: Int)
    throws(RuntimeFaultMessage) -> Int64
  {
    let t0 = Double(ready + Int64(device.dmaSetupCycles))
    let port = try occupyPort(bytes: bytes, from: t0, tile: id)
    let linkEnd = try l2Link.reserve(at: t0, bytes: bytes)
    let dramBytes = (lines.fills + lines.writebacks) * device.l2LineBytes
    let dramEnd = dramBytes > 0 ? try dramLink.reserve(at: t0, bytes: dramBytes) : t0
    forgetLinkHistory()
    let hit = lines.far ? device.l2FarHitLatency : device.l2HitLatency
    let latency = Double(hit) + (lines.fills > 0 ? Double(device.dramLatency) : 0)
    let filled = try RunLimits.cycles(
      (load ? dramEnd + Double(device.dramLatency) : linkEnd), "this transfer")
    for slot in lineSlots.values { l2.arrives(slot: slot, at: filled, floor: timeFloor()) }
    let hitData = lines.inFlight + Int64(hit)
    let end = max(
      try RunLimits.cycles(max(port.end, linkEnd, dramEnd) + latency, "this transfer"), tiles[id].lastDMAEnd,
      hitData)
    countTransfer(
      port: port, sharedEnd: max(linkEnd, dramEnd), dispatched: dispatched, ready: ready, tile: id)
    return end
  }

  /// The tile's DMA port moves `bytes` from `t0` on, after its earlier transfers; returns when
  /// it starts and ends.
  func occupyPort(bytes: Int, from t0: Double, tile id: Int) throws(RuntimeFaultMessage)
    -> (start: Double, end: Double)
  {
    let start = max(t0, tiles[id].dmaPortFree)
    let end = start + (try Link(bytesPerCycle: device.dmaBytesPerCycle).duration(bytes))
    tiles[id].dmaPortFree = end
    return (start, end)
  }

  /// Counts a transfer in the DMA unit's statistics: busy while its port moves bytes, a
  /// dependency stall from dispatch until it is ready, a bandwidth stall from its port's end
  /// until `sharedEnd` (a shared link, or the multicast read it receives). Whole cycles:
  /// differences of rounded times, so sums telescope.
  func countTransfer(
    port: (start: Double, end: Double), sharedEnd: Double, dispatched: Int64, ready: Int64, tile id: Int
  ) {
    func cycle(_ t: Double) -> Int64 { Int64(t.rounded(.up)) }
    var stats = tiles[id].stats[.dma]
    stats.busy += cycle(port.end) - cycle(port.start)
    stats.dependency += ready - dispatched
    stats.bandwidth += max(0, cycle(sharedEnd) - cycle(port.end))
    tiles[id].stats[.dma] = stats
  }

  /// The multicast group of a `dma.load … mcast=G` (nil without one, or when the group is this
  /// tile alone); faults when the device's clusters are smaller than G.
  func multicastKey(_ transfer: Transfer, _ dramView: ResolvedView, tile id: Int) throws(RuntimeFaultMessage)
    -> MulticastBoard.Key?
  {
    let size = Int(transfer.multicast)
    guard transfer.direction == .load, size > 1 else { return nil }
    guard size <= device.dmaMulticastTiles else {
      throw RuntimeFaultMessage(
        "mcast=\(size) is larger than device '\(device.name)''s multicast groups (dma.multicastTiles = \(device.dmaMulticastTiles))"
      )
    }
    let first = id / size * size
    let members = min(size, device.tiles - first)
    guard members > 1 else { return nil }
    return MulticastBoard.Key(
      first: first, members: members, tensor: dramView.tensor, offset: dramView.offset, shape: dramView.shape,
      strides: dramView.strides)
  }

  /// When a load served by another tile's multicast read ends: this tile's port writes its SRAM
  /// from `ready` on, and the data is there once the read that carries it has arrived.
  func receiveEnd(bytes: Int, arrival: Int64, dispatched: Int64, ready: Int64, tile id: Int)
    throws(RuntimeFaultMessage) -> Int64
  {
    let port = try occupyPort(bytes: bytes, from: Double(ready + Int64(device.dmaSetupCycles)), tile: id)
    let end = max(try RunLimits.cycles(port.end, "this transfer"), arrival, tiles[id].lastDMAEnd)
    countTransfer(port: port, sharedEnd: Double(arrival), dispatched: dispatched, ready: ready, tile: id)
    return end
  }

  /// Keeps the links' calendars short: busy time before every tile's clock can no longer be
  /// reserved around (a transfer is ready no earlier than its tile's time). Runs when the
  /// calendars have doubled since the last time, so a tile held back (in a barrier) does not
  /// make every transfer scan the tiles in vain.
  func forgetLinkHistory() {
    guard l2Link.busy.count + dramLink.busy.count > linkForgetAt else { return }
    defer { linkForgetAt = max(256, 2 * (l2Link.busy.count + dramLink.busy.count)) }
    let floor = timeFloor()
    guard floor < .max else { return }
    l2Link.forget(before: Double(floor))
    dramLink.forget(before: Double(floor))
  }

  /// The earliest clock of a tile still running (`Int64.max` when none is): no transfer can be
  /// ready before it any more.
  func timeFloor() -> Int64 {
    var floor = Int64.max
    for t in tiles.indices where !tiles[t].halted { floor = min(floor, tiles[t].time) }
    return floor
  }

  /// The values of a transfer: row by row when the views have one shape (no temporaries), else
  /// chunk by chunk (bounded temporaries); source and destination are different tensors.
  func copyValues(from src: ResolvedView, to dst: ResolvedView, tile id: Int) throws(RuntimeFaultMessage) {
    let from = try storage(src.tensor, tile: id)
    let to = try storage(dst.tensor, tile: id)
    if src.shape == dst.shape {
      dst.copy(src, from: from.main, into: &to.main)
      dst.copy(src, from: from.shadow, into: &to.shadow)
      return
    }
    let n = dst.count
    for lo in stride(from: 0, to: n, by: Machine.chunkElements) {
      let range = lo..<min(n, lo + Machine.chunkElements)
      dst.scatter(src.gather(from.main, range: range), range: range, into: &to.main)
      dst.scatter(src.gather(from.shadow, range: range), range: range, into: &to.shadow)
    }
  }

  /// `dma.wait N`: stall until at most the `keep` most recent transfers are unfinished; every
  /// older one counts as waited for (its destination may be read).
  func dmaWait(keep: Int64, tile id: Int) {
    let (target, overflow) = (tiles[id].nextDMAID - 1).subtractingReportingOverflow(Int(keep))
    guard !overflow, target > tiles[id].waitedThrough else { return }
    let now = tiles[id].time
    if let t = tiles[id].dmaInFlight.first(where: { $0.id == target }), t.end > now {
      tiles[id].stats[.scalar].dependency += t.end - now
      tiles[id].time = t.end
    }
    tiles[id].waitedThrough = target
    let time = tiles[id].time
    tiles[id].dmaInFlight.removeAll { $0.end <= time }
  }

  /// Counts dirty lines written to DRAM, against the tensors that own them.
  func writeBack(_ lines: some Collection<UInt64>) throws(RuntimeFaultMessage) {
    let lineBytes = device.l2LineBytes
    try add(&traffic.l2ToDram, lines.count * lineBytes)
    for line in lines {
      if let t = tensor(ofLine: line) {
        try add(&traffic.perTensor[t, default: TensorTraffic()].l2ToDram, lineBytes)
      }
    }
  }

  /// Counts a run of consecutive lines written to DRAM, against the tensors that own them (as
  /// `tensor(ofLine:)` on each would).
  func writeBack(_ lines: Range<UInt64>) throws(RuntimeFaultMessage) {
    let lineBytes = device.l2LineBytes
    try add(&traffic.l2ToDram, lines.count * lineBytes)
    for (i, r) in dramRanges.enumerated() {
      // The addresses `tensor(ofLine:)` gives this tensor: from its start to its end or the
      // next tensor's start, whichever is first.
      var end = r.address + max(r.bytes, 1)
      if i + 1 < dramRanges.count { end = min(end, max(dramRanges[i + 1].address, r.address)) }
      let low = max(UInt64((r.address + lineBytes - 1) / lineBytes), lines.lowerBound)
      let high = min(UInt64((end + lineBytes - 1) / lineBytes), lines.upperBound)
      if low < high {
        try add(&traffic.perTensor[r.tensor, default: TensorTraffic()].l2ToDram, Int(high - low) * lineBytes)
      }
    }
  }

  /// The DRAM tensor whose storage holds `line` (binary search over the address map).
  func tensor(ofLine line: UInt64) -> Int? {
    let address = Int(line) * device.l2LineBytes
    var low = 0
    var high = dramRanges.count
    while low < high {
      let mid = (low + high) / 2
      if dramRanges[mid].address <= address { low = mid + 1 } else { high = mid }
    }
    guard low > 0 else { return nil }
    let r = dramRanges[low - 1]
    return address < r.address + max(r.bytes, 1) ? r.tensor : nil
  }

  /// Calls `body(first, count, strided, rows)` for the L2 lines (global line numbers) a DRAM view
  /// touches, in order: each contiguous row's lines as one run (merged with the next row's
  /// when that starts on the following line), a strided row's lines one at a time (`strided`,
  /// as are the rows of a column view: far apart, the host's caches miss). A line two rows
  /// share is passed twice, as the hardware would look it up twice.
  @inline(__always)
  func forEachLineRun<E: Error>(
    _ view: ResolvedView, layout: TensorLayout, _ body: (UInt64, Int, Bool, Int) throws(E) -> Void
  ) throws(E) {
    // Line sizes are powers of two (`DeviceConfig.validate`): a shift, not a division per row.
    let shift = device.l2LineBytes.trailingZeroBitCount
    // Tensors stored in records are walked in records (`recordView`).
    let eb = layout.hasRecords ? layout.recordBytes : layout.elementBytes
    let address = layout.address
    var pending: (first: Int, last: Int, rows: Int)?
    func emitPending() throws(E) {
      if let p = pending { try body(UInt64(p.first), p.last - p.first + 1, false, p.rows) }
      pending = nil
    }
    try view.forEachRun { (start, length, stride) throws(E) in
      if stride == 1 || length == 1 {
        let first = (address + start * eb) >> shift
        let last = (address + (start + length) * eb - 1) >> shift
        if length == 1 && view.count > 1 {
          try emitPending()
          try body(UInt64(first), 1, true, 1)
        } else if let p = pending, p.last + 1 == first {
          pending = (p.first, last, p.rows + 1)
        } else {
          try emitPending()
          pending = (first, last, 1)
        }
        return
      }
      try emitPending()
      var previous = -1
      for j in 0..<length {
        let l = (address + (start + j * stride) * eb) >> shift
        if l != previous { try body(UInt64(l), 1, true, 1) }
        previous = l
      }
    }
    try emitPending()
  }

  func storage(_ index: Int, tile: Int) throws(RuntimeFaultMessage) -> TensorStorage {
    do {
      return try storage(index, tile: tile, location: layouts[index].decl.location)
    } catch {
      throw RuntimeFaultMessage(error.message)
    }
  }
}

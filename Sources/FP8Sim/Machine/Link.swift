/// A shared link with a bandwidth (tile ↔ L2, L2 ↔ DRAM), kept as a calendar of busy intervals
/// in fractional cycles.
///
/// A transfer of B bytes ready at time t occupies the link for B / bytesPerCycle cycles of the
/// link's free time from t on, in as many pieces as the calendar's gaps need (the bytes of
/// concurrent transfers interleave on the wire). Reservations therefore do not have to arrive
/// in time order: a transfer ready at t never waits behind one that was reserved earlier but is
/// only ready later, except where that one already holds the link. Time stays fractional, so N
/// back-to-back transfers of B bytes take exactly N·B / bytesPerCycle cycles.
struct Link {
  let bytesPerCycle: Double
  /// Disjoint busy intervals, sorted by start (hence by end).
  private(set) var busy: [(start: Double, end: Double)] = []

  init(bytesPerCycle: Double) { self.bytesPerCycle = bytesPerCycle }

  /// Cycles to move `bytes` at this link's bandwidth (fractional); faults past
  /// `RunLimits.maxCycles`.
  func duration(_ bytes: Int) throws(RuntimeFaultMessage) -> Double {
    let d = Double(bytes) / bytesPerCycle
    _ = try RunLimits.cycles(d, "a transfer of \(bytes) bytes at \(bytesPerCycle) B/cycle")
    return d
  }

  /// Reserves `bytes` of the link's free time from `time` on; returns when the last byte has
  /// passed.
  mutating func reserve(at time: Double, bytes: Int) throws(RuntimeFaultMessage) -> Double {
    var need = try duration(bytes)
    if need <= 0 { return time }
    // First interval that ends after `time` (ends are sorted too).
    var low = 0
    var high = busy.count
    while low < high {
      let mid = (low + high) / 2
      if busy[mid].end <= time { low = mid + 1 } else { high = mid }
    }
    let first = low
    var i = first
    var t = time
    var pieces: [(start: Double, end: Double)] = []
    while true {
      let gapEnd = i < busy.count ? busy[i].start : .infinity
      if gapEnd > t {
        if gapEnd - t >= need {
          pieces.append((t, t + need))
          t += need
          break
        }
        pieces.append((t, gapEnd))
        need -= gapEnd - t
      }
      t = max(t, busy[i].end)
      i += 1
    }
    // Replace busy[first..<i] by its union with the new pieces (all within that span).
    var merged: [(start: Double, end: Double)] = []
    merged.reserveCapacity(i - first + pieces.count)
    var a = first
    var b = 0
    while a < i || b < pieces.count {
      let next: (start: Double, end: Double)
      if b >= pieces.count || (a < i && busy[a].start <= pieces[b].start) {
        next = busy[a]
        a += 1
      } else {
        next = pieces[b]
        b += 1
      }
      if let last = merged.last, last.end >= next.start {
        merged[merged.count - 1].end = max(last.end, next.end)
      } else {
        merged.append(next)
      }
    }
    // The intervals just before and after the span may now touch the pieces.
    var start = first
    if start > 0, let head = merged.first, busy[start - 1].end >= head.start {
      merged[0].start = busy[start - 1].start
      start -= 1
    }
    if i < busy.count, let last = merged.last, last.end >= busy[i].start {
      merged[merged.count - 1].end = max(last.end, busy[i].end)
      i += 1
    }
    busy.replaceSubrange(start..<i, with: merged)
    return t
  }

  /// Drops the intervals that end before `time`: no transfer will be ready before it.
  mutating func forget(before time: Double) {
    var n = 0
    while n < busy.count, busy[n].end < time { n += 1 }
    if n > 0 { busy.removeFirst(n) }
  }
}

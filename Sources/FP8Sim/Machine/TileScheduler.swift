/// The order in which tiles issue: the tile whose scalar core is earliest in simulated time
/// issues next, ties broken by the lower tile id, so requests reach the shared links roughly in
/// time order. A tile that reaches a barrier or all-reduce waits; when no tile can run, `release`
/// lets every waiting tile go together (or faults) and they join the order again.
enum TileScheduler {
  /// Steps tiles `0..<count` until every one has halted. `time(t)` is tile `t`'s current time
  /// (only `step(t)` and `release` change it); `step(t)` issues one instruction of tile `t`;
  /// `release` gets the waiting tiles in the order they arrived.
  ///
  /// Equivalent to choosing the earliest (time, tile id) before every step; a tile runs on
  /// without going through the heap while it stays the earliest.
  @inline(__always)
  static func run<E: Error>(
    tiles count: Int, time: (Int) -> Int64, step: (Int) throws(E) -> Machine.StepOutcome,
    release: ([Int]) throws(E) -> Void
  ) throws(E) {
    var heap = TileHeap()
    for t in 0..<count { heap.push(time: time(t), tile: t) }
    var blocked: [Int] = []
    while let id = heap.pop() {
      let next = heap.peek ?? (.max, .max)
      // Run this tile while it stays the earliest (time, then tile id).
      while true {
        let outcome = try step(id)
        if outcome == .blocked {
          blocked.append(id)
          break
        }
        if outcome == .halted { break }
        let now = time(id)
        if now > next.0 || (now == next.0 && id > next.1) {
          heap.push(time: now, tile: id)
          break
        }
      }
      if heap.isEmpty && !blocked.isEmpty {
        try release(blocked)
        for t in blocked { heap.push(time: time(t), tile: t) }
        blocked.removeAll()
      }
    }
  }
}

/// A binary min-heap of (time, tile), ties broken by tile id.
struct TileHeap {
  private var items: [(Int64, Int)] = []
  var isEmpty: Bool { items.isEmpty }
  var peek: (Int64, Int)? { items.first }

  private func less(_ a: (Int64, Int), _ b: (Int64, Int)) -> Bool { a.0 < b.0 || (a.0 == b.0 && a.1 < b.1) }

  mutating func push(time: Int64, tile: Int) {
    items.append((time, tile))
    var i = items.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      if !less(items[i], items[parent]) { break }
      items.swapAt(i, parent)
      i = parent
    }
  }

  mutating func pop() -> Int? {
    guard !items.isEmpty else { return nil }
    let top = items[0].1
    let last = items.removeLast()
    if !items.isEmpty {
      items[0] = last
      var i = 0
      while true {
        let l = 2 * i + 1
        let r = l + 1
        var m = i
        if l < items.count, less(items[l], items[m]) { m = l }
        if r < items.count, less(items[r], items[m]) { m = r }
        if m == i { break }
        items.swapAt(i, m)
        i = m
      }
    }
    return top
  }
}

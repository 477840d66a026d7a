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

/// A binary min-heap of (time, tile), ties broken by tile id: each entry is one `Int64`,
/// `time · 2^13 + tile` (tiles are fewer than 2^13, `DeviceConfig`'s limit; times stay below
/// 2^50, far above `RunLimits.maxCycles`), so a comparison is one integer comparison.
struct TileHeap {
  private var items: [Int64] = []
  static let tileBits: Int64 = 13
  var isEmpty: Bool { items.isEmpty }
  var peek: (Int64, Int)? { items.first.map { ($0 >> Self.tileBits, Int($0 & ((1 << Self.tileBits) - 1))) } }

  mutating func push(time: Int64, tile: Int) {
    precondition(tile >= 0 && tile < 1 << Self.tileBits && time >= 0 && time < 1 << 50)
    items.append(time << Self.tileBits | Int64(tile))
    items.withUnsafeMutableBufferPointer { h in
      var i = h.count - 1
      let item = h[i]
      while i > 0 {
        let parent = (i - 1) / 2
        if h[parent] <= item { break }
        h[i] = h[parent]
        i = parent
      }
      h[i] = item
    }
  }

  mutating func pop() -> Int? {
    guard let top = items.first else { return nil }
    let last = items.removeLast()
    if !items.isEmpty {
      items.withUnsafeMutableBufferPointer { h in
        let n = h.count
        var i = 0
        while true {
          let l = 2 * i + 1
          if l >= n { break }
          var m = l
          if l + 1 < n, h[l + 1] < h[l] { m = l + 1 }
          if last <= h[m] { break }
          h[i] = h[m]
          i = m
        }
        h[i] = last
      }
    }
    return Int(top & ((1 << Self.tileBits) - 1))
  }
}

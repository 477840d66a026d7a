import FP8Formats
import Testing

@testable import FP8Sim

/// The tile order of `Machine.run` against references that choose by linear search: `TileHeap`
/// against a list searched for its least (time, tile id), and `TileScheduler.run` (the run loop)
/// against a loop that picks the earliest runnable tile before every single step.
@Suite struct TileSchedulerTests {
  /// The least (time, tile) of `items`, by linear search.
  static func least(_ items: [(Int64, Int)]) -> Int? {
    items.indices.min { a, b in
      items[a].0 < items[b].0 || (items[a].0 == items[b].0 && items[a].1 < items[b].1)
    }
  }

  /// Seeded pushes and pops with many ties (times from a handful of values, tile ids repeated):
  /// every pop and peek agrees with the linear search.
  @Test(arguments: [(4, 8), (16, 3), (1, 50), (1000, 1000)])
  func heapPopsWhatALinearSearchFinds(times: Int, tileIDs: Int) {
    var rng = SplitMix64(seed: UInt64(times * 7919 + tileIDs))
    var heap = TileHeap()
    var list: [(Int64, Int)] = []
    var pops = 0
    var mismatches: [String] = []
    for step in 0..<20_000 {
      // Grow and shrink in waves, so the heap is often empty and often large.
      let pushShare: UInt64 = (step / 2000) % 2 == 0 ? 6 : 3
      if rng.next() % 10 < pushShare {
        let item = (Int64(rng.next() % UInt64(times)), Int(rng.next() % UInt64(tileIDs)))
        heap.push(time: item.0, tile: item.1)
        list.append(item)
      } else {
        let want = Self.least(list).map { list.remove(at: $0) }
        let got = heap.pop()
        pops += 1
        if got != want?.1, mismatches.count < 5 {
          mismatches.append(
            "step \(step): popped \(got.map(String.init) ?? "nil"), want \(want.map { "\($0)" } ?? "nil")")
        }
      }
      let peek = heap.peek
      let wantPeek = Self.least(list).map { list[$0] }
      if peek?.0 != wantPeek?.0 || peek?.1 != wantPeek?.1 || heap.isEmpty != list.isEmpty,
        mismatches.count < 5
      {
        mismatches.append(
          "step \(step): peek \(peek.map { "\($0)" } ?? "nil"), want \(wantPeek.map { "\($0)" } ?? "nil")")
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    #expect(pops > 5000)
  }

  /// A stand-in for the machine: each tile follows its own seeded script (step k of tile t
  /// always does the same thing, whatever the order the tiles run in): it spends 0 to 3 cycles
  /// (0 makes ties), now and then a long wait, reaches a sync point, or halts. A release lets
  /// the waiting tiles go at the latest arrival plus a cost.
  struct FakeMachine {
    enum Event: Equatable, CustomStringConvertible {
      case step(tile: Int, at: Int64)
      case release([Int])
      var description: String {
        switch self {
        case .step(let t, let at): return "tile \(t) at \(at)"
        case .release(let ids): return "release \(ids)"
        }
      }
    }

    let seed: UInt64
    var time: [Int64]
    var steps: [Int]
    var releases = 0
    var log: [Event] = []

    init(tiles: Int, seed: UInt64) {
      self.seed = seed
      time = Array(repeating: 0, count: tiles)
      steps = Array(repeating: 0, count: tiles)
    }

    mutating func step(_ t: Int) -> Machine.StepOutcome {
      log.append(.step(tile: t, at: time[t]))
      steps[t] += 1
      let r = RandomBits.at(seed: seed &+ UInt64(t), index: UInt64(steps[t]))
      if steps[t] > 40 && r % 50 == 0 { return .halted }
      if steps[t] >= 400 { return .halted }
      switch (r >> 8) % 40 {
      case 0, 1: return .blocked
      case 2: time[t] += Int64((r >> 16) % 200)
      default: time[t] += Int64((r >> 16) % 4)
      }
      return .running
    }

    mutating func release(_ waiting: [Int]) {
      log.append(.release(waiting))
      releases += 1
      let last = waiting.map { time[$0] }.max()!
      for t in waiting { time[t] = last + Int64(releases % 3) * 5 }
    }
  }

  /// The reference: before every step, the earliest (time, tile id) of the tiles that neither
  /// wait nor have halted; when none is left, the waiting ones are released in arrival order.
  /// Also counts the steps where another runnable tile had the same time (a tie).
  static func reference(tiles: Int, seed: UInt64) -> (log: [FakeMachine.Event], ties: Int) {
    var m = FakeMachine(tiles: tiles, seed: seed)
    enum State { case running, waiting, halted }
    var state = Array(repeating: State.running, count: tiles)
    var waiting: [Int] = []
    var ties = 0
    while true {
      let runnable = (0..<tiles).filter { state[$0] == .running }
      guard let t = runnable.min(by: { (m.time[$0], $0) < (m.time[$1], $1) }) else {
        if waiting.isEmpty { break }
        m.release(waiting)
        for w in waiting { state[w] = .running }
        waiting = []
        continue
      }
      if runnable.contains(where: { $0 != t && m.time[$0] == m.time[t] }) { ties += 1 }
      switch m.step(t) {
      case .running: break
      case .blocked:
        state[t] = .waiting
        waiting.append(t)
      case .halted: state[t] = .halted
      }
    }
    return (m.log, ties)
  }

  @Test(arguments: [1, 2, 3, 5, 8, 13])
  func runLoopIssuesTheEarliestTileFirst(tiles: Int) {
    var ties = 0
    var groupReleases = 0
    for seed in UInt64(0)..<20 {
      var m = FakeMachine(tiles: tiles, seed: seed * 1_000_003 + UInt64(tiles))
      TileScheduler.run(
        tiles: tiles, time: { m.time[$0] }, step: { m.step($0) }, release: { m.release($0) })
      let (want, t) = Self.reference(tiles: tiles, seed: seed * 1_000_003 + UInt64(tiles))
      ties += t
      groupReleases += want.filter { if case .release(let w) = $0 { w.count > 1 } else { false } }.count
      let first =
        (0..<min(m.log.count, want.count)).first { m.log[$0] != want[$0] } ?? min(m.log.count, want.count)
      let same = m.log == want
      #expect(
        same,
        "\(tiles) tiles, seed \(seed): event \(first) is \(first < m.log.count ? "\(m.log[first])" : "<end>"), want \(first < want.count ? "\(want[first])" : "<end>")"
      )
    }
    // The scripts exercise what they are meant to: ties, and tiles released together.
    if tiles > 1 {
      #expect(ties > 100 && groupReleases > 20, "\(ties) ties, \(groupReleases) group releases")
    }
  }

  /// A fault from a step or a release ends the run at once.
  @Test func aFaultStopsTheLoop() {
    struct Stop: Error {}
    var stepped = 0
    #expect(throws: Stop.self) {
      try TileScheduler.run(
        tiles: 3, time: { _ in 0 },
        step: { (_: Int) throws(Stop) -> Machine.StepOutcome in
          stepped += 1
          if stepped == 5 { throw Stop() }
          return .running
        }, release: { (_: [Int]) throws(Stop) in })
    }
    #expect(stepped == 5)
    var released = 0
    #expect(throws: Stop.self) {
      try TileScheduler.run(
        tiles: 2, time: { _ in 0 }, step: { (_: Int) throws(Stop) -> Machine.StepOutcome in .blocked },
        release: { (_: [Int]) throws(Stop) in
          released += 1
          throw Stop()
        })
    }
    #expect(released == 1)
  }
}

import FP8Formats
import Testing

@testable import FP8Sim

/// `L2Cache` against a reference written from its documentation only: each set is a list of
/// lines from least to most recently used, each with a dirty flag; a miss appends the line (a
/// read clean, a write dirty: write-allocate without fill) and, when the set is full, first
/// drops the least recently used line, which goes back to DRAM if it is dirty; a hit moves the
/// line to the end and a write hit makes it dirty; `flush` writes back every dirty line and
/// keeps it, clean. With no sets (capacity 0) nothing is held: a read misses, a write goes
/// straight to DRAM (neither hit nor miss), nothing is ever written back.
@Suite struct L2CacheModelTests {
  struct ReferenceL2 {
    let sets: Int
    let ways: Int
    /// Per line: when its data arrives, and when the transfer that allocated it was ready.
    var lists: [[(line: UInt64, dirty: Bool, arrival: Int64, requested: Int64)]]
    var hits = 0
    var misses = 0
    var writebacks = 0

    init(sets: Int, ways: Int) {
      self.sets = sets
      self.ways = ways
      lists = Array(repeating: [], count: sets)
    }

    mutating func access(line: UInt64, write: Bool, at time: Int64 = 0) -> (hit: Bool, writeback: UInt64?) {
      guard sets > 0 else {
        if !write { misses += 1 }
        return (false, nil)
      }
      let s = Int(line % UInt64(sets))
      if let i = lists[s].firstIndex(where: { $0.line == line }) {
        var entry = lists[s].remove(at: i)
        entry.dirty = entry.dirty || write
        lists[s].append(entry)
        hits += 1
        return (true, nil)
      }
      misses += 1
      var evicted: UInt64?
      if lists[s].count == ways {
        let lru = lists[s].removeFirst()
        if lru.dirty {
          evicted = lru.line
          writebacks += 1
        }
      }
      lists[s].append((line, write, 0, time))
      return (false, evicted)
    }

    /// The line's data arrives at `time` (never earlier than known).
    mutating func arrives(line: UInt64, at time: Int64) {
      let s = Int(line % UInt64(sets))
      let i = lists[s].firstIndex { $0.line == line }!
      lists[s][i].arrival = max(lists[s][i].arrival, time)
    }

    /// When a transfer ready at `t0` that hits `line` has its data (the documented rule).
    func dataTime(line: UInt64, readyAt t0: Int64, latest: Int64) -> Int64 {
      let e = lists[Int(line % UInt64(sets))].first { $0.line == line }!
      return e.requested <= t0 ? e.arrival : min(e.arrival, latest)
    }

    mutating func flush() -> [UInt64] {
      var lines: [UInt64] = []
      for s in lists.indices {
        for i in lists[s].indices where lists[s][i].dirty {
          lines.append(lists[s][i].line)
          lists[s][i].dirty = false
        }
      }
      writebacks += lines.count
      return lines
    }
  }

  /// (sets, ways): disabled, direct-mapped, fully associative, odd set counts (no power of two,
  /// so `line % sets`, the multiply that replaces it and the consecutive-line shortcut disagree
  /// if one is wrong), 16 ways (compared 16 at a time), more than 16 (a stamp per way instead of
  /// the packed order), the teaching device's 512 × 8 and the H100 preset's 25,600 × 16.
  static let shapes: [(sets: Int, ways: Int)] = [
    (0, 8), (1, 1), (1, 4), (4, 1), (3, 2), (7, 3), (16, 8), (5, 16), (3, 17), (2, 64), (512, 8),
    (25_600, 16),
  ]

  /// Each shape with 64-bit tags (lines up to near 2^62) and with 32-bit ones (lines below
  /// `narrowLines`, told to the cache).
  /// The last two: the H100 shape with runs a little longer than twice the cache, the only
  /// ones that skip there.
  static let cases =
    (0..<shapes.count).flatMap { [($0, true, false), ($0, false, false)] } + [
      (shapes.count - 1, false, true), (shapes.count - 1, true, true),
    ]
  static let narrowLines: UInt64 = 1 << 20

  /// Seeded access sequences shaped like the machine's: runs of consecutive lines (a DMA row),
  /// strided lines that land in one set, random lines from a pool a bit larger than the cache
  /// (hits and evictions), lines near 2^62, and a flush now and then.
  ///
  /// Rows also go through `accessRun` (runs up to 5 times the cache, so the skipped middle of a
  /// long run is exercised), and every hit's data time is compared, after fills are given
  /// random arrival times as the machine gives them.
  @Test(arguments: cases)
  func matchesTheReferenceModel(shape: Int, wide: Bool, long: Bool) {
    let (sets, ways) = Self.shapes[shape]
    var rng = SplitMix64(seed: 0x1_2C4E + UInt64(shape) + (wide ? 0 : 1 << 32) + (long ? 1 << 33 : 0))
    let cache = L2Cache(sets: sets, ways: ways, maxLine: wide ? .max : Self.narrowLines - 1)
    var model = ReferenceL2(sets: sets, ways: ways)
    let capacity = max(1, sets * ways)
    // Lines a bit more than the cache holds (at most 4,096: a large cache hits within them).
    let pool = UInt64(min(capacity + capacity / 2 + 2, 4096))
    let longestRow = UInt64(min(2 * capacity + 3, 2000))
    var accesses = 0
    var sawHit = false
    var sawWriteback = false
    var sawFlushedLine = false
    var failures = 0

    var clock: Int64 = 0
    var sawLateHit = false
    var sawSkip = false
    func fail(_ what: String) {
      failures += 1
      if failures <= 5 {
        Issue.record("\(sets)×\(ways) \(wide ? "wide" : "narrow"), access \(accesses): \(what)")
      }
    }
    /// Compares one look-up's result (from `access` or visited by `accessRun`); dates a miss's
    /// line and checks a hit's data time on both.
    /// Returns the reference's write-back (within a run they are compared as a whole).
    @discardableResult
    func compare(
      _ line: UInt64, _ write: Bool, _ got: (hit: Bool, writeback: UInt64?, slot: Int), time: Int64,
      inRun: Bool = false
    ) -> UInt64? {
      let want = model.access(line: line, write: write, at: time)
      sawHit = sawHit || want.hit
      sawWriteback = sawWriteback || want.writeback != nil
      defer {
        if sets > 0 && !want.hit {
          let arrival = time + Int64(rng.next() % 20)
          cache.arrives(slot: got.slot, at: arrival, floor: 0)
          model.arrives(line: line, at: arrival)
        }
      }
      if got.hit != want.hit || (!inRun && got.writeback != want.writeback) {
        fail(
          "\(write ? "write" : "read") line \(line): got hit \(got.hit) writeback \(got.writeback.map(String.init) ?? "none"), want hit \(want.hit) writeback \(want.writeback.map(String.init) ?? "none")"
        )
      }
      if sets > 0 && want.hit {
        let latest = time + 7
        let g = cache.dataTime(slot: got.slot, readyAt: time, latest: latest)
        let w = model.dataTime(line: line, readyAt: time, latest: latest)
        sawLateHit = sawLateHit || w > time
        if g != w { fail("line \(line): data time \(g), want \(w)") }
      }
      return want.writeback
    }
    func counters() {
      if cache.hits != model.hits || cache.misses != model.misses || cache.writebacks != model.writebacks {
        fail(
          "counters \(cache.hits)/\(cache.misses)/\(cache.writebacks), want \(model.hits)/\(model.misses)/\(model.writebacks)"
        )
      }
    }
    func check(_ line: UInt64, _ write: Bool) {
      accesses += 1
      clock += Int64(rng.next() % 3)
      // Transfers are ready out of order: sometimes earlier than the clock.
      let time = clock - Int64(rng.next() % 4)
      compare(line, write, cache.access(line: line, write: write, at: time), time: time)
      counters()
    }
    /// A run of consecutive lines through `accessRun`. The reference looks every line up in
    /// order first; then each visited line must have had the reference's result, the skipped
    /// ones must be the rest (misses, gone by the end), and the write-backs the same lines.
    func run(_ first: UInt64, _ count: Int, _ write: Bool) {
      accesses += count
      clock += 1
      let latest = clock + 7
      var want: [UInt64: (hit: Bool, data: Int64)] = [:]
      var wantEvicted: [UInt64] = []
      for line in first..<(first + UInt64(count)) {
        let r = model.access(line: line, write: write, at: clock)
        want[line] = (r.hit, r.hit ? model.dataTime(line: line, readyAt: clock, latest: latest) : 0)
        wantEvicted += r.writeback.map { [$0] } ?? []
      }
      var gotEvicted: [UInt64] = []
      var missed: [(line: UInt64, slot: Int)] = []
      var visited = Set<UInt64>()
      let skipped = cache.accessRun(first: first, count: count, write: write, at: clock) { line, r in
        visited.insert(line)
        gotEvicted += r.writeback.map { [$0] } ?? []
        guard let w = want[line] else { return fail("visited line \(line), not in the run") }
        if r.hit != w.hit { fail("run \(first)+\(count), line \(line): hit \(r.hit), want \(w.hit)") }
        if r.hit {
          sawHit = true
          let data = cache.dataTime(slot: r.slot, readyAt: clock, latest: latest)
          sawLateHit = sawLateHit || w.data > clock
          if data != w.data { fail("run, line \(line): data time \(data), want \(w.data)") }
        } else if sets > 0 {
          missed.append((line, r.slot))
        }
      }
      sawSkip = sawSkip || (sets > 0 && !skipped.isEmpty)
      if visited.count + skipped.count != count || visited.contains(where: skipped.contains)
        || (!skipped.isEmpty && !(skipped.lowerBound >= first && skipped.upperBound <= first + UInt64(count)))
      {
        fail("run \(first)+\(count): visited \(visited.count) lines, skipped \(skipped)")
      }
      for line in skipped where want[line]?.hit == true { fail("skipped line \(line) hits in the reference") }
      if sets > 0 {
        for line in skipped where model.lists[Int(line % UInt64(sets))].contains(where: { $0.line == line }) {
          fail("skipped line \(line) is still held by the reference")
        }
      }
      // A skipped line is written back when written (not visited, so counted here); without
      // L2 a written run goes straight to DRAM, nothing is written back from the cache.
      if write && sets > 0 { gotEvicted += Array(skipped) }
      sawWriteback = sawWriteback || !wantEvicted.isEmpty
      if gotEvicted.sorted() != wantEvicted.sorted() {
        fail("run \(first)+\(count): wrote back \(gotEvicted.count) lines, want \(wantEvicted.count)")
      }
      // The lines the run left in the cache get their data (both models, the same times).
      for m in missed where model.lists[Int(m.line % UInt64(sets))].contains(where: { $0.line == m.line }) {
        let arrival = clock + Int64(rng.next() % 20)
        cache.arrives(slot: m.slot, at: arrival, floor: 0)
        model.arrives(line: m.line, at: arrival)
      }
      counters()
    }

    // Long runs straddle twice the capacity (where skipping starts) when they can.
    let longest = UInt64(long ? 2 * capacity + 30_000 : min(5 * capacity + 7, 12_000))
    let shortest = UInt64(2 * capacity < Int(longest) + 30 ? max(1, 2 * capacity - 30) : 1)
    while accesses < (long ? 2_000_000 : 40_000) {
      let writeShare = rng.next() % 4  // 0: reads only ... 3: mostly writes
      let write = { (rng: inout SplitMix64) in rng.next() % 4 < writeShare }
      switch rng.next() % 6 {
      case 0:  // a row: consecutive lines, possibly crossing the last set
        let start = rng.next() % (pool * 2)
        for l in start..<(start + 1 + rng.next() % longestRow) { check(l, write(&rng)) }
      case 5:  // a row as one run, now and then up to 5 times the cache (a long one skips)
        let start = rng.next() % (pool * 2)
        let count =
          rng.next() % 3 == 0 ? shortest + rng.next() % (longest - shortest + 1) : 1 + rng.next() % longestRow
        run(start, Int(count), write(&rng))
      case 1:  // a column: lines `sets` apart, all in one set
        let start = rng.next() % pool
        let stride = UInt64(max(1, sets))
        for j in 0..<(1 + rng.next() % UInt64(2 * ways + 2)) { check(start + j * stride, write(&rng)) }
      case 2:  // far addresses: the same pattern near 2^62 (64-bit tags), near the end (32-bit)
        let base =
          wide ? (UInt64(1) << 62) + rng.next() % 1000 : Self.narrowLines - 1 - 60 - rng.next() % 1000
        for j in 0..<(1 + rng.next() % 20) { check(base + j * (rng.next() % 3), write(&rng)) }
      default:  // random lines from the pool
        for _ in 0..<(1 + rng.next() % 40) { check(rng.next() % pool, write(&rng)) }
      }
      if rng.next() % 8 == 0 {
        let got = cache.flush()
        let want = model.flush()
        sawFlushedLine = sawFlushedLine || !want.isEmpty
        // The order of a flush is not part of the contract (the machine counts the lines).
        #expect(got.sorted() == want.sorted(), "\(sets)×\(ways): flush after access \(accesses)")
        #expect(Set(got).count == got.count, "\(sets)×\(ways): a line flushed twice")
        #expect(cache.writebacks == model.writebacks)
        #expect(cache.flush().isEmpty, "\(sets)×\(ways): a flushed line is still dirty")
      }
    }
    let got = cache.flush()
    #expect(got.sorted() == model.flush().sorted(), "\(sets)×\(ways): final flush")
    #expect(failures == 0, "\(sets)×\(ways): \(failures) of \(accesses) accesses differ")
    #expect(cache.hits + cache.misses <= accesses)

    // The sequences exercise what they are meant to (a disabled L2 never hits or writes back).
    #expect(sawHit == (sets > 0) && sawWriteback == (sets > 0) && sawFlushedLine == (sets > 0))
    #expect(sawLateHit == (sets > 0) && sawSkip == (sets > 0 && 2 * UInt64(capacity) + 1 < longest))
  }

  /// Arrival times are 32-bit offsets from a base: one 2^32 or more past it is kept exactly
  /// aside; the base moves up to the floor it is given when an offset would not fit, and a time
  /// before the new base reads back as the base (every transfer from then on is ready later).
  @Test func arrivalTimesBeyond32BitsStayExact() {
    let cache = L2Cache(sets: 4, ways: 2, maxLine: 100)
    let a = cache.access(line: 1, write: false, at: 0).slot
    let b = cache.access(line: 2, write: false, at: 0).slot
    let c = cache.access(line: 3, write: false, at: 0).slot
    cache.arrives(slot: a, at: 100, floor: 0)
    // Past 2^32 with a floor of 0: the base cannot move, the time goes aside, exactly.
    cache.arrives(slot: b, at: 5_000_000_007, floor: 0)
    #expect(cache.base == 0 && cache.arrival(slot: a) == 100 && cache.arrival(slot: b) == 5_000_000_007)
    #expect(cache.dataTime(slot: b, readyAt: 10, latest: 20) == 5_000_000_007)
    // Later still, with a floor of 2^32: the base moves there; b's offset now fits and comes back
    // from the side; a (before the base) reads back as the base.
    cache.arrives(slot: c, at: 9_000_000_000, floor: 1 << 32)
    #expect(cache.base == 1 << 32)
    #expect(cache.arrival(slot: b) == 5_000_000_007 && cache.arrival(slot: c) == 9_000_000_000)
    #expect(cache.arrival(slot: a) == 1 << 32)
    // Never earlier than known; a miss that reuses the slot starts again at the base.
    cache.arrives(slot: c, at: 8_000_000_000, floor: 1 << 32)
    #expect(cache.arrival(slot: c) == 9_000_000_000)
    cache.arrives(slot: a, at: 20_000_000_000, floor: 1 << 32)  // 2^32 past the base: aside
    #expect(cache.arrival(slot: a) == 20_000_000_000)
    _ = cache.access(line: 5, write: false, at: 1 << 33)  // set 1's other way
    let reused = cache.access(line: 9, write: false, at: 1 << 33)  // set 1 again: evicts line 1 (a)
    #expect(!reused.hit && reused.slot == a && cache.arrival(slot: a) == 1 << 32)
    // The line that left took its time aside with it: a later base move does not bring it back.
    cache.arrives(slot: c, at: 30_000_000_000, floor: 19_000_000_000)
    #expect(cache.base == 19_000_000_000 && cache.arrival(slot: a) == 19_000_000_000)
    #expect(cache.arrival(slot: c) == 30_000_000_000 && cache.arrival(slot: b) == 19_000_000_000)
  }

  /// A tile far ahead of the slowest one: its arrivals are 2^32 past a base the floor moves up
  /// by little each time. The base moves only when that gains 2^31 cycles (a move walks every
  /// slot); meanwhile the times are kept aside, exactly.
  @Test func theBaseMovesOnlyForALargeGain() {
    let cache = L2Cache(sets: 8, ways: 2, maxLine: 1000)
    var last: [Int: Int64] = [:]
    for k in 0..<2000 {
      let slot = cache.access(line: UInt64(k % 40), write: false, at: Int64(k) * 1000).slot
      let time = (Int64(1) << 32) + Int64(k) * 1000
      cache.arrives(slot: slot, at: time, floor: Int64(k) * 1000)
      last[slot] = time
      #expect(cache.arrival(slot: slot) == time)
    }
    #expect(cache.rebases == 0)
    cache.arrives(slot: last.keys.first!, at: 1 << 34, floor: 1 << 33)
    #expect(cache.rebases == 1 && cache.base == 1 << 33)
  }

  /// A handful of accesses worked out by hand, replayed on the cache and on the reference (so
  /// the reference is checked too).
  @Test func aSmallCaseByHand() {
    // 2 sets × 2 ways: set 0 takes lines 0, 2, 4, ...; set 1 takes 1, 3, 5, ...
    let steps: [(line: UInt64, write: Bool, hit: Bool, writeback: UInt64?)] = [
      (0, true, false, nil),
      (2, false, false, nil),
      (0, false, true, nil),  // 2 is now the least recent
      (4, false, false, nil),  // evicts clean 2
      (6, true, false, 0),  // evicts dirty 0
      (1, false, false, nil),  // set 1, empty so far
    ]
    let cache = L2Cache(sets: 2, ways: 2)
    var model = ReferenceL2(sets: 2, ways: 2)
    for (i, s) in steps.enumerated() {
      let got = cache.access(line: s.line, write: s.write)
      let want = model.access(line: s.line, write: s.write)
      #expect(got.hit == s.hit && got.writeback == s.writeback, "L2Cache, step \(i)")
      #expect(want.hit == s.hit && want.writeback == s.writeback, "reference, step \(i)")
    }
    #expect(cache.hits == 1 && cache.misses == 5 && cache.writebacks == 1)
    #expect(model.hits == 1 && model.misses == 5 && model.writebacks == 1)
    #expect(cache.flush() == [6] && model.flush() == [6])
    #expect(cache.flush().isEmpty && model.flush().isEmpty)
    // 4 hits; 8 then evicts 6, clean since the flush.
    #expect(
      hitAndWriteback(cache.access(line: 4, write: false)) == (true, nil)
        && model.access(line: 4, write: false) == (true, nil))
    #expect(
      hitAndWriteback(cache.access(line: 8, write: false)) == (false, nil)
        && model.access(line: 8, write: false) == (false, nil))
    #expect(cache.writebacks == 2 && model.writebacks == 2)

    let none = L2Cache(sets: 0, ways: 8)
    #expect(none.access(line: 3, write: true) == (false, nil, -1))
    #expect(none.access(line: 3, write: false) == (false, nil, -1))
    #expect(none.hits == 0 && none.misses == 1 && none.writebacks == 0 && none.flush().isEmpty)
  }
}

func hitAndWriteback(_ r: (hit: Bool, writeback: UInt64?, slot: Int)) -> (Bool, UInt64?) {
  (r.hit, r.writeback)
}

/// `L2Cache.accessRun` with a closure for its visitor (the machine passes a struct).
extension L2Cache {
  func accessRun(
    first: UInt64, count: Int, write: Bool, at time: Int64,
    _ visit: (UInt64, (hit: Bool, writeback: UInt64?, slot: Int)) -> Void
  ) -> Range<UInt64> {
    struct ClosureVisitor: L2Visitor {
      let body: (UInt64, (hit: Bool, writeback: UInt64?, slot: Int)) -> Void
      func visit(_ line: UInt64, _ result: (hit: Bool, writeback: UInt64?, slot: Int), in cache: L2Cache) {
        body(line, result)
      }
    }
    return withoutActuallyEscaping(visit) { body in
      var visitor = ClosureVisitor(body: body)
      return accessRun(first: first, count: count, write: write, at: time, &visitor)
    }
  }
}

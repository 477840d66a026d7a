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
    var lists: [[(line: UInt64, dirty: Bool)]]
    var hits = 0
    var misses = 0
    var writebacks = 0

    init(sets: Int, ways: Int) {
      self.sets = sets
      self.ways = ways
      lists = Array(repeating: [], count: sets)
    }

    mutating func access(line: UInt64, write: Bool) -> (hit: Bool, writeback: UInt64?) {
      guard sets > 0 else {
        if !write { misses += 1 }
        return (false, nil)
      }
      let s = Int(line % UInt64(sets))
      if let i = lists[s].firstIndex(where: { $0.line == line }) {
        let entry = lists[s].remove(at: i)
        lists[s].append((line, entry.dirty || write))
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
      lists[s].append((line, write))
      return (false, evicted)
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
  /// so `line % sets` and the consecutive-line shortcut disagree if one is wrong), the teaching
  /// device's 512 × 8 and the H100 preset's 25,600 × 16.
  static let shapes: [(sets: Int, ways: Int)] = [
    (0, 8), (1, 1), (1, 4), (4, 1), (3, 2), (7, 3), (16, 8), (512, 8), (25_600, 16),
  ]

  /// Seeded access sequences shaped like the machine's: runs of consecutive lines (a DMA row),
  /// strided lines that land in one set, random lines from a pool a bit larger than the cache
  /// (hits and evictions), lines near 2^62, and a flush now and then.
  @Test(arguments: 0..<shapes.count)
  func matchesTheReferenceModel(shape: Int) {
    let (sets, ways) = Self.shapes[shape]
    var rng = SplitMix64(seed: 0x1_2C4E + UInt64(shape))
    var cache = L2Cache(sets: sets, ways: ways)
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

    func check(_ line: UInt64, _ write: Bool) {
      accesses += 1
      let got = cache.access(line: line, write: write)
      let want = model.access(line: line, write: write)
      sawHit = sawHit || want.hit
      sawWriteback = sawWriteback || want.writeback != nil
      if got.hit != want.hit || got.writeback != want.writeback || cache.hits != model.hits
        || cache.misses != model.misses || cache.writebacks != model.writebacks
      {
        failures += 1
        if failures <= 5 {
          Issue.record(
            "\(sets)×\(ways), access \(accesses) (\(write ? "write" : "read") line \(line)): got hit \(got.hit) writeback \(got.writeback.map(String.init) ?? "none") counters \(cache.hits)/\(cache.misses)/\(cache.writebacks), want hit \(want.hit) writeback \(want.writeback.map(String.init) ?? "none") counters \(model.hits)/\(model.misses)/\(model.writebacks)"
          )
        }
      }
    }

    while accesses < 40_000 {
      let writeShare = rng.next() % 4  // 0: reads only ... 3: mostly writes
      let write = { (rng: inout SplitMix64) in rng.next() % 4 < writeShare }
      switch rng.next() % 5 {
      case 0:  // a row: consecutive lines, possibly crossing the last set
        let start = rng.next() % (pool * 2)
        for l in start..<(start + 1 + rng.next() % longestRow) { check(l, write(&rng)) }
      case 1:  // a column: lines `sets` apart, all in one set
        let start = rng.next() % pool
        let stride = UInt64(max(1, sets))
        for j in 0..<(1 + rng.next() % UInt64(2 * ways + 2)) { check(start + j * stride, write(&rng)) }
      case 2:  // far addresses: the same pattern near 2^62
        let base = (UInt64(1) << 62) + rng.next() % 1000
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
    var cache = L2Cache(sets: 2, ways: 2)
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

    var none = L2Cache(sets: 0, ways: 8)
    #expect(none.access(line: 3, write: true) == (false, nil, -1))
    #expect(none.access(line: 3, write: false) == (false, nil, -1))
    #expect(none.hits == 0 && none.misses == 1 && none.writebacks == 0 && none.flush().isEmpty)
  }
}

func hitAndWriteback(_ r: (hit: Bool, writeback: UInt64?, slot: Int)) -> (Bool, UInt64?) {
  (r.hit, r.writeback)
}

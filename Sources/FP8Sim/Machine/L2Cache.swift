import FP8KernelsC

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The shared L2: set-associative, LRU, write-back and write-allocate without fill (a store
/// marks its lines dirty without reading DRAM). With capacity 0 it holds nothing: every read
/// misses and every write goes straight to DRAM.
///
/// Each line also keeps the time its data is in L2 (`arrival`): a line is allocated when the
/// transfer that misses is issued, but its data comes later (the fill from DRAM, or the bytes
/// of a store); a hit on it must not be served before then.
///
/// **Storage.** Every transfer looks its lines up here, so the layout is chosen for the host's
/// caches (h100's 50 MiB L2 has 409,600 lines). With 32-bit tags (every line the run can touch
/// has a tag below 2^31) a set is one block of 64-byte host lines: its tags side by side, then
/// its lines' arrival times, so a look-up and the time a hit reads come in one 128-byte pair
/// (16 ways); 64-bit tags keep tags and times in arrays of their own. The LRU order of a set of
/// at most 16 ways is one 64-bit word (way numbers in 4-bit fields, most recent first); more
/// ways keep a last-use stamp per way. When the transfer that allocated a line was ready is
/// read only for a hit whose data comes later than a DRAM latency from now.
///
/// **Arrival times** are held as 32-bit offsets from a base no later than any tile's clock
/// (`arrives` moves the base up when an offset would not fit): a time before the base only
/// ever meets transfers ready after it, for which any time in the past is the same, and reads
/// back as the base. One that still does not fit (a transfer ending 2^32 cycles after the
/// slowest tile's clock) is kept exactly in a side table.
///
/// **Long runs.** `accessRun` looks up a run of consecutive lines as `access` on each would,
/// but a run longer than twice the cache (2 × ways lines in every set) skips its middle: after
/// a set's first `ways` lines of the run it holds exactly those, so every later line of the
/// run misses; the middle lines are allocated and evicted within the run and leave no trace
/// but counts. A streaming transfer costs O(sets × ways), whatever its size.
///
/// A class: its storage is large and never copied (the machine owns one).
final class L2Cache {
  let sets: Int
  let ways: Int
  @exclusivity(unchecked) var hits = 0
  @exclusivity(unchecked) var misses = 0
  @exclusivity(unchecked) var writebacks = 0

  /// 32-bit tags (else 64-bit); the dirty flag is a tag's top bit, 0 an empty way.
  private let narrow: Bool
  /// Narrow: per set, `rowStride` words: `ways` tags, then `ways` arrival offsets.
  private let tags32: UnsafeMutablePointer<UInt32>
  private let rowStride: Int
  /// Wide: tags and arrival offsets, `ways` per set each.
  private let tags64: UnsafeMutablePointer<UInt64>
  private let arrivals64: UnsafeMutablePointer<UInt32>
  /// Per slot: when the transfer that allocated its line was ready.
  private let requested: UnsafeMutablePointer<Int64>
  /// Per set (ways ≤ 16): the ways from most to least recently used, 4 bits each.
  private let order: UnsafeMutablePointer<UInt64>
  /// Per slot (ways > 16): the clock at its last use.
  private let stamps: UnsafeMutablePointer<UInt64>
  @exclusivity(unchecked) private var clock: UInt64 = 0
  /// Arrival times are `base` + the stored offset; `outside` marks one kept in `sideTable`.
  @exclusivity(unchecked) private(set) var base: Int64 = 0
  @exclusivity(unchecked) private var sideTable: [Int: Int64] = [:]
  /// How many times the base moved (each walks every slot).
  @exclusivity(unchecked) private(set) var rebases = 0
  private static let outside = UInt32.max
  /// What `calloc` returned, for `free`.
  private let blocks: [UnsafeMutableRawPointer]
  /// `line / sets` by a multiply (sets not a power of two, lines below 2^32).
  private let magic: UInt64
  private let setShift: Int
  /// The last line looked up, its set and tag: consecutive lines need no division.
  @exclusivity(unchecked) private var lastLine: UInt64 = .max - 1
  @exclusivity(unchecked) private var lastSet = 0
  @exclusivity(unchecked) private var lastTag: UInt64 = 0

  /// `maxLine`: the largest line number that will be looked up (it decides the tag width).
  init(sets: Int, ways: Int, maxLine: UInt64 = .max) {
    precondition(sets >= 0 && ways >= 1 && sets <= 1 << 30 && ways <= 1 << 12)
    self.sets = sets
    self.ways = ways
    let slots = max(sets * ways, 1)
    narrow = sets > 0 && maxLine / UInt64(sets) < (1 << 31) - 1
    var blocks: [UnsafeMutableRawPointer] = []
    func zeroed<T>(_ count: Int, _: T.Type) -> UnsafeMutablePointer<T> {
      // calloc: the pages of a large L2 that a run never touches cost nothing. Aligned to 128
      // bytes (pairs of the host's 64-byte cache lines), so a narrow set of 16 ways is one pair.
      let raw = calloc(max(count, 1) * MemoryLayout<T>.stride + 128, 1)!
      blocks.append(raw)
      return (raw + (128 - Int(bitPattern: raw) % 128) % 128).bindMemory(to: T.self, capacity: max(count, 1))
    }
    rowStride = (2 * ways + 15) / 16 * 16
    tags32 = zeroed(narrow ? sets * rowStride : 0, UInt32.self)
    tags64 = zeroed(narrow ? 0 : slots, UInt64.self)
    arrivals64 = zeroed(narrow ? 0 : slots, UInt32.self)
    requested = zeroed(slots, Int64.self)
    order = zeroed(ways <= 16 ? sets : 0, UInt64.self)
    stamps = zeroed(ways <= 16 ? 0 : slots, UInt64.self)
    if ways <= 16 {
      // Way w at position ways − 1 − w: the ways are first used in order 0, 1, 2, ...
      var initial: UInt64 = 0
      for p in 0..<ways { initial |= UInt64(ways - 1 - p) << (4 * p) }
      order.update(repeating: initial, count: sets)
    }
    let powerOfTwo = sets > 0 && sets & (sets - 1) == 0
    setShift = powerOfTwo ? sets.trailingZeroBitCount : -1
    magic = sets > 1 && !powerOfTwo ? UInt64.max / UInt64(sets) + 1 : 0
    self.blocks = blocks
  }

  deinit {
    for b in blocks { free(b) }
  }

  var isEnabled: Bool { sets > 0 }

  /// A slot names a set and a way (`set · 2^12 + way`; ways are at most 2^12).
  @inline(__always) static func slot(set: Int, way: Int) -> Int { set << 12 | way }

  @inline(__always)
  private func arrivalOffset(_ slot: Int) -> UnsafeMutablePointer<UInt32> {
    let (set, way) = (slot >> 12, slot & 0xFFF)
    return narrow ? tags32 + set * rowStride + ways + way : arrivals64 + set * ways + way
  }

  /// When the data of the line in `slot` is (or will be) in L2 (the base for any time before it).
  @inline(__always)
  func arrival(slot: Int) -> Int64 {
    let offset = arrivalOffset(slot).pointee
    return offset == Self.outside ? sideTable[slot] ?? base : base + Int64(offset)
  }

  /// Notes that the data of the line in `slot` is in L2 at `time` (never earlier than known).
  /// `floor` is the earliest time any tile's next transfer can be ready (the clock of the
  /// slowest tile still running); it is read only when the base must move.
  @inline(__always)
  func arrives(slot: Int, at time: Int64, floor: @autoclosure () -> Int64) {
    guard time > arrival(slot: slot) else { return }
    if time - base >= Int64(Self.outside) {
      // Moving the base walks every slot: only worth it when it gains at least 2^31 cycles
      // (else a tile far ahead of the slowest would rebase on every transfer for a few cycles).
      let floor = floor()
      if floor - base >= 1 << 31 { rebase(to: floor) }
    }
    let pointer = arrivalOffset(slot)
    if pointer.pointee == Self.outside { sideTable[slot] = nil }
    if time - base >= Int64(Self.outside) {
      pointer.pointee = Self.outside
      sideTable[slot] = time
    } else {
      pointer.pointee = UInt32(max(0, time - base))
    }
  }

  /// Moves the base up to `floor` (no later than any clock that will read a time): offsets
  /// shrink, a time before the new base reads back as it.
  private func rebase(to floor: Int64) {
    guard floor > base else { return }
    rebases += 1
    let shift = floor - base
    base = floor
    for set in 0..<sets {
      for way in 0..<ways {
        let pointer = arrivalOffset(Self.slot(set: set, way: way))
        let offset = pointer.pointee
        if offset != Self.outside {
          pointer.pointee = Int64(offset) > shift ? UInt32(Int64(offset) - shift) : 0
        }
      }
    }
    for (slot, time) in sideTable where time - base < Int64(Self.outside) {
      arrivalOffset(slot).pointee = UInt32(max(0, time - base))
      sideTable[slot] = nil
    }
  }

  /// A line is allocated at `slot` by a transfer ready at `time`: no arrival yet (the base).
  @inline(__always)
  private func allocated(slot: Int, set: Int, way: Int, at time: Int64) {
    let pointer = arrivalOffset(slot)
    if pointer.pointee == Self.outside { sideTable[slot] = nil }
    pointer.pointee = 0
    requested[set * ways + way] = time
  }

  /// When a transfer ready at `t0` that hits the line in `slot` may have its data: when the
  /// line's data arrives if the transfer that allocated it was ready no later (else it only
  /// came first in issue order, and the data is no later than `latest`). (Before `latest`
  /// both are the same: when the allocating transfer was ready is read only after it.)
  @inline(__always)
  func dataTime(slot: Int, readyAt t0: Int64, latest: Int64) -> Int64 {
    let arrival = arrival(slot: slot)
    if arrival <= latest { return arrival }
    return requested[(slot >> 12) * ways + (slot & 0xFFF)] <= t0 ? arrival : latest
  }

  /// Looks `line` up, allocating it on a miss (requested at `time`; its arrival then starts at
  /// 0, for the caller to set). Returns whether it hit, the dirty line it evicted, if any (a
  /// write-back to DRAM), and the line's slot (−1 without L2).
  @inline(__always)
  func access(line: UInt64, write: Bool, at time: Int64 = 0) -> (hit: Bool, writeback: UInt64?, slot: Int) {
    guard sets > 0 else {
      if !write { misses += 1 }
      return (false, nil, -1)
    }
    let (set, tag) = locate(line)
    return narrow
      ? lookup(tags32 + set * rowStride, set: set, tag: tag, write: write, time: time)
      : lookup(tags64 + set * ways, set: set, tag: tag, write: write, time: time)
  }

  /// Looks up `count` consecutive lines from `first`, in order, as `access` on each would;
  /// `visitor` sees each line looked up and its result (for a long run, set by set rather than in
  /// line order: sets are independent). Returns the lines it skipped (the middle of a run
  /// longer than twice the cache, or the whole run without L2): each a miss (a fill for a
  /// read, a write-back for a write), counted here, not visited, not left in the cache.
  @inline(__always)
  func accessRun(
    first: UInt64, count: Int, write: Bool, at time: Int64,
    _ visitor: inout some L2Visitor
  ) -> Range<UInt64> {
    let n = UInt64(count)
    guard sets > 0 else {
      if !write { misses += count }
      return first..<(first + n)
    }
    let edge = UInt64(sets) * UInt64(ways)  // every set's first (or last) `ways` lines
    guard n > 2 * edge else {
      for line in first..<(first + n) {
        visitor.visit(line, access(line: line, write: write, at: time), in: self)
      }
      return first..<first
    }
    // Every set sees at least 2 × ways lines of the run: its first `ways`, then the skipped
    // middle, then its last `ways`.
    let stride = UInt64(sets)
    let firstSet = Int(first % stride)
    for set in 0..<sets {
      let head = first + UInt64((set - firstSet + sets) % sets)
      let lines = (first + n - head + stride - 1) / stride
      let tail = head + (lines - UInt64(ways)) * stride
      if narrow {
        runSet(tags32 + set * rowStride, set: set, head: head, tail: tail, write: write, time: time, &visitor)
      } else {
        runSet(tags64 + set * ways, set: set, head: head, tail: tail, write: write, time: time, &visitor)
      }
    }
    lastLine = .max - 1
    let skipped = (first + edge)..<(first + n - edge)
    misses += skipped.count
    if write { writebacks += skipped.count }
    return skipped
  }

  /// One set's part of a long run: its first `ways` lines of the run from `head`, its last from
  /// `tail` (`sets` apart). Only a line among the first can hit (by the time a later one comes,
  /// the set holds `ways` other lines of the run). When none can, each look-up misses and
  /// replaces the least recently used way: the i-th line of the head and then of the tail go
  /// into the way that was i-th least recent, and 2 × ways such rotations leave the order
  /// as it was.
  @inline(__always)
  private func runSet<Key: FixedWidthInteger & UnsignedInteger>(
    _ row: UnsafeMutablePointer<Key>, set: Int, head: UInt64, tail: UInt64, write: Bool, time: Int64,
    _ visitor: inout some L2Visitor
  ) {
    let dirtyBit: Key = 1 << (Key.bitWidth - 1)
    let stride = UInt64(sets)
    let headTag = head / stride
    let tailTag = tail / stride
    var mayHit = ways > 16
    for w in 0..<ways where row[w] != 0 {
      if UInt64(row[w] & ~dirtyBit) - 1 &- headTag < UInt64(ways) { mayHit = true }
    }
    if mayHit {
      for k in 0..<UInt64(ways) {
        visitor.visit(
          head + k * stride, lookup(row, set: set, tag: headTag + k, write: write, time: time), in: self)
      }
      for k in 0..<UInt64(ways) {
        visitor.visit(
          tail + k * stride, lookup(row, set: set, tag: tailTag + k, write: write, time: time), in: self)
      }
      return
    }
    let order = self.order[set]
    let dirty: Key = write ? dirtyBit : 0
    for i in 0..<ways {
      let way = Int((order >> (4 * UInt64(ways - 1 - i))) & 0xF)
      let slot = Self.slot(set: set, way: way)
      let old = row[way]
      var evicted: UInt64?
      if old & dirtyBit != 0 {
        writebacks += 1
        evicted = line(key: old & ~dirtyBit, set: set)
      }
      visitor.visit(head + UInt64(i) * stride, (false, evicted, slot), in: self)
      if write { writebacks += 1 }
      row[way] = Key(truncatingIfNeeded: tailTag + UInt64(i) + 1) | dirty
      allocated(slot: slot, set: set, way: way, at: time)
      visitor.visit(
        tail + UInt64(i) * stride, (false, write ? head + UInt64(i) * stride : nil, slot), in: self)
    }
    misses += 2 * ways
  }

  /// How many lines `accessRun` looks up for a run of `count` (the host's work).
  func lookups(run count: Int) -> Int {
    sets == 0 ? 1 : min(count, 2 * sets * ways)
  }

  /// Asks the host to bring the storage of `line`'s set into its caches (its tags, arrival times
  /// and request times), so a look-up of it a little later does not wait for memory. A hint:
  /// changes nothing here.
  @inline(__always)
  func prefetch(line: UInt64) {
    guard sets > 0, narrow, line < 1 << 32 else { return }
    let set: Int
    if setShift >= 0 {
      set = Int(line & UInt64(sets - 1))
    } else {
      set = Int(line - magic.multipliedFullWidth(by: line).high * UInt64(sets))
    }
    let row = UnsafeRawPointer(tags32 + set * rowStride)
    fp8_prefetch(row)
    fp8_prefetch(row + 64)
    let times = UnsafeRawPointer(requested + set * ways)
    fp8_prefetch(times)
    fp8_prefetch(times + 64)
  }

  /// Writes every dirty line back; returns their line numbers.
  func flush() -> [UInt64] {
    var lines: [UInt64] = []
    for set in 0..<sets {
      if narrow {
        flush(tags32 + set * rowStride, set: set, into: &lines)
      } else {
        flush(tags64 + set * ways, set: set, into: &lines)
      }
    }
    writebacks += lines.count
    return lines
  }

  // MARK: - Sets

  /// The line a set holds under `key` (its tag + 1, without the dirty flag).
  @inline(__always)
  private func line<Key: FixedWidthInteger & UnsignedInteger>(key: Key, set: Int) -> UInt64 {
    (UInt64(key) - 1) * UInt64(sets) + UInt64(set)
  }

  @inline(__always)
  private func locate(_ line: UInt64) -> (set: Int, tag: UInt64) {
    var set: Int
    var tag: UInt64
    if line == lastLine &+ 1 {
      set = lastSet + 1
      tag = lastTag
      if set == sets {
        set = 0
        tag += 1
      }
    } else if setShift >= 0 {
      set = Int(line & UInt64(sets - 1))
      tag = line >> UInt64(setShift)
    } else if line < 1 << 32 {
      tag = magic.multipliedFullWidth(by: line).high
      set = Int(line - tag * UInt64(sets))
    } else {
      tag = line / UInt64(sets)
      set = Int(line - tag * UInt64(sets))
    }
    lastLine = line
    lastSet = set
    lastTag = tag
    return (set, tag)
  }

  @inline(__always)
  private func lookup<Key: FixedWidthInteger & UnsignedInteger>(
    _ row: UnsafeMutablePointer<Key>, set: Int, tag: UInt64, write: Bool, time: Int64
  ) -> (hit: Bool, writeback: UInt64?, slot: Int) {
    let dirtyBit: Key = 1 << (Key.bitWidth - 1)
    assert(tag &+ 1 < UInt64(dirtyBit), "L2 tag wider than its storage")
    let key = Key(truncatingIfNeeded: tag &+ 1)
    if let w = find(key, in: row) {
      if write { row[w] |= dirtyBit }
      touch(set: set, way: w)
      hits += 1
      return (true, nil, Self.slot(set: set, way: w))
    }
    misses += 1
    let victim = leastRecent(set: set, row)
    let slot = Self.slot(set: set, way: victim)
    let old = row[victim]
    var evicted: UInt64?
    if old & dirtyBit != 0 {
      writebacks += 1
      evicted = line(key: old & ~dirtyBit, set: set)
    }
    row[victim] = write ? key | dirtyBit : key
    touch(set: set, way: victim)
    allocated(slot: slot, set: set, way: victim, at: time)
    return (false, evicted, slot)
  }

  /// The way of `row` (a set's tags) that holds `key`, if any. Sixteen narrow tags (one host
  /// cache line) are compared at once, without branches: a lane is 0 where the tag matches, and
  /// the has-zero test on each lane's top bit gives a 16-bit mask.
  @inline(__always)
  private func find<Key: FixedWidthInteger & UnsignedInteger>(_ key: Key, in row: UnsafeMutablePointer<Key>)
    -> Int?
  {
    let dirtyBit: Key = 1 << (Key.bitWidth - 1)
    if Key.self == UInt32.self && ways == 16 {
      let lanes = UnsafeRawPointer(row).loadUnaligned(as: SIMD16<UInt32>.self)
      let x = (lanes & 0x7FFF_FFFF) ^ SIMD16(repeating: UInt32(truncatingIfNeeded: key))
      let zero = ((x &- 1) & ~x) &>> 31
      let bits = SIMD16<UInt32>(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
      let flags = zero &* bits
      let m8 = flags.lowHalf | flags.highHalf
      let m4 = m8.lowHalf | m8.highHalf
      let mask = m4[0] | m4[1] | m4[2] | m4[3]
      return mask == 0 ? nil : mask.trailingZeroBitCount
    }
    for w in 0..<ways where row[w] & ~dirtyBit == key { return w }
    return nil
  }

  /// Makes `way` the most recently used of its set.
  @inline(__always)
  private func touch(set: Int, way: Int) {
    guard ways <= 16 else {
      clock &+= 1
      stamps[set * ways + way] = clock
      return
    }
    let ones: UInt64 = 0x1111_1111_1111_1111
    let word = order[set]
    // The lowest 4-bit field equal to `way` (the classic has-zero-field test on word ^ way…).
    let x = word ^ (ones &* UInt64(way))
    let zero = (x &- ones) & ~x & (ones << 3)
    let position = zero.trailingZeroBitCount >> 2
    let below: UInt64 = (1 << (4 * UInt64(position))) &- 1
    let above = word & ~((below << 4) | 0xF)  // at position 15 the mask covers every field
    order[set] = above | ((word & below) << 4) | UInt64(way)
  }

  /// The way a miss replaces: an empty way first (the lowest), else the least recently used.
  @inline(__always)
  private func leastRecent<Key: FixedWidthInteger & UnsignedInteger>(
    set: Int, _ row: UnsafeMutablePointer<Key>
  )
    -> Int
  {
    if ways <= 16 { return Int((order[set] >> (4 * UInt64(ways - 1))) & 0xF) }
    let base = set * ways
    var victim = 0
    var oldest = UInt64.max
    for w in 0..<ways {
      if row[w] == 0 { return w }
      if stamps[base + w] < oldest {
        victim = w
        oldest = stamps[base + w]
      }
    }
    return victim
  }

  private func flush<Key: FixedWidthInteger & UnsignedInteger>(
    _ row: UnsafeMutablePointer<Key>, set: Int, into lines: inout [UInt64]
  ) {
    let dirtyBit: Key = 1 << (Key.bitWidth - 1)
    for way in 0..<ways where row[way] & dirtyBit != 0 {
      lines.append(line(key: row[way] & ~dirtyBit, set: set))
      row[way] &= ~dirtyBit
    }
  }
}

/// What `L2Cache.accessRun` tells about each line it looks up: whether it hit, the dirty line it
/// evicted (if any), its slot (−1 without L2). A protocol rather than a closure, so the
/// machine's bookkeeping is specialised into the loop over the lines.
protocol L2Visitor {
  mutating func visit(_ line: UInt64, _ result: (hit: Bool, writeback: UInt64?, slot: Int), in cache: L2Cache)
}

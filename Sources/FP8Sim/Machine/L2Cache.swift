/// The shared L2: set-associative, LRU, write-back and write-allocate without fill (a store
/// marks its lines dirty without reading DRAM). With capacity 0 it holds nothing: every read
/// misses and every write goes straight to DRAM.
///
/// Each line also keeps the time its data is in L2 (`arrival`): a line is allocated when the
/// transfer that misses is issued, but its data comes later (the fill from DRAM, or the bytes
/// of a store); a hit on it must not be served before then.
struct L2Cache {
  let sets: Int
  let ways: Int
  /// Per way: `tag + 1` of the line (0 when invalid) with the dirty flag in bit 63.
  private var tags: [UInt64]
  private var stamps: [UInt64]
  /// Per way: when the line's data is (or will be) in L2, and when the transfer that allocated
  /// it was ready to start.
  private(set) var arrival: [Int64]
  private(set) var requested: [Int64]
  private var clock: UInt64 = 0
  /// The last line looked up and its set: consecutive lines need no division. (Starts where no
  /// line can follow it: line numbers are below 2^63.)
  private var lastLine: UInt64 = .max - 1
  private var lastSet = 0

  var hits = 0
  var misses = 0
  var writebacks = 0

  private static let dirtyBit: UInt64 = 1 << 63

  init(sets: Int, ways: Int) {
    self.sets = sets
    self.ways = ways
    tags = [UInt64](repeating: 0, count: sets * ways)
    stamps = [UInt64](repeating: 0, count: sets * ways)
    arrival = [Int64](repeating: 0, count: sets * ways)
    requested = [Int64](repeating: 0, count: sets * ways)
  }

  /// Notes that the data of the line in `slot` is in L2 at `time` (never earlier than known).
  @inline(__always)
  mutating func arrives(slot: Int, at time: Int64) { arrival[slot] = max(arrival[slot], time) }

  var isEnabled: Bool { sets > 0 }

  /// Looks `line` up, allocating it on a miss (requested at `time`; its arrival then starts at
  /// 0, for the caller to set). Returns whether it hit, the dirty line it evicted, if any (a
  /// write-back to DRAM), and the line's slot (−1 without L2).
  @inline(__always)
  mutating func access(line: UInt64, write: Bool, at time: Int64 = 0) -> (
    hit: Bool, writeback: UInt64?, slot: Int
  ) {
    guard sets > 0 else {
      if !write { misses += 1 }
      return (false, nil, -1)
    }
    clock &+= 1
    let set: Int
    if line == lastLine &+ 1 {
      set = lastSet + 1 == sets ? 0 : lastSet + 1
    } else {
      set = Int(line % UInt64(sets))
    }
    lastLine = line
    lastSet = set
    let base = set * ways
    let key = line &+ 1
    let dirty = write ? L2Cache.dirtyBit : 0
    var victim = base
    var oldest = UInt64.max
    for w in base..<(base + ways) {
      let entry = tags[w]
      if entry & ~L2Cache.dirtyBit == key {
        stamps[w] = clock
        tags[w] = entry | dirty
        hits += 1
        return (true, nil, w)
      }
      if entry == 0 {
        if oldest != 0 {
          victim = w
          oldest = 0
        }
      } else if oldest != 0, stamps[w] < oldest {
        victim = w
        oldest = stamps[w]
      }
    }
    misses += 1
    var evicted: UInt64?
    if tags[victim] & L2Cache.dirtyBit != 0 {
      writebacks += 1
      evicted = (tags[victim] & ~L2Cache.dirtyBit) - 1
    }
    tags[victim] = key | dirty
    stamps[victim] = clock
    arrival[victim] = 0
    requested[victim] = time
    return (false, evicted, victim)
  }

  /// Writes every dirty line back; returns their line numbers.
  mutating func flush() -> [UInt64] {
    var lines: [UInt64] = []
    for i in 0..<tags.count where tags[i] & L2Cache.dirtyBit != 0 {
      lines.append((tags[i] & ~L2Cache.dirtyBit) - 1)
      tags[i] &= ~L2Cache.dirtyBit
    }
    writebacks += lines.count
    return lines
  }
}

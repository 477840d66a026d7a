/// The shared L2: set-associative, LRU, write-back and write-allocate without fill (a store
/// marks its lines dirty without reading DRAM). With capacity 0 it holds nothing: every read
/// misses and every write goes straight to DRAM.
struct L2Cache {
  let sets: Int
  let ways: Int
  /// `tag + 1` of the line in each way, 0 when invalid.
  private var tags: [UInt64]
  private var stamps: [UInt64]
  private var dirty: [Bool]
  private var clock: UInt64 = 0

  var hits = 0
  var misses = 0
  var writebacks = 0

  init(sets: Int, ways: Int) {
    self.sets = sets
    self.ways = ways
    tags = [UInt64](repeating: 0, count: sets * ways)
    stamps = [UInt64](repeating: 0, count: sets * ways)
    dirty = [Bool](repeating: false, count: sets * ways)
  }

  var isEnabled: Bool { sets > 0 }

  /// Looks `line` up, allocating it on a miss. Returns whether it hit and the dirty line it
  /// evicted, if any (a write-back to DRAM).
  @inline(__always)
  mutating func access(line: UInt64, write: Bool) -> (hit: Bool, writeback: UInt64?) {
    guard sets > 0 else {
      if !write { misses += 1 }
      return (false, nil)
    }
    clock &+= 1
    let set = Int(line % UInt64(sets))
    let base = set * ways
    let key = line &+ 1
    var victim = base
    var oldest = UInt64.max
    for w in base..<(base + ways) {
      if tags[w] == key {
        stamps[w] = clock
        if write { dirty[w] = true }
        hits += 1
        return (true, nil)
      }
      if tags[w] == 0 {
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
    if tags[victim] != 0 && dirty[victim] {
      writebacks += 1
      evicted = tags[victim] - 1
    }
    tags[victim] = key
    stamps[victim] = clock
    dirty[victim] = write
    return (false, evicted)
  }

  /// Writes every dirty line back; returns their line numbers.
  mutating func flush() -> [UInt64] {
    var lines: [UInt64] = []
    for i in 0..<dirty.count where dirty[i] {
      dirty[i] = false
      lines.append(tags[i] - 1)
    }
    writebacks += lines.count
    return lines
  }
}

/// A shared link with a bandwidth: transfers are served one after another in the order they
/// are reserved (which follows simulated time closely, as tiles are simulated in time order).
struct Link {
  let bytesPerCycle: Double
  var busyUntil: Int64 = 0
  var busyCycles: Int64 = 0

  init(bytesPerCycle: Double) { self.bytesPerCycle = bytesPerCycle }

  /// Cycles to move `bytes` at this link's bandwidth, rounded up.
  func duration(_ bytes: Int) -> Int64 {
    bytes <= 0 ? 0 : Int64((Double(bytes) / bytesPerCycle).rounded(.up))
  }

  /// Reserves the link for `bytes` from `time` on; returns when the transfer ends.
  mutating func reserve(at time: Int64, bytes: Int) -> Int64 {
    let d = duration(bytes)
    if d == 0 { return time }
    let start = max(time, busyUntil)
    busyUntil = start + d
    busyCycles += d
    return busyUntil
  }
}

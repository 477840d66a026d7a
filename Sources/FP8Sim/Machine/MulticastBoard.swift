/// The multicast reads of `dma.load … mcast=G` that some tile of their group has not received
/// yet. The first tile of a group to load a DRAM view reads it through L2 and offers the read
/// here; each other tile of the group that loads the same view takes it (once), instead of
/// reading L2 again. A read leaves the board when every tile of the group has it.
struct MulticastBoard {
  /// A group (its first tile and size) and the DRAM view it loads.
  struct Key: Hashable {
    var first: Int
    var members: Int
    var tensor: Int
    var offset: Int
    var shape: Dims
    var strides: Dims
  }

  /// One read: when its data arrived, and which tiles of the group have it (bit tile − first).
  struct Read {
    var arrival: Int64
    var received: UInt64
  }

  private var reads: [Key: [Read]] = [:]

  /// Reads still waiting for some tile of their group.
  var count: Int { reads.values.reduce(0) { $0 + $1.count } }

  /// The arrival of the oldest read of `key` this tile has not received, marking it received;
  /// nil when there is none (the tile must read L2 itself).
  mutating func receive(_ key: Key, tile: Int) -> Int64? {
    guard var queue = reads[key] else { return nil }
    let bit = UInt64(1) << UInt64(tile - key.first)
    guard let i = queue.firstIndex(where: { $0.received & bit == 0 }) else { return nil }
    let arrival = queue[i].arrival
    queue[i].received |= bit
    if queue[i].received.nonzeroBitCount == key.members { queue.remove(at: i) }
    reads[key] = queue.isEmpty ? nil : queue
    return arrival
  }

  /// A read by `tile` whose data arrives at `arrival`, for the rest of its group.
  mutating func offer(_ key: Key, arrival: Int64, tile: Int) {
    reads[key, default: []].append(Read(arrival: arrival, received: UInt64(1) << UInt64(tile - key.first)))
  }
}

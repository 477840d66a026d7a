import FP8ISA

/// Cycles one unit (summed over tiles) was busy or held up, by cause.
///
/// - `busy`: cycles the unit was occupied (the scalar core: one per issued instruction; DMA: its
///   port moving bytes; vector/tensor: executing).
/// - `dependency`: the unit was free but waited for an input (data not yet produced, a
///   `dma.wait`, a float register).
/// - `bandwidth`: a DMA transfer waited for a shared link (tile↔L2 or L2↔DRAM) beyond its own
///   port time.
/// - `sync`: the scalar core waited in a barrier or all-reduce for other tiles.
/// - `queue`: the scalar core waited because a unit's queue (or the DMA in-flight limit) was full.
public struct UnitStats: Sendable, Equatable, Codable {
  public var instructions = 0
  public var busy: Int64 = 0
  public var dependency: Int64 = 0
  public var bandwidth: Int64 = 0
  public var sync: Int64 = 0
  public var queue: Int64 = 0

  public init() {}

  /// The field-by-field sum, or nil when a field would overflow.
  public func adding(_ b: UnitStats) -> UnitStats? {
    func sum<T: FixedWidthInteger>(_ x: T, _ y: T) -> T? {
      let (s, overflow) = x.addingReportingOverflow(y)
      return overflow ? nil : s
    }
    guard let instructions = sum(instructions, b.instructions), let busy = sum(busy, b.busy),
      let dependency = sum(dependency, b.dependency), let bandwidth = sum(bandwidth, b.bandwidth),
      let sync = sum(sync, b.sync), let queue = sum(queue, b.queue)
    else { return nil }
    var c = UnitStats()
    c.instructions = instructions
    c.busy = busy
    c.dependency = dependency
    c.bandwidth = bandwidth
    c.sync = sync
    c.queue = queue
    return c
  }
}

/// Bytes of one DRAM tensor across each boundary.
public struct TensorTraffic: Sendable, Equatable, Codable {
  public var dramToL2 = 0
  public var l2ToSram = 0
  public var sramToL2 = 0
  public var l2ToDram = 0
  public init() {}
}

/// Bytes across each level boundary, and L2 behaviour.
public struct TrafficStats: Sendable, Equatable, Codable {
  public var dramToL2 = 0
  public var l2ToSram = 0
  public var sramToL2 = 0
  public var l2ToDram = 0
  public var exchange = 0
  /// Bytes `dma.load … mcast=G` delivered to a tile from another tile's read of L2 (not in
  /// `l2ToSram`: they did not cross L2 again).
  public var multicast = 0
  /// Part of `l2ToDram` written when the run ended (dirty lines flushed).
  public var finalWriteback = 0
  public var l2Hits = 0
  public var l2Misses = 0
  public var l2Writebacks = 0
  /// The same bytes per DRAM tensor, by tensor index.
  public var perTensor: [Int: TensorTraffic] = [:]
  public init() {}
}

/// Work done by the compute units.
public struct ComputeStats: Sendable, Equatable, Codable {
  /// MACs actually requested, by input class (`fp8`, `half`, `single`, `fp6`, `fp4`).
  public var macs: [String: Int] = [:]
  /// MACs the tensor unit spent, padding included.
  public var paddedMacs: [String: Int] = [:]
  /// MACs by the formats of A and B and the accumulator, e.g. `e4m3fn×e5m2→f16`.
  public var macsByFormat: [String: Int] = [:]
  public var vectorElementOps = 0
  /// Bytes read or written in SRAM by every unit (for the energy estimate).
  public var sramBytes = 0
  public init() {}
}

import FP8ISA

/// An access to an SRAM range that later accesses may have to wait for.
struct PendingAccess {
  var low: Int
  var high: Int
  /// For writes: when other units can read the data. For reads: when reading ends.
  var visible: Int64
  /// For writes: when the same unit can read it (forwarding inside a pipelined unit).
  var sameUnitReady: Int64
  var unit: UnitKind
  /// Set for writes done by a DMA load: the transfer's id (a reader needs a covering dma.wait).
  var dmaID: Int?
  var line: Int
}

/// The SRAM hazards of one tensor instance on one tile.
struct TensorHazards {
  var writes: [PendingAccess] = []
  var reads: [PendingAccess] = []

  /// Records a DMA load's write. Older DMA writes inside its range add nothing (a read that
  /// overlaps them overlaps this one, which ends no earlier and is waited for no earlier), so
  /// they are dropped: a loop of loads that are never waited for keeps one entry, not one each.
  mutating func addDMAWrite(_ access: PendingAccess) {
    writes.removeAll { $0.dmaID != nil && access.low <= $0.low && $0.high <= access.high }
    writes.append(access)
  }

  /// Drops accesses that can no longer delay anything issued at or after `time`.
  mutating func prune(before time: Int64, waitedThrough: Int) {
    writes.removeAll { $0.visible <= time && ($0.dmaID ?? 0) <= waitedThrough }
    reads.removeAll { $0.visible <= time }
  }
}

/// An execution unit's queue: when it is next free and when its in-flight work completes.
struct UnitQueue {
  var freeAt: Int64 = 0
  /// Completion times of queued or running instructions, oldest first.
  var inFlight: [Int64] = []
}

/// One in-flight DMA transfer.
struct DMATransfer {
  var id: Int
  var end: Int64
}

/// Everything one tile holds while the program runs.
struct TileState {
  let id: Int
  var pc = 0
  /// Return addresses of the `call`s in progress (at most `Operation.maxCallDepth`).
  var returnStack: [Int] = []
  var time: Int64 = 0
  var halted = false
  /// Index of the barrier or all-reduce instruction the tile is waiting in.
  var blockedAt: Int?
  var arrival: Int64 = 0
  var haltLine = 0

  var intRegisters = [Int64](repeating: 0, count: ProgramLimits.intRegisters)
  var floatRegisters = [Double](repeating: 0, count: ProgramLimits.floatRegisters)
  var shadowFloatRegisters = [Double](repeating: 0, count: ProgramLimits.floatRegisters)
  var floatReady = [Int64](repeating: 0, count: ProgramLimits.floatRegisters)

  var vector = UnitQueue()
  var tensor = UnitQueue()
  /// When the tile's DMA port is free (fractional cycles, like the links).
  var dmaPortFree: Double = 0
  /// The transfers still moving (at most `dma.maxInFlight`), oldest first. Transfers are
  /// numbered in issue order and finish in issue order, so the ones not yet waited for are
  /// exactly the ids `waitedThrough + 1 ..< nextDMAID`: no list of them is kept.
  var dmaInFlight: [DMATransfer] = []
  var nextDMAID = 1
  var waitedThrough = 0
  var lastDMAEnd: Int64 = 0

  /// Hazards per tensor index (only sram tensors are used).
  var hazards: [TensorHazards]
  var stats = UnitStatsTable()
  /// Latest time any of this tile's work completes.
  var endTime: Int64 = 0
  /// Counts stochastic-rounding instructions, so each gets fresh random bits.
  var stochasticSequence: UInt64 = 0

  init(id: Int, tensorCount: Int) {
    self.id = id
    hazards = Array(repeating: TensorHazards(), count: tensorCount)
  }

  /// When every unit of the tile has finished everything issued so far.
  var drainedAt: Int64 {
    max(time, vector.inFlight.last ?? 0, tensor.inFlight.last ?? 0, lastDMAEnd, endTime)
  }
}

/// Per-unit stats of one tile, indexed by unit without hashing (a `sync` instruction counts
/// against the scalar core).
struct UnitStatsTable {
  // Inline, not an array: updated on every instruction, with no buffer to check for sharing.
  private var scalar = UnitStats()
  private var dma = UnitStats()
  private var vector = UnitStats()
  private var tensor = UnitStats()

  subscript(unit: UnitKind) -> UnitStats {
    get {
      switch unit {
      case .scalar, .sync: return scalar
      case .dma: return dma
      case .vector: return vector
      case .tensor: return tensor
      }
    }
    set {
      switch unit {
      case .scalar, .sync: scalar = newValue
      case .dma: dma = newValue
      case .vector: vector = newValue
      case .tensor: tensor = newValue
      }
    }
  }
}

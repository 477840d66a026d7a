import FP8Formats
import FP8ISA
import Foundation

/// How a program is run.
public struct RunOptions: Sendable {
  /// Skip every value computation (and every tensor allocation): only timing and traffic.
  /// Its cost grows with the number of instructions and L2 lines touched, never with the
  /// number of elements.
  public var timingOnly = false
  /// Dynamic instructions (all tiles together) before the run faults as a runaway loop
  /// (2^24: an endless loop stops within about 3 s on the 2-core machine of docs/performance.md).
  public var maxInstructions = 1 << 24
  /// Most work units (all tiles) a run may spend before it faults; with `maxInstructions`, this
  /// bounds the host time of any program. What a unit is worth: `WorkCost`.
  public var maxWork = 1 << 34
  /// Largest number of values a numeric run may hold (2^28 values = 1 GiB of f32): its tensors
  /// (main and shadow copies, all tiles) plus the packed operand copies of the `mma` being
  /// computed. Vector instructions and transfers work in chunks of `Machine.chunkElements`
  /// (a few MiB of temporaries). Larger programs run with `timingOnly`.
  public var maxNumericElements = 1 << 28
  /// Record unit activity for a Chrome trace, up to this many events (0: no trace); each event
  /// holds 32 bytes while the run lasts.
  public var traceEventLimit = 0
  /// The largest `traceEventLimit` the command line accepts (2^24 events: 512 MiB).
  public static let maxTraceEvents = 1 << 24
  /// Folder that data-file paths are relative to.
  public var baseDirectory: URL?
  /// Values for DRAM tensors, by name, in place of their initializers: the device's values and
  /// the FP32 shadow's, as a previous run's `OutputResult` holds them. How a chain of kernels
  /// (`fp8sim model run`) hands its activations from one kernel to the next, shadow included.
  /// Numeric runs only; a tensor stored in records (block-scaled or packed) cannot take them.
  public var inputs: [String: HostTensor] = [:]

  public init() {}
}

/// A tensor's values on the host: the device's and the FP32 shadow's (same count).
public struct HostTensor: Sendable {
  public var values: [Float]
  public var reference: [Float]
  public init(values: [Float], reference: [Float]) {
    precondition(values.count == reference.count, "values and reference differ in count")
    (self.values, self.reference) = (values, reference)
  }
}

/// The host cost of simulated work in work units, weighted so that each kind of work costs
/// about the same host time per unit (measured on the 2-core machine of docs/performance.md,
/// where the default budget of 2^34 units stops any runaway loop within seconds). A numeric run
/// pays for every MAC, vector element and DMA element it computes; every run, timing-only
/// included, pays for the L2 lines its transfers look up. `RunOptions.maxWork` is the budget.
public enum WorkCost {
  /// One multiply-accumulate of an `mma` (numeric runs): 1 for FP8/f16/bf16 inputs into an f32
  /// accumulator (the packed kernels), 4 into an emulated f16/bf16/fp22 accumulator, 8 for f32
  /// inputs.
  public static func mac(inputs: MMAInputClass, accumulator: Accumulator) -> Int {
    if inputs == .single { return 8 }
    switch accumulator {
    case .f32: return 1
    case .f16, .bf16, .fp22: return 4
    case .f32rz: return 16  // the scalar definition
    }
  }
  /// One element written by a vector instruction or read by a reduction (numeric runs).
  public static let vectorElement = 192
  /// One element moved by a DMA transfer (numeric runs).
  public static let dmaElement = 16
  /// One L2 line looked up by a transfer (every run): 64 in a contiguous row, 256 in a strided
  /// view (every element a line of its own, far apart: the host's caches miss).
  public static let l2Line = 64
  public static let l2StridedLine = 256
  /// The fixed host cost of issuing one instruction of a unit (scalar instructions are bounded
  /// by `RunOptions.maxInstructions` alone): measured at about 1 µs per DMA, 3 µs per vector
  /// instruction and 9 µs per `mma` in numeric runs, and a third to a fifth of that timing-only.
  public static func instruction(_ unit: UnitKind, timingOnly: Bool) -> Int {
    switch unit {
    case .scalar, .sync: return 0
    case .dma: return timingOnly ? 2048 : 4096
    case .vector: return timingOnly ? 4096 : 8192
    case .tensor: return timingOnly ? 6144 : 32768
    }
  }
}

/// Bounds that keep every time and count of a run inside 64-bit integers.
public enum RunLimits {
  /// No tile's simulated time may pass 2^44 cycles (about 2.7 hours of device time at
  /// 1.8 GHz): with at most 8,192 tiles and 1,024 transfers in flight per tile, every sum of
  /// cycles over tiles then fits in an Int64.
  public static let maxCycles: Int64 = 1 << 44

  /// Whole cycles for `amount` cycles of occupancy (rounded up): every duration of a run (units,
  /// links, DMA ports) comes from here. Faults when the amount is not a number or passes
  /// `maxCycles`, so no time computation can overflow; `what` names the work in the message.
  static func cycles(_ amount: Double, _ what: @autoclosure () -> String) throws(RuntimeFaultMessage)
    -> Int64
  {
    guard amount.isFinite, amount <= Double(maxCycles) else {
      throw RuntimeFaultMessage(
        "\(what()) would take \(ValueText.exact(amount.rounded(.up))) cycles, more than the \(maxCycles) (2^44) a run may simulate; check the device's rates"
      )
    }
    return amount <= 0 ? 0 : Int64(amount.rounded(.up))
  }
}

/// A fault while the program runs: the instruction (if any) and the tile it happened on.
public struct RuntimeFault: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var location: SourceLocation?
  public var tile: Int?

  public init(_ message: String, at location: SourceLocation? = nil, tile: Int? = nil) {
    self.message = message
    self.location = location
    self.tile = tile
  }

  public var description: String {
    let prefix = location.map { "\(Printable.quoted($0.description)): " } ?? ""
    let who = tile.map { "tile \($0): " } ?? ""
    return "\(prefix)error: \(who)\(Printable.quoted(message))"
  }

  /// The description with the source line quoted, like an assembler diagnostic.
  public func rendered(source: SourceFile?) -> String {
    var text = description + "\n"
    if let location, let line = source?.line(location.line) {
      let prefix = Printable.sourceLine(String(line.prefix(max(0, location.column - 1))))
      text += Printable.sourceLine(String(line)) + "\n" + String(repeating: " ", count: prefix.count) + "^\n"
    }
    return text
  }
}

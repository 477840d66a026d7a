import FP8ISA
import Foundation

/// How a program is run.
public struct RunOptions: Sendable {
  /// Skip every value computation (and every tensor allocation): only timing and traffic.
  /// Its cost grows with the number of instructions and L2 lines touched, never with the
  /// number of elements.
  public var timingOnly = false
  /// Dynamic instructions (all tiles together) before the run faults as a runaway loop.
  public var maxInstructions = 100_000_000
  /// Most MACs plus vector and DMA element operations (all tiles) a run may do before it faults;
  /// with `maxInstructions`, this bounds the time any program can take.
  public var maxWork = Int.max
  /// Largest number of tensor values (main + shadow copies, all tiles) a numeric run may
  /// allocate (2^28 values = 1 GiB); larger programs must run with `timingOnly`.
  public var maxNumericElements = 1 << 28
  /// Record unit activity for a Chrome trace, up to this many events (0: no trace).
  public var traceEventLimit = 0
  /// Folder that data-file paths are relative to.
  public var baseDirectory: URL?

  public init() {}
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
    let prefix = location.map { "\($0): " } ?? ""
    let who = tile.map { "tile \($0): " } ?? ""
    return "\(prefix)error: \(who)\(message)"
  }

  /// The description with the source line quoted, like an assembler diagnostic.
  public func rendered(source: SourceFile?) -> String {
    var text = description + "\n"
    if let location, let line = source?.line(location.line) {
      text += line + "\n" + String(repeating: " ", count: max(0, location.column - 1)) + "^\n"
    }
    return text
  }
}

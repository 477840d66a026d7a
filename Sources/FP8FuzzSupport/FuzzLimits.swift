import FP8ISA
import FP8Sim

/// The limits under which fuzzed programs run, shared by the fuzz harness and the test that
/// replays its saved inputs.
public enum FuzzLimits {
  public static var options: RunOptions {
    var o = RunOptions()
    o.maxInstructions = 10_000
    o.maxNumericElements = 1 << 20
    o.maxWork = 1 << 22
    return o
  }

  /// Programs run with at most 10,000 instructions, 2^20 values and 2^22 work units (MACs,
  /// elements, L2 lines and instructions, weighted as `WorkCost`), so every input finishes in
  /// well under a second.
  /// Runs `program` on a two-tile teaching device, numerically and timing-only; returns the
  /// cycles of each (nil when the run faulted).
  @discardableResult
  public static func run(_ program: Program) -> (Int64?, Int64?) {
    var device = DeviceConfig.teach
    device.tiles = 2
    let numeric = (try? Machine(program: program, device: device, options: options).run())?.cycles
    var timing = options
    timing.timingOnly = true
    let timed = (try? Machine(program: program, device: device, options: timing).run())?.cycles
    return (numeric, timed)
  }
}

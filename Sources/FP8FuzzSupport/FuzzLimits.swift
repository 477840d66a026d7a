import FP8ISA
import FP8Sim

/// The limits under which fuzzed programs run, shared by the fuzz harness and the test that
/// replays its saved inputs, and what the two runs of a program must agree on.
public enum FuzzLimits {
  /// Programs run with at most 10,000 instructions, 2^20 values and 2^22 work units (MACs,
  /// elements, L2 lines and instructions, weighted as `WorkCost`), so every input finishes in
  /// well under a second.
  public static var options: RunOptions {
    var o = RunOptions()
    o.maxInstructions = 10_000
    o.maxNumericElements = 1 << 20
    o.maxWork = 1 << 22
    return o
  }

  /// The device fuzzed programs run on: `teach` with two tiles.
  public static var device: DeviceConfig {
    var device = DeviceConfig.teach
    device.tiles = 2
    return device
  }

  /// A program's numeric and timing-only runs.
  public struct Outcome: Sendable {
    public var numeric: Result<RunResult, RuntimeFault>
    public var timing: Result<RunResult, RuntimeFault>

    /// Cycles of each run (nil when it faulted).
    public var cycles: (numeric: Int64?, timing: Int64?) {
      ((try? numeric.get())?.cycles, (try? timing.get())?.cycles)
    }
  }

  /// Runs `program` on `device` under `options`, numerically and timing-only.
  public static func run(_ program: Program) -> Outcome {
    var timing = options
    timing.timingOnly = true
    return Outcome(
      numeric: Result { () throws(RuntimeFault) in
        try Machine(program: program, device: device, options: options).run()
      },
      timing: Result { () throws(RuntimeFault) in
        try Machine(program: program, device: device, options: timing).run()
      })
  }

  /// Whether a program's values can steer its control flow or addresses: `bias` is the only
  /// instruction that turns a value (an amax) into an integer register, and a timing-only run
  /// has no amax (the register keeps its value), so such a program may branch, address or
  /// fault differently in the two runs.
  public static func dependsOnValues(_ program: Program) -> Bool {
    program.instructions.contains { $0.opcode == .bias }
  }

  /// The faults only a numeric run can raise: the values it may hold (tensors, an `mma`'s
  /// packed copies), its work budget (numeric runs pay per MAC and element) and data files
  /// (only a numeric run reads them).
  public static func isNumericLimit(_ fault: RuntimeFault) -> Bool {
    let m = fault.message
    return m.hasPrefix("a numeric run would hold more than") || m.hasPrefix("this mma needs ")
      || m.hasPrefix("the run exceeded its work budget") || m.hasPrefix("cannot load '")
  }

  /// How the two runs disagree where they must agree, or nil. Unless the program depends on
  /// values (`dependsOnValues`), both runs execute the same instructions at the same times:
  /// when both finish they take the same cycles; a timing-only
  /// fault is the numeric run's fault too (or the numeric run stopped earlier at a numeric
  /// limit); a numeric run may fault where the timing-only run finishes only at a numeric
  /// limit (`isNumericLimit`).
  public static func disagreement(_ program: Program, _ outcome: Outcome) -> String? {
    if dependsOnValues(program) { return nil }
    switch (outcome.numeric, outcome.timing) {
    case (.success(let n), .success(let t)):
      return n.cycles == t.cycles ? nil : "numeric run: \(n.cycles) cycles, timing-only: \(t.cycles)"
    case (.failure(let n), .success):
      return isNumericLimit(n) ? nil : "only the numeric run faults, not at a numeric limit: \(n)"
    case (.success, .failure(let t)):
      return "only the timing-only run faults: \(t)"
    case (.failure(let n), .failure(let t)):
      if isNumericLimit(n) || n.description == t.description { return nil }
      return "the runs fault differently: numeric \(n), timing-only \(t)"
    }
  }
}

import FP8Formats
import FP8ISA

/// A scalar-core instruction decoded once per program, for the simulator's inner loop: plain
/// values only (no strings, arrays or classes), so issuing one copies a few words and touches
/// no reference count. `Machine.step` runs these without reading `Program.instructions`; the
/// other units' instructions and sync go through `Operation`.
enum ScalarOp {
  /// Not a scalar-core instruction.
  case other
  case nop
  case move(dest: Int, source: IntValue)
  case integer(IntegerOperator, dest: Int, a: IntValue, b: IntValue)
  case floatMove(dest: Int, source: FloatValue)
  case float(FloatOperator, dest: Int, a: FloatValue, b: FloatValue)
  case jump(target: Int)
  case call(target: Int)
  case ret
  case branch(Condition, a: IntValue, b: IntValue, target: Int)
  /// Index into `Machine.biasRules`.
  case bias(Int)
  case fence(FenceTarget)

  /// The operation's scalar form; a `bias` rule is appended to `rules`, its format resolved.
  init(_ operation: Operation, device: DeviceConfig, rules: inout [(rule: BiasRule, format: FloatFormat)]) {
    switch operation {
    case .nop: self = .nop
    case .move(let d, let s): self = .move(dest: d, source: s)
    case .integer(let op, let d, let a, let b): self = .integer(op, dest: d, a: a, b: b)
    case .floatMove(let d, let s): self = .floatMove(dest: d, source: s)
    case .float(let op, let d, let a, let b): self = .float(op, dest: d, a: a, b: b)
    case .jump(let label): self = .jump(target: label.target)
    case .call(let label): self = .call(target: label.target)
    case .ret: self = .ret
    case .branch(let c, let a, let b, let label): self = .branch(c, a: a, b: b, target: label.target)
    case .bias(let rule):
      rules.append((rule, rule.format.resolved(e4: device.e4, e5: device.e5)))
      self = .bias(rules.count - 1)
    case .fence(let target): self = .fence(target)
    case .halt, .dma, .dmaWait, .vector, .reduction, .mma, .barrier, .allReduce: self = .other
    }
  }
}

import FP8Formats
import FP8ISA

/// Scalar-core instructions: integer and float registers, branches, the AMAX bias rule. Each
/// takes one issue cycle; float operands written by a unit make the core wait until ready.
extension Machine {
  @inline(__always)
  func executeScalar(_ operation: ScalarOp, tile id: Int) throws(RuntimeFaultMessage) {
    func int(_ v: IntValue) -> Int64 { self.int(v, tile: id) }
    func setInt(_ r: Int, _ value: Int64) { tiles[id].intRegisters[r] = value }
    func setFloat(_ r: Int, _ main: Double, _ shadow: Double) {
      tiles[id].floatRegisters[r] = main
      tiles[id].shadowFloatRegisters[r] = shadow
      tiles[id].floatReady[r] = tiles[id].time + 1
    }
    func branch(_ taken: Bool, _ target: Int) {
      if taken { tiles[id].pc = target }
    }

    switch operation {
    case .nop: break
    case .move(let d, let s): setInt(d, int(s))
    case .integer(let op, let d, let a, let b):
      setInt(d, try integer(op, int(a), int(b)))
    case .floatMove(let d, let s):
      let v = waitFor(s, tile: id)
      setFloat(d, v.main, v.shadow)
    case .float(let op, let d, let a, let b):
      let x = waitFor(a, tile: id)
      let y = waitFor(b, tile: id)
      setFloat(d, VectorNumerics.apply(op, x.main, y.main), VectorNumerics.apply(op, x.shadow, y.shadow))
    case .jump(let target): tiles[id].pc = target
    case .call(let target):
      guard tiles[id].returnStack.count < Operation.maxCallDepth else {
        throw RuntimeFaultMessage(
          "call nested more than \(Operation.maxCallDepth) deep (a recursion without end?)")
      }
      // `pc` already points after the call.
      tiles[id].returnStack.append(tiles[id].pc)
      tiles[id].pc = target
    case .ret:
      guard let back = tiles[id].returnStack.popLast() else {
        throw RuntimeFaultMessage("ret without a call in progress")
      }
      tiles[id].pc = back
    case .branch(let condition, let a, let b, let target):
      let (x, y) = (int(a), int(b))
      switch condition {
      case .equal: branch(x == y, target)
      case .notEqual: branch(x != y, target)
      case .less: branch(x < y, target)
      case .greaterOrEqual: branch(x >= y, target)
      }
    case .bias(let index):
      let (rule, format) = biasRules[index]
      let amax = waitFor(rule.amax, tile: id).main
      // Undefined for amax = 0, NaN or inf: the register keeps its value.
      let previous = tiles[id].intRegisters[rule.dest]
      let b = ScalingBias.amax(
        amax, format: format, margin: Int(rule.margin), range: Int(rule.min)...Int(rule.max),
        undefined: Int(clamping: previous))
      setInt(rule.dest, Int64(b))
    case .fence(let target):
      // In-order units: the last instruction issued is the last to become visible.
      let vector = tiles[id].vector.inFlight.last ?? 0
      let tensor = tiles[id].tensor.inFlight.last ?? 0
      let until: Int64
      switch target {
      case .all: until = max(vector, tensor)
      case .vector: until = vector
      case .tensor: until = tensor
      }
      if until > tiles[id].time {
        tiles[id].stats[.scalar].dependency += until - tiles[id].time
        tiles[id].time = until
      }
    case .other:
      throw RuntimeFaultMessage("internal error: not a scalar instruction")
    }
    issue(id)
  }

  /// 64-bit signed arithmetic; overflow and division by zero fault.
  func integer(_ op: IntegerOperator, _ a: Int64, _ b: Int64) throws(RuntimeFaultMessage) -> Int64 {
    func checked(_ r: (partialValue: Int64, overflow: Bool)) throws(RuntimeFaultMessage) -> Int64 {
      if r.overflow { throw RuntimeFaultMessage("integer overflow in '\(op.rawValue)'") }
      return r.partialValue
    }
    switch op {
    case .add: return try checked(a.addingReportingOverflow(b))
    case .sub: return try checked(a.subtractingReportingOverflow(b))
    case .mul: return try checked(a.multipliedReportingOverflow(by: b))
    case .div, .rem:
      guard b != 0 else { throw RuntimeFaultMessage("division by zero") }
      return try checked(
        op == .div ? a.dividedReportingOverflow(by: b) : a.remainderReportingOverflow(dividingBy: b))
    case .min: return Swift.min(a, b)
    case .max: return Swift.max(a, b)
    }
  }

  /// A float operand's values, after the scalar core waited (a dependency stall) until it is
  /// ready.
  func waitFor(_ value: FloatValue, tile id: Int) -> (main: Double, shadow: Double) {
    let v = float(value, tile: id)
    if v.ready > tiles[id].time {
      tiles[id].stats[.scalar].dependency += v.ready - tiles[id].time
      tiles[id].time = v.ready
    }
    return (v.main, v.shadow)
  }
}

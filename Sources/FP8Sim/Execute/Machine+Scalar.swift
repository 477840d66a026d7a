import FP8Formats
import FP8ISA

/// Scalar-core instructions: integer and float registers, branches, the AMAX bias rule.
extension Machine {
  func executeScalar(_ instruction: Instruction, tile id: Int) throws(RuntimeFaultMessage) {
    let ops = instruction.operands
    func int(_ i: Int) -> Int64 { self.int(ops[i], tile: id) }
    func checked(_ r: (partialValue: Int64, overflow: Bool)) throws(RuntimeFaultMessage) -> Int64 {
      if r.overflow { throw RuntimeFaultMessage("integer overflow in '\(instruction.opcode.mnemonic)'") }
      return r.partialValue
    }
    /// Waits for float operands, counting a dependency stall.
    func floats(_ indices: [Int]) -> [(main: Double, shadow: Double)] {
      var values: [(Double, Double)] = []
      for i in indices {
        let v = float(ops[i], tile: id)
        if v.ready > tiles[id].time {
          tiles[id].stats[.scalar]!.dependency += v.ready - tiles[id].time
          tiles[id].time = v.ready
        }
        values.append((v.main, v.shadow))
      }
      return values
    }
    func setInt(_ value: Int64) { tiles[id].intRegisters[ops[0].intRegister!] = value }
    func setFloat(_ main: Double, _ shadow: Double) {
      let r = ops[0].floatRegister!
      tiles[id].floatRegisters[r] = main
      tiles[id].shadowFloatRegisters[r] = shadow
      tiles[id].floatReady[r] = tiles[id].time + 1
    }
    func branch(_ taken: Bool) {
      if taken, case .label(_, let target) = ops[2] { tiles[id].pc = target }
    }

    switch instruction.opcode {
    case .nop: break
    case .mov: setInt(int(1))
    case .add: setInt(try checked(int(1).addingReportingOverflow(int(2))))
    case .sub: setInt(try checked(int(1).subtractingReportingOverflow(int(2))))
    case .mul: setInt(try checked(int(1).multipliedReportingOverflow(by: int(2))))
    case .div, .rem:
      guard int(2) != 0 else { throw RuntimeFaultMessage("division by zero") }
      setInt(
        try checked(
          instruction.opcode == .div
            ? int(1).dividedReportingOverflow(by: int(2))
            : int(1).remainderReportingOverflow(dividingBy: int(2))))
    case .min: setInt(Swift.min(int(1), int(2)))
    case .max: setInt(Swift.max(int(1), int(2)))
    case .fmov:
      let v = floats([1])
      setFloat(v[0].main, v[0].shadow)
    case .fadd, .fmul, .fmax, .fmin:
      let v = floats([1, 2])
      func op(_ a: Double, _ b: Double) -> Double {
        switch instruction.opcode {
        case .fadd: return a + b
        case .fmul: return a * b
        case .fmax: return VectorNumerics.maxNaN(a, b)
        default: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
        }
      }
      setFloat(op(v[0].main, v[1].main), op(v[0].shadow, v[1].shadow))
    case .jmp:
      if case .label(_, let target) = ops[0] { tiles[id].pc = target }
    case .beq: branch(int(0) == int(1))
    case .bne: branch(int(0) != int(1))
    case .blt: branch(int(0) < int(1))
    case .bge: branch(int(0) >= int(1))
    case .bias:
      let amax = floats([1])[0].main
      guard case .dtype(let dtype) = ops[2] else { preconditionFailure() }
      let format = dtype.resolved(e4: device.e4, e5: device.e5)
      let margin = Int(instruction.options["margin"]?.intValue ?? 0)
      let low = Int(instruction.options["min"]?.intValue ?? -31)
      let high = Int(instruction.options["max"]?.intValue ?? 31)
      let r = ops[0].intRegister!
      // Undefined for amax = 0, NaN or inf: the register keeps its value.
      let previous = tiles[id].intRegisters[r]
      let b = ScalingBias.amax(
        amax, format: format, margin: margin, range: low...high, undefined: Int(clamping: previous))
      tiles[id].intRegisters[r] = Int64(b)
    default:
      preconditionFailure("not a scalar instruction: \(instruction.opcode)")
    }
    issue(id)
  }
}

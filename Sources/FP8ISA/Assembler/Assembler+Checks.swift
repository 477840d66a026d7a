import FP8Formats

/// The checks that need declarations: memory spaces, shapes and element types of views.
extension Assembler {
  func check(_ instruction: Instruction, columns: [Int], optionColumns: [String: Int]) throws(LineError) {
    let ops = instruction.operands
    func viewAt(_ i: Int) -> (TensorView, TensorDecl, [Int]) {
      let v = ops[i].view!
      let t = program.tensors[v.tensor]
      return (v, t, v.shape(of: t.shape))
    }
    func requireSpace(_ i: Int, _ space: MemorySpace, _ role: String) throws(LineError) {
      let (_, t, _) = viewAt(i)
      if t.space != space {
        throw LineError(message: .wrongSpace(t.name, space, role), column: columns[i], length: t.name.count)
      }
    }
    func optionView(_ name: String) -> (TensorDecl, [Int], Int)? {
      guard let v = instruction.options[name]?.view else { return nil }
      let t = program.tensors[v.tensor]
      return (t, v.shape(of: t.shape), optionColumns[name] ?? 1)
    }

    // Constant biases, margins and clamps must be meaningful exponent shifts.
    for name in ["bias", "margin", "min", "max"] {
      if let v = instruction.options[name]?.intValue, !ScalingBias.validRange.contains(Int(clamping: v)) {
        throw LineError(
          message: .invalidOptionValue(
            name,
            "\(v) is outside \(ScalingBias.validRange.lowerBound)...\(ScalingBias.validRange.upperBound)"),
          column: optionColumns[name] ?? 1)
      }
    }
    if instruction.opcode == .bias {
      let low = instruction.options["min"]?.intValue ?? Int64(ScalingBias.defaultRange.lowerBound)
      let high = instruction.options["max"]?.intValue ?? Int64(ScalingBias.defaultRange.upperBound)
      if low > high {
        throw LineError(
          message: .invalidOptionValue("min", "min (\(low)) is greater than max (\(high))"),
          column: optionColumns["min"] ?? optionColumns["max"] ?? 1)
      }
    }

    switch instruction.opcode {
    case .dmaLoad, .dmaStore:
      let load = instruction.opcode == .dmaLoad
      try requireSpace(0, load ? .sram : .dram, "destination")
      try requireSpace(1, load ? .dram : .sram, "source")
      let (_, dst, dstShape) = viewAt(0)
      let (_, src, srcShape) = viewAt(1)
      if dstShape != srcShape {
        throw LineError(
          message: .shapeMismatch("destination \(dstShape) vs source \(srcShape)"), column: columns[0])
      }
      if dst.dtype != src.dtype {
        throw LineError(
          message: .operandType(
            "DMA copies bytes: destination '\(dst.name)' is \(dst.dtype) but source '\(src.name)' is \(src.dtype); convert with 'cast'"
          ), column: columns[0])
      }

    case .vadd, .vsub, .vmul, .vmax, .cast, .relu, .gelu, .exp, .softmax, .layernorm, .vfill:
      try requireSpace(0, .sram, "destination")
      let (_, _, dShape) = viewAt(0)
      if instruction.opcode != .vfill {
        try requireSpace(1, .sram, "operand")
        let (_, _, aShape) = viewAt(1)
        if aShape != dShape {
          throw LineError(message: .shapeMismatch("D is \(dShape), A is \(aShape)"), column: columns[1])
        }
      }
      if ops.count > 2, ops[2].view != nil {
        try requireSpace(2, .sram, "operand")
        let (_, _, bShape) = viewAt(2)
        if bShape != dShape && !Assembler.isRowBroadcast(bShape, to: dShape) {
          throw LineError(
            message: .shapeMismatch("B is \(bShape); expected \(dShape) or one row [\(dShape.last ?? 1)]"),
            column: columns[2])
        }
      }
      for name in ["gamma", "beta"] {
        guard let (t, shape, column) = optionView(name) else { continue }
        if t.space != .sram {
          throw LineError(message: .wrongSpace(t.name, .sram, name), column: column, length: t.name.count)
        }
        if !Assembler.isRowBroadcast(shape, to: dShape) {
          throw LineError(
            message: .shapeMismatch("\(name) is \(shape); expected one row [\(dShape.last ?? 1)]"),
            column: column)
        }
      }

    case .amax, .rmax, .rsum:
      try requireSpace(1, .sram, "operand")

    case .mma:
      for i in 0..<3 { try requireSpace(i, .sram, ["D", "A", "B"][i]) }
      let (_, d, dShape) = viewAt(0)
      let (_, a, aShape) = viewAt(1)
      let (_, b, bShape) = viewAt(2)
      for (i, shape) in [dShape, aShape, bShape].enumerated() where shape.count != 2 {
        throw LineError(
          message: .shapeMismatch("mma operands are matrices; \(["D", "A", "B"][i]) is \(shape)"),
          column: columns[i])
      }
      let ta = instruction.options["ta"]?.intValue == 1
      let tb = instruction.options["tb"]?.intValue == 1
      let (m, k) = ta ? (aShape[1], aShape[0]) : (aShape[0], aShape[1])
      let (k2, n) = tb ? (bShape[1], bShape[0]) : (bShape[0], bShape[1])
      if k != k2 {
        throw LineError(
          message: .shapeMismatch(
            "inner dimensions differ: A is \(m)×\(k) (M×K) but B is \(k2)×\(n) (K×N), after ta/tb"),
          column: columns[2])
      }
      if dShape != [m, n] {
        throw LineError(message: .shapeMismatch("D is \(dShape), A·B is [\(m), \(n)]"), column: columns[0])
      }
      guard let ac = a.dtype.mmaInputClass, let bc = b.dtype.mmaInputClass,
        ac == bc && (ac == .fp8 || a.dtype == b.dtype)
      else {
        throw LineError(
          message: .operandType(
            "mma inputs must both be FP8, or both f16, both bf16 or both f32; got \(a.dtype) and \(b.dtype)"),
          column: columns[1])
      }
      let accumulators: [DType: [String]] = [
        .format(.f16): ["auto", "f16"], .format(.bf16): ["auto", "bf16"],
        .format(.f32): ["auto", "f32", "fp22"],
      ]
      guard let allowed = accumulators[d.dtype] else {
        throw LineError(
          message: .operandType("mma accumulates into f16, bf16 or f32; '\(d.name)' is \(d.dtype)"),
          column: columns[0])
      }
      let acc = instruction.options["acc"]?.choiceValue ?? "auto"
      if !allowed.contains(acc) {
        throw LineError(
          message: .invalidOptionValue(
            "acc", "'\(acc)' cannot accumulate into \(d.dtype) (allowed: \(allowed.joined(separator: ", ")))"),
          column: optionColumns["acc"] ?? columns[0])
      }

    case .nop, .mov, .add, .sub, .mul, .div, .rem, .min, .max, .fmov, .fadd, .fmul, .fmax, .fmin,
      .jmp, .beq, .bne, .blt, .bge, .halt, .bias, .dmaWait, .barrier, .allreduceMax, .allreduceSum:
      break
    }
  }

  /// `[n]` or `[1, n]` broadcast over the rows of `target` (whose last dimension is n).
  static func isRowBroadcast(_ shape: [Int], to target: [Int]) -> Bool {
    guard let n = target.last else { return false }
    return shape == [n] || shape == [1, n]
  }
}

import FP8Formats

/// The checks that need declarations: memory spaces, shapes and element types of views, and the
/// ranges of constant biases. They run on the lowered operation, once per instruction; `columns`
/// are the columns of the positional operands, `optionColumns` those of the options written.
extension Assembler {
  func check(_ operation: Operation, columns: [Int], optionColumns: [String: Int]) throws(LineError) {
    let c = OperandChecker(program: program, columns: columns, optionColumns: optionColumns)
    switch operation {
    case .bias(let rule):
      for (name, value) in [("margin", rule.margin), ("min", rule.min), ("max", rule.max)] {
        try c.biasInRange(name, value)
      }
      if rule.min > rule.max {
        throw LineError(
          message: .invalidOptionValue("min", "min (\(rule.min)) is greater than max (\(rule.max))"),
          column: optionColumns["min"] ?? optionColumns["max"] ?? 1)
      }
    case .dma(let t): try c.transfer(t)
    case .vector(let v): try c.vector(v)
    case .reduction(_, _, let a): try c.onTile(a, 1, "operand")
    case .mma(let m): try c.matrixMultiply(m)
    case .nop, .halt, .move, .integer, .floatMove, .float, .jump, .call, .ret, .branch, .dmaWait, .fence,
      .barrier, .allReduce:
      break
    }
    // Shapes, when the text fixes them all (a length from a register is checked at run time).
    guard !ShapeRules.views(of: operation).contains(where: \.hasRegisterLength) else { return }
    if let bad = ShapeRules.check(operation, shape: { c.shape($0) }) {
      let column: Int
      switch bad.place {
      case .operand(let i): column = i < columns.count ? columns[i] : 1
      case .option(let name): column = optionColumns[name] ?? 1
      }
      throw LineError(message: .shapeMismatch(bad.message), column: column)
    }
  }
}

/// Checks the operands of one instruction against the program's declarations.
private struct OperandChecker {
  let program: Program
  let columns: [Int]
  let optionColumns: [String: Int]

  func decl(_ v: TensorView) -> TensorDecl { program.tensors[v.tensor] }
  func shape(_ v: TensorView) -> [Int] { v.shape(of: decl(v).shape) }

  /// Faults unless operand `i` lives in `space`.
  func space(_ v: TensorView, _ i: Int, _ space: MemorySpace, _ role: String) throws(LineError) {
    let t = decl(v)
    if t.space != space {
      throw LineError(message: .wrongSpace(t.name, space, role), column: columns[i], length: t.name.count)
    }
  }

  /// Faults unless operand `i` lives on the tile (SRAM or accumulator storage).
  func onTile(_ v: TensorView, _ i: Int, _ role: String) throws(LineError) {
    try onTile(v, column: columns[i], role)
  }

  func onTile(_ v: TensorView, column: Int, _ role: String) throws(LineError) {
    let t = decl(v)
    if !MemorySpace.onTile.contains(t.space) {
      throw LineError(
        message: .wrongSpaces(t.name, MemorySpace.onTile, role), column: column, length: t.name.count)
    }
  }

  /// Constant biases, margins and clamps must be meaningful exponent shifts.
  func biasInRange(_ name: String, _ value: Int64) throws(LineError) {
    if !ScalingBias.validRange.contains(Int(clamping: value)) {
      throw LineError(
        message: .invalidOptionValue(
          name,
          "\(value) is outside \(ScalingBias.validRange.lowerBound)...\(ScalingBias.validRange.upperBound)"),
        column: optionColumns[name] ?? 1)
    }
  }

  func transfer(_ t: Transfer) throws(LineError) {
    let load = t.direction == .load
    if !(1...Transfer.maxMulticast).contains(t.multicast) {
      throw LineError(
        message: .invalidOptionValue("mcast", "\(t.multicast) is outside 1...\(Transfer.maxMulticast)"),
        column: optionColumns["mcast"] ?? 1)
    }
    try space(t.destination, 0, load ? .sram : .dram, "destination")
    try space(t.source, 1, load ? .dram : .sram, "source")
    let (dst, src) = (decl(t.destination), decl(t.source))
    if dst.dtype != src.dtype {
      throw LineError(
        message: .operandType(
          "DMA copies bytes: destination '\(dst.name)' is \(dst.dtype) but source '\(src.name)' is \(src.dtype); convert with 'cast'"
        ), column: columns[0])
    }
  }

  func vector(_ v: VectorOperation) throws(LineError) {
    if case .constant(let b) = v.output.bias { try biasInRange("bias", b) }
    try onTile(v.destination, 0, "destination")
    // A block-scaled destination is written by `cast` alone, which chooses each block's scale
    // itself: no bias, rounding or overflow option applies.
    let d = decl(v.destination)
    if let t = v.output.tensorScale, t == v.output.amax {
      throw LineError(
        message: .invalidOptionValue("tscale", "f\(t) is also the amax= register; give them two"),
        column: optionColumns["tscale"] ?? columns[0])
    }
    if v.output.tensorScale != nil, d.dtype.blocking?.rule != .nvfp4 {
      throw LineError(
        message: .invalidOptionValue("tscale", "it is an NVFP4 tensor's scale; '\(d.name)' is \(d.dtype)"),
        column: optionColumns["tscale"] ?? columns[0])
    }
    if let t = v.output.tensorAmax {
      let column = optionColumns["tamax"] ?? columns[0]
      guard d.dtype.blocking?.rule == .nvfp4 else {
        throw LineError(
          message: .invalidOptionValue("tamax", "it sets an NVFP4 tensor's scale; '\(d.name)' is \(d.dtype)"),
          column: column)
      }
      if case .constant(let x) = t, !(x.isFinite && x >= 0) {
        throw LineError(
          message: .invalidOptionValue("tamax", "an amax is finite and not negative; got \(x)"),
          column: column)
      }
    }
    if let b = d.dtype.blocking {
      guard case .cast = v.kind else {
        throw LineError(
          message: .operandType(
            "'\(d.name)' is \(b.name): only 'cast' writes a block-scaled tensor (it chooses each block's scale)"
          ),
          column: columns[0])
      }
      var o = v.output
      o.amax = nil
      o.tensorAmax = nil
      o.tensorScale = nil
      guard o == .defaults else {
        throw LineError(
          message: .operandType(
            "'\(d.name)' is \(b.name): a cast into it scales each block itself; bias, rounding, overflow and seed do not apply"
          ),
          column: columns[0])
      }
    }
    switch v.kind {
    case .binary(_, let a, let b):
      try onTile(a, 1, "operand")
      if case .view(let b) = b { try onTile(b, 2, "operand") }
    case .unary(_, let a), .cast(let a), .softmax(let a), .rowReduce(_, let a): try onTile(a, 1, "operand")
    case .rope(let a, _, let base):
      try onTile(a, 1, "operand")
      guard base.isFinite, base > 0 else {
        throw LineError(
          message: .invalidOptionValue("base", "the base must be finite and positive; got \(base)"),
          column: optionColumns["base"] ?? columns[0])
      }
    case .fill: break
    case .layernorm(let a, let gamma, let beta, _, _):
      try onTile(a, 1, "operand")
      for (name, view) in [("gamma", gamma), ("beta", beta)] {
        guard let view else { continue }
        try onTile(view, column: optionColumns[name] ?? 1, name)
      }
    }
  }

  func matrixMultiply(_ mma: MatrixMultiply) throws(LineError) {
    let views = [mma.d, mma.a, mma.b]
    let roles = ["D", "A", "B"]
    try onTile(mma.d, 0, "D")
    for i in 1..<3 { try space(views[i], i, .sram, roles[i]) }
    let (d, a, b) = (decl(mma.d), decl(mma.a), decl(mma.b))
    guard let ac = a.dtype.mmaInputClass, let bc = b.dtype.mmaInputClass,
      ac == bc && (ac == .fp8 || a.dtype.sameElements(as: b.dtype))
    else {
      throw LineError(
        message: .operandType(
          "mma inputs must both be FP8 (plain or block-scaled), both of one block-scaled FP6 or FP4 type (blocks along either axis), both of one FP6 or FP4 format, or both f16, both bf16 or both f32; got \(a.dtype) and \(b.dtype)"
        ),
        column: columns[1])
    }
    guard let allowed = MatrixMultiply.accumulators(into: d.dtype) else {
      throw LineError(
        message: .operandType("mma accumulates into f16, bf16 or f32; '\(d.name)' is \(d.dtype)"),
        column: columns[0])
    }
    if let acc = mma.accumulator, !allowed.contains(acc) {
      let words = [MatrixMultiply.autoAccumulator] + allowed.map(\.rawValue)
      throw LineError(
        message: .invalidOptionValue(
          "acc",
          "'\(acc.rawValue)' cannot accumulate into \(d.dtype) (allowed: \(words.joined(separator: ", ")))"),
        column: optionColumns["acc"] ?? columns[0])
    }
    if mma.accumulator == .fp22,
      a.dtype.blocking != nil || b.dtype.blocking != nil || [.fp6, .fp4].contains(ac)
    {
      throw LineError(
        message: .invalidOptionValue(
          "acc",
          "'fp22' models Hopper's FP8 path, which has no block scales and no FP6 or FP4 inputs; use f32 or f32rz"
        ),
        column: optionColumns["acc"] ?? columns[0])
    }
    if mma.accumulator == .f32rz { try blackwellInputs(mma, a: a, b: b) }
  }

  /// `acc=f32rz` models Blackwell's tensor cores: FP8, FP6 or FP4 inputs, unscaled or with MX
  /// block scales running along K (the hardware applies one scale per block of K).
  func blackwellInputs(_ mma: MatrixMultiply, a: TensorDecl, b: TensorDecl) throws(LineError) {
    let column = optionColumns["acc"] ?? columns[0]
    for (decl, role, kAlongRows) in [(a, "A", !mma.transposeA), (b, "B", mma.transposeB)] {
      guard let inputs = decl.dtype.mmaInputClass, [.fp8, .fp6, .fp4].contains(inputs) else {
        throw LineError(
          message: .invalidOptionValue(
            "acc", "'f32rz' takes FP8, FP6 or FP4 inputs; \(role) is \(decl.dtype)"),
          column: column)
      }
      guard let scheme = decl.dtype.blocking else { continue }
      guard scheme.rule != .amax else {
        throw LineError(
          message: .invalidOptionValue(
            "acc",
            "'f32rz' models Blackwell's block-scaled MMA, which has no FP32 block scales (\(scheme.name)); use f32"
          ), column: column)
      }
      // K runs along the view's last dimension for A (unless ta) and for B with tb.
      guard (scheme.blockRows == 1) == kAlongRows else {
        let other = kAlongRows ? "1×\(scheme.blockSize)" : "\(scheme.blockSize)×1"
        throw LineError(
          message: .invalidOptionValue(
            "acc",
            "'f32rz' applies one scale per block of K: \(role)'s blocks run across K (\(decl.dtype)); it needs \(other) blocks"
          ),
          column: column)
      }
    }
  }
}

extension MatrixMultiply {
  /// The accumulators an `mma` may use with a D of type `d` (nil: D cannot be an accumulator);
  /// the first is what `acc=auto` means.
  public static func accumulators(into d: DType) -> [Accumulator]? {
    switch d {
    case .format(.f16): return [.f16]
    case .format(.bf16): return [.bf16]
    case .format(.f32): return [.f32, .fp22, .f32rz]
    default: return nil
    }
  }
}

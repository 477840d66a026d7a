import FP8Formats

/// An instruction as written: the opcode, its positional operands in `spec.operands` order and its
/// options by name. The assembler parses text into this form and lowers it once into an
/// `Operation`; the disassembler prints an operation through it. Nothing else uses it.
public struct InstructionSyntax: Sendable, Hashable {
  public var opcode: Opcode
  public var operands: [Operand]
  /// Options present in the text (or, from `Operation.syntax`, every option with a value).
  public var options: [String: Operand]

  public init(opcode: Opcode, operands: [Operand], options: [String: Operand] = [:]) {
    self.opcode = opcode
    self.operands = operands
    self.options = options
  }
}

/// An operand of the wrong kind reached lowering: the parser and the table disagree (a bug,
/// reported as an internal error rather than a crash).
public struct LoweringError: Error, Sendable, Equatable {
  public var message: String
}

extension Operation {
  /// Lowers written syntax into a typed operation, taking every absent option's default from
  /// `Opcode.spec`.
  public init(lowering syntax: InstructionSyntax) throws(LoweringError) {
    let r = SyntaxReader(syntax)
    switch r.spec.family {
    case .nop: self = .nop
    case .halt: self = .halt
    case .move: self = .move(dest: try r.intRegister(0), source: try r.int(1))
    case .integer(let op): self = .integer(op, dest: try r.intRegister(0), a: try r.int(1), b: try r.int(2))
    case .floatMove: self = .floatMove(dest: try r.floatRegister(0), source: try r.float(1))
    case .float(let op):
      self = .float(
        op, dest: try r.floatRegister(0), a: try r.float(1), b: op.isUnary ? .constant(0) : try r.float(2))
    case .jump: self = .jump(try r.label(0))
    case .call: self = .call(try r.label(0))
    case .ret: self = .ret
    case .branch(let c): self = .branch(c, a: try r.int(0), b: try r.int(1), target: try r.label(2))
    case .bias:
      self = .bias(
        BiasRule(
          dest: try r.intRegister(0), amax: try r.float(1), format: try r.dtype(2),
          margin: try r.intConstant("margin"), min: try r.intConstant("min"), max: try r.intConstant("max")))
    case .transfer(let direction):
      self = .dma(
        Transfer(
          direction, destination: try r.view(0), source: try r.view(1),
          multicast: direction == .load ? try r.intConstant("mcast") : Transfer.defaultMulticast))
    case .dmaWait: self = .dmaWait(keep: try r.int(0))
    case .fence: self = .fence(try r.parse(try r.choice("unit"), as: FenceTarget.self))
    case .binary(let f): self = try Operation.vector(.binary(f, a: try r.view(1), b: try r.viewOrFloat(2)), r)
    case .unary(let f): self = try Operation.vector(.unary(f, a: try r.view(1)), r)
    case .cast: self = try Operation.vector(.cast(try r.view(1)), r)
    case .fill: self = try Operation.vector(.fill(try r.float(1)), r)
    case .softmax: self = try Operation.vector(.softmax(try r.view(1)), r)
    case .rowReduction(let op): self = try Operation.vector(.rowReduce(op, try r.view(1)), r)
    case .rope:
      self = try Operation.vector(
        .rope(try r.view(1), position: try r.intValue("pos"), base: try r.floatConstant("base")), r)
    case .layernorm:
      self = try Operation.vector(
        .layernorm(
          try r.view(1), gamma: try r.optionalView("gamma"), beta: try r.optionalView("beta"),
          eps: try r.floatConstant("eps")), r)
    case .rmsnorm:
      self = try Operation.vector(
        .layernorm(
          try r.view(1), gamma: try r.optionalView("gamma"), beta: nil, eps: try r.floatConstant("eps"),
          rms: true),
        r)
    case .reduction(let reduction):
      self = .reduction(reduction, dest: try r.floatRegister(0), source: try r.view(1))
    case .mma:
      let acc = try r.choice("acc")
      self = .mma(
        MatrixMultiply(
          d: try r.view(0), a: try r.view(1), b: try r.view(2),
          accumulator: acc == MatrixMultiply.autoAccumulator ? nil : try r.parse(acc, as: Accumulator.self),
          transposeA: try r.flag("ta"), transposeB: try r.flag("tb"), clear: try r.flag("clear"),
          amax: try r.optionalFloatRegister("amax")))
    case .barrier: self = .barrier
    case .allReduce(let c):
      self = .allReduce(
        AllReduce(c, dest: try r.floatRegister(0), source: try r.float(1), async: try r.flag("async")))
    }
  }

  private static func vector(_ kind: VectorOperation.Kind, _ r: SyntaxReader) throws(LoweringError)
    -> Operation
  {
    let output = OutputOptions(
      bias: try r.intValue("bias"), rounding: try r.parse(try r.choice("round"), as: RoundingMode.self),
      overflow: try r.parse(try r.choice("overflow"), as: OverflowMode.self), seed: try r.intConstant("seed"),
      amax: try r.optionalFloatRegister("amax"), tensorAmax: try r.optionalFloat("tamax"),
      tensorScale: try r.optionalFloatRegister("tscale"))
    return .vector(VectorOperation(kind, destination: try r.view(0), output: output))
  }

}

/// Reads operands and options of one instruction by kind; absent options take the table's
/// default.
private struct SyntaxReader {
  let syntax: InstructionSyntax
  let spec: OpcodeSpec

  init(_ syntax: InstructionSyntax) {
    self.syntax = syntax
    spec = syntax.opcode.spec
  }

  func mismatch(_ what: String) -> LoweringError {
    LoweringError(message: "'\(spec.mnemonic)': expected \(what)")
  }

  func operand(_ i: Int) throws(LoweringError) -> Operand {
    guard i < syntax.operands.count else { throw mismatch("operand \(i + 1)") }
    return syntax.operands[i]
  }

  func option(_ name: String) throws(LoweringError) -> Operand? {
    if let value = syntax.options[name] { return value }
    guard let o = spec.options.first(where: { $0.name == name }) else {
      throw mismatch("an option '\(name)'")
    }
    return o.defaultValue
  }

  func intRegister(_ i: Int) throws(LoweringError) -> Int {
    guard case .intRegister(let r) = try operand(i) else { throw mismatch("an integer register") }
    return r
  }

  func floatRegister(_ i: Int) throws(LoweringError) -> Int {
    guard case .floatRegister(let r) = try operand(i) else { throw mismatch("a float register") }
    return r
  }

  func int(_ i: Int) throws(LoweringError) -> IntValue {
    guard let v = IntValue(try operand(i)) else { throw mismatch("an integer value") }
    return v
  }

  func float(_ i: Int) throws(LoweringError) -> FloatValue {
    guard let v = FloatValue(try operand(i)) else { throw mismatch("a float value") }
    return v
  }

  func view(_ i: Int) throws(LoweringError) -> TensorView {
    guard case .view(let v) = try operand(i) else { throw mismatch("a tensor view") }
    return v
  }

  func viewOrFloat(_ i: Int) throws(LoweringError) -> VectorOperand {
    let o = try operand(i)
    if case .view(let v) = o { return .view(v) }
    guard let f = FloatValue(o) else { throw mismatch("a tensor view or a float value") }
    return .value(f)
  }

  func label(_ i: Int) throws(LoweringError) -> Label {
    guard case .label(let name, let target) = try operand(i) else { throw mismatch("a label") }
    return Label(name, target: target)
  }

  func dtype(_ i: Int) throws(LoweringError) -> DType {
    guard case .dtype(let d) = try operand(i) else { throw mismatch("an element type") }
    return d
  }

  func intConstant(_ name: String) throws(LoweringError) -> Int64 {
    guard case .int(let n) = try option(name) else { throw mismatch("an integer \(name)=") }
    return n
  }

  func floatConstant(_ name: String) throws(LoweringError) -> Double {
    switch try option(name) {
    case .float(let v): return v
    case .int(let v): return Double(v)
    default: throw mismatch("a number \(name)=")
    }
  }

  func intValue(_ name: String) throws(LoweringError) -> IntValue {
    guard let o = try option(name), let v = IntValue(o) else { throw mismatch("an integer \(name)=") }
    return v
  }

  func flag(_ name: String) throws(LoweringError) -> Bool {
    guard case .int(let n) = try option(name), n == 0 || n == 1 else { throw mismatch("0 or 1 for \(name)=") }
    return n == 1
  }

  func choice(_ name: String) throws(LoweringError) -> String {
    guard case .choice(let word) = try option(name) else { throw mismatch("a word for \(name)=") }
    return word
  }

  func parse<T: RawRepresentable>(_ word: String, as: T.Type) throws(LoweringError) -> T
  where T.RawValue == String {
    guard let v = T(rawValue: word) else { throw mismatch("one of the words of \(T.self)") }
    return v
  }

  func optionalFloatRegister(_ name: String) throws(LoweringError) -> Int? {
    switch try option(name) {
    case nil: return nil
    case .floatRegister(let r): return r
    default: throw mismatch("a float register for \(name)=")
    }
  }

  func optionalFloat(_ name: String) throws(LoweringError) -> FloatValue? {
    guard let o = try option(name) else { return nil }
    guard let v = FloatValue(o) else { throw mismatch("a float value for \(name)=") }
    return v
  }

  func optionalView(_ name: String) throws(LoweringError) -> TensorView? {
    switch try option(name) {
    case nil: return nil
    case .view(let v): return v
    default: throw mismatch("a tensor view for \(name)=")
    }
  }
}

extension IntValue {
  init?(_ operand: Operand) {
    switch operand {
    case .intRegister(let r): self = .register(r)
    case .special(let s): self = .special(s)
    case .int(let n): self = .constant(n)
    default: return nil
    }
  }

  var operand: Operand {
    switch self {
    case .register(let r): return .intRegister(r)
    case .special(let s): return .special(s)
    case .constant(let n): return .int(n)
    }
  }
}

extension FloatValue {
  init?(_ operand: Operand) {
    switch operand {
    case .floatRegister(let r): self = .register(r)
    case .float(let v): self = .constant(v)
    case .int(let n): self = .constant(Double(n))
    default: return nil
    }
  }

  var operand: Operand {
    switch self {
    case .register(let r): return .floatRegister(r)
    case .constant(let v): return .float(v)
    }
  }
}

// MARK: - Operation → syntax (for printing)

extension Operation {
  /// The written form: positional operands and every option that has a value (the disassembler
  /// leaves out those equal to their default).
  public var syntax: InstructionSyntax {
    var operands: [Operand] = []
    var options: [String: Operand] = [:]
    switch self {
    case .nop, .halt, .barrier, .ret: break
    case .move(let d, let s): operands = [.intRegister(d), s.operand]
    case .integer(_, let d, let a, let b): operands = [.intRegister(d), a.operand, b.operand]
    case .floatMove(let d, let s): operands = [.floatRegister(d), s.operand]
    case .float(let op, let d, let a, let b):
      operands = [.floatRegister(d), a.operand] + (op.isUnary ? [] : [b.operand])
    case .jump(let l), .call(let l): operands = [.label(l.name, target: l.target)]
    case .branch(_, let a, let b, let l): operands = [a.operand, b.operand, .label(l.name, target: l.target)]
    case .bias(let rule):
      operands = [.intRegister(rule.dest), rule.amax.operand, .dtype(rule.format)]
      options = ["margin": .int(rule.margin), "min": .int(rule.min), "max": .int(rule.max)]
    case .dma(let t):
      operands = [.view(t.destination), .view(t.source)]
      if t.direction == .load { options["mcast"] = .int(t.multicast) }
    case .dmaWait(let keep): operands = [keep.operand]
    case .fence(let target): options["unit"] = .choice(target.rawValue)
    case .vector(let v):
      operands = [.view(v.destination)]
      switch v.kind {
      case .binary(_, let a, .view(let b)): operands += [.view(a), .view(b)]
      case .binary(_, let a, .value(let b)): operands += [.view(a), b.operand]
      case .unary(_, let a), .cast(let a), .softmax(let a), .rowReduce(_, let a): operands.append(.view(a))
      case .rope(let a, let position, let base):
        operands.append(.view(a))
        options["pos"] = position.operand
        options["base"] = .float(base)
      case .fill(let value): operands.append(value.operand)
      case .layernorm(let a, let gamma, let beta, let eps, let rms):
        operands.append(.view(a))
        options["gamma"] = gamma.map(Operand.view)
        if !rms { options["beta"] = beta.map(Operand.view) }
        options["eps"] = .float(eps)
      }
      let o = v.output
      options["bias"] = o.bias.operand
      options["round"] = .choice(o.rounding.rawValue)
      options["overflow"] = .choice(o.overflow.rawValue)
      options["seed"] = .int(o.seed)
      options["amax"] = o.amax.map(Operand.floatRegister)
      options["tamax"] = o.tensorAmax?.operand
      options["tscale"] = o.tensorScale.map(Operand.floatRegister)
    case .reduction(_, let d, let a): operands = [.floatRegister(d), .view(a)]
    case .mma(let m):
      operands = [.view(m.d), .view(m.a), .view(m.b)]
      options = [
        "acc": .choice(m.accumulator?.rawValue ?? MatrixMultiply.autoAccumulator),
        "ta": .int(m.transposeA ? 1 : 0), "tb": .int(m.transposeB ? 1 : 0), "clear": .int(m.clear ? 1 : 0),
      ]
      options["amax"] = m.amax.map(Operand.floatRegister)
    case .allReduce(let r):
      operands = [.floatRegister(r.dest), r.source.operand]
      options["async"] = .int(r.async ? 1 : 0)
    }
    return InstructionSyntax(opcode: opcode, operands: operands, options: options)
  }

  /// Points a branch or jump at `target` (the assembler resolves labels after reading every line).
  mutating func resolveLabel(to target: Int) {
    switch self {
    case .jump(var l):
      l.target = target
      self = .jump(l)
    case .call(var l):
      l.target = target
      self = .call(l)
    case .branch(let c, let a, let b, var l):
      l.target = target
      self = .branch(c, a: a, b: b, target: l)
    case .nop, .halt, .move, .integer, .floatMove, .float, .ret, .bias, .dma, .dmaWait, .fence, .vector,
      .reduction, .mma, .barrier, .allReduce:
      break
    }
  }

  /// The label a branch or jump names.
  public var label: Label? {
    switch self {
    case .jump(let l), .call(let l), .branch(_, _, _, let l): return l
    case .nop, .halt, .move, .integer, .floatMove, .float, .ret, .bias, .dma, .dmaWait, .fence, .vector,
      .reduction, .mma, .barrier, .allReduce:
      return nil
    }
  }
}

extension MatrixMultiply {
  /// The word of `acc=` that means "D's type".
  public static let autoAccumulator = "auto"
}

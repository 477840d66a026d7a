import FP8Formats

/// Instructions: mnemonic lookup, operands by kind, `key=value` options, then the checks that
/// need types and shapes (`Assembler+Checks.swift`).
extension Assembler {
  mutating func instruction(_ s: inout Scanner) throws(LineError) {
    s.skipSpaces()
    let column = s.column
    guard let mnemonic = s.identifier() else {
      throw LineError(message: .unexpectedText(s.nextChunk()), column: column, length: s.nextChunk().count)
    }
    guard let opcode = Opcode.byMnemonic[mnemonic] else {
      let suggestion = suggest(mnemonic, from: Array(Opcode.byMnemonic.keys))
      throw LineError(
        message: .unknownMnemonic(mnemonic), column: column, length: mnemonic.count,
        notes: suggestion.map { ["did you mean '\($0)'?"] } ?? [])
    }
    let spec = opcode.spec
    let (operands, columns, pendingLabel) = try parseOperands(&s, spec: spec)
    let (options, optionColumns) = try parseOptions(&s, spec: spec)
    if !s.atEnd() {
      throw LineError(message: .unexpectedText(s.nextChunk()), column: s.column, length: s.nextChunk().count)
    }
    let syntax = InstructionSyntax(opcode: opcode, operands: operands, options: options)
    let operation: Operation
    do {
      operation = try Operation(lowering: syntax)
    } catch {
      throw LineError(message: .internalError(error.message), column: column)
    }
    try check(operation, columns: columns, optionColumns: optionColumns)
    if let label = pendingLabel {
      labelUses.append((program.instructions.count, label.name, s.location(at: label.column)))
    }
    program.instructions.append(Instruction(operation, location: s.location(at: column)))
  }

  /// The positional operands, by the kinds of `spec.operands`, with their columns and the label
  /// a branch names (resolved once every line has been read).
  mutating func parseOperands(_ s: inout Scanner, spec: OpcodeSpec) throws(LineError)
    -> (operands: [Operand], columns: [Int], label: (name: String, column: Int)?)
  {
    let mnemonic = spec.mnemonic
    var operands: [Operand] = []
    var columns: [Int] = []
    var pendingLabel: (name: String, column: Int)?
    for (i, operandSpec) in spec.operands.enumerated() {
      if let absent = operandSpec.kind.absentValue, s.atEnd() {
        operands.append(absent)
        columns.append(s.column)
        continue
      }
      if i > 0 {
        guard s.consume(",") else {
          if s.atEnd() || isOptionNext(s) {
            throw LineError(message: .missingOperand(mnemonic, operandSpec.name), column: s.column)
          }
          throw LineError(message: .expected("','", found: s.rest()), column: s.column)
        }
      }
      if s.atEnd() || isOptionNext(s) {
        throw LineError(message: .missingOperand(mnemonic, operandSpec.name), column: s.column)
      }
      s.skipSpaces()
      columns.append(s.column)
      if operandSpec.kind == .label {
        let labelColumn = s.column
        guard let name = s.identifier() else {
          throw LineError(message: .expected("a label", found: s.rest()), column: labelColumn)
        }
        pendingLabel = (name, labelColumn)
        operands.append(.label(name, target: -1))
        continue
      }
      operands.append(try parseOperand(&s, kind: operandSpec.kind))
    }
    return (operands, columns, pendingLabel)
  }

  /// `, key=value` options after the operands; anything else is an error.
  mutating func parseOptions(_ s: inout Scanner, spec: OpcodeSpec) throws(LineError)
    -> (options: [String: Operand], columns: [String: Int])
  {
    let mnemonic = spec.mnemonic
    var options: [String: Operand] = [:]
    var optionColumns: [String: Int] = [:]
    // After the operands each option follows a comma; an instruction without operands starts
    // with its first option (`fence unit=tensor`), as the disassembler prints it.
    var first = spec.operands.isEmpty && isOptionNext(s)
    while first || s.consume(",") {
      first = false
      s.skipSpaces()
      let optionColumn = s.column
      guard isOptionNext(s) else {
        throw LineError(
          message: .extraOperand(mnemonic, expected: spec.operands.count), column: optionColumn,
          length: s.nextChunk().count)
      }
      let name = s.identifier()!
      _ = s.consume("=")
      guard let optionSpec = spec.options.first(where: { $0.name == name }) else {
        let known = spec.options.map(\.name)
        throw LineError(
          message: .unknownOption(name, mnemonic), column: optionColumn, length: name.count,
          notes: known.isEmpty
            ? ["'\(mnemonic)' takes no options"] : ["options: " + known.joined(separator: ", ")])
      }
      guard optionColumns[name] == nil else {
        throw LineError(message: .duplicateOption(name), column: optionColumn, length: name.count)
      }
      let value = try parseOption(&s, spec: optionSpec)
      optionColumns[name] = optionColumn
      options[name] = value
    }
    return (options, optionColumns)
  }

  /// True when the next thing is `identifier =`.
  func isOptionNext(_ s: Scanner) -> Bool {
    var look = s
    guard look.identifier() != nil else { return false }
    look.skipSpaces()
    return look.peek() == "="
  }

  // MARK: - Operands

  mutating func parseOperand(_ s: inout Scanner, kind: OperandKind) throws(LineError) -> Operand {
    s.skipSpaces()
    let column = s.column
    switch kind {
    case .intDest:
      return .intRegister(try intRegister(&s, column: column))
    case .floatDest:
      return .floatRegister(try floatRegister(&s, column: column))
    case .intSource:
      return try intSource(&s)
    case .floatSource:
      return try floatSource(&s)
    case .view:
      return .view(try view(&s))
    case .viewOrFloat:
      if let name = s.peekIdentifier(), tensorByName[name] != nil {
        return .view(try view(&s))
      }
      return try floatSource(&s)
    case .dtype:
      return .dtype(try parseDType(&s))
    case .optionalCount:
      if let name = s.peekIdentifier(), Assembler.registerNumber(name, prefix: "r") != nil {
        return .intRegister(try intRegister(&s, column: column))
      }
      let value = try ExpressionParser(params: paramValues).parse(&s)
      guard case .int(let n) = value, n >= 0 else {
        throw LineError(message: .operandType("expected a non-negative integer count"), column: column)
      }
      return .int(n)
    case .label:
      preconditionFailure("labels are parsed by the caller")
    }
  }

  func intRegister(_ s: inout Scanner, column: Int) throws(LineError) -> Int {
    guard let name = s.identifier() else {
      throw LineError(message: .expected("an integer register r0...r31", found: s.rest()), column: column)
    }
    guard let n = Assembler.registerNumber(name, prefix: "r") else {
      let what = SpecialRegister(rawValue: name) != nil ? "'\(name)' (read-only)" : "'\(name)'"
      throw LineError(
        message: .expected("an integer register r0...r31", found: what), column: column, length: name.count)
    }
    guard n < ProgramLimits.intRegisters else {
      throw LineError(
        message: .registerOutOfRange(name, ProgramLimits.intRegisters, "r"), column: column,
        length: name.count)
    }
    return n
  }

  func floatRegister(_ s: inout Scanner, column: Int) throws(LineError) -> Int {
    guard let name = s.identifier() else {
      throw LineError(message: .expected("a float register f0...f15", found: s.rest()), column: column)
    }
    guard let n = Assembler.registerNumber(name, prefix: "f") else {
      throw LineError(
        message: .expected("a float register f0...f15", found: "'\(name)'"), column: column,
        length: name.count)
    }
    guard n < ProgramLimits.floatRegisters else {
      throw LineError(
        message: .registerOutOfRange(name, ProgramLimits.floatRegisters, "f"), column: column,
        length: name.count)
    }
    return n
  }

  /// `rN`, `tid`, `ntiles` or an integer constant expression.
  func intSource(_ s: inout Scanner) throws(LineError) -> Operand {
    s.skipSpaces()
    let column = s.column
    if let name = s.peekIdentifier() {
      if let special = SpecialRegister(rawValue: name) {
        _ = s.identifier()
        return .special(special)
      }
      if Assembler.registerNumber(name, prefix: "r") != nil {
        return .intRegister(try intRegister(&s, column: column))
      }
      if Assembler.registerNumber(name, prefix: "f") != nil {
        throw LineError(
          message: .expected("an integer value", found: "float register '\(name)'"), column: column,
          length: name.count)
      }
    }
    let value = try ExpressionParser(params: paramValues).parse(&s)
    guard case .int(let n) = value else {
      throw LineError(message: .expected("an integer value", found: "'\(value)'"), column: column)
    }
    return .int(n)
  }

  /// `fN` or a constant expression.
  func floatSource(_ s: inout Scanner) throws(LineError) -> Operand {
    s.skipSpaces()
    let column = s.column
    if let name = s.peekIdentifier() {
      if Assembler.registerNumber(name, prefix: "f") != nil {
        return .floatRegister(try floatRegister(&s, column: column))
      }
      if Assembler.registerNumber(name, prefix: "r") != nil || SpecialRegister(rawValue: name) != nil {
        throw LineError(
          message: .expected("a float value", found: "integer register '\(name)'"), column: column,
          length: name.count)
      }
      if tensorByName[name] != nil {
        throw LineError(
          message: .expected("a float value", found: "tensor '\(name)'"), column: column, length: name.count)
      }
    }
    return .float(try ExpressionParser(params: paramValues).parse(&s).asDouble)
  }

  /// `NAME` or `NAME[i, j, ...]` with each index `:`, `start`, or `start:+length`, where start
  /// is `rN`, `tid`, `ntiles`, `rN+expr`, `rN-expr` or an expression.
  func view(_ s: inout Scanner) throws(LineError) -> TensorView {
    s.skipSpaces()
    let column = s.column
    guard let name = s.identifier() else {
      throw LineError(message: .expected("a tensor", found: s.rest()), column: column)
    }
    guard let tensorIndex = tensorByName[name] else {
      let suggestion = suggest(name, from: Array(tensorByName.keys))
      throw LineError(
        message: .unknownTensor(name), column: column, length: name.count,
        notes: suggestion.map { ["did you mean '\($0)'?"] } ?? [])
    }
    let tensor = program.tensors[tensorIndex]
    var indices: [ViewIndex] = []
    if s.consume("[") {
      repeat {
        s.skipSpaces()
        let indexColumn = s.column
        if s.consume(":") {
          indices.append(.full)
        } else {
          let start = try sliceStart(&s)
          if s.consumeSequence(":+") {
            s.skipSpaces()
            let lengthColumn = s.column
            if let word = s.peekIdentifier(), Assembler.registerNumber(word, prefix: "r") != nil {
              // A length from a register: checked when the instruction runs.
              indices.append(
                .rangeOfRegister(start, lengthRegister: try intRegister(&s, column: lengthColumn)))
            } else if let word = s.peekIdentifier(),
              SpecialRegister(rawValue: word) != nil || Assembler.registerNumber(word, prefix: "f") != nil
            {
              throw LineError(
                message: .operandType(
                  "a slice length is a positive constant or an integer register r0…r\(ProgramLimits.intRegisters - 1), not '\(word)'"
                ),
                column: lengthColumn, length: word.count)
            } else {
              let value = try ExpressionParser(params: paramValues).parse(&s)
              guard case .int(let n) = value, n >= 1 else {
                throw LineError(
                  message: .operandType("slice length must be a positive integer"), column: lengthColumn)
              }
              let dim = indices.count
              if dim < tensor.shape.count, n > Int64(tensor.shape[dim]) {
                throw LineError(
                  message: .sliceOutOfBounds(
                    "length \(n) exceeds dimension \(dim) of '\(name)' (\(tensor.shape[dim]))"),
                  column: indexColumn)
              }
              indices.append(.range(start, length: n > Int64(Int32.max) ? Int(Int32.max) : Int(n)))
            }
          } else {
            indices.append(.index(start))
          }
        }
        let dim = indices.count - 1
        guard dim < tensor.shape.count else {
          throw LineError(
            message: .sliceOutOfBounds("'\(name)' has rank \(tensor.shape.count)"), column: indexColumn)
        }
        try checkIndex(indices[dim], extent: tensor.shape[dim], dim: dim, name: name, column: indexColumn)
      } while s.consume(",")
      guard s.consume("]") else {
        throw LineError(message: .expected("']'", found: s.rest()), column: s.column)
      }
      guard indices.count == tensor.shape.count else {
        throw LineError(
          message: .sliceOutOfBounds(
            "'\(name)' has rank \(tensor.shape.count), \(indices.count) indices given"),
          column: column, length: name.count)
      }
    }
    return TensorView(tensor: tensorIndex, indices: indices)
  }

  func sliceStart(_ s: inout Scanner) throws(LineError) -> SliceStart {
    s.skipSpaces()
    let column = s.column
    var base: SliceStart.Base?
    if let name = s.peekIdentifier() {
      if let special = SpecialRegister(rawValue: name) {
        _ = s.identifier()
        base = .special(special)
      } else if Assembler.registerNumber(name, prefix: "r") != nil {
        base = .register(try intRegister(&s, column: column))
      }
    }
    var offset: Int64 = 0
    if base != nil {
      s.skipSpaces()
      if s.peek() == "+" || (s.peek() == "-") {
        let negative = s.peek() == "-"
        s.index += 1
        let c = s.column
        let v = try ExpressionParser(params: paramValues).parse(&s)
        guard case .int(let n) = v else {
          throw LineError(message: .operandType("slice offsets must be integers"), column: c)
        }
        guard !negative || n != .min else {
          throw LineError(message: .integerOverflow(), column: c)
        }
        offset = negative ? -n : n
      }
    } else {
      let v = try ExpressionParser(params: paramValues).parse(&s)
      guard case .int(let n) = v else {
        throw LineError(message: .operandType("slice starts must be integers"), column: column)
      }
      offset = n
    }
    return SliceStart(base: base, offset: offset)
  }

  func checkIndex(_ index: ViewIndex, extent: Int, dim: Int, name: String, column: Int) throws(LineError) {
    switch index {
    case .full:
      return
    case .range(let start, let length):
      if length > extent {
        throw LineError(
          message: .sliceOutOfBounds("length \(length) exceeds dimension \(dim) of '\(name)' (\(extent))"),
          column: column)
      }
      if start.base == nil, start.offset < 0 || start.offset > Int64(extent - length) {
        throw LineError(
          message: .sliceOutOfBounds(
            "\(start.offset):+\(length) is outside dimension \(dim) of '\(name)' (0..<\(extent))"),
          column: column)
      }
    case .index(let start), .rangeOfRegister(let start, _):
      if start.base == nil, start.offset < 0 || start.offset >= Int64(extent) {
        throw LineError(
          message: .sliceOutOfBounds(
            "index \(start.offset) is outside dimension \(dim) of '\(name)' (0..<\(extent))"),
          column: column)
      }
    }
  }

  // MARK: - Options

  mutating func parseOption(_ s: inout Scanner, spec: OptionSpec) throws(LineError) -> Operand {
    s.skipSpaces()
    let column = s.column
    switch spec.kind {
    case .intSource:
      return try intSource(&s)
    case .int:
      let v = try ExpressionParser(params: paramValues).parse(&s)
      guard case .int(let n) = v else {
        throw LineError(message: .invalidOptionValue(spec.name, "expected an integer"), column: column)
      }
      return .int(n)
    case .float:
      return .float(try ExpressionParser(params: paramValues).parse(&s).asDouble)
    case .flag:
      let v = try ExpressionParser(params: paramValues).parse(&s)
      guard case .int(let n) = v, n == 0 || n == 1 else {
        throw LineError(message: .invalidOptionValue(spec.name, "expected 0 or 1"), column: column)
      }
      return .int(n)
    case .floatDest:
      return .floatRegister(try floatRegister(&s, column: column))
    case .floatSource:
      return try floatSource(&s)
    case .view:
      return .view(try view(&s))
    case .choice(let words):
      guard let word = s.word(), words.contains(word) else {
        throw LineError(
          message: .invalidOptionValue(spec.name, "expected one of " + words.joined(separator: ", ")),
          column: column)
      }
      return .choice(word)
    }
  }
}

/// An error found while parsing one line, with the columns it covers.
struct LineError: Error {
  var message: DiagnosticMessage
  var column: Int
  var length: Int = 1
  var notes: [String] = []
}

/// Constant expressions over integers, floats and earlier `.param`s:
/// `+ - * / %`, unary minus and parentheses. Integer arithmetic is checked (overflow is an
/// error); `/` truncates on integers; any float operand makes the result a float.
struct ExpressionParser {
  var params: [String: ParamValue]
  /// Parentheses and unary signs nest at most this deep (bounded recursion on any input).
  static let maxDepth = 64
  private var depth = 0

  init(params: [String: ParamValue]) { self.params = params }

  func parse(_ s: inout Scanner) throws(LineError) -> ParamValue {
    var copy = self
    return try copy.expression(&s)
  }

  private mutating func expression(_ s: inout Scanner) throws(LineError) -> ParamValue {
    var value = try term(&s)
    while true {
      s.skipSpaces()
      let column = s.column
      if s.consume("+") {
        value = try combine(value, try term(&s), column: column, op: "+")
      } else if s.peek() == "-" {
        s.index += 1
        value = try combine(value, try term(&s), column: column, op: "-")
      } else {
        return value
      }
    }
  }

  private mutating func term(_ s: inout Scanner) throws(LineError) -> ParamValue {
    var value = try unary(&s)
    while true {
      s.skipSpaces()
      let column = s.column
      guard let c = s.peek(), c == "*" || c == "/" || c == "%" else { return value }
      s.index += 1
      value = try combine(value, try unary(&s), column: column, op: c)
    }
  }

  private mutating func unary(_ s: inout Scanner) throws(LineError) -> ParamValue {
    s.skipSpaces()
    let column = s.column
    depth += 1
    defer { depth -= 1 }
    if depth > ExpressionParser.maxDepth {
      throw LineError(message: .expressionTooDeep(ExpressionParser.maxDepth), column: column)
    }
    if s.consume("-") {
      switch try unary(&s) {
      case .float(let x): return .float(-x)
      case .int(let n):
        guard n != .min else { throw LineError(message: .integerOverflow(), column: column) }
        return .int(-n)
      }
    }
    if s.consume("+") { return try unary(&s) }
    return try primary(&s)
  }

  private mutating func primary(_ s: inout Scanner) throws(LineError) -> ParamValue {
    s.skipSpaces()
    let column = s.column
    if s.consume("(") {
      let v = try expression(&s)
      guard s.consume(")") else {
        throw LineError(message: .expected("')'", found: s.rest()), column: s.column)
      }
      return v
    }
    if let name = s.identifier() {
      switch name {
      case "inf": return .float(.infinity)
      case "nan": return .float(.nan)
      default: break
      }
      guard let v = params[name] else {
        throw LineError(message: .unknownName(name), column: column, length: name.count)
      }
      return v
    }
    guard let text = s.numberText() else {
      throw LineError(message: .expected("a number", found: s.rest()), column: column)
    }
    return try ExpressionParser.number(text, column: column)
  }

  static func number(_ text: String, column: Int) throws(LineError) -> ParamValue {
    let lower = text.lowercased()
    let isHex = lower.hasPrefix("0x")
    let isFloat =
      isHex ? lower.contains("p") || lower.contains(".") : lower.contains(where: { ".e".contains($0) })
    if !isFloat {
      let digits = isHex ? String(lower.dropFirst(2)) : lower
      if let v = Int64(digits, radix: isHex ? 16 : 10) { return .int(v) }
      let allDigits = digits.allSatisfy { isHex ? $0.isHexDigit : ($0.isASCII && $0.isNumber) }
      if allDigits && !digits.isEmpty {
        throw LineError(message: .integerOverflow(), column: column, length: text.count)
      }
      throw LineError(message: .invalidNumber(text), column: column, length: text.count)
    }
    guard let v = Double(lower), v.isFinite else {
      throw LineError(message: .invalidNumber(text), column: column, length: text.count)
    }
    return .float(v)
  }

  private func combine(_ a: ParamValue, _ b: ParamValue, column: Int, op: Character)
    throws(LineError) -> ParamValue
  {
    switch (a, b) {
    case (.int(let x), .int(let y)):
      let r: (partialValue: Int64, overflow: Bool)
      switch op {
      case "+": r = x.addingReportingOverflow(y)
      case "-": r = x.subtractingReportingOverflow(y)
      case "*": r = x.multipliedReportingOverflow(by: y)
      case "/", "%":
        if y == 0 { throw LineError(message: .divisionByZero(), column: column) }
        r = op == "/" ? x.dividedReportingOverflow(by: y) : x.remainderReportingOverflow(dividingBy: y)
      default: preconditionFailure("operator \(op)")
      }
      if r.overflow { throw LineError(message: .integerOverflow(), column: column) }
      return .int(r.partialValue)
    default:
      let x = a.asDouble
      let y = b.asDouble
      switch op {
      case "+": return .float(x + y)
      case "-": return .float(x - y)
      case "*": return .float(x * y)
      case "/":
        if y == 0 { throw LineError(message: .divisionByZero(), column: column) }
        return .float(x / y)
      case "%":
        if y == 0 { throw LineError(message: .divisionByZero(), column: column) }
        return .float(x.truncatingRemainder(dividingBy: y))
      default: preconditionFailure("operator \(op)")
      }
    }
  }
}

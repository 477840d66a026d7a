/// Every message the assembler can give, in alphabetical order of name. The `id` of each is the
/// name of its constructor, so tests can match on it while the wording evolves.
extension DiagnosticMessage {
  static func make(_ text: String, id: String = #function) -> DiagnosticMessage {
    // `#function` gives `name(_:)` for functions; keep only the name.
    DiagnosticMessage(id: String(id.prefix { $0 != "(" }), text)
  }

  public static func assertionFailed(_ message: String) -> Self { make("assertion failed: \(message)") }
  public static func dataFile(_ detail: String) -> Self { make("data file error: \(detail)") }
  public static func divisionByZero() -> Self { make("division by zero in constant expression") }
  public static func duplicateLabel(_ name: String) -> Self { make("label '\(name)' is already defined") }
  public static func duplicateName(_ name: String) -> Self {
    make("'\(name)' is already declared")
  }
  public static func duplicateOption(_ name: String) -> Self { make("option '\(name)' given twice") }
  public static func duplicateOutput(_ name: String) -> Self { make("'\(name)' is already an output") }
  public static func expected(_ what: String, found: String) -> Self {
    make("expected \(what), found \(found)")
  }
  public static func expressionTooDeep(_ limit: Int) -> Self {
    make("expression nested more than \(limit) levels deep")
  }
  public static func extraOperand(_ mnemonic: String, expected: Int) -> Self {
    make("too many operands for '\(mnemonic)' (expects \(expected))")
  }
  public static func fileTooLarge(_ limit: Int) -> Self {
    make("program is larger than \(limit) bytes")
  }
  public static func integerOverflow() -> Self { make("integer overflow in constant expression") }
  public static func internalError(_ detail: String) -> Self {
    make("internal error (please report): \(detail)")
  }
  public static func invalidInitializer(_ detail: String) -> Self { make("invalid initialiser: \(detail)") }
  public static func invalidName(_ name: String, _ what: String) -> Self {
    make(
      "'\(name)' cannot name a \(what): names are letters, digits, '_' and '.', starting with a letter or '_'"
    )
  }
  public static func invalidNumber(_ text: String) -> Self { make("invalid number '\(text)'") }
  public static func invalidOptionValue(_ option: String, _ detail: String) -> Self {
    make("invalid value for '\(option)': \(detail)")
  }
  public static func invalidShape(_ detail: String) -> Self { make("invalid shape: \(detail)") }
  public static func missingOperand(_ mnemonic: String, _ operand: String) -> Self {
    make("'\(mnemonic)' needs operand \(operand)")
  }
  public static func operandType(_ detail: String) -> Self { make(detail) }
  public static func reservedName(_ name: String) -> Self {
    make("'\(name)' is a register name and cannot name a parameter, tensor or label")
  }
  public static func registerOutOfRange(_ name: String, _ count: Int, _ prefix: String) -> Self {
    make("register '\(name)' does not exist (\(prefix)0 ... \(prefix)\(count - 1))")
  }
  public static func shapeMismatch(_ detail: String) -> Self { make("shape mismatch: \(detail)") }
  public static func sliceOutOfBounds(_ detail: String) -> Self { make("slice out of bounds: \(detail)") }
  public static func tensorTooLarge(_ name: String, _ detail: String) -> Self {
    make("tensor '\(name)' is too large: \(detail)")
  }
  public static func unexpectedText(_ text: String) -> Self { make("unexpected '\(text)'") }
  public static func unknownDirective(_ name: String) -> Self { make("unknown directive '.\(name)'") }
  public static func unknownLabel(_ name: String) -> Self { make("unknown label '\(name)'") }
  public static func unknownMnemonic(_ name: String) -> Self { make("unknown instruction '\(name)'") }
  public static func unknownName(_ name: String) -> Self {
    make("unknown name '\(name)' (not a parameter)")
  }
  public static func unknownOption(_ name: String, _ mnemonic: String) -> Self {
    make("'\(mnemonic)' has no option '\(name)'")
  }
  public static func unknownTensor(_ name: String) -> Self { make("unknown tensor '\(name)'") }
  public static func unknownType(_ name: String) -> Self { make("unknown element type '\(name)'") }
  public static func unterminatedString() -> Self { make("unterminated string") }
  public static func wrongSpace(_ name: String, _ expected: MemorySpace, _ role: String) -> Self {
    make("\(role) '\(name)' must be in \(expected.rawValue)")
  }
  public static func wrongSpaces(_ name: String, _ expected: [MemorySpace], _ role: String) -> Self {
    make("\(role) '\(name)' must be in \(expected.map(\.rawValue).joined(separator: " or "))")
  }
}

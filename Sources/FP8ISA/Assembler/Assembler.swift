import FP8Formats
import Foundation

/// Text → `Program`. Reads the whole file, collects every error (continuing at the next line
/// after one), and either returns a program whose names, shapes, memory spaces and types are all
/// consistent, or throws every diagnostic at once.
///
/// The syntax is described in `isa/syntax.md`; operand kinds and options come from `Opcode.spec`.
public struct Assembler {
  public struct Options: Sendable {
    /// `--set NAME=VALUE` overrides of `.param` values (the value is a constant expression).
    public var overrides: [String: String]
    /// Folder that relative data-file paths are resolved against (the program's folder).
    public var baseDirectory: URL?
    /// Whether to open `.npy` / `.safetensors` files to check their headers.
    public var checkDataFiles: Bool
    /// The largest source accepted, in bytes.
    public var maxSourceBytes: Int

    public init(
      overrides: [String: String] = [:], baseDirectory: URL? = nil, checkDataFiles: Bool = true,
      maxSourceBytes: Int = ProgramLimits.maxSourceBytes
    ) {
      self.overrides = overrides
      self.baseDirectory = baseDirectory
      self.checkDataFiles = checkDataFiles
      self.maxSourceBytes = maxSourceBytes
    }
  }

  /// Assembles `source`; throws every diagnostic when there is any error.
  public static func assemble(_ source: SourceFile, options: Options = Options()) throws(DiagnosticList)
    -> Program
  {
    var assembler = Assembler(source: source, options: options)
    assembler.run()
    if !assembler.diagnostics.isEmpty {
      throw DiagnosticList(assembler.diagnostics, source: source, notShown: assembler.notShown)
    }
    return assembler.program
  }

  /// Assembles text directly (for tests and tools).
  public static func assemble(text: String, path: String = "<input>", options: Options = Options())
    throws(DiagnosticList) -> Program
  {
    try assemble(SourceFile(path: path, text: text), options: options)
  }

  // MARK: - State

  let source: SourceFile
  let options: Options
  var diagnostics: [Diagnostic] = []
  /// Errors found after the first `DiagnosticList.maxShown`: counted, not kept.
  var notShown = 0
  var program: Program
  var paramValues: [String: ParamValue] = [:]
  var tensorByName: [String: Int] = [:]
  var labelLocations: [String: SourceLocation] = [:]
  /// Branch targets to resolve once every label is known: instruction, name, where.
  var labelUses: [(instruction: Int, name: String, location: SourceLocation)] = []

  init(source: SourceFile, options: Options) {
    self.source = source
    self.options = options
    program = Program(
      source: source, device: nil, params: [], tensors: [], outputs: [], instructions: [], labels: [:])
  }

  mutating func run() {
    if source.text.utf8.count > options.maxSourceBytes {
      report(
        Diagnostic(
          .fileTooLarge(options.maxSourceBytes),
          at: SourceLocation(file: source.path, line: 1, column: 1)))
      return
    }
    for (i, line) in source.lines.enumerated() {
      var s = Scanner(line: line, lineNumber: i + 1, file: source.path)
      do {
        try assembleLine(&s)
      } catch {
        report(
          Diagnostic(
            error.message, at: s.location(at: error.column), length: error.length, notes: error.notes))
      }
    }
    resolveLabels()
  }

  /// Keeps the first `DiagnosticList.maxShown` diagnostics and counts the rest.
  mutating func report(_ diagnostic: Diagnostic) {
    if diagnostics.count < DiagnosticList.maxShown {
      diagnostics.append(diagnostic)
    } else {
      notShown += 1
    }
  }

  mutating func assembleLine(_ s: inout Scanner) throws(LineError) {
    // Labels: `name:` (several may precede one instruction).
    while let name = s.peekIdentifier() {
      var look = s
      _ = look.identifier()
      look.skipSpaces()
      guard look.peek() == ":", look.peek(1) != "+" else { break }
      s.skipSpaces()
      let column = s.column
      _ = s.identifier()
      _ = s.consume(":")
      try defineLabel(name, column: column, s: s)
    }
    if s.atEnd() { return }
    if s.peek() == "." {
      try directive(&s)
    } else {
      try instruction(&s)
    }
  }

  mutating func defineLabel(_ name: String, column: Int, s: Scanner) throws(LineError) {
    if Assembler.isReserved(name) {
      throw LineError(message: .reservedName(name), column: column, length: name.count)
    }
    if let previous = labelLocations[name] {
      throw LineError(
        message: .duplicateLabel(name), column: column, length: name.count,
        notes: ["previous definition at \(previous)"])
    }
    labelLocations[name] = s.location(at: column)
    program.labels[name] = program.instructions.count
  }

  mutating func resolveLabels() {
    for use in labelUses {
      if let target = program.labels[use.name] {
        program.instructions[use.instruction].resolveLabel(to: target)
      } else if diagnostics.count >= DiagnosticList.maxShown {
        notShown += 1  // not shown: no need for a suggestion
      } else {
        let suggestion = suggest(use.name, from: Array(program.labels.keys))
        report(
          Diagnostic(
            .unknownLabel(use.name), at: use.location, length: use.name.count,
            notes: suggestion.map { ["did you mean '\($0)'?"] } ?? []))
      }
    }
  }

  /// Register names and special registers cannot name anything else.
  static func isReserved(_ name: String) -> Bool {
    if SpecialRegister(rawValue: name) != nil { return true }
    return registerNumber(name, prefix: "r") != nil || registerNumber(name, prefix: "f") != nil
  }

  /// `r12` → 12 for prefix `r` (any number of digits; range is checked by the caller).
  static func registerNumber(_ name: String, prefix: Character) -> Int? {
    guard name.first == prefix, name.count >= 2 else { return nil }
    let digits = name.dropFirst()
    guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.count <= 6 else { return nil }
    return Int(digits)
  }

  /// A "did you mean" candidate, only while diagnostics are still shown (so a file of many
  /// errors costs linear time).
  func suggest(_ name: String, from candidates: @autoclosure () -> [String]) -> String? {
    diagnostics.count < DiagnosticList.maxShown ? Assembler.closest(to: name, in: candidates()) : nil
  }

  /// The candidate nearest to `name` by edit distance, if reasonably near (for "did you mean").
  public static func closest(to name: String, in candidates: [String]) -> String? {
    var best: (String, Int)?
    // Edit distance is quadratic in the lengths: names longer than any real one get no guess.
    guard name.count <= 64 else { return nil }
    let limit = max(1, name.count / 3)
    for c in candidates where abs(c.count - name.count) <= limit {
      let d = editDistance(name, c)
      if d <= max(1, name.count / 3), best == nil || d < best!.1 || (d == best!.1 && c < best!.0) {
        best = (c, d)
      }
    }
    return best?.0
  }

  /// Levenshtein distance between two strings, in characters.
  public static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
      var current = [i] + Array(repeating: 0, count: b.count)
      for j in 1...b.count {
        current[j] = Swift.min(
          previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return previous[b.count]
  }
}

/// A message with a stable identifier. Every assembler message is a named static constructor on
/// this type (`DiagnosticMessage+Assembler.swift`), so tests compare identifiers, not wording.
public struct DiagnosticMessage: Sendable, Hashable, CustomStringConvertible {
  /// The name of the static that made the message, e.g. `unknownMnemonic`.
  public var id: String
  public var text: String

  public init(id: String, _ text: String) {
    self.id = id
    self.text = text
  }

  public var description: String { text }
}

/// One error at a source location, with notes (a suggestion, a previous definition). The
/// assembler has no warnings: what it accepts is meant as written.
public struct Diagnostic: Sendable, Hashable, Error, CustomStringConvertible {
  public var location: SourceLocation
  public var message: DiagnosticMessage
  /// Length of the marked range in characters (at least 1), for the `^~~~` underline.
  public var length: Int
  public var notes: [String]

  public init(
    _ message: DiagnosticMessage, at location: SourceLocation, length: Int = 1, notes: [String] = []
  ) {
    self.message = message
    self.location = location
    self.length = max(1, length)
    self.notes = notes
  }

  public var description: String {
    "\(Printable.quoted(location.description)): error: \(Printable.quoted(message.text))"
  }

  /// `file:line:col: error: message`, then the source line, a caret line and any notes.
  public func rendered(source: SourceFile?) -> String {
    var text = description + "\n"
    if let line = source?.line(location.line) {
      let expanded = Printable.quoted(String(line).replacingTabs())
      text += expanded + "\n"
      let prefix = Printable.quoted(String(line.prefix(max(0, location.column - 1))).replacingTabs())
      let available = max(1, expanded.count - prefix.count)
      text +=
        String(repeating: " ", count: prefix.count) + "^"
        + String(repeating: "~", count: max(0, min(length, available) - 1)) + "\n"
    }
    for note in notes {
      text += "\(Printable.quoted(location.description)): note: \(Printable.quoted(note))\n"
    }
    return text
  }
}

extension String {
  /// Tabs as single spaces, so caret columns line up with characters.
  fileprivate func replacingTabs() -> String {
    String(map { $0 == "\t" ? " " : $0 })
  }
}

/// Every diagnostic of one file, in source order; thrown when assembly fails.
public struct DiagnosticList: Error, Sendable, CustomStringConvertible {
  /// At most this many diagnostics are kept and printed; the rest are only counted.
  public static let maxShown = 100

  public var diagnostics: [Diagnostic]
  public var source: SourceFile?
  /// Errors found beyond the first `maxShown`.
  public var notShown: Int

  public init(_ diagnostics: [Diagnostic], source: SourceFile?, notShown: Int = 0) {
    self.diagnostics = diagnostics.sorted { $0.location < $1.location }
    self.source = source
    self.notShown = notShown
  }

  public var errorCount: Int { diagnostics.count + notShown }

  public var description: String {
    var text = diagnostics.map { $0.rendered(source: source) }.joined()
    if notShown > 0 { text += "\(notShown) more error\(notShown == 1 ? "" : "s") not shown.\n" }
    let n = errorCount
    if n > 0 { text += "\(n) error\(n == 1 ? "" : "s") generated.\n" }
    return text
  }
}

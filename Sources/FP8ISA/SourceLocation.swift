/// A position in a source file: 1-based line and 1-based column counted in characters.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  public var description: String { "\(file):\(line):\(column)" }

  public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
    (a.file, a.line, a.column) < (b.file, b.line, b.column)
  }
}

/// The text of a program with its lines, for diagnostics that quote the source.
public struct SourceFile: Sendable {
  public var path: String
  public var text: String
  public let lines: [Substring]

  public init(path: String, text: String) {
    self.path = path
    self.text = text
    // "\r\n" is one Character in Swift: split on both, so CRLF files read like LF files.
    self.lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
  }

  public func line(_ number: Int) -> Substring? {
    number >= 1 && number <= lines.count ? lines[number - 1] : nil
  }
}

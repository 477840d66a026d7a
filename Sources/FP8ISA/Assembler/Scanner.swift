/// Character-level reading of one source line, tracking 1-based columns.
///
/// The assembler is line-oriented and context-sensitive (an option value such as
/// `round=nearest-even` is a word, `r1+64` is a slice start), so it reads characters directly
/// rather than a token stream.
struct Scanner {
  let characters: [Character]
  var index = 0
  let lineNumber: Int
  let file: String

  /// `text` without its comment (`;` to the end of the line, outside strings).
  init(line text: Substring, lineNumber: Int, file: String) {
    var chars: [Character] = []
    var inString = false
    for c in text {
      if c == "\"" { inString.toggle() }
      if c == ";" && !inString { break }
      chars.append(c)
    }
    characters = chars
    self.lineNumber = lineNumber
    self.file = file
  }

  var column: Int { index + 1 }
  var location: SourceLocation { SourceLocation(file: file, line: lineNumber, column: column) }
  func location(at column: Int) -> SourceLocation {
    SourceLocation(file: file, line: lineNumber, column: column)
  }

  mutating func skipSpaces() {
    while index < characters.count, characters[index] == " " || characters[index] == "\t" {
      index += 1
    }
  }

  /// True when only spaces remain.
  mutating func atEnd() -> Bool {
    skipSpaces()
    return index >= characters.count
  }

  func peek(_ offset: Int = 0) -> Character? {
    index + offset < characters.count ? characters[index + offset] : nil
  }

  /// Consumes `c` (after spaces) if it is next.
  mutating func consume(_ c: Character) -> Bool {
    skipSpaces()
    if peek() == c {
      index += 1
      return true
    }
    return false
  }

  /// Consumes a multi-character sequence such as `:+`.
  mutating func consumeSequence(_ s: String) -> Bool {
    skipSpaces()
    let chars = Array(s)
    for (i, c) in chars.enumerated() where peek(i) != c { return false }
    index += chars.count
    return true
  }

  static func isIdentifierStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
  static func isIdentifierBody(_ c: Character) -> Bool {
    c == "_" || c == "." || (c.isASCII && (c.isLetter || c.isNumber))
  }

  /// `[A-Za-z_][A-Za-z0-9_.]*`, or nil (nothing consumed).
  mutating func identifier() -> String? {
    skipSpaces()
    guard let first = peek(), Scanner.isIdentifierStart(first) else { return nil }
    let start = index
    index += 1
    while let c = peek(), Scanner.isIdentifierBody(c) { index += 1 }
    return String(characters[start..<index])
  }

  /// The next identifier without consuming it.
  func peekIdentifier() -> String? {
    var copy = self
    return copy.identifier()
  }

  /// A run of characters that may appear in an option word: letters, digits, `_ . + -`.
  mutating func word() -> String? {
    skipSpaces()
    let start = index
    while let c = peek(), c.isASCII, c.isLetter || c.isNumber || "_.+-".contains(c) { index += 1 }
    return index > start ? String(characters[start..<index]) : nil
  }

  /// The text of a numeric literal (decimal, `0x` hex, with fraction and exponent), or nil.
  mutating func numberText() -> String? {
    skipSpaces()
    let start = index
    if peek() == "0", let x = peek(1), x == "x" || x == "X" {
      index += 2
      while let c = peek(),
        c.isHexDigit || c == "." || c == "p" || c == "P"
          || ((c == "+" || c == "-") && (characters[index - 1] == "p" || characters[index - 1] == "P"))
      {
        index += 1
      }
      return String(characters[start..<index])
    }
    while let c = peek(), c.isASCII, c.isNumber { index += 1 }
    if peek() == ".", let d = peek(1), d.isASCII, d.isNumber {
      index += 1
      while let c = peek(), c.isASCII, c.isNumber { index += 1 }
    } else if peek() == ".", index > start {
      index += 1
    }
    if index > start, let e = peek(), e == "e" || e == "E" {
      var look = index + 1
      if look < characters.count, characters[look] == "+" || characters[look] == "-" { look += 1 }
      if look < characters.count, characters[look].isASCII, characters[look].isNumber {
        index = look
        while let c = peek(), c.isASCII, c.isNumber { index += 1 }
      }
    }
    // A number directly followed by letters (`12ab`) is one bad token.
    while let c = peek(), Scanner.isIdentifierBody(c), index > start { index += 1 }
    return index > start ? String(characters[start..<index]) : nil
  }

  /// A double-quoted string with `\"` and `\\` escapes, or nil if no `"` comes next.
  mutating func string() throws(LineError) -> String? {
    skipSpaces()
    guard peek() == "\"" else { return nil }
    let column = self.column
    index += 1
    var text = ""
    while let c = peek() {
      index += 1
      if c == "\"" { return text }
      if c == "\\", let next = peek() {
        index += 1
        text.append(next)
      } else {
        text.append(c)
      }
    }
    throw LineError(message: .unterminatedString(), column: column)
  }

  /// The rest of the line from the current position (for messages).
  func rest(maxLength: Int = 24) -> String {
    let text = String(characters[min(index, characters.count)...]).trimmingSpaces()
    if text.isEmpty { return "end of line" }
    return "'" + (text.count > maxLength ? String(text.prefix(maxLength)) + "…" : text) + "'"
  }

  /// The next token-ish chunk, for "unexpected" messages.
  func nextChunk() -> String {
    var end = index
    while end < characters.count, characters[end] != " ", characters[end] != ",", characters[end] != "\t" {
      end += 1
    }
    if end == index { end = min(index + 1, characters.count) }
    return String(characters[index..<end])
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" { s.removeLast() }
    return String(s)
  }
}

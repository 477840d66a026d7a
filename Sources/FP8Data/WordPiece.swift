import Foundation

/// BERT's tokenizer as Hugging Face's `BertTokenizer` defines it: basic tokenisation (clean the
/// text, put spaces around CJK ideographs, lowercase and strip accents when uncased, split on
/// whitespace and on punctuation), then WordPiece (each word as the longest pieces of the
/// vocabulary from its start, continuations prefixed `##`; a word that cannot be covered, or of
/// more than 100 code points, is `[UNK]`). Words are sequences of Unicode scalars (code points),
/// as Python's strings are, not grapheme clusters.
///
/// Special tokens written in the text (`[MASK]`) are tokenised as text; `encode` adds `[CLS]`
/// and `[SEP]` around a sentence.
public struct WordPieceTokenizer: Sendable {
  /// Token → id (a token listed twice keeps its later line, as Hugging Face's `load_vocab`).
  public let ids: [String: Int]
  /// Id → token: the vocabulary's lines.
  public let tokens: [String]
  /// Lowercase and strip accents (the uncased models, such as all-MiniLM-L6-v2).
  public let uncased: Bool
  public static let unknown = "[UNK]"
  public static let classification = "[CLS]"
  public static let separator = "[SEP]"
  /// Longer words are `[UNK]` without a look-up (Hugging Face's `max_input_chars_per_word`).
  public static let maxScalarsPerWord = 100

  /// A vocabulary given as its lines (`vocab.txt`: one token per line, the line number its id).
  public init(vocabulary lines: [String], uncased: Bool = true) {
    tokens = lines
    var ids: [String: Int] = [:]
    for (i, token) in lines.enumerated() { ids[token] = i }
    self.ids = ids
    self.uncased = uncased
  }

  /// Reads `vocab.txt`: UTF-8, one token per line (a final newline ends the last line, it does
  /// not start an empty token; `\r\n` and `\r` end lines too).
  public init(contentsOf url: URL, uncased: Bool = true) throws(DataFileError) {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw DataFileError(url.path, "cannot read the vocabulary: \(error.localizedDescription)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw DataFileError(url.path, "the vocabulary is not UTF-8")
    }
    // Line ends as Python's universal newlines read them: "\n", "\r\n" (one Swift Character) or "\r".
    var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
      .map(String.init)
    if lines.last == "" { lines.removeLast() }
    guard !lines.isEmpty else { throw DataFileError(url.path, "the vocabulary is empty") }
    self.init(vocabulary: lines, uncased: uncased)
  }

  /// The ids of `text` as one sentence: `[CLS]`, its tokens, `[SEP]` (ids of tokens missing from
  /// the vocabulary are `[UNK]`'s; `nil` if the vocabulary lacks one of the three).
  public func encode(_ text: String) -> [Int]? {
    guard let cls = ids[Self.classification], let sep = ids[Self.separator], let unk = ids[Self.unknown]
    else {
      return nil
    }
    return [cls] + tokenize(text).map { ids[$0] ?? unk } + [sep]
  }

  /// The WordPiece tokens of `text`.
  public func tokenize(_ text: String) -> [String] {
    basicTokens(text).flatMap(wordPieces)
  }

  // MARK: - Basic tokenisation

  /// Words and punctuation marks, before WordPiece.
  public func basicTokens(_ text: String) -> [String] {
    var cleaned = String.UnicodeScalarView()
    for s in text.unicodeScalars {
      if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
      if Self.isWhitespace(s) {
        cleaned.append(" ")
      } else if Self.isCJK(s) {
        cleaned.append(" ")
        cleaned.append(s)
        cleaned.append(" ")
      } else {
        cleaned.append(s)
      }
    }
    var out: [String] = []
    for word in Self.words(String(cleaned)) {
      var w = word
      if uncased { w = Self.stripAccents(w.lowercased()) }
      // Every punctuation mark on its own.
      var current = String.UnicodeScalarView()
      for s in w.unicodeScalars {
        if Self.isPunctuation(s) {
          if !current.isEmpty { out.append(String(current)) }
          current = String.UnicodeScalarView()
          out.append(String(s))
        } else {
          current.append(s)
        }
      }
      if !current.isEmpty { out.append(String(current)) }
    }
    // Lowercasing and accent stripping can leave whitespace inside a word (rare): split again.
    return out.flatMap(Self.words)
  }

  /// `s` split at Unicode whitespace (Python's `str.split()`), scalar by scalar.
  static func words(_ s: String) -> [String] {
    var out: [String] = []
    var current = String.UnicodeScalarView()
    for u in s.unicodeScalars {
      if u.properties.isWhitespace {
        if !current.isEmpty { out.append(String(current)) }
        current = String.UnicodeScalarView()
      } else {
        current.append(u)
      }
    }
    if !current.isEmpty { out.append(String(current)) }
    return out
  }

  /// NFD, then without the nonspacing marks (category Mn).
  static func stripAccents(_ s: String) -> String {
    var out = String.UnicodeScalarView()
    for u in s.decomposedStringWithCanonicalMapping.unicodeScalars
    where u.properties.generalCategory != .nonspacingMark {
      out.append(u)
    }
    return String(out)
  }

  /// Space, tab, newline, carriage return and the space separators (category Zs).
  static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
    s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.generalCategory == .spaceSeparator
  }

  /// The "other" categories (Cc, Cf, Co, Cs, Cn), except tab, newline and carriage return.
  static func isControl(_ s: Unicode.Scalar) -> Bool {
    if s == "\t" || s == "\n" || s == "\r" { return false }
    switch s.properties.generalCategory {
    case .control, .format, .privateUse, .surrogate, .unassigned: return true
    default: return false
    }
  }

  /// ASCII's non-alphanumeric printable characters (`$`, `+`, `^` included, which Unicode calls
  /// symbols) and the punctuation categories (P*).
  static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
      return true
    }
    switch s.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  /// The CJK Unified Ideographs blocks BERT spaces out (not Hangul, Hiragana or Katakana).
  static func isCJK(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }

  // MARK: - WordPiece

  /// One word's pieces: greedily the longest vocabulary entry from the current position
  /// (`##`-prefixed after the first); `[UNK]` alone if some position has none or the word is
  /// longer than `maxScalarsPerWord`.
  public func wordPieces(_ word: String) -> [String] {
    let scalars = Array(word.unicodeScalars)
    if scalars.count > Self.maxScalarsPerWord { return [Self.unknown] }
    var pieces: [String] = []
    var start = 0
    while start < scalars.count {
      var end = scalars.count
      var found: String?
      while start < end {
        var piece = String(String.UnicodeScalarView(scalars[start..<end]))
        if start > 0 { piece = "##" + piece }
        if ids[piece] != nil {
          found = piece
          break
        }
        end -= 1
      }
      guard let piece = found else { return [Self.unknown] }
      pieces.append(piece)
      start = end
    }
    return pieces
  }
}

import FP8Data
import Foundation
import Testing

/// BERT's WordPiece tokenizer: hand-worked cases, then every case of Hugging Face's `tokenizers`
/// on a small vocabulary (Fixtures/generate_wordpiece.py: BERT's uncased normaliser and
/// pre-tokenizer, WordPiece with [UNK] past 100 characters), tokens and ids identical.
@Suite struct WordPieceTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

  static let small = WordPieceTokenizer(
    vocabulary: [
      "[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "hello", ",", "world", "!", "cafe",
      "a", "##a", "我", "x", "##x",
    ])

  @Test func handWorkedCases() {
    let t = Self.small
    #expect(t.tokenize("Hello, World!") == ["hello", ",", "world", "!"])
    // Longest piece first, continuations with ##.
    #expect(t.tokenize("unaffable") == ["un", "##aff", "##able"])
    // Accents stripped after NFD; a combining accent too.
    #expect(t.tokenize("Café CAFE\u{301}") == ["cafe", "cafe"])
    // A word with no covering is one [UNK]; so is a word of more than 100 code points.
    #expect(t.tokenize("unaffablez") == ["[UNK]"])
    #expect(t.tokenize(String(repeating: "x", count: 100)).count == 100)
    #expect(t.tokenize(String(repeating: "x", count: 101)) == ["[UNK]"])
    // CJK ideographs stand alone; controls vanish, odd whitespace separates.
    #expect(t.tokenize("我我a") == ["我", "我", "a"])
    #expect(t.tokenize("a\u{0}\u{200B}a\ta\u{2028}a") == ["aa", "a", "a"].flatMap { t.wordPieces($0) })
    #expect(t.encode("hello") == [2, 7, 3])
    #expect(t.encode("zzz") == [2, 1, 3])
    #expect(WordPieceTokenizer(vocabulary: ["a"]).encode("a") == nil)  // no [CLS], [SEP], [UNK]
  }

  @Test func casedKeepsCaseAndAccents() {
    let t = WordPieceTokenizer(vocabulary: ["[UNK]", "Café", "café"], uncased: false)
    #expect(t.tokenize("Café café") == ["Café", "café"])
  }

  struct Fixture: Decodable {
    struct Case: Decodable {
      var text: String
      var tokens: [String]
      var ids: [Int]
    }
    var cases: [Case]
  }

  @Test func agreesWithHuggingFaceTokenizers() throws {
    let t = try WordPieceTokenizer(contentsOf: Self.fixtures.appendingPathComponent("wordpiece-vocab.txt"))
    let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("wordpiece-cases.json"))
    let cases = try JSONDecoder().decode(Fixture.self, from: data).cases
    #expect(cases.count > 300)
    var mismatches = 0
    for c in cases {
      let got = t.tokenize(c.text)
      if got != c.tokens || got.map({ t.ids[$0] ?? -1 }) != c.ids {
        mismatches += 1
        if mismatches <= 5 { Issue.record("\(c.text.debugDescription): \(got) vs \(c.tokens)") }
      }
    }
    #expect(mismatches == 0)
  }

  @Test func vocabularyFiles() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let crlf = dir.appendingPathComponent("crlf.txt")
    try Data("[UNK]\r\nab\r\n##c\r\n".utf8).write(to: crlf)
    let t = try WordPieceTokenizer(contentsOf: crlf)
    #expect(t.tokens == ["[UNK]", "ab", "##c"] && t.tokenize("abc") == ["ab", "##c"])
    let empty = dir.appendingPathComponent("empty.txt")
    try Data().write(to: empty)
    #expect(throws: DataFileError.self) { try WordPieceTokenizer(contentsOf: empty) }
    let latin1 = dir.appendingPathComponent("latin1.txt")
    try Data([0x61, 0xE9, 0x0A]).write(to: latin1)
    #expect(throws: DataFileError.self) { try WordPieceTokenizer(contentsOf: latin1) }
    #expect(throws: DataFileError.self) {
      try WordPieceTokenizer(contentsOf: dir.appendingPathComponent("none"))
    }
  }
}

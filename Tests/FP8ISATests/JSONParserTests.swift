import Testing

@testable import FP8Data
@testable import FP8ISA

/// The one JSON reader: order kept, duplicates rejected, numbers exact, depth bounded, and
/// every error with line:column.
@Suite struct JSONParserTests {
  func parse(_ text: String, _ syntax: JSONParser.Syntax = .json) throws -> JSONNode {
    try JSONParser.parse(text, syntax: syntax)
  }

  func failure(_ text: String, _ syntax: JSONParser.Syntax = .json) -> JSONParseError? {
    do {
      _ = try JSONParser.parse(text, syntax: syntax)
      return nil
    } catch {
      return error
    }
  }

  func number(_ text: String, _ syntax: JSONParser.Syntax = .json) throws -> JSONNumber {
    guard case .number(let n) = try parse(text, syntax).value else { throw Unexpected() }
    return n
  }
  struct Unexpected: Error {}

  @Test func membersKeepFileOrderAndLocations() throws {
    let root = try parse("{\"b\": 1,\n  \"a\": [true, null, \"x\"]}")
    guard case .object(let members) = root.value else { throw Unexpected() }
    #expect(members.map(\.key) == ["b", "a"])
    #expect(members[1].keyLocation == JSONLocation(line: 2, column: 3))
    #expect(members[1].value.location == JSONLocation(line: 2, column: 8))
    guard case .array(let items) = members[1].value.value else { throw Unexpected() }
    #expect(items.map(\.value) == [.bool(true), .null, .string("x")])
    #expect(root["a"]?.typeName == "an array" && root["c"] == nil)
  }

  @Test func numbersAreKeptExactly() throws {
    let twelve = try number("12")
    #expect(twelve.int64 == 12 && twelve.isIntegral && twelve.double == 12 && twelve.text == "12")
    #expect(try number("1.0").int64 == 1)
    #expect(try number("1e3").int64 == 1000)
    #expect(try number("0.5e1").int64 == 5)
    #expect(try number("-0").int64 == 0)
    #expect(try number("120e-1").int64 == 12)
    let half = try number("2.5")
    #expect(!half.isIntegral && half.int64 == nil && half.double == 2.5)
    #expect(try number("9223372036854775807").int64 == .max)
    #expect(try number("-9223372036854775808").int64 == .min)
    let big = try number("9223372036854775808")
    #expect(big.isIntegral && big.int64 == nil && big.nonNegativeInt == nil)
    #expect(try number("1e19").int64 == nil)
    #expect(try number("1e999999999999999999").double == .infinity)
    #expect(try number("1e-999999999999999999").isIntegral == false)
    #expect(try number("-4").nonNegativeInt == nil)
    #expect(try number("4").nonNegativeInt == 4)
    #expect(try number("1.83").double == 1.83)
  }

  @Test func json5Numbers() throws {
    #expect(try number("0x1F", .json5).int64 == 31)
    #expect(try number("-0x10", .json5).int64 == -16)
    #expect(try number("0xFFFFFFFFFFFFFFFFFF", .json5).int64 == nil)
    #expect(try number("+1", .json5).int64 == 1)
    #expect(try number(".5", .json5).double == 0.5)
    #expect(try number("5.", .json5).int64 == 5)
    let inf = try number("-Infinity", .json5)
    #expect(inf.double == -.infinity && !inf.isIntegral && inf.int64 == nil)
    #expect(try number("NaN", .json5).double.isNaN)
    #expect(failure("+1")?.description == "1:1: expected a value, found '+'")
    #expect(failure(".5")?.description == "1:1: expected a value, found '.'")
    #expect(failure("01")?.description == "1:1: a number cannot start with 0 followed by digits")
    #expect(failure("1.")?.description == "1:3: expected digits after '.', found the end of the file")
    #expect(failure("1e")?.description == "1:3: expected digits in the exponent, found the end of the file")
    #expect(failure("-")?.description == "1:2: expected digits in a number, found the end of the file")
    #expect(failure("Infinity")?.description == "1:1: expected a value, found 'I'")
    #expect(failure("Infinit", .json5)?.description == "1:1: expected a value, found 'Infinit'")
  }

  @Test func duplicateKeysAreRejectedWithBothLocations() {
    let top = failure(#"{"a": 1, "a": 2}"#)
    #expect(top?.kind == .duplicateKey)
    #expect(top?.description == "1:10: duplicate key 'a' (first at 1:2)")
    #expect(
      failure("{\"x\": {\"b\": 1,\n \"b\": 2}}")?.description == "2:2: duplicate key 'b' (first at 1:8)")
    #expect(failure("{a: 1, 'a': 2}", .json5)?.description == "1:8: duplicate key 'a' (first at 1:2)")
    // Columns count characters, not bytes.
    #expect(failure(#"{"é": 1, "é": 2}"#)?.description == "1:10: duplicate key 'é' (first at 1:2)")
    // The same key in different objects is fine.
    #expect(failure(#"{"a": {"a": 1}, "b": {"a": 2}}"#) == nil)
  }

  @Test func nestingIsBounded() throws {
    let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
    _ = try parse(ok)
    let deep = failure(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))
    #expect(deep?.kind == .tooDeep)
    #expect(deep?.description == "1:65: nested more than 64 levels deep")
    // Far deeper than any stack would take: rejected at the same depth, no recursion beyond it.
    #expect(
      failure(String(repeating: "{\"a\":", count: 50_000))?.description
        == "1:321: nested more than 64 levels deep")
  }

  @Test func json5Syntax() throws {
    let text = """
      // comment
      { unquoted: 'single', /* block */ "trailing": [1, 2,], $id_2: "a\\u00e9\\x41\\
      b", }
      """
    let root = try parse(text, .json5)
    #expect(root["unquoted"]?.value == .string("single"))
    #expect(root["$id_2"]?.value == .string("aéAb"))
    guard case .array(let items)? = root["trailing"]?.value else { throw Unexpected() }
    #expect(items.count == 2)
    #expect(failure("[1, /* open", .json5)?.description == "1:5: unterminated /* comment")
  }

  @Test func strictJSONRejectsJSON5() {
    #expect(failure("// c\n{}")?.description == "1:1: expected a value, found '/'")
    #expect(failure("[1,]")?.description == "1:4: expected a value, found ']'")
    #expect(failure(#"{"a": 1,}"#)?.description == "1:9: expected a quoted key, found '}'")
    #expect(failure("{a: 1}")?.description == "1:2: expected a quoted key or '}', found 'a'")
    #expect(failure("['a']")?.description == "1:2: expected a value, found '''")
    #expect(failure(#"["\x41"]"#)?.description == "1:3: invalid escape \\x")
  }

  @Test func malformedDocuments() throws {
    let cases: [(String, String)] = [
      ("", "1:1: expected a value, found the end of the file"),
      ("{} x", "1:4: unexpected 'x' after the JSON value"),
      ("[1 2]", "1:4: expected ',' or ']' after an array element, found '2'"),
      (#"{"a" 1}"#, "1:6: expected ':' after the key 'a', found '1'"),
      (#"{"a": 1 "b": 2}"#, "1:9: expected ',' or '}' after an object member, found '\"'"),
      ("\"abc", "1:1: unterminated string"),
      ("\"a\nb\"", "1:3: line break in a string (write \\n)"),
      ("\"a\u{01}\"", "1:3: control character U+0001 in a string (escape it)"),
      (#""\uD800""#, "1:2: unpaired surrogate in \\u escape"),
      (#""\u12""#, "1:2: expected four hex digits after \\u"),
      ("tru", "1:1: expected a value, found 'tru'"),
      ("\u{00}", "1:1: expected a value, found U+0000"),
    ]
    for (text, message) in cases {
      #expect(failure(text)?.description == message, "\(text)")
    }
    #expect(try parse(#""\uD83D\uDE00""#).value == .string("😀"))
  }

  @Test func invalidUTF8IsRejectedWithItsLocation() throws {
    #expect(
      throws: JSONParseError(
        kind: .syntax, location: .init(line: 2, column: 8), message: "invalid UTF-8 (byte 0xFF)")
    ) {
      try JSONParser.parse(Array("{\n \"a\": \"".utf8) + [0xFF, 0x22, 0x7D], syntax: .json)
    }
    // A byte-order mark is skipped.
    _ = try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8), syntax: .json)
  }
}

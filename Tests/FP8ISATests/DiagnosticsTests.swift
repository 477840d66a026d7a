import Foundation
import Testing

@testable import FP8ISA

/// Every kind of assembler error, at its exact line:column, with its stable message id.
@Suite struct DiagnosticsTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var source: String
    var id: String
    var contains: String
    var testDescription: String { id }
  }

  static let prelude = """
    .param M = 16
    .tensor A fp8e4 [M, 32] dram
    .tensor a fp8e4 [16, 32] sram
    .tensor b fp8e4 [32, 8] sram
    .tensor c f32 [16, 8] sram
    .tensor h f16 [16, 8] sram
    .tensor h2 f16 [16, 32] sram

    """

  @Test(arguments: [
    Case(source: "  1️⃣mmaa c, a, b", id: "unknownMnemonic", contains: "unknown instruction 'mmaa'"),
    Case(
      source: ".assert 1️⃣M % 5 == 0, \"M must be a multiple of 5\"", id: "assertionFailed",
      contains: "assertion failed: M must be a multiple of 5"),
    Case(source: ".assert M 1️⃣= 16, \"x\"", id: "expected", contains: "a comparison (==, !=, <, <=, >, >=)"),
    Case(source: ".assert M == 16 1️⃣\"x\"", id: "expected", contains: "', \"message\"'"),
    Case(source: ".assert M == 16, 1️⃣x", id: "expected", contains: "a quoted message"),
    Case(source: ".assert M == 1️⃣Q, \"x\"", id: "unknownName", contains: "unknown name 'Q'"),
    Case(source: "1️⃣.tensr x f16 [1] dram", id: "unknownDirective", contains: "'.tensr'"),
    Case(source: "  mov 1️⃣r32, 1", id: "registerOutOfRange", contains: "r0 ... r31"),
    Case(source: "  fmov 1️⃣f16, 1", id: "registerOutOfRange", contains: "f0 ... f15"),
    Case(source: "  mov 1️⃣tid, 1", id: "expected", contains: "'tid' (read-only)"),
    Case(source: "  add r1, r2 1️⃣", id: "missingOperand", contains: "'add' needs operand iB"),
    Case(source: "  nop, 1️⃣r1", id: "extraOperand", contains: "too many operands for 'nop'"),
    Case(source: "  jmp 1️⃣nowhere", id: "unknownLabel", contains: "unknown label 'nowhere'"),
    Case(source: "x:\n1️⃣x: nop", id: "duplicateLabel", contains: "label 'x' is already defined"),
    Case(source: "  dma.load a, 1️⃣Z", id: "unknownTensor", contains: "unknown tensor 'Z'"),
    Case(source: "  mov r1, 1️⃣K", id: "unknownName", contains: "unknown name 'K'"),
    Case(source: "  mov r1, 4 1️⃣/ 0", id: "divisionByZero", contains: "division by zero"),
    Case(source: "  mov r1, 9223372036854775807 1️⃣+ 1", id: "integerOverflow", contains: "integer overflow"),
    Case(source: "  mov r1, 1️⃣12ab", id: "invalidNumber", contains: "invalid number '12ab'"),
    Case(
      source: "  mov r1, " + String(repeating: "(", count: 64) + "1️⃣1" + String(repeating: ")", count: 64),
      id: "expressionTooDeep", contains: "nested more than 64 levels"),
    Case(source: "  cast h, c, 1️⃣colour=1", id: "unknownOption", contains: "'cast' has no option 'colour'"),
    Case(
      source: "  cast h, c, bias=1, 1️⃣bias=2", id: "duplicateOption", contains: "option 'bias' given twice"),
    Case(source: "  cast h, c, round=1️⃣up", id: "invalidOptionValue", contains: "nearest-even"),
    Case(source: "  mma c, a, b, ta=1️⃣2", id: "invalidOptionValue", contains: "expected 0 or 1"),
    Case(source: "  cast h, c, 1️⃣bias=301", id: "invalidOptionValue", contains: "301 is outside -300...300"),
    Case(
      source: "  bias r1, f1, fp8e4, 1️⃣min=3, max=-3", id: "invalidOptionValue",
      contains: "min (3) is greater than max (-3)"),
    Case(source: "  bias r1, f1, fp8e4, 1️⃣margin=-400", id: "invalidOptionValue", contains: "-400 is outside"),
    Case(
      source: "  mma h, a, b, 1️⃣acc=fp22", id: "invalidOptionValue", contains: "cannot accumulate into f16"),
    Case(source: "  dma.load 1️⃣A, a", id: "wrongSpace", contains: "destination 'A' must be in sram"),
    Case(source: "  vadd c, 1️⃣h[0:+8, 0:+4], c", id: "shapeMismatch", contains: "D is [16, 8], A is [8, 4]"),
    Case(source: "  mma c, a, 1️⃣a", id: "shapeMismatch", contains: "inner dimensions differ"),
    Case(source: "  mma c, 1️⃣h2, b", id: "operandType", contains: "mma inputs must both be FP8"),
    Case(source: "  mma 1️⃣h2, a, b", id: "shapeMismatch", contains: "D is [16, 32], A·B is [16, 8]"),
    Case(source: "  dma.load a, A[0:+16, 1️⃣0:+33]", id: "sliceOutOfBounds", contains: "length 33 exceeds"),
    Case(source: "  dma.load a, A[0:+16, 1️⃣8:+32]", id: "sliceOutOfBounds", contains: "8:+32 is outside"),
    Case(
      source: "  dma.load a, A[0:+1️⃣tid, 0:+32]", id: "operandType",
      contains: "a slice length is a positive constant or an integer register r0…r31, not 'tid'"),
    Case(
      source: "  dma.load a, A[0:+16, 0:+32], 1️⃣mcast=0", id: "invalidOptionValue",
      contains: "0 is outside 1...64"),
    Case(source: "  dma.store A[0:+16, 0:+32], a, 1️⃣mcast=2", id: "unknownOption", contains: "mcast"),
    Case(source: "  dma.load a, 1️⃣A[0:+16]", id: "sliceOutOfBounds", contains: "1 indices given"),
    Case(source: "  dma.load a[0, :], A[1️⃣16, :]", id: "sliceOutOfBounds", contains: "index 16 is outside"),
    Case(source: ".tensor q f16 [1️⃣0] dram", id: "invalidShape", contains: "outside 1"),
    Case(source: ".tensor q f16 1️⃣[2, 2, 2, 2, 2] dram", id: "invalidShape", contains: "rank 5"),
    Case(source: ".tensor q f16 1️⃣[65536, 65536, 65536] dram", id: "tensorTooLarge", contains: "2^40"),
    Case(source: ".tensor q 1️⃣f17 [4] dram", id: "unknownType", contains: "unknown element type 'f17'"),
    Case(source: ".tensor 1️⃣A f16 [4] dram", id: "duplicateName", contains: "'A' is already declared"),
    Case(source: ".param 1️⃣r3 = 1", id: "reservedName", contains: "'r3' is a register name"),
    Case(source: ".tensor q f16 [4] dram 1️⃣gauss(1)", id: "invalidInitializer", contains: "unknown 'gauss'"),
    Case(source: ".tensor q f16 [4] dram 1️⃣randn(1, 0, -1)", id: "invalidInitializer", contains: "std ≥ 0"),
    Case(
      source: ".tensor q f16 [4] dram npy(1️⃣\"x.npy", id: "unterminatedString", contains: "unterminated string"
    ),
    Case(source: ".output 1️⃣a", id: "wrongSpace", contains: "output 'a' must be in dram"),
    Case(source: ".output A, 1️⃣A", id: "duplicateOutput", contains: "'A' is already an output"),
    Case(source: "  nop 1️⃣)", id: "unexpectedText", contains: "unexpected ')'"),
    Case(source: "  dma.load a, A[0:+16, :] 1️⃣junk", id: "unexpectedText", contains: "unexpected 'junk'"),
    Case(
      source: ".tensor q f16 [4] dram 1️⃣npy(\"missing.npy\")", id: "dataFile", contains: "cannot open file"),
  ])
  func reportsAtExactLocation(c: Case) throws {
    let marked = MarkedSource(Self.prelude + c.source)
    let found = diagnostics(marked.text, base: FileManager.default.temporaryDirectory)
    let marker = try #require(marked.markers["1️⃣"])
    let first = try #require(found.first, "no diagnostics for \(c.source)")
    #expect(found.count == 1, "\(found)")
    #expect(first.message.id == c.id, "\(first)")
    #expect(first.message.text.contains(c.contains), "\(first)")
    #expect(first.location.line == marker.line && first.location.column == marker.column, "\(first)")
  }

  /// E8M0 (either spelling) is a known format but not a tensor element type: the note says so.
  /// FP4 and FP6 are element types (packed).
  @Test(arguments: ["e8m0fnu", "float8_e8m0fnu"])
  func scaleFormatsAreNotTensorTypes(name: String) throws {
    let found = diagnostics(Self.prelude + ".tensor q \(name) [4] dram")
    let first = try #require(found.first)
    #expect(first.message.id == "unknownType")
    #expect(first.notes.contains { $0.contains("is a scale format") && $0.contains("fp8e4, fp8e5") })
    #expect(diagnostics(Self.prelude + ".tensor q e2m1fn [4] dram").isEmpty)
    #expect(diagnostics(Self.prelude + ".tensor q float6_e3m2fn [4] dram").isEmpty)
  }

  @Test func everyErrorInAFileIsCollectedInSourceOrder() {
    let source = """
      .tensor x f16 [4] dram
        mov r99, 1
        bogus
        jmp nowhere
      .output y
      """
    let found = diagnostics(source)
    #expect(
      found.map(\.message.id) == ["registerOutOfRange", "unknownMnemonic", "unknownLabel", "unknownTensor"])
    #expect(found.map(\.location.line) == [2, 3, 4, 5])
  }

  @Test func renderingQuotesTheLineWithACaretAndNotes() {
    let source = "  mmaa c, a, b"
    do {
      _ = try Assembler.assemble(text: source, path: "prog.isa")
      Issue.record("should not assemble")
    } catch {
      #expect(
        error.description == """
          prog.isa:1:3: error: unknown instruction 'mmaa'
            mmaa c, a, b
            ^~~~
          prog.isa:1:3: note: did you mean 'mma'?
          1 error generated.

          """)
    }
  }

  @Test func columnsCountCharactersNotBytes() throws {
    // "é" is two UTF-8 bytes but one column.
    let found = diagnostics("  fmov f1, 1.0 ; é\n.tensor é")
    #expect(found.first?.location.line == 2)
    #expect(found.first?.location.column == 9)
  }
}

import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// Views whose length comes from a register (`X[r1:+r5, :]`): shapes checked when they run, by
/// the rules the assembler applies to constant shapes.
@Suite struct RegisterLengthTests {
  /// Tile t copies the first 3 + t rows of X to Y through SRAM, with an exp on the way.
  static let program = """
    .tensor X f32 [8, 16] dram randn(1, 0.0, 1.0)
    .tensor Y f32 [4, 8, 16] dram
    .tensor x f32 [8, 16] sram
    .output X
    .output Y
      mov r5, 3
      add r5, r5, tid
      dma.load x[0:+r5, :], X[0:+r5, :]
      dma.wait
      exp x[0:+r5, :], x[0:+r5, :]
      dma.store Y[tid, 0:+r5, :], x[0:+r5, :]
    """

  @Test func eachTileMovesTheRowsItsRegisterSays() throws {
    let r = try simulate(Self.program, device: teach(tiles: 4))
    let x = try #require(output(r, "X")).values
    let y = try #require(output(r, "Y")).values
    for t in 0..<4 {
      for row in 0..<8 {
        for col in 0..<16 {
          let got = y[(t * 8 + row) * 16 + col]
          if row < 3 + t {
            #expect(got == Float(Double(x[row * 16 + col]).exp32), "tile \(t) row \(row)")
          } else {
            #expect(got == 0, "tile \(t) row \(row) was not written")
          }
        }
      }
    }
    // Bytes moved follow the registers: (3 + 4 + 5 + 6) rows of 64 B each way.
    #expect(r.traffic.l2ToSram == 18 * 64 && r.traffic.sramToL2 == 18 * 64)
  }

  @Test func theTextRoundTrips() throws {
    let program = try Assembler.assemble(text: Self.program, path: "t.isa")
    let printed = Disassembler.text(of: program)
    #expect(printed.contains("dma.load x[0:+r5, :], X[0:+r5, :]"))
    #expect(
      try Assembler.assemble(text: printed, path: "p.isa").instructions.map(\.operation)
        == program.instructions.map(\.operation))
  }

  @Test(arguments: [
    // Shapes that disagree at run time, with the rule's message.
    (
      "dma.store Y[tid, 0:+r5, 0:+8], x[0:+r5, :]",
      "shape mismatch at run time: destination [3, 8] vs source [3, 16]"
    ),
    ("exp x[0:+r5, :], x[0:+4, :]", "shape mismatch at run time: D is [3, 16], A is [4, 16]"),
    // A length past the dimension, or below 1.
    ("dma.store Y[tid, 6:+r5, :], x[0:+r5, :]", "the view asks 6:+3 (r5 = 3)"),
    ("mov r5, 0", "slice length r5 = 0 for x dimension 0 must be at least 1"),
  ])
  func badShapesFaultAtTheLine(line: String, message: String) throws {
    var text = Self.program.replacingOccurrences(of: "  add r5, r5, tid\n", with: "")
    if line.hasPrefix("mov") {
      text = text.replacingOccurrences(of: "  mov r5, 3", with: "  " + line)
    } else if line.hasPrefix("exp") {
      text = text.replacingOccurrences(of: "exp x[0:+r5, :], x[0:+r5, :]", with: line)
    } else {
      text = text.replacingOccurrences(of: "dma.store Y[tid, 0:+r5, :], x[0:+r5, :]", with: line)
    }
    let f = try #require(fault(text, device: teach(tiles: 1)))
    #expect(f.message.contains(message), "\(f)")
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let expected = line.hasPrefix("mov") ? "dma.load" : String(line.prefix(4))
    #expect(f.location.map { String(lines[$0.line - 1]).contains(expected) } == true, "\(f)")
  }

  /// Constant shapes are still checked when assembling, with the same rule and message.
  @Test func constantShapesAreStillCheckedByTheAssembler() {
    let text = Self.program.replacingOccurrences(
      of: "dma.store Y[tid, 0:+r5, :], x[0:+r5, :]", with: "dma.store Y[tid, 0:+3, 0:+8], x[0:+3, :]")
    #expect(throws: (any Error).self) { try Assembler.assemble(text: text, path: "t.isa") }
    do {
      _ = try Assembler.assemble(text: text, path: "t.isa")
    } catch {
      #expect("\(error)".contains("destination [3, 8] vs source [3, 16]"), "\(error)")
    }
  }
}

extension Double {
  /// exp rounded to f32, as the simulator's f32 exp stores it.
  var exp32: Float { Float(Foundation.exp(self)) }
}

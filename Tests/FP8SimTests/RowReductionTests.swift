import FP8Formats
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// `rowmax`/`rowsum` (a row of A into one element of D [rows, 1]) and column operands of the
/// binary instructions (B [rows, 1] applied along each row), against sums and maxima written
/// here, and an online softmax over two blocks of columns (flash attention's running maximum)
/// against a whole-row softmax computed in f64 in the test.
@Suite struct RowReductionTests {
  static let program = """
    .tensor A f32 [4, 6] dram randn(7, 0.0, 3.0)
    .tensor M f32 [4, 1] dram
    .tensor S f32 [4, 1] dram
    .tensor C f32 [4, 6] dram
    .tensor a f32 [4, 6] sram
    .tensor m f32 [4, 1] sram
    .tensor s f32 [4, 1] sram
    .tensor c f32 [4, 6] sram
    .output A
    .output M
    .output S
    .output C
            dma.load a, A
            dma.wait
            rowmax m, a
            rowsum s, a
            vsub c, a, m
            vmul c, c, s
            dma.store M, m
            dma.store S, s
            dma.store C, c
            dma.wait
            halt
    """

  @Test func rowsReduceAndColumnsBroadcast() throws {
    let r = try simulate(Self.program)
    let a = try #require(output(r, "A")).values
    let m = try #require(output(r, "M")).values
    let s = try #require(output(r, "S")).values
    let c = try #require(output(r, "C")).values
    for i in 0..<4 {
      let row = (0..<6).map { Double(a[i * 6 + $0]) }
      #expect(m[i] == Float(row.max()!))
      #expect(s[i] == Float(row.reduce(0, +)))
      for j in 0..<6 {
        // c holds a − m rounded to f32, then times s.
        let difference = Double(Float(row[j] - Double(m[i])))
        #expect(c[i * 6 + j] == Float(difference * Double(s[i])), "C[\(i), \(j)]")
      }
    }
  }

  /// Cost: one vector pass over A's 24 elements (teach: `vectorElementsPerCycle` lanes).
  @Test func aRowReductionCostsOnePassOverA() throws {
    let device = teach()
    let r = try simulate(
      """
      .tensor a f32 [16, 64] sram
      .tensor m f32 [16, 1] sram
              rowsum m, a
              halt
      """, device: device, options: timingOnly())
    let lanes = device.vectorElementsPerCycle
    #expect(r.units[.vector]!.busy == Int64((16 * 64 + lanes - 1) / lanes))
    #expect(r.compute.vectorElementOps == 16 * 64)
  }

  /// softmax(x) row by row, from two halves of the columns: running max m, running sum l,
  /// p = e^(x − m) per block, the first block's terms rescaled by e^(m_old − m_new), then p / l.
  @Test func anOnlineSoftmaxOverBlocksEqualsTheWholeRows() throws {
    let r = try simulate(
      """
      .tensor X f32 [8, 32] dram randn(11, 0.0, 4.0)
      .tensor P f32 [8, 32] dram
      .tensor x f32 [8, 32] sram
      .tensor p f32 [8, 32] sram
      .tensor m f32 [8, 1] sram
      .tensor b f32 [8, 1] sram
      .tensor l f32 [8, 1] sram
      .tensor t f32 [8, 1] sram
      .output X
      .output P
              dma.load x, X
              dma.wait
              rowmax m, x[:, 0:+16]
              vsub p[:, 0:+16], x[:, 0:+16], m
              exp p[:, 0:+16], p[:, 0:+16]
              rowsum l, p[:, 0:+16]
              rowmax b, x[:, 16:+16]
              vmax b, b, m
              vsub t, m, b
              exp t, t
              vmul l, l, t
              vmul p[:, 0:+16], p[:, 0:+16], t
              vsub p[:, 16:+16], x[:, 16:+16], b
              exp p[:, 16:+16], p[:, 16:+16]
              rowsum t, p[:, 16:+16]
              vadd l, l, t
              vdiv p, p, l
              dma.store P, p
              dma.wait
              halt
      """)
    let x = try #require(output(r, "X")).values
    let p = try #require(output(r, "P")).values
    var worst = 0.0
    for i in 0..<8 {
      let row = (0..<32).map { Double(x[i * 32 + $0]) }
      let e = row.map { Foundation.exp($0 - row.max()!) }
      let sum = e.reduce(0, +)
      for j in 0..<32 { worst = max(worst, abs(Double(p[i * 32 + j]) - e[j] / sum)) }
    }
    // f32 storage of every intermediate: a few f32 ulps of values ≤ 1.
    #expect(worst < 1e-6)
  }

  @Test func shapesAreChecked() {
    let decl = """
      .tensor a f32 [4, 6] sram
      .tensor m f32 [4, 2] sram
      .tensor c f32 [4, 6] sram

      """
    #expect(assemblyError(decl + "        rowmax m, a\n").contains("t.isa:4:16: error"))
    #expect(
      assemblyError(decl + "        rowmax m, a\n").contains("D must be A's shape with the last dimension 1"))
    #expect(
      assemblyError(decl + "        vsub c, a, m\n").contains(
        "expected [4, 6], one row [6] or one column [4, 1]"))
  }
}

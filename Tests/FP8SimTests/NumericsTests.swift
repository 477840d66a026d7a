import FP8Formats
import FP8ISA
import Testing

@testable import FP8Sim

/// Values computed by the units, against hand computations and the FP32 shadow.
@Suite struct NumericsTests {
  @Test func mmaMatchesAHandComputation() throws {
    // A = [[1, 2], [3, 4]], B = [[0.5, −1], [2, 0.25]] → A·B = [[4.5, −0.5], [9.5, −2]].
    let r = try simulate(
      """
      .tensor a fp8e4 [2, 2] sram
      .tensor b fp8e4 [2, 2] sram
      .tensor c f32 [2, 2] sram
      .tensor C f32 [2, 2] dram
      .output C
        vfill a[0, 0:+1], 1
        vfill a[0, 1:+1], 2
        vfill a[1, 0:+1], 3
        vfill a[1, 1:+1], 4
        vfill b[0, 0:+1], 0.5
        vfill b[0, 1:+1], -1
        vfill b[1, 0:+1], 2
        vfill b[1, 1:+1], 0.25
        mma c, a, b, clear=1
        dma.store C, c
      """)
    let c = try #require(output(r, "C"))
    #expect(c.values == [4.5, -0.5, 9.5, -2])
    #expect(c.metrics.snrDB == .infinity)
  }

  @Test func transposedOperands() throws {
    // With ta/tb the same product from transposed storage: Aᵀ stored as [[1, 3], [2, 4]].
    let r = try simulate(
      """
      .tensor at fp8e4 [2, 2] sram
      .tensor bt fp8e4 [2, 2] sram
      .tensor c f32 [2, 2] sram
      .tensor C f32 [2, 2] dram
      .output C
        vfill at[0, 0:+1], 1
        vfill at[1, 0:+1], 2
        vfill at[0, 1:+1], 3
        vfill at[1, 1:+1], 4
        vfill bt[0, 0:+1], 0.5
        vfill bt[1, 0:+1], -1
        vfill bt[0, 1:+1], 2
        vfill bt[1, 1:+1], 0.25
        mma c, at, bt, ta=1, tb=1, clear=1
        dma.store C, c
      """)
    #expect(try #require(output(r, "C")).values == [4.5, -0.5, 9.5, -2])
  }

  @Test func f16AccumulatorStagnatesOnALongK() throws {
    // 4096 products of 1·1 into f16: at 2048 the spacing is 2, so 2048 + 1 ties to even 2048
    // and the sum stops there; the FP32 shadow reaches 4096. SNR = 20·log10(4096/2048) dB.
    let r = try simulate(
      """
      .tensor a fp8e4 [1, 4096] sram const(1)
      .tensor b fp8e4 [4096, 1] sram const(1)
      .tensor d f16 [1, 1] sram
      .tensor d32 f32 [1, 1] sram
      .tensor D f16 [1, 1] dram
      .tensor D32 f32 [1, 1] dram
      .output D, D32
        mma d, a, b, clear=1
        mma d32, a, b, clear=1
        dma.store D, d
        dma.store D32, d32
      """)
    let d = try #require(output(r, "D"))
    #expect(d.values == [2048])
    #expect(d.reference == [4096])
    #expect(abs(d.metrics.snrDB - 20 * Math.log10(2)) < 1e-9)
    #expect(try #require(output(r, "D32")).values == [4096])
  }

  @Test func f16AccumulatorOverflowsToInfinity() throws {
    // 448·448 = 200704 > 65504: the first product already overflows an f16 accumulator.
    let r = try simulate(
      """
      .tensor a fp8e4 [1, 1] sram const(448)
      .tensor d f16 [1, 1] sram
      .tensor D f16 [1, 1] dram
      .output D
        mma d, a, a, clear=1
        dma.store D, d
      """)
    let d = try #require(output(r, "D"))
    #expect(d.values == [.infinity] && d.metrics.infCount == 1 && d.metrics.snrDB == -.infinity)
  }

  @Test func fp22TruncatesSmallProductsAgainstALargeAccumulator() throws {
    // Group 1: 32 × (1·1) → 32. Group 2: 32 × (2^-5 · 2^-5 = 2^-10) aligned to 2^5 with 13
    // fraction bits (quantum 2^-8): each truncates to 0, so fp22 stays at 32 while f32 reaches
    // 32 + 32·2^-10 = 32.03125.
    let r = try simulate(
      """
      .tensor a fp8e4 [1, 64] sram
      .tensor b fp8e4 [64, 1] sram
      .tensor d f32 [1, 1] sram
      .tensor e f32 [1, 1] sram
      .tensor D f32 [2] dram
      .output D
        vfill a[0, 0:+32], 1
        vfill a[0, 32:+32], 0.03125
        vfill b[0:+32, 0], 1
        vfill b[32:+32, 0], 0.03125
        mma d, a, b, acc=fp22, clear=1
        mma e, a, b, clear=1
        dma.store D[0:+1], d[0, :]
        dma.store D[1:+1], e[0, :]
      """)
    #expect(try #require(output(r, "D")).values == [32, 32.03125])
  }

  @Test func fp22GroupByHand() {
    // Accumulator 1.0, products 2^-14 and 3·2^-14: quantum 2^-13; 2^-14 → 0, 1.5·2^-13 → 2^-13.
    let r = MMANumerics.fp22Group([1.0, 0x1p-14, 3 * 0x1p-14][...], exponents: [0, -14, -13][...])
    #expect(r == 1 + 0x1p-13)
    // The sum is truncated to 14 significant bits: 2 − 2^-14·... → keeps 13 fraction bits.
    #expect(MMANumerics.fp22Group([1.5, 0.4999][...], exponents: [0, -2][...]) == 1.9998779296875)
    #expect(MMANumerics.fp22Group([1.0, .infinity][...], exponents: [0, 0][...]) == .infinity)
    #expect(MMANumerics.fp22Group([0, 0][...], exponents: [0, 0][...]) == 0)
    // A product aligned below its own exponent (1.5 · 1.5 = 2.25 at 0): the quantum is 2^-13.
    #expect(MMANumerics.fp22Group([0, 2.25, -0x1p-13][...], exponents: [0, 0, -13][...]) == 2.25 - 0x1p-12)
    #expect(MMANumerics.fp22Group([0, 2.25, -0x1p-13][...], exponents: [0, 1, -13][...]) == 2.25)
  }

  @Test func sumRoundedToOddGivesCorrectRounding() {
    // 2048 + 1 + tiny: a plain double sum would be 2049 (a tie in f16 → 2048); the exact value
    // is above the tie, so the correct f16 result is 2050.
    let s = MMANumerics.sumRoundedToOdd(2049, 0x1p-40)
    #expect(Float16(MMANumerics.floatRoundedToOdd(s)) == 2050)
    #expect(Float16(Float(s)) == 2048)  // what double rounding would give
    #expect(MMANumerics.sumRoundedToOdd(1, 2) == 3)
  }

  @Test func vectorFunctionsAndFusedAmax() throws {
    let r = try simulate(
      """
      .tensor x f32 [2, 4] sram
      .tensor y f32 [2, 4] sram
      .tensor Y f32 [4, 2, 4] dram
      .output Y
        vfill x, 1
        vfill x[1, :], -2
        vfill x[0, 0:+1], 3
        gelu y, x, amax=f1
        dma.store Y[0, :, :], y
        softmax y, x
        dma.store Y[1, :, :], y
        layernorm y, x
        dma.store Y[2, :, :], y
        vmul y, x, f1
        dma.store Y[3, :, :], y
      """)
    let y = try #require(output(r, "Y")).values
    let gelu3Exact = 0.5 * 3 * (1 + Math.erf(3 / 2.0.squareRoot()))
    let gelu3 = Float(gelu3Exact)
    let gelu1 = Float(0.5 * (1 + Math.erf(1 / 2.0.squareRoot())))
    #expect(y[0] == gelu3 && y[1] == gelu1)
    // Row 0 of softmax sums to 1; row 1 is uniform.
    #expect(abs(y[8..<12].reduce(0, +) - 1) < 1e-6)
    #expect(y[12] == 0.25)
    // Layernorm of [3, 1, 1, 1]: mean 1.5, variance 0.75.
    #expect(abs(y[16] - Float(1.5 / (0.75 + 1e-5).squareRoot())) < 1e-6)
    // f1 is the amax of gelu's output: gelu(3) (row 1 gelu(−2) is smaller in magnitude).
    #expect(y[24] == Float(3 * gelu3Exact))
  }

  /// Masking for padded batches: a row of 0 and −inf added to every row of the scores
  /// (`vadd` broadcasts a one-row operand) gives the masked positions no share of the softmax.
  @Test func anAdditiveMaskLeavesPositionsOutOfTheSoftmax() throws {
    let r = try simulate(
      """
      .tensor s f32 [2, 4] sram randn(3, 0.0, 1.0)
      .tensor m f32 [1, 4] sram
      .tensor p f32 [2, 4] sram
      .tensor P f32 [2, 4] dram
      .output P
        vfill m, 0
        vfill m[0, 3:+1], -inf
        vadd s, s, m
        softmax p, s
        dma.store P, p
        dma.wait
      """)
    let p = try #require(output(r, "P")).values
    #expect(p[3] == 0 && p[7] == 0)
    #expect(abs(p[0..<3].reduce(0, +) - 1) < 1e-6 && abs(p[4..<7].reduce(0, +) - 1) < 1e-6)
  }

  /// Rotary embedding (rotate-half): rows at positions pos, pos + 1, ...; the pairs (j, j + h)
  /// turned by p · base^(−2j/n), against the formula written here; `pos` from a register; an odd
  /// row faults.
  @Test func ropeRotatesPairsByPosition() throws {
    let r = try simulate(
      """
      .tensor x f32 [3, 4] sram randn(5, 0.0, 1.0)
      .tensor y f32 [3, 4] sram
      .tensor X f32 [3, 4] dram
      .tensor Y f32 [3, 4] dram
      .output X
      .output Y
        mov r1, 5
        rope y, x, pos=r1, base=100
        dma.store X, x
        dma.store Y, y
        dma.wait
      """)
    let x = try #require(output(r, "X")).values.map(Double.init)
    let y = try #require(output(r, "Y")).values
    var want = [Float](repeating: 0, count: 12)
    for row in 0..<3 {
      for j in 0..<2 {
        let theta = Double(5 + row) * Math.pow(100, -2 * Double(j) / 4)
        let (x1, x2) = (x[row * 4 + j], x[row * 4 + j + 2])
        want[row * 4 + j] = Float(x1 * Math.cos(theta) - x2 * Math.sin(theta))
        want[row * 4 + j + 2] = Float(x2 * Math.cos(theta) + x1 * Math.sin(theta))
      }
    }
    #expect(y == want)
    // Position 0 leaves a row as it is.
    let r0 = try simulate(
      """
      .tensor x f32 [1, 4] sram randn(5, 0.0, 1.0)
      .tensor y f32 [1, 4] sram
      .tensor X f32 [1, 4] dram
      .tensor Y f32 [1, 4] dram
      .output X
      .output Y
        rope y, x
        dma.store X, x
        dma.store Y, y
        dma.wait
      """)
    #expect(try #require(output(r0, "Y")).values == (try #require(output(r0, "X")).values))
    let f = fault(
      """
      .tensor x f32 [2, 4] sram
      .tensor y f32 [2, 4] sram
        rope y[:, 0:+3], x[:, 0:+3]
      """)
    #expect(f?.description.contains("rope rotates pairs: the view's rows have 3 elements") == true)
  }

  /// RMS normalisation: x / √(mean(x²) + eps) · γ, with no mean subtracted and no shift.
  @Test func rmsnormDividesByTheRootMeanSquare() throws {
    let r = try simulate(
      """
      .tensor x f32 [2, 4] sram
      .tensor g f32 [1, 4] sram
      .tensor y f32 [2, 4] sram
      .tensor Y f32 [2, 4] dram
      .output Y
        vfill x, 1
        vfill x[0, 0:+1], 3
        vfill x[0, 3:+1], -5
        vfill x[1, :], 2
        vfill g, 2
        rmsnorm y, x, gamma=g, eps=0.0
        dma.store Y, y
        dma.wait
      """)
    // Row 0: mean square (9 + 1 + 1 + 25) / 4 = 9; row 1: 4.
    #expect(
      try #require(output(r, "Y")).values == [2, 2.0 / 3, 2.0 / 3, -10.0 / 3, 2, 2, 2, 2].map { Float($0) })
  }

  /// GPT-2's tanh GELU and Llama's SiLU, elementwise in f64, against their formulas written here.
  @Test func geluTanhAndSilu() throws {
    let r = try simulate(
      """
      .tensor x f32 [1, 4] sram
      .tensor y f32 [2, 4] sram
      .tensor Y f32 [2, 4] dram
      .output Y
        vfill x, 1.5
        vfill x[0, 0:+1], -2
        vfill x[0, 1:+1], 0
        vfill x[0, 2:+1], 30
        gelu.tanh y[0:+1, :], x
        silu y[1:+1, :], x
        dma.store Y, y
        dma.wait
      """)
    let y = try #require(output(r, "Y")).values
    let xs: [Double] = [-2, 0, 30, 1.5]
    let c = (2 / Double.pi).squareRoot()
    let geluTanh = xs.map { (x: Double) -> Float in
      let inner: Double = c * (x + 0.044715 * x * x * x)
      return Float(0.5 * x * (1 + Math.tanh(inner)))
    }
    let silu = xs.map { (x: Double) -> Float in Float(x / (1 + Math.exp(-x))) }
    for i in 0..<4 {
      #expect(abs(y[i] - geluTanh[i]) <= 2 * geluTanh[i].ulp, "gelu.tanh(\(xs[i]))")
      #expect(abs(y[4 + i] - silu[i]) <= 2 * silu[i].ulp, "silu(\(xs[i]))")
    }
    #expect(y[1] == 0 && y[5] == 0 && y[2] == 30)
  }

  /// `fdiv` and `fsqrt` (f64): a row's L2 normalisation by `rsum`, `fsqrt`, `fdiv` and `vmul`,
  /// as sentence-transformers normalises an embedding; IEEE special cases.
  @Test func floatDivisionAndSquareRoot() throws {
    let r = try simulate(
      """
      .tensor x f32 [1, 4] sram
      .tensor q f32 [1, 4] sram
      .tensor y f32 [1, 4] sram
      .tensor Y f32 [1, 4] dram
      .tensor S f32 [1, 4] dram
      .output Y
      .output S
        vfill x, 1
        vfill x[0, 0:+1], 3
        vfill x[0, 3:+1], -5
        vmul q, x, x
        rsum f1, q
        fsqrt f2, f1
        fdiv f3, 1.0, f2
        vmul y, x, f3
        dma.store Y, y
        fdiv f4, 1.0, 0.0
        fdiv f5, 0.0, 0.0
        fsqrt f6, -4.0
        fsqrt f7, 2.0
        vfill q[0, 0:+1], f4
        vfill q[0, 1:+1], f5
        vfill q[0, 2:+1], f6
        vfill q[0, 3:+1], f7
        dma.store S, q
        dma.wait
      """)
    // |x| = √(9 + 1 + 1 + 25) = 6.
    let norm = 1 / 6.0
    #expect(try #require(output(r, "Y")).values == [3, 1, 1, -5].map { Float($0 * norm) })
    let s = try #require(output(r, "S")).values
    #expect(s[0] == .infinity && s[1].isNaN && s[2].isNaN && s[3] == Float(2.0.squareRoot()))
  }

  @Test func castWithBiasSaturationAndCounts() throws {
    // 300 with bias 1 → 600 overflows e4m3fn: saturate to 448, dequantised 448·2^-1 = 224.
    // 0.001 with bias 1 → 0.002 → 0.001953125 (e4m3fn min subnormal).
    let r = try simulate(
      """
      .tensor x f32 [4] sram
      .tensor q e4m3fn [4] sram
      .tensor y f32 [4] sram
      .tensor Y f32 [4] dram
      .output Y
        vfill x, 300
        vfill x[1:+1], 0.001
        vfill x[2:+1], 0.0001
        vfill x[3:+1], -1
        cast q, x, bias=1, overflow=saturate
        cast y, q, bias=-1
        dma.store Y, y
      """)
    let y = try #require(output(r, "Y"))
    #expect(y.values == [224, 0.0009765625, 0, -1])
    let q = try #require(r.casts.first { $0.name == "q" }?.counts)
    #expect(q.total == 4 && q.overflow == 1 && q.underflow == 1 && q.rounded == 1)
  }

  @Test func castScalesExactlyEvenPastDoubleRange() throws {
    // e^600 ≈ 3.8e260; with bias 300 the scaled value is beyond Double, but still finite: toward
    // zero gives e5m2's max 57344 (not inf), nearest-even gives inf.
    let r = try simulate(
      """
      .tensor x f32 [2] sram
      .tensor q e5m2 [2] sram
      .tensor y f32 [2] sram
      .tensor Y f32 [2] dram
      .output Y
        vfill x, 600
        exp q[0:+1], x[0:+1], bias=300, round=toward-zero
        exp q[1:+1], x[1:+1], bias=300
        cast y, q
        dma.store Y, y
      """)
    let y = try #require(output(r, "Y"))
    #expect(y.values == [57344, .infinity])
  }

  @Test func amaxScalingAcrossTiles() throws {
    // Each tile holds one row; the global amax is 12 (tile 3: row of 3·4). bias = floor(log2(448/12)) = 5.
    let r = try simulate(
      """
      .tensor X f32 [4, 8] dram
      .tensor x f32 [8] sram
      .tensor q fp8e4 [8] sram
      .tensor B f32 [4] dram
      .tensor b f32 [1] sram
      .output B
        add r1, tid, 1
        mul r1, r1, 3
        fmov f0, 0
        vfill x, 1
        vfill x[0:+1], 0
        amax f1, x
        allreduce.max f2, f1
        bias r2, f2, fp8e4
        vfill b, 0, bias=r2
        dma.store B[tid:+1], b
      """, device: teach(tiles: 4))
    // The amax is 1 on every tile: bias = floor(log2(448)) = 8, and vfill b, 0 gives 0.
    #expect(try #require(output(r, "B")).values == [0, 0, 0, 0])
  }

  @Test func biasInstructionKeepsItsRegisterWhenAmaxIsZero() throws {
    let r = try simulate(
      """
      .tensor y f32 [2] sram
      .tensor Y f32 [2] dram
      .output Y
        mov r2, 7
        fmov f1, 0
        bias r2, f1, fp8e4
        vfill y, 1, bias=r2
        fmov f1, 1.5
        bias r3, f1, e4m3fn, margin=3
        vfill y[1:+1], 1, bias=r3
        dma.store Y, y
      """)
    // r2 stays 7 (amax 0 is undefined); r3 = floor(log2(448/1.5)) − 3 = 8 − 3 = 5.
    #expect(try #require(output(r, "Y")).values == [128, 32])
  }

  @Test func stochasticCastsAreRepeatableAndDifferAcrossTiles() throws {
    let text = """
      .tensor x f32 [64] sram const(1.1)
      .tensor q e5m2 [64] sram
      .tensor Q e5m2 [4, 64] dram
      .output Q
        cast q, x, round=stochastic, seed=5
        dma.store Q[tid, :], q
      """
    let a = try simulate(text, device: teach(tiles: 4))
    let b = try simulate(text, device: teach(tiles: 4))
    let qa = try #require(output(a, "Q")).values
    #expect(qa == (try #require(output(b, "Q")).values))
    #expect(Set(qa) == [1.0, 1.25])
    #expect(qa[0..<64] != qa[64..<128])
  }
}

/// NaN propagates through every maximum: `vmax`, `rmax`, `amax`, `fmax`, `allreduce.max`, the
/// `amax=` option and softmax rows, whichever operand or element holds it.
@Suite struct NaNMaximumTests {
  @Test func everyMaximumPropagatesNaN() throws {
    let text = """
      .tensor x f32 [8] sram const(1.0)
      .tensor y f32 [8] sram
      .tensor s f32 [2, 4] sram
        vfill x[7], nan
        vmax y, x, x
        rmax f1, x
        amax f2, x
        fmov f3, nan
        fmax f4, f3, 2.0
        fmax f5, 2.0, f3
        allreduce.max f6, f3
        vadd y, x, 0.0, amax=f7
        vmax y[0], y[0], x[7]
        vfill s[1, 3], nan
        softmax s, s
      """
    let program = try Assembler.assemble(text: text, path: "t.isa")
    let machine = try Machine(program: program, device: teach(tiles: 2))
    _ = try machine.run()
    for r in [1, 2, 4, 5, 6, 7] {
      #expect(machine.tiles[0].floatRegisters[r].isNaN, "f\(r)")
    }
    let y = try machine.storage(1, tile: 0, location: program.tensors[1].location)
    #expect(y.main[0].isNaN && y.main[7].isNaN)
    // A NaN in the last element of a softmax row makes the whole row NaN; the other row is even.
    let sm = try machine.storage(2, tile: 0, location: program.tensors[2].location)
    let row0 = Array(sm.main[0..<4])
    let row1 = Array(sm.main[4..<8])
    #expect(row0 == [0.25, 0.25, 0.25, 0.25])
    #expect(row1.filter(\.isNaN).count == 4)
  }
}

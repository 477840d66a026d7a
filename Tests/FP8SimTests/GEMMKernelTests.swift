import FP8Formats
import FP8ISA
import Testing

@testable import FP8Sim

/// The generated GEMM (`GEMMKernel`, `fp8sim gen gemm`) computes C = A·B exactly as the
/// accumulator's rounding rule says, for exact and ragged shapes, on every accumulator.
@Suite struct GEMMKernelTests {
  static let shapes: [(Int, Int, Int)] = [(16, 16, 32), (37, 23, 75), (5, 40, 10), (48, 16, 96)]

  /// C from the A and B a run produced, by the definition of each accumulator: products added in
  /// increasing k, each sum rounded once to the accumulator's format.
  static func reference(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, _ acc: Accumulator) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        switch acc {
        case .f32:
          var x: Float = 0
          for kk in 0..<k { x = x.addingProduct(a[i * k + kk], b[kk * n + j]) }
          c[i * n + j] = x
        case .f16, .bf16:
          // acc + a·b is exact in Double here (FP8 products, a short sum); then one rounding.
          let f: FloatFormat = acc == .f16 ? .f16 : .bf16
          var x = 0.0
          for kk in 0..<k { x = f.decode(f.encode(x + Double(a[i * k + kk]) * Double(b[kk * n + j])).code) }
          c[i * n + j] = Float(x)
        case .fp22, .f32rz:
          break
        }
      }
    }
    if acc == .fp22 || acc == .f32rz {
      // Slices of 32 keep the groups of 32 where one mma over the whole K has them.
      MMANumerics.reference(
        a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: acc, formats: (.e4m3fn, .e4m3fn))
    }
    return c
  }

  @Test(arguments: shapes, Accumulator.allCases)
  func matchesTheReference(shape: (Int, Int, Int), accumulator: Accumulator) throws {
    let (m, n, k) = shape
    var g = GEMMKernel(m: m, n: n, k: k)
    (g.tm, g.tn, g.tk, g.stages) = (16, 16, 32, 3)
    g.accumulator = accumulator
    g.outType = accumulator == .f16 ? .format(.f16) : accumulator == .bf16 ? .format(.bf16) : .format(.f32)
    g.accumulatorSpace = accumulator == .f32 ? .acc : .sram
    g.aInit = .uniform(seed: 1, low: -3, high: 3)
    g.bInit = .uniform(seed: 2, low: -3, high: 3)
    g.outputInputs = true
    let program = try g.builder().build()
    let r = try Machine(program: program, device: teach(tiles: 3)).run()
    let a = try #require(output(r, "A")).values
    let b = try #require(output(r, "B")).values
    let c = try #require(output(r, "C")).values
    let expected = Self.reference(a, b, m: m, n: n, k: k, accumulator)
    let wrong = (0..<(m * n)).filter { c[$0] != expected[$0] && !(c[$0].isNaN && expected[$0].isNaN) }
    #expect(
      wrong.isEmpty,
      "\(m)×\(n)×\(k) \(accumulator): \(wrong.count) of \(m * n) differ, first at \(wrong.first ?? -1)")
  }

  /// A bf16 C from an f32 accumulator: each value rounded once from the f32 result.
  @Test func bf16OutputIsTheRoundedF32Result() throws {
    var g = GEMMKernel(m: 37, n: 23, k: 75)
    (g.tm, g.tn, g.tk) = (16, 16, 32)
    g.outType = .format(.bf16)
    g.outputInputs = true
    let r = try Machine(program: try g.builder().build(), device: teach(tiles: 2)).run()
    let a = try #require(output(r, "A")).values
    let b = try #require(output(r, "B")).values
    let c = try #require(output(r, "C")).values
    let f32 = Self.reference(a, b, m: 37, n: 23, k: 75, .f32)
    #expect(c == f32.map { Float(FloatFormat.bf16.decode(FloatFormat.bf16.encode(Double($0)).code)) })
  }

  /// Column raster and multicast clusters compute the same C (ragged shapes included), and a
  /// cluster that can share reads each shared slice from L2 once per group.
  @Test(arguments: [GEMMKernel.Raster.rows, .columns], [1, 2, 4])
  func rasterAndClusterKeepTheResult(raster: GEMMKernel.Raster, cluster: Int) throws {
    for (m, n, k) in [(64, 64, 64), (37, 23, 75)] {
      var g = GEMMKernel(m: m, n: n, k: k)
      (g.tm, g.tn, g.tk, g.stages) = (16, 16, 32, 2)
      (g.raster, g.cluster) = (raster, cluster)
      g.outputInputs = true
      let r = try Machine(program: try g.builder().build(), device: teach(tiles: 4)).run()
      let a = try #require(output(r, "A")).values
      let b = try #require(output(r, "B")).values
      let c = try #require(output(r, "C")).values
      #expect(c == Self.reference(a, b, m: m, n: n, k: k, .f32), "\(m)×\(n)×\(k) \(raster) \(cluster)")
      if (m, n, k) == (64, 64, 64) {
        // 16 blocks of 16×16 on 4 tiles, 2 K slices: each block loads 16×64 of A and 64×16 of B
        // (1 KiB each); the shared operand crosses L2 once per cluster.
        let total = 16 * 2048
        #expect(r.traffic.l2ToSram + r.traffic.multicast == total)
        #expect(r.traffic.multicast == 16 * 1024 * (cluster - 1) / cluster)
      }
    }
  }

  /// Split-K: each split's f32 partial is its products added in increasing k (fused, from 0),
  /// the partials are added in split order in f32, and C is that sum rounded once to its type.
  @Test(arguments: [2, 3], [DType.format(.f32), .format(.bf16)])
  func splitKAddsThePartialsInOrder(splits: Int, out: DType) throws {
    // (64, 16, 640, 64): 10 slices in 3 splits of 3, 3, 4 (a ceiling split would leave none).
    for (m, n, k, tk) in [(37, 23, 75, 16), (16, 48, 96, 32), (5, 40, 40, 8), (64, 16, 640, 64)] {
      var g = GEMMKernel(m: m, n: n, k: k)
      (g.tm, g.tn, g.tk, g.stages, g.splitK) = (16, 16, tk, 3, splits)
      g.outType = out
      g.outputInputs = true
      let r = try Machine(program: try g.builder().build(), device: teach(tiles: 3)).run()
      let a = try #require(output(r, "A")).values
      let b = try #require(output(r, "B")).values
      let c = try #require(output(r, "C")).values
      let slices = (k + tk - 1) / tk
      var expected = [Float](repeating: 0, count: m * n)
      for i in 0..<m {
        for j in 0..<n {
          var sum: Float = 0
          for split in 0..<splits {
            var partial: Float = 0
            for kk in (split * slices / splits * tk)..<min(k, (split + 1) * slices / splits * tk) {
              partial = partial.addingProduct(a[i * k + kk], b[kk * n + j])
            }
            sum = split == 0 ? partial : sum + partial
          }
          expected[i * n + j] =
            out == .format(.bf16)
            ? Float(FloatFormat.bf16.decode(FloatFormat.bf16.encode(Double(sum)).code)) : sum
        }
      }
      #expect(c == expected, "\(m)×\(n)×\(k) split \(splits) \(out)")
      // The workspace holds every split's partial: M·N·4 bytes each, written once, read once.
      #expect(r.traffic.perTensor.values.contains { $0.sramToL2 == splits * m * n * 4 })
    }
  }

  /// Every split gets a slice even where ⌈slices / splits⌉ would leave the last ones none
  /// (10 slices in 6 splits; 1000/128 → 8 slices in 7 splits), on every tile count.
  @Test func splitKNeverLeavesASplitEmpty() throws {
    for (m, n, k, tk, splits) in [(64, 64, 640, 64, 6), (300, 5, 1000, 128, 7)] {
      var g = GEMMKernel(m: m, n: n, k: k)
      (g.tm, g.tn, g.tk, g.splitK) = (64, 64, tk, splits)
      var options = RunOptions()
      options.timingOnly = true
      for tiles in [1, 2, 4] {
        _ = try Machine(program: try g.builder().build(), device: teach(tiles: tiles), options: options).run()
      }
    }
  }

  @Test func splitKNeedsASliceForEverySplit() {
    var g = GEMMKernel(m: 16, n: 16, k: 64)
    (g.tk, g.splitK) = (32, 3)
    #expect(throws: GEMMKernel.ConfigError.self) { try g.builder() }
    g.splitK = 2
    #expect((try? g.builder()) != nil)
  }

  /// The instruction bound `validate` runs under is an upper bound, and not a loose one.
  @Test func instructionBoundHolds() throws {
    for (m, n, k) in [(16, 16, 32), (37, 23, 75), (96, 80, 400), (5, 40, 10)] {
      for (tk, stages) in [(32, 2), (16, 4)] {
        var g = GEMMKernel(m: m, n: n, k: k)
        (g.tm, g.tn, g.tk, g.stages) = (16, 16, tk, stages)
        var options = RunOptions()
        options.timingOnly = true
        let r = try Machine(program: try g.builder().build(), device: teach(tiles: 3), options: options).run()
        let bound = g.instructionBound(tiles: 3)
        #expect(
          r.instructions <= bound && bound <= 4 * r.instructions + 200,
          "\(m)×\(n)×\(k): \(r.instructions) of \(bound)")
      }
    }
  }

  @Test func refusesConfigurationsItCannotBuild() {
    var g = GEMMKernel(m: 64, n: 64, k: 64)
    g.stages = 1
    #expect(throws: GEMMKernel.ConfigError.self) { try g.builder() }
    g.stages = 2
    g.outType = .fp8e4
    #expect(throws: GEMMKernel.ConfigError.self) { try g.builder() }
    g.outType = .format(.f32)
    g.tm = 0
    #expect(throws: GEMMKernel.ConfigError.self) { try g.builder() }
  }
}

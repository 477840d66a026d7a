import FP8Formats
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// The fast mma kernels give exactly the bits of the reference definitions, and both give the
/// bits of `MMAOracle`, an emulation written from `isa/ISA.md` alone.
///
/// The tests call `MMANumerics.fast` (the release path) and `MMANumerics.reference` (the debug
/// path) explicitly, so they compare the two in every build configuration.
@Suite struct KernelTests {
  /// Random FP8 values (all codes except NaN/inf), so products are exact in f32.
  static func fp8Values(_ count: Int, format: FloatFormat, rng: inout SplitMix64, scale: Double = 1)
    -> [Float]
  {
    (0..<count).map { _ in
      while true {
        let v = format.decode(UInt32(rng.next() & 0xFF))
        if v.isFinite { return Float(v * scale) }
      }
    }
  }

  struct Shape: Sendable, CustomTestStringConvertible {
    var m: Int
    var n: Int
    var k: Int
    var testDescription: String { "\(m)×\(n)×\(k)" }
  }

  @Test(
    arguments: Accumulator.allCases,
    [
      Shape(m: 1, n: 1, k: 1), Shape(m: 3, n: 5, k: 7), Shape(m: 4, n: 8, k: 32), Shape(m: 9, n: 17, k: 65),
      Shape(m: 64, n: 64, k: 100), Shape(m: 5, n: 130, k: 33),
    ])
  func fastKernelEqualsReference(accumulator: Accumulator, shape: Shape) {
    var rng = SplitMix64(seed: UInt64(shape.m * 1000 + shape.n * 10 + shape.k))
    let (m, n, k) = (shape.m, shape.n, shape.k)
    // Large-magnitude E5 values push f16/bf16 accumulators into overflow and subnormals; the
    // power-of-two scale keeps B's values FP8-exact (so the kernels, not the fallback, run).
    let a = Self.fp8Values(m * k, format: .e4m3fn, rng: &rng)
    let b = Self.fp8Values(k * n, format: accumulator == .f16 ? .e5m2 : .e4m3fn, rng: &rng, scale: 0x1p-7)
    let c0 = Self.fp8Values(m * n, format: .e4m3fn, rng: &rng)
    // Every accumulator but f32rz (which has no vector kernel) runs its kernel on this data.
    #expect(MMANumerics.kernelApplies(a: a, b: b, c: c0, accumulator: accumulator) == (accumulator != .f32rz))
    var slow = c0
    MMANumerics.reference(a: a, b: b, c: &slow, m: m, n: n, k: k, accumulator: accumulator)
    for kernels in KernelSet.available {
      var fast = c0
      MMANumerics.fast(
        a: a, b: b, c: &fast, m: m, n: n, k: k, accumulator: accumulator, inputs: .fp8, kernels: kernels)
      Self.expectSameBits(fast, slow, "\(kernels)")
    }
  }

  /// Records the elements where `fast` and `slow` differ (NaNs of any payload are equal).
  static func expectSameBits(
    _ fast: [Float], _ slow: [Float], _ label: String, c0: [Float]? = nil,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
  ) {
    let mismatches = fast.indices.filter { !sameBits(fast[$0], slow[$0]) }
    let first = mismatches.first.map { x in
      "\(fast[x]) vs \(slow[x])" + (c0.map { " (C \($0[x]))" } ?? "")
    }
    #expect(
      mismatches.isEmpty, "\(label): \(mismatches.count) mismatches; first: \(first ?? "")",
      sourceLocation: sourceLocation)
  }

  // MARK: - The reproducers of issue 9

  /// One `mma` of a single element, by the fast path, the reference and the oracle.
  static func single(
    _ accumulator: Accumulator, c: Float, a: [Float], b: [Float], formats: (FloatFormat, FloatFormat)? = nil
  ) -> (Float, Float, Float) {
    var slow = [c]
    let k = a.count
    MMANumerics.reference(
      a: a, b: b, c: &slow, m: 1, n: 1, k: k, accumulator: accumulator, inputs: .half, formats: formats)
    // Every kernel set the host has gives the same bits; the first one's are returned.
    let fast = KernelSet.available.map { kernels in
      var fast = [c]
      MMANumerics.fast(
        a: a, b: b, c: &fast, m: 1, n: 1, k: k, accumulator: accumulator, inputs: .half, formats: formats,
        kernels: kernels)
      return fast[0]
    }
    #expect(fast.allSatisfy { sameBits($0, fast[0]) }, "kernel sets differ: \(fast)")
    return (fast[0], slow[0], MMAOracle.element(accumulator, c: c, a: a, b: b, formats: formats))
  }

  /// Veltkamp's split rounds to 11 significant bits, ties to even, against a rounding written
  /// on the bits: every 61st f32 from 2^-14 to 2^20 (and its negative), and every multiple of
  /// 2^-24 below 2^-14 is returned unchanged (the bench-free part of `F16SplitAccumulation`'s
  /// argument; the release build checked every f32 of the range).
  @Test func splitRoundsToElevenSignificantBits() {
    func rn11(_ x: Float) -> Float {
      let b = x.bitPattern
      let low = b & 0x1FFF
      var r = b & ~0x1FFF
      if low > 0x1000 || (low == 0x1000 && (r >> 13) & 1 == 1) { r += 0x2000 }
      return Float(bitPattern: r)
    }
    func split(_ x: Float) -> Float {
      let t = x * 8193
      return t - (t - x)
    }
    var bad: [Float] = []
    var bits = Float(0x1p-14).bitPattern
    while bits <= Float(0x1p20).bitPattern {
      let x = Float(bitPattern: bits)
      if split(x).bitPattern != rn11(x).bitPattern || split(-x).bitPattern != (-rn11(x)).bitPattern {
        bad.append(x)
      }
      bits += 61
    }
    for k in 0..<1024 where split(Float(k) * 0x1p-24) != Float(k) * 0x1p-24 { bad.append(Float(k) * 0x1p-24) }
    #expect(bad.prefix(5) == [])
  }

  /// The split f16 kernel on what it accepts (E4M3 products, f16 accumulators with ±0,
  /// subnormals, values near 65504 and ±inf) equals the reference bit for bit, through the
  /// dispatch that chooses it; with a NaN in C or E5M2 products the dispatch falls back.
  @Test(arguments: [Shape(m: 3, n: 5, k: 7), Shape(m: 9, n: 17, k: 65), Shape(m: 64, n: 64, k: 100)])
  func splitF16KernelEqualsReference(shape: Shape) {
    var rng = SplitMix64(seed: 0xF16 + UInt64(shape.m * 100 + shape.k))
    let (m, n, k) = (shape.m, shape.n, shape.k)
    let a = Self.fp8Values(m * k, format: .e4m3fn, rng: &rng)
    let b = Self.fp8Values(k * n, format: .e4m3fn, rng: &rng, scale: 0x1p-4)
    let specials: [Float] = [
      0, -0.0, 0x1p-24, -0x1p-20, 65504, -65504, 65488, .infinity, -.infinity, 0x1p-14,
    ]
    var c0 = (0..<(m * n)).map { i -> Float in
      i % 3 == 0
        ? specials[Int(rng.next() % UInt64(specials.count))] : Float(Float16(Float(rng.nextGaussian() * 300)))
    }
    c0[0] = -.infinity  // stays -inf: its split is NaN, which must not show
    #expect(MMANumerics.splitApplies(a: a, b: b, c: c0, formats: (.e4m3fn, .e4m3fn)))
    var slow = c0
    MMANumerics.reference(a: a, b: b, c: &slow, m: m, n: n, k: k, accumulator: .f16)
    for kernels in KernelSet.available {
      var fast = c0
      MMANumerics.fast(
        a: a, b: b, c: &fast, m: m, n: n, k: k, accumulator: .f16, inputs: .fp8, formats: (.e4m3fn, .e4m3fn),
        kernels: kernels)
      Self.expectSameBits(fast, slow, "\(kernels)", c0: c0)
      #expect(fast[0] == -.infinity)
    }
    // Not for E5M2 products (multiples of 2^-32), nor with a NaN anywhere.
    #expect(!MMANumerics.splitApplies(a: a, b: b, c: c0, formats: (.e4m3fn, .e5m2)))
    #expect(!MMANumerics.splitApplies(a: a, b: b, c: c0 + [.nan], formats: (.e4m3fn, .e4m3fn)))
    #expect(!MMANumerics.splitApplies(a: a + [-.nan], b: b, c: c0, formats: (.e4m3fn, .e4m3fn)))
    #expect(!MMANumerics.splitApplies(a: a, b: b, c: c0, formats: nil))
  }

  /// The fp22 kernel's truncation (round to nearest with an added constant, then a step back
  /// toward zero where that went past) on groups whose terms span 40 binades with both signs,
  /// ties and exact multiples among them (E5M2 × E5M2 products, C of any magnitude and sign):
  /// bit for bit the reference.
  @Test(arguments: [Shape(m: 5, n: 9, k: 33), Shape(m: 16, n: 24, k: 200)])
  func fp22KernelEqualsReferenceOnWideGroups(shape: Shape) {
    var rng = SplitMix64(seed: 0xF22 + UInt64(shape.k))
    let (m, n, k) = (shape.m, shape.n, shape.k)
    let a = Self.fp8Values(m * k, format: .e5m2, rng: &rng)
    let b = Self.fp8Values(k * n, format: .e5m2, rng: &rng, scale: 0x1p-10)
    let c0 = (0..<(m * n)).map { _ in
      Float(rng.nextGaussian()) * Float(sign: .plus, exponent: Int(rng.next() % 60) - 30, significand: 1)
    }
    #expect(MMANumerics.kernelApplies(a: a, b: b, c: c0, accumulator: .fp22))
    var slow = c0
    MMANumerics.reference(a: a, b: b, c: &slow, m: m, n: n, k: k, accumulator: .fp22)
    for kernels in KernelSet.available {
      var fast = c0
      MMANumerics.fast(
        a: a, b: b, c: &fast, m: m, n: n, k: k, accumulator: .fp22, inputs: .fp8, kernels: kernels)
      Self.expectSameBits(fast, slow, "\(kernels)")
    }
  }

  /// fp22 groups the portable kernel hands to the scalar definition and the AVX2 kernel decides
  /// by its masks: groups whose largest exponent is below 2^-113 (with subnormal accumulators)
  /// or above 2^116; and groups no vector code decides (an infinite or NaN term, a sum past f32's
  /// range), which the AVX2 kernel leaves to the Swift code row by row. Bit for bit the reference.
  @Test func fp22KernelsOnTinyHugeAndUndecidedGroups() {
    var rng = SplitMix64(seed: 0x22)
    let (m, n, k) = (7, 19, 70)
    // Row r's scale: rows 0–2 tiny (products 2^-126 to 2^-114), rows 3–4 huge (up to 2^126),
    // rows 5–6 ordinary.
    func magnitude(_ row: Int) -> Float { row < 3 ? 0x1p-63 : row < 5 ? 0x1p56 : 1 }
    var a = (0..<(m * k)).map { i in
      Float(Float16(Float(rng.nextGaussian()) + 2)) * magnitude(i / k) * (rng.next() % 2 == 0 ? 1 : -1)
    }
    // B positive, at most 1.5.
    var b = (0..<(k * n)).map { _ -> Float in
      min(max(Float(Float16(Float(rng.nextGaussian()) + 2)), 0.25), 3) * (rng.next() % 4 == 0 ? 0x1p-6 : 1)
        * 0x1p-1
    }
    var c0 = (0..<(m * n)).map { i -> Float in
      i / n < 3
        ? Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x007F_FFFF) : Float(rng.nextGaussian())
    }
    // Row 5: an infinite term in its second group; row 6: a sum of two terms past f32's range
    // in its last group (its first group ordinary); C[5, 3] infinite from the start.
    a[5 * k + 40] = .infinity
    a[6 * k + 66] = 0x1.fp126
    a[6 * k + 67] = 0x1.fp126
    for j in 0..<n { (b[66 * n + j], b[67 * n + j]) = (1.5, 1.5) }
    c0[5 * n + 3] = -.infinity
    #expect(MMANumerics.kernelApplies(a: a, b: b, c: c0, accumulator: .fp22))
    var slow = c0
    MMANumerics.reference(a: a, b: b, c: &slow, m: m, n: n, k: k, accumulator: .fp22)
    #expect(slow[5 * n].isInfinite, "\(slow[5 * n])")
    #expect(slow[6 * n] == .infinity, "\(slow[6 * n])")
    #expect(slow[7].isFinite && slow[3 * n + 7].isFinite, "\(slow[7]) \(slow[3 * n + 7])")
    for kernels in KernelSet.available {
      var fast = c0
      MMANumerics.fast(
        a: a, b: b, c: &fast, m: m, n: n, k: k, accumulator: .fp22, inputs: .fp8, kernels: kernels)
      Self.expectSameBits(fast, slow, "\(kernels)", c0: c0)
    }
  }

  /// What the formats promise (`productsFit`) is what profiling every value of them finds:
  /// for every pair of 8- and 16-bit formats, every finite value of each (f32 by its extremes).
  @Test func productsFitIsTheProfileOfEveryValue() {
    func values(_ f: FloatFormat) -> [Float] {
      if f.totalBits > 16 { return [Float(f.maxFinite), Float(f.minSubnormal), 1.5, -3] }
      return (0..<UInt32(f.codeCount)).map { Float(f.decode($0)) }.filter(\.isFinite)
    }
    for fa in FloatFormat.all {
      for fb in FloatFormat.all {
        for bits in [8, 24] {
          let profiled = OperandProfile(values(fa)).productsWith(OperandProfile(values(fb)), fitBits: bits)
          let promised = MMANumerics.productsFit(fa, fb, bits: bits)
          // A promise must hold on the values; for formats whose every value is listed, the two agree.
          #expect(!promised || profiled, "\(fa) × \(fb), \(bits) bits")
          if fa.totalBits <= 16 && fb.totalBits <= 16 {
            #expect(promised == profiled, "\(fa) × \(fb), \(bits) bits")
          }
        }
      }
    }
    // Every FP8 pair qualifies for every accumulator.
    for fa in FloatFormat.all where fa.isFP8 {
      for fb in FloatFormat.all where fb.isFP8 { #expect(MMANumerics.productsFit(fa, fb, bits: 8)) }
    }
  }

  @Test func fp22SubnormalAccumulatorIsAlignedAtTheSmallestNormalExponent() {
    // 71489·2^-149 is an f32 subnormal; it aligns as if its exponent were −126, so the quantum is
    // 2^(−126−13) = 2^-139 = 1024·2^-149: 71489 → 69·1024 = 70656.
    let c = Float(bitPattern: 71489)
    let (fast, slow, oracle) = Self.single(.fp22, c: c, a: [0, 0, 0], b: [0, 0, 0])
    #expect(fast.bitPattern == 70656 && slow.bitPattern == 70656 && oracle.bitPattern == 70656)
    // With a normal product 2^-63·2^-63 = 2^-126 = 8192·2^-139, E is still −126: the sum is
    // (8192 + 69)·2^-139 (reading the subnormal's exponent as −127 would drop one more bit).
    let (f2, s2, o2) = Self.single(.fp22, c: c, a: [0x1p-63], b: [0x1p-63])
    #expect(f2 == 8261 * 0x1p-139 && s2 == 8261 * 0x1p-139 && o2 == 8261 * 0x1p-139)
  }

  @Test func fp22AlignsAProductByItsInputsExponents() {
    // 1.5 · 1.5 = 2.25 aligns at 0 + 0 = 0, not at its own exponent 1: the quantum is 2^-13, so
    // −2^-7 · 2^-6 = −2^-13 survives, and the sum 2.25 − 2^-13 truncates to 14 bits:
    // 2.25 − 2^-12. (Aligned at 1, −2^-13 would truncate to 0 and give 2.25.)
    let (fast, slow, oracle) = Self.single(.fp22, c: 0, a: [1.5, -0x1p-7], b: [1.5, 0x1p-6])
    #expect(fast == 2.25 - 0x1p-12 && slow == 2.25 - 0x1p-12 && oracle == 2.25 - 0x1p-12)
  }

  /// A zero input is read at exponent −126 (MMA-Sim), so a zero product still sets E: 0 · 57344
  /// (E5M2, exponent 15) aligns at −111, the quantum is 2^-124, and C = 2^-120 + 2^-125 loses
  /// its low bit; f32rz's quantum 2^-136 drops C's 2^-140 the same way.
  @Test func zeroProductsTakePartInTheAlignment() {
    let fp22 = Self.single(.fp22, c: 0x1p-120 + 0x1p-125, a: [0], b: [57344], formats: (.e5m2, .e5m2))
    #expect(fp22.0 == 0x1p-120 && fp22.1 == 0x1p-120 && fp22.2 == 0x1p-120)
    var c: [Float] = [0x1p-120 + 0x1p-140]
    MMANumerics.f32rz(
      a: [0], b: [57344], c: &c, m: 1, n: 1, k: 1, scaling: (.plain(.e5m2), .plain(.e5m2)), fp4Sums: false)
    #expect(c == [0x1p-120])
    let oracle = MMAOracle.element(
      .f32rz, c: 0x1p-120 + 0x1p-140, a: [0], b: [57344], formats: (.e5m2, .e5m2))
    #expect(oracle == 0x1p-120)
  }

  @Test func fp22ReadsSubnormalInputsAtTheirFormatsSmallestExponent() {
    // E4M3's smallest subnormal 2^-9 is 0.125 · 2^-6: 2^-9 · 2^-9 aligns at −6 − 6 = −12, so the
    // quantum is 2^-25 and C = 2^-30 truncates to 0. Read as f32 values (no formats), the product
    // aligns at −18, the quantum is 2^-31 and C stays.
    let e4m3 = Self.single(.fp22, c: 0x1p-30, a: [0x1p-9], b: [0x1p-9], formats: (.e4m3fn, .e4m3fn))
    #expect(e4m3.0 == 0x1p-18 && e4m3.1 == 0x1p-18 && e4m3.2 == 0x1p-18)
    let f32 = Self.single(.fp22, c: 0x1p-30, a: [0x1p-9], b: [0x1p-9])
    let want: Float = 0x1p-18 + 0x1p-30
    #expect(f32.0 == want && f32.1 == want && f32.2 == want)
  }

  @Test func fp22SubnormalBF16ProductIsExactThenTruncated() {
    // 0x1.fep-70² = 0x1.fc02p-139 exactly (an f32 subnormal, not representable in f32):
    // truncated to a multiple of 2^-139 it is 2^-139. A Float product would round it first.
    let x = Float(0x1.fep-70)
    let (fast, slow, oracle) = Self.single(.fp22, c: 0, a: [x], b: [x])
    #expect(fast == 0x1p-139 && slow == 0x1p-139 && oracle == 0x1p-139)
    // 151·2^-77 · 217·2^-77 = 32767·2^-154 = 2^-139 − 2^-154, just below 2^-139: truncated to
    // 0. A Float product would round it to 2^-139 (f32's spacing there is 2^-149) and keep it.
    let (f2, s2, o2) = Self.single(.fp22, c: 0, a: [151 * 0x1p-77], b: [217 * 0x1p-77])
    #expect(f2 == 0 && s2 == 0 && o2 == 0)
    #expect(Float(151 * 0x1p-77) * Float(217 * 0x1p-77) == 0x1p-139)
  }

  @Test func f32AccumulationRoundsTheExactSubnormalSumOnce() {
    // bf16 0x1.8p-75 · 2^-74 = 1.5·2^-149 exactly; + 2^-149 = 2.5·2^-149, a tie → 2·2^-149.
    // Rounding the product first (to 2·2^-149) would give 3·2^-149.
    let (fast, slow, oracle) = Self.single(.f32, c: 0x1p-149, a: [0x1.8p-75], b: [0x1p-74])
    #expect(fast == 0x1p-148 && slow == 0x1p-148 && oracle == 0x1p-148)
  }

  @Test func f32AccumulationKeepsAProductBeyondF32Range() {
    // bf16 2^64 · 2^64 = 2^128 (inf as a Float product) + (−f32max) = 2^104 exactly.
    let (fast, slow, oracle) = Self.single(
      .f32, c: -.greatestFiniteMagnitude, a: [0x1p64], b: [0x1p64])
    #expect(fast == 0x1p104 && slow == 0x1p104 && oracle == 0x1p104)
  }

  @Test func fp22ProductsBeyondF32RangeAndOverflow() {
    // 2^64·2^64 − f32max = 2^104 in fp22 too (E = 128, quantum 2^115: −f32max = −(2^128 − 2^104)
    // truncates to −(2^128 − 2^115), so the sum is 2^115).
    let (f1, s1, o1) = Self.single(.fp22, c: -.greatestFiniteMagnitude, a: [0x1p64], b: [0x1p64])
    #expect(f1 == 0x1p115 && s1 == 0x1p115 && o1 == 0x1p115)
    // f32max + 2^127 + (−2^127): the Float partial sum overflows, the exact sum does not.
    let big = Float(0x1.fcp63)
    let (f2, s2, o2) = Self.single(.fp22, c: .greatestFiniteMagnitude, a: [big, -big], b: [big, big])
    #expect(sameBits(f2, s2) && sameBits(s2, o2) && s2.isFinite)
    // A real overflow: ±inf (the f32 register overflows even though the rounding truncates).
    let (f3, s3, o3) = Self.single(.fp22, c: .greatestFiniteMagnitude, a: [big], b: [big])
    #expect(f3 == .infinity && s3 == .infinity && o3 == .infinity)
  }

  @Test func f16AccumulatorStartingFromAWiderValueRoundsOnce() {
    // c = T − 2^-23 with T = 1 + 3·2^-11 the f16 midpoint of 1 + 2^-10 and 1 + 2^-9; the product
    // 1.5·2^-12 · 1.25·2^-12 = 1.875·2^-24 leaves the exact sum just below T: 1 + 2^-10. The
    // Float sum would round to T itself and then tie to even, 1 + 2^-9. (The machine only
    // accumulates f16 into an f16 D; the fast path must still agree for any C.)
    let c = Float(1 + 3 * 0x1p-11 - 0x1p-23)
    let (fast, slow, oracle) = Self.single(.f16, c: c, a: [1.5 * 0x1p-12], b: [1.25 * 0x1p-12])
    #expect(fast == 1 + 0x1p-10 && slow == 1 + 0x1p-10 && oracle == 1 + 0x1p-10)
    // c = T' = 1 + 2^-11 (a midpoint) plus 2^-60: even a Double sum drops the product and would
    // tie to even (1.0); the exact sum is above the midpoint.
    let (f2, s2, o2) = Self.single(.f16, c: 1 + 0x1p-11, a: [0x1p-30], b: [0x1p-30])
    #expect(f2 == 1 + 0x1p-10 && s2 == 1 + 0x1p-10 && o2 == 1 + 0x1p-10)
  }

  // MARK: - Random cases at the edges, for every accumulator and input class

  enum Inputs: String, CaseIterable, Sendable {
    case e4m3fn, e4m3e5m2, e5m2, fnuz, f16
    /// bf16 inputs whose products stay exact normal `Float`s (the kernels run).
    case bf16Kernel
    /// bf16 inputs whose products are just above f32's smallest normal (the kernels run, next
    /// to subnormal accumulators).
    case bf16Tiny
    /// bf16 inputs whose products reach f32's subnormals and beyond f32's range (the fallback).
    case bf16Edges
    case f32

    var formats: (FloatFormat, FloatFormat) {
      switch self {
      case .e4m3fn: return (.e4m3fn, .e4m3fn)
      case .e4m3e5m2: return (.e4m3fn, .e5m2)
      case .e5m2: return (.e5m2, .e5m2)
      case .fnuz: return (.e4m3fnuz, .e5m2fnuz)
      case .f16: return (.f16, .f16)
      case .bf16Kernel, .bf16Tiny, .bf16Edges: return (.bf16, .bf16)
      case .f32: return (.f32, .f32)
      }
    }
  }

  /// A random value of `format` with a sign, an exponent drawn mostly from `exponents`
  /// (unbiased, clamped to the format) and a random mantissa; rarely inf or NaN.
  static func edgeValue(_ format: FloatFormat, _ exponents: ClosedRange<Int>, _ rng: inout SplitMix64)
    -> Float
  {
    let r = rng.next() % 1000
    if r == 0 { return .nan }
    if r == 1 { return format.hasInfinity ? -.infinity : 0 }
    if r < 40 { return r % 2 == 0 ? 0 : -0.0 }
    if format.isFP8 {
      while true {
        let v = format.decode(UInt32(rng.next() & 0xFF))
        if v.isFinite { return Float(v) }
      }
    }
    let e = Int(rng.next() % UInt64(exponents.count)) + exponents.lowerBound
    let mantissa = Double(rng.next() >> 11) * 0x1p-53  // [0, 1)
    let x = (1 + mantissa) * Double(sign: .plus, exponent: e, significand: 1)
    let v = format.round(rng.next() % 2 == 0 ? x : -x, overflow: .saturate)
    return Float(v)
  }

  /// Exponent ranges for each input class: mostly near the ends that matter.
  static func exponents(_ inputs: Inputs, _ rng: inout SplitMix64) -> ClosedRange<Int> {
    let pick = rng.next() % 4
    switch inputs {
    case .bf16Kernel: return pick == 0 ? -63...63 : pick == 1 ? 56...63 : pick == 2 ? -63...(-56) : -8...8
    case .bf16Tiny: return -63...(-56)
    case .bf16Edges, .f32:
      return pick == 0 ? -133...127 : pick == 1 ? 60...66 : pick == 2 ? -80...(-62) : -8...8
    default: return pick == 0 ? -24...15 : pick == 1 ? 5...15 : pick == 2 ? -24...(-10) : -4...4
    }
  }

  /// A starting accumulator value of the accumulator's format, often subnormal or near max.
  static func accumulatorValue(_ accumulator: Accumulator, _ rng: inout SplitMix64) -> Float {
    let format: FloatFormat = accumulator == .f16 ? .f16 : accumulator == .bf16 ? .bf16 : .f32
    let field: UInt32
    let top = UInt32((1 << format.exponentBits) - 2)
    switch rng.next() % 5 {
    case 0: field = 0
    case 1: field = top - UInt32(rng.next() % 2)
    case 2: field = 1
    case 3: return rng.next() % 2 == 0 ? 0 : -0.0
    default: field = UInt32(format.bias) - 4 + UInt32(rng.next() % 8)
    }
    let mantissa = UInt32(truncatingIfNeeded: rng.next()) & UInt32((1 << format.mantissaBits) - 1)
    let sign = UInt32(rng.next() % 2) << UInt32(format.totalBits - 1)
    return Float(format.decode(sign | field << UInt32(format.mantissaBits) | mantissa))
  }

  @Test(arguments: Accumulator.allCases, Inputs.allCases)
  func edgeCasesAgreeWithTheOracle(accumulator: Accumulator, inputs: Inputs) {
    let (m, n, k) = (5, 11, 70)  // partial register tiles, partial panel, three fp22 groups
    var kernelRuns = 0
    let seeds = 8
    for seed in 0..<seeds {
      var rng = SplitMix64(seed: UInt64(seed) &* 7919 &+ UInt64(inputs.rawValue.count))
      let (fa, fb) = inputs.formats
      let ea = Self.exponents(inputs, &rng)
      let eb = Self.exponents(inputs, &rng)
      let a = (0..<(m * k)).map { _ in Self.edgeValue(fa, ea, &rng) }
      let b = (0..<(k * n)).map { _ in Self.edgeValue(fb, eb, &rng) }
      let c0 = (0..<(m * n)).map { _ in Self.accumulatorValue(accumulator, &rng) }
      let applies = MMANumerics.kernelApplies(a: a, b: b, c: c0, accumulator: accumulator)
      if applies { kernelRuns += 1 }
      var slow = c0
      // The formats, as the machine passes them (fp22 reads its input floors from them).
      MMANumerics.reference(
        a: a, b: b, c: &slow, m: m, n: n, k: k, accumulator: accumulator, formats: (fa, fb))
      let runs = KernelSet.available.map { kernels in
        var fast = c0
        MMANumerics.fast(
          a: a, b: b, c: &fast, m: m, n: n, k: k, accumulator: accumulator, inputs: .fp8,
          formats: (fa, fb), kernels: kernels)
        return fast
      }
      for (kernels, fast) in zip(KernelSet.available, runs) where !zip(fast, runs[0]).allSatisfy(sameBits) {
        Issue.record("seed \(seed): the \(kernels) kernels differ from the \(KernelSet.available[0]) ones")
      }
      let fast = runs[0]
      for i in 0..<m {
        for j in 0..<n {
          let column = (0..<k).map { b[$0 * n + j] }
          let want = MMAOracle.element(
            accumulator, c: c0[i * n + j], a: Array(a[(i * k)..<(i * k + k)]), b: column, formats: (fa, fb))
          let x = i * n + j
          if !sameBits(fast[x], slow[x]) || !sameBits(slow[x], want) {
            Issue.record(
              "seed \(seed) [\(i), \(j)] kernel \(applies): fast \(fast[x]) reference \(slow[x]) oracle \(want)"
            )
            return
          }
        }
      }
    }
    // The classes the kernels are meant for do run them, the edge classes do reach the fallback
    // (so neither comparison is vacuous), f16/bf16 never run on wide products, and f32rz (no
    // vector kernel) always runs its definition.
    if accumulator == .f32rz || (accumulator == .f16 || accumulator == .bf16) && !inputs.formats.0.isFP8 {
      #expect(kernelRuns == 0)
    } else if inputs == .bf16Edges || inputs == .f32 {
      #expect(kernelRuns < seeds)
    } else {
      #expect(kernelRuns > 0)
    }
  }

  // MARK: - Pieces

  @Test func operandProfile() {
    let p = OperandProfile([1.5, -0.75, 0, .infinity, .nan, Float(bitPattern: 0b101)])
    #expect(p.bits == 3 && p.smallest == 0b101 && p.largest == Float(1.5).bitPattern)
    #expect(OperandProfile([0, -0.0, .nan]).largest == 0)
    // f16 × f16 fits 24 bits; bf16 with a product below 2^-126 does not qualify.
    #expect(OperandProfile([1 + 0x1p-10]).productsWith(OperandProfile([65504]), fitBits: 24))
    #expect(!OperandProfile([0x1p-64]).productsWith(OperandProfile([0x1p-63]), fitBits: 24))
    #expect(!OperandProfile([0x1p64]).productsWith(OperandProfile([0x1p64]), fitBits: 24))
    #expect(!OperandProfile([1 + 0x1p-10]).productsWith(OperandProfile([1.5]), fitBits: 8))
  }

  /// The FP32 shadow's two paths (debug: scalar loop; release: the f32 kernel) round the product
  /// and then the sum, identically, on any data.
  @Test func shadowPathsAgreeOnAnyData() {
    var rng = SplitMix64(seed: 3)
    let (m, n, k) = (6, 13, 40)
    for inputs in [Inputs.bf16Edges, .f32, .e5m2] {
      let (fa, fb) = inputs.formats
      let a = (0..<(m * k)).map { _ in Self.edgeValue(fa, Self.exponents(inputs, &rng), &rng) }
      let b = (0..<(k * n)).map { _ in Self.edgeValue(fb, Self.exponents(inputs, &rng), &rng) }
      let c0 = (0..<(m * n)).map { _ in Self.accumulatorValue(.f32, &rng) }
      var scalar = c0
      MMANumerics.shadowF32(a, b, &scalar, m, n, k)
      for kernels in KernelSet.available {
        var kernel = c0
        MMAKernels.multiply(F32Accumulation.self, a: a, b: b, c: &kernel, m: m, n: n, k: k, kernels: kernels)
        #expect(zip(kernel, scalar).allSatisfy { sameBits($0, $1) }, "\(inputs), \(kernels)")
      }
    }
  }

  @Test func halfRoundingMatchesFloat16OnEveryKindOfValue() {
    var rng = SplitMix64(seed: 1)
    var inputs: [Float] = [
      0, -0, 65504, 65519.99, 65520, -65520, 1e-8, -3e-8, 5.9604645e-8, 2.9802322e-8, .infinity, -.infinity,
      .nan, 1.0009765, 6.1035156e-5,
    ]
    for _ in 0..<100_000 { inputs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
    var i = 0
    while i + 8 <= inputs.count {
      let v = SIMD8<Float>(inputs[i..<(i + 8)])
      let r = HalfRounding.round(v)
      for lane in 0..<8 {
        let want = Float(Float16(v[lane]))
        let ok = r[lane].bitPattern == want.bitPattern || (r[lane].isNaN && want.isNaN)
        if !ok {
          Issue.record("f16 rounding of \(v[lane]): got \(r[lane]), want \(want)")
          return
        }
      }
      i += 8
    }
  }

  /// The AVX2 kernels are found where the CPU has AVX2 (the kernel tests would otherwise pass
  /// on the portable set alone, and runs would silently be slower): `fp8k_level` against the
  /// flags Linux reports. Elsewhere (no /proc/cpuinfo) only the portable set is required.
  @Test func vectorKernelsAreUsedWhereTheCPUHasThem() throws {
    #expect(KernelSet.portable.isAvailable)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return }
    let hasAVX2 = flags.split(separator: " ").contains("avx2")
    #expect(KernelSet.avx2.isAvailable == hasAVX2)
    if hasAVX2 && ProcessInfo.processInfo.environment["FP8SIM_KERNELS"] == nil {
      #expect(KernelSet.best == .avx2)
    }
  }

  @Test func parallelSplitIsDeterministic() {
    var rng = SplitMix64(seed: 9)
    let (m, n, k) = (96, 80, 96)  // above the parallel threshold
    let a = Self.fp8Values(m * k, format: .e4m3fn, rng: &rng)
    let b = Self.fp8Values(k * n, format: .e4m3fn, rng: &rng)
    for kernels in KernelSet.available {
      var first = [Float](repeating: 0, count: m * n)
      var second = first
      var oneThread = first
      MMANumerics.fast(
        a: a, b: b, c: &first, m: m, n: n, k: k, accumulator: .f16, inputs: .fp8, kernels: kernels)
      MMANumerics.fast(
        a: a, b: b, c: &second, m: m, n: n, k: k, accumulator: .f16, inputs: .fp8, kernels: kernels)
      MMANumerics.fast(
        a: a, b: b, c: &oneThread, m: m, n: n, k: k, accumulator: .f16, inputs: .fp8, parallel: false,
        kernels: kernels)
      #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
      #expect(first.map(\.bitPattern) == oneThread.map(\.bitPattern))
    }
  }
}

/// Equal bit patterns, or both NaN (NaN payloads and signs are not part of the semantics).
func sameBits(_ x: Float, _ y: Float) -> Bool { x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }

/// `mma` for one element, written from `isa/ISA.md` alone with exact arithmetic (independent of
/// `MMANumerics`): exact products; f32/f16/bf16 round each exact `acc + a·b` once (rounding done
/// by `FloatFormat.round`, which the format tests check against ml_dtypes); fp22 and f32rz with
/// integer arithmetic on aligned terms (13 fraction bits and a 14-bit result; 25 and f32 toward
/// zero). `formats`: A's and B's (their smallest normal exponents are the input floors; f32's
/// −126 when nil).
enum MMAOracle {
  static func element(
    _ accumulator: Accumulator, c: Float, a: [Float], b: [Float], formats: (FloatFormat, FloatFormat)? = nil
  ) -> Float {
    let products = zip(a, b).map { Double($0) * Double($1) }  // exact: at most 48 bits
    switch accumulator {
    case .f32: return products.reduce(c) { Float(add(Double($0), $1, .f32)) }
    case .f16: return products.reduce(c) { Float(add(Double($0), $1, .f16)) }
    case .bf16: return products.reduce(c) { Float(add(Double($0), $1, .bf16)) }
    case .fp22, .f32rz:
      // An input x ≠ 0 is s·2^e with s in [1, 2) (frexp gives [0.5, 1)), e at least its format's
      // smallest normal exponent; a product aligns at ea + eb.
      let (fraction, mantissa) = accumulator == .fp22 ? (13, 13) : (25, 23)
      // A zero input at −126, as MMA-Sim reads it: a zero product still counts for E.
      let floors = formats.map { (1 - $0.0.bias, 1 - $0.1.bias) } ?? (-126, -126)
      func e(_ x: Float, _ floor: Int) -> Int { x == 0 ? -126 : max(frexp(Double(x)).1 - 1, floor) }
      let exponents = zip(a, b).map { e($0, floors.0) + e($1, floors.1) }
      var acc = Double(c)
      var k0 = 0
      while k0 < products.count {
        let group = k0..<min(k0 + 32, products.count)
        acc = aligned(
          [(acc, acc == 0 ? -126 : frexp(acc).1 - 1)] + group.map { (products[$0], exponents[$0]) },
          fraction: fraction, mantissa: mantissa, zerosAlign: true)
        k0 += 32
      }
      return Float(acc)
    }
  }

  /// `acc + p` rounded once to `format` (nearest even, overflow to ±inf).
  static func add(_ acc: Double, _ p: Double, _ format: FloatFormat) -> Double {
    if !acc.isFinite || !p.isFinite { return acc + p }
    // TwoSum: acc + p = hi + lo exactly; then round to odd, which a later rounding to at most
    // 51 bits cannot tell from the exact sum.
    let hi = acc + p
    let bb = hi - acc
    let lo = (acc - (hi - bb)) + (p - bb)
    var odd = hi
    if lo != 0 && hi.bitPattern & 1 == 0 { odd = lo > 0 ? hi.nextUp : hi.nextDown }
    return format.round(odd)
  }

  /// One aligned group (`terms[0]` the accumulator, each term with its alignment exponent):
  /// E = max(−126, the alignment exponents of the nonzero terms, or of all with `zerosAlign`);
  /// truncate to multiples of 2^(E − fraction), add as integers, truncate to `mantissa + 1`
  /// bits (or to a multiple of 2^(−126 − mantissa)), overflow at 2^128 to ±inf, zero as +0.
  static func aligned(
    _ terms: [(value: Double, exponent: Int)], fraction: Int, mantissa: Int, zerosAlign: Bool = false
  ) -> Double {
    if terms.contains(where: { !$0.value.isFinite }) { return terms.map(\.value).reduce(0, +) }
    let nonzero = terms.filter { $0.value != 0 }
    guard !nonzero.isEmpty else { return 0 }
    let e = (zerosAlign ? terms : nonzero).map { max($0.exponent, -126) }.max()!
    let q = e - fraction
    var units: Int64 = 0
    for t in nonzero.map(\.value) {
      units += Int64((t * Double(sign: .plus, exponent: -q, significand: 1)).rounded(.towardZero))
    }
    if units == 0 { return 0 }
    let width = 64 - units.magnitude.leadingZeroBitCount  // the sum is in [2^(q+width−1), 2^(q+width))
    let keep = max(q + width - 1, -126) - mantissa
    var magnitude = units.magnitude
    if keep > q { magnitude = (magnitude >> UInt64(keep - q)) << UInt64(keep - q) }
    let result = Double(magnitude) * Double(sign: .plus, exponent: q, significand: 1)
    if result >= 0x1p128 { return units < 0 ? -.infinity : .infinity }
    return units < 0 ? -result : result
  }
}

@Suite struct WideProductTests {
  /// f16 × f16 products have 22 bits: an f16 accumulator must still round each addition once.
  @Test func halfInputsIntoAnF16AccumulatorRoundCorrectly() {
    var rng = SplitMix64(seed: 77)
    let (m, n, k) = (3, 4, 200)
    func value() -> Float { Float(FloatFormat.f16.round((rng.nextUnit() - 0.5) * 64)) }
    let a = (0..<(m * k)).map { _ in value() }
    let b = (0..<(k * n)).map { _ in value() }
    var c = [Float](repeating: 0, count: m * n)
    MMANumerics.multiply(a: a, b: b, c: &c, m: m, n: n, k: k, accumulator: .f16, inputs: .half)
    for i in 0..<m {
      for j in 0..<n {
        var acc: Float = 0
        for kk in 0..<k {
          // acc + a·b is exact in Double here (at most 22 + 11 bits within a narrow range).
          acc = Float(Float16(Double(acc) + Double(a[i * k + kk]) * Double(b[kk * n + j])))
        }
        #expect(c[i * n + j] == acc)
      }
    }
  }
}

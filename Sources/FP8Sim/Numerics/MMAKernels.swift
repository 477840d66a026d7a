import Dispatch
import FP8KernelsC

/// Which code runs the fast `mma` kernels. Both give the same bits (`KernelTests` run each on the
/// same data); they differ only in speed.
public enum KernelSet: String, Sendable, CaseIterable {
  /// Swift SIMD code compiled for the package's baseline CPU (on x86-64: SSE2).
  case portable
  /// C kernels with 256-bit AVX2 instructions (Sources/FP8KernelsC), on x86-64 hosts whose CPU
  /// and OS support them, checked at run time.
  case avx2

  /// Whether this host can run `self`.
  public var isAvailable: Bool { self == .portable || Self.hostLevel >= 1 }

  /// The sets this host can run.
  public static var available: [KernelSet] { allCases.filter(\.isAvailable) }

  /// The set runs use: the fastest available, or the portable one where the environment
  /// variable `FP8SIM_KERNELS` is `portable` (to compare speed, or to rule the vector code out).
  public static let best: KernelSet = {
    if let value = getenv("FP8SIM_KERNELS"), String(cString: value) == "portable" { return .portable }
    return avx2.isAvailable ? .avx2 : .portable
  }()

  private static let hostLevel = Int(fp8k_level())
}

/// A C kernel computing rows `row0 ..< row1` of C (FP8KernelsC.h).
typealias VectorKernel =
  @convention(c) (
    UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int, Int, Int, Int
  ) -> Void

/// Fast `mma` kernels: B packed into panels of 8 columns, 4×8 register tiles of `SIMD8<Float>`
/// accumulators, K innermost, so every element still adds its products in increasing k; rows
/// are split across cores. Each accumulator mode is a type whose rounding is inlined into the
/// kernel. The scalar implementations in `MMANumerics` are the specification; tests compare the
/// two bit for bit.
enum MMAKernels {
  /// Below this many MACs an mma runs on one thread (dispatch costs more than it saves).
  static let parallelThreshold = 1 << 16

  static func multiply<R: AccumulatorRounding>(
    _ rounding: R.Type, a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int,
    parallel: Bool = true, kernels: KernelSet = .best
  ) {
    guard m > 0, n > 0 else { return }
    let vector = kernels == .avx2 ? R.vectorKernel : nil
    let panels = (n + 7) / 8
    let packed = pack(b, n: n, k: k)
    let rowBlocks = (m + 3) / 4
    let chunks = parallel ? chunkCount(work: m * n * k, units: rowBlocks) : 1
    a.withUnsafeBufferPointer { pa in
      packed.withUnsafeBufferPointer { pp in
        c.withUnsafeMutableBufferPointer { pc in
          // The caller returned early for an empty C; A and B are empty only when k is 0.
          guard let a = pa.baseAddress, let b = pp.baseAddress, let c = pc.baseAddress else { return }
          let ptr = KernelPointers(a: a, b: b, c: c)
          let body: @Sendable (Int) -> Void = { chunk in
            let (aBase, pBase, cBase) = (ptr.a, ptr.b, ptr.c)
            let first = chunk * rowBlocks / chunks * 4
            let last = min(m, (chunk + 1) * rowBlocks / chunks * 4)
            if let vector {
              vector(aBase, pBase, cBase, first, last, n, k)
              return
            }
            var i = first
            while i < last {
              let rows = min(4, last - i)
              for p in 0..<panels {
                block(R.self, aBase, pBase, cBase, row: i, rows: rows, panel: p, n: n, k: k)
              }
              i += 4
            }
          }
          split(chunks, body)
        }
      }
    }
  }

  /// How many pieces to split `units` rows (or row blocks) of `work` MACs into.
  static func chunkCount(work: Int, units: Int) -> Int {
    work >= parallelThreshold ? min(units, 4 * ProcessInfoCores.count) : 1
  }

  /// Runs `body` on each of `chunks` disjoint pieces, across cores when there is more than one.
  static func split(_ chunks: Int, _ body: @Sendable (Int) -> Void) {
    if chunks == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: body) }
  }

  /// B packed into panels of 8 columns: panel p holds B[kk, 8p ..< 8p+8] for every kk, zero
  /// padded, so a kernel loads one `SIMD8` per k.
  static func pack(_ b: [Float], n: Int, k: Int) -> [Float] {
    let panels = (n + 7) / 8
    var packed = [Float](repeating: 0, count: panels * k * 8)
    packed.withUnsafeMutableBufferPointer { pb in
      b.withUnsafeBufferPointer { sb in
        for p in 0..<panels {
          let width = min(8, n - 8 * p)
          for kk in 0..<k {
            let dst = (p * k + kk) * 8
            let src = kk * n + 8 * p
            for j in 0..<width { pb[dst + j] = sb[src + j] }
          }
        }
      }
    }
    return packed
  }

  /// One register tile: up to 4 rows × 8 columns of C, all of K.
  @inline(__always)
  static func block<R: AccumulatorRounding>(
    _: R.Type, _ a: UnsafePointer<Float>, _ packed: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    row i: Int, rows: Int, panel p: Int, n: Int, k: Int
  ) {
    let j0 = 8 * p
    let width = min(8, n - j0)
    @inline(__always) func load(_ r: Int) -> SIMD8<Float> {
      var v = SIMD8<Float>()
      if r < rows { for j in 0..<width { v[j] = c[(i + r) * n + j0 + j] } }
      return v
    }
    var c0 = load(0)
    var c1 = load(1)
    var c2 = load(2)
    var c3 = load(3)
    let bPanel = packed + p * k * 8
    let a0 = a + i * k
    let a1 = a + min(i + 1, i + rows - 1) * k
    let a2 = a + min(i + 2, i + rows - 1) * k
    let a3 = a + min(i + 3, i + rows - 1) * k
    for kk in 0..<k {
      let bv = UnsafeRawPointer(bPanel + kk * 8).loadUnaligned(as: SIMD8<Float>.self)
      R.accumulate(&c0, a0[kk], bv)
      R.accumulate(&c1, a1[kk], bv)
      R.accumulate(&c2, a2[kk], bv)
      R.accumulate(&c3, a3[kk], bv)
    }
    @inline(__always) func store(_ r: Int, _ v: SIMD8<Float>) {
      if r < rows { for j in 0..<width { c[(i + r) * n + j0 + j] = v[j] } }
    }
    store(0, c0)
    store(1, c1)
    store(2, c2)
    store(3, c3)
  }
}

/// What the fast kernels need to know about one operand: the range of its finite nonzero
/// magnitudes and the widest significand among them (ignoring zeros, infinities and NaNs, whose
/// products are the same in `Float` and exactly).
struct OperandProfile {
  /// Bit patterns of the smallest and largest finite nonzero magnitudes (0 when there is none).
  var smallest: UInt32 = .max
  var largest: UInt32 = 0
  /// The most significant bits of any value (from its leading to its trailing one bit).
  var bits = 0

  init(_ values: [Float]) {
    var widest = 0
    for x in values {
      let magnitude = x.bitPattern & 0x7FFF_FFFF
      if magnitude == 0 || magnitude >= 0x7F80_0000 { continue }
      smallest = min(smallest, magnitude)
      largest = max(largest, magnitude)
      // The significand with its hidden bit (subnormals have none); its width is the distance
      // between its leading and trailing one bits.
      let significand = magnitude < 0x0080_0000 ? magnitude : (magnitude & 0x007F_FFFF) | 0x0080_0000
      widest = max(widest, 32 - significand.leadingZeroBitCount - significand.trailingZeroBitCount)
    }
    bits = widest
  }

  /// Whether every product of a value of `self` and a value of `other` has at most `fitBits`
  /// significant bits and is a normal `Float` (magnitude in [2^-126, 2^128)), so that the
  /// `Float` product is exact and sees its true exponent.
  func productsWith(_ other: OperandProfile, fitBits: Int) -> Bool {
    if largest == 0 || other.largest == 0 { return true }  // only zeros and non-finite values
    guard bits + other.bits <= fitBits else { return false }
    let high = Double(Float(bitPattern: largest)) * Double(Float(bitPattern: other.largest))
    let low = Double(Float(bitPattern: smallest)) * Double(Float(bitPattern: other.smallest))
    return high < 0x1p128 && low >= 0x1p-126
  }
}

/// How an accumulator adds one product vector.
protocol AccumulatorRounding: SendableMetatype {
  static func accumulate(_ acc: inout SIMD8<Float>, _ a: Float, _ b: SIMD8<Float>)
  /// The same kernel in C for AVX2 (`KernelSet.avx2`).
  static var vectorKernel: VectorKernel { get }
}

/// f32: `acc + a·b`; with an exact product (`OperandProfile`) this is the fused multiply-add.
/// The FP32 shadow also uses it on any data, as its definition (product rounded, then sum).
enum F32Accumulation: AccumulatorRounding {
  static var vectorKernel: VectorKernel { fp8k_f32 }
  @inline(__always)
  static func accumulate(_ acc: inout SIMD8<Float>, _ a: Float, _ b: SIMD8<Float>) {
    acc += a * b
  }
}

/// f16: `RN_f16(acc + a·b)`; correct for an f16 `acc` and exact products of at most 8
/// significant bits (FP8 inputs), where rounding the `Float` sum again cannot double-round.
enum F16Accumulation: AccumulatorRounding {
  static var vectorKernel: VectorKernel { fp8k_f16 }
  @inline(__always)
  static func accumulate(_ acc: inout SIMD8<Float>, _ a: Float, _ b: SIMD8<Float>) {
    acc = HalfRounding.round(acc + a * b)
  }
}

/// f16 when every product is a multiple of 2^-24 and nothing is NaN (FP8 operands of the E4M3
/// family: `MMANumerics.splitApplies`): Veltkamp's split `t = s·8193; t − (t − s)` rounds the
/// `Float` sum s to 11 significant bits, ties to even (checked on every f32 from 2^-14 to 2^20),
/// which is `RN_f16` from f16's smallest normal up; below it s is a multiple of 2^-24, already
/// an f16, and the split returns it unchanged. Sums of 65,520 or more round to 65,536 or past it
/// and become ±inf with the sum's sign, as does an infinite accumulator (whose split is NaN).
/// Twelve vector operations per product instead of `HalfRounding`'s thirty.
enum F16SplitAccumulation: AccumulatorRounding {
  static var vectorKernel: VectorKernel { fp8k_f16split }
  @inline(__always)
  static func accumulate(_ acc: inout SIMD8<Float>, _ a: Float, _ b: SIMD8<Float>) {
    let s = acc + a * b
    let t = s * 8193
    let h = (t - (t - s)).bits
    let overflow = Lanes.greater(h & 0x7FFF_FFFF, SIMD8(repeating: 0x477F_FFFF))
    // s · inf is ±inf with s's sign (s is not 0 where it overflows, nor NaN).
    acc = SIMD8<Float>(bits: Lanes.select(overflow, (s * .infinity).bits, h))
  }
}

/// bf16: `RN_bf16(acc + a·b)`, under the same conditions as f16.
enum BF16Accumulation: AccumulatorRounding {
  static var vectorKernel: VectorKernel { fp8k_bf16 }
  @inline(__always)
  static func accumulate(_ acc: inout SIMD8<Float>, _ a: Float, _ b: SIMD8<Float>) {
    let s = acc + a * b
    let bits = s.bits
    let rounded = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) & 0xFFFF_0000
    // NaN stays NaN (the carry could turn a NaN with a low payload into inf).
    let nan = Lanes.greater(bits & 0x7FFF_FFFF, SIMD8(repeating: 0x7F80_0000))
    acc = SIMD8<Float>(bits: Lanes.select(nan, bits, rounded))
  }
}

/// Rounding `Float` lanes to the nearest f16 value (ties to even), overflowing to ±inf, with
/// f16 subnormals: `(x + c) − c` with `c = 1.5 · 2^(q+23)` rounds x to a multiple of `2^q`.
enum HalfRounding {
  @inline(__always)
  static func round(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let bits = x.bits
    let magnitude = bits & 0x7FFF_FFFF
    // Biased exponent, clamped to [113, 143]: below 2^-14 (f16 subnormals) the quantum stays
    // 2^-24; from 2^16 up everything overflows, and a larger exponent would overflow c itself.
    let field = Lanes.min(Lanes.max(magnitude &>> 23, SIMD8(repeating: 113)), SIMD8(repeating: 143))
    // c = 1.5 · 2^(e − 10 + 23): exponent field (field + 13), mantissa 0x400000.
    let cv = SIMD8<Float>(bits: (field &+ 13) &<< 23 | 0x0040_0000)
    let rounded = ((x + cv) - cv).bits & 0x7FFF_FFFF
    // 65536 or more is past the largest f16 (65504): infinity. inf and NaN pass through.
    var out = Lanes.select(
      Lanes.greater(rounded, SIMD8(repeating: 0x477F_FFFF)), SIMD8(repeating: 0x7F80_0000), rounded)
    out = Lanes.select(Lanes.greater(magnitude, SIMD8(repeating: 0x7F7F_FFFF)), magnitude, out)
    // Rounding never changes the sign ((x + c) − c loses it when x rounds to zero).
    return SIMD8<Float>(bits: out | bits & 0x8000_0000)
  }
}

/// Lane masks from integer arithmetic. (SIMD comparisons and `replace(with:where:)` compile to
/// per-lane loops here, twenty times slower than these shifts.)
enum Lanes {
  /// All ones in the lanes where `a > b`, for values below 2^31.
  @inline(__always)
  static func greater(_ a: SIMD8<UInt32>, _ b: SIMD8<UInt32>) -> SIMD8<UInt32> {
    let difference = unsafeBitCast(b, to: SIMD8<Int32>.self) &- unsafeBitCast(a, to: SIMD8<Int32>.self)
    return unsafeBitCast(difference &>> 31, to: SIMD8<UInt32>.self)
  }

  /// `a` where `mask` is all ones, `b` where it is zero.
  @inline(__always)
  static func select(_ mask: SIMD8<UInt32>, _ a: SIMD8<UInt32>, _ b: SIMD8<UInt32>) -> SIMD8<UInt32> {
    (a & mask) | (b & ~mask)
  }

  @inline(__always)
  static func max(_ a: SIMD8<UInt32>, _ b: SIMD8<UInt32>) -> SIMD8<UInt32> { select(greater(b, a), b, a) }

  @inline(__always)
  static func min(_ a: SIMD8<UInt32>, _ b: SIMD8<UInt32>) -> SIMD8<UInt32> { select(greater(a, b), b, a) }
}

/// FP22 (`MMANumerics.fp22Group` is the definition): for every group of 32 products along K,
/// E is the largest alignment exponent of the accumulator and the group's products, at least
/// −126. A product's is the exponent of the product of its inputs' alignments
/// (`MMANumerics.fp22Alignment`, powers of two kept beside A and B), the accumulator's its own
/// exponent field read as at least 1. Each term is truncated to a multiple of 2^(E−13) by
/// masking its low mantissa bits, the terms are added exactly in f32 (at most 33 multiples of
/// 2^(E−13) below 2^(E+2): 21 bits), and the sum is truncated to 14 significant bits (its low 10
/// mantissa bits cleared, which for an f32 subnormal leaves a multiple of 2^-139). The products
/// must be exact normal `Float`s (`OperandProfile`). Lanes with an inf or NaN input or
/// accumulator (a product of alignments that is not finite), and lanes whose `Float` sum
/// overflowed (an exact sum may still be finite), use the scalar definition.
enum FP22Kernel {
  static func multiply(
    a: [Float], b: [Float], c: inout [Float], m: Int, n: Int, k: Int, floors: (Int, Int),
    parallel: Bool = true, kernels: KernelSet = .best
  ) {
    guard m > 0, n > 0 else { return }
    let packed = MMAKernels.pack(b, n: n, k: k)
    let aAlign = a.map { MMANumerics.fp22Alignment($0, floor: floors.0) }
    let packedAlign = MMAKernels.pack(b.map { MMANumerics.fp22Alignment($0, floor: floors.1) }, n: n, k: k)
    let chunks = parallel ? MMAKernels.chunkCount(work: m * n * k, units: m) : 1
    a.withUnsafeBufferPointer { pa in
      packed.withUnsafeBufferPointer { pb in
        aAlign.withUnsafeBufferPointer { paa in
          packedAlign.withUnsafeBufferPointer { pba in
            c.withUnsafeMutableBufferPointer { pc in
              guard let a = pa.baseAddress, let b = pb.baseAddress, let c = pc.baseAddress,
                let aa = paa.baseAddress, let ba = pba.baseAddress
              else { return }
              multiply(
                KernelPointers(a: a, b: b, c: c), align: KernelPointers(a: aa, b: ba, c: c), m: m, n: n, k: k,
                chunks: chunks, kernels: kernels)
            }
          }
        }
      }
    }
  }

  /// The kernel on pointers: `ptr` A, packed B and C; `align` the alignments of A and of packed B.
  private static func multiply(
    _ ptr: KernelPointers, align: KernelPointers, m: Int, n: Int, k: Int, chunks: Int, kernels: KernelSet
  ) {
    let group = MMANumerics.fp22Group
    let panels = (n + 7) / 8
    let body: @Sendable (Int) -> Void = { chunk in
      let (aBase, bBase, cBase) = (ptr.a, ptr.b, ptr.c)
      let (aAlign, bAlign) = (align.a, align.b)
      let rows = (chunk * m / chunks)..<((chunk + 1) * m / chunks)
      let terms = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: 2 * group)
      defer { terms.deallocate() }
      let aligns = terms + group
      /// Row i, panel p, all of K.
      func rowPanel(_ i: Int, _ p: Int) {
        let aRow = aBase + i * k
        let alignRow = aAlign + i * k
        let j0 = 8 * p
        let width = min(8, n - j0)
        let panel = bBase + p * k * 8
        let alignPanel = bAlign + p * k * 8
        var acc = SIMD8<Float>()
        for j in 0..<width { acc[j] = cBase[i * n + j0 + j] }
        var k0 = 0
        while k0 < k {
          let count = min(group, k - k0)
          for t in 0..<count {
            let bv = UnsafeRawPointer(panel + (k0 + t) * 8).loadUnaligned(as: SIMD8<Float>.self)
            let bav = UnsafeRawPointer(alignPanel + (k0 + t) * 8).loadUnaligned(as: SIMD8<Float>.self)
            terms[t] = aRow[k0 + t] * bv
            aligns[t] = alignRow[k0 + t] * bav
          }
          acc = reduce(acc, terms, aligns, count: count)
          k0 += count
        }
        for j in 0..<width { cBase[i * n + j0 + j] = acc[j] }
      }
      guard kernels == .avx2 else {
        for i in rows { for p in 0..<panels { rowPanel(i, p) } }
        return
      }
      // The C kernel leaves the (row, panel) pairs with a group it cannot decide (inf, NaN,
      // a sum past f32) untouched, for the Swift code.
      var left = [UInt8](repeating: 0, count: rows.count * panels)
      let undecided = fp8k_fp22(
        aBase, bBase, aAlign, bAlign, cBase, rows.lowerBound, rows.upperBound, n, k, &left)
      guard undecided > 0 else { return }
      for (index, flag) in left.enumerated() where flag != 0 {
        rowPanel(rows.lowerBound + index / panels, index % panels)
      }
    }
    MMAKernels.split(chunks, body)
  }

  /// One aligned group for 8 lanes; `terms[0..<count]` are the products, `aligns` the products
  /// of their inputs' alignments.
  @inline(__always)
  static func reduce(
    _ acc: SIMD8<Float>, _ terms: UnsafeMutablePointer<SIMD8<Float>>,
    _ aligns: UnsafeMutablePointer<SIMD8<Float>>,
    count: Int
  ) -> SIMD8<Float> {
    // E per lane: the largest exponent field of the accumulator and the alignments, read as at
    // least 1 (−126). (An alignment product below 2^-126 is smaller than that anyway.)
    var largest = acc.bits & 0x7FFF_FFFF
    for t in 0..<count { largest = Lanes.max(largest, aligns[t].bits & 0x7FFF_FFFF) }
    if largest.max() >= 0x7F80_0000 { return scalar(acc, terms, aligns, count: count) }
    // A lane with nothing but zeros (the padding lanes of a partial panel, whose alignments
    // are 0: a kernel's products are normal, so an alignment below `Float`'s range means a zero
    // term) sums to +0 whatever E is: give it one in range.
    let empty = Lanes.greater(SIMD8(repeating: 1), largest)
    let top = Lanes.select(empty, SIMD8(repeating: 14), Lanes.max(largest &>> 23, SIMD8(repeating: 1)))
    // c = 1.5 · 2^(E+10) must be finite, q = 2^(E−13) normal: E from −113 to 116 (outside, a
    // rare group of huge or tiny values, the scalar definition).
    if top.max() > 243 || top.min() < 14 { return scalar(acc, terms, aligns, count: count) }
    let c = SIMD8<Float>(bits: (top &+ 10) &<< 23 | 0x0040_0000)
    let q = (top &- 13) &<< 23
    // Truncation toward zero to a multiple of q without per-lane shifts (SSE2 has none): x + c
    // lies in c's binade, whose spacing is q, so (x + c) − c is x rounded to nearest; where that
    // went past x (x − r ≠ 0 with the opposite sign), step back by q toward zero.
    @inline(__always) func truncated(_ x: SIMD8<Float>) -> SIMD8<Float> {
      let r = (x + c) - c
      let d = (x - r).bits
      let nonzero = Lanes.greater(d & 0x7FFF_FFFF, SIMD8(repeating: 0))
      let opposite = unsafeBitCast(
        unsafeBitCast(d ^ x.bits, to: SIMD8<Int32>.self) &>> 31, to: SIMD8<UInt32>.self)
      return r - SIMD8<Float>(bits: (x.bits & 0x8000_0000 | q) & nonzero & opposite)
    }
    var sum = truncated(acc)
    for t in 0..<count { sum += truncated(terms[t]) }
    // A lane whose `Float` sum overflowed (the exact sum of the truncated terms may be smaller,
    // or be exactly ±inf after truncation): the scalar definition decides.
    let overflowed = Lanes.greater(sum.bits & 0x7FFF_FFFF, SIMD8(repeating: 0x7F7F_FFFF))
    if overflowed.max() != 0 { return scalar(acc, terms, aligns, count: count) }
    // 14 significant bits: clear the low 10 mantissa bits (the sum above is exact: at most 33
    // multiples of 2^(E−13) below 2^(E+2), 21 bits); a zero sum is +0.
    let bits = sum.bits & 0xFFFF_FC00
    let zero = Lanes.greater(SIMD8(repeating: 1), bits & 0x7FFF_FFFF)
    return SIMD8<Float>(bits: bits & ~zero)
  }

  /// The group by the scalar definition, every lane (a rare path). An alignment product below
  /// `Float`'s range (0) is below −126 and so does not matter.
  static func scalar(
    _ acc: SIMD8<Float>, _ terms: UnsafeMutablePointer<SIMD8<Float>>,
    _ aligns: UnsafeMutablePointer<SIMD8<Float>>,
    count: Int
  ) -> SIMD8<Float> {
    var out = SIMD8<Float>()
    // A zero (an accumulator, or an alignment below `Float`'s range) at −126, which E never
    // goes below; a non-finite one is decided apart.
    func exponent(_ x: Float) -> Int {
      x == 0 ? MMANumerics.fp22MinExponent : x.isFinite ? Int(x.exponent) : 0
    }
    for lane in 0..<8 {
      var values = [Double(acc[lane])]
      var exponents = [exponent(acc[lane])]
      for t in 0..<count {
        values.append(Double(terms[t][lane]))
        exponents.append(exponent(aligns[t][lane]))
      }
      out[lane] = Float(MMANumerics.fp22Group(values[...], exponents: exponents[...]))
    }
    return out
  }
}

/// The number of cores to split work across.
enum ProcessInfoCores {
  static let count = max(1, sysconfCores())
}

#if canImport(Glibc)
  import Glibc
  private func sysconfCores() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
#elseif canImport(Darwin)
  import Darwin
  private func sysconfCores() -> Int { Int(sysconf(_SC_NPROCESSORS_ONLN)) }
#else
  private func sysconfCores() -> Int { 1 }
#endif

extension SIMD8 where Scalar == Float {
  /// |x| per lane.
  @inline(__always) var absolute: SIMD8<Float> { SIMD8<Float>(bits: bits & 0x7FFF_FFFF) }
  /// The lanes' IEEE bit patterns.
  @inline(__always) var bits: SIMD8<UInt32> { unsafeBitCast(self, to: SIMD8<UInt32>.self) }
  @inline(__always) init(bits: SIMD8<UInt32>) { self = unsafeBitCast(bits, to: SIMD8<Float>.self) }
}

/// Raw pointers handed to `concurrentPerform` workers, which write disjoint rows of C.
struct KernelPointers: @unchecked Sendable {
  var a: UnsafePointer<Float>
  var b: UnsafePointer<Float>
  var c: UnsafeMutablePointer<Float>
}

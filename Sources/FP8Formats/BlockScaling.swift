/// Block scaling: one scale per block of a 2-D tensor instead of one bias per tensor.
///
/// The successors of the paper's per-tensor scaling bias compute scales locally, so no cast
/// waits for the whole tensor's amax:
///
/// - **OCP Microscaling (MX v1.0)**: one E8M0 power of two per 32 consecutive elements, the
///   elements FP8 (E4M3, E5M2), FP6 (E2M3, E3M2) or FP4 (E2M1) — rule `.mx`.
/// - **NVFP4** (NVIDIA Blackwell; Transformer Engine's `NVFP4BlockScaling`): E2M1 elements, one
///   E4M3 scale per 16 elements, and one FP32 scale for the whole tensor — rule `.nvfp4`.
/// - **Fine-grained FP8** (DeepSeek-V3 §3.3): E4M3 elements with an FP32 scale per 1×128 tile
///   of activations or per 128×128 block of weights — rule `.amax`.
///
/// A block is `blockRows × blockCols` elements of a row-major `[rows, cols]` tensor; blocks at
/// the right and bottom edges may be partial, and their scale comes from the elements they
/// hold. `1 × 32` blocks run along a row (the K axis of an `mma`'s A); `32 × 1` blocks run down
/// a column (the K axis of B): `transposed` turns one into the other.
public struct BlockScaling: Sendable, Hashable, CustomStringConvertible {
  /// How a block's scale is chosen.
  public enum Rule: String, Sendable, Hashable, CaseIterable {
    /// OCP MX v1.0 (§6.3): `X = 2^(floor(log2(amax)) − emax_elem)`, an E8M0 code, clamped to
    /// 2^-127 … 2^127; elements `RN(V / X)`, saturating. The floor can leave the block's amax
    /// above the element's max: it saturates, as the specification says.
    case mx
    /// NVFP4: a per-tensor `s_global = amax_tensor / (448 · 6)` rounded to f32; per block
    /// `s_block = RN_e4m3((amax_block / 6) / s_global)`; elements `RN_e2m1(V / (s_block ·
    /// s_global))`, saturating.
    case nvfp4
    /// Fine-grained: `s = RN_scale(amax_block / max_elem)` in the scale format (FP32 in
    /// DeepSeek-V3); elements `RN(V / s)`, saturating.
    case amax
  }

  /// A short name: `mxfp8_e4m3`, `mxfp4`, `nvfp4`, or `e4m3fn_f32_1x128` for the general form.
  public let name: String
  public let element: FloatFormat
  public let scale: FloatFormat
  public let blockRows: Int
  public let blockCols: Int
  public let rule: Rule

  public var description: String { name }

  /// Elements per (whole) block.
  public var blockSize: Int { blockRows * blockCols }

  init(name: String, element: FloatFormat, scale: FloatFormat, blockRows: Int, blockCols: Int, rule: Rule) {
    self.name = name
    self.element = element
    self.scale = scale
    self.blockRows = blockRows
    self.blockCols = blockCols
    self.rule = rule
  }

  // MARK: - The named schemes

  public static let mxfp8E4M3 = mx("mxfp8_e4m3", .e4m3fn)
  public static let mxfp8E5M2 = mx("mxfp8_e5m2", .e5m2)
  public static let mxfp6E2M3 = mx("mxfp6_e2m3", .e2m3fn)
  public static let mxfp6E3M2 = mx("mxfp6_e3m2", .e3m2fn)
  public static let mxfp4 = mx("mxfp4", .e2m1fn)
  public static let nvfp4 = BlockScaling(
    name: "nvfp4", element: .e2m1fn, scale: .e4m3fn, blockRows: 1, blockCols: 16, rule: .nvfp4)

  /// Every named scheme.
  public static let named: [BlockScaling] = [mxfp8E4M3, mxfp8E5M2, mxfp6E2M3, mxfp6E3M2, mxfp4, nvfp4]

  /// The MX block size (OCP MX v1.0 §5: k = 32).
  public static let mxBlock = 32

  /// NVFP4's tensor scale is the tensor's amax over this, E4M3's largest value times E2M1's
  /// (448 · 6): the amax whose tensor scale is 1.
  public static let nvfp4UnitScaleAmax = 448.0 * 6

  private static func mx(_ name: String, _ element: FloatFormat) -> BlockScaling {
    BlockScaling(name: name, element: element, scale: .e8m0fnu, blockRows: 1, blockCols: mxBlock, rule: .mx)
  }

  /// The general form: `element` values with one `scale` value (a float format with a sign and a
  /// zero, e.g. `f32`) per `rows × cols` block, chosen from the block's amax (`.amax`).
  /// DeepSeek-V3's activations are `general(.e4m3fn, .f32, rows: 1, cols: 128)`, its weights
  /// `rows: 128, cols: 128`. `nil` for a block of no element or more than 2^20, an unsigned
  /// or sub-byte scale format, or an element format without a sign and a zero (`e8m0fnu`).
  public static func general(element: FloatFormat, scale: FloatFormat, rows: Int, cols: Int) -> BlockScaling?
  {
    guard rows >= 1, cols >= 1, rows <= 1 << 20, cols <= 1 << 20, rows * cols <= 1 << 20,
      scale.isByteElement, scale.hasZero, element.isSigned, element.hasZero
    else { return nil }
    return BlockScaling(
      name: "\(element.name)_\(scale.name)_\(rows)x\(cols)", element: element, scale: scale, blockRows: rows,
      blockCols: cols, rule: .amax)
  }

  /// A scheme by name: one of `named` (`mxfp4`, `nvfp4`, ...), with `_t` for its `32 × 1`
  /// blocks, or the general form `ELEMENT_SCALE_RxC` with canonical format names, e.g.
  /// `e4m3fn_f32_1x128`.
  public static func named(_ name: String) -> BlockScaling? {
    if let s = named.first(where: { $0.name == name }) { return s }
    if name.hasSuffix("_t"), let s = named.first(where: { $0.name == name.dropLast(2) }) {
      return s.transposed
    }
    let parts = name.split(separator: "_", omittingEmptySubsequences: false)
    guard parts.count == 3, let element = FloatFormat.all.first(where: { $0.name == parts[0] }),
      let scale = FloatFormat.all.first(where: { $0.name == parts[1] })
    else { return nil }
    let size = parts[2].split(separator: "x", omittingEmptySubsequences: false)
    // At most 7 digits each: no overflow, and `general` checks the range.
    guard size.count == 2,
      size.allSatisfy({ (1...7).contains($0.count) && $0.allSatisfy { ("0"..."9").contains($0) } }),
      let rows = Int(size[0]), let cols = Int(size[1])
    else { return nil }
    return general(element: element, scale: scale, rows: rows, cols: cols)
  }

  /// The same scheme with blocks running the other way (`1 × 32` ↔ `32 × 1`): a named scheme
  /// gains or loses the suffix `_t`, the general form swaps its sizes.
  public var transposed: BlockScaling {
    let flipped: String
    if rule == .amax {
      flipped = "\(element.name)_\(scale.name)_\(blockCols)x\(blockRows)"
    } else {
      flipped = name.hasSuffix("_t") ? String(name.dropLast(2)) : name + "_t"
    }
    return BlockScaling(
      name: flipped, element: element, scale: scale, blockRows: blockCols, blockCols: blockRows, rule: rule)
  }

  // MARK: - Storage

  /// Bytes a `[rows, cols]` tensor takes: its elements packed (an FP4 element is half a byte,
  /// FP6 three quarters; the total rounded up to a byte), one scale per block, and NVFP4's
  /// 4-byte tensor scale. `nil` when a count overflows `Int`.
  public func bytes(rows: Int, cols: Int) -> (elements: Int, scales: Int, tensorScale: Int)? {
    guard rows >= 0, cols >= 0 else { return nil }
    let (count, o1) = rows.multipliedReportingOverflow(by: cols)
    let (bits, o2) = count.multipliedReportingOverflow(by: element.totalBits)
    let grid = blockGrid(rows: rows, cols: cols)
    let (blocks, o3) = grid.rows.multipliedReportingOverflow(by: grid.cols)
    let (scaleBytes, o4) = blocks.multipliedReportingOverflow(by: scale.byteWidth)
    guard !(o1 || o2 || o3 || o4) else { return nil }
    return (bits / 8 + (bits % 8 == 0 ? 0 : 1), scaleBytes, rule == .nvfp4 ? 4 : 0)
  }

  /// Bytes of one block stored as a record: its elements packed (rounded up to a byte), then
  /// its scale. A tensor in a program is a grid of such records (its sides multiples of the
  /// block); NVFP4's tensor scale is not part of it.
  public var recordBytes: Int { (blockSize * element.totalBits + 7) / 8 + scale.byteWidth }

  /// How many blocks cover `[rows, cols]` down and across (partial blocks included).
  /// The two dimensions blocks tile in a tensor of `shape`: its last two (a rank-1 tensor is one
  /// row); any leading dimensions index whole planes of them.
  public static func plane(of shape: [Int]) -> (rows: Int, cols: Int) {
    (shape.count >= 2 ? shape[shape.count - 2] : 1, shape.last ?? 1)
  }

  public func blockGrid(rows: Int, cols: Int) -> (rows: Int, cols: Int) {
    (rows / blockRows + (rows % blockRows == 0 ? 0 : 1), cols / blockCols + (cols % blockCols == 0 ? 0 : 1))
  }

  // MARK: - Quantisation

  /// Quantises a row-major `[rows, cols]` tensor (`values.count == rows · cols`), rounding to
  /// nearest, ties to even.
  ///
  /// Non-finite values: a block holding a NaN or an infinity has no finite amax, so its scale is
  /// the scale format's NaN and every element of the block reads as NaN (OCP MX v1.0: a NaN
  /// scale makes the whole block NaN); its elements are stored as the element format's code for
  /// 0 (NaN inputs as its NaN code) and each counts as a NaN event. For `.nvfp4` a non-finite
  /// tensor amax makes every block NaN. A block of zeros gets the smallest scale (MX: 2^-127,
  /// others 0) and zero elements.
  ///
  /// The divisions of `.nvfp4` and `.amax` (the scale's and the elements') are done in
  /// `Double`, then rounded once to the scale or element format: the same as one rounding of
  /// the exact quotient for values representable in f32 (such a quotient is never within 2^-53
  /// of a tie of a narrow format without being one). `.mx` scales by a power of two, exactly,
  /// for any value.
  ///
  /// `tensorAmax` (NVFP4 only) is the amax the tensor scale comes from, when the values are a
  /// part of a larger tensor whose amax is known (nil: the values' own amax).
  public func quantize(_ values: [Double], rows: Int, cols: Int, tensorAmax: Double? = nil) -> BlockQuantized
  {
    let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
    precondition(rows >= 0 && cols >= 0 && !overflow && values.count == count, "values must be rows × cols")
    let grid = blockGrid(rows: rows, cols: cols)
    var out = BlockQuantized(
      scaling: self, rows: rows, cols: cols,
      codes: [UInt32](repeating: element.zeroCode(), count: values.count),
      scales: [UInt32](repeating: 0, count: grid.rows * grid.cols), tensorScale: nil, casts: CastCounts())
    var tensorScale: Double = 1
    if rule == .nvfp4 {
      let amax = tensorAmax.map { $0.isFinite ? $0.magnitude : nil } ?? Self.amax(values[...])
      // Kept within f32 (a Double amax past 2688 · f32max would round to inf): blocks then
      // saturate rather than turn NaN.
      tensorScale =
        amax.map {
          $0 == 0
            ? 1
            : Double(
              Float(min(max($0 / Self.nvfp4UnitScaleAmax, 0x1p-149), Double(Float.greatestFiniteMagnitude))))
        }
        ?? .nan
      out.tensorScale = Float(tensorScale)
    }
    for br in 0..<grid.rows {
      for bc in 0..<grid.cols {
        let r0 = br * blockRows
        let c0 = bc * blockCols
        let r1 = min(rows, r0 + blockRows)
        let c1 = min(cols, c0 + blockCols)
        /// Calls `body` with the index of every element of the block, row by row.
        func forEachIndex(_ body: (Int) -> Void) {
          for r in r0..<r1 { for i in (r * cols + c0)..<(r * cols + c1) { body(i) } }
        }
        // The block's amax, row by row (`nil` once a row holds a NaN or an infinity).
        var blockAmax: Double? = 0
        for r in r0..<r1 {
          guard let m = blockAmax, let rowAmax = Self.amax(values[(r * cols + c0)..<(r * cols + c1)]) else {
            blockAmax = nil
            break
          }
          blockAmax = max(m, rowAmax)
        }
        let blockIndex = br * grid.cols + bc
        // The scale: its code, and the divisor (nil: NaN block; 0: zero elements).
        var divisor: Double?
        switch rule {
        case .mx:
          if let a = blockAmax {
            let e = a == 0 ? -127 : min(max(Int(a.exponent) - Int(element.maxFinite.exponent), -127), 127)
            out.scales[blockIndex] = UInt32(e + scale.bias)
            divisor = ScalingBias.powerOfTwo(e)
          }
        case .nvfp4:
          if let a = blockAmax, tensorScale.isFinite {
            let code = scale.encode(a / 6 / tensorScale, overflow: .saturate).code
            out.scales[blockIndex] = code
            divisor = scale.decode(code) * tensorScale
          }
        case .amax:
          if let a = blockAmax {
            let code = scale.encode(a / element.maxFinite, overflow: .saturate).code
            out.scales[blockIndex] = code
            divisor = scale.decode(code)
          }
        }
        guard let d = divisor else {
          out.scales[blockIndex] = scale.nanCode()
          forEachIndex { i in
            if values[i].isNaN { out.codes[i] = element.nanCode(negative: values[i].sign == .minus) }
            out.casts.record(.nan)
          }
          continue
        }
        forEachIndex { i in
          let v = values[i]
          let e: FloatFormat.Encoded
          if d == 0 {
            e = FloatFormat.Encoded(
              code: element.zeroCode(negative: v.sign == .minus), event: v == 0 ? .exact : .underflow)
          } else if rule == .mx {
            e = element.encode(v, scale: -Int(d.exponent), overflow: .saturate)
          } else {
            e = element.encode(v / d, overflow: .saturate)
          }
          out.codes[i] = e.code
          out.casts.record(e.event)
        }
      }
    }
    return out
  }

  /// The largest magnitude, or `nil` when a value is NaN or infinite.
  static func amax<C: Collection>(_ values: C) -> Double? where C.Element == Double {
    var m = 0.0
    for v in values {
      guard v.isFinite else { return nil }
      m = max(m, v.magnitude)
    }
    return m
  }
}

/// A tensor quantised with a `BlockScaling`: element codes, one scale code per block and, for
/// NVFP4, the tensor's FP32 scale.
public struct BlockQuantized: Sendable, Hashable {
  public let scaling: BlockScaling
  public let rows: Int
  public let cols: Int
  /// Element codes, row-major.
  public var codes: [UInt32]
  /// Scale codes (in `scaling.scale`), one per block, block rows first.
  public var scales: [UInt32]
  /// NVFP4's per-tensor scale (`nil` for the other rules).
  public var tensorScale: Float?
  /// What happened to each element (a NaN block's elements count as NaN events).
  public var casts: CastCounts

  /// The value of block `(blockRow, blockCol)`'s scale, times the tensor scale unless
  /// `includingTensorScale` is false.
  public func scaleValue(blockRow: Int, blockCol: Int, includingTensorScale: Bool = true) -> Double {
    let grid = scaling.blockGrid(rows: rows, cols: cols)
    let s = scaling.scale.decode(scales[blockRow * grid.cols + blockCol])
    return includingTensorScale ? s * Double(tensorScale ?? 1) : s
  }

  /// The values the codes stand for: element value × block scale (× tensor scale), row-major.
  /// Without the tensor scale (NVFP4: `includingTensorScale: false`), each is exact in f32 (a
  /// 2-bit element significand times a 4-bit scale significand): what an NVFP4 tensor holds on a
  /// device, whose tensor scale is applied after the matmul.
  public func values(includingTensorScale: Bool = true) -> [Double] {
    var out = [Double](repeating: 0, count: codes.count)
    for r in 0..<rows {
      for c in 0..<cols {
        let s = scaleValue(
          blockRow: r / scaling.blockRows, blockCol: c / scaling.blockCols,
          includingTensorScale: includingTensorScale)
        out[r * cols + c] = scaling.element.decode(codes[r * cols + c]) * s
      }
    }
    return out
  }
}

import FP8Formats

/// The element type of a tensor as written in a program.
///
/// `fp8e4` and `fp8e5` are the device's native 8-bit formats (E4M3 for weights and activations,
/// E5M2 for gradients): `e4m3fn`/`e5m2` on `h100`, `e4m3fnuz`/`e5m2fnuz` on `ipu`. They let one
/// program run on both kinds of device. Every signed format of `FloatFormat.all` can be named
/// directly as well (the FP6 and FP4 ones packed: `record`), and so can the block-scaled types
/// (`BlockScaling`: `mxfp8_e4m3`, `mxfp4`, `nvfp4`, ..., `e4m3fn_f32_1x128`).
public enum DType: Sendable, Hashable, CustomStringConvertible {
  case fp8e4
  case fp8e5
  case format(FloatFormat)
  /// Elements of a narrow format with one scale per block of the last two dimensions. A tensor
  /// of this type holds each element's value times its block's scale.
  case blocked(BlockScaling)

  public static func named(_ name: String) -> DType? {
    switch name {
    case "fp8e4": return .fp8e4
    case "fp8e5": return .fp8e5
    default:
      if let f = FloatFormat.named(name) { return f.isSigned ? .format(f) : nil }
      return BlockScaling.named(name).map(DType.blocked)
    }
  }

  /// Every spelling accepted in programs (the block-scaled general form `ELEMENT_SCALE_RxC`
  /// besides).
  public static var spellings: [String] {
    ["fp8e4", "fp8e5"] + FloatFormat.all.filter(\.isSigned).map(\.name)
      + BlockScaling.named.map(\.name)
  }

  public var name: String {
    switch self {
    case .fp8e4: return "fp8e4"
    case .fp8e5: return "fp8e5"
    case .format(let f): return f.name
    case .blocked(let b): return b.name
    }
  }

  public var description: String { name }

  /// Bytes per element; for a block-scaled type, of its element format (an FP4 element takes
  /// half a byte packed: see `bytes(shape:)`).
  public var byteWidth: Int {
    switch self {
    case .fp8e4, .fp8e5: return 1
    case .format(let f): return f.byteWidth
    case .blocked(let b): return b.element.byteWidth
    }
  }

  /// The block scheme of a block-scaled type.
  public var blocking: BlockScaling? {
    if case .blocked(let b) = self { return b }
    return nil
  }

  /// The unit a tensor of this type is stored in, when it is not one element: a block-scaled
  /// type's block record (`rows × cols` elements packed, then the scale: `BlockScaling.recordBytes`),
  /// or the fewest elements of a sub-byte format that fill whole bytes (FP4: 2 in 1 byte; FP6: 4
  /// in 3 bytes), packed along the last dimension with no gaps.
  public var record: (rows: Int, cols: Int, bytes: Int)? {
    switch self {
    case .fp8e4, .fp8e5: return nil
    case .format(let f):
      guard f.totalBits % 8 != 0 else { return nil }
      var elements = 1
      while elements * f.totalBits % 8 != 0 { elements += 1 }
      return (1, elements, elements * f.totalBits / 8)
    case .blocked(let b): return (b.blockRows, b.blockCols, b.recordBytes)
    }
  }

  /// Bytes a tensor of this type and `shape` takes; for a type stored in records (`record`), a
  /// grid of them over its last two dimensions, which the record divides (`blockProblem`).
  /// `nil` on overflow.
  public func bytes(shape: [Int]) -> Int? {
    var count = 1
    for d in shape {
      let (p, o) = count.multipliedReportingOverflow(by: d)
      guard !o else { return nil }
      count = p
    }
    guard let r = record else {
      let (bytes, o) = count.multipliedReportingOverflow(by: byteWidth)
      return o ? nil : bytes
    }
    // A grid of records (the shape is a multiple of the record: `blockProblem`).
    let (bytes, o) = (count / (r.rows * r.cols)).multipliedReportingOverflow(by: r.bytes)
    return o ? nil : bytes
  }

  /// Why a tensor of this type cannot have `shape`, or `nil`: for a type stored in records, its
  /// last two dimensions (a rank-1 tensor is one row) must be multiples of the record's.
  public func blockProblem(shape: [Int]) -> String? {
    guard let r = record, !shape.isEmpty else { return nil }
    let (rows, cols) = BlockScaling.plane(of: shape)
    guard rows % r.rows == 0, cols % r.cols == 0 else {
      if let b = blocking {
        return
          "\(b.name) scales blocks of \(b.blockRows)×\(b.blockCols) elements: the last two dimensions must be multiples (\(rows)×\(cols) is not)"
      }
      return
        "\(name) packs \(r.cols) elements into \(r.bytes) byte\(r.bytes == 1 ? "" : "s"): the last dimension must be a multiple of \(r.cols) (\(cols) is not)"
    }
    return nil
  }

  /// True for the plain FP8 types (`fp8e4`, `fp8e5` and the four FP8 formats).
  public var isFP8: Bool {
    switch self {
    case .fp8e4, .fp8e5: return true
    case .format(let f): return f.isFP8
    case .blocked: return false
    }
  }

  /// The concrete format, given the device's native E4 and E5 formats.
  public func resolved(e4: FloatFormat, e5: FloatFormat) -> FloatFormat {
    switch self {
    case .fp8e4: return e4
    case .fp8e5: return e5
    case .format(let f): return f
    case .blocked(let b): return b.element
    }
  }

  /// Whether the two types hold the same elements: equal, or block-scaled alike (the same
  /// element and scale formats, rule and block size) with their blocks along either axis
  /// (`mxfp4` and `mxfp4_t`). Sub-FP8 `mma` inputs must.
  public func sameElements(as other: DType) -> Bool {
    if self == other { return true }
    guard let a = blocking, let b = other.blocking else { return false }
    return a.element == b.element && a.scale == b.scale && a.rule == b.rule && a.blockSize == b.blockSize
  }

  /// The tensor-unit input class: which `mma` rate applies.
  public var mmaInputClass: MMAInputClass? {
    switch self {
    case .fp8e4, .fp8e5: return .fp8
    case .format(let f):
      if f.isFP8 { return .fp8 }
      if f == .f16 || f == .bf16 { return .half }
      if f == .f32 { return .single }
      // Unscaled FP6 and FP4 take Blackwell's `kind::f8f6f4` path, at its FP6 rate.
      if f.totalBits == 6 || f.totalBits == 4 { return .fp6 }
      return nil
    case .blocked(let b):
      switch b.element.totalBits {
      case 4: return .fp4
      case 6: return .fp6
      default: return .fp8
      }
    }
  }
}

/// Input classes of the tensor unit, each with its own MAC rate in the device description.
public enum MMAInputClass: String, Sendable, CaseIterable {
  case fp8, half, single
  /// FP6 elements, block-scaled or not, and FP4 ones without block scales (Blackwell's
  /// `kind::f8f6f4`, which runs FP4 at the FP6 rate), then block-scaled FP4 (MXFP4 and NVFP4:
  /// `kind::mxf4`, `mxf4nvf4`).
  case fp6, fp4
}

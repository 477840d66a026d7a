import FP8Formats

/// The element type of a tensor as written in a program.
///
/// `fp8e4` and `fp8e5` are the device's native 8-bit formats (E4M3 for weights and activations,
/// E5M2 for gradients): `e4m3fn`/`e5m2` on `h100`, `e4m3fnuz`/`e5m2fnuz` on `ipu`. They let one
/// program run on both kinds of device. Every concrete format of `FloatFormat.all` whose values
/// fill whole bytes (`isByteElement`) can be named directly as well, and so can the
/// block-scaled types (`BlockScaling`: `mxfp8_e4m3`, `mxfp4`, ..., `e4m3fn_f32_1x128`).
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
      if let f = FloatFormat.named(name) { return f.isByteElement ? .format(f) : nil }
      return BlockScaling.named(name).map(DType.blocked)
    }
  }

  /// Every spelling accepted in programs (the block-scaled general form `ELEMENT_SCALE_RxC`
  /// besides).
  public static var spellings: [String] {
    ["fp8e4", "fp8e5"] + FloatFormat.all.filter(\.isByteElement).map(\.name)
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

  /// Bytes a tensor of this type and `shape` takes; for a block-scaled type, a grid of block
  /// records (`BlockScaling.recordBytes`: packed elements and the scale) over its last two
  /// dimensions, which the block divides (`blockProblem`). `nil` on overflow.
  public func bytes(shape: [Int]) -> Int? {
    var count = 1
    for d in shape {
      let (p, o) = count.multipliedReportingOverflow(by: d)
      guard !o else { return nil }
      count = p
    }
    guard let b = blocking else {
      let (bytes, o) = count.multipliedReportingOverflow(by: byteWidth)
      return o ? nil : bytes
    }
    // A grid of block records (the shape is a multiple of the block: `blockProblem`).
    let (bytes, o) = (count / b.blockSize).multipliedReportingOverflow(by: b.recordBytes)
    return o ? nil : bytes
  }

  /// Why a block-scaled tensor cannot have `shape`, or `nil`: its last two dimensions (a rank-1
  /// tensor is one row) must be multiples of the block's.
  public func blockProblem(shape: [Int]) -> String? {
    guard let b = blocking, !shape.isEmpty else { return nil }
    let (rows, cols) = BlockScaling.plane(of: shape)
    guard rows % b.blockRows == 0, cols % b.blockCols == 0 else {
      return
        "\(b.name) scales blocks of \(b.blockRows)×\(b.blockCols) elements: the last two dimensions must be multiples (\(rows)×\(cols) is not)"
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

  /// The tensor-unit input class: which `mma` rate applies.
  public var mmaInputClass: MMAInputClass? {
    switch self {
    case .fp8e4, .fp8e5: return .fp8
    case .format(let f):
      if f.isFP8 { return .fp8 }
      if f == .f16 || f == .bf16 { return .half }
      if f == .f32 { return .single }
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
  /// Block-scaled FP6 and FP4 elements (MXFP6, MXFP4).
  case fp6, fp4
}

import FP8Formats

/// The element type of a tensor as written in a program.
///
/// `fp8e4` and `fp8e5` are the device's native 8-bit formats (E4M3 for weights and activations,
/// E5M2 for gradients): `e4m3fn`/`e5m2` on `h100`, `e4m3fnuz`/`e5m2fnuz` on `ipu`. They let one
/// program run on both kinds of device. Every concrete format of `FloatFormat.all` whose values
/// fill whole bytes (`isByteElement`) can be named directly as well.
public enum DType: Sendable, Hashable, CustomStringConvertible {
  case fp8e4
  case fp8e5
  case format(FloatFormat)

  public static func named(_ name: String) -> DType? {
    switch name {
    case "fp8e4": return .fp8e4
    case "fp8e5": return .fp8e5
    default: return FloatFormat.named(name).flatMap { $0.isByteElement ? DType.format($0) : nil }
    }
  }

  /// Every spelling accepted in programs.
  public static var spellings: [String] {
    ["fp8e4", "fp8e5"] + FloatFormat.all.filter(\.isByteElement).map(\.name)
  }

  public var name: String {
    switch self {
    case .fp8e4: return "fp8e4"
    case .fp8e5: return "fp8e5"
    case .format(let f): return f.name
    }
  }

  public var description: String { name }

  /// Bytes per element.
  public var byteWidth: Int {
    switch self {
    case .fp8e4, .fp8e5: return 1
    case .format(let f): return f.byteWidth
    }
  }

  public var isFP8: Bool { byteWidth == 1 }

  /// The concrete format, given the device's native E4 and E5 formats.
  public func resolved(e4: FloatFormat, e5: FloatFormat) -> FloatFormat {
    switch self {
    case .fp8e4: return e4
    case .fp8e5: return e5
    case .format(let f): return f
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
    }
  }
}

/// Input classes of the tensor unit, each with its own MAC rate in the device description.
public enum MMAInputClass: String, Sendable, CaseIterable {
  case fp8, half, single
}

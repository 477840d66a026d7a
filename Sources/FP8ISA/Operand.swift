/// Read-only registers every tile has.
public enum SpecialRegister: String, Sendable, Hashable, CaseIterable {
  /// This tile's index, 0 ..< ntiles.
  case tid
  /// The number of tiles of the device.
  case ntiles
}

/// The start of a slice along one dimension: an optional register plus a constant offset.
public struct SliceStart: Sendable, Hashable {
  public enum Base: Sendable, Hashable {
    case register(Int)
    case special(SpecialRegister)
  }
  public var base: Base?
  public var offset: Int64

  public init(base: Base? = nil, offset: Int64) {
    self.base = base
    self.offset = offset
  }
}

/// How a view selects along one dimension of its tensor.
public enum ViewIndex: Sendable, Hashable {
  /// The whole dimension (`:`).
  case full
  /// `start:+length`: `length` elements from `start`; the dimension is kept.
  case range(SliceStart, length: Int)
  /// `start:+rN`: as many elements from `start` as integer register N holds when the
  /// instruction runs (at least 1); the dimension is kept, its extent known only then.
  case rangeOfRegister(SliceStart, lengthRegister: Int)
  /// A single index; the dimension is dropped from the view's shape.
  case index(SliceStart)
}

/// A reference to (part of) a declared tensor: `X`, `X[r1:+64, :]`, `B[r2, :, :]`.
public struct TensorView: Sendable, Hashable {
  /// Index into `Program.tensors`.
  public var tensor: Int
  /// One entry per tensor dimension; empty means the whole tensor.
  public var indices: [ViewIndex]

  public init(tensor: Int, indices: [ViewIndex]) {
    self.tensor = tensor
    self.indices = indices
  }

  /// The view's shape given the tensor's shape; a length from a register counts as the whole
  /// dimension (an upper bound: the real extent is known when the instruction runs).
  public func shape(of tensorShape: [Int]) -> [Int] {
    if indices.isEmpty { return tensorShape }
    var shape: [Int] = []
    for (i, index) in indices.enumerated() {
      switch index {
      case .full, .rangeOfRegister: shape.append(tensorShape[i])
      case .range(_, let length): shape.append(length)
      case .index: break
      }
    }
    return shape
  }

  /// Whether a length comes from a register: the view's shape is known only at run time.
  public var hasRegisterLength: Bool {
    indices.contains {
      if case .rangeOfRegister = $0 { return true }
      return false
    }
  }
}

/// An operand or option value as written (`InstructionSyntax`): what the parser produces and
/// the printer prints. The simulator never sees it: instructions are lowered into `Operation`.
public enum Operand: Sendable, Hashable {
  case intRegister(Int)
  case special(SpecialRegister)
  case int(Int64)
  case floatRegister(Int)
  case float(Double)
  /// A label and the index of the instruction it names.
  case label(String, target: Int)
  case view(TensorView)
  case dtype(DType)
  case choice(String)
}

import FP8Formats

/// Where a tensor lives.
public enum MemorySpace: String, Sendable, Hashable, CaseIterable {
  /// Device memory, shared by all tiles, reached through L2.
  case dram
  /// Tile-local SRAM: every tile has its own instance of the tensor.
  case sram
  /// Tile-local accumulator storage (a register file, as H100's 256 KB per SM): every tile has
  /// its own instance; `mma` accumulates into it and vector instructions read and write it, but
  /// DMA does not reach it (an epilogue casts to SRAM first). Its size is the device's
  /// `tensor.accumulatorBytesPerTile`; accesses count no SRAM bytes.
  case acc

  /// Tile-local spaces, where vector and tensor units work.
  public static let onTile: [MemorySpace] = [.sram, .acc]
}

/// How a tensor's initial values are produced.
public enum Initializer: Sendable, Hashable {
  case zeros
  case constant(Double)
  /// Normal deviates from a seeded generator.
  case randn(seed: UInt64, mean: Double, std: Double)
  /// Uniform in [low, high).
  case uniform(seed: UInt64, low: Double, high: Double)
  /// A `.npy` file (path relative to the program's folder).
  case npy(path: String)
  /// One tensor of a `.safetensors` file.
  case safetensors(path: String, name: String)
}

/// A `.tensor` declaration.
public struct TensorDecl: Sendable, Hashable {
  public var name: String
  public var dtype: DType
  public var shape: [Int]
  public var space: MemorySpace
  public var initializer: Initializer
  public var location: SourceLocation

  /// Number of elements (checked against the limits when declared).
  public var elementCount: Int { shape.reduce(1, *) }
  /// Bytes of the tensor: packed elements and, for a block-scaled type, its scales (the shape
  /// was checked when declared, so this cannot overflow).
  public var byteCount: Int { dtype.bytes(shape: shape) ?? Int.max }
}

/// A `.param` value: an integer or a float.
public enum ParamValue: Sendable, Hashable, CustomStringConvertible {
  case int(Int64)
  case float(Double)

  public var description: String {
    switch self {
    case .int(let v): return String(v)
    case .float(let v): return ValueText.exact(v)
    }
  }

  public var asDouble: Double {
    switch self {
    case .int(let v): return Double(v)
    case .float(let v): return v
    }
  }
}

public struct ParamDecl: Sendable, Hashable {
  public var name: String
  public var value: ParamValue
  /// True when `--set` replaced the value in the source.
  public var overridden: Bool
  public var location: SourceLocation
}

/// An `.assert CONDITION, "message"` directive: an assumption of the program about its
/// parameters, checked when it is assembled with the final values.
public struct Assertion: Sendable, Hashable {
  /// The condition as written, e.g. `M % TM == 0 && K >= 2 * TK`.
  public var condition: String
  public var message: String
  public var location: SourceLocation
}

/// One instruction of a program: what it does, lowered once into a typed operation with every
/// default resolved, and where it was written (for errors and the trace).
public struct Instruction: Sendable, Hashable {
  public private(set) var operation: Operation
  public var location: SourceLocation
  /// `operation.opcode`, found once.
  public let opcode: Opcode

  public init(_ operation: Operation, location: SourceLocation) {
    self.operation = operation
    self.location = location
    opcode = operation.opcode
  }

  /// Points a branch or jump at instruction `target`.
  mutating func resolveLabel(to target: Int) { operation.resolveLabel(to: target) }

  /// Equality of what the instruction does, ignoring where it was written.
  public func sameOperation(as other: Instruction) -> Bool { operation == other.operation }
}

/// An assembled program: directives and instructions, every name resolved.
public struct Program: Sendable {
  public var source: SourceFile
  /// The `.device` directive's device name or JSON file path, if any.
  public var device: String?
  /// Where the `.device` directive is (for errors about the device it names).
  public var deviceLocation: SourceLocation?
  /// The `.assert` directives, every one of which held when the program was assembled.
  public var assertions: [Assertion] = []
  public var params: [ParamDecl]
  public var tensors: [TensorDecl]
  /// Indices into `tensors` of the `.output` tensors, in declaration order.
  public var outputs: [Int]
  public var instructions: [Instruction]
  /// Label names and the index of the instruction each names (may equal `instructions.count`).
  public var labels: [String: Int]

  public func tensorIndex(named name: String) -> Int? {
    tensors.firstIndex { $0.name == name }
  }

  /// Equality of meaning: same directives (ignoring locations) and same operations.
  public func sameMeaning(as other: Program) -> Bool {
    func strip(_ t: TensorDecl) -> TensorDecl {
      var t = t
      t.location = SourceLocation(file: "", line: 0, column: 0)
      return t
    }
    return device == other.device
      && assertions.map { [$0.condition, $0.message] } == other.assertions.map { [$0.condition, $0.message] }
      && params.map { "\($0.name)=\($0.value)" } == other.params.map { "\($0.name)=\($0.value)" }
      && tensors.map(strip) == other.tensors.map(strip) && outputs == other.outputs
      && instructions.count == other.instructions.count
      && zip(instructions, other.instructions).allSatisfy { $0.sameOperation(as: $1) }
      && labels == other.labels
  }
}

/// Limits on what a program may declare, so that no input can exhaust memory or overflow an
/// `Int` before the simulator even starts.
public enum ProgramLimits {
  /// Largest tensor rank.
  public static let maxRank = 4
  /// Largest extent of one dimension.
  public static let maxDimension = 1 << 32
  /// Largest element count of one tensor (2^40; only `--timing-only` can run such a tensor).
  public static let maxElements = 1 << 40
  /// Integer registers `r0`...`r31`, float registers `f0`...`f15`.
  public static let intRegisters = 32
  public static let floatRegisters = 16
  /// Largest source file accepted, in bytes.
  public static let maxSourceBytes = 16 << 20
}

/// The execution unit of a tile that runs an instruction.
public enum UnitKind: String, Sendable, CaseIterable, Codable {
  /// In-order scalar core: integer and float registers, branches; one instruction per cycle.
  case scalar
  /// Asynchronous DMA engine between DRAM (through L2) and the tile's SRAM.
  case dma
  /// Vector unit: elementwise operations, reductions and casts on SRAM tensors.
  case vector
  /// Tensor unit: matrix multiply-accumulate.
  case tensor
  /// Synchronisation across all tiles: barrier and scalar all-reduce.
  case sync
}

extension UnitKind {
  /// The units with statistics of their own, in report order (`sync` instructions are issued and
  /// counted by the scalar core).
  public static let reported: [UnitKind] = [.scalar, .dma, .vector, .tensor]

  /// The unit whose statistics an instruction of this unit counts against.
  public var reportedUnit: UnitKind {
    switch self {
    case .scalar, .sync: return .scalar
    case .dma, .vector, .tensor: return self
    }
  }
}

/// What a positional operand may be. Each kind parses and prints itself (`Assembler`,
/// `Disassembler`), so the two cannot disagree.
public enum OperandKind: String, Sendable, CaseIterable {
  /// An integer register written by the instruction: `r0` ... `r31`.
  case intDest
  /// An integer value: `r0`...`r31`, `tid`, `ntiles`, or a constant expression (`64`, `K/2`).
  case intSource
  /// A float register written by the instruction: `f0` ... `f15`.
  case floatDest
  /// A float value: `f0`...`f15` or a constant expression (`0.5`, `1e-3`).
  case floatSource
  /// A label defined somewhere in the program.
  case label
  /// A tensor view: `X`, `X[r1:+64, :]`, `B[r2, :, :]`.
  case view
  /// A tensor view or a float value (a scalar broadcast to every element).
  case viewOrFloat
  /// An element type name: `fp8e4`, `fp8e5`, `e4m3fn`, `f16`, ...
  case dtype
  /// An optional count: a non-negative constant or an integer register (`dma.wait` with nothing
  /// means 0).
  case optionalCount

  /// The value of an operand of this kind that is left out (nil: it cannot be); the parser,
  /// the printer and `isa/ISA.md` all take it from here.
  public var absentValue: Operand? {
    switch self {
    case .optionalCount: return .int(0)
    case .intDest, .intSource, .floatDest, .floatSource, .label, .view, .viewOrFloat, .dtype: return nil
    }
  }

  /// How the kind is written in `isa/ISA.md` signatures.
  public var placeholder: String {
    switch self {
    case .intDest: return "rD"
    case .intSource: return "iS"
    case .floatDest: return "fD"
    case .floatSource: return "fS"
    case .label: return "LABEL"
    case .view: return "VIEW"
    case .viewOrFloat: return "VIEW|fS"
    case .dtype: return "TYPE"
    case .optionalCount: return "[N]"
    }
  }
}

/// A named positional operand of an opcode.
public struct OperandSpec: Sendable {
  public var name: String
  public var kind: OperandKind
  public init(_ name: String, _ kind: OperandKind) {
    self.name = name
    self.kind = kind
  }
}

/// A `key=value` option of an opcode.
public struct OptionSpec: Sendable {
  public enum Kind: Sendable, Equatable {
    /// Integer register or constant expression.
    case intSource
    /// A constant integer.
    case int
    /// A constant float.
    case float
    /// `0` or `1`.
    case flag
    /// A float register written by the instruction.
    case floatDest
    /// A float register or constant expression, read.
    case floatSource
    /// A tensor view.
    case view
    /// One of a fixed set of words.
    case choice([String])
  }

  public var name: String
  public var kind: Kind
  /// The value when the option is absent (`nil`: absent means "none"). A flag's is 0. Lowering
  /// (`Operation(lowering:)`) and the disassembler take defaults from here.
  public var defaultValue: Operand?
  public var help: String

  public init(_ name: String, _ kind: Kind, default defaultValue: Operand? = nil, _ help: String) {
    self.name = name
    self.kind = kind
    self.defaultValue = kind == .flag ? .int(0) : defaultValue
    self.help = help
  }

  /// The default as written in source.
  public var defaultText: String? { defaultValue.map(Disassembler.text(ofConstant:)) }
}

/// One row of the ISA table.
public struct OpcodeSpec: Sendable {
  public var mnemonic: String
  /// The typed operation the instruction lowers to (and so the unit that runs it).
  public var family: Family
  public var operands: [OperandSpec]
  public var options: [OptionSpec]
  /// One line, for tables.
  public var summary: String
  /// The exact semantics, in Markdown, for `isa/ISA.md`.
  public var semantics: String

  public init(
    _ mnemonic: String, family: Family, operands: [OperandSpec] = [], options: [OptionSpec] = [],
    summary: String, semantics: String
  ) {
    self.mnemonic = mnemonic
    self.family = family
    self.operands = operands
    self.options = options
    self.summary = summary
    self.semantics = semantics
  }

  /// The unit that runs the instruction.
  public var unit: UnitKind { family.unit }

  /// `mma D, A, B [acc=...] ...`
  public var signature: String {
    var text = mnemonic
    let positional = operands.map { $0.kind.absentValue != nil ? "[\($0.name)]" : $0.name }
    if !positional.isEmpty { text += " " + positional.joined(separator: ", ") }
    for option in options { text += " [\(option.name)=…]" }
    return text
  }
}

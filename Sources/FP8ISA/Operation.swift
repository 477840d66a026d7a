import FP8Formats

/// An instruction as the simulator runs it: one case per family, every operand typed and every
/// option's default resolved (from `Opcode.spec`, when the assembler lowers an instruction).
///
/// Programs are built from these values (`ProgramBuilder`, or the assembler), printed by the
/// disassembler through `syntax`, and executed by switching over the cases: nothing is looked up
/// by name after assembly.
public enum Operation: Sendable, Hashable {
  // MARK: Scalar core
  /// `nop`
  case nop
  /// `halt`
  case halt
  /// `mov rD, iS`
  case move(dest: Int, source: IntValue)
  /// `add`, `sub`, `mul`, `div`, `rem`, `min`, `max`
  case integer(IntegerOperator, dest: Int, a: IntValue, b: IntValue)
  /// `fmov fD, fS`
  case floatMove(dest: Int, source: FloatValue)
  /// `fadd`, `fmul`, `fmax`, `fmin`
  case float(FloatOperator, dest: Int, a: FloatValue, b: FloatValue)
  /// `jmp LABEL`
  case jump(Label)
  /// `call LABEL`: push the return address, continue at LABEL.
  case call(Label)
  /// `ret`: continue after the most recent `call`.
  case ret
  /// `beq`, `bne`, `blt`, `bge`
  case branch(Condition, a: IntValue, b: IntValue, target: Label)
  /// `bias rD, fS, TYPE`: the FP8-AMAX scaling-bias rule.
  case bias(BiasRule)

  // MARK: DMA engine
  /// `dma.load`, `dma.store`
  case dma(Transfer)
  /// `dma.wait [N]`: wait until at most `keep` transfers are in flight.
  case dmaWait(keep: IntValue)
  /// `fence [unit=...]`: wait until the vector and/or tensor unit's work is done and visible.
  case fence(FenceTarget)

  // MARK: Vector unit
  /// Every vector instruction that writes a tensor.
  case vector(VectorOperation)
  /// `amax`, `rmax`, `rsum`: a tensor folded into a float register.
  case reduction(Reduction, dest: Int, source: TensorView)

  // MARK: Tensor unit
  /// `mma D, A, B`
  case mma(MatrixMultiply)

  // MARK: Synchronisation
  /// `barrier`
  case barrier
  /// `allreduce.max`, `allreduce.sum`
  case allReduce(AllReduce)
}

// MARK: - Operands

/// An integer an instruction reads: a register, a special register or a constant.
public enum IntValue: Sendable, Hashable {
  case register(Int)
  case special(SpecialRegister)
  case constant(Int64)
}

/// A float an instruction reads: a register or a constant.
public enum FloatValue: Sendable, Hashable {
  case register(Int)
  case constant(Double)
}

/// A branch target: the label's name and the index of the instruction it names.
public struct Label: Sendable, Hashable {
  public var name: String
  /// Index into `Program.instructions` (may equal the instruction count: the end).
  public var target: Int
  public init(_ name: String, target: Int) {
    self.name = name
    self.target = target
  }
}

/// The second operand of an elementwise binary instruction.
public enum VectorOperand: Sendable, Hashable {
  /// A tensor of D's shape, or one row broadcast to every row.
  case view(TensorView)
  /// A float broadcast to every element.
  case value(FloatValue)
}

// MARK: - Families

/// The units a `fence` waits for.
public enum FenceTarget: String, Sendable, Hashable, CaseIterable {
  case all, vector, tensor
}

extension Operation {
  /// The deepest a tile's `call`s may nest.
  public static let maxCallDepth = 64
}

public enum IntegerOperator: String, Sendable, Hashable, CaseIterable {
  case add, sub, mul, div, rem, min, max
}

public enum FloatOperator: String, Sendable, Hashable, CaseIterable {
  case add, mul, max, min, div
  /// √a: one operand (`b` is not read; the operation holds 0 for it).
  case sqrt

  /// Whether the instruction has one source operand.
  public var isUnary: Bool { self == .sqrt }
}

public enum Condition: String, Sendable, Hashable, CaseIterable {
  case equal, notEqual, less, greaterOrEqual
}

/// `bias rD, fS, TYPE, margin=, min=, max=`
public struct BiasRule: Sendable, Hashable {
  public var dest: Int
  public var amax: FloatValue
  public var format: DType
  public var margin: Int64
  public var min: Int64
  public var max: Int64
  /// The defaults of `margin=`, `min=` and `max=` (the table's option defaults come from here).
  public static let defaultMargin: Int64 = 0
  public static let defaultMin = Int64(ScalingBias.defaultRange.lowerBound)
  public static let defaultMax = Int64(ScalingBias.defaultRange.upperBound)

  public init(
    dest: Int, amax: FloatValue, format: DType, margin: Int64 = defaultMargin, min: Int64 = defaultMin,
    max: Int64 = defaultMax
  ) {
    self.dest = dest
    self.amax = amax
    self.format = format
    self.margin = margin
    self.min = min
    self.max = max
  }
}

/// `dma.load DST, SRC` (DRAM → SRAM) or `dma.store DST, SRC` (SRAM → DRAM).
public struct Transfer: Sendable, Hashable {
  public enum Direction: Sendable, Hashable, CaseIterable { case load, store }
  public var direction: Direction
  public var destination: TensorView
  public var source: TensorView
  /// Loads: the multicast group size G (`mcast=G`): tiles tid ÷ G form a group, and a load of
  /// the same DRAM view by another tile of the group is served by one read of L2. 1: none.
  public var multicast: Int64
  /// No multicast.
  public static let defaultMulticast: Int64 = 1
  /// The largest group `mcast=` accepts (a device may allow fewer: `dma.multicastTiles`).
  public static let maxMulticast: Int64 = 64
  public init(
    _ direction: Direction, destination: TensorView, source: TensorView,
    multicast: Int64 = Transfer.defaultMulticast
  ) {
    self.direction = direction
    self.destination = destination
    self.source = source
    self.multicast = multicast
  }
  /// The SRAM side and the DRAM side of the transfer.
  public var sram: TensorView { direction == .load ? destination : source }
  public var dram: TensorView { direction == .load ? source : destination }
}

/// What every vector instruction writing a tensor does with each result x: store
/// `cast(x·2^bias)` with the given rounding and overflow, and optionally note max |x|.
public struct OutputOptions: Sendable, Hashable {
  public var bias: IntValue
  public var rounding: RoundingMode
  public var overflow: OverflowMode
  /// Seed of stochastic rounding.
  public var seed: Int64
  /// A float register that receives max |x| of the unscaled results.
  public var amax: Int?
  /// NVFP4 only: the tensor's amax, from which the cast derives the f32 tensor scale (nil: the
  /// amax of the cast's own input).
  public var tensorAmax: FloatValue?
  /// NVFP4 only: a float register that receives the tensor scale (an NVFP4 tensor holds its
  /// values divided by it).
  public var tensorScale: Int?
  /// The defaults (the table's option defaults come from here).
  public static let defaults = OutputOptions(
    bias: .constant(0), rounding: .nearestEven, overflow: .nonfinite, seed: 0, amax: nil)

  public init(
    bias: IntValue = defaults.bias, rounding: RoundingMode = defaults.rounding,
    overflow: OverflowMode = defaults.overflow, seed: Int64 = defaults.seed, amax: Int? = nil,
    tensorAmax: FloatValue? = nil, tensorScale: Int? = nil
  ) {
    self.bias = bias
    self.rounding = rounding
    self.overflow = overflow
    self.seed = seed
    self.amax = amax
    self.tensorAmax = tensorAmax
    self.tensorScale = tensorScale
  }
}

public enum UnaryFunction: String, Sendable, Hashable, CaseIterable {
  case relu, gelu, exp
  /// GELU's tanh approximation (GPT-2's `gelu_new`).
  case geluTanh
  /// d gelu(a)/da = Φ(a) + a·φ(a): the backward pass's factor.
  case geluGrad
  /// d gelu.tanh(a)/da.
  case geluTanhGrad
  /// d silu(a)/da = σ(a)·(1 + a·(1 − σ(a))).
  case siluGrad
  /// √a (NaN below 0): the optimizers' second-moment denominators.
  case sqrt
  /// x · σ(x) (Llama's SwiGLU gate).
  case silu
}

public enum BinaryFunction: String, Sendable, Hashable, CaseIterable {
  case add, sub, mul, div, max
}

/// A vector instruction that writes `destination`.
public struct VectorOperation: Sendable, Hashable {
  public enum Kind: Sendable, Hashable {
    /// `vadd`, `vsub`, `vmul`, `vmax`
    case binary(BinaryFunction, a: TensorView, b: VectorOperand)
    /// `relu`, `gelu`, `exp`
    case unary(UnaryFunction, a: TensorView)
    /// `cast D, A`: x = a.
    case cast(TensorView)
    /// `vfill D, fS`
    case fill(FloatValue)
    /// `softmax D, A`: row-wise over the last dimension.
    case softmax(TensorView)
    /// `rope D, A, pos=, base=`: rotary position embedding of each row (a head's vector), the
    /// row `r` of the view at position `pos + r`.
    case rope(TensorView, position: IntValue, base: Double)
    /// `layernorm D, A`: row-wise over the last dimension.
    /// Layer normalisation, or with `rms` RMS normalisation (no mean, no beta).
    case layernorm(TensorView, gamma: TensorView?, beta: TensorView?, eps: Double, rms: Bool = false)
    /// `rowmax D, A`, `rowsum D, A`: each row of A (its last dimension) reduced to one element
    /// of D, whose shape is A's with the last dimension 1.
    case rowReduce(Reduction, TensorView)
  }
  /// The default of layernorm's `eps=`.
  public static let defaultEpsilon = 1e-5
  /// `rmsnorm`'s default epsilon (Llama's).
  public static let defaultRMSEpsilon = 1e-6
  /// `rope`'s default base (Llama's `rope_theta`).
  public static let defaultRopeBase = 10_000.0
  public var kind: Kind
  public var destination: TensorView
  public var output: OutputOptions
  public init(_ kind: Kind, destination: TensorView, output: OutputOptions = OutputOptions()) {
    self.kind = kind
    self.destination = destination
    self.output = output
  }

  /// The tensor operands the instruction reads besides `destination`, in operand order.
  public var inputs: [TensorView] {
    switch kind {
    case .binary(_, let a, .view(let b)): return [a, b]
    case .binary(_, let a, .value): return [a]
    case .unary(_, let a), .cast(let a), .softmax(let a), .rope(let a, _, _), .rowReduce(_, let a): return [a]
    case .fill: return []
    case .layernorm(let a, let gamma, let beta, _, _): return [a] + [gamma, beta].compactMap { $0 }
    }
  }
}

public enum Reduction: String, Sendable, Hashable, CaseIterable {
  /// max |a|
  case amax
  /// max a
  case max
  /// Σ a, in order, in f64
  case sum
}

/// `mma D, A, B`: D[M,N] += A[M,K] · B[K,N].
public struct MatrixMultiply: Sendable, Hashable {
  public var d: TensorView
  public var a: TensorView
  public var b: TensorView
  /// nil: D's type (`acc=auto`).
  public var accumulator: Accumulator?
  /// A is stored [K, M]; B is stored [N, K].
  public var transposeA: Bool
  public var transposeB: Bool
  /// Start from zero instead of D.
  public var clear: Bool
  /// A float register that receives max |D| after the operation.
  public var amax: Int?
  public init(
    d: TensorView, a: TensorView, b: TensorView, accumulator: Accumulator? = nil, transposeA: Bool = false,
    transposeB: Bool = false, clear: Bool = false, amax: Int? = nil
  ) {
    self.d = d
    self.a = a
    self.b = b
    self.accumulator = accumulator
    self.transposeA = transposeA
    self.transposeB = transposeB
    self.clear = clear
    self.amax = amax
  }
}

/// The tensor unit's accumulators, exactly as `isa/ISA.md` (`mma`) defines them.
public enum Accumulator: String, Sendable, Hashable, CaseIterable {
  case f32, f16, bf16, fp22, f32rz
}

/// `allreduce.max fD, fS` / `allreduce.sum fD, fS`
public struct AllReduce: Sendable, Hashable {
  public enum Combine: String, Sendable, Hashable, CaseIterable { case max, sum }
  public var combine: Combine
  public var dest: Int
  public var source: FloatValue
  /// Contribute and continue; only `dest` waits for the reduction.
  public var async: Bool
  public init(_ combine: Combine, dest: Int, source: FloatValue, async: Bool = false) {
    self.combine = combine
    self.dest = dest
    self.source = source
    self.async = async
  }
}

// MARK: - Families

/// Which typed operation an instruction lowers to: declared by its row of the opcode table
/// (`OpcodeSpec.family`), one-to-one with opcodes.
public enum Family: Sendable, Hashable {
  case nop, halt, move, floatMove, jump, call, ret, bias, dmaWait, fence, cast, fill, softmax, rope,
    layernorm,
    rmsnorm, mma,
    barrier
  case integer(IntegerOperator)
  case float(FloatOperator)
  case branch(Condition)
  case transfer(Transfer.Direction)
  case binary(BinaryFunction)
  case unary(UnaryFunction)
  case reduction(Reduction)
  case rowReduction(Reduction)
  case allReduce(AllReduce.Combine)

  /// The unit that runs the family's instructions.
  public var unit: UnitKind {
    switch self {
    case .nop, .halt, .move, .floatMove, .jump, .call, .ret, .bias, .integer, .float, .branch, .fence:
      return .scalar
    case .transfer, .dmaWait: return .dma
    case .cast, .fill, .softmax, .rope, .layernorm, .rmsnorm, .binary, .unary, .reduction, .rowReduction:
      return .vector
    case .mma: return .tensor
    case .barrier, .allReduce: return .sync
    }
  }
}

extension Operation {
  /// The family of the operation (its opcode, through the table).
  public var family: Family {
    switch self {
    case .nop: return .nop
    case .halt: return .halt
    case .move: return .move
    case .integer(let op, _, _, _): return .integer(op)
    case .floatMove: return .floatMove
    case .float(let op, _, _, _): return .float(op)
    case .jump: return .jump
    case .call: return .call
    case .ret: return .ret
    case .branch(let c, _, _, _): return .branch(c)
    case .bias: return .bias
    case .dma(let t): return .transfer(t.direction)
    case .dmaWait: return .dmaWait
    case .fence: return .fence
    case .vector(let v):
      switch v.kind {
      case .binary(let f, _, _): return .binary(f)
      case .unary(let f, _): return .unary(f)
      case .cast: return .cast
      case .fill: return .fill
      case .softmax: return .softmax
      case .rope: return .rope
      case .layernorm(_, _, _, _, let rms): return rms ? .rmsnorm : .layernorm
      case .rowReduce(let r, _): return .rowReduction(r)
      }
    case .reduction(let r, _, _): return .reduction(r)
    case .mma: return .mma
    case .barrier: return .barrier
    case .allReduce(let r): return .allReduce(r.combine)
    }
  }

  /// The instruction that writes this operation.
  public var opcode: Opcode {
    guard let op = Opcode.byFamily[family] else {
      preconditionFailure("no opcode row declares family \(family)")  // OpcodeTableTests
    }
    return op
  }
}

import FP8Formats

/// The fp8sim instruction set: one case per instruction, one `spec` row per case.
///
/// This table is the single source of truth: the assembler looks mnemonics and operand kinds up
/// here, the disassembler prints from it, `isa/ISA.md` is generated from it (a test fails when
/// the file is stale), and the simulator's `switch` over `Opcode` is exhaustive.
public enum Opcode: String, Sendable, CaseIterable {
  // Scalar
  case nop, mov, add, sub, mul, div, rem, min, max
  case fmov, fadd, fmul, fmax, fmin, fdiv, fsqrt
  case jmp, beq, bne, blt, bge, call, ret, halt
  case bias
  // DMA
  case dmaLoad, dmaStore, dmaWait, fence
  // Vector
  case vadd, vsub, vmul, vdiv, vmax, vfill, cast, relu, gelu, geluTanh, silu, geluGrad, geluTanhGrad,
    siluGrad, vsqrt, exp,
    softmax, rope, layernorm,
    rmsnorm
  case amax, rmax, rsum, rowmax, rowsum
  // Tensor
  case mma
  // Sync
  case barrier, allreduceMax, allreduceSum

  public var spec: OpcodeSpec {
    switch self {
    // MARK: Scalar
    case .nop:
      return OpcodeSpec(
        "nop", family: .nop, summary: "Do nothing.",
        semantics: "Occupies the scalar core for one cycle.")
    case .mov:
      return OpcodeSpec(
        "mov", family: .move, operands: [.init("rD", .intDest), .init("iS", .intSource)],
        summary: "rD = iS.", semantics: "Copies an integer value into `rD`.")
    case .add: return Opcode.integerBinary("add", .add, "rD = iA + iB.")
    case .sub: return Opcode.integerBinary("sub", .sub, "rD = iA − iB.")
    case .mul: return Opcode.integerBinary("mul", .mul, "rD = iA × iB.")
    case .div:
      return Opcode.integerBinary(
        "div", .div, "rD = iA / iB, truncated toward zero.", more: "Faults when iB = 0.")
    case .rem:
      return Opcode.integerBinary(
        "rem", .rem, "rD = iA mod iB, with the sign of iA.", more: "Faults when iB = 0.")
    case .min: return Opcode.integerBinary("min", .min, "rD = min(iA, iB).")
    case .max: return Opcode.integerBinary("max", .max, "rD = max(iA, iB).")
    case .fmov:
      return OpcodeSpec(
        "fmov", family: .floatMove, operands: [.init("fD", .floatDest), .init("fS", .floatSource)],
        summary: "fD = fS.",
        semantics: "Copies a float value (a register or a constant) into `fD`.")
    case .fadd: return Opcode.floatBinary("fadd", .add, "fD = fA + fB.")
    case .fmul: return Opcode.floatBinary("fmul", .mul, "fD = fA × fB.")
    case .fmax:
      return Opcode.floatBinary(
        "fmax", .max, "fD = max(fA, fB).",
        more: "NaN if either is NaN. Keeps an amax history for delayed scaling.")
    case .fmin: return Opcode.floatBinary("fmin", .min, "fD = min(fA, fB).", more: "NaN if either is NaN.")
    case .fdiv:
      return Opcode.floatBinary(
        "fdiv", .div, "fD = fA / fB.", more: "IEEE division: ±inf for a nonzero fA over 0, NaN for 0 / 0.")
    case .fsqrt:
      return OpcodeSpec(
        "fsqrt", family: .float(.sqrt), operands: [.init("fD", .floatDest), .init("fA", .floatSource)],
        summary: "fD = √fA.",
        semantics:
          "fD = √fA, f64 arithmetic, correctly rounded; NaN for a negative fA, −0 for −0. With `fdiv`, the"
          + " L2 normalisation of a row: `rsum` of its squares, `fsqrt`, then `vmul` by the reciprocal.")
    case .jmp:
      return OpcodeSpec(
        "jmp", family: .jump, operands: [.init("LABEL", .label)], summary: "Jump to LABEL.",
        semantics: "Continues at the instruction after `LABEL:`.")
    case .call:
      return OpcodeSpec(
        "call", family: .call, operands: [.init("LABEL", .label)], summary: "Call the subroutine at LABEL.",
        semantics:
          "Pushes the address of the next instruction on the tile's return stack (at most"
          + " \(Operation.maxCallDepth) deep: a deeper call faults) and continues at `LABEL`. Registers are"
          + " shared with the caller: a subroutine is a piece of code written once, e.g. a GEMM"
          + " block's K loop called for each edge case with the lengths in registers.")
    case .ret:
      return OpcodeSpec(
        "ret", family: .ret, summary: "Return from a subroutine.",
        semantics:
          "Continues after the `call` that is on top of the return stack; `ret` with an empty stack faults.")
    case .beq: return Opcode.branch("beq", .equal, "iA = iB")
    case .bne: return Opcode.branch("bne", .notEqual, "iA ≠ iB")
    case .blt: return Opcode.branch("blt", .less, "iA < iB")
    case .bge: return Opcode.branch("bge", .greaterOrEqual, "iA ≥ iB")
    case .halt:
      return OpcodeSpec(
        "halt", family: .halt, summary: "Stop this tile.",
        semantics:
          "This tile stops issuing. Its units finish what they started; the run ends when every"
          + " tile has halted (falling off the end of the program halts too).")
    case .bias:
      return OpcodeSpec(
        "bias", family: .bias,
        operands: [.init("rD", .intDest), .init("fS", .floatSource), .init("TYPE", .dtype)],
        options: [
          OptionSpec(
            "margin", .int, default: .int(BiasRule.defaultMargin),
            "Subtracted from the bias (the paper's Fig. 1 uses 3)."),
          OptionSpec("min", .int, default: .int(BiasRule.defaultMin), "Lower clamp."),
          OptionSpec("max", .int, default: .int(BiasRule.defaultMax), "Upper clamp."),
        ],
        summary: "FP8-AMAX scaling bias from an amax.",
        semantics:
          "`rD = clamp(floor(log2(max(TYPE) / |fS|)) − margin, min, max)`, computed exactly: the"
          + " largest `b` with `|fS|·2^b ≤ max(TYPE)`, so with margin 0 the scaled amax never"
          + " overflows. When `fS` is 0, NaN or ±inf the rule is undefined and `rD` keeps its"
          + " previous value (Transformer Engine keeps the previous scale the same way).")

    // MARK: DMA
    case .dmaLoad:
      return OpcodeSpec(
        "dma.load", family: .transfer(.load), operands: [.init("DST", .view), .init("SRC", .view)],
        options: [
          OptionSpec(
            "mcast", .int, default: .int(Transfer.defaultMulticast),
            "Multicast group size G, 1...\(Transfer.maxMulticast) (at most the device's"
              + " `dma.multicastTiles`): tiles `tid ÷ G` form a group that shares loads of the same view.")
        ],
        summary: "Copy a DRAM view into an SRAM view (asynchronous).",
        semantics:
          "`DST` (in `sram`) ← `SRC` (in `dram`); same shape and element type. The DMA engine"
          + " reads `SRC` line by line through L2 (hits are served by L2, misses fill from DRAM)"
          + " and writes the tile's SRAM. The scalar core does not wait: reading `DST` before a"
          + " `dma.wait` that covers this transfer is a runtime fault.\n\n"
          + "With `mcast=G` (a cluster's multicast, as TMA multicast on H100) the tiles"
          + " `G·⌊tid/G⌋ …` form a group. The first tile of the group to issue a load of a DRAM view"
          + " reads it through L2 as usual; when another tile of the group then loads the same view"
          + " (same tensor, offset, shape and strides) with the same `G`, it receives that read's"
          + " data: its bytes cross L2 and the tile↔L2 link once for the group (counted in"
          + " `traffic.bytes.multicast`, not in `l2ToSram`). The receiving tile still writes its"
          + " own SRAM through its port, and its load ends no earlier than the first tile's."
          + " Each tile receives each read once; a view loaded again makes a new read.")
    case .dmaStore:
      return OpcodeSpec(
        "dma.store", family: .transfer(.store), operands: [.init("DST", .view), .init("SRC", .view)],
        summary: "Copy an SRAM view to a DRAM view (asynchronous).",
        semantics:
          "`DST` (in `dram`) ← `SRC` (in `sram`); same shape and element type. Lines are written"
          + " into L2 (write-allocate, write-back); dirty lines reach DRAM when evicted or when the"
          + " run ends. The transfer starts once earlier vector/tensor writes of `SRC` are done.")
    case .dmaWait:
      return OpcodeSpec(
        "dma.wait", family: .dmaWait, operands: [.init("N", .optionalCount)],
        summary: "Wait until at most N of this tile's DMA transfers are in flight.",
        semantics:
          "The scalar core stalls until no more than `N` (default 0) of this tile's `dma.load`/"
          + "`dma.store` transfers are unfinished. Transfers finish in issue order, so"
          + " `dma.wait 1` after issuing the next block's load waits for the previous one"
          + " (double buffering). `N` may be a register (a pipeline whose depth is computed); a"
          + " negative value is a runtime fault.")
    case .fence:
      return OpcodeSpec(
        "fence", family: .fence,
        options: [
          OptionSpec(
            "unit", .choice(FenceTarget.allCases.map(\.rawValue)), default: .choice(FenceTarget.all.rawValue),
            "Which unit's work to wait for: `vector`, `tensor` or `all` (both).")
        ],
        summary: "Wait until the vector and/or tensor unit's issued work is done.",
        semantics:
          "The scalar core stalls until every vector (`unit=vector`), tensor (`unit=tensor`) or"
          + " vector and tensor (`unit=all`) instruction this tile issued before the fence has"
          + " finished and its results are visible (end + latency). Data hazards already order"
          + " instructions that share tensors; a fence orders what they cannot see, such as"
          + " a timed region, or a float register read through memory.")

    // MARK: Vector
    case .vadd: return Opcode.vectorBinary("vadd", .add, "x = a + b")
    case .vsub: return Opcode.vectorBinary("vsub", .sub, "x = a − b")
    case .vmul: return Opcode.vectorBinary("vmul", .mul, "x = a × b")
    case .vdiv: return Opcode.vectorBinary("vdiv", .div, "x = a / b (IEEE: ±inf for a nonzero a over 0)")
    case .vmax: return Opcode.vectorBinary("vmax", .max, "x = max(a, b) (NaN if either is NaN)")
    case .vfill:
      return OpcodeSpec(
        "vfill", family: .fill, operands: [.init("D", .view), .init("fS", .floatSource)],
        options: Opcode.outputOptions, summary: "Fill D with a value.",
        semantics: "For every element, `x = fS`, stored as described under *Output options*.")
    case .cast:
      return OpcodeSpec(
        "cast", family: .cast, operands: [.init("D", .view), .init("A", .view)],
        options: Opcode.outputOptions,
        summary: "Convert A to D's type with a scaling bias (FP8 quantisation).",
        semantics:
          "`x = a`; `D = cast_D(x · 2^bias)` with the given rounding and overflow. This is the"
          + " paper's `cast(scale(v, b))`: FP8 quantisation with `bias = b`, or unscaling a matmul"
          + " result with `bias = −(b_a + b_b)`, or loss scaling. With `amax=fD` it also produces"
          + " the amax of its input in the same pass (delayed scaling's on-the-fly amax).")
    case .relu: return Opcode.vectorUnary("relu", .relu, "x = max(a, 0)")
    case .gelu:
      return Opcode.vectorUnary("gelu", .gelu, "x = a · Φ(a) = 0.5·a·(1 + erf(a/√2)) (exact GELU)")
    case .geluTanh:
      return Opcode.vectorUnary(
        "gelu.tanh", .geluTanh, "x = 0.5·a·(1 + tanh(√(2/π)·(a + 0.044715·a³))) (GPT-2's GELU)")
    case .silu: return Opcode.vectorUnary("silu", .silu, "x = a · σ(a) = a / (1 + e^−a) (Llama's gate)")
    case .geluGrad:
      return Opcode.vectorUnary(
        "gelu.grad", .geluGrad,
        "x = gelu′(a) = Φ(a) + a·φ(a) (the backward pass: multiply by the output's gradient)")
    case .geluTanhGrad:
      return Opcode.vectorUnary(
        "gelu.tanh.grad", .geluTanhGrad,
        "x = gelu.tanh′(a) = 0.5·(1 + tanh u) + 0.5·a·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·a²), u = √(2/π)·(a + 0.044715·a³)"
      )
    case .siluGrad:
      return Opcode.vectorUnary("silu.grad", .siluGrad, "x = silu′(a) = σ(a)·(1 + a·(1 − σ(a)))")
    case .vsqrt: return Opcode.vectorUnary("vsqrt", .sqrt, "x = √a (NaN for a < 0)")
    case .exp: return Opcode.vectorUnary("exp", .exp, "x = e^a")
    case .softmax:
      return OpcodeSpec(
        "softmax", family: .softmax, operands: [.init("D", .view), .init("A", .view)],
        options: Opcode.outputOptions, summary: "Row-wise softmax over the last dimension.",
        semantics:
          "For each row: `m = max(a)`, `x_j = e^(a_j − m) / Σ_k e^(a_k − m)` (f64), stored as"
          + " described under *Output options*. A −inf takes no share: adding a mask row of 0 and"
          + " −inf first (`vadd S, S, MASK`, MASK one row broadcast to every row) leaves out padded"
          + " or future positions; a row of only −inf gives NaN.")
    case .rope:
      return OpcodeSpec(
        "rope", family: .rope, operands: [.init("D", .view), .init("A", .view)],
        options: [
          OptionSpec("pos", .intSource, default: .int(0), "Position of the view's first row."),
          OptionSpec(
            "base", .float, default: .float(VectorOperation.defaultRopeBase),
            "Base of the rotation frequencies."),
        ] + Opcode.outputOptions,
        summary: "Rotary position embedding of each row (one head's vector; Llama's rotate-half form).",
        semantics:
          "For each row r of n elements (n even, h = n/2; r counts the view's rows in order, over all"
          + " its leading dimensions) at position p = pos + r: for j < h,"
          + " `θ = p · base^(−2j/n)`, `x_j = a_j·cos θ − a_(j+h)·sin θ`,"
          + " `x_(j+h) = a_(j+h)·cos θ + a_j·sin θ` (f64), stored as described under *Output options*.")
    case .rmsnorm:
      return OpcodeSpec(
        "rmsnorm", family: .rmsnorm, operands: [.init("D", .view), .init("A", .view)],
        options: [
          Opcode.gammaOption,
          OptionSpec(
            "eps", .float, default: .float(VectorOperation.defaultRMSEpsilon), "Added to the mean square."),
        ] + Opcode.outputOptions,
        summary: "Row-wise RMS normalisation over the last dimension (Llama's RMSNorm).",
        semantics:
          "For each row of n elements: `ms = Σa²/n`, `x_j = a_j / √(ms + eps) · γ_j` (f64), stored as"
          + " described under *Output options*.")
    case .layernorm:
      return OpcodeSpec(
        "layernorm", family: .layernorm, operands: [.init("D", .view), .init("A", .view)],
        options: [
          Opcode.gammaOption,
          OptionSpec("beta", .view, "Shift, shape [n] or [1, n]; absent means 0."),
          OptionSpec(
            "eps", .float, default: .float(VectorOperation.defaultEpsilon), "Added to the variance."),
        ] + Opcode.outputOptions,
        summary: "Row-wise layer normalisation over the last dimension.",
        semantics:
          "For each row of n elements: `μ = Σa/n`, `σ² = Σ(a − μ)²/n`,"
          + " `x_j = (a_j − μ)/√(σ² + eps) · γ_j + β_j` (f64), stored as described under"
          + " *Output options*.")
    case .amax: return Opcode.reduction("amax", .amax, "max |a| over every element of A")
    case .rmax: return Opcode.reduction("rmax", .max, "max a over every element of A")
    case .rsum: return Opcode.reduction("rsum", .sum, "Σ a over every element of A (f64, in order)")
    case .rowmax: return Opcode.rowReduction("rowmax", .max, "max a", "NaN if any is NaN")
    case .rowsum: return Opcode.rowReduction("rowsum", .sum, "Σ a", "in f64, in order")

    // MARK: Tensor
    case .mma:
      return OpcodeSpec(
        "mma", family: .mma, operands: [.init("D", .view), .init("A", .view), .init("B", .view)],
        options: [
          OptionSpec(
            "acc", .choice([MatrixMultiply.autoAccumulator] + Accumulator.allCases.map(\.rawValue)),
            default: .choice(MatrixMultiply.autoAccumulator),
            "Accumulator: `auto` is D's type; `fp22` and `f32rz` need an f32 D."),
          OptionSpec("ta", .flag, "A is stored transposed, [K, M]."),
          OptionSpec("tb", .flag, "B is stored transposed, [N, K]."),
          OptionSpec("clear", .flag, "Start from zero instead of D's contents."),
          OptionSpec("amax", .floatDest, "Also write max |D| after the operation."),
        ],
        summary: "D[M,N] += A[M,K] · B[K,N] in the accumulator's precision.",
        semantics:
          "Every product `a·b` is exact: never rounded, flushed to zero or overflowed on its own"
          + " (bf16 and f32 products can lie far outside f32's range). For each element of D, the"
          + " products are added in increasing k, starting from D (or 0 with `clear=1`):\n"
          + "- `f32`: `acc = RN_f32(acc + a_k·b_k)`: a fused multiply-add per product, the exact"
          + " sum rounded once to nearest even; f32 subnormals are kept (no flush to zero); overflow"
          + " gives ±inf.\n"
          + "- `f16`: `acc = RN_f16(acc + a_k·b_k)`, the exact sum rounded once to f16 (subnormals"
          + " down to 2^-24; ±inf from 65520 up). An f16 accumulator stagnates once its spacing"
          + " exceeds twice the products.\n"
          + "- `bf16`: `acc = RN_bf16(acc + a_k·b_k)`, the exact sum rounded once to bf16"
          + " (subnormals down to 2^-133; ±inf from 2^128 − 2^119 up).\n"
          + "- `fp22` (H100-like FP8 path, DeepSeek-V3 §3.5.2; bit for bit MMA-Sim's Hopper FP8"
          + " model, docs/hardware-numbers.md E7): K is split into groups of 32 within the"
          + " instruction. Each input x ≠ 0 is read as s·2^e with s in [1, 2), a zero at e = −126, or with e at its"
          + " format's smallest normal exponent and s below 1 for a subnormal (−6 for E4M3, −14"
          + " for E5M2 and f16, −126 for bf16 and f32; fp22 takes no block-scaled, FP6 or FP4 operand); a"
          + " product a·b is aligned at"
          + " ea + eb (its significand, in [0, 4), is not renormalised) and the accumulator at its"
          + " own exponent. E is the largest of −126 and these exponents over all terms (a zero product"
          + " too, as MMA-Sim reads it);"
          + " every term is truncated toward zero to a multiple of 2^(E−13);"
          + " the terms are added exactly; the sum is truncated toward zero to 14 significant bits"
          + " (1 sign, 8 exponent, 13 mantissa bits: an f32 with its low 10 mantissa bits clear, so"
          + " below 2^-126 a multiple of 2^-139). A result of magnitude 2^128 or more is ±inf (the"
          + " f32 register overflows; truncation does not saturate); a zero result is +0.\n"
          + "- `f32rz` (Blackwell-like `tcgen05.mma` into f32; bit for bit MMA-Sim's model,"
          + " docs/hardware-numbers.md E7): as `fp22`, with 25 fractional bits below E and the group's"
          + " sum truncated toward zero to f32 (24 significant bits; below 2^-126 a multiple of"
          + " 2^-149). Inputs are FP8, FP6 or FP4, unscaled or MX block-scaled with blocks along K"
          + " (`kind::f8f6f4`, `kind::mxf8f6f4`); a block-scaled element adds its block scale's"
          + " exponent to e, so a group of 32 is one MX block and the views must cover whole blocks."
          + " MXFP4 and NVFP4 inputs (`kind::mxf4`, `kind::mxf4nvf4`) take K in steps of 64: four exact"
          + " sums of 16 element products, each times its two block scales and aligned at their"
          + " exponents sa + sb (an E4M3 scale read as at least 2^-6, a zero one at −126; a zero sum"
          + " aligns too), with the accumulator at its own exponent, truncated at 35 fractional bits"
          + " below the largest, added exactly, then truncated toward zero to f32 (NVFP4's tensor scales"
          + " are not part of it: the tensors hold their values without them). fp8sim reads a block's"
          + " scale back from its values (an MX block's largest element lies in the element format's"
          + " top binade unless its scale is E8M0's smallest, 2^-127; an NVFP4 block's is 6 unless its"
          + " scale is subnormal). FP32-scaled tensors"
          + " (`ELEMENT_f32_RxC`) have no hardware path: `f32rz` refuses them.\n"
          + "- Non-finite values, every accumulator: a NaN in A, B or D, inf − inf or 0·inf gives NaN;"
          + " otherwise an infinite product or accumulator gives that infinity (IEEE addition). The"
          + " sign of an exact zero sum follows IEEE addition (f32, f16, bf16).\n\n"
          + "A and B are FP8 (any mix of E4/E5 formats, plain or block-scaled), both of one"
          + " block-scaled FP6 or FP4 type (blocks along either axis: `mxfp4` and `mxfp4_t`), both of"
          + " one unscaled FP6 or FP4 format, or both f16, both bf16 or both f32. A block-scaled operand is multiplied as its values (each element times its"
          + " block's scale) and accumulated as above. FP6 inputs, and FP4 ones without block scales"
          + " (Blackwell's `kind::f8f6f4`), run at `tensor.macsPerCycle.fp6`; block-scaled FP4 (MXFP4,"
          + " NVFP4) at `tensor.macsPerCycle.fp4`; a device where the rate is 0 faults. D is"
          + " f16, bf16 or f32, in SRAM or in accumulator storage (`acc`). The result is *not* unscaled: follow with"
          + " `cast D, D, bias=−(b_a+b_b)` as the paper's `unscale`.")

    // MARK: Sync
    case .barrier:
      return OpcodeSpec(
        "barrier", family: .barrier, summary: "Wait for every tile.",
        semantics:
          "A tile arrives once its own vector, tensor and DMA work has finished; all tiles leave"
          + " together, `barrier` cycles after the last arrival. Every tile must reach the same"
          + " barrier: the run faults when a tile waits at another barrier or all-reduce, or has"
          + " halted (halted tiles are not excused: a tile with no work still takes part).")
    case .allreduceMax:
      return Opcode.allReduce("allreduce.max", .max, "maximum", detail: "NaN if any is NaN")
    case .allreduceSum:
      return Opcode.allReduce("allreduce.sum", .sum, "sum", detail: "added in tile order, f64")
    }
  }

  /// The opcode of a mnemonic.
  public static let byMnemonic: [String: Opcode] = Dictionary(
    uniqueKeysWithValues: allCases.map { ($0.spec.mnemonic, $0) })

  /// `spec.unit` and `spec.mnemonic` without building the spec or hashing (for the
  /// simulator's hot loop), indexed by `ordinal`.
  private static let units: [UnitKind] = allCases.map(\.spec.unit)
  private static let mnemonics: [String] = allCases.map(\.spec.mnemonic)

  /// The case's position in `allCases`: a payload-free enum stores its cases numbered in
  /// declaration order (`OpcodeTableTests` checks this for every case), so this reads the tag
  /// instead of hashing the raw string.
  @inline(__always) public var ordinal: Int { Int(unsafeBitCast(self, to: UInt8.self)) }
  /// The opcode of each family member (one-to-one: `OpcodeTableTests` checks it).
  static let byFamily: [Family: Opcode] = Dictionary(
    uniqueKeysWithValues: allCases.map { ($0.spec.family, $0) })
  public var unit: UnitKind { Opcode.units[ordinal] }
  public var mnemonic: String { Opcode.mnemonics[ordinal] }

  // MARK: - Row builders for families of instructions

  /// The row normalisations' scale (`layernorm`, `rmsnorm`).
  static let gammaOption = OptionSpec("gamma", .view, "Scale, shape [n] or [1, n]; absent means 1.")

  /// The options every vector instruction that writes a tensor accepts.
  public static let outputOptions: [OptionSpec] = [
    OptionSpec(
      "bias", .intSource, default: OutputOptions.defaults.bias.operand,
      "Scaling bias b: each result x is stored as cast(x·2^b)."),
    OptionSpec(
      "round", .choice(RoundingMode.allCases.map(\.rawValue)),
      default: .choice(OutputOptions.defaults.rounding.rawValue), "Rounding to D's type."),
    OptionSpec(
      "overflow", .choice(OverflowMode.allCases.map(\.rawValue)),
      default: .choice(OutputOptions.defaults.overflow.rawValue), "What a value beyond D's range becomes."),
    OptionSpec("seed", .int, default: .int(OutputOptions.defaults.seed), "Seed of stochastic rounding."),
    OptionSpec("amax", .floatDest, "Also write max |x| of the unscaled results (NaN if any is NaN)."),
    OptionSpec(
      "tamax", .floatSource,
      "Only into an NVFP4 tensor: the tensor's amax, which sets its f32 tensor scale amax / (448·6); absent: the amax of this instruction's input."
    ),
    OptionSpec(
      "tscale", .floatDest,
      "Only into an NVFP4 tensor: also write its tensor scale, by which the tensor's values are divided (multiply a matmul's result by the two scales)."
    ),
  ]

  static func integerBinary(_ mnemonic: String, _ op: IntegerOperator, _ summary: String, more: String = "")
    -> OpcodeSpec
  {
    OpcodeSpec(
      mnemonic, family: .integer(op),
      operands: [.init("rD", .intDest), .init("iA", .intSource), .init("iB", .intSource)],
      summary: summary,
      semantics: [summary, more, "64-bit signed; overflow faults."].filter { !$0.isEmpty }
        .joined(separator: " "))
  }

  static func floatBinary(_ mnemonic: String, _ op: FloatOperator, _ summary: String, more: String = "")
    -> OpcodeSpec
  {
    OpcodeSpec(
      mnemonic, family: .float(op),
      operands: [.init("fD", .floatDest), .init("fA", .floatSource), .init("fB", .floatSource)],
      summary: summary,
      semantics: [summary, more, "f64 arithmetic."].filter { !$0.isEmpty }.joined(separator: " "))
  }

  static func branch(_ mnemonic: String, _ c: Condition, _ condition: String) -> OpcodeSpec {
    OpcodeSpec(
      mnemonic, family: .branch(c),
      operands: [.init("iA", .intSource), .init("iB", .intSource), .init("LABEL", .label)],
      summary: "Jump to LABEL if \(condition).",
      semantics: "Continues at `LABEL` when \(condition), otherwise at the next instruction.")
  }

  static func vectorBinary(_ mnemonic: String, _ f: BinaryFunction, _ formula: String) -> OpcodeSpec {
    OpcodeSpec(
      mnemonic, family: .binary(f),
      operands: [.init("D", .view), .init("A", .view), .init("B", .viewOrFloat)],
      options: outputOptions, summary: "Elementwise \(formula).",
      semantics:
        "For every element, `\(formula)` in f64, stored as described under *Output options*."
        + " `B` has D's shape, or is one row (`[n]` or `[1, n]`) applied to every row, or one"
        + " column (D's shape with the last dimension 1, e.g. `[rows, 1]`: element i applied to"
        + " every element of row i), or a float value.")
  }

  static func vectorUnary(_ mnemonic: String, _ f: UnaryFunction, _ formula: String) -> OpcodeSpec {
    OpcodeSpec(
      mnemonic, family: .unary(f), operands: [.init("D", .view), .init("A", .view)],
      options: outputOptions, summary: "Elementwise \(formula).",
      semantics:
        "For every element, `\(formula)` in f64, stored as described under *Output options*.")
  }

  static func reduction(_ mnemonic: String, _ r: Reduction, _ what: String) -> OpcodeSpec {
    OpcodeSpec(
      mnemonic, family: .reduction(r), operands: [.init("fD", .floatDest), .init("A", .view)],
      summary: "fD = \(what).",
      semantics:
        "Reads every element of `A` once and writes \(what) to `fD` (NaN if any element is"
        + " NaN). An instruction that reads `fD` waits for it.")
  }

  static func rowReduction(_ mnemonic: String, _ r: Reduction, _ what: String, _ detail: String)
    -> OpcodeSpec
  {
    OpcodeSpec(
      mnemonic, family: .rowReduction(r), operands: [.init("D", .view), .init("A", .view)],
      options: outputOptions, summary: "Row-wise \(what) into a column: D[i, 0] = \(what) over row i of A.",
      semantics:
        "For each row of `A` (its last dimension): `x = \(what)` over the row (\(detail)), stored"
        + " as described under *Output options* in the row's element of `D`, whose shape is `A`'s"
        + " with the last dimension 1 (`[rows, 1]`). With a column operand of `vsub`/`vmul`"
        + " (B of shape `[rows, 1]`) this makes a numerically stable softmax over blocks of"
        + " columns (flash attention's running maximum and sum).")
  }

  static func allReduce(_ mnemonic: String, _ c: AllReduce.Combine, _ what: String, detail: String)
    -> OpcodeSpec
  {
    OpcodeSpec(
      mnemonic, family: .allReduce(c), operands: [.init("fD", .floatDest), .init("fS", .floatSource)],
      options: [
        OptionSpec(
          "async", .flag,
          "Do not wait: the tile contributes fS and continues; fD is ready when the reduction completes.")
      ],
      summary: "fD = \(what) of fS over all tiles.",
      semantics:
        "A barrier that also combines one float per tile: every tile's `fD` becomes the \(what)"
        + " of the tiles' `fS` (\(detail)). Modeled as a reduce then broadcast over a binary tree"
        + " of tiles (exchange traffic: 2·(T−1) messages of 4 bytes). With `async=1` a tile"
        + " contributes as soon as `fS` is ready, without waiting for its own units or for the"
        + " other tiles, and goes on; an instruction that reads `fD` waits until the reduction"
        + " has completed (delayed scaling reduces the amax of one step this way, off the data"
        + " path). Every tile must still reach the same all-reduce.")
  }
}

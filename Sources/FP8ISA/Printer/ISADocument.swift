import Foundation

/// Renders `isa/ISA.md` from the opcode table. `fp8sim isa` prints it; a test fails when the
/// committed file differs from this rendering.
public enum ISADocument {
  public static let header = """
    <!-- Generated from Sources/FP8ISA/Opcode.swift by `fp8sim isa > isa/ISA.md`. Do not edit. -->

    # fp8sim ISA reference

    Every tile runs the same program (SPMD); `tid` and `ntiles` tell tiles apart. The assembly
    syntax (directives, views, expressions, labels) is described in [syntax.md](syntax.md); the
    cost of each unit's work is given by the device description (`fp8sim devices --dump NAME`)
    and explained in [../docs/cost-model.md](../docs/cost-model.md).

    """

  public static func markdown() -> String {
    var out = header
    out += "\n## Summary\n\n| mnemonic | unit | operation |\n|---|---|---|\n"
    for op in Opcode.allCases {
      let s = op.spec
      out += "| [`\(s.mnemonic)`](#\(anchor(s.mnemonic))) | \(s.unit.rawValue) | \(escape(s.summary)) |\n"
    }
    out += "\n## Operand kinds\n\n| written | kind | what it accepts |\n|---|---|---|\n"
    for kind in OperandKind.allCases {
      out += "| `\(kind.placeholder)` | \(kind.rawValue) | \(escape(operandHelp(kind))) |\n"
    }
    out += """

      ## Output options

      Every vector instruction that writes a tensor `D` computes each result `x` in f64 from its
      inputs' values and stores `cast_D(x · 2^bias)`: `D`'s element type, rounded once with
      `round`, out-of-range values handled by `overflow` (see `fp8sim formats` and
      [docs/formats.md](../docs/formats.md)). This makes a cast *fused into its producer* a single instruction
      (`gelu H8, H, bias=b` writes FP8 directly). With `amax=fD` the instruction also writes
      `max |x|` (before scaling) to `fD`, the on-the-fly amax used by delayed scaling.

      | option | values | default | meaning |
      |---|---|---|---|

      """
    for o in Opcode.outputOptions { out += optionRow(o) }
    out += "\n## Units\n\n"
    for unit in UnitKind.allCases {
      out += "- **\(unit.rawValue)**: \(unitHelp(unit))\n"
    }
    for unit in UnitKind.allCases {
      out += "\n## \(unit.rawValue.prefix(1).uppercased() + unit.rawValue.dropFirst()) instructions\n"
      for op in Opcode.allCases where op.spec.unit == unit {
        out += section(op.spec)
      }
    }
    return out
  }

  static func section(_ s: OpcodeSpec) -> String {
    var out = "\n### \(s.mnemonic)\n\n`\(s.signature)`\n\n\(s.semantics)\n"
    if !s.operands.isEmpty {
      out += "\nOperands: "
      out += s.operands.map { "`\($0.name)` (\($0.kind.placeholder))" }.joined(separator: ", ") + ".\n"
    }
    // The shared output options are listed once, for instructions that take all of them; an
    // instruction with only some of those names (mma's `amax`) lists its own.
    let takesOutputOptions = Opcode.outputOptions.allSatisfy { o in s.options.contains { $0.name == o.name } }
    let own =
      takesOutputOptions
      ? s.options.filter { o in !Opcode.outputOptions.contains { $0.name == o.name } } : s.options
    let shared = s.options.count - own.count
    if !own.isEmpty {
      out += "\n| option | values | default | meaning |\n|---|---|---|---|\n"
      for o in own { out += optionRow(o) }
    }
    if shared > 0 { out += "\nAccepts the [output options](#output-options).\n" }
    return out
  }

  static func optionRow(_ o: OptionSpec) -> String {
    let values: String
    switch o.kind {
    case .intSource: values = "`rN` or integer"
    case .int: values = "integer"
    case .float: values = "number"
    case .flag: values = "`0`, `1`"
    case .floatDest: values = "`fN`"
    case .floatSource: values = "`fN` or number"
    case .view: values = "view"
    case .choice(let words): values = words.map { "`\($0)`" }.joined(separator: ", ")
    }
    return "| `\(o.name)` | \(values) | \(o.defaultText.map { "`\($0)`" } ?? "none") | \(escape(o.help)) |\n"
  }

  static func operandHelp(_ kind: OperandKind) -> String {
    switch kind {
    case .intDest: return "an integer register `r0`…`r31` (written)"
    case .intSource: return "`r0`…`r31`, `tid`, `ntiles`, or a constant integer expression"
    case .floatDest: return "a float register `f0`…`f15` (written)"
    case .floatSource: return "`f0`…`f15` or a constant expression"
    case .label: return "a label defined anywhere in the program"
    case .view: return "a tensor view: `X`, `X[r1:+64, :]`, `B[r2, :, :]`"
    case .viewOrFloat: return "a tensor view or a float value broadcast to every element"
    case .dtype: return "an element type: " + DType.spellings.map { "`\($0)`" }.joined(separator: ", ")
    case .optionalCount:
      let absent = kind.absentValue.map(Disassembler.text(ofConstant:)) ?? "-"
      return
        "an optional non-negative integer constant or an integer register `r0`…`r31` (\(absent) when omitted)"
    }
  }

  static func unitHelp(_ unit: UnitKind) -> String {
    switch unit {
    case .scalar:
      return "in-order issue, one instruction per cycle; it hands vector, tensor and DMA work to"
        + " those units and continues without waiting (an instruction that reads a float register"
        + " still being produced waits for it)."
    case .dma:
      return "one engine per tile; transfers are asynchronous and finish in issue order; they"
        + " share the tile↔L2 and L2↔DRAM links with every other tile."
    case .vector: return "one per tile; instructions run in order, each once its inputs are ready."
    case .tensor: return "one per tile; instructions run in order, each once its inputs are ready."
    case .sync: return "device-wide synchronisation: every tile takes part."
    }
  }

  static func anchor(_ mnemonic: String) -> String {
    mnemonic.lowercased().filter { $0.isLetter || $0.isNumber }
  }

  static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
}

import FP8Formats
import Foundation

/// `Program` → canonical text. Assembling the output gives a program with the same meaning
/// (`Program.sameMeaning`), and printing that again gives the same text.
///
/// Canonical form: parameters and shapes are printed as values, options equal to their default
/// are omitted, floats use the shortest exact decimal.
public enum Disassembler {
  public static func text(of program: Program) -> String {
    var lines: [String] = []
    if let device = program.device {
      lines.append(".device " + (isWord(device) ? device : quoted(device)))
    }
    for p in program.params {
      switch p.value {
      case .int(let n): lines.append(".param \(p.name) = \(integer(n))")
      case .float: lines.append(".param \(p.name) = \(p.value)")
      }
    }
    for a in program.assertions { lines.append(".assert \(a.condition), \(quoted(a.message))") }
    for t in program.tensors { lines.append(declaration(t)) }
    if !program.outputs.isEmpty {
      lines.append(".output " + program.outputs.map { tensorName($0, in: program) }.joined(separator: ", "))
    }
    var labelsAt: [Int: [String]] = [:]
    for (name, index) in program.labels { labelsAt[index, default: []].append(name) }
    for (i, instruction) in program.instructions.enumerated() {
      for label in (labelsAt[i] ?? []).sorted() { lines.append("\(label):") }
      lines.append("  " + text(of: instruction, in: program))
    }
    for label in (labelsAt[program.instructions.count] ?? []).sorted() { lines.append("\(label):") }
    return lines.joined(separator: "\n") + "\n"
  }

  public static func declaration(_ t: TensorDecl) -> String {
    var text =
      ".tensor \(t.name) \(t.dtype) [\(t.shape.map(String.init).joined(separator: ", "))] \(t.space.rawValue)"
    switch t.initializer {
    case .zeros: break
    case .constant(let v): text += " const(\(number(v)))"
    case .randn(let seed, let mean, let std): text += " randn(\(seed), \(number(mean)), \(number(std)))"
    case .uniform(let seed, let lo, let hi): text += " uniform(\(seed), \(number(lo)), \(number(hi)))"
    case .npy(let path): text += " npy(\(quoted(path)))"
    case .safetensors(let path, let name): text += " safetensors(\(quoted(path)), \(quoted(name)))"
    }
    return text
  }

  /// One instruction without its label, e.g. `mma C, A[r1:+16, :], B, acc=fp22`.
  public static func text(of instruction: Instruction, in program: Program) -> String {
    text(of: instruction.operation, in: program)
  }

  /// One operation, in canonical form: options equal to their default are left out.
  public static func text(of operation: Operation, in program: Program) -> String {
    let syntax = operation.syntax
    let spec = syntax.opcode.spec
    var parts: [String] = []
    for (i, operand) in syntax.operands.enumerated() {
      if operand == spec.operands[i].kind.absentValue { continue }
      parts.append(text(of: operand, in: program))
    }
    for option in spec.options {
      guard let value = syntax.options[option.name], value != option.defaultValue else { continue }
      parts.append("\(option.name)=\(text(of: value, in: program))")
    }
    return parts.isEmpty ? spec.mnemonic : spec.mnemonic + " " + parts.joined(separator: ", ")
  }

  public static func text(of operand: Operand, in program: Program) -> String {
    if case .view(let v) = operand { return text(of: v, in: program) }
    return text(ofConstant: operand)
  }

  /// An operand that names no tensor (views are printed with `text(of:in:)`).
  static func text(ofConstant operand: Operand) -> String {
    switch operand {
    case .intRegister(let r): return "r\(r)"
    case .special(let s): return s.rawValue
    case .int(let n): return integer(n)
    case .floatRegister(let r): return "f\(r)"
    case .float(let v): return number(v)
    case .label(let name, _): return name
    case .dtype(let d): return d.name
    case .choice(let word): return word
    case .view(let v): return "<tensor \(v.tensor)>"
    }
  }

  public static func text(of view: TensorView, in program: Program) -> String {
    let name = tensorName(view.tensor, in: program)
    if view.indices.isEmpty { return name }
    let indices = view.indices.map { index -> String in
      switch index {
      case .full: return ":"
      case .range(let start, let length): return "\(text(of: start)):+\(length)"
      case .rangeOfRegister(let start, let register): return "\(text(of: start)):+r\(register)"
      case .index(let start): return text(of: start)
      }
    }
    return "\(name)[\(indices.joined(separator: ", "))]"
  }

  /// A tensor's name; an index the program has no tensor for prints as text that cannot
  /// assemble (a program value built by hand may hold one).
  static func tensorName(_ index: Int, in program: Program) -> String {
    program.tensors.indices.contains(index) ? program.tensors[index].name : "<no tensor #\(index)>"
  }

  static func text(of start: SliceStart) -> String {
    guard let base = start.base else { return integer(start.offset) }
    let b: String
    switch base {
    case .register(let r): b = "r\(r)"
    case .special(let s): b = s.rawValue
    }
    if start.offset == 0 { return b }
    if start.offset == .min { return "\(b)+\(integer(.min))" }
    return start.offset > 0 ? "\(b)+\(start.offset)" : "\(b)-\(start.offset.magnitude)"
  }

  /// An integer as text that assembles back to it: Int64.min has no literal (its magnitude does
  /// not fit), so it is written as an expression.
  static func integer(_ n: Int64) -> String { n == .min ? "(-9223372036854775807 - 1)" : String(n) }

  /// Floats as shortest exact decimals; `inf`, `-inf` and `nan` are names the assembler knows.
  static func number(_ v: Double) -> String { ValueText.exact(v) }

  static func isWord(_ s: String) -> Bool {
    !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.+-".contains($0)) }
  }

  static func quoted(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
}

import Foundation
import Testing

@testable import FP8ISA

/// The ISA table checks itself, and `isa/ISA.md` is what the table generates.
@Suite struct OpcodeTableTests {
  @Test func mnemonicsAreUniqueAndLookupIsComplete() {
    let mnemonics = Opcode.allCases.map(\.spec.mnemonic)
    #expect(Set(mnemonics).count == mnemonics.count)
    #expect(Opcode.byMnemonic.count == Opcode.allCases.count)
    for op in Opcode.allCases { #expect(Opcode.byMnemonic[op.spec.mnemonic] == op) }
  }

  @Test(arguments: Opcode.allCases)
  func everyOpcodeIsDocumented(op: Opcode) {
    let s = op.spec
    #expect(!s.summary.isEmpty && s.summary.hasSuffix("."), "summary of \(s.mnemonic)")
    #expect(s.semantics.count >= 20, "semantics of \(s.mnemonic)")
    #expect(Set(s.options.map(\.name)).count == s.options.count, "options of \(s.mnemonic)")
    #expect(Set(s.operands.map(\.name)).count == s.operands.count, "operand names of \(s.mnemonic)")
    for o in s.options { #expect(!o.help.isEmpty, "\(s.mnemonic) \(o.name)") }
    // An optional count may only be the last operand.
    for (i, operand) in s.operands.enumerated() where operand.kind == .optionalCount {
      #expect(i == s.operands.count - 1)
    }
  }

  /// Each row declares its own family: lowering and `Operation.opcode` rely on it.
  @Test func familiesAreOneToOneWithOpcodes() {
    #expect(Opcode.byFamily.count == Opcode.allCases.count)
    for op in Opcode.allCases { #expect(Opcode.byFamily[op.spec.family] == op, "\(op)") }
    // Every member of every family enum has an instruction.
    let members: [Family] =
      IntegerOperator.allCases.map(Family.integer) + FloatOperator.allCases.map(Family.float)
      + Condition.allCases.map(Family.branch) + Transfer.Direction.allCases.map(Family.transfer)
      + BinaryFunction.allCases.map(Family.binary) + UnaryFunction.allCases.map(Family.unary)
      + Reduction.allCases.map(Family.reduction) + AllReduce.Combine.allCases.map(Family.allReduce)
    for m in members { #expect(Opcode.byFamily[m] != nil, "\(m)") }
  }

  @Test func everyUnitRunsSomething() {
    for unit in UnitKind.allCases {
      #expect(Opcode.allCases.contains { $0.spec.unit == unit }, "\(unit)")
    }
  }

  @Test func everyOperandKindIsUsed() {
    for kind in OperandKind.allCases {
      #expect(Opcode.allCases.contains { $0.spec.operands.contains { $0.kind == kind } }, "\(kind)")
    }
  }

  /// Writing an option's default explicitly is accepted and is the same as leaving it out.
  @Test func optionDefaultsAreValidValues() throws {
    let prelude = """
      .tensor D f32 [4, 4] sram
      .tensor A f32 [4, 4] sram
      .tensor G f32 [4] sram

      """
    for op in Opcode.allCases {
      let s = op.spec
      let operands: [String] = s.operands.map { operand in
        switch operand.kind {
        case .intDest: return "r1"
        case .intSource: return "3"
        case .floatDest: return "f1"
        case .floatSource: return "1.5"
        case .label: return "here"
        case .view, .viewOrFloat:
          if op == .rowmax || op == .rowsum { return operand.name == "D" ? "D[:, 0:+1]" : "A" }
          return op == .mma ? "D" : (operand.name == "D" ? "D" : "A")
        case .dtype: return "fp8e4"
        case .optionalCount: return "1"
        }
      }
      let defaults = s.options.compactMap { o in o.defaultText.map { "\(o.name)=\($0)" } }
      let plain = "\(prelude)here: \(s.mnemonic) \(operands.joined(separator: ", "))"
      let explicit = plain + (defaults.isEmpty ? "" : ", " + defaults.joined(separator: ", "))
      if op == .dmaLoad || op == .dmaStore { continue }  // no options; need a dram operand
      let p1 = try assembleOK(plain)
      let p2 = try assembleOK(explicit)
      #expect(p1.instructions[0].sameOperation(as: p2.instructions[0]), "\(s.mnemonic)")
      let printed = Disassembler.text(of: p2.instructions[0], in: p2)
      #expect(!printed.contains("="), "\(s.mnemonic): defaults should be dropped, got \(printed)")
    }
  }

  @Test func isaReferenceIsCurrent() throws {
    let url = packageRoot.appendingPathComponent("isa/ISA.md")
    let committed = try String(contentsOf: url, encoding: .utf8)
    #expect(
      committed == ISADocument.markdown(),
      "isa/ISA.md is stale: regenerate it with `swift run fp8sim isa > isa/ISA.md`")
  }

  @Test func referenceDocumentsEveryInstructionAndOption() {
    let doc = ISADocument.markdown()
    for op in Opcode.allCases {
      #expect(doc.contains("\n### \(op.spec.mnemonic)\n"), "\(op.spec.mnemonic)")
      for o in op.spec.options { #expect(doc.contains("| `\(o.name)` |"), "\(op.spec.mnemonic) \(o.name)") }
    }
  }

  /// `Opcode.ordinal` reads the enum's tag: one byte, cases numbered in declaration order.
  @Test func ordinalIsThePositionInAllCases() {
    #expect(MemoryLayout<Opcode>.size == 1)
    for (i, op) in Opcode.allCases.enumerated() {
      #expect(op.ordinal == i, "\(op)")
      #expect(op.unit == op.spec.unit && op.mnemonic == op.spec.mnemonic, "\(op)")
    }
  }
}

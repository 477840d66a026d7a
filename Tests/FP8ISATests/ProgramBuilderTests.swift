import FP8Formats
import Foundation
import Testing

@testable import FP8ISA

@Suite struct ProgramBuilderTests {
  /// Rebuilds an assembled program through the builder: every directive and typed operation.
  static func rebuild(_ p: Program) -> ProgramBuilder {
    var b = ProgramBuilder(device: p.device, path: "rebuilt.isa")
    let handles = p.tensors.map { b.tensor($0.name, $0.dtype, $0.shape, $0.space, $0.initializer) }
    for o in p.outputs { b.output(handles[o]) }
    var labelsAt: [Int: [String]] = [:]
    for (name, index) in p.labels { labelsAt[index, default: []].append(name) }
    for (i, instruction) in p.instructions.enumerated() {
      for name in labelsAt[i] ?? [] { b.place(b.label(name)) }
      var operation = instruction.operation
      operation.resolveLabel(to: -1)  // the builder resolves targets by name
      b.emit(operation)
    }
    for name in labelsAt[p.instructions.count] ?? [] { b.place(b.label(name)) }
    return b
  }

  /// Built → printed → assembled gives the same program, on the seeded random programs of
  /// `RoundTripTests` (every opcode, operand form and option).
  @Test(arguments: 0..<300)
  func randomProgramsRebuildToTheSameProgram(seed: Int) throws {
    var generator = ProgramGenerator(seed: UInt64(seed))
    var original = try assembleOK(generator.program())
    // A built program holds values, not parameters.
    original.params = []
    original.assertions = []
    let builder = Self.rebuild(original)
    #expect(builder.resolved.sameMeaning(as: original), "seed \(seed)")
    let built = try builder.build()
    #expect(built.sameMeaning(as: original), "seed \(seed):\n\(builder.text)")
    #expect(Disassembler.text(of: built) == Disassembler.text(of: original))
  }

  /// `Kernels.doubleBufferedGEMM` with the example's sizes is `examples/gemm_fp8.isa` (whose
  /// parameters it takes as values).
  @Test func gemmKernelIsTheExampleProgram() throws {
    let url = packageRoot.appendingPathComponent("examples/gemm_fp8.isa")
    var example = try assembleOK(try String(contentsOf: url, encoding: .utf8))
    example.params = []
    example.assertions = []
    let built = try Kernels.doubleBufferedGEMM(
      Kernels.GEMMShape(m: 64, n: 64, k: 256, tm: 16, tn: 64, tk: 64), device: "teach"
    ).build()
    #expect(built.sameMeaning(as: example))
    #expect(Disassembler.text(of: built) == Disassembler.text(of: example))
    #expect(built.params.isEmpty)
  }

  /// Sizes the kernel cannot be built for are errors, not crashes.
  @Test func gemmKernelRefusesBadSizes() {
    for (m, tm) in [(64, 0), (64, -16), (64, 48), (0, 16), (1 << 33, 1)] {
      #expect(throws: Kernels.SizeError.self) {
        _ = try Kernels.doubleBufferedGEMM(Kernels.GEMMShape(m: m, n: 64, k: 64, tm: tm, tn: 64, tk: 64))
      }
    }
  }

  /// Names that would not read back as one name, and views of another builder's tensors.
  @Test func badNamesAndForeignTensors() {
    var b = ProgramBuilder(path: "names.isa")
    let x = b.tensor("X f32 [1] sram\n.tensor Y", .format(.f32), [1], .sram)
    _ = b.tensor("", .format(.f32), [1], .sram)
    b.emit(.vector(VectorOperation(.fill(1), destination: x.all)))
    b.place(b.label("r3"))
    var other = ProgramBuilder()
    for name in ["A", "B", "C"] { _ = other.tensor(name, .format(.f32), [1], .sram) }
    let foreign = other.tensor("D", .format(.f32), [1], .sram)
    b.emit(.vector(VectorOperation(.fill(1), destination: foreign.all)))
    do {
      _ = try b.build()
      Issue.record("built")
    } catch {
      let text = error.description
      #expect(text.contains(#"'X f32 [1] sram\u{A}.tensor Y' cannot name a tensor"#), "\(text)")
      #expect(text.contains("'' cannot name a tensor"), "\(text)")
      #expect(text.contains("'r3' cannot name a label"), "\(text)")
      #expect(text.contains("tensor #3 is not declared by this builder"), "\(text)")
    }
  }

  /// A built program goes through every check of the assembler: errors point at the printed
  /// text.
  @Test func buildReportsAssemblerErrorsOnThePrintedText() throws {
    var b = ProgramBuilder(path: "bad.isa")
    let x = b.tensor("X", .format(.f32), [4], .dram)
    let y = b.tensor("Y", .format(.f32), [8], .sram)
    b.emit(.dma(Transfer(.load, destination: y.all, source: x.all)))
    b.emit(.jump(b.label("nowhere")))
    do {
      _ = try b.build()
      Issue.record("a DMA between different shapes built")
    } catch {
      let text = error.description
      #expect(text.contains("bad.isa:3:12: error: shape mismatch: destination [8] vs source [4]"), "\(text)")
      #expect(text.contains("bad.isa:4:7: error: unknown label 'nowhere'"), "\(text)")
    }
  }

  /// A label placed twice is an error (the printed text could only show one of the places), as
  /// are registers that do not exist.
  @Test func labelPlacedTwiceAndBadRegisters() {
    var b = ProgramBuilder(path: "twice.isa")
    let l = b.label("again")
    b.place(l)
    b.emit(.nop)
    b.place(l)
    #expect(throws: DiagnosticList.self) { try b.build() }
    do {
      _ = try b.build()
    } catch {
      #expect(
        error.description.contains("twice.isa:1:1: error: label 'again' is already defined"), "\(error)")
    }
    var r = ProgramBuilder(path: "regs.isa")
    r.emit(.move(dest: 40, source: .register(-1)))
    do {
      _ = try r.build()
      Issue.record("r40 built")
    } catch {
      #expect(error.description.contains("register 'r40' does not exist"), "\(error)")
    }
  }

  /// NaN and signed-zero constants survive printing.
  @Test func nanAndNegativeZeroConstants() throws {
    var b = ProgramBuilder()
    let t = b.tensor("T", .format(.f32), [2], .sram)
    b.emit(.vector(VectorOperation(.fill(.constant(.nan)), destination: t[.range(0, 1)])))
    b.emit(.vector(VectorOperation(.fill(.constant(-0.0)), destination: t[.range(1, 1)])))
    let p = try b.build()
    #expect(Disassembler.text(of: p).contains("vfill T[0:+1], nan\n  vfill T[1:+1], -0.0\n"))
  }

  /// Labels may be placed before or after the branches that name them; views and literals.
  @Test func labelsViewsAndLiterals() throws {
    var b = ProgramBuilder()
    let t = b.tensor("T", .format(.f32), [4, 8], .sram)
    let top = b.label("top")
    let end = b.label("end")
    b.place(top)
    b.emit(.integer(.add, dest: 1, a: .register(1), b: 1))
    b.emit(.branch(.greaterOrEqual, a: .register(1), b: 3, target: end))
    b.emit(.vector(VectorOperation(.fill(0.5), destination: t[.index(.register(1)), .range(2, 4)])))
    b.emit(.jump(top))
    b.place(end)
    let p = try b.build()
    #expect(
      b.text == """
        .tensor T f32 [4, 8] sram
        top:
          add r1, r1, 1
          bge r1, 3, end
          vfill T[r1, 2:+4], 0.5
          jmp top
        end:

        """)
    #expect(p.labels == ["top": 0, "end": 4])
    #expect(p.instructions[1].operation.label == Label("end", target: 4))
  }
}

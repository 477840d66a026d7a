import FP8Formats
import Foundation
import Testing

@testable import FP8ISA

/// What the assembler makes of valid programs.
@Suite struct AssemblerTests {
  @Test func directivesParamsAndExpressions() throws {
    let p = try assembleOK(
      """
      .device ipu            ; comment
      .param M = 2 * (3 + 5)
      .param K = M / 3       ; integer division truncates
      .param s = 0.5 * M
      .param neg = -M % 5
      .tensor X f16 [M, K + 1] dram randn(7, -1.5, s)
      .tensor W fp8e4 [4] sram const(-0.0)
      .tensor U bf16 [2, 2, 2] dram uniform(3, -1, 1)
      .output X
      """)
    #expect(p.device == "ipu")
    #expect(p.params.map(\.value) == [.int(16), .int(5), .float(8), .int(-1)])
    #expect(p.tensors[0].shape == [16, 6])
    #expect(p.tensors[0].initializer == .randn(seed: 7, mean: -1.5, std: 8))
    #expect(p.tensors[1].dtype == .fp8e4 && p.tensors[1].space == .sram)
    if case .constant(let v) = p.tensors[1].initializer {
      #expect(v.sign == .minus && v == 0)
    } else {
      Issue.record("expected const")
    }
    #expect(p.tensors[2].dtype == .format(.bf16))
    #expect(p.outputs == [0])
  }

  @Test func overridesReplaceParamValuesWhereDeclared() throws {
    let text = ".param M = 4\n.param N = M * 2\n.tensor X f32 [N] dram\n"
    let p = try assembleOK(text, overrides: ["M": "10"])
    #expect(p.params.map(\.value) == [.int(10), .int(20)])
    #expect(p.params[0].overridden && !p.params[1].overridden)
    #expect(p.tensors[0].shape == [20])
    let bad = diagnostics(".param M = 4\n")
    #expect(bad.isEmpty)
    do {
      _ = try Assembler.assemble(text: text, options: .init(overrides: ["M": "x"]))
      Issue.record("should fail")
    } catch {
      #expect(error.diagnostics.first?.message.id == "invalidOptionValue")
    }
  }

  @Test func viewsLabelsAndOptions() throws {
    let p = try assembleOK(
      """
      .tensor A fp8e4 [64, 32] dram
      .tensor b fp8e4 [2, 16, 32] sram
      .tensor c f32 [16, 16] sram
      top:  dma.load b[r7, :, :], A[r1+16:+16, :]
            mma c, b[1, :, :], b[0, :, :], tb=1, acc=fp22, clear=1, amax=f3
            cast c, c, bias=-(3 + 4), round=stochastic, seed=9
            blt r1, ntiles, top
      end:
      """)
    let b0 = TensorView(
      tensor: 1, indices: [.index(SliceStart(base: .register(7), offset: 0)), .full, .full])
    let a = TensorView(
      tensor: 0, indices: [.range(SliceStart(base: .register(1), offset: 16), length: 16), .full])
    #expect(p.instructions[0].operation == .dma(Transfer(.load, destination: b0, source: a)))
    let b = { (i: Int64) in TensorView(tensor: 1, indices: [.index(SliceStart(offset: i)), .full, .full]) }
    let c = TensorView(tensor: 2, indices: [])
    #expect(
      p.instructions[1].operation
        == .mma(
          MatrixMultiply(
            d: c, a: b(1), b: b(0), accumulator: .fp22, transposeB: true, clear: true, amax: 3)))
    #expect(
      p.instructions[2].operation
        == .vector(
          VectorOperation(
            .cast(c), destination: c,
            output: OutputOptions(bias: .constant(-7), rounding: .stochastic, seed: 9))))
    #expect(
      p.instructions[3].operation
        == .branch(.less, a: .register(1), b: .special(.ntiles), target: Label("top", target: 0)))
    #expect(p.labels == ["top": 0, "end": 4])
  }

  @Test func canonicalPrintingDropsDefaultsAndEvaluatesParams() throws {
    let p = try assembleOK(
      """
      .param T = 8
      .tensor x f16 [T, T] sram
      .tensor y fp8e5 [T, T] sram
        cast y, x, bias=0, round=nearest-even, overflow=saturate
        dma.wait 0
        dma.wait T - 6
      """)
    #expect(
      Disassembler.text(of: p) == """
        .param T = 8
        .tensor x f16 [8, 8] sram
        .tensor y fp8e5 [8, 8] sram
          cast y, x, overflow=saturate
          dma.wait
          dma.wait 2

        """)
  }

  /// The example at the top of `isa/syntax.md` is a real program.
  @Test func theSyntaxGuideExampleAssembles() throws {
    let doc = try String(contentsOf: packageRoot.appendingPathComponent("isa/syntax.md"), encoding: .utf8)
    let blocks = doc.components(separatedBy: "```")
    let program = try #require(blocks.first { $0.contains(".device teach") })
    let p = try assembleOK(program)
    #expect(
      p.instructions.map(\.opcode) == [
        .mul, .dmaLoad, .dmaWait, .amax, .allreduceMax, .bias, .cast, .dmaStore,
      ])
  }

  @Test func theGemmExampleAssembles() throws {
    let url = packageRoot.appendingPathComponent("examples/gemm_fp8.isa")
    let text = try String(contentsOf: url, encoding: .utf8)
    let p = try assembleOK(text)
    #expect(p.instructions.count == 29)
    #expect(p.instructions.filter { $0.opcode == .mma }.count == 2)
  }

  @Test(arguments: [
    ("0x10", ParamValue.int(16)), ("1e3", .float(1000)), ("7 % -4", .int(3)), ("-7 / 2", .int(-3)),
    ("2 * 3 + 4", .int(10)), ("2 * (3 + 4)", .int(14)), ("1.5 + 1", .float(2.5)), ("- -3", .int(3)),
    ("0x1p-3", .float(0.125)),
  ])
  func constantExpressions(text: String, value: ParamValue) throws {
    let p = try assembleOK(".param v = \(text)\n")
    #expect(p.params[0].value == value)
  }

  @Test func assertionsHoldWithTheFinalParametersAndPrint() throws {
    let text =
      ".param M = 64\n.param T = 16\n.assert M % T == 0 && M >= 2 * T && 1.5 < 2, \"M: whole blocks\"\n  nop\n"
    let program = try Assembler.assemble(text: text)
    #expect(program.assertions.map(\.condition) == ["M % T == 0 && M >= 2 * T && 1.5 < 2"])
    let printed = Disassembler.text(of: program)
    #expect(printed.contains(".assert M % T == 0 && M >= 2 * T && 1.5 < 2, \"M: whole blocks\"\n"))
    #expect(try Assembler.assemble(text: printed).sameMeaning(as: program))
    // --set values are the ones checked.
    let overridden = Assembler.Options(overrides: ["M": "40"])
    do {
      _ = try Assembler.assemble(text: text, options: overridden)
      Issue.record("M = 40 must fail the assertion")
    } catch {
      #expect(error.diagnostics.first?.message.id == "assertionFailed")
      #expect(
        error.diagnostics.first?.notes == [
          "'M % T == 0 && M >= 2 * T && 1.5 < 2' does not hold with M = 40, T = 16"
        ])
    }
    for (condition, holds) in [("1 != 1", false), ("2 <= 2", true), ("3 > 2.5", true), ("-1 >= 0", false)] {
      let ok = (try? Assembler.assemble(text: ".assert \(condition), \"m\"\n")) != nil
      #expect(ok == holds, "\(condition)")
    }
  }

  @Test func assertComparesIntegersWithFloatsExactly() throws {
    // 2^53 + 1 is not a double: the comparison must not round it.
    #expect(Assembler.compare(.int(9_007_199_254_740_993), ">", .float(9_007_199_254_740_992.0)))
    #expect(!Assembler.compare(.int(9_007_199_254_740_993), "==", .float(9_007_199_254_740_992.0)))
    #expect(Assembler.compare(.float(9_007_199_254_740_992.0), "<", .int(9_007_199_254_740_993)))
    #expect(Assembler.compare(.int(.max), "<", .float(9_223_372_036_854_775_808.0)))
    #expect(Assembler.compare(.int(3), "==", .float(3.0)))
    #expect(!Assembler.compare(.int(3), "==", .float(.nan)) && Assembler.compare(.int(3), "!=", .float(.nan)))
  }
}

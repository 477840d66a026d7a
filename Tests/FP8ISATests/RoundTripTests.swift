import FP8Formats
import Foundation
import Testing

@testable import FP8ISA

/// Seeded random programs that exercise every opcode and operand form.
struct ProgramGenerator {
  var rng: SplitMix64
  var labels: [String] = []

  init(seed: UInt64) { rng = SplitMix64(seed: seed) }

  mutating func int(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(rng.next() % UInt64(range.count))
  }
  mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
  mutating func chance(_ p: Double) -> Bool { rng.nextUnit() < p }

  mutating func intSource() -> String {
    switch int(0...4) {
    case 0: return "r\(int(0...31))"
    case 1: return pick(["tid", "ntiles"])
    case 2: return String(int(-1000...1000))
    case 3: return "R + \(int(0...9))"
    default: return "-\(int(1...99999))"
    }
  }

  mutating func floatSource() -> String {
    switch int(0...5) {
    case 0: return "f\(int(0...15))"
    case 1: return String(Double(int(-4000...4000)) / 16)
    case 2: return pick(["inf", "-inf", "-0.0", "1e-300", "3.4028234663852886e+38", "0.1"])
    case 3: return "S * 2"
    default: return String(int(-50...50))
    }
  }

  /// A view of `name` (shape `shape`) with a random sub-shape of rank 2 and the sub-shape.
  mutating func view(_ name: String, _ shape: [Int], keep: [Int]? = nil) -> (String, [Int]) {
    var parts: [String] = []
    var viewShape: [Int] = []
    for (i, d) in shape.enumerated() {
      let length = keep?[i] ?? d
      if length == 0 {  // drop the dimension
        parts.append(chance(0.5) ? "r\(int(0...31))" : String(int(0...(d - 1))))
      } else if length == d && chance(0.5) {
        parts.append(":")
        viewShape.append(d)
      } else {
        let start: String
        switch int(0...2) {
        case 0: start = "r\(int(0...31))"
        case 1: start = "r\(int(0...31))+\(int(1...3))"
        default: start = String(int(0...(d - length)))
        }
        parts.append("\(start):+\(length)")
        viewShape.append(length)
      }
    }
    if keep == nil && chance(0.3) { return (name, shape) }
    return ("\(name)[\(parts.joined(separator: ", "))]", viewShape)
  }

  mutating func outputOptions() -> String {
    var o: [String] = []
    if chance(0.3) { o.append("bias=\(chance(0.5) ? "r\(int(0...31))" : String(int(-31...31)))") }
    if chance(0.3) { o.append("round=\(pick(["nearest-even", "toward-zero", "stochastic"]))") }
    if chance(0.3) { o.append("overflow=\(pick(["saturate", "nonfinite"]))") }
    if chance(0.2) { o.append("seed=\(int(0...100))") }
    if chance(0.2) { o.append("amax=f\(int(0...15))") }
    o.shuffle(using: &rng)
    return o.isEmpty ? "" : ", " + o.joined(separator: ", ")
  }

  mutating func instruction() -> String {
    let op = pick(Opcode.allCases)
    let m = op.spec.mnemonic
    let label = { (g: inout ProgramGenerator) in g.pick(g.labels) }
    switch op {
    case .nop, .halt, .barrier: return m
    case .mov: return "\(m) r\(int(0...31)), \(intSource())"
    case .add, .sub, .mul, .div, .rem, .min, .max:
      return "\(m) r\(int(0...31)), \(intSource()), \(intSource())"
    case .fmov: return "\(m) f\(int(0...15)), \(floatSource())"
    case .fadd, .fmul, .fmax, .fmin, .fdiv: return "\(m) f\(int(0...15)), \(floatSource()), \(floatSource())"
    case .fsqrt: return "\(m) f\(int(0...15)), \(floatSource())"
    case .jmp, .call: return "\(m) \(label(&self))"
    case .ret: return m
    case .beq, .bne, .blt, .bge: return "\(m) \(intSource()), \(intSource()), \(label(&self))"
    case .bias:
      var text = "\(m) r\(int(0...31)), \(floatSource()), \(pick(DType.spellings))"
      if chance(0.5) { text += ", margin=\(int(-3...5))" }
      if chance(0.3) { text += ", max=\(int(0...40)), min=\(int(-40...0))" }
      return text
    case .dmaLoad, .dmaStore:
      let (dram, dshape) = view("DX", [16, 12], keep: [int(1...16), int(1...12)])
      let (sram, _) = view("SX", [2, 16, 12], keep: [0, dshape[0], dshape[1]])
      return op == .dmaLoad ? "\(m) \(sram), \(dram)" : "\(m) \(dram), \(sram)"
    case .dmaWait: return chance(0.5) ? m : "\(m) \(chance(0.5) ? "r\(int(0...31))" : String(int(0...8)))"
    case .fence: return m + pick(["", " unit=all", " unit=vector", " unit=tensor"])
    case .vadd, .vsub, .vmul, .vdiv, .vmax:
      let (d, s) = view("V1", [8, 6], keep: [int(1...8), 6])
      let (a, _) = view("V2", [8, 6], keep: [s[0], 6])
      let b: String
      switch int(0...3) {
      case 0: b = view("V3", [8, 6], keep: [s[0], 6]).0
      case 1: b = chance(0.5) ? "ROW" : "ROW2"
      case 2: b = "COL[0:+\(s[0]), :]"
      default: b = floatSource()
      }
      return "\(m) \(d), \(a), \(b)\(outputOptions())"
    case .vfill: return "\(m) \(view("V1", [8, 6]).0), \(floatSource())\(outputOptions())"
    case .cast, .relu, .gelu, .geluTanh, .silu, .geluGrad, .geluTanhGrad, .siluGrad, .vsqrt, .exp, .softmax:
      let (d, s) = view(pick(["V1", "V8"]), [8, 6], keep: [int(1...8), int(1...6)])
      let (a, _) = view("V2", [8, 6], keep: s)
      return "\(m) \(d), \(a)\(outputOptions())"
    case .layernorm:
      var text = "\(m) V1, V2"
      if chance(0.5) { text += ", gamma=ROW" }
      if chance(0.5) { text += ", beta=ROW2" }
      if chance(0.5) { text += ", eps=\(pick(["1e-06", "0.001", "1e-05"]))" }
      return text + outputOptions()
    case .rope:
      let (d, s) = view("V1", [8, 6], keep: [int(1...8), 6])
      let (a, _) = view("V2", [8, 6], keep: s)
      var text = "\(m) \(d), \(a)"
      if chance(0.5) { text += ", pos=\(intSource())" }
      if chance(0.5) { text += ", base=\(pick(["10000", "500000.0", "2.5"]))" }
      return text + outputOptions()
    case .rmsnorm:
      var text = "\(m) V1, V2"
      if chance(0.5) { text += ", gamma=ROW" }
      if chance(0.5) { text += ", eps=\(pick(["1e-06", "0.001", "1e-05"]))" }
      return text + outputOptions()
    case .amax, .rmax, .rsum: return "\(m) f\(int(0...15)), \(view("V2", [8, 6]).0)"
    case .rowmax, .rowsum:
      let rows = int(1...8)
      return "\(m) COL[0:+\(rows), :], V2[0:+\(rows), :]\(outputOptions())"
    case .mma:
      let ta = chance(0.5)
      let tb = chance(0.5)
      var text = "\(m) \(pick(["MC", "MH"])), \(ta ? "MAT" : "MA"), \(tb ? "MBT" : "MB")"
      if ta { text += ", ta=1" }
      if tb { text += ", tb=1" }
      if chance(0.3) { text += ", clear=1" }
      if chance(0.3) { text += ", amax=f\(int(0...15))" }
      return text.hasPrefix("mma MC") && chance(0.4) ? text + ", acc=fp22" : text
    case .allreduceMax, .allreduceSum: return "\(m) f\(int(0...15)), \(floatSource())"
    }
  }

  mutating func program() -> String {
    labels = (0..<int(1...4)).map { "L\($0)" }
    var text = """
      .device \(pick(["teach", "h100", "ipu", "\"dev ices/x.json\""]))
      .param R = \(int(0...9))
      .param S = \(Double(int(-80...80)) / 4)
      .tensor DX \(pick(["f16", "fp8e4", "e5m2fnuz"])) [16, 12] dram randn(\(int(0...9)), 0.5, 2)
      .tensor SX \(pick(["f16", "fp8e4", "e5m2fnuz"])) [2, 16, 12] sram
      .tensor V1 f32 [8, 6] sram
      .tensor V2 \(pick(["f16", "bf16", "f32"])) [8, 6] sram uniform(1, -2, 2)
      .tensor V3 f16 [8, 6] sram const(1.5)
      .tensor V8 \(pick(["fp8e4", "fp8e5", "e4m3fn"])) [8, 6] sram
      .tensor ROW f32 [6] sram
      .tensor ROW2 f16 [1, 6] sram
      .tensor COL f32 [8, 1] sram
      .tensor MA \(pick(["fp8e4", "fp8e5", "e4m3fnuz"])) [4, 8] sram
      .tensor MAT \(pick(["fp8e4", "fp8e5"])) [8, 4] sram
      .tensor MB \(pick(["fp8e4", "e5m2"])) [8, 5] sram
      .tensor MBT fp8e5 [5, 8] sram
      .tensor MC f32 [4, 5] sram
      .tensor MH f16 [4, 5] sram
      .tensor OUT f32 [3] dram
      .output DX, OUT

      """
    // SX must match DX's type for DMA: rewrite SX's type to DX's.
    let dxType = text.split(separator: "\n")[3].split(separator: " ")[2]
    text = text.replacingOccurrences(
      of: text.split(separator: "\n")[4].split(separator: " ")[2] + " [2, 16, 12]",
      with: dxType + " [2, 16, 12]")
    var body: [String] = []
    for _ in 0..<int(5...40) { body.append("  " + instruction()) }
    for label in labels { body.insert("\(label):", at: int(0...body.count)) }
    return text + body.joined(separator: "\n") + "\n"
  }
}

@Suite struct RoundTripTests {
  /// assemble → print → assemble gives the same program, and printing is a fixed point.
  @Test(arguments: 0..<300)
  func randomProgramsRoundTrip(seed: Int) throws {
    var generator = ProgramGenerator(seed: UInt64(seed))
    let source = generator.program()
    let p1 = try assembleOK(source)
    let text1 = Disassembler.text(of: p1)
    let p2: Program
    do {
      p2 = try Assembler.assemble(text: text1, path: "printed.isa")
    } catch {
      Issue.record("printed text does not assemble:\n\(error.description)\n--- printed ---\n\(text1)")
      return
    }
    #expect(p1.sameMeaning(as: p2), "seed \(seed):\n\(source)\n--- printed ---\n\(text1)")
    #expect(Disassembler.text(of: p2) == text1)
  }

  @Test func generatorCoversEveryOpcode() {
    var seen = Set<Opcode>()
    for seed in 0..<300 {
      var g = ProgramGenerator(seed: UInt64(seed))
      guard let p = try? Assembler.assemble(text: g.program()) else { continue }
      for i in p.instructions { seen.insert(i.opcode) }
    }
    #expect(seen == Set(Opcode.allCases))
  }
}

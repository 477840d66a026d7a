import FP8Formats
import FP8ISA
import FP8Models
import FP8Sim
import Foundation
import Testing

/// The hand-written `examples/linear_amax.isa` (FP16 accumulation, the paper's margin of 3,
/// saturating casts) against the generated `LinearKernel` configured the same way, on the same
/// X and W: the same scaling biases, the same FP32 result, and device results that differ only
/// by the accumulator (f16 in the example, f32 generated).
@Suite struct ExampleCrossCheckTests {
  static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")

  @Test func linearAmaxExampleAgreesWithTheGeneratedKernel() throws {
    let (m, k, n) = (256, 128, 64)
    let source = try String(
      contentsOf: Self.examples.appendingPathComponent("linear_amax.isa"), encoding: .utf8)
    let example = try Machine(
      program: Assembler.assemble(
        text: source, path: "linear_amax.isa", options: Assembler.Options(overrides: ["S": "1"])),
      device: .teach
    ).run()
    // The example's X and W: its initialisers, declared again (same seeds, same element order).
    let inputs = try Machine(
      program: Assembler.assemble(
        text: """
          .tensor X f16 [\(m), \(k)] dram randn(1, 0.0, 1.0)
          .tensor W f16 [\(k), \(n)] dram randn(2, 0.0, 0.05)
          .output X
          .output W
                  halt
          """, path: "inputs.isa"),
      device: .teach
    ).run()
    let x = inputs.outputs[0]
    let w = inputs.outputs[1]
    // W as PyTorch stores it: [out, in].
    func transposed(_ v: [Float]) -> [Float] { (0..<(n * k)).map { i in v[(i % k) * n + i / k] } }
    var kernel = LinearKernel(
      "linear", rows: m, inputs: k, outputs: n, weight: "W", bias: nil, scaling: .amax(margin: 3),
      weights: .random(seed: 0, std: 0))
    kernel.overflow = .saturate
    var options = RunOptions()
    options.inputs["X"] = HostTensor(values: x.values, reference: x.reference)
    options.inputs["W"] = HostTensor(values: transposed(w.values), reference: transposed(w.reference))
    let generated = try Machine(
      program: kernel.builder(device: .teach).build(), device: .teach, options: options
    )
    .run()
    // Same biases: the weight's (r10) and the step's activation (r11).
    #expect(generated.registers.ints[10] == example.registers.ints[10])
    #expect(generated.registers.ints[11] == example.registers.ints[11])
    let (a, b) = (example.outputs[0], generated.outputs[0])
    #expect(a.values.count == m * n && b.values.count == m * n)
    // The same FP32 result (the order of the f32 sums aside), and device values close to it.
    let scale = Double(a.reference.map(\.magnitude).max()!)
    let shadow = zip(a.reference, b.reference).map { Double(abs($0 - $1)) }.max()!
    #expect(shadow / scale < 1e-5)
    let device = zip(a.values, b.values).map { Double(abs($0 - $1)) }.max()!
    #expect(device / scale < 0.02, "device outputs differ by \(device / scale) of the largest value")
    #expect(abs(a.metrics.snrDB - b.metrics.snrDB) < 3, "SNR \(a.metrics.snrDB) vs \(b.metrics.snrDB) dB")
  }
}

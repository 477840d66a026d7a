import FP8Formats
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// `gelu.grad`, `gelu.tanh.grad` and `silu.grad` against central finite differences of the
/// forward functions, written here in f64 (erf and tanh from Foundation), on the FP32 shadow of
/// 64 values from −6 to 6.
@Suite struct GradientOpTests {
  static func forward(_ name: String, _ a: Double) -> Double {
    switch name {
    case "gelu.grad": return 0.5 * a * (1 + Foundation.erf(a / 2.0.squareRoot()))
    case "gelu.tanh.grad":
      return 0.5 * a * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (a + 0.044715 * a * a * a)))
    default: return a / (1 + Foundation.exp(-a))
    }
  }

  @Test(arguments: ["gelu.grad", "gelu.tanh.grad", "silu.grad"])
  func derivativesMatchFiniteDifferences(_ op: String) throws {
    let r = try simulate(
      """
      .tensor A f32 [64] dram uniform(5, -6.0, 6.0)
      .tensor D f32 [64] dram
      .tensor a f32 [64] sram
      .tensor d f32 [64] sram
      .output A
      .output D
              dma.load a, A
              dma.wait
              \(op) d, a
              dma.store D, d
              dma.wait
              halt
      """)
    let a = try #require(output(r, "A")).reference
    let d = try #require(output(r, "D")).reference
    let h = 1e-5
    for (x, got) in zip(a, d) {
      let want = (Self.forward(op, Double(x) + h) - Self.forward(op, Double(x) - h)) / (2 * h)
      #expect(abs(Double(got) - want) < 1e-6, "\(op)(\(x)) = \(got), finite differences \(want)")
    }
  }
}

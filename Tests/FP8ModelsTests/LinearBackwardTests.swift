import FP8Formats
import FP8ISA
import FP8Models
import FP8Sim
import Foundation
import Testing

/// The FP8 backward GEMMs of a linear layer against central finite differences of the layer's
/// loss, computed in f64 here: L(X, W) = Σ G ⊙ (X·Wᵀ) has dL/dX = G·W and dL/dW = Gᵀ·X, and the
/// kernels' FP32 shadows (dY = G) must match the differences; their FP8 values (dY in E5M2, X
/// and W in E4M3) within a stated SNR. Shapes that fit no block exactly (7 rows, 10 inputs,
/// 9 outputs) on a 2 KiB, 4-tile device, so every ragged path runs.
@Suite struct LinearBackwardTests {
  static let (rows, inputs, outputs) = (7, 10, 9)

  static func values(_ n: Int, seed: UInt64, scale: Double) -> [Double] {
    var state = seed
    return (0..<n).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(Float(scale * (Double(state >> 11) * 0x1p-53 * 2 - 1)))
    }
  }

  /// L(X, W) = Σ_ij G_ij · Σ_k X_ik W_jk, in f64.
  static func loss(_ x: [Double], _ w: [Double], _ g: [Double]) -> Double {
    var total = 0.0
    for i in 0..<rows {
      for j in 0..<outputs {
        var y = 0.0
        for k in 0..<inputs { y += x[i * inputs + k] * w[j * inputs + k] }
        total += g[i * outputs + j] * y
      }
    }
    return total
  }

  @Test(arguments: ["amax", "cscale", "delayed"])
  func gradientsMatchFiniteDifferences(_ method: String) throws {
    var device = DeviceConfig.teach
    device.tiles = 4
    device.sramBytesPerTile = 2048
    let x = Self.values(Self.rows * Self.inputs, seed: 1, scale: 2)
    let w = Self.values(Self.outputs * Self.inputs, seed: 2, scale: 0.5)
    // Gradients are small: E5M2's range matters, not its precision.
    let g = Self.values(Self.rows * Self.outputs, seed: 3, scale: 1e-3)
    // Central differences (the loss is bilinear: exact up to rounding for any step).
    let h = 1e-3
    func derivative(_ f: (Double) -> Double) -> Double { (f(h) - f(-h)) / (2 * h) }
    let dx = (0..<x.count).map { i in
      derivative { d in
        var xp = x
        xp[i] += d
        return Self.loss(xp, w, g)
      }
    }
    let dw = (0..<w.count).map { i in
      derivative { d in
        var wp = w
        wp[i] += d
        return Self.loss(x, wp, g)
      }
    }
    let backward = LinearBackward(
      rows: Self.rows, inputs: Self.inputs, outputs: Self.outputs,
      scaling: Scaling.named(method, bias: method == "cscale" ? 8 : 0, margin: 0)!)
    let kernels = try backward.kernels(device: device)
    #expect(kernels.map(\.name) == ["dX", "dW"])
    func tensor(_ v: [Double]) -> HostTensor {
      let f = v.map { Float($0) }
      return HostTensor(values: f, reference: f)
    }
    var results: [String: OutputResult] = [:]
    for k in kernels {
      let program = try k.builder.build()
      // dY is cast to E5M2, X and W to E4M3.
      #expect(program.source.text.contains(".tensor X8 fp8e5"))
      var options = RunOptions()
      options.inputs["X"] = tensor(g)
      options.inputs["W"] = tensor(k.name == "dX" ? w : x)
      results[k.name] = try Machine(program: program, device: device, options: options).run().outputs[0]
    }
    for (name, want) in [("dX", dx), ("dW", dw)] {
      let r = try #require(results[name])
      let scale = want.map(\.magnitude).max()!
      let shadow = zip(r.reference, want).map { abs(Double($0) - $1) }.max()!
      #expect(shadow / scale < 1e-5, "\(method) \(name): FP32 shadow vs finite differences \(shadow / scale)")
      // FP8 operands (E5M2 has 2 mantissa bits): within 25 % of the largest gradient.
      let device = zip(r.values, want).map { abs(Double($0) - $1) }.max()!
      #expect(device / scale < 0.25, "\(method) \(name): FP8 vs finite differences \(device / scale)")
    }
  }
}

import FP8Formats
import FP8Models
import FP8Sim
import Foundation
import Testing

/// LayerNorm's and RMSNorm's backward kernel against central finite differences of
/// L = Σ C ⊙ norm(X)·γ (+ β) computed in f64 here: dX, dγ and dβ (the blocks' partial sums added
/// up), on 11 rows of 24 in blocks of a few rows (2 KiB of SRAM).
@Suite struct NormBackwardTests {
  static let (rows, width, eps) = (11, 24, 1e-5)

  static func values(_ n: Int, seed: UInt64, scale: Double) -> [Double] {
    var state = seed
    return (0..<n).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      // f16-exact, so the device's f16 inputs are the reference's.
      return Double(Float16(scale * (Double(state >> 11) * 0x1p-53 * 2 - 1)))
    }
  }

  static func loss(_ x: [Double], _ gamma: [Double], _ beta: [Double], _ c: [Double], rms: Bool) -> Double {
    var total = 0.0
    for r in 0..<rows {
      let row = Array(x[(r * width)..<((r + 1) * width)])
      let mean = rms ? 0 : row.reduce(0, +) / Double(width)
      let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
      for j in 0..<width {
        total += c[r * width + j] * ((row[j] - mean) / (variance + eps).squareRoot() * gamma[j] + beta[j])
      }
    }
    return total
  }

  @Test(arguments: [false, true])
  func gradientsMatchFiniteDifferences(_ rms: Bool) throws {
    var device = DeviceConfig.teach
    device.sramBytesPerTile = 2048
    let x = Self.values(Self.rows * Self.width, seed: 1, scale: 2)
    let gamma = Self.values(Self.width, seed: 2, scale: 1).map { 1 + 0.5 * $0 }
    let beta = Self.values(Self.width, seed: 3, scale: 1)
    let c = Self.values(Self.rows * Self.width, seed: 4, scale: 1)
    var kernel = NormBackward(rows: Self.rows, width: Self.width, epsilon: Self.eps)
    kernel.rms = rms
    var options = RunOptions()
    for (name, v) in [("X", x), ("DY", c), ("G", gamma)] {
      let f = v.map { Float($0) }
      options.inputs[name] = HostTensor(values: f, reference: f)
    }
    let r = try Machine(
      program: kernel.kernel(sramBytes: device.sramBytesPerTile).build(), device: device, options: options
    )
    .run()
    let dx = r.outputs[0].reference
    let partial = r.outputs[1].reference
    let blocks = partial.count / (2 * Self.width)
    #expect(blocks > 1)
    let h = 1e-4
    func fd(_ f: (Double) -> Double) -> Double { (f(h) - f(-h)) / (2 * h) }
    var worst = 0.0
    for i in x.indices {
      let want = fd { d in
        var xp = x
        xp[i] += d
        return Self.loss(xp, gamma, beta, c, rms: rms)
      }
      worst = max(worst, abs(Double(dx[i]) - want))
    }
    #expect(worst < 1e-3, "dX: \(worst)")
    for j in 0..<Self.width {
      let dg = (0..<blocks).map { Double(partial[($0 * 2) * Self.width + j]) }.reduce(0, +)
      let db = (0..<blocks).map { Double(partial[($0 * 2 + 1) * Self.width + j]) }.reduce(0, +)
      let wantG = fd { d in
        var gp = gamma
        gp[j] += d
        return Self.loss(x, gp, beta, c, rms: rms)
      }
      let wantB = fd { d in
        var bp = beta
        bp[j] += d
        return Self.loss(x, gamma, bp, c, rms: rms)
      }
      #expect(abs(dg - wantG) < 1e-3, "dγ[\(j)]: \(dg) vs \(wantG)")
      #expect(abs(db - wantB) < 1e-3, "dβ[\(j)]: \(db) vs \(wantB)")
    }
  }
}

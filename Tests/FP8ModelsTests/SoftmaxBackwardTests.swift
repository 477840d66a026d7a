import FP8Models
import FP8Sim
import Foundation
import Testing

/// Softmax's backward kernel against central finite differences of L = Σ C ⊙ softmax(S) in
/// f64, on 9 rows of 13 in blocks (2 KiB of SRAM).
@Suite struct SoftmaxBackwardTests {
  @Test func gradientMatchesFiniteDifferences() throws {
    let (rows, width) = (9, 13)
    var state: UInt64 = 5
    func value(_ scale: Double) -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(Float(scale * (Double(state >> 11) * 0x1p-53 * 2 - 1)))
    }
    let s = (0..<(rows * width)).map { _ in value(3) }
    let c = (0..<(rows * width)).map { _ in value(1) }
    func loss(_ s: [Double]) -> Double {
      var total = 0.0
      for r in 0..<rows {
        let row = Array(s[(r * width)..<((r + 1) * width)])
        let e = row.map { Foundation.exp($0 - row.max()!) }
        let sum = e.reduce(0, +)
        for j in 0..<width { total += c[r * width + j] * e[j] / sum }
      }
      return total
    }
    var options = RunOptions()
    options.inputs["S"] = HostTensor(values: s.map { Float($0) }, reference: s.map { Float($0) })
    options.inputs["DP"] = HostTensor(values: c.map { Float($0) }, reference: c.map { Float($0) })
    let program = try SoftmaxBackward(rows: rows, width: width).kernel(sramBytes: 2048).build()
    var device = DeviceConfig.teach
    device.sramBytesPerTile = 2048
    let ds = try Machine(program: program, device: device, options: options).run().outputs[0]
    let h = 1e-5
    var worst = 0.0
    for i in s.indices {
      var (up, down) = (s, s)
      up[i] += h
      down[i] -= h
      let want = (loss(up) - loss(down)) / (2 * h)
      worst = max(worst, abs(Double(ds.reference[i]) - want), abs(Double(ds.values[i]) - want))
    }
    #expect(worst < 1e-5, "dS vs finite differences: \(worst)")
  }
}

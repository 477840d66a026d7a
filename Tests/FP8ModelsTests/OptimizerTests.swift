import FP8Formats
import FP8Models
import FP8Sim
import Foundation
import Testing

/// The device's optimizer steps against the same updates computed here in f64: three steps of
/// SGD, momentum and AdamW (bias correction, weight decay, a loss scale divided out) on 37
/// weights (blocks with a short last one on 2 KiB of SRAM).
@Suite struct OptimizerTests {
  @Test(arguments: [
    Optimizer.sgd, .momentum(beta: 0.9), .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 0.01),
  ])
  func stepsMatchAnF64Reference(_ optimizer: Optimizer) throws {
    var device = DeviceConfig.teach
    device.sramBytesPerTile = 2048
    let n = 37
    let (rate, lossScale) = (0.05, 3)
    var state: [HostTensor] = []
    var w0 = (0..<n).map { Float(sin(Double($0) * 0.7)) }
    var weights = HostTensor(values: w0, reference: w0)
    var (m, v) = ([Double](repeating: 0, count: n), [Double](repeating: 0, count: n))
    var want = w0.map(Double.init)
    for t in 1...3 {
      // f16-exact gradients, loss-scaled by 2^3.
      let g = (0..<n).map { Float(Float16(8 * cos(Double($0 * t) * 0.3))) }
      _ = try optimizer.apply(
        weights: &weights, gradient: HostTensor(values: g, reference: g), state: &state, step: t, rate: rate,
        lossScale: lossScale, device: device)
      for i in 0..<n {
        let gi = Double(g[i]) / 8
        switch optimizer {
        case .sgd: want[i] -= rate * gi
        case .momentum(let b):
          m[i] = b * m[i] + gi
          want[i] -= rate * m[i]
        case .adamW(let b1, let b2, let eps, let decay):
          m[i] = b1 * m[i] + (1 - b1) * gi
          v[i] = b2 * v[i] + (1 - b2) * gi * gi
          let mh = m[i] / (1 - pow(b1, Double(t)))
          let vh = v[i] / (1 - pow(b2, Double(t)))
          want[i] -= rate * (mh / (vh.squareRoot() + eps) + decay * want[i])
        }
      }
    }
    w0 = weights.values
    let worst = zip(weights.values, want).map { abs(Double($0) - $1) }.max()!
    let shadow = zip(weights.reference, want).map { abs(Double($0) - $1) }.max()!
    #expect(worst < 1e-5 && shadow < 1e-5, "\(optimizer): device \(worst), shadow \(shadow)")
    #expect(state.count == optimizer.stateCount)
  }
}

import FP8Formats
import FP8ISA
import FP8Models
import FP8Sim
import Foundation
import Testing

/// A two-layer MLP trained with FP8 GEMMs on the simulated device (`MLPTraining`): one step's
/// weight gradients (FP32 shadow) against f64 finite differences of the loss, and a short run on
/// a task made here (fit a random teacher MLP) whose loss must fall, for FP8-AMAX and for the
/// FP32 shadow run alike, the same on every run.
@Suite struct MLPTrainingTests {
  static let (rows, inputs, hidden, outputs) = (16, 8, 16, 4)
  static let device: DeviceConfig = {
    var d = DeviceConfig.teach
    d.tiles = 4
    return d
  }()

  static func values(_ n: Int, seed: UInt64, scale: Double) -> [Float] {
    var state = seed
    return (0..<n).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(scale * (Double(state >> 11) * 0x1p-53 * 2 - 1))
    }
  }
  static func tensor(_ v: [Float]) -> HostTensor { HostTensor(values: v, reference: v) }

  /// The MLP and its mean-squared error in f64.
  static func loss(_ x: [Double], _ w1: [Double], _ w2: [Double], _ t: [Double]) -> Double {
    var total = 0.0
    for r in 0..<rows {
      var h = [Double](repeating: 0, count: hidden)
      for j in 0..<hidden {
        var z = 0.0
        for i in 0..<inputs { z += x[r * inputs + i] * w1[j * inputs + i] }
        h[j] = 0.5 * z * (1 + Foundation.erf(z / 2.0.squareRoot()))
      }
      for o in 0..<outputs {
        var y = 0.0
        for j in 0..<hidden { y += h[j] * w2[o * hidden + j] }
        total += (y - t[r * outputs + o]) * (y - t[r * outputs + o])
      }
    }
    return total / Double(rows * outputs)
  }

  @Test func weightGradientsMatchFiniteDifferences() throws {
    let x = Self.values(Self.rows * Self.inputs, seed: 1, scale: 1)
    let t = Self.values(Self.rows * Self.outputs, seed: 2, scale: 1)
    let w1 = Self.values(Self.hidden * Self.inputs, seed: 3, scale: 0.5)
    let w2 = Self.values(Self.outputs * Self.hidden, seed: 4, scale: 0.5)
    var training = MLPTraining(
      rows: Self.rows, inputs: Self.inputs, hidden: Self.hidden, outputs: Self.outputs,
      scaling: .amax(margin: 0),
      rate: 0)
    var weights = MLPTraining.Weights(w1: Self.tensor(w1), w2: Self.tensor(w2))
    let step = try training.step(
      x: Self.tensor(x), target: Self.tensor(t), weights: &weights, device: Self.device)
    let (xd, td) = (x.map(Double.init), t.map(Double.init))
    let h = 1e-4
    func check(_ got: [Float], _ w: [Float], first: Bool) {
      let base = w.map(Double.init)
      var worst = 0.0
      var largest = 0.0
      for i in base.indices {
        var up = base
        var down = base
        up[i] += h
        down[i] -= h
        let (w1u, w2u) = first ? (up, w2.map(Double.init)) : (w1.map(Double.init), up)
        let (w1d, w2d) = first ? (down, w2.map(Double.init)) : (w1.map(Double.init), down)
        let want = (Self.loss(xd, w1u, w2u, td) - Self.loss(xd, w1d, w2d, td)) / (2 * h)
        worst = max(worst, abs(Double(got[i]) - want))
        largest = max(largest, abs(want))
      }
      #expect(
        worst / largest < 1e-4, "\(first ? "dW1" : "dW2"): shadow vs finite differences \(worst / largest)")
    }
    check(step.dw1.reference, w1, first: true)
    check(step.dw2.reference, w2, first: false)
    // Nine kernel launches: forward, loss gradient, backward, the overflow check.
    #expect(
      step.kernels.map(\.name) == [
        "fc1", "gelu", "fc2", "loss.grad", "fc2.dX", "fc2.dW", "gelu.grad", "fc1.dW", "overflow.check",
      ])
  }

  /// Fit a random teacher MLP for 30 steps: the loss must fall to under half its start for the
  /// FP8-AMAX run and for its FP32 shadow, and two runs must give the same losses.
  @Test func theLossFalls() throws {
    func train() throws -> [(Double, Double)] {
      let x = Self.values(Self.rows * Self.inputs, seed: 11, scale: 1)
      // The targets: a random teacher MLP's outputs, computed here in f64.
      let teacher = (
        w1: Self.values(Self.hidden * Self.inputs, seed: 12, scale: 1),
        w2: Self.values(Self.outputs * Self.hidden, seed: 13, scale: 1)
      )
      var t = [Float](repeating: 0, count: Self.rows * Self.outputs)
      for r in 0..<Self.rows {
        for o in 0..<Self.outputs {
          var y = 0.0
          for j in 0..<Self.hidden {
            var z = 0.0
            for i in 0..<Self.inputs {
              z += Double(x[r * Self.inputs + i]) * Double(teacher.w1[j * Self.inputs + i])
            }
            y +=
              0.5 * z * (1 + Foundation.erf(z / 2.0.squareRoot())) * Double(teacher.w2[o * Self.hidden + j])
          }
          t[r * Self.outputs + o] = Float(y)
        }
      }
      var student = MLPTraining(
        rows: Self.rows, inputs: Self.inputs, hidden: Self.hidden, outputs: Self.outputs,
        scaling: .amax(margin: 0),
        rate: 0.2)
      var weights = MLPTraining.Weights(
        w1: Self.tensor(Self.values(Self.hidden * Self.inputs, seed: 14, scale: 0.5)),
        w2: Self.tensor(Self.values(Self.outputs * Self.hidden, seed: 15, scale: 0.5)))
      var losses: [(Double, Double)] = []
      for _ in 0..<30 {
        let s = try student.step(
          x: Self.tensor(x), target: Self.tensor(t), weights: &weights, device: Self.device)
        losses.append((s.loss, s.shadowLoss))
      }
      return losses
    }
    let losses = try train()
    let (first, last) = (losses.first!, losses.last!)
    #expect(last.0 < 0.5 * first.0, "FP8-AMAX loss \(first.0) -> \(last.0)")
    #expect(last.1 < 0.5 * first.1, "FP32 shadow loss \(first.1) -> \(last.1)")
    let again = try train()
    #expect(again.map(\.0) == losses.map(\.0) && again.map(\.1) == losses.map(\.1))
  }

  /// Automatic loss scaling on constructed overflows: from 2^40 every step's loss gradient
  /// overflows f16 (its largest value is 65,504) until the exponent is small enough; those steps
  /// are skipped and leave the weights as they were, each backing off by one; after 2 good steps
  /// it grows by one and overflows again: the exponent settles at the edge (19 and 20 here).
  @Test func automaticLossScalingBacksOffSkipsAndGrows() throws {
    let x = Self.tensor(Self.values(Self.rows * Self.inputs, seed: 21, scale: 1))
    let t = Self.tensor(Self.values(Self.rows * Self.outputs, seed: 22, scale: 1))
    var training = MLPTraining(
      rows: Self.rows, inputs: Self.inputs, hidden: Self.hidden, outputs: Self.outputs,
      scaling: .amax(margin: 0),
      rate: 0.1)
    training.lossScale = 40
    training.automatic = .init(growthInterval: 2, maximum: 60)
    var weights = MLPTraining.Weights(
      w1: Self.tensor(Self.values(Self.hidden * Self.inputs, seed: 23, scale: 0.5)),
      w2: Self.tensor(Self.values(Self.outputs * Self.hidden, seed: 24, scale: 0.5)))
    var history: [(scale: Int, overflow: Bool)] = []
    for _ in 0..<40 {
      let before = weights.w1.values
      let s = try training.step(x: x, target: t, weights: &weights, device: Self.device)
      history.append((s.lossScale, s.overflow))
      // A skipped step changes nothing; an applied one changes the weights.
      #expect(s.applied == !s.overflow)
      #expect((weights.w1.values == before) == s.overflow)
    }
    // Backed off one step at a time from 40 while overflowing.
    let firstGood = try #require(history.firstIndex { !$0.overflow })
    #expect(firstGood > 0)
    #expect(history[0..<firstGood].map(\.scale) == Array((40 - firstGood + 1...40).reversed()))
    // After two good steps the exponent grows by one.
    if firstGood + 2 < history.count, !history[firstGood + 1].overflow {
      #expect(history[firstGood + 2].scale == history[firstGood].scale + 1)
    }
    // It ends near the edge: some late steps overflow, most do not.
    let late = history.suffix(20)
    #expect(late.contains { $0.overflow } && late.filter { !$0.overflow }.count >= 10)
  }

  /// The optimizer on the device: its SGD gives the host's SGD (the device run exactly, the
  /// shadow to rounding), and AdamW fits the teacher task to a lower loss than SGD.
  @Test func deviceOptimizersTrain() throws {
    var task = TeacherTask()
    (task.rows, task.inputs, task.hidden, task.outputs, task.steps) = (16, 8, 16, 4, 20)
    task.lossScale = 2
    let host = try task.run(.amax(margin: 0), seed: 3, device: Self.device)
    task.optimizer = .sgd
    let device = try task.run(.amax(margin: 0), seed: 3, device: Self.device)
    #expect(device.map(\.loss) == host.map(\.loss))
    // The shadow's update rounds rate·G once in f64 on the device, twice in f32 on the host.
    for (d, h) in zip(device, host) { #expect(abs(d.shadowLoss - h.shadowLoss) <= 1e-5 * h.shadowLoss) }
    task.optimizer = .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 0.01)
    task.rate = 0.02
    let adam = try task.run(.amax(margin: 0), seed: 3, device: Self.device)
    #expect(adam.last!.loss < 0.5 * adam.first!.loss && adam.last!.loss < host.last!.loss)
  }
}

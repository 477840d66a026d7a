import FP8Formats
import FP8ISA
import FP8Sim
import Foundation

/// The backward pass of a linear layer `Y = X·Wᵀ` (W `[outputs, inputs]` as PyTorch stores it)
/// in FP8, as the paper's Fig. 1: the output gradient dY cast to E5M2 (gradients need range),
/// W and X to E4M3, f32 accumulation, each GEMM a `LinearKernel` (scaling pass, cast pass,
/// K-sliced GEMM):
///
///     dX = dY·W      [rows, inputs]     A = dY [rows, outputs]; B = W, stored [K, N]
///     dW = dYᵀ·X     [outputs, inputs]  A = dY, stored [K, M] (transposed); B = X, stored [K, N]
///
/// `MLPTraining` builds its backward pass from these two GEMMs.
public struct LinearBackward: Sendable {
  public var rows: Int
  public var inputs: Int
  public var outputs: Int
  public var scaling: Scaling
  /// W's name for `weights` (dX's B operand); X and dY come in as kernel inputs.
  public var weight: String
  public var weights: WeightSource

  public init(
    rows: Int, inputs: Int, outputs: Int, scaling: Scaling, weight: String = "weight",
    weights: WeightSource = .random(seed: 1, std: 0.02)
  ) {
    self.rows = rows
    self.inputs = inputs
    self.outputs = outputs
    self.scaling = scaling
    self.weight = weight
    self.weights = weights
  }

  /// Delayed scaling: each GEMM's amax history (nil: that GEMM scales just in time, AMAX).
  public var dxHistory: LinearKernel.History?
  public var dwHistory: LinearKernel.History?

  /// The gradients' FP8 type (E5M2; E5M2FNUZ on an IPU's `fp8e5`).
  static let gradient = DType.fp8e5

  /// `scaling`, except that delayed scaling without a history scales just in time.
  static func effective(_ scaling: Scaling, _ history: LinearKernel.History?) -> Scaling {
    if case .delayed(let margin) = scaling, history == nil { return .amax(margin: margin) }
    return scaling
  }

  /// `dX` (inputs `X` ← dY, `W` ← the weight) and `dW` (`X` ← dY, `W` ← the saved activation).
  public func kernels(device: DeviceConfig) throws(ModelError) -> [KernelLaunch] {
    [
      KernelLaunch(
        name: "dX", kind: .linear, builder: try dx(device: device), inputs: ["X": "dy"], output: "dx"),
      KernelLaunch(
        name: "dW", kind: .linear, builder: try dw(device: device), inputs: ["X": "dy", "W": "x"],
        output: "dw"),
    ]
  }

  func checkScaling() throws(ModelError) {
    if case .block = scaling {
      throw ModelError("block scaling of the backward GEMMs is not built (their operands run K-first)")
    }
  }

  /// dX = dY·W: `X` ← dY, `W` ← the weight (stored `[outputs, inputs]`, K first here).
  public func dx(device: DeviceConfig) throws(ModelError) -> ProgramBuilder {
    try checkScaling()
    var dx = LinearKernel(
      "dX", rows: rows, inputs: outputs, outputs: inputs, weight: weight, bias: nil,
      scaling: Self.effective(scaling, dxHistory),
      weights: weights)
    dx.xType = Self.gradient
    dx.wKFirst = true
    if let h = dxHistory { dx.history = h }
    return try dx.builder(device: device)
  }

  /// dW = dYᵀ·X: `X` ← dY (K first), `W` ← the saved activation (K first).
  public func dw(device: DeviceConfig) throws(ModelError) -> ProgramBuilder {
    try checkScaling()
    var dw = LinearKernel(
      "dW", rows: outputs, inputs: rows, outputs: inputs, weight: "activation", bias: nil,
      scaling: Self.effective(scaling, dwHistory),
      weights: .random(seed: 0, std: 0))
    dw.xType = Self.gradient
    dw.xKFirst = true
    dw.wKFirst = true
    if let h = dwHistory { dw.history = h }
    return try dw.builder(device: device)
  }
}

/// One SGD step of a two-layer MLP, `Y = gelu(X·W1ᵀ)·W2ᵀ`, mean-squared error against a target,
/// every GEMM in FP8 (forward E4M3 × E4M3, backward E5M2 gradients × E4M3) as kernel launches on
/// the simulated device:
///
///     Z = X·W1ᵀ          fc1              FP8 linear
///     H = gelu(Z)        gelu             f32, stored f16
///     Y = H·W2ᵀ          fc2              FP8 linear
///     dY = (Y − T)·c     loss.grad        c = 2·2^lossScale / (rows · outputs)
///     dH, dW2            fc2.dX, fc2.dW   FP8 backward GEMMs (`LinearBackward`)
///     dZ = dH ⊙ gelu′(Z) gelu.grad
///     dW1                fc1.dW
///
/// The update `W −= rate · dW / 2^lossScale` runs on the host on f32 master weights, or on the
/// device with `optimizer` (SGD, momentum, AdamW). Values and FP32 shadow travel together, so one run trains twice: the device's FP8 numerics and an
/// FP32 run of the same steps (the shadow's weights follow its own gradients).
public struct MLPTraining: Sendable {
  public var rows: Int
  public var inputs: Int
  public var hidden: Int
  public var outputs: Int
  public var scaling: Scaling
  public var rate: Double
  /// Static loss scaling: the gradient of the loss is multiplied by 2^lossScale.
  public var lossScale = 0

  public init(rows: Int, inputs: Int, hidden: Int, outputs: Int, scaling: Scaling, rate: Double) {
    (self.rows, self.inputs, self.hidden, self.outputs) = (rows, inputs, hidden, outputs)
    self.scaling = scaling
    self.rate = rate
  }

  /// The weights, device values and FP32 shadow: W1 `[hidden, inputs]`, W2 `[outputs, hidden]`.
  public struct Weights: Sendable {
    public var w1: HostTensor
    public var w2: HostTensor
    public init(w1: HostTensor, w2: HostTensor) {
      self.w1 = w1
      self.w2 = w2
    }
  }

  /// What a step measured before its update: the loss of the device run and of the shadow, the
  /// gradients (device, shadow), and the kernels' records.
  public struct Step: Sendable {
    public var loss: Double
    public var shadowLoss: Double
    public var dw1: HostTensor
    public var dw2: HostTensor
    public var kernels: [KernelRecord]
    /// The loss-scale exponent the step ran with.
    public var lossScale: Int
    /// A device gradient was infinite or NaN (the overflow check's amax was not finite): with
    /// automatic loss scaling the update was skipped.
    public var overflow: Bool
    /// Whether the weights were updated.
    public var applied: Bool
  }

  /// Automatic loss scaling (the paper's §4 recipes): after `growthInterval` steps without
  /// overflow the exponent grows by one (up to `maximum`); a step whose gradients overflow is
  /// skipped and the exponent drops by one.
  public struct AutomaticLossScaling: Sendable, Hashable {
    public var growthInterval: Int
    public var maximum: Int
    /// Steps since the last overflow or growth.
    public var goodSteps = 0
    public init(growthInterval: Int = 100, maximum: Int = 24) {
      self.growthInterval = growthInterval
      self.maximum = maximum
    }
  }
  /// nil: the loss scale stays `lossScale` (static loss scaling).
  public var automatic: AutomaticLossScaling?
  /// Delayed scaling: each FP8 GEMM's amax from the previous step, by kernel name (a GEMM
  /// without one, as at the first step, scales just in time); every step records its own.
  public var histories: [String: LinearKernel.History] = [:]
  /// The update on the device (`Optimizer.kernel`, its state kept here); nil: plain SGD on the
  /// host.
  public var optimizer: Optimizer?
  /// The optimizer's state per weight (W1, W2) and the steps it has taken.
  public var optimizerState: [[HostTensor]] = [[], []]
  public var optimizerSteps = 0

  /// An element-wise kernel over `[rows, width]` tensors, in blocks of rows: `body` gets the
  /// SRAM views of the inputs (in order) and of the output.
  static func elementwise(
    _ name: String, rows t: Int, width w: Int, inputs: [String], outputType: DType = .format(.f16),
    sramBytes: Int, _ body: (inout Emitter, [TensorView], TensorView) -> Void
  ) -> ProgramBuilder {
    var e = Emitter(path: "\(name).isa", header: ["\(name): element-wise over \(t) rows of \(w)."])
    let rb = DecoderKernels.block(t, max(1, (sramBytes - 1024) / ((2 * inputs.count + 8) * w + 64)))
    let rows = Axis(size: t, block: rb, length: 20)
    let dram = inputs.map { e.tensor($0, .format(.f16), [t, w], .dram) }
    let y = e.tensor("Y", outputType, [t, w], .dram)
    let sram = inputs.map { e.tensor($0.lowercased(), .format(.f16), [rb, w], .sram) }
    let work = e.tensor("work", .format(.f32), [rb, w], .sram)
    let out = e.tensor("y", outputType, [rb, w], .sram)
    e.output(y)
    e.forEachItem(rows.blocks, register: 1, "rows") { e in
      e.int(.mul, 2, .register(1), .constant(Int64(rb)))
      rows.setLength(&e, start: 2)
      for (d, s) in zip(dram, sram) { e.load(s[rows.local, .all], d[rows.at(2), .all]) }
      e.wait()
      body(&e, sram.map { $0[rows.local, .all] } + [work[rows.local, .all]], out[rows.local, .all])
      e.store(y[rows.at(2), .all], out[rows.local, .all])
    }
    e.wait()
    e.halt()
    return e.b
  }

  public func kernels(device: DeviceConfig) throws(ModelError) -> [KernelLaunch] {
    let sram = device.sramBytesPerTile
    func linear(_ name: String, rows: Int, inputs: Int, outputs: Int) throws(ModelError) -> ProgramBuilder {
      var l = LinearKernel(
        name, rows: rows, inputs: inputs, outputs: outputs, weight: name + ".weight", bias: nil,
        scaling: LinearBackward.effective(scaling, histories[name]), weights: .random(seed: 0, std: 0))
      if let h = histories[name] { l.history = h }
      return try l.builder(device: device)
    }
    let c = 2 * ScalingBias.powerOfTwo(lossScale) / Double(rows * outputs)
    var k: [KernelLaunch] = [
      KernelLaunch(
        name: "fc1", kind: .linear, builder: try linear("fc1", rows: rows, inputs: inputs, outputs: hidden),
        inputs: ["X": "x", "W": "w1"], output: "z"),
      KernelLaunch(
        name: "gelu", kind: .norm,
        builder: Self.elementwise("gelu", rows: rows, width: hidden, inputs: ["Z"], sramBytes: sram) {
          e, v, out in
          e.vector(.unary(.gelu, a: v[0]), out)
        }, inputs: ["Z": "z"], output: "h"),
      KernelLaunch(
        name: "fc2", kind: .linear, builder: try linear("fc2", rows: rows, inputs: hidden, outputs: outputs),
        inputs: ["X": "h", "W": "w2"], output: "y"),
      KernelLaunch(
        name: "loss.grad", kind: .norm,
        builder: Self.elementwise(
          "loss_grad", rows: rows, width: outputs, inputs: ["P", "T"], sramBytes: sram
        ) { e, v, out in
          e.binary(.sub, v[2], v[0], .view(v[1]))
          e.binary(.mul, out, v[2], .value(.constant(c)))
        }, inputs: ["P": "y", "T": "target"], output: "dy"),
    ]
    var fc2Backward = LinearBackward(rows: rows, inputs: hidden, outputs: outputs, scaling: scaling)
    (fc2Backward.dxHistory, fc2Backward.dwHistory) = (histories["fc2.dX"], histories["fc2.dW"])
    k.append(
      KernelLaunch(
        name: "fc2.dX", kind: .linear, builder: try fc2Backward.dx(device: device),
        inputs: ["X": "dy", "W": "w2"],
        output: "dh"))
    k.append(
      KernelLaunch(
        name: "fc2.dW", kind: .linear, builder: try fc2Backward.dw(device: device),
        inputs: ["X": "dy", "W": "h"],
        output: "dw2"))
    k.append(
      KernelLaunch(
        name: "gelu.grad", kind: .norm,
        builder: Self.elementwise(
          "gelu_grad", rows: rows, width: hidden, inputs: ["D", "Z"], sramBytes: sram
        ) {
          e, v, out in
          e.vector(.unary(.geluGrad, a: v[1]), v[2])
          e.binary(.mul, out, v[2], .view(v[0]))
        }, inputs: ["D": "dh", "Z": "z"], output: "dz"))
    var fc1Backward = LinearBackward(rows: rows, inputs: inputs, outputs: hidden, scaling: scaling)
    fc1Backward.dwHistory = histories["fc1.dW"]
    // dX of the first layer is not needed: only its dW is built.
    k.append(
      KernelLaunch(
        name: "fc1.dW", kind: .linear, builder: try fc1Backward.dw(device: device),
        inputs: ["X": "dz", "W": "x"],
        output: "dw1"))
    k.append(
      KernelLaunch(
        name: "overflow.check", kind: .norm, builder: overflowCheck(device: device),
        inputs: ["A": "dw1", "B": "dw2"],
        output: "amax"))
    return k
  }

  /// The gradients' amax on the device (`amax`, `allreduce.max`): not finite when any gradient
  /// overflowed. Its cost is what automatic loss scaling adds to a step.
  func overflowCheck(device: DeviceConfig) -> ProgramBuilder {
    var e = Emitter(
      path: "overflow_check.isa", header: ["The amax of dW1 and dW2: infinite or NaN on overflow."])
    let a = e.tensor("A", .format(.f16), [hidden, inputs], .dram)
    let b = e.tensor("B", .format(.f16), [outputs, hidden], .dram)
    let out = e.tensor("Y", .format(.f32), [1], .dram)
    let sa = e.tensor("a", .format(.f16), [hidden, inputs], .sram)
    let sb = e.tensor("b", .format(.f16), [outputs, hidden], .sram)
    let r = e.tensor("r", .format(.f32), [1], .sram)
    e.output(out)
    e.fmov(1, .constant(0))
    let idle = e.label("idle")
    e.branch(.notEqual, .special(.tid), .constant(0), idle)
    e.load(sa.all, a.all)
    e.load(sb.all, b.all)
    e.wait()
    e.amax(2, sa.all)
    e.amax(3, sb.all)
    e.float(.max, 1, .register(2), .register(3))
    e.place(idle)
    e.allReduceMax(4, 1)
    let done = e.label("done")
    e.branch(.notEqual, .special(.tid), .constant(0), done)
    e.vector(.fill(.register(4)), r.all)
    e.store(out.all, r.all)
    e.place(done)
    e.wait()
    e.halt()
    return e.b
  }

  /// Runs one step on `x` (`[rows, inputs]`) against `target` (`[rows, outputs]`) and applies
  /// the update to `weights` (device values and shadow each by their own gradients).
  /// With automatic loss scaling the step changes `lossScale` and the scaler's count.
  public mutating func step(x: HostTensor, target: HostTensor, weights: inout Weights, device: DeviceConfig)
    throws(ModelError) -> Step
  {
    var chain = KernelChain(device: device, timingOnly: false)
    chain.values["x"] = x
    chain.values["target"] = target
    chain.values["w1"] = weights.w1
    chain.values["w2"] = weights.w2
    for k in try kernels(device: device) {
      try chain.run(k.name, k.kind, k.builder, inputs: k.inputs, output: k.output)
    }
    guard let y = chain.values["y"], let dw1 = chain.values["dw1"], let dw2 = chain.values["dw2"],
      let amax = chain.values["amax"]?.values.first
    else {
      throw ModelError("internal error: a training step's outputs are missing")
    }
    let overflow = !amax.isFinite
    if case .delayed = scaling {
      // This step's amax of every FP8 operand: the next step's history.
      for k in chain.records where k.kind == .linear { if let a = k.amax { histories[k.name] = a } }
    }
    func mse(_ p: [Float], _ t: [Float]) -> Double {
      zip(p, t).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(p.count)
    }
    var step = Step(
      loss: mse(y.values, target.values), shadowLoss: mse(y.reference, target.reference), dw1: dw1, dw2: dw2,
      kernels: chain.records, lossScale: lossScale, overflow: overflow, applied: true)
    if var a = automatic {
      if overflow {
        // Skip the update; back off.
        a.goodSteps = 0
        lossScale -= 1
        automatic = a
        step.applied = false
        return step
      }
      a.goodSteps += 1
      automatic = a
    }
    let factor = Float(rate / ScalingBias.powerOfTwo(step.lossScale))
    func update(_ w: HostTensor, _ g: HostTensor) -> HostTensor {
      HostTensor(
        values: zip(w.values, g.values).map { $0 - factor * $1 },
        reference: zip(w.reference, g.reference).map { $0 - factor * $1 })
    }
    if let optimizer {
      optimizerSteps += 1
      step.kernels.append(
        try optimizer.apply(
          weights: &weights.w1, gradient: dw1, state: &optimizerState[0], step: optimizerSteps, rate: rate,
          lossScale: step.lossScale, device: device))
      step.kernels.append(
        try optimizer.apply(
          weights: &weights.w2, gradient: dw2, state: &optimizerState[1], step: optimizerSteps, rate: rate,
          lossScale: step.lossScale, device: device))
    } else {
      weights.w1 = update(weights.w1, dw1)
      weights.w2 = update(weights.w2, dw2)
    }
    if var a = automatic, a.goodSteps >= a.growthInterval {
      a.goodSteps = 0
      lossScale = min(lossScale + 1, a.maximum)
      automatic = a
    }
    return step
  }
}

/// A training study the project makes itself: fit a random teacher MLP (targets the teacher's
/// outputs on random inputs, computed in f64 on the host) with an `MLPTraining` student, one
/// run per scaling method and seed. Each run gives two curves: the device's FP8 training and
/// the FP32 training its shadow follows.
public struct TeacherTask: Sendable {
  public var rows = 32
  public var inputs = 16
  public var hidden = 32
  public var outputs = 8
  public var steps = 60
  public var rate = 0.2
  /// Static loss-scale exponent, or the automatic scaler's start.
  public var lossScale = 0
  public var automatic: MLPTraining.AutomaticLossScaling?
  /// nil: plain SGD on the host.
  public var optimizer: Optimizer?
  public init() {}

  /// Uniform values in [−scale, scale] from a 64-bit LCG (the same on every platform).
  static func values(_ n: Int, seed: UInt64, scale: Double) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
    return (0..<n).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(scale * (Double(state >> 11) * 0x1p-53 * 2 - 1))
    }
  }

  /// One step of a run.
  public struct Record: Sendable {
    public var loss: Double
    public var shadowLoss: Double
    public var lossScale: Int
    public var applied: Bool
  }

  /// Trains a student with `scaling` for `steps` steps; `seed` picks the data, the teacher and
  /// the student's initial weights.
  public func run(_ scaling: Scaling, seed: UInt64, device: DeviceConfig) throws(ModelError) -> [Record] {
    let x = Self.values(rows * inputs, seed: seed &* 8 &+ 1, scale: 1)
    let teacher = (
      w1: Self.values(hidden * inputs, seed: seed &* 8 &+ 2, scale: 1),
      w2: Self.values(outputs * hidden, seed: seed &* 8 &+ 3, scale: 1)
    )
    var target = [Float](repeating: 0, count: rows * outputs)
    for r in 0..<rows {
      var h = [Double](repeating: 0, count: hidden)
      for j in 0..<hidden {
        var z = 0.0
        for i in 0..<inputs { z += Double(x[r * inputs + i]) * Double(teacher.w1[j * inputs + i]) }
        h[j] = 0.5 * z * (1 + Math.erf(z * 0.70710678118654752440))
      }
      for o in 0..<outputs {
        var y = 0.0
        for j in 0..<hidden { y += h[j] * Double(teacher.w2[o * hidden + j]) }
        target[r * outputs + o] = Float(y)
      }
    }
    var training = MLPTraining(
      rows: rows, inputs: inputs, hidden: hidden, outputs: outputs, scaling: scaling, rate: rate)
    training.lossScale = lossScale
    training.automatic = automatic
    training.optimizer = optimizer
    func tensor(_ v: [Float]) -> HostTensor { HostTensor(values: v, reference: v) }
    var weights = MLPTraining.Weights(
      w1: tensor(Self.values(hidden * inputs, seed: seed &* 8 &+ 4, scale: 0.5)),
      w2: tensor(Self.values(outputs * hidden, seed: seed &* 8 &+ 5, scale: 0.5)))
    var records: [Record] = []
    for _ in 0..<steps {
      let s = try training.step(x: tensor(x), target: tensor(target), weights: &weights, device: device)
      records.append(
        Record(loss: s.loss, shadowLoss: s.shadowLoss, lossScale: s.lossScale, applied: s.applied))
    }
    return records
  }
}

/// An optimizer step on the device: master weights `W` (f32), the gradient `G` (divided by the
/// loss scale first), and the optimizer's state (f32), element by element in blocks.
public enum Optimizer: Sendable, Hashable {
  /// `W −= rate·G`.
  case sgd
  /// `M = β·M + G; W −= rate·M`.
  case momentum(beta: Double)
  /// AdamW (Loshchilov & Hutter): `M = β1·M + (1−β1)·G`, `V = β2·V + (1−β2)·G²`,
  /// `W −= rate·(M̂ / (√V̂ + ε) + decay·W)` with the bias-corrected `M̂ = M / (1 − β1^t)`,
  /// `V̂ = V / (1 − β2^t)`.
  case adamW(beta1: Double, beta2: Double, epsilon: Double, decay: Double)

  /// The state tensors it keeps per weight: none, `M`, or `M` and `V`.
  public var stateCount: Int {
    switch self {
    case .sgd: return 0
    case .momentum: return 1
    case .adamW: return 2
    }
  }

  /// The kernel of step `t` (from 1) over `count` weights: inputs `W` (f32), `G` (f16), `M`, `V`
  /// (f32, as `stateCount` says); outputs `W`, then the state.
  public func kernel(count n: Int, step t: Int, rate: Double, lossScale: Int, sramBytes: Int)
    -> ProgramBuilder
  {
    var e = Emitter(path: "optimizer.isa", header: ["Optimizer step \(t) over \(n) weights: \(self)."])
    // W, G (f16 and f32), M, V, two temporaries: at most 26 bytes per element.
    let rb = DecoderKernels.block(n, max(1, (sramBytes - 1024) / 28))
    let rows = Axis(size: n, block: rb, length: 20)
    let f32 = DType.format(.f32)
    let w = e.tensor("W", f32, [n], .dram)
    let g = e.tensor("G", .format(.f16), [n], .dram)
    let state = (0..<stateCount).map { e.tensor(["M", "V"][$0], f32, [n], .dram) }
    let ws = e.tensor("w", f32, [rb], .sram)
    let gh = e.tensor("g", .format(.f16), [rb], .sram)
    let gs = e.tensor("gf", f32, [rb], .sram)
    let ss = (0..<stateCount).map { e.tensor(["m", "v"][$0], f32, [rb], .sram) }
    let t1 = e.tensor("t", f32, [rb], .sram)
    let t2 = e.tensor("u", f32, [rb], .sram)
    e.output(w)
    for s in state { e.output(s) }
    let unscale = 1 / ScalingBias.powerOfTwo(lossScale)
    e.forEachItem(rows.blocks, register: 1, "block") { e in
      e.int(.mul, 2, .register(1), .constant(Int64(rb)))
      rows.setLength(&e, start: 2)
      let (wv, gv, a, b) = (ws[rows.local], gs[rows.local], t1[rows.local], t2[rows.local])
      e.load(wv, w[rows.at(2)])
      e.load(gh[rows.local], g[rows.at(2)])
      for (d, s) in zip(state, ss) { e.load(s[rows.local], d[rows.at(2)]) }
      e.wait()
      e.binary(.mul, gv, gh[rows.local], .value(.constant(unscale)))
      switch self {
      case .sgd:
        e.binary(.mul, a, gv, .value(.constant(rate)))
      case .momentum(let beta):
        let m = ss[0][rows.local]
        e.binary(.mul, m, m, .value(.constant(beta)))
        e.binary(.add, m, m, .view(gv))
        e.binary(.mul, a, m, .value(.constant(rate)))
      case .adamW(let beta1, let beta2, let epsilon, let decay):
        let (m, v) = (ss[0][rows.local], ss[1][rows.local])
        e.binary(.mul, m, m, .value(.constant(beta1)))
        e.binary(.mul, a, gv, .value(.constant(1 - beta1)))
        e.binary(.add, m, m, .view(a))
        e.binary(.mul, v, v, .value(.constant(beta2)))
        e.binary(.mul, a, gv, .view(gv))
        e.binary(.mul, a, a, .value(.constant(1 - beta2)))
        e.binary(.add, v, v, .view(a))
        // a = √(V / (1 − β2^t)) + ε; b = M / (1 − β1^t) / a + decay·W; a = rate·b.
        e.binary(.mul, a, v, .value(.constant(1 / (1 - Foundation.pow(beta2, Double(t))))))
        e.vector(.unary(.sqrt, a: a), a)
        e.binary(.add, a, a, .value(.constant(epsilon)))
        e.binary(.mul, b, m, .value(.constant(1 / (1 - Foundation.pow(beta1, Double(t))))))
        e.binary(.div, b, b, .view(a))
        e.binary(.mul, a, wv, .value(.constant(decay)))
        e.binary(.add, b, b, .view(a))
        e.binary(.mul, a, b, .value(.constant(rate)))
      }
      e.binary(.sub, wv, wv, .view(a))
      e.store(w[rows.at(2)], wv)
      for (d, s) in zip(state, ss) { e.store(d[rows.at(2)], s[rows.local]) }
    }
    e.wait()
    e.halt()
    return e.b
  }

  /// Runs step `t` on the device: updates `weights` and `state` (device values and shadow).
  public func apply(
    weights: inout HostTensor, gradient: HostTensor, state: inout [HostTensor], step t: Int, rate: Double,
    lossScale: Int, device: DeviceConfig
  ) throws(ModelError) -> KernelRecord {
    let n = weights.values.count
    while state.count < stateCount {
      let zeros = [Float](repeating: 0, count: n)
      state.append(HostTensor(values: zeros, reference: zeros))
    }
    var chain = KernelChain(device: device, timingOnly: false)
    chain.values["w"] = weights
    chain.values["g"] = gradient
    var inputs = ["W": "w", "G": "g"]
    for (i, s) in state.prefix(stateCount).enumerated() {
      chain.values[["m", "v"][i]] = s
      inputs[["M", "V"][i]] = ["m", "v"][i]
    }
    let outputs = try chain.run(
      "optimizer", .norm,
      kernel(count: n, step: t, rate: rate, lossScale: lossScale, sramBytes: device.sramBytesPerTile),
      inputs: inputs, output: "w")
    weights = outputs[0]
    for i in 0..<stateCount { state[i] = outputs[1 + i] }
    return chain.records[0]
  }
}

/// The backward pass of `Y = layernorm(X)·γ + β` over rows of `width` (LayerNorm; RMSNorm
/// with `rms`): with x̂ the normalised row, σ its standard deviation and g = γ ⊙ dY,
/// `dX = (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)) / σ` (RMSNorm: no mean(g) term, x̂ = x / rms),
/// `dγ = Σ_rows dY ⊙ x̂`, `dβ = Σ_rows dY`, in f32. One block of rows per work item; the
/// column sums of each block go to a partial `P [blocks, 2, width]` the host (or a next
/// kernel) adds up.
public struct NormBackward: Sendable {
  public var rows: Int
  public var width: Int
  public var epsilon: Double
  public var rms = false
  public init(rows: Int, width: Int, epsilon: Double) {
    (self.rows, self.width, self.epsilon) = (rows, width, epsilon)
  }

  /// Inputs `X`, `DY` (f16) and `G` (γ, f32); outputs `DX` (f16), then `P` (f32 partial sums:
  /// dγ then dβ per block).
  public func kernel(sramBytes: Int) -> ProgramBuilder {
    let (t, w) = (rows, width)
    // x, dy (f16), five f32 rows of work: 24 bytes per element; γ and the sums per column.
    let rb = DecoderKernels.block(t, max(1, (sramBytes - 16 * w - 1024) / (24 * w + 64)))
    let axis = Axis(size: t, block: rb, length: 20)
    var e = Emitter(
      path: "norm_backward.isa", header: ["\(rms ? "RMS" : "Layer") norm backward: \(t) rows of \(w)."])
    let f32 = DType.format(.f32)
    let x = e.tensor("X", .format(.f16), [t, w], .dram)
    let dy = e.tensor("DY", .format(.f16), [t, w], .dram)
    let gamma = e.tensor("G", f32, [w], .dram)
    let dx = e.tensor("DX", .format(.f16), [t, w], .dram)
    let partial = e.tensor("P", f32, [axis.blocks, 2, w], .dram)
    let xs = e.tensor("x", .format(.f16), [rb, w], .sram)
    let dys = e.tensor("dy", .format(.f16), [rb, w], .sram)
    let g = e.tensor("g", f32, [w], .sram)
    let (xh, gg, a, b) = (
      e.tensor("xh", f32, [rb, w], .sram), e.tensor("gg", f32, [rb, w], .sram),
      e.tensor("a", f32, [rb, w], .sram),
      e.tensor("b", f32, [rb, w], .sram)
    )
    let (c1, c2, sd) = (
      e.tensor("c1", f32, [rb, 1], .sram), e.tensor("c2", f32, [rb, 1], .sram),
      e.tensor("sd", f32, [rb, 1], .sram)
    )
    let ones = e.tensor("ones", f32, [1, rb], .sram)
    let sums = e.tensor("s", f32, [2, w], .sram)
    let dyf = e.tensor("dyf", f32, [rb, w], .sram)
    e.output(dx)
    e.output(partial)
    let n = Double(w)
    e.forEachItem(axis.blocks, register: 1, "rows") { e in
      e.load(g.all, gamma.all)
      e.vector(.fill(.constant(1)), ones.all)
    } _: { e in
      e.int(.mul, 2, .register(1), .constant(Int64(rb)))
      axis.setLength(&e, start: 2)
      let r = axis.local
      let (xv, dyv, xhv, ggv, av, bv) = (
        xs[r, .all], dys[r, .all], xh[r, .all], gg[r, .all], a[r, .all], b[r, .all]
      )
      let (c1v, c2v, sdv) = (c1[r, .all], c2[r, .all], sd[r, .all])
      e.load(xv, x[axis.at(2), .all])
      e.load(dyv, dy[axis.at(2), .all])
      e.wait()
      e.cast(dyf[r, .all], dyv)
      // σ per row: √(mean((x − μ)²) + ε) (RMSNorm: √(mean(x²) + ε)); x̂ = (x − μ) / σ.
      if rms {
        e.cast(av, xv)
      } else {
        e.vector(.rowReduce(.sum, xv), c1v)
        e.binary(.mul, c1v, c1v, .value(.constant(1 / n)))
        e.binary(.sub, av, xv, .view(c1v))
      }
      e.binary(.mul, bv, av, .view(av))
      e.vector(.rowReduce(.sum, bv), sdv)
      e.binary(.mul, sdv, sdv, .value(.constant(1 / n)))
      e.binary(.add, sdv, sdv, .value(.constant(epsilon)))
      e.vector(.unary(.sqrt, a: sdv), sdv)
      e.binary(.div, xhv, av, .view(sdv))
      // g = γ ⊙ dY; dX = (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)) / σ.
      e.binary(.mul, ggv, dyv, .view(g.all))
      e.binary(.mul, bv, ggv, .view(xhv))
      e.vector(.rowReduce(.sum, bv), c2v)
      e.binary(.mul, c2v, c2v, .value(.constant(1 / n)))
      e.binary(.mul, bv, xhv, .view(c2v))
      e.binary(.sub, av, ggv, .view(bv))
      if !rms {
        e.vector(.rowReduce(.sum, ggv), c1v)
        e.binary(.mul, c1v, c1v, .value(.constant(1 / n)))
        e.binary(.sub, av, av, .view(c1v))
      }
      e.binary(.div, av, av, .view(sdv))
      let out = dys[r, .all]
      e.cast(out, av)
      e.store(dx[axis.at(2), .all], out)
      // Column sums of the block: dγ = Σ dY ⊙ x̂, dβ = Σ dY (ones · M, f32 accumulation).
      e.binary(.mul, bv, dyf[r, .all], .view(xhv))
      let onesView = ones[.all, axis.local]
      e.mma(sums[.range(0, 1), .all], onesView, bv, clear: true)
      e.mma(sums[.range(1, 1), .all], onesView, dyf[r, .all], clear: true)
      e.store(partial[.index(.register(1)), .all, .all], sums.all)
    }
    e.wait()
    e.halt()
    return e.b
  }
}

/// The backward pass of a row-wise softmax `P = softmax(S)`: `dS = P ⊙ (dP − rowsum(dP ⊙ P))`,
/// in f32, blocks of rows per work item (attention's backward applies it to each block of
/// scores). Inputs `S` (the scores; P is recomputed with `softmax`, as flash attention's
/// backward does) and `DP` (f32); output `DS` (f32).
public struct SoftmaxBackward: Sendable {
  public var rows: Int
  public var width: Int
  public init(rows: Int, width: Int) { (self.rows, self.width) = (rows, width) }

  public func kernel(sramBytes: Int) -> ProgramBuilder {
    let (t, w) = (rows, width)
    let rb = DecoderKernels.block(t, max(1, (sramBytes - 1024) / (16 * w + 64)))
    let axis = Axis(size: t, block: rb, length: 20)
    var e = Emitter(path: "softmax_backward.isa", header: ["Softmax backward: \(t) rows of \(w)."])
    let f32 = DType.format(.f32)
    let s = e.tensor("S", f32, [t, w], .dram)
    let dp = e.tensor("DP", f32, [t, w], .dram)
    let ds = e.tensor("DS", f32, [t, w], .dram)
    let (ss, dps, p, c) = (
      e.tensor("s", f32, [rb, w], .sram), e.tensor("dp", f32, [rb, w], .sram),
      e.tensor("p", f32, [rb, w], .sram),
      e.tensor("c", f32, [rb, 1], .sram)
    )
    e.output(ds)
    e.forEachItem(axis.blocks, register: 1, "rows") { e in
      e.int(.mul, 2, .register(1), .constant(Int64(rb)))
      axis.setLength(&e, start: 2)
      let r = axis.local
      let (sv, dpv, pv, cv) = (ss[r, .all], dps[r, .all], p[r, .all], c[r, .all])
      e.load(sv, s[axis.at(2), .all])
      e.load(dpv, dp[axis.at(2), .all])
      e.wait()
      e.vector(.softmax(sv), pv)
      e.binary(.mul, sv, dpv, .view(pv))
      e.vector(.rowReduce(.sum, sv), cv)
      e.binary(.sub, dpv, dpv, .view(cv))
      e.binary(.mul, dpv, dpv, .view(pv))
      e.store(ds[axis.at(2), .all], dpv)
    }
    e.wait()
    e.halt()
    return e.b
  }
}

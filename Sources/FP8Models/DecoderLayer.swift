import FP8Formats
import FP8ISA
import FP8Sim

/// One kernel launch of a layer: its program and how activations flow into and out of it
/// (kernel tensor name → the layer's value name).
public struct KernelLaunch: Sendable {
  public var name: String
  public var kind: KernelRecord.Kind
  public var builder: ProgramBuilder
  public var inputs: [String: String]
  public var output: String
  public init(
    name: String, kind: KernelRecord.Kind, builder: ProgramBuilder, inputs: [String: String], output: String
  ) {
    (self.name, self.kind, self.builder, self.inputs, self.output) = (name, kind, builder, inputs, output)
  }
}

/// A decoder layer in GPT-2 or Llama style as a chain of kernel launches:
///
///     N1 = norm(X)                      norm1
///     QKV = N1·Wqkvᵀ (+ b)              qkv          FP8 linear
///     QKV = rope(QKV)                   rope         Llama only
///     O = attention(QKV [, KV cache])   attention    f16/f32, flash style or decode
///     H = O·Woᵀ (+ b) + X               proj         FP8 linear, residual
///     N2 = norm(H)                      norm2
///     I = gelu(N2·W1ᵀ + b)              mlp.in       FP8 linear (Llama: silu(N2·Gᵀ)·(N2·Uᵀ))
///     Y = I·W2ᵀ (+ b) + H               mlp.out      FP8 linear, residual
///
/// Weight names (for `WeightSource`): `ln1.weight`, `ln1.bias`, `attn.qkv.weight`,
/// `attn.qkv.bias`, `attn.proj.weight`, `attn.proj.bias`, `ln2.weight`, `ln2.bias`,
/// `mlp.in.weight`, `mlp.in.bias`, `mlp.gate.weight` (Llama), `mlp.out.weight`, `mlp.out.bias`;
/// decode also reads `cache.k` and `cache.v`.
public struct DecoderLayer: Sendable {
  public var shape: DecoderShape
  public var scaling: Scaling
  public var overflow: OverflowMode = .nonfinite
  public var weights: WeightSource = .random(seed: 1, std: 0.02)
  /// Delayed scaling: each linear kernel's amax history, by kernel name (`calibrated`).
  public var histories: [String: LinearKernel.History] = [:]
  /// Delayed scaling: the history of a kernel `histories` does not name.
  public var defaultHistory = LinearKernel.History()

  public init(shape: DecoderShape, scaling: Scaling) {
    self.shape = shape
    self.scaling = scaling
  }

  public func kernels(device: DeviceConfig) throws(ModelError) -> [KernelLaunch] {
    let s = shape
    let gpt2 = s.style == .gpt2
    let sram = device.sramBytesPerTile
    func linear(
      _ name: String, _ prefix: String, inputs: Int, outputs: Int,
      activation: LinearKernel.Activation = .none,
      residual: Bool = false
    ) throws(ModelError) -> ProgramBuilder {
      var l = LinearKernel(
        name, rows: s.rows, inputs: inputs, outputs: outputs, weight: prefix + ".weight",
        bias: gpt2 ? prefix + ".bias" : nil, scaling: scaling, weights: weights)
      l.activation = activation
      l.residual = residual
      l.overflow = overflow
      l.history = histories[name] ?? defaultHistory
      if activation == .swiglu { l.gate = "mlp.gate.weight" }
      return try l.builder(device: device)
    }
    func norm(_ name: String, _ prefix: String) -> ProgramBuilder {
      DecoderKernels.norm(
        name, shape: s, gamma: prefix + ".weight", beta: gpt2 ? prefix + ".bias" : nil, weights: weights,
        sramBytes: sram)
    }
    var k: [KernelLaunch] = []
    k.append(
      KernelLaunch(
        name: "norm1", kind: .norm, builder: norm("norm1", "ln1"), inputs: ["X": "x"], output: "n1"))
    k.append(
      KernelLaunch(
        name: "qkv", kind: .linear,
        builder: try linear("qkv", "attn.qkv", inputs: s.hidden, outputs: s.qkvWidth),
        inputs: ["X": "n1"], output: "qkv"))
    if !gpt2 {
      k.append(
        KernelLaunch(
          name: "rope", kind: .rope, builder: DecoderKernels.rope(shape: s, sramBytes: sram),
          inputs: ["QKV": "qkv"],
          output: "qkv"))
    }
    let attention: ProgramBuilder
    switch s.phase {
    case .prefill: attention = DecoderKernels.attentionPrefill(shape: s, sramBytes: sram)
    case .decode: attention = DecoderKernels.attentionDecode(shape: s, sramBytes: sram, weights: weights)
    }
    k.append(
      KernelLaunch(
        name: "attention", kind: .attention, builder: attention, inputs: ["QKV": "qkv"], output: "o"))
    k.append(
      KernelLaunch(
        name: "proj", kind: .linear,
        builder: try linear("proj", "attn.proj", inputs: s.hidden, outputs: s.hidden, residual: true),
        inputs: ["X": "o", "R": "x"], output: "h"))
    k.append(
      KernelLaunch(
        name: "norm2", kind: .norm, builder: norm("norm2", "ln2"), inputs: ["X": "h"], output: "n2"))
    k.append(
      KernelLaunch(
        name: "mlp.in", kind: .linear,
        builder: try linear(
          "mlp.in", "mlp.in", inputs: s.hidden, outputs: s.intermediate,
          activation: gpt2 ? .geluTanh : .swiglu),
        inputs: ["X": "n2"], output: "i"))
    k.append(
      KernelLaunch(
        name: "mlp.out", kind: .linear,
        builder: try linear("mlp.out", "mlp.out", inputs: s.intermediate, outputs: s.hidden, residual: true),
        inputs: ["X": "i", "R": "h"], output: "y"))
    return k
  }

  /// What a layer run measured: every kernel's record and (numeric runs) the output `Y` with
  /// its FP32 shadow.
  public struct Result: Sendable {
    public var kernels: [KernelRecord]
    public var output: HostTensor?
    public var cycles: Int64 { kernels.reduce(0) { $0 + $1.cycles } }
  }

  /// Runs the layer's kernels one after another on `device`. Numeric runs need the input `x`
  /// (`[rows, hidden]`); timing-only runs ignore it.
  public func run(device: DeviceConfig, input x: HostTensor?, timingOnly: Bool) throws(ModelError) -> Result {
    var chain = KernelChain(device: device, timingOnly: timingOnly)
    if !timingOnly {
      guard let x, x.values.count == shape.rows * shape.hidden else {
        throw ModelError("a numeric run needs the input: \(shape.rows) × \(shape.hidden) values")
      }
      chain.values["x"] = x
    }
    for k in try kernels(device: device) {
      try chain.run(k.name, k.kind, k.builder, inputs: k.inputs, output: k.output)
    }
    return Result(kernels: chain.records, output: chain.values["y"])
  }
}

import FP8Data
import FP8Formats
import FP8ISA
import FP8Models
import FP8Sim
import Foundation
import Testing

/// Tiny GPT-2 and Llama decoder layers (random weights written here as .safetensors) run on a
/// 4-tile device with 2 KiB of SRAM per tile, so attention streams several blocks of queries
/// and keys and decode several blocks of the cache plus a ragged tail: the FP32 shadow of the
/// layer's output against an independent f64 computation written below (LayerNorm/RMSNorm,
/// causal attention with grouped-query heads, rotate-half rope, GELU-tanh and SwiGLU, the KV
/// cache), and the FP8-AMAX output within a stated tolerance of it.
@Suite struct DecoderLayerTests {
  static let device: DeviceConfig = {
    var d = DeviceConfig.teach
    d.tiles = 4
    d.sramBytesPerTile = 2048
    return d
  }()

  /// Seeded standard normal values (Box–Muller on SplitMix64), rounded to f32.
  static func normal(_ count: Int, seed: UInt64, scale: Double = 1) -> [Double] {
    var state = seed
    func next() -> Double {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return (Double((z ^ (z >> 31)) >> 11) + 0.5) * 0x1p-53
    }
    return (0..<count).map { _ in
      Double(Float(scale * (-2 * Foundation.log(next())).squareRoot() * Foundation.cos(2 * .pi * next())))
    }
  }

  /// The layer's weights as the file holds them (f32), written to a fresh .safetensors file.
  static func weights(_ s: DecoderShape, context: Int) throws -> (WeightSource, [String: [Double]]) {
    let (h, f, w) = (s.hidden, s.intermediate, s.qkvWidth)
    var shapes: [(String, [Int])] = [
      ("ln1.weight", [h]), ("attn.qkv.weight", [w, h]), ("attn.proj.weight", [h, h]), ("ln2.weight", [h]),
      ("mlp.in.weight", [f, h]), ("mlp.out.weight", [h, f]),
    ]
    if s.style == .gpt2 {
      shapes += [
        ("ln1.bias", [h]), ("attn.qkv.bias", [w]), ("attn.proj.bias", [h]), ("ln2.bias", [h]),
        ("mlp.in.bias", [f]), ("mlp.out.bias", [h]),
      ]
    } else {
      shapes.append(("mlp.gate.weight", [f, h]))
    }
    let kv = s.keyValueHeads * s.headSize
    shapes += [("cache.k", [s.batch * (context + 1), kv]), ("cache.v", [s.batch * (context + 1), kv])]
    var values: [String: [Double]] = [:]
    var tensors: [(name: String, dtype: String, shape: [Int], data: Data)] = []
    for (i, (name, shape)) in shapes.enumerated() {
      let n = shape.reduce(1, *)
      // Gains near 1, everything else N(0, 1/√fan-in) (caches N(0, 1)).
      var v = normal(
        n, seed: UInt64(100 + i), scale: name.hasPrefix("cache") ? 1 : 1 / Double(shape.last!).squareRoot())
      if name.hasPrefix("ln") && name.hasSuffix("weight") { v = v.map { Double(Float(1 + 0.1 * $0)) } }
      values[name] = v
      let f32 = v.map { Float($0) }
      tensors.append((name, "F32", shape, f32.withUnsafeBytes { Data($0) }))
    }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "decoder-\(UUID().uuidString).safetensors")
    try Safetensors.write(url, tensors: tensors)
    return (.file(WeightFile(path: url.path)), values)
  }

  // MARK: - The reference, in f64

  static func norm(_ x: [Double], _ rows: Int, _ g: [Double], _ b: [Double]?, eps: Double, rms: Bool)
    -> [Double]
  {
    let n = g.count
    var y = x
    for r in 0..<rows {
      let row = Array(x[(r * n)..<((r + 1) * n)])
      let mean = rms ? 0 : row.reduce(0, +) / Double(n)
      let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
      for j in 0..<n { y[r * n + j] = (row[j] - mean) / (variance + eps).squareRoot() * g[j] + (b?[j] ?? 0) }
    }
    return y
  }

  /// x [rows, k] · Wᵀ (W [n, k]) + b.
  static func linear(_ x: [Double], _ rows: Int, _ w: [Double], _ b: [Double]?, n: Int) -> [Double] {
    let k = w.count / n
    var y = [Double](repeating: 0, count: rows * n)
    for r in 0..<rows {
      for o in 0..<n {
        var sum = b?[o] ?? 0
        for i in 0..<k { sum += x[r * k + i] * w[o * k + i] }
        y[r * n + o] = sum
      }
    }
    return y
  }

  /// Rotate-half rope of one head's vector at position p.
  static func rope(_ v: [Double], position p: Int, base: Double) -> [Double] {
    let n = v.count
    let half = n / 2
    var out = v
    for j in 0..<half {
      let theta = Double(p) * Foundation.pow(base, -2 * Double(j) / Double(n))
      out[j] = v[j] * Foundation.cos(theta) - v[j + half] * Foundation.sin(theta)
      out[j + half] = v[j + half] * Foundation.cos(theta) + v[j] * Foundation.sin(theta)
    }
    return out
  }

  /// The whole layer: Y for every query row.
  static func reference(_ s: DecoderShape, x: [Double], w: [String: [Double]], context: Int) -> [Double] {
    let (h, d, rows, q) = (s.hidden, s.headSize, s.rows, s.queries)
    let llama = s.style == .llama
    let group = s.heads / s.keyValueHeads
    let n1 = norm(x, rows, w["ln1.weight"]!, w["ln1.bias"], eps: s.epsilon, rms: llama)
    let qkv = linear(n1, rows, w["attn.qkv.weight"]!, w["attn.qkv.bias"], n: s.qkvWidth)
    func part(_ r: Int, _ column: Int) -> [Double] {
      Array(qkv[(r * s.qkvWidth + column)..<(r * s.qkvWidth + column + d)])
    }
    var o = [Double](repeating: 0, count: rows * h)
    for b in 0..<s.batch {
      for head in 0..<s.heads {
        let kvColumn = (head / group) * d
        // (key, value) pairs this sequence's queries see, and each query's position.
        var keys: [([Double], [Double])] = []
        var base = 0
        if case .decode(let c) = s.phase {
          base = c
          let cache = (w["cache.k"]!, w["cache.v"]!)
          for t in 0..<c {
            let row = (b * (c + 1) + t) * s.keyValueHeads * d + kvColumn
            keys.append((Array(cache.0[row..<row + d]), Array(cache.1[row..<row + d])))
          }
        }
        for t in 0..<q {
          let r = b * q + t
          var k = part(r, h + kvColumn)
          if llama { k = rope(k, position: base + t, base: s.ropeBase) }
          keys.append((k, part(r, h + s.keyValueHeads * d + kvColumn)))
        }
        for t in 0..<q {
          let r = b * q + t
          var query = part(r, head * d)
          if llama { query = rope(query, position: base + t, base: s.ropeBase) }
          let visible = keys.prefix(base + t + 1)
          let scores = visible.map { key in zip(query, key.0).map(*).reduce(0, +) / Double(d).squareRoot() }
          let top = scores.max()!
          let e = scores.map { Foundation.exp($0 - top) }
          let total = e.reduce(0, +)
          for j in 0..<d {
            o[r * h + head * d + j] = zip(e, visible).map { $0 * $1.1[j] }.reduce(0, +) / total
          }
        }
      }
    }
    var hidden = linear(o, rows, w["attn.proj.weight"]!, w["attn.proj.bias"], n: h)
    for i in hidden.indices { hidden[i] += x[i] }
    let n2 = norm(hidden, rows, w["ln2.weight"]!, w["ln2.bias"], eps: s.epsilon, rms: llama)
    var inner = linear(n2, rows, w["mlp.in.weight"]!, w["mlp.in.bias"], n: s.intermediate)
    if llama {
      let gate = linear(n2, rows, w["mlp.gate.weight"]!, nil, n: s.intermediate)
      for i in inner.indices { inner[i] *= gate[i] / (1 + Foundation.exp(-gate[i])) }
    } else {
      inner = inner.map { a in
        0.5 * a * (1 + Foundation.tanh(0.7978845608028654 * (a + 0.044715 * a * a * a)))
      }
    }
    var y = linear(inner, rows, w["mlp.out.weight"]!, w["mlp.out.bias"], n: h)
    for i in y.indices { y[i] += hidden[i] }
    return y
  }

  static func check(_ s: DecoderShape, context: Int = 0, scaling: Scaling = .amax(margin: 0)) throws {
    let (source, w) = try weights(s, context: context)
    let x = normal(s.rows * s.hidden, seed: 9)
    let want = reference(s, x: x, w: w, context: context)
    let input = HostTensor(values: x.map { Float($0) }, reference: x.map { Float($0) })
    var layer = DecoderLayer(shape: s, scaling: scaling)
    layer.weights = source
    let r = try layer.run(device: device, input: input, timingOnly: false)
    let y = try #require(r.output)
    let scale = want.map(\.magnitude).max()!
    let shadowError = zip(y.reference, want).map { abs(Double($0) - $1) }.max()!
    #expect(shadowError / scale < 2e-5, "FP32 shadow vs f64: \(shadowError / scale) of the largest value")
    // FP8-AMAX (E4M3 operands: 2^-4 relative rounding; f16 activations): within 10% of the
    // largest value, SNR ≥ 20 dB.
    let deviceError = zip(y.values, want).map { abs(Double($0) - $1) }.max()!
    #expect(deviceError / scale < 0.1, "FP8 vs f64: \(deviceError / scale)")
    let noise = zip(y.values, want).map { (Double($0) - $1) * (Double($0) - $1) }.reduce(0, +)
    let signal = want.map { $0 * $0 }.reduce(0, +)
    #expect(10 * Foundation.log10(signal / noise) > 20)
    // Timing-only runs cost the same, kernel by kernel.
    let timing = try layer.run(device: device, input: nil, timingOnly: true)
    #expect(timing.kernels.map(\.cycles) == r.kernels.map(\.cycles))
  }

  @Test func gpt2PrefillMatchesTheReference() throws {
    try Self.check(
      DecoderShape(
        style: .gpt2, hidden: 32, heads: 4, intermediate: 64, batch: 2, phase: .prefill(tokens: 12)))
  }

  @Test func llamaPrefillWithGroupedHeadsMatchesTheReference() throws {
    try Self.check(
      DecoderShape(
        style: .llama, hidden: 32, heads: 4, keyValueHeads: 2, intermediate: 48, batch: 2,
        phase: .prefill(tokens: 12)))
  }

  @Test func llamaDecodeWithACacheMatchesTheReference() throws {
    let context = 37
    try Self.check(
      DecoderShape(
        style: .llama, hidden: 32, heads: 4, keyValueHeads: 2, intermediate: 48, batch: 3,
        phase: .decode(context: context)), context: context)
  }

  /// MXFP8 (E4M3 elements, a power-of-two scale per 32 values along K) and delayed scaling (its
  /// history 1 for every tensor: biases 8) through the same layer, within the same tolerance.
  @Test func blockAndDelayedScalingMatchTheReference() throws {
    let shape = try DecoderShape(
      style: .gpt2, hidden: 32, heads: 4, intermediate: 64, batch: 2, phase: .prefill(tokens: 12))
    try Self.check(shape, scaling: .block(.mxfp8E4M3))
    let (source, _) = try Self.weights(shape, context: 0)
    let x = Self.normal(shape.rows * shape.hidden, seed: 9).map { Float($0) }
    var amax = DecoderLayer(shape: shape, scaling: .amax(margin: 0))
    amax.weights = source
    let reference = try amax.run(
      device: Self.device, input: HostTensor(values: x, reference: x), timingOnly: false)
    var delayed = DecoderLayer(shape: shape, scaling: .delayed(margin: 0))
    delayed.weights = source
    let guessed = try delayed.run(
      device: Self.device, input: HostTensor(values: x, reference: x), timingOnly: false)
    #expect(guessed.kernels.contains { ($0.activationCasts?.overflow ?? 0) > 0 })
    for k in reference.kernels { if let a = k.amax { delayed.histories[k.name] = a } }
    let calibrated = try delayed.run(
      device: Self.device, input: HostTensor(values: x, reference: x), timingOnly: false)
    #expect(calibrated.output?.values == reference.output?.values)
    // 1×128 blocks do not divide K = 32: refused, with the reason.
    let layer = DecoderLayer(shape: shape, scaling: .block(BlockScaling.named("e4m3fn_f32_1x128")!))
    #expect(throws: ModelError.self) { try layer.kernels(device: Self.device) }
    do {
      _ = try layer.kernels(device: Self.device)
    } catch {
      #expect(
        error.description.contains("e4m3fn_f32_1x128 scales blocks of 128 along K; 32 is not a multiple"))
    }
  }

  /// Sizes without good divisors: 13 tokens (attention blocks of 4, the last 1 long), and a
  /// linear layer of 131 rows, 263 inputs and 257 outputs, all prime (blocks of 128, 256 and
  /// 256 with a short last block), against its f64 computation.
  @Test func raggedSizesMatchTheReference() throws {
    try Self.check(
      DecoderShape(
        style: .llama, hidden: 32, heads: 4, keyValueHeads: 2, intermediate: 48, batch: 2,
        phase: .prefill(tokens: 13)))
    let (t, k, n) = (131, 263, 257)
    var kernel = LinearKernel(
      "linear", rows: t, inputs: k, outputs: n, weight: "W", bias: "Bias", scaling: .amax(margin: 0),
      weights: .random(seed: 0, std: 0))
    kernel.activation = .geluTanh
    kernel.residual = true
    let builder = try kernel.builder(device: .h100)
    let header = builder.header.joined()
    #expect(header.contains("(the last ones shorter)"), "\(header)")
    let x = Self.normal(t * k, seed: 1)
    let w = Self.normal(n * k, seed: 2, scale: 0.1)
    let b = Self.normal(n, seed: 3)
    let r = Self.normal(t * n, seed: 4)
    var options = RunOptions()
    for (name, v) in [("X", x), ("W", w), ("Bias", b), ("R", r)] {
      let f = v.map { Float($0) }
      options.inputs[name] = HostTensor(values: f, reference: f)
    }
    let y = try Machine(program: builder.build(), device: .h100, options: options).run().outputs[0]
    var worst = 0.0
    for i in 0..<t {
      for o in 0..<n {
        var a = b[o]
        for j in 0..<k { a += x[i * k + j] * w[o * k + j] }
        let g =
          0.5 * a * (1 + Foundation.tanh(0.7978845608028654 * (a + 0.044715 * a * a * a))) + r[i * n + o]
        worst = max(worst, abs(Double(y.reference[i * n + o]) - g) / max(1, abs(g)))
      }
    }
    #expect(worst < 1e-5, "FP32 shadow vs f64: \(worst)")
    #expect(y.metrics.snrDB > 20)
  }

  @Test func gpt2DecodeMatchesTheReference() throws {
    try Self.check(
      DecoderShape(
        style: .gpt2, hidden: 32, heads: 4, intermediate: 64, batch: 2, phase: .decode(context: 20)),
      context: 20)
  }
}

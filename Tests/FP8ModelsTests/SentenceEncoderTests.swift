import FP8Data
import FP8Formats
import FP8Models
import FP8Sim
import Foundation
import Testing

/// A tiny BERT encoder written here (random weights as .safetensors, a small vocabulary) run end
/// to end on the simulated device: its FP32 shadow against an independent f64 computation of
/// the model written below, FP8-AMAX biases against the rule computed here, CSCALE overflow, and
/// timing-only runs against numeric ones.
@Suite struct SentenceEncoderTests {
  static let hidden = 16
  static let heads = 2
  static let layers = 2
  static let inner = 32
  static let positions = 16
  static let vocabulary = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "dog", "##s", ".", "run",
    "##ning", "a",
  ]
  static let texts = ["The cat sat on the mat.", "Dogs running!"]

  /// The model's folder and its weights (each as the f32 the file holds), made once.
  static let model: (folder: URL, weights: [String: [Double]]) = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "tiny-bert-\(UUID().uuidString)")
    var sizes = RandomBERT.Sizes()
    (sizes.hidden, sizes.heads, sizes.layers, sizes.intermediate, sizes.positions) = (
      hidden, heads, layers, inner, positions
    )
    let weights = try! RandomBERT.write(to: folder, sizes: sizes, vocabulary: vocabulary)
    return (folder, weights)
  }()

  static func run(_ scaling: Scaling, timingOnly: Bool = false, device: DeviceConfig = .h100) throws
    -> EncoderResult
  {
    let encoder = try SentenceEncoder(directory: model.folder)
    var options = SentenceEncoder.Options()
    options.scaling = scaling
    options.timingOnly = timingOnly
    options.device = device
    return try encoder.run(texts, options: options)
  }

  /// 2 KiB of SRAM per tile: every kernel works in blocks of rows (embeddings, norms, pooling)
  /// and attention in blocks of queries and keys, with short last blocks; the model is the same.
  @Test func smallSRAMComputesTheSameModel() throws {
    var device = DeviceConfig.teach
    device.tiles = 4
    device.sramBytesPerTile = 2048
    let r = try Self.run(.amax(margin: 0), device: device)
    let encoder = try SentenceEncoder(directory: Self.model.folder)
    for (got, want) in zip(r.fp32Embeddings, Self.reference(try encoder.tokenIDs(Self.texts))) {
      let error = zip(got, want).map { abs(Double($0) - $1) }.max()!
      #expect(error < 2e-5, "max |shadow − reference| = \(error)")
    }
  }

  // MARK: - An independent f64 computation of the model

  /// Sentence embeddings of `ids`, computed here in f64 from the file's weights.
  static func reference(_ ids: [[Int]]) -> [[Double]] {
    let w = model.weights
    let (h, d) = (hidden, hidden / heads)
    func layerNorm(_ x: [Double], _ prefix: String) -> [Double] {
      let mean = x.reduce(0, +) / Double(h)
      let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(h)
      return (0..<h).map { j in
        (x[j] - mean) / (variance + 1e-12).squareRoot() * w[prefix + ".weight"]![j] + w[prefix + ".bias"]![j]
      }
    }
    func dense(_ x: [Double], _ prefix: String, out: Int) -> [Double] {
      let (weight, bias) = (w[prefix + ".weight"]!, w[prefix + ".bias"]!)
      var y = [Double](repeating: 0, count: out)
      for o in 0..<out {
        var sum = bias[o]
        for i in x.indices { sum += weight[o * x.count + i] * x[i] }
        y[o] = sum
      }
      return y
    }
    return ids.map { text in
      let (word, position, type) = (
        w["embeddings.word_embeddings.weight"]!, w["embeddings.position_embeddings.weight"]!,
        w["embeddings.token_type_embeddings.weight"]!
      )
      var x: [[Double]] = []
      for (p, id) in text.enumerated() {
        var sum = [Double](repeating: 0, count: h)
        for j in 0..<h { sum[j] = word[id * h + j] + position[p * h + j] + type[j] }
        x.append(layerNorm(sum, "embeddings.LayerNorm"))
      }
      for l in 0..<layers {
        let p = "encoder.layer.\(l)"
        let q = x.map { dense($0, "\(p).attention.self.query", out: h) }
        let k = x.map { dense($0, "\(p).attention.self.key", out: h) }
        let v = x.map { dense($0, "\(p).attention.self.value", out: h) }
        var context = [[Double]](repeating: [Double](repeating: 0, count: h), count: x.count)
        for head in 0..<heads {
          let cols = (head * d)..<((head + 1) * d)
          for i in x.indices {
            let scores = x.indices.map { j in
              cols.reduce(0) { $0 + q[i][$1] * k[j][$1] } / Double(d).squareRoot()
            }
            let top = scores.max()!
            let e = scores.map { exp($0 - top) }
            let total = e.reduce(0, +)
            for c in cols { context[i][c] = x.indices.reduce(0) { $0 + e[$1] / total * v[$1][c] } }
          }
        }
        let attended = x.indices.map { i in
          layerNorm(
            zip(dense(context[i], "\(p).attention.output.dense", out: h), x[i]).map(+),
            "\(p).attention.output.LayerNorm")
        }
        x = attended.map { a in
          let u = dense(a, "\(p).intermediate.dense", out: inner).map {
            0.5 * $0 * (1 + erf($0 / 2.0.squareRoot()))
          }
          return layerNorm(zip(dense(u, "\(p).output.dense", out: h), a).map(+), "\(p).output.LayerNorm")
        }
      }
      let mean = (0..<h).map { j in x.reduce(0) { $0 + $1[j] } / Double(x.count) }
      let norm = max(mean.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
      return mean.map { $0 / norm }
    }
  }

  // MARK: - Tests

  @Test func theFP32ShadowIsTheModel() throws {
    let r = try Self.run(.amax(margin: 0))
    let encoder = try SentenceEncoder(directory: Self.model.folder)
    let ids = try encoder.tokenIDs(Self.texts)
    // [CLS] the cat sat on the mat . [SEP]; [CLS] dog ##s run ##ning [UNK] [SEP] (padded to 9).
    #expect(ids == [[2, 5, 6, 7, 8, 5, 9, 12, 3], [2, 10, 11, 13, 14, 1, 3]])
    #expect(r.sequence == 9)
    let expected = Self.reference(ids)
    #expect(r.fp32Embeddings.count == 2)
    for (got, want) in zip(r.fp32Embeddings, expected) {
      let error = zip(got, want).map { abs(Double($0) - $1) }.max()!
      #expect(error < 2e-5, "max |shadow − reference| = \(error)")
    }
    // FP8 changes the embeddings, but not by much.
    for c in r.cosines { #expect(c > 0.98 && c < 1, "cosine \(c)") }
    #expect(r.kernels.count == 2 + 9 * Self.layers)
    #expect(r.kernels.filter { $0.kind == .linear }.count == 6 * Self.layers)
  }

  @Test func amaxBiasesFollowTheRule() throws {
    let r = try Self.run(.amax(margin: 0))
    let linears = r.kernels.filter { $0.kind == .linear }
    let prefixes = (0..<Self.layers).flatMap { l in
      [
        "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
        "intermediate.dense", "output.dense",
      ].map { "encoder.layer.\(l).\($0)" }
    }
    #expect(linears.count == prefixes.count)
    for (record, prefix) in zip(linears, prefixes) {
      // The weight as the device holds it (f16), then the largest b with amax · 2^b ≤ 448.
      let amax = Self.model.weights[prefix + ".weight"]!.map { Double(Float16(Float($0))).magnitude }.max()!
      var b = 0
      while amax * pow(2, Double(b + 1)) <= 448 { b += 1 }
      while amax * pow(2, Double(b)) > 448 { b -= 1 }
      #expect(record.weightBias == b, "\(record.name)")
      #expect(record.weightCasts?.overflow == 0 && record.activationCasts?.overflow == 0, "\(record.name)")
      #expect(record.weightCasts?.total == Self.model.weights[prefix + ".weight"]!.count, "\(record.name)")
    }
  }

  @Test func cscaleOverflowsWhereTheBiasIsTooLarge() throws {
    let safe = try Self.run(.cscale(bias: 0))
    #expect(
      safe.kernels.allSatisfy {
        ($0.weightCasts?.overflow ?? 0) == 0 && ($0.activationCasts?.overflow ?? 0) == 0
      })
    #expect(
      safe.kernels.filter { $0.kind == .linear }.allSatisfy { $0.weightBias == 0 && $0.activationBias == 0 })
    // 2^9 puts every value above 0.875 past E4M3's 448: they become NaN, and so do the embeddings.
    let large = try Self.run(.cscale(bias: 9))
    let overflows = large.kernels.reduce(0) { $0 + ($1.activationCasts?.overflow ?? 0) }
    #expect(overflows > 0)
    #expect(large.cosines.allSatisfy { $0.isNaN })
  }

  /// Delayed scaling calibrated on the texts themselves casts exactly as AMAX does; calibrated on
  /// another text, each layer's biases are that text's AMAX biases, and each layer reports the
  /// amax of this step (the next step's history) as an AMAX run of these texts measures it.
  @Test func delayedScalingUsesTheEarlierStepsAmax() throws {
    let encoder = try SentenceEncoder(directory: Self.model.folder)
    var options = SentenceEncoder.Options()
    let amax = try Self.run(.amax(margin: 0))
    options.scaling = .delayed(margin: 0)
    let same = try encoder.run(Self.texts, options: options)
    #expect(same.embeddings == amax.embeddings)
    let other = ["a dog"]
    options.calibration = other
    let delayed = try encoder.run(Self.texts, options: options)
    var calibrationOptions = SentenceEncoder.Options()
    calibrationOptions.scaling = .amax(margin: 0)
    let calibration = try encoder.run(other, options: calibrationOptions)
    for (k, (c, a)) in zip(delayed.kernels, zip(calibration.kernels, amax.kernels)) where k.kind == .linear {
      #expect(k.weightBias == c.weightBias && k.activationBias == c.activationBias, "\(k.name)")
      #expect(k.amax == a.amax, "\(k.name): this step's amax")
    }
    // A margin applies to the history's amax: every bias 2 below AMAX's.
    options.scaling = .delayed(margin: 2)
    options.calibration = nil
    let margin = try encoder.run(Self.texts, options: options)
    for (k, a) in zip(margin.kernels, amax.kernels) where k.kind == .linear {
      #expect(
        k.weightBias == a.weightBias.map { $0 - 2 } && k.activationBias == a.activationBias.map { $0 - 2 })
    }
  }

  @Test func timingOnlyRunsCostWhatNumericRunsCost() throws {
    let numeric = try Self.run(.amax(margin: 0))
    let timing = try Self.run(.amax(margin: 0), timingOnly: true)
    #expect(timing.embeddings.isEmpty && timing.cosines.isEmpty)
    #expect(timing.kernels.map(\.cycles) == numeric.kernels.map(\.cycles))
    #expect(timing.kernels.map(\.traffic) == numeric.kernels.map(\.traffic))
    #expect(timing.kernels.allSatisfy { $0.weightBias == nil })
    #expect(timing.cycles > 0)
  }

  @Test func badFoldersAreNamed() throws {
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-model-\(UUID().uuidString)")
    do {
      _ = try SentenceEncoder(directory: empty)
      Issue.record("a folder without a model was accepted")
    } catch {
      #expect(error.message.contains("config.json"))
    }
    let encoder = try SentenceEncoder(directory: Self.model.folder)
    let long = Array(repeating: "cat", count: Self.positions).joined(separator: " ")
    do {
      _ = try encoder.tokenIDs([long])
      Issue.record("a text longer than the positions was accepted")
    } catch {
      #expect(error.message.contains("at most \(Self.positions)"))
    }
  }
}

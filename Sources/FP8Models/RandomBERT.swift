import FP8Data
import FP8Formats
import Foundation

/// A BERT encoder with seeded random weights written in the Hugging Face layout (`config.json`,
/// `vocab.txt`, `model.safetensors` with f32 tensors): a model for tests and for trying
/// `fp8sim model run` without a download. Linear weights are normal with standard deviation
/// 0.3 (embeddings 0.5), biases 0.1; layer-norm scales 1 ± 0.1, shifts 0.1.
public enum RandomBERT {
  /// The sizes of a small model.
  public struct Sizes: Sendable {
    public var hidden = 16
    public var heads = 2
    public var layers = 2
    public var intermediate = 32
    public var positions = 16
    public init() {}
  }

  /// Writes the model into `folder` (created if needed); returns every weight as the file holds
  /// it (f32 values), by its `ModelWeights` name.
  @discardableResult
  public static func write(to folder: URL, sizes s: Sizes = Sizes(), vocabulary: [String], seed: UInt64 = 7)
    throws
    -> [String: [Double]]
  {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let config = """
      {"model_type": "bert", "hidden_size": \(s.hidden), "num_hidden_layers": \(s.layers),
       "num_attention_heads": \(s.heads), "intermediate_size": \(s.intermediate), "vocab_size": \(vocabulary.count),
       "max_position_embeddings": \(s.positions), "type_vocab_size": 2, "hidden_act": "gelu",
       "layer_norm_eps": 1e-12}

      """
    try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
    try Data((vocabulary.joined(separator: "\n") + "\n").utf8).write(
      to: folder.appendingPathComponent("vocab.txt"))
    let c = try ModelConfig(json: Array(config.utf8), path: "config.json")
    var rng = SplitMix64(seed: seed)
    var weights: [String: [Double]] = [:]
    var tensors: [(name: String, dtype: String, shape: [Int], data: Data)] = []
    for e in ModelWeights.bert(c) {
      let n = e.shape.reduce(1, *)
      let isNorm = e.name.contains("LayerNorm")
      let isBias = e.name.hasSuffix(".bias")
      let std = e.name.contains("embeddings") ? 0.5 : 0.3
      let values: [Float] = (0..<n).map { _ in
        let g = rng.nextGaussian()
        if isNorm { return Float(isBias ? 0.1 * g : 1 + 0.1 * g) }
        return Float(isBias ? 0.1 * g : std * g)
      }
      weights[e.name] = values.map(Double.init)
      tensors.append((e.name, "F32", e.shape, values.withUnsafeBytes { Data($0) }))
    }
    try Safetensors.write(folder.appendingPathComponent("model.safetensors"), tensors: tensors)
    return weights
  }
}

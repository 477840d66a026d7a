import Foundation

/// The weight tensors a model needs, by the names and shapes of its Hugging Face checkpoint
/// (PyTorch layout: a linear layer's weight is `[out, in]`), and the check of a checkpoint's
/// listing against them.
public enum ModelWeights {
  /// One tensor a model needs.
  public struct Expected: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public init(name: String, shape: [Int]) {
      self.name = name
      self.shape = shape
    }
  }

  /// A BERT encoder's tensors (`BertModel`, the names all-MiniLM-L6-v2 uses): embeddings (word,
  /// position, token type) and their layer norm, then per layer the attention's query, key,
  /// value and output projections with its layer norm, and the FFN's two projections with its
  /// layer norm. The pooler is not needed (sentence embeddings pool the last hidden states).
  public static func bert(_ c: ModelConfig) -> [Expected] {
    let (h, f) = (c.hiddenSize, c.intermediateSize)
    func norm(_ prefix: String) -> [Expected] {
      [Expected(name: prefix + ".weight", shape: [h]), Expected(name: prefix + ".bias", shape: [h])]
    }
    func linear(_ prefix: String, out: Int, in input: Int) -> [Expected] {
      [
        Expected(name: prefix + ".weight", shape: [out, input]),
        Expected(name: prefix + ".bias", shape: [out]),
      ]
    }
    var out = [
      Expected(name: "embeddings.word_embeddings.weight", shape: [c.vocabularySize, h]),
      Expected(name: "embeddings.position_embeddings.weight", shape: [c.maxPositions, h]),
      Expected(name: "embeddings.token_type_embeddings.weight", shape: [c.tokenTypes, h]),
    ]
    out += norm("embeddings.LayerNorm")
    for l in 0..<c.layers {
      let p = "encoder.layer.\(l)"
      for part in ["query", "key", "value"] { out += linear("\(p).attention.self.\(part)", out: h, in: h) }
      out += linear("\(p).attention.output.dense", out: h, in: h)
      out += norm("\(p).attention.output.LayerNorm")
      out += linear("\(p).intermediate.dense", out: f, in: h)
      out += linear("\(p).output.dense", out: h, in: f)
      out += norm("\(p).output.LayerNorm")
    }
    return out
  }

  /// The file's name for each expected tensor, found as it is or under `prefix` (`bert.` for
  /// checkpoints saved from a task model such as `BertForMaskedLM`), with its shape checked. The
  /// error lists up to 5 missing tensors and names the first shape that differs.
  public static func match(
    _ expected: [Expected], in listing: [Safetensors.Listing], prefixes: [String] = ["", "bert."],
    path: String
  ) throws(DataFileError) -> [String: String] {
    let byName = Dictionary(listing.map { ($0.name, $0) }) { a, _ in a }
    var found: [String: String] = [:]
    var missing: [String] = []
    for e in expected {
      guard let t = prefixes.lazy.compactMap({ byName[$0 + e.name] }).first else {
        missing.append(e.name)
        continue
      }
      guard t.shape == e.shape else {
        throw DataFileError(path, "'\(t.name)' has shape \(t.shape); the configuration needs \(e.shape)")
      }
      found[e.name] = t.name
    }
    guard missing.isEmpty else {
      let shown = missing.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
      throw DataFileError(
        path,
        "\(missing.count) tensor\(missing.count == 1 ? "" : "s") the configuration needs \(missing.count == 1 ? "is" : "are") missing: \(shown)\(missing.count > 5 ? ", …" : "")"
      )
    }
    return found
  }
}

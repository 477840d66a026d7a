import Foundation

/// A transformer's shape as a Hugging Face `config.json` gives it, for the three families the
/// workloads build: BERT encoders (all-MiniLM-L6-v2), GPT-2 decoders and Llama decoders. Each
/// family spells the same sizes differently; this is the one place that knows the spellings.
///
/// Every size must be a positive integer of at most 2^24 (so products of two of them fit
/// anywhere); the hidden size must split into the heads, and the heads into the key-value heads.
/// Errors name the file and the line:col of the offending value (or of the object, for a
/// missing key).
public struct ModelConfig: Sendable, Equatable {
  public enum Family: String, Sendable, CaseIterable {
    case bert, gpt2, llama
  }

  public var family: Family
  public var hiddenSize: Int
  public var layers: Int
  public var heads: Int
  /// Key-value heads (grouped-query attention); `heads` where the family has no such key.
  public var keyValueHeads: Int
  /// The FFN's inner size.
  public var intermediateSize: Int
  public var vocabularySize: Int
  public var maxPositions: Int
  /// BERT's token-type (segment) vocabulary; 0 for the decoders.
  public var tokenTypes: Int
  /// The epsilon of the layer norm (BERT, GPT-2) or of the RMS norm (Llama).
  public var normEpsilon: Double
  /// The FFN's activation as the file names it: `gelu` (BERT), `gelu_new` (GPT-2's tanh
  /// approximation), `silu` (Llama's SwiGLU gate).
  public var activation: String
  /// Llama's rotary embedding base; nil for the others.
  public var ropeTheta: Double?

  public var headSize: Int { hiddenSize / heads }

  /// The largest size accepted.
  public static let maxSize = 1 << 24

  public init(contentsOf url: URL) throws(DataFileError) {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw DataFileError(url.path, "cannot read the configuration: \(error.localizedDescription)")
    }
    try self.init(json: Array(data), path: url.path)
  }

  /// Parses `config.json`'s bytes; `path` names the file in errors.
  public init(json bytes: [UInt8], path: String) throws(DataFileError) {
    let root: JSONNode
    do { root = try JSONParser.parse(bytes, syntax: .json) } catch {
      throw DataFileError("\(path):\(error.location)", error.message)
    }
    guard case .object = root.value else {
      throw DataFileError(
        "\(path):\(root.location)", "a configuration is a JSON object, not \(root.typeName)")
    }
    let r = Reader(root: root, path: path)
    let typeName = try r.string("model_type")
    guard let family = Family(rawValue: typeName) else {
      throw r.error(
        "model_type",
        "'\(typeName)' is not a supported model type (\(Family.allCases.map(\.rawValue).joined(separator: ", ")))"
      )
    }
    self.family = family
    switch family {
    case .bert:
      hiddenSize = try r.size("hidden_size")
      layers = try r.size("num_hidden_layers")
      heads = try r.size("num_attention_heads")
      keyValueHeads = heads
      intermediateSize = try r.size("intermediate_size")
      vocabularySize = try r.size("vocab_size")
      maxPositions = try r.size("max_position_embeddings")
      tokenTypes = try r.size("type_vocab_size", default: 2)
      normEpsilon = try r.number("layer_norm_eps", default: 1e-12)
      activation = try r.string("hidden_act", default: "gelu")
      ropeTheta = nil
    case .gpt2:
      hiddenSize = try r.size("n_embd")
      layers = try r.size("n_layer")
      heads = try r.size("n_head")
      keyValueHeads = heads
      // `n_inner: null` (the usual) means four times the hidden size.
      intermediateSize = try r.size("n_inner", default: 4 * hiddenSize)
      vocabularySize = try r.size("vocab_size")
      maxPositions = try r.size("n_positions")
      tokenTypes = 0
      normEpsilon = try r.number("layer_norm_epsilon", default: 1e-5)
      activation = try r.string("activation_function", default: "gelu_new")
      ropeTheta = nil
    case .llama:
      hiddenSize = try r.size("hidden_size")
      layers = try r.size("num_hidden_layers")
      heads = try r.size("num_attention_heads")
      keyValueHeads = try r.size("num_key_value_heads", default: heads)
      intermediateSize = try r.size("intermediate_size")
      vocabularySize = try r.size("vocab_size")
      maxPositions = try r.size("max_position_embeddings")
      tokenTypes = 0
      normEpsilon = try r.number("rms_norm_eps", default: 1e-6)
      activation = try r.string("hidden_act", default: "silu")
      ropeTheta = try r.number("rope_theta", default: 10_000)
    }
    let headKey = family == .gpt2 ? "n_head" : "num_attention_heads"
    guard hiddenSize % heads == 0 else {
      throw r.error(headKey, "the hidden size \(hiddenSize) does not split into \(heads) heads")
    }
    guard heads % keyValueHeads == 0 else {
      throw r.error(
        "num_key_value_heads", "\(heads) heads do not split into \(keyValueHeads) key-value groups")
    }
    // What the layers are built with, and nothing they would silently ignore.
    let supported: [Family: [String]] = [
      .bert: ["gelu"], .gpt2: ["gelu_new", "gelu_pytorch_tanh"], .llama: ["silu"],
    ]
    let activationKey = family == .gpt2 ? "activation_function" : "hidden_act"
    guard supported[family]!.contains(activation) else {
      throw r.error(
        activationKey,
        "'\(activation)' is not built; a \(family.rawValue) layer uses \(supported[family]!.joined(separator: " or "))"
      )
    }
    if let theta = ropeTheta, !(theta.isFinite && theta > 0) {
      throw r.error("rope_theta", "must be a positive number, got \(theta)")
    }
    if r.member("head_dim") != nil {
      let headDim = try r.size("head_dim")
      guard headDim * heads == hiddenSize else {
        throw r.error(
          "head_dim",
          "\(headDim) is not the hidden size over the heads (\(hiddenSize) / \(heads)); such layers are not built"
        )
      }
    }
    for key in ["rope_scaling", "attention_bias", "mlp_bias"] {
      guard let node = r.member(key) else { continue }
      if case .bool(false) = node.value { continue }
      throw r.error(key, "is not modelled: only plain rope and bias-free Llama layers are built")
    }
    guard normEpsilon.isFinite, normEpsilon >= 0 else {
      throw r.error(
        family == .llama ? "rms_norm_eps" : family == .gpt2 ? "layer_norm_epsilon" : "layer_norm_eps",
        "the norm's epsilon must be finite and not negative")
    }
  }

  /// Typed reads of the root object's members, with errors at their locations.
  private struct Reader {
    let root: JSONNode
    let path: String

    func error(_ key: String, _ message: String) -> DataFileError {
      let location = root[key]?.location ?? root.location
      return DataFileError("\(path):\(location)", "'\(key)': \(message)")
    }

    /// A member, or nil when it is absent or null.
    func member(_ key: String) -> JSONNode? {
      guard let node = root[key] else { return nil }
      if case .null = node.value { return nil }
      return node
    }

    func size(_ key: String, default fallback: Int? = nil) throws(DataFileError) -> Int {
      guard let node = member(key) else {
        if let fallback { return fallback }
        throw DataFileError("\(path):\(root.location)", "'\(key)' is missing")
      }
      guard case .number(let n) = node.value else {
        throw error(key, "must be a positive integer, got \(node.typeName)")
      }
      guard let v = n.nonNegativeInt, v > 0, v <= ModelConfig.maxSize else {
        throw error(key, "must be a positive integer of at most \(ModelConfig.maxSize), got \(n)")
      }
      return v
    }

    func number(_ key: String, default fallback: Double) throws(DataFileError) -> Double {
      guard let node = member(key) else { return fallback }
      guard case .number(let n) = node.value else {
        throw error(key, "must be a number, got \(node.typeName)")
      }
      return n.double
    }

    func string(_ key: String, default fallback: String? = nil) throws(DataFileError) -> String {
      guard let node = member(key) else {
        if let fallback { return fallback }
        throw DataFileError("\(path):\(root.location)", "'\(key)' is missing")
      }
      guard case .string(let s) = node.value else {
        throw error(key, "must be a string, got \(node.typeName)")
      }
      return s
    }
  }
}

import FP8Data
import Foundation
import Testing

/// `config.json` of the three families, with the published sizes of all-MiniLM-L6-v2, GPT-2
/// 124M and Llama-2-7B; errors with file:line:col.
@Suite struct ModelConfigTests {
  static func parse(_ text: String) throws(DataFileError) -> ModelConfig {
    try ModelConfig(json: Array(text.utf8), path: "config.json")
  }

  static func error(_ text: String) -> String {
    do {
      _ = try parse(text)
      return ""
    } catch { return error.description }
  }

  @Test func miniLM() throws {
    let c = try Self.parse(
      """
      {"architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": false,
       "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 384, "initializer_range": 0.02,
       "intermediate_size": 1536, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
       "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 6, "pad_token_id": 0,
       "position_embedding_type": "absolute", "transformers_version": "4.8.2", "type_vocab_size": 2,
       "use_cache": true, "vocab_size": 30522}
      """)
    #expect(c.family == .bert && c.hiddenSize == 384 && c.layers == 6 && c.heads == 12 && c.headSize == 32)
    #expect(c.intermediateSize == 1536 && c.vocabularySize == 30522 && c.maxPositions == 512)
    #expect(c.tokenTypes == 2 && c.normEpsilon == 1e-12 && c.activation == "gelu" && c.keyValueHeads == 12)
    #expect(c.ropeTheta == nil)
  }

  @Test func gpt2() throws {
    let c = try Self.parse(
      """
      {"activation_function": "gelu_new", "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12,
       "n_inner": null, "n_layer": 12, "n_positions": 1024, "layer_norm_epsilon": 1e-05, "vocab_size": 50257}
      """)
    #expect(c.family == .gpt2 && c.hiddenSize == 768 && c.layers == 12 && c.heads == 12)
    #expect(c.intermediateSize == 3072 && c.vocabularySize == 50257 && c.maxPositions == 1024)
    #expect(c.tokenTypes == 0 && c.normEpsilon == 1e-5 && c.activation == "gelu_new")
  }

  @Test func llama2() throws {
    let c = try Self.parse(
      """
      {"architectures": ["LlamaForCausalLM"], "hidden_act": "silu", "hidden_size": 4096,
       "intermediate_size": 11008, "max_position_embeddings": 4096, "model_type": "llama",
       "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
       "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "vocab_size": 32000}
      """)
    #expect(c.family == .llama && c.hiddenSize == 4096 && c.layers == 32 && c.headSize == 128)
    #expect(c.intermediateSize == 11008 && c.keyValueHeads == 32 && c.normEpsilon == 1e-5)
    #expect(c.ropeTheta == 10000 && c.activation == "silu")
    // Grouped-query attention: 8 key-value heads.
    let gqa = try Self.parse(
      """
      {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 8192,
       "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "vocab_size": 128256}
      """)
    #expect(gqa.keyValueHeads == 8 && gqa.normEpsilon == 1e-6 && gqa.ropeTheta == 10000)
  }

  @Test func errorsNameTheFileAndPlace() {
    let bert = """
      {"model_type": "bert", "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
       "intermediate_size": 1536, "vocab_size": 30522, "max_position_embeddings": 512}
      """
    #expect(Self.error(bert) == "")
    #expect(
      Self.error(bert.replacingOccurrences(of: "\"hidden_size\": 384", with: "\"hidden_size\": 380"))
        == "config.json:1:91: 'num_attention_heads': the hidden size 380 does not split into 12 heads")
    #expect(
      Self.error(bert.replacingOccurrences(of: "\"hidden_size\": 384", with: "\"hidden_size\": 0"))
        == "config.json:1:39: 'hidden_size': must be a positive integer of at most 16777216, got 0")
    #expect(
      Self.error(bert.replacingOccurrences(of: "\"hidden_size\": 384", with: "\"hidden_size\": \"384\""))
        == "config.json:1:39: 'hidden_size': must be a positive integer, got a string")
    #expect(
      Self.error(bert.replacingOccurrences(of: ", \"vocab_size\": 30522", with: ""))
        == "config.json:1:1: 'vocab_size' is missing")
    #expect(
      Self.error(bert.replacingOccurrences(of: "\"bert\"", with: "\"t5\""))
        == "config.json:1:16: 'model_type': 't5' is not a supported model type (bert, gpt2, llama)")
    #expect(Self.error("[1, 2]") == "config.json:1:1: a configuration is a JSON object, not an array")
    #expect(Self.error("{\"model_type\": ").hasPrefix("config.json:1:"))
    let llama = """
      {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "max_position_embeddings": 16,
       "num_attention_heads": 8, "num_hidden_layers": 1, "num_key_value_heads": 3, "vocab_size": 10}
      """
    #expect(Self.error(llama).contains("'num_key_value_heads': 8 heads do not split into 3 key-value groups"))
  }

  @Test func readsAFile() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "config-\(UUID().uuidString).json")
    try Data(
      #"{"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 32, "vocab_size": 100}"#
        .utf8
    )
    .write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let c = try ModelConfig(contentsOf: url)
    #expect(c.intermediateSize == 256 && c.headSize == 16)
    #expect(throws: DataFileError.self) {
      try ModelConfig(contentsOf: url.deletingLastPathComponent().appendingPathComponent("none.json"))
    }
  }
}

import FP8Data
import Foundation
import Testing

/// A BERT checkpoint's tensors against its configuration: a tiny model written here as
/// .safetensors, listed back, matched with and without the `bert.` prefix; missing tensors and
/// wrong shapes named.
@Suite struct ModelWeightsTests {
  static let config: ModelConfig = {
    let text = """
      {"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
       "intermediate_size": 16, "vocab_size": 20, "max_position_embeddings": 12, "type_vocab_size": 2}
      """
    return try! ModelConfig(json: Array(text.utf8), path: "config.json")
  }()

  static func write(_ tensors: [ModelWeights.Expected], prefix: String = "") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "bert-\(UUID().uuidString).safetensors")
    try Safetensors.write(
      url,
      tensors: tensors.map {
        (prefix + $0.name, "F32", $0.shape, Data(count: 4 * $0.shape.reduce(1, *)))
      })
    return url
  }

  @Test func expectedTensorsOfABertEncoder() {
    let e = ModelWeights.bert(Self.config)
    // 5 embedding tensors, then 16 per layer.
    #expect(e.count == 5 + 16 * 2)
    #expect(e.first == .init(name: "embeddings.word_embeddings.weight", shape: [20, 8]))
    #expect(e.contains(.init(name: "encoder.layer.1.intermediate.dense.weight", shape: [16, 8])))
    #expect(e.contains(.init(name: "encoder.layer.1.output.dense.weight", shape: [8, 16])))
    #expect(e.contains(.init(name: "encoder.layer.0.attention.output.LayerNorm.bias", shape: [8])))
    #expect(Set(e.map(\.name)).count == e.count)
  }

  @Test func aCheckpointMatchesWithOrWithoutThePrefix() throws {
    let e = ModelWeights.bert(Self.config)
    for prefix in ["", "bert."] {
      // The pooler and a masked-LM head are extra tensors: ignored.
      let extra = [ModelWeights.Expected(name: "pooler.dense.weight", shape: [8, 8])]
      let url = try Self.write(e + extra, prefix: prefix)
      defer { try? FileManager.default.removeItem(at: url) }
      let listing = try Safetensors.listing(of: url)
      #expect(listing.count == e.count + 1 && listing.map(\.name) == listing.map(\.name).sorted())
      let found = try ModelWeights.match(e, in: listing, path: url.path)
      #expect(
        found.count == e.count
          && found["embeddings.LayerNorm.weight"] == prefix + "embeddings.LayerNorm.weight")
    }
  }

  @Test func missingTensorsAndWrongShapesAreNamed() throws {
    var e = ModelWeights.bert(Self.config)
    let missing = try Self.write(e.filter { !$0.name.hasPrefix("encoder.layer.1.") })
    defer { try? FileManager.default.removeItem(at: missing) }
    let needed = ModelWeights.bert(Self.config)
    #expect(throws: DataFileError.self) {
      _ = try ModelWeights.match(needed, in: Safetensors.listing(of: missing), path: "m")
    }
    do {
      _ = try ModelWeights.match(needed, in: try Safetensors.listing(of: missing), path: "m")
    } catch {
      #expect(
        error.description
          == "m: 16 tensors the configuration needs are missing: 'encoder.layer.1.attention.self.query.weight', 'encoder.layer.1.attention.self.query.bias', 'encoder.layer.1.attention.self.key.weight', 'encoder.layer.1.attention.self.key.bias', 'encoder.layer.1.attention.self.value.weight', …"
      )
    }
    e[0].shape = [20, 9]
    let wrong = try Self.write(e)
    defer { try? FileManager.default.removeItem(at: wrong) }
    do {
      _ = try ModelWeights.match(needed, in: try Safetensors.listing(of: wrong), path: "w")
      Issue.record("a wrong shape was accepted")
    } catch {
      #expect(
        error.description
          == "w: 'embeddings.word_embeddings.weight' has shape [20, 9]; the configuration needs [20, 8]")
    }
    #expect(throws: DataFileError.self) {
      _ = try Safetensors.listing(of: URL(fileURLWithPath: "/nonexistent.safetensors"))
    }
  }
}

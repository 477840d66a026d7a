import FP8Data
import FP8Models
import Foundation
import Testing

@testable import FP8SimCLI

/// `fp8sim model run` on a random tiny BERT: the text table, the JSON keys the issue names, the
/// CSCALE sweep, and command-line mistakes with their exit codes.
@Suite struct ModelCommandTests {
  static let folder: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("cli-bert-\(UUID().uuidString)")
    try! RandomBERT.write(
      to: url, vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "."])
    return url
  }()

  @Test func textReportListsEveryKernelAndTheCosine() {
    let r = runCLI(["model", "run", Self.folder.path, "--text", "The cat sat.", "--device", "teach"])
    #expect(r.status == .success, "\(r.stderr)")
    #expect(r.stdout.contains("on teach, FP8 amax"))
    // 2 layers: embeddings, 9 kernels per layer, pooling, and the total.
    for name in ["embeddings", "layer0.query", "layer1.ffn.out", "layer1.ffn.norm", "pooling", "total"] {
      #expect(r.stdout.contains("\n\(name) "), "\(name)")
    }
    #expect(r.stdout.contains("6 tokens  The cat sat."))
  }

  @Test func jsonHasTheNamedKeys() throws {
    let r = runCLI([
      "model", "run", Self.folder.path, "--text", "the cat", "--text", "sat .", "--format", "json",
    ])
    #expect(r.status == .success, "\(r.stderr)")
    let root = try JSONParser.parse(r.stdout, syntax: .json)
    for key in ["embeddings", "fp32_embeddings", "cosine_vs_fp32", "layers", "cycles", "traffic"] {
      #expect(root[key] != nil, "\(key)")
    }
    guard case .array(let embeddings)? = root["embeddings"]?.value,
      case .array(let first)? = embeddings.first?.value
    else {
      Issue.record("embeddings is not a list of lists")
      return
    }
    #expect(embeddings.count == 2 && first.count == 16)
    guard case .array(let layers)? = root["layers"]?.value else { return }
    #expect(layers.count == 20)
    #expect(layers[1]["name"]?.value == .string("layer0.query"))
    #expect(layers[1]["weight_bias"] != nil && layers[1]["activation_bias"] != nil)
  }

  @Test func sweepPrintsEveryBiasAndAmax() {
    let r = runCLI(["model", "run", Self.folder.path, "--text", "the cat sat", "--sweep", "bias=-1..9"])
    #expect(r.status == .success, "\(r.stderr)")
    for b in -1...9 { #expect(r.stdout.contains("\n\(b) "), "bias \(b)") }
    #expect(r.stdout.contains("\namax "))
    // Bias 9 overflows E4M3 and gives NaN embeddings.
    #expect(r.stdout.contains("nan"))
  }

  @Test func mistakesAreUsageOrDataErrors() {
    #expect(runCLI(["model", "run", Self.folder.path]).status == .usage)
    #expect(runCLI(["model", "walk", Self.folder.path, "--text", "x"]).status == .usage)
    #expect(
      runCLI(["model", "run", Self.folder.path, "--text", "x", "--sweep", "bias=3..1"]).status == .usage)
    #expect(
      runCLI(["model", "run", Self.folder.path, "--text", "x", "--sweep", "bias=0..1", "--timing-only"])
        .status
        == .usage)
    let missing = runCLI(["model", "run", "/nonexistent/model", "--text", "x"])
    #expect(missing.status == .dataError)
    #expect(missing.stderr.contains("config.json"))
  }
}

import FP8Data
import FP8ISA
import FP8Models
import FP8Sim
import Foundation
import Testing

@testable import FP8SimCLI

/// `fp8sim gen linear | ffn | attention | decoder-layer | encoder-layer` and `fp8sim model cost`
/// on a tiny GPT-2 config: the generated programs are the ones `model cost` runs (same cycles,
/// program by program), AMAX's extra all-reduces are counted, and mistakes get their exit codes.
@Suite struct LayerCommandTests {
  static let config: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "tiny-gpt2-\(UUID().uuidString).json")
    try! Data(
      #"{"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100, "n_positions": 64}"#
        .utf8
    ).write(to: url)
    return url
  }()

  static func number(_ node: JSONNode?) -> Int? {
    guard case .number(let n)? = node?.value else { return nil }
    return n.nonNegativeInt
  }

  @Test func generatedLayerIsWhatModelCostRuns() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("layer-\(UUID().uuidString)")
    let r = runCLI([
      "gen", "decoder-layer", "--config", Self.config.path, "--prefill", "16", "--batch", "2", "--device",
      "h100",
      "-o", folder.path,
    ])
    #expect(r.status == .success, "\(r.stderr)")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    let first = try String(contentsOf: folder.appendingPathComponent("01-norm1.isa"), encoding: .utf8)
    #expect(first.contains("\n.device h100\n"))
    #expect(
      files == [
        "01-norm1.isa", "02-qkv.isa", "03-attention.isa", "04-proj.isa", "05-norm2.isa", "06-mlp.in.isa",
        "07-mlp.out.isa", "chain.txt",
      ])
    // Each program, assembled from its file and run timing-only on a fresh machine.
    var cycles: [Int64] = []
    for file in files where file.hasSuffix(".isa") {
      let program = try Assembler.assemble(
        text: try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8), path: file)
      var options = RunOptions()
      options.timingOnly = true
      cycles.append(try Machine(program: program, device: .h100, options: options).run().cycles)
    }
    let cost = runCLI([
      "model", "cost", "--config", Self.config.path, "--prefill", "16", "--batch", "2", "--format", "json",
    ])
    #expect(cost.status == .success, "\(cost.stderr)")
    let root = try JSONParser.parse(cost.stdout, syntax: .json)
    guard case .array(let kernels)? = root["amax"]?["kernels"]?.value else {
      Issue.record("no amax.kernels")
      return
    }
    #expect(kernels.map { Self.number($0["cycles"]).map(Int64.init) } == cycles.map { Optional($0) })
    // AMAX: two all-reduces and a barrier per linear layer (4); CSCALE: the barrier only.
    guard case .array(let cscale)? = root["cscale"]?["kernels"]?.value else { return }
    #expect(kernels.map { Self.number($0["synchronisations"]) ?? -1 }.reduce(0, +) == 12)
    #expect(cscale.map { Self.number($0["synchronisations"]) ?? -1 }.reduce(0, +) == 4)
    // Delayed: the barrier and two all-reduces for the next step's history, off the critical path.
    guard case .array(let delayed)? = root["delayed"]?["kernels"]?.value else { return }
    #expect(delayed.map { Self.number($0["synchronisations"]) ?? -1 }.reduce(0, +) == 12)
    #expect(Self.number(root["delayed"]?["cycles"])! < Self.number(root["amax"]?["cycles"])!)
    #expect(Self.number(root["amax"]?["cycles"])! > Self.number(root["cscale"]?["cycles"])!)
  }

  /// Cost tables pinned: a change of the kernels, their plans or the cost model shows here.
  @Test func costTablesMatchTheirSnapshots() {
    let prefill = runCLI(["model", "cost", "--model", "gpt2", "--prefill", "128"])
    #expect(prefill.status == .success, "\(prefill.stderr)")
    assertSnapshot(prefill.stdout, named: "model_cost_gpt2_prefill.txt")
    // A small Llama with grouped-query heads (a debug build runs Llama-2-7B's sizes slowly).
    let llama = FileManager.default.temporaryDirectory.appendingPathComponent(
      "small-llama-\(UUID().uuidString).json")
    try? Data(
      #"{"model_type": "llama", "hidden_size": 512, "num_hidden_layers": 1, "num_attention_heads": 8, "num_key_value_heads": 2, "intermediate_size": 1376, "vocab_size": 1, "max_position_embeddings": 1}"#
        .utf8
    ).write(to: llama)
    let decode = runCLI([
      "model", "cost", "--config", llama.path, "--decode", "64", "--batch", "2", "--device", "b200",
      "--scaling",
      "amax,cscale,delayed,mxfp8_e4m3,mxfp4",
    ])
    #expect(decode.status == .success, "\(decode.stderr)")
    assertSnapshot(
      decode.stdout.replacingOccurrences(of: llama.path, with: "small-llama.json"),
      named: "model_cost_llama_decode.txt")
  }

  @Test func oneKernelPrintsAndRuns() throws {
    let r = runCLI([
      "gen", "linear", "--rows", "32", "--inputs", "64", "--outputs", "48", "--with-bias", "--activation",
      "gelu.tanh", "--residual", "--scaling", "cscale", "--bias", "1",
    ])
    #expect(r.status == .success, "\(r.stderr)")
    #expect(r.stdout.contains("linear: Y[32, 48] = gelu.tanh X·Wᵀ + b + R, FP8 cscale (bias 1)"))
    let program = try Assembler.assemble(text: r.stdout, path: "linear.isa")
    let result = try Machine(program: program, device: .teach).run()
    // X and R are random, so Y is not all zero.
    #expect(result.outputs[0].values.contains { $0 != 0 })
    let flags = runCLI([
      "gen", "attention", "--style", "llama", "--hidden", "256", "--heads", "8", "--kv-heads", "2",
      "--prefill", "64",
    ])
    #expect(flags.stdout.contains("8 heads of 32 (2 key-value heads)"), "\(flags.stderr)")
    let attention = runCLI(["gen", "attention", "--model", "llama-2-7b", "--decode", "40", "--batch", "2"])
    #expect(attention.status == .success, "\(attention.stderr)")
    #expect(
      attention.stdout.contains(
        "Decode attention: 2 sequences × 32 heads of 128, each after 40 cached tokens"))
  }

  @Test func mistakesAreUsageOrDataErrors() {
    let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json")
    try? Data(
      #"{"model_type": "gpt2", "n_embd": 65, "n_layer": 1, "n_head": 4, "vocab_size": 9, "n_positions": 8}"#
        .utf8
    ).write(to: bad)
    let cases: [([String], ExitCode, String)] = [
      (["gen", "ffn", "--model", "gpt2", "--prefill", "8"], .usage, "give a folder for them with -o DIR"),
      (
        ["gen", "encoder-layer", "--model", "gpt2", "--prefill", "8", "-o", "/tmp/x"], .usage, "is a decoder"
      ),
      (
        ["gen", "decoder-layer", "--model", "minilm", "--prefill", "8", "-o", "/tmp/x"], .usage,
        "is an encoder"
      ),
      (["gen", "attention", "--model", "gpt3", "--prefill", "8"], .usage, "--model is one of"),
      (["gen", "attention", "--model", "gpt2"], .usage, "give one of --prefill T or --decode C"),
      (["gen", "linear", "--rows", "4", "--inputs", "8"], .usage, "needs --outputs"),
      (
        ["gen", "attention", "--style", "gpt2", "--hidden", "250", "--heads", "8", "--prefill", "8"], .usage,
        "the hidden size 250 does not split into 8 heads"
      ),
      (
        ["gen", "attention", "--style", "llama", "--heads", "8", "--prefill", "8"], .usage,
        "--style needs --hidden"
      ),
      (
        ["gen", "attention", "--config", bad.path, "--prefill", "8"], .dataError,
        "1:62: 'n_head': the hidden size 65 does not split into 4 heads"
      ),
      (["model", "cost", "--model", "gpt2"], .usage, "give one of --prefill T or --decode C"),
      (
        ["model", "cost", "--model", "gpt2", "--prefill", "8", "--calibrate", "x"], .usage, "is for model run"
      ),
      (
        ["model", "cost", "--model", "gpt2", "--prefill", "8", "--scaling", "amax,nvfp4"], .usage,
        "--scaling is amax"
      ),
      (
        ["model", "cost", "--config", bad.path, "--decode", "8"], .dataError,
        "1:62: 'n_head': the hidden size 65 does not split into 4 heads"
      ),
    ]
    let relu = FileManager.default.temporaryDirectory.appendingPathComponent("relu-\(UUID().uuidString).json")
    try? Data(
      #"{"model_type": "gpt2", "n_embd": 64, "n_layer": 1, "n_head": 4, "vocab_size": 9, "n_positions": 8, "activation_function": "relu"}"#
        .utf8
    ).write(to: relu)
    let full = FileManager.default.temporaryDirectory.appendingPathComponent("full-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: full, withIntermediateDirectories: true)
    try? Data("keep".utf8).write(to: full.appendingPathComponent("notes.txt"))
    let more: [([String], ExitCode, String)] = [
      (
        ["gen", "linear", "--rows", "4", "--inputs", "8", "--outputs", "8", "--block", "16x16"], .usage,
        "does not apply"
      ),
      (
        ["gen", "linear", "--rows", "4", "--inputs", "8", "--outputs", "8", "--bias", "2"], .usage,
        "--bias does not apply to --scaling amax"
      ),
      (["gen", "attention", "--model", "gpt2", "--style", "llama", "--prefill", "8"], .usage, "not several"),
      (
        [
          "gen", "attention", "--style", "gpt2", "--hidden", "64", "--heads", "4", "--kv-heads", "2",
          "--prefill", "8",
        ], .usage, "--kv-heads is for --style llama"
      ),
      (["gen", "gemm", "--shape", "8x8x8", "--scaling", "cscale"], .usage, "does not apply to gen gemm"),
      (
        ["gen", "attention", "--config", relu.path, "--prefill", "8"], .dataError,
        "'activation_function': 'relu' is not built"
      ),
      (
        ["gen", "attention", "--config", Self.config.path, "--prefill", "8", "-o", Self.config.path], .usage,
        "refusing to overwrite"
      ),
      (
        ["gen", "decoder-layer", "--config", Self.config.path, "--prefill", "8", "-o", full.path], .usage,
        "is not empty"
      ),
      (
        ["model", "cost", "--model", "gpt2", "--prefill", "8", "--scaling", "amax,amax"], .usage,
        "different methods"
      ),
      (
        ["model", "cost", "--model", "gpt2", "--prefill", "1024", "--batch", "16385"], .usage,
        "batch × tokens must be at most"
      ),
    ]
    for (arguments, status, message) in cases + more {
      let r = runCLI(arguments)
      #expect(r.status == status, "\(arguments): \(r.stderr)")
      #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
    }
  }
}

import FP8Data
import Foundation
import Testing

@testable import FP8SimCLI

/// `fp8sim train`: the table, the curves file and the JSON, and command-line mistakes.
@Suite struct TrainCommandTests {
  @Test func trainsEveryMethodAndSeedAndWritesTheCurves() throws {
    let csv = FileManager.default.temporaryDirectory.appendingPathComponent("curves-\(UUID().uuidString).csv")
    let r = runCLI([
      "train", "--methods", "amax,cscale:0,cscale:12", "--seeds", "2", "--steps", "8", "--rows", "8",
      "--inputs",
      "4", "--hidden", "8", "--outputs", "2", "--csv", csv.path,
    ])
    #expect(r.status == .success, "\(r.stderr)")
    for row in ["\namax          1", "\ncscale:0      2", "\ncscale:12     1"] {
      #expect(r.stdout.contains(row), "\(row)")
    }
    // CSCALE at bias 12 pushes activations past E4M3's 448: its device loss is NaN, its FP32 one not.
    #expect(r.stdout.contains("cscale:12     1         nan         nan"))
    let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
    #expect(lines.first == "method,seed,step,loss,fp32_loss,loss_scale,applied")
    #expect(lines.count == 1 + 3 * 2 * 8)
    let json = runCLI(["train", "--methods", "amax", "--seeds", "1", "--steps", "3", "--format", "json"])
    #expect(json.status == .success, "\(json.stderr)")
    let root = try JSONParser.parse(json.stdout, syntax: .json)
    guard case .array(let runs) = root.value, let first = runs.first else {
      Issue.record("not a list of runs")
      return
    }
    for key in ["method", "seed", "loss", "fp32_loss", "loss_scale", "skipped"] {
      #expect(first[key] != nil, "\(key)")
    }
  }

  @Test func mistakesAreUsageErrors() {
    for (arguments, message) in [
      (["train", "--methods", "fp16"], "--methods lists amax, delayed or cscale:B"),
      (["train", "--methods", "amax,amax"], "each method once"),
      (["train", "--rate", "-1"], "--rate must be"),
      (["train", "extra"], "options only"),
    ] {
      let r = runCLI(arguments)
      #expect(r.status == .usage, "\(arguments)")
      #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
    }
  }
}

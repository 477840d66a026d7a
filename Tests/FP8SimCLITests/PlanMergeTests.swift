import FP8Sim
import Foundation
import Testing

@testable import FP8SimCLI

#if canImport(Glibc)
  import Glibc
#endif

/// `compare --plan` writes a study as independent jobs; `merge` puts their results back
/// together. Running every job of a plan and merging must print exactly what one `compare`
/// prints.
@Suite struct PlanMergeTests {
  let exe = CompareCommand.Plan.executable

  @Test func linesAreOneShellCommandPerRun() {
    inPackageRoot()
    let r = runCLI([
      "compare", "examples/linear_cscale.isa", "--sweep", "bias=0,2", "--set", "S=1", "--set", "bias=5",
      "--device", "h100", "--timing-only", "--plan", "lines", "--results", "out dir",
    ])
    #expect(r.status == .success, "\(r.stderr)")
    let here = CompareCommand.Plan.quoted(FileManager.default.currentDirectoryPath)
    let job = { (n: Int, value: String) in
      "cd \(here) && mkdir -p -- 'out dir' && \(CompareCommand.Plan.quoted(exe)) compare --allow-undeclared --device h100 --set S=1 --timing-only --sweep bias=\(value) --format json -- examples/linear_cscale.isa > 'out dir/000\(n).json'"
    }
    #expect(r.stdout == job(0, "0") + "\n" + job(1, "2") + "\n")
  }

  @Test func shellQuoting() {
    #expect(CompareCommand.Plan.quoted("a/b-c_1.isa") == "a/b-c_1.isa")
    #expect(CompareCommand.Plan.quoted("it's here") == "'it'\\''s here'")
    #expect(CompareCommand.Plan.quoted("") == "''")
    #expect(CompareCommand.Plan.quoted("$HOME;rm") == "'$HOME;rm'")
  }

  /// Every job of a JSON plan run (in process, in reverse order), then merged: the same text
  /// and JSON as the one compare, for a sweep and for programs side by side.
  @Test(arguments: [
    ["examples/linear_cscale.isa", "--sweep", "bias=-1..1", "--set", "S=1", "--set", "M=64"],
    ["examples/linear_amax.isa", "examples/linear_cscale.isa", "--set", "S=1", "--timing-only"],
    ["examples/linear_amax.isa", "examples/linear_cscale.isa", "--sweep", "S=1,2", "--timing-only"],
    // A parameter only one of the programs declares (the other runs unchanged, as in compare).
    ["examples/linear_cscale.isa", "examples/linear_amax.isa", "--sweep", "bias=0,1", "--timing-only"],
  ])
  func mergedJobsPrintWhatCompareDoes(study: [String]) throws {
    inPackageRoot()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let plan = runCLI(["compare"] + study + ["--plan", "json", "--results", dir.path])
    #expect(plan.status == .success, "\(plan.stderr)")
    let document = try #require(
      try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
    #expect(document["schema"] as? String == "fp8sim-plan/1" && document["results"] as? String == dir.path)
    #expect(document["directory"] as? String == FileManager.default.currentDirectoryPath)
    let jobs = try #require(document["jobs"] as? [[String: Any]])
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    var outputs: [String] = []
    for job in jobs.reversed() {
      let argv = try #require(job["argv"] as? [String])
      #expect(argv.first == exe && argv[1] == "compare")
      let r = runCLI(Array(argv.dropFirst()))
      #expect(r.status == .success, "\(r.stderr)")
      let output = try #require(job["output"] as? String)
      try r.stdout.write(toFile: output, atomically: true, encoding: .utf8)
      outputs.insert(output, at: 0)
    }
    #expect(outputs == outputs.sorted() && outputs.first?.hasSuffix("/0000.json") == true)
    for format in ["text", "json"] {
      let direct = runCLI(["compare"] + study + ["--format", format])
      let merged = runCLI(["merge"] + outputs + ["--format", format])
      #expect(merged.status == .success, "\(merged.stderr)")
      #expect(merged.stdout == direct.stdout && !merged.stdout.isEmpty, "\(format)")
    }
  }

  /// A `run --format json` report merges as one run labelled by its program.
  @Test func runReportsMergeSideBySide() throws {
    inPackageRoot()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("merge-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var files: [String] = []
    for program in ["linear_amax", "linear_cscale"] {
      let r = runCLI(["run", "examples/\(program).isa", "--set", "S=1", "--timing-only", "--format", "json"])
      let file = dir.appendingPathComponent(program + ".json").path
      try r.stdout.write(toFile: file, atomically: true, encoding: .utf8)
      files.append(file)
    }
    let merged = runCLI(["merge"] + files)
    let direct = runCLI([
      "compare", "examples/linear_amax.isa", "examples/linear_cscale.isa", "--set", "S=1", "--timing-only",
    ])
    #expect(merged.status == .success, "\(merged.stderr)")
    #expect(merged.stdout == direct.stdout)
  }

  @Test(arguments: [
    ("not json at all", "1:1: error: not valid JSON"),
    ("{\"schema\": \"fp8sim-compare/1\", \"runs\": 3}", "1:1: error: \"runs\" must be an array"),
    ("{\"schema\": \"fp8sim-plan/1\", \"jobs\": []}", "error: schema 'fp8sim-plan/1' is not one merge reads"),
    ("[1, 2]", "1:1: error: not a result of fp8sim compare or run"),
    (
      "{\"schema\": \"fp8sim-compare/1\", \"runs\": [{\"label\": \"x\", \"report\": {\"schema\": \"fp8sim-report/1\"}}]}",
      "error: runs[0].report.program",
    ),
  ])
  func badResultFiles(text: String, message: String) throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json")
    try text.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let r = runCLI(["merge", file.path])
    #expect(r.status == .dataError)
    #expect(r.stderr.hasPrefix(file.path + ":") && r.stderr.contains(message), "\(r.stderr)")
  }

  @Test(arguments: [
    (["merge"], ExitCode.usage, "missing result files to merge"),
    (["merge", "/nonexistent/r.json"], ExitCode.ioError, "/nonexistent/r.json: error: cannot read the file"),
    (
      ["compare", "examples/linear_cscale.isa", "--plan", "yaml"], ExitCode.usage,
      "must be one of lines, json"
    ),
    (
      ["compare", "examples/linear_cscale.isa", "--plan", "lines", "--set", "NOPE=1"], ExitCode.usage,
      "no program declares a parameter 'NOPE'",
    ),
    (["compare", "examples/linear_cscale.isa", "--results", "r"], ExitCode.usage, "--results is for --plan"),
    (["compare", "examples/nope.isa", "--plan", "lines"], ExitCode.usage, "cannot read 'examples/nope.isa'"),
    // What a run checks before it starts is checked before the plan is printed.
    (
      ["compare", "examples/linear_cscale.isa", "--set", "RB=256", "--set", "K=4096", "--plan", "lines"],
      ExitCode.runtimeFault, "SRAM overflow",
    ),
    (
      ["compare", "examples/linear_cscale.isa", "--plan", "lines", "--results", ""], ExitCode.usage,
      "--results needs a folder name"
    ),
    (
      ["compare", "examples/linear_cscale.isa", "--plan", "lines", "--results", "a\nb"], ExitCode.usage,
      "holds a control character: a lines plan cannot quote it",
    ),
    (
      ["compare", "examples/linear_cscale.isa", "--plan", "lines", "--results", "examples/library"],
      ExitCode.success, ""
    ),
  ])
  func badUsage(arguments: [String], status: ExitCode, message: String) {
    inPackageRoot()
    let r = runCLI(arguments)
    #expect(r.status == status)
    if status == .success { return }
    #expect(r.stderr.contains(message) && r.stdout.isEmpty, "\(r.stderr)")
  }

  /// A results folder that already holds results is refused (a second study would overwrite
  /// some files and leave others to be merged in).
  @Test func aResultsFolderWithResultsIsRefused() throws {
    inPackageRoot()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("full-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try "{}".write(to: dir.appendingPathComponent("0000.json"), atomically: true, encoding: .utf8)
    let r = runCLI(["compare", "examples/linear_cscale.isa", "--plan", "lines", "--results", dir.path])
    #expect(r.status == .usage && r.stderr.contains("already holds results ('0000.json')"), "\(r.stderr)")
  }

  /// merge does not wait for a FIFO nobody writes to, and says what an empty file means.
  @Test func fifosAndEmptyFiles() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let fifo = dir.appendingPathComponent("f").path
    #expect(mkfifo(fifo, 0o600) == 0)
    let empty = dir.appendingPathComponent("e.json").path
    try "".write(toFile: empty, atomically: true, encoding: .utf8)
    for path in [fifo, empty] {
      let r = runCLI(["merge", path])
      #expect(
        r.status == .dataError && r.stderr.contains("the file is empty (did the job that writes it fail?)"))
    }
  }

  /// Labels read back are shown with control characters escaped and at most 120 characters;
  /// counts must not be negative.
  @Test func hostileLabelsAndCounts() throws {
    inPackageRoot()
    let direct = runCLI(["compare", "examples/linear_cscale.isa", "--timing-only", "--format", "json"])
    let file = FileManager.default.temporaryDirectory.appendingPathComponent(
      "label-\(UUID().uuidString).json")
    defer { try? FileManager.default.removeItem(at: file) }
    let long = String(repeating: "x", count: 5000)
    try direct.stdout.replacingOccurrences(
      of: "\"label\" : \"linear_cscale\"", with: "\"label\" : \"\\u001b[31m\(long)\""
    )
    .write(to: file, atomically: true, encoding: .utf8)
    let r = runCLI(["merge", file.path])
    #expect(r.status == .success, "\(r.stderr)")
    #expect(!r.stdout.contains("\u{1B}") && r.stdout.contains("\\u{1B}[31mxxx") && r.stdout.contains("x…"))
    #expect(r.stdout.split(separator: "\n").allSatisfy { $0.count < 400 })
    try direct.stdout.replacingOccurrences(of: "\"instructions\" : ", with: "\"instructions\" : -")
      .write(to: file, atomically: true, encoding: .utf8)
    let negative = runCLI(["merge", file.path])
    #expect(
      negative.status == .dataError && negative.stderr.contains("expected a count (0 or more)"),
      "\(negative.stderr)")
    // A report without one of the units would show it idle: refused.
    var document = try #require(
      try JSONSerialization.jsonObject(with: Data(direct.stdout.utf8)) as? [String: Any])
    var runs = try #require(document["runs"] as? [[String: Any]])
    var report = try #require(runs[0]["report"] as? [String: Any])
    var units = try #require(report["units"] as? [String: Any])
    units["tensor"] = nil
    report["units"] = units
    runs[0]["report"] = report
    document["runs"] = runs
    try JSONSerialization.data(withJSONObject: document).write(to: file)
    let missing = runCLI(["merge", file.path])
    #expect(
      missing.status == .dataError && missing.stderr.contains("units.tensor: missing"), "\(missing.stderr)")
  }
}

import Foundation
import Testing

/// `docs/library.md` shows the package in `examples/library`, which uses the three libraries
/// through their public API only: the doc's code is the package's files, and the package builds
/// and passes its own tests against the current sources.
@Suite struct LibraryExampleTests {
  static let example = packageRoot.appendingPathComponent("examples/library")
  static let doc = packageRoot.appendingPathComponent("docs/library.md")

  /// The doc's code blocks that copy a file: `<!-- file: PATH -->` then a fenced block.
  static func copiedBlocks(in text: String) -> [(path: String, code: String)] {
    var result: [(String, String)] = []
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    var i = 0
    while i < lines.count {
      let line = lines[i].trimmingCharacters(in: .whitespaces)
      if line.hasPrefix("<!-- file: ") && line.hasSuffix(" -->"), i + 1 < lines.count,
        lines[i + 1].hasPrefix("```")
      {
        let path = String(line.dropFirst("<!-- file: ".count).dropLast(" -->".count))
        var code: [Substring] = []
        var j = i + 2
        while j < lines.count && lines[j] != "```" {
          code.append(lines[j])
          j += 1
        }
        result.append((path, code.map { $0 + "\n" }.joined()))
        i = j
      }
      i += 1
    }
    return result
  }

  /// The example's files a reader needs: its manifest and every Swift source.
  static func exampleFiles() -> [String] {
    var files: [String] = []
    let walker = FileManager.default.enumerator(at: example, includingPropertiesForKeys: nil)
    while let url = walker?.nextObject() as? URL {
      if url.lastPathComponent.hasPrefix(".") {
        walker?.skipDescendants()
        continue
      }
      if url.pathExtension == "swift" {
        files.append("examples/library/" + url.path.dropFirst(example.path.count + 1))
      }
    }
    return files.sorted()
  }

  @Test func theDocShowsTheExampleFilesAsTheyAre() throws {
    let blocks = Self.copiedBlocks(in: try String(contentsOf: Self.doc, encoding: .utf8))
    for (path, code) in blocks {
      let file = try? String(contentsOf: packageRoot.appendingPathComponent(path), encoding: .utf8)
      #expect(file != nil, "docs/library.md copies \(path), which does not exist")
      if let file, file != code {
        let a = code.split(separator: "\n", omittingEmptySubsequences: false)
        let b = file.split(separator: "\n", omittingEmptySubsequences: false)
        let line = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        Issue.record(
          "docs/library.md's copy of \(path) differs at line \(line + 1): copy the file into the doc again")
      }
    }
    let shown = blocks.map(\.path)
    #expect(Set(shown).count == shown.count, "a file is shown twice")
    #expect(shown.sorted() == Self.exampleFiles(), "docs/library.md must show every file of the example")
  }

  @Test func theSnippetScanFindsBlocks() {
    let text = "x\n<!-- file: a/b.swift -->\n```swift\nlet a = 1\n\nlet b = 2\n```\ny\n"
    let blocks = Self.copiedBlocks(in: text)
    #expect(blocks.map(\.path) == ["a/b.swift"] && blocks.map(\.code) == ["let a = 1\n\nlet b = 2\n"])
  }

  /// `swift test` in the example package: exit status, output, seconds.
  static func swiftTest(scratch: URL) throws -> (Int32, String, Double) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "swift", "test", "--package-path", Self.example.path, "--scratch-path", scratch.path,
    ]
    process.currentDirectoryURL = packageRoot
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    let started = Date()
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text, Date().timeIntervalSince(started))
  }

  /// Builds the example against this checkout and runs its tests (its own build folder under
  /// `.build`, so later runs are incremental; the first compiles the libraries again). SwiftPM
  /// does not notice source files added to a path dependency in an existing build folder, so a
  /// failed build is retried once from an empty folder before it counts.
  @Test(.timeLimit(.minutes(10)))
  func theExamplePackageBuildsAndPassesItsTests() throws {
    let scratch = packageRoot.appendingPathComponent(".build/examples-library")
    var (status, text, seconds) = try Self.swiftTest(scratch: scratch)
    if status != 0 {
      try? FileManager.default.removeItem(at: scratch)
      (status, text, seconds) = try Self.swiftTest(scratch: scratch)
    }
    let tail = text.split(separator: "\n").suffix(40).joined(separator: "\n")
    #expect(
      status == 0,
      "swift test in examples/library failed after \(Int(seconds)) s:\n\(tail)")
    // The example's tests ran (a package whose tests were all filtered out would pass too).
    let summary = try Regex(#"Test run with ([0-9]+) tests? .*passed"#)
    let ran = text.firstMatch(of: summary).flatMap { Int($0.output[1].substring!) } ?? 0
    #expect(ran >= 4, "the example's tests did not run:\n\(tail)")
  }
}

import Foundation
import Testing

/// Every file in a folder of expected results or inputs is used by some test, so a snapshot
/// left behind by a renamed test (or a case file nobody replays) cannot rot unnoticed.
///
/// Snapshots are found by reading the test sources, not by recording the names during a run
/// (tests run in parallel and may be filtered): each `assertSnapshot(_, named:)` call names its
/// file with a string literal, or with an expression listed in `dynamicNames` together with the
/// names it takes. A call with an expression not listed there fails this test.
@Suite struct OrphanedFileTests {
  static let cliTests = packageRoot.appendingPathComponent("Tests/FP8SimCLITests")

  /// Snapshot names built at run time: the expression as written in the call, and its values.
  static let dynamicNames: [String: [String]] = [
    #"example.replacingOccurrences(of: ".isa", with: ".txt")"#:
      RunCommandTests.examples.map { $0.replacingOccurrences(of: ".isa", with: ".txt") },
    #""gemm_fp8.\(device).txt""#: RunCommandTests.otherDevices.map { "gemm_fp8.\($0).txt" },
  ]

  static func files(in folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
  }

  /// The text of every Swift file under `folder`.
  static func swiftSources(in folder: URL) throws -> [(name: String, text: String)] {
    var result: [(String, String)] = []
    let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
    while let url = walker?.nextObject() as? URL {
      if url.pathExtension == "swift" {
        result.append((url.lastPathComponent, try String(contentsOf: url, encoding: .utf8)))
      }
    }
    return result.sorted { $0.0 < $1.0 }
  }

  /// The `named:` argument of every `assertSnapshot(` call in `text`, as written.
  static func snapshotArguments(in text: String) -> [String] {
    var result: [String] = []
    var rest = text[...]
    while let call = rest.range(of: "assertSnapshot(") {
      defer { rest = rest[call.upperBound...] }
      if text[..<call.lowerBound].hasSuffix("func ") { continue }  // the definition
      // The call's arguments, up to its closing parenthesis (names have balanced parentheses).
      var depth = 1
      var end = call.upperBound
      while end < text.endIndex && depth > 0 {
        if text[end] == "(" { depth += 1 }
        if text[end] == ")" { depth -= 1 }
        if depth > 0 { end = text.index(after: end) }
      }
      let arguments = text[call.upperBound..<end]
      guard let named = arguments.range(of: "named:") else {
        result.append("<no named: in assertSnapshot(\(arguments))>")
        continue
      }
      // Up to the next argument at depth 0 (`sourceLocation:`), if any.
      var value = arguments[named.upperBound...]
      depth = 0
      for i in value.indices {
        if value[i] == "(" { depth += 1 }
        if value[i] == ")" { depth -= 1 }
        if value[i] == "," && depth == 0 {
          value = value[..<i]
          break
        }
      }
      result.append(value.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return result
  }

  /// The snapshot names the tests use, and the calls this test cannot resolve.
  static func usedSnapshots() throws -> (names: Set<String>, unknown: [String]) {
    var names = Set<String>()
    var unknown: [String] = []
    let literal = try Regex(#"^"([^"\\]+)"$"#)
    // This file quotes calls in its own tests: it is not read.
    for (file, text) in try swiftSources(in: cliTests) where file != "OrphanedFileTests.swift" {
      for argument in snapshotArguments(in: text) {
        if let m = try literal.wholeMatch(in: argument) {
          names.insert(String(m.output[1].substring!))
        } else if let values = dynamicNames[argument] {
          names.formUnion(values)
        } else {
          unknown.append("\(file): named: \(argument)")
        }
      }
    }
    return (names, unknown)
  }

  @Test func everySnapshotIsUsed() throws {
    let (used, unknown) = try Self.usedSnapshots()
    #expect(
      unknown.isEmpty,
      "snapshot names this test cannot work out; list them in OrphanedFileTests.dynamicNames:\n\(unknown.joined(separator: "\n"))"
    )
    let orphans = Self.files(in: Self.cliTests.appendingPathComponent("Snapshots")).filter {
      !used.contains($0)
    }
    #expect(orphans.isEmpty, "snapshots no test compares with (delete them or use them): \(orphans)")
    // The scan finds what it should: both dynamic names and literals.
    let found = used.isSuperset(of: ["gemm_fp8.txt", "gemm_fp8.ipu.txt", "gemm_fp8.json", "devices.txt"])
    #expect(found, "the scan missed snapshots: it found \(used.sorted())")
  }

  /// The scan itself, on calls written in the ways it must understand.
  @Test func findsTheNamedArgument() {
    let text = """
      func assertSnapshot(_ actual: String, named name: String) {}
      assertSnapshot(r.stdout, named: "a.txt")
      assertSnapshot(f(x), named: "b.\\(device).txt", sourceLocation: here)
      assertSnapshot(
        r.stdout,
        named: example.replacingOccurrences(of: ".isa", with: ".txt"))
      """
    #expect(
      Self.snapshotArguments(in: text) == [
        #""a.txt""#, #""b.\(device).txt""#, #"example.replacingOccurrences(of: ".isa", with: ".txt")"#,
      ])
  }

  /// The hostile corpus replays `*.case` files only: anything else there would be ignored.
  @Test func everyHostileFileIsACase() {
    let others = Self.files(in: Self.cliTests.appendingPathComponent("Hostile")).filter {
      !$0.hasSuffix(".case")
    }
    #expect(others.isEmpty, "files in Tests/FP8SimCLITests/Hostile that are not replayed: \(others)")
  }

  /// The encode vectors are read by name (`"Fixtures/NAME"`); the generators that made them are
  /// named in the sources they generate or in the tests' comments.
  @Test func everyFixtureIsUsed() throws {
    let target = packageRoot.appendingPathComponent("Tests/FP8FormatsTests")
    let sources = try Self.swiftSources(in: target).map(\.text).joined(separator: "\n")
    let unused = Self.files(in: target.appendingPathComponent("Fixtures")).filter { name in
      name.hasSuffix(".py") ? !sources.contains(name) : !sources.contains("\"Fixtures/\(name)\"")
    }
    #expect(unused.isEmpty, "files in Tests/FP8FormatsTests/Fixtures that no test reads: \(unused)")
  }

  /// The fuzz replays list their folders by name; a folder no replay names would be skipped.
  @Test(arguments: ["FP8ISATests", "FP8SimTests"])
  func everyFuzzFolderIsReplayed(target: String) throws {
    let dir = packageRoot.appendingPathComponent("Tests/\(target)")
    let sources = try Self.swiftSources(in: dir).map(\.text).joined(separator: "\n")
    let folders = Self.files(in: dir.appendingPathComponent("FuzzCases"))
    #expect(folders.count >= 2)
    let skipped = folders.filter {
      !sources.contains("FuzzCases/\($0)") && !sources.contains("cases(\"\($0)\")")
    }
    #expect(skipped.isEmpty, "fuzz case folders of \(target) that no test replays: \(skipped)")
  }
}

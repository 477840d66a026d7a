import Foundation
import Testing

@testable import FP8ISA

/// A source text with location markers (1️⃣ … 9️⃣) removed, and where each marker was.
struct MarkedSource {
  var text: String
  var markers: [String: (line: Int, column: Int)] = [:]

  init(_ marked: String) {
    let names = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣"]
    var lines: [String] = []
    for (i, line) in marked.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      var clean = ""
      for c in line {
        let s = String(c)
        if names.contains(s) {
          markers[s] = (i + 1, clean.count + 1)
        } else {
          clean.append(c)
        }
      }
      lines.append(clean)
    }
    text = lines.joined(separator: "\n")
  }
}

/// Assembles `text`, failing the test with the diagnostics if it does not assemble.
func assembleOK(_ text: String, overrides: [String: String] = [:], base: URL? = nil) throws -> Program {
  do {
    return try Assembler.assemble(
      text: text, path: "t.isa", options: Assembler.Options(overrides: overrides, baseDirectory: base))
  } catch {
    Issue.record("unexpected diagnostics:\n\(error.description)")
    throw error
  }
}

/// The diagnostics of a program that must not assemble.
func diagnostics(_ text: String, base: URL? = nil) -> [Diagnostic] {
  do {
    _ = try Assembler.assemble(text: text, path: "t.isa", options: Assembler.Options(baseDirectory: base))
    return []
  } catch {
    return error.diagnostics
  }
}

/// A fresh temporary folder for files written by a test.
func temporaryFolder() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("fp8sim-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

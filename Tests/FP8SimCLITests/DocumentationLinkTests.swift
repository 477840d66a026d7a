import Foundation
import Testing

/// Every relative link in README.md, docs/ and isa/ resolves: the file exists and, for
/// `file.md#anchor`, the heading exists. Repository paths quoted in backticks (`docs/x.md`,
/// `examples/y.isa`) must exist too.
@Suite struct DocumentationLinkTests {
  static var documents: [URL] {
    var urls = [packageRoot.appendingPathComponent("README.md")]
    for folder in ["docs", "isa"] {
      let dir = packageRoot.appendingPathComponent(folder)
      let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
      urls += names.filter { $0.hasSuffix(".md") }.sorted().map { dir.appendingPathComponent($0) }
    }
    return urls
  }

  /// GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens.
  static func anchors(of url: URL) -> Set<String> {
    guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
    var result = Set<String>()
    for line in text.split(separator: "\n") where line.hasPrefix("#") {
      let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
      let slug = String(
        title.compactMap { c -> Character? in
          if c == " " { return "-" }
          return c.isLetter || c.isNumber || c == "-" || c == "_" ? c : nil
        })
      result.insert(slug)
    }
    return result
  }

  @Test func everyRelativeLinkResolves() throws {
    #expect(Self.documents.count >= 10)
    var broken: [String] = []
    let link = try Regex(#"\]\(([^)\s]+)\)"#)
    let quoted = try Regex(#"`((?:docs|isa|examples|Sources|Tests)/[A-Za-z0-9_./+-]+)`"#)
    for doc in Self.documents {
      let text = try String(contentsOf: doc, encoding: .utf8)
      let base = doc.deletingLastPathComponent()
      for match in text.matches(of: link) {
        let target = String(match.output[1].substring!)
        if target.contains("://") || target.hasPrefix("mailto:") { continue }
        let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let file = parts[0].isEmpty ? doc : base.appendingPathComponent(String(parts[0])).standardizedFileURL
        guard FileManager.default.fileExists(atPath: file.path) else {
          broken.append("\(doc.lastPathComponent): \(target) (no such file)")
          continue
        }
        if parts.count == 2, file.pathExtension == "md", !Self.anchors(of: file).contains(String(parts[1])) {
          broken.append("\(doc.lastPathComponent): \(target) (no such heading)")
        }
      }
      for match in text.matches(of: quoted) {
        let path = String(match.output[1].substring!)
        if path.contains("*") || path.hasSuffix("/") { continue }
        if !FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent(path).path) {
          broken.append("\(doc.lastPathComponent): `\(path)` (no such file)")
        }
      }
    }
    #expect(broken.isEmpty, "\(broken.joined(separator: "\n"))")
  }
}

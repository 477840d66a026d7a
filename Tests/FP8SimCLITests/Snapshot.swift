import Foundation
import Testing

/// Compares `actual` with `Snapshots/<name>` next to this file. With `RECORD_SNAPSHOTS=1` in the
/// environment the file is (re)written and the test fails on purpose, so a new baseline is
/// never accepted silently.
func assertSnapshot(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
  let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Snapshots/\(name)")
  if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil {
    try? FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try? actual.write(to: url, atomically: true, encoding: .utf8)
    Issue.record(
      "recorded a new baseline for \(name); run again without RECORD_SNAPSHOTS",
      sourceLocation: sourceLocation)
    return
  }
  guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
    Issue.record(
      "no snapshot \(name); record it with RECORD_SNAPSHOTS=1 swift test", sourceLocation: sourceLocation)
    return
  }
  if actual != expected {
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let i = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
    Issue.record(
      "\(name) differs from its snapshot at line \(i + 1):\n  expected: \(i < e.count ? String(e[i]) : "<end>")\n  actual:   \(i < a.count ? String(a[i]) : "<end>")\nre-record with RECORD_SNAPSHOTS=1 swift test if the change is intended",
      sourceLocation: sourceLocation)
  }
}

/// Makes relative example paths resolve from the package root (every test wants the same).
func inPackageRoot() {
  if FileManager.default.currentDirectoryPath != packageRoot.path {
    _ = FileManager.default.changeCurrentDirectoryPath(packageRoot.path)
  }
}

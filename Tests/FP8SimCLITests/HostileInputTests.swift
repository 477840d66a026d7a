import Foundation
import Testing

/// The hostile-input corpus: every file in `Hostile/` is one case — a command line, the files it
/// reads, and what must happen — replayed against the real executable in a fresh folder.
///
/// A case file:
///
///     # args: run p.isa --device d.json
///     # exit: 65
///     # stderr: p.isa:2:3: error: unknown instruction
///     # stdout: (text that standard output must contain; optional, may repeat)
///     # stdin: (one line of standard input; optional, may repeat)
///     # timeout: 20 (seconds; default 20)
///     --- p.isa
///     (the file's text, up to the next `--- NAME` line)
///     --- d.json
///     ...
///     --- data.npy hex
///     934e554d5059 0100 ...   (bytes as hex; whitespace ignored)
///
/// `args` is split at spaces; `{big:N:TEXT}` in a file's text repeats TEXT N times (for large
/// inputs without large files) and `{dir}` in args is the case's folder. Every `stderr:` line
/// must appear in standard error; `stderr: (empty)` requires none. No case may crash (a signal),
/// run past its timeout, or leave standard error without the `error:` of a failing status.
@Suite struct HostileInputTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var args: [String] = []
    var exit: Int32 = 0
    var stderr: [String] = []
    var stdout: [String] = []
    var stdin = ""
    var timeout = 20.0
    var files: [(name: String, data: Data)] = []
    var testDescription: String { name }
  }

  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Hostile")

  static func expand(_ text: String) -> String {
    var out = text
    while let r = out.range(of: #"\{big:([0-9]+):([^}]*)\}"#, options: .regularExpression) {
      let parts = out[r].dropFirst(5).dropLast().split(
        separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      let count = Int(parts[0]) ?? 0
      let unit = String(parts[1]).replacingOccurrences(of: "\\n", with: "\n")
      out.replaceSubrange(r, with: String(repeating: unit, count: count))
    }
    return out
  }

  static func parse(_ name: String, _ text: String) -> Case {
    var c = Case(name: name)
    var current: (name: String, hex: Bool, lines: [String])?
    func finish() {
      guard let f = current else { return }
      let body = f.lines.joined(separator: "\n") + (f.lines.isEmpty ? "" : "\n")
      if f.hex {
        let digits = body.filter { $0.isHexDigit }
        var bytes: [UInt8] = []
        var i = digits.startIndex
        while i < digits.endIndex, let j = digits.index(i, offsetBy: 2, limitedBy: digits.endIndex) {
          bytes.append(UInt8(digits[i..<j], radix: 16)!)
          i = j
        }
        c.files.append((f.name, Data(bytes)))
      } else {
        c.files.append((f.name, Data(expand(body).utf8)))
      }
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("--- ") {
        finish()
        let words = line.dropFirst(4).split(separator: " ")
        current = (String(words[0]), words.count > 1 && words[1] == "hex", [])
      } else if current != nil {
        current!.lines.append(String(line))
      } else if line.hasPrefix("# ") {
        let body = line.dropFirst(2)
        guard let colon = body.firstIndex(of: ":") else { continue }
        let key = body[..<colon]
        let value = String(body[body.index(after: colon)...].drop { $0 == " " })
        switch key {
        case "args": c.args = value.split(separator: " ").map(String.init)
        case "exit": c.exit = Int32(value) ?? -1
        case "stderr": c.stderr.append(value)
        case "stdout": c.stdout.append(value)
        case "stdin": c.stdin += expand(value) + "\n"
        case "timeout": c.timeout = Double(value) ?? 20
        default: break
        }
      }
    }
    if var last = current, last.lines.last == "" {
      last.lines.removeLast()
      current = last
    }
    finish()
    return c
  }

  static var cases: [Case] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasSuffix(".case") }.sorted().map { name in
      parse(name, (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? "")
    }
  }

  @Test func theCorpusIsLarge() {
    #expect(Self.cases.count >= 150)
  }

  @Test(arguments: cases)
  func hostileInput(c: Case) throws {
    ignoreBrokenPipes
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    for f in c.files {
      let url = dir.appendingPathComponent(f.name)
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try f.data.write(to: url)
    }
    let process = Process()
    process.executableURL = try builtExecutable()
    process.arguments = c.args.map { $0.replacingOccurrences(of: "{dir}", with: dir.path) }
    process.currentDirectoryURL = dir
    let outFile = dir.appendingPathComponent(".stdout")
    let errFile = dir.appendingPathComponent(".stderr")
    _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: outFile)
    process.standardError = try FileHandle(forWritingTo: errFile)
    let input = Pipe()
    process.standardInput = input
    let start = Date()
    try process.run()
    let stdin = Data(c.stdin.utf8)
    let writer = input.fileHandleForWriting
    DispatchQueue.global().async {
      try? writer.write(contentsOf: stdin)  // the child may exit before reading it all
      try? writer.close()
    }
    while process.isRunning && Date().timeIntervalSince(start) < c.timeout { usleep(10_000) }
    if process.isRunning {
      // SIGKILL: the child may inherit a mask that blocks SIGTERM from the test thread.
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      Issue.record("\(c.name): still running after \(c.timeout) s")
      return
    }
    let out = String(decoding: try Data(contentsOf: outFile), as: UTF8.self)
    let err = String(decoding: try Data(contentsOf: errFile), as: UTF8.self)
    #expect(
      process.terminationReason == .exit, "\(c.name): killed by signal \(process.terminationStatus)\n\(err)")
    #expect(process.terminationStatus == c.exit, "\(c.name): exit \(process.terminationStatus)\n\(err)")
    for s in c.stderr {
      if s == "(empty)" {
        #expect(err.isEmpty, "\(c.name): stderr not empty:\n\(err)")
      } else {
        #expect(err.contains(s), "\(c.name): stderr lacks '\(s)':\n\(err)")
      }
    }
    for s in c.stdout { #expect(out.contains(s), "\(c.name): stdout lacks '\(s)'") }
    if c.exit != 0 { #expect(err.contains("error"), "\(c.name): failed without an error message") }
  }
}

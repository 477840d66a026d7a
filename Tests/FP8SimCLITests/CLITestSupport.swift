import Foundation
import Testing

@testable import FP8SimCLI

/// The result of one in-process `fp8sim` invocation.
struct CLIResult {
  var status: ExitCode
  var stdout: String
  var stderr: String
}

/// Runs `fp8sim` in process with `arguments` and optional standard input.
func runCLI(_ arguments: [String], stdin: String = "") -> CLIResult {
  let out = TextBuffer()
  let err = TextBuffer()
  var pending: [UInt8]? = Array(stdin.utf8)
  let status = CLI.main(
    arguments, stdout: out, stderr: err,
    readStandardInput: {
      defer { pending = nil }
      return pending?.isEmpty == false ? pending : nil
    })
  return CLIResult(status: status, stdout: out.text, stderr: err.text)
}

/// The package root (two levels above this file's folder).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

/// The built `fp8sim` executable, next to the test bundle.
func builtExecutable() throws -> URL {
  var candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
  candidates += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
  for dir in candidates {
    let url = dir.appendingPathComponent("fp8sim")
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
      return url
    }
  }
  throw CLITestError.executableNotFound(candidates.map(\.path))
}

enum CLITestError: Error {
  case executableNotFound([String])
}

/// Writing to a pipe whose reader has exited must be an error, not a SIGPIPE that ends the whole
/// test process: a child may exit before it has read all its standard input.
let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

/// Runs the real executable (for exit statuses and stream separation).
func runExecutable(_ arguments: [String], stdin: String = "") throws -> (Int32, String, String) {
  ignoreBrokenPipes
  let process = Process()
  process.executableURL = try builtExecutable()
  process.arguments = arguments
  process.currentDirectoryURL = packageRoot
  let outPipe = Pipe()
  let errPipe = Pipe()
  let inPipe = Pipe()
  process.standardOutput = outPipe
  process.standardError = errPipe
  process.standardInput = inPipe
  try process.run()
  // Written from another thread: a streaming command answers before its input ends, and both
  // pipes must drain at once.
  let writer = inPipe.fileHandleForWriting
  let input = Data(stdin.utf8)
  let written = DispatchSemaphore(value: 0)
  DispatchQueue.global().async {
    try? writer.write(contentsOf: input)  // the child may exit before reading it all
    try? writer.close()
    written.signal()
  }
  let out = outPipe.fileHandleForReading.readDataToEndOfFile()
  written.wait()
  let err = errPipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self)
  )
}

/// Starts the real executable with a standard input left open; writes `first`, and returns what
/// it printed before `seconds` passed (a streaming command answers before its input ends).
func firstOutputBeforeInputEnds(_ arguments: [String], first: String, seconds: Double) throws -> String {
  ignoreBrokenPipes
  let process = Process()
  process.executableURL = try builtExecutable()
  process.arguments = arguments
  let outPipe = Pipe()
  let inPipe = Pipe()
  process.standardOutput = outPipe
  process.standardInput = inPipe
  process.standardError = FileHandle.nullDevice
  try process.run()
  try inPipe.fileHandleForWriting.write(contentsOf: Data(first.utf8))
  let box = OutputBox()
  let got = DispatchSemaphore(value: 0)
  let reader = outPipe.fileHandleForReading
  DispatchQueue.global().async {
    box.set(reader.availableData)
    got.signal()
  }
  _ = got.wait(timeout: .now() + seconds)
  try inPipe.fileHandleForWriting.close()
  process.waitUntilExit()
  return String(decoding: box.get(), as: UTF8.self)
}

/// A value handed from a reading thread.
final class OutputBox: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()
  func set(_ d: Data) { lock.withLock { data = d } }
  func get() -> Data { lock.withLock { data } }
}

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
  let status = CLI.main(arguments, stdout: out, stderr: err, readStandardInput: { stdin })
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

/// Runs the real executable (for exit statuses and stream separation).
func runExecutable(_ arguments: [String], stdin: String = "") throws -> (Int32, String, String) {
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
  inPipe.fileHandleForWriting.write(Data(stdin.utf8))
  try inPipe.fileHandleForWriting.close()
  let out = outPipe.fileHandleForReading.readDataToEndOfFile()
  let err = errPipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self)
  )
}

import Foundation

/// Where a command writes. Tests pass `TextBuffer`s; the executable passes the process streams.
public protocol OutputSink: AnyObject {
  func write(_ text: String)
}

extension OutputSink {
  public func line(_ text: String = "") { write(text + "\n") }
}

/// An in-memory sink, for tests and for building output before it is printed.
public final class TextBuffer: OutputSink {
  public private(set) var text = ""
  public init() {}
  public func write(_ text: String) { self.text += text }
}

/// A sink over the process's standard output or error.
public final class FileSink: OutputSink, Sendable {
  private let handle: FileHandle
  private init(_ handle: FileHandle) { self.handle = handle }
  public func write(_ text: String) { handle.write(Data(text.utf8)) }
  public static let standardOutput = FileSink(.standardOutput)
  public static let standardError = FileSink(.standardError)
}

/// Exit statuses, following BSD `sysexits.h` where one applies.
public enum ExitCode: Int32, Sendable {
  case success = 0
  /// A simulated program faulted at run time.
  case runtimeFault = 1
  /// Bad command line (`EX_USAGE`).
  case usage = 64
  /// Bad program, device file or data file (`EX_DATAERR`).
  case dataError = 65
  /// A file could not be read or written (`EX_IOERR`).
  case ioError = 74
}

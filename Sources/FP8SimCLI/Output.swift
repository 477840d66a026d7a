import Foundation

/// Where a command writes. Tests pass `TextBuffer`s; the executable passes the process streams.
public protocol OutputSink: AnyObject {
  func write(_ text: String)
  /// Hands buffered text to the destination now.
  func flush()
  /// Why writing failed (e.g. "No space left on device"); nil while every write succeeded.
  var failure: String? { get }
}

extension OutputSink {
  public func line(_ text: String = "") { write(text + "\n") }
  public func flush() {}
  public var failure: String? { nil }
}

/// An in-memory sink, for tests and for building output before it is printed.
public final class TextBuffer: OutputSink {
  public private(set) var text = ""
  public init() {}
  public func write(_ text: String) { self.text += text }
}

/// A sink over a file descriptor (the process's standard output or error). Output is buffered
/// (64 KiB) unless `unbuffered`; every `write(2)` is checked, and the first failure is kept in
/// `failure` (later output is dropped) so the command can report it and exit with `ioError`.
public final class FileSink: OutputSink {
  private let descriptor: Int32
  private let unbuffered: Bool
  private var buffer: [UInt8] = []
  public private(set) var failure: String?

  public init(descriptor: Int32, unbuffered: Bool = false) {
    self.descriptor = descriptor
    self.unbuffered = unbuffered
  }

  public func write(_ text: String) {
    guard failure == nil else { return }
    buffer.append(contentsOf: text.utf8)
    if unbuffered || buffer.count >= 1 << 16 { flush() }
  }

  public func flush() {
    guard failure == nil, !buffer.isEmpty else { return }
    failure = writeAll(descriptor, buffer)
    buffer.removeAll(keepingCapacity: true)
  }
}

/// Writes every byte to `descriptor` (retrying interrupted and partial writes); returns why it
/// failed (`strerror`), or nil. The one write loop of `FileSink` and `AtomicFile`.
func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> String? {
  var done = 0
  return bytes.withUnsafeBytes { raw -> String? in
    while done < raw.count {
      let n = Foundation.write(descriptor, raw.baseAddress! + done, raw.count - done)
      if n < 0 {
        if errno == EINTR { continue }
        return String(cString: strerror(errno))
      }
      done += n
    }
    return nil
  }
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

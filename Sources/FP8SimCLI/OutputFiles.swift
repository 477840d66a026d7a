import FP8ISA
import Foundation

/// The files a command writes (`--trace`, `--dump`), planned before any work and written
/// safely:
///
/// - never over one of the command's inputs (the program, the device file, a data file), even
///   through another name or a link: outputs are compared with inputs by device and inode;
/// - never two outputs under one name (a tensor `Y.ref` and the reference file of `Y`);
/// - atomically: into a new temporary file (`O_EXCL`, so a planted link is never followed) in
///   the destination's folder, then renamed over the destination, so a failure leaves the old
///   file (or none) and never half a file, and a link planted at the destination is replaced,
///   not written through.
struct OutputFiles {
  struct FileID: Equatable {
    var device: UInt64
    var inode: UInt64
  }

  let command: String
  private var inputs: [(path: String, id: FileID)] = []
  private var planned: [(path: String, what: String)] = []

  init(command: String) { self.command = command }

  static func id(_ path: String) -> FileID? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return FileID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
  }

  static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

  mutating func addInput(_ path: String) {
    if let id = Self.id(path) { inputs.append((path, id)) }
  }

  /// Checks that `path` may be written as `what`; call for every output before running.
  mutating func plan(_ path: String, as what: String) throws(UsageError) {
    let shown = Printable.quoted(path)
    if let id = Self.id(path), let input = inputs.first(where: { $0.id == id }) {
      throw UsageError(
        "\(what) '\(shown)' is the input '\(Printable.quoted(input.path))' of this command; refusing to overwrite it"
      )
    }
    let full = Self.absolute(path)
    if let other = planned.first(where: { $0.path == full }) {
      throw UsageError("\(what) and \(other.what) would both be written to '\(shown)'")
    }
    planned.append((full, what))
  }

  /// Writes `path` atomically with what `body` appends; on any failure nothing is left behind.
  func write(_ path: String, what: String, _ body: (AtomicFile) throws -> Void) throws(CommandFailure) {
    do {
      let file = try AtomicFile(path)
      do {
        try body(file)
        try file.commit()
      } catch {
        file.discard()
        throw error
      }
    } catch {
      throw CommandFailure(
        "fp8sim \(command): error: cannot write \(what) '\(Printable.quoted(path))': \(error)",
        status: .ioError)
    }
  }
}

/// A file written into a temporary sibling and renamed into place on `commit`.
final class AtomicFile {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  let path: String
  /// The temporary sibling renamed into place on commit (nil: written in place).
  private let temporary: String?
  private var descriptor: Int32
  private var buffer: [UInt8] = []

  init(_ path: String) throws {
    self.path = path
    // A destination that exists and is not a regular file (a terminal, a pipe, /dev/null, a
    // device) is written in place: it cannot be replaced, and the user named it on purpose.
    var info = stat()
    if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
      guard info.st_mode & S_IFMT != S_IFDIR else { throw Failure(description: "it is a folder") }
      descriptor = open(path, O_WRONLY)
      guard descriptor >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
      temporary = nil
      return
    }
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    var template = Array((folder + "/." + url.lastPathComponent + ".tmp-XXXXXX").utf8CString)
    descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
    temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // mkstemp creates the file 0600; outputs get the usual 0666 less the umask.
    let mask = umask(0)
    umask(mask)
    fchmod(descriptor, 0o666 & ~mask)
  }

  func append(_ text: String) throws { try append(bytes: Array(text.utf8)) }

  func append(_ data: Data) throws { try append(bytes: [UInt8](data)) }

  func append(bytes: [UInt8]) throws {
    buffer.append(contentsOf: bytes)
    if buffer.count >= 1 << 20 { try flush() }
  }

  private func flush() throws {
    if let failure = writeAll(descriptor, buffer) { throw Failure(description: failure) }
    buffer.removeAll(keepingCapacity: true)
  }

  func commit() throws {
    try flush()
    guard close(descriptor) == 0 else {
      descriptor = -1
      throw Failure(description: String(cString: strerror(errno)))
    }
    descriptor = -1
    guard let temporary else { return }
    guard rename(temporary, path) == 0 else { throw Failure(description: String(cString: strerror(errno))) }
  }

  func discard() {
    if descriptor >= 0 { close(descriptor) }
    descriptor = -1
    if let temporary { unlink(temporary) }
  }
}

import FP8Formats
import Foundation
import Testing

@testable import FP8Data
@testable import FP8ISA

/// Every input the assembler fuzzer saved (and hand-made nasty ones) is replayed: it must give
/// a program whose canonical text round-trips, or diagnostics, never a crash. A case named
/// `valid-*` must assemble and any other must not, as in the other fuzz folders, so a case
/// that changes sides fails here; rename a new fuzzer input by what it does.
@Suite struct FuzzReplayTests {
  static let cases: [String] = {
    let dir = packageRoot.appendingPathComponent("Tests/FP8ISATests/FuzzCases/assembler")
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
  }()

  @Test(arguments: cases)
  func replays(name: String) throws {
    let url = packageRoot.appendingPathComponent("Tests/FP8ISATests/FuzzCases/assembler/\(name)")
    let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
    let program: Program
    do {
      program = try Assembler.assemble(text: text, path: name, options: .init(checkDataFiles: false))
    } catch {
      #expect(!error.diagnostics.isEmpty)
      #expect(!name.hasPrefix("valid-"), "\(name) no longer assembles:\n\(error.description)")
      return
    }
    #expect(name.hasPrefix("valid-"), "\(name) assembles: name it valid-…, or make it fail to assemble again")
    let again = try Assembler.assemble(
      text: Disassembler.text(of: program), options: .init(checkDataFiles: false))
    #expect(again.sameMeaning(as: program))
  }

  @Test func thereAreCases() {
    #expect(Self.cases.count >= 4)
    #expect(Self.cases.contains { $0.hasPrefix("valid-") } && Self.cases.contains { !$0.hasPrefix("valid-") })
  }
}

/// Inputs of the `.npy` and `.safetensors` fuzzers (valid seeds, issue 9's hostile files, and
/// whatever the fuzzers saved): a header whose values decode, or an error, never a crash.
@Suite struct DataFileFuzzReplayTests {
  static func cases(_ folder: String) -> [String] {
    let dir = packageRoot.appendingPathComponent("Tests/FP8ISATests/FuzzCases/\(folder)")
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
  }

  static func bytes(_ folder: String, _ name: String) throws -> [UInt8] {
    Array(
      try Data(
        contentsOf: packageRoot.appendingPathComponent("Tests/FP8ISATests/FuzzCases/\(folder)/\(name)")))
  }

  /// What the harnesses check once a header is accepted.
  static func valuesDecode(_ bytes: [UInt8], _ header: ArrayFileHeader, path: String) throws {
    let format: FloatFormat = header.element.byteWidth == 2 ? .bf16 : .e4m3fn
    #expect(
      try ArrayFile.values(in: bytes, header: header, rawFormat: format, path: path).count
        == header.elementCount)
  }

  @Test(arguments: cases("npy"))
  func npy(name: String) throws {
    let bytes = try Self.bytes("npy", name)
    do {
      let header = try ArrayFile.header(in: bytes, path: name)
      #expect(name.hasPrefix("valid"), "\(name) should be rejected")
      try Self.valuesDecode(bytes, header, path: name)
    } catch {
      #expect(!name.hasPrefix("valid"), "\(name): \(error)")
    }
  }

  @Test(arguments: cases("safetensors"))
  func safetensors(name: String) throws {
    let bytes = try Self.bytes("safetensors", name)
    do {
      let header = try ArrayFile.header(in: bytes, path: name, tensor: "w")
      #expect(name.hasPrefix("valid"), "\(name) should be rejected")
      try Self.valuesDecode(bytes, header, path: name)
    } catch {
      #expect(!name.hasPrefix("valid"), "\(name): \(error)")
    }
  }

  @Test func thereAreCases() {
    #expect(Self.cases("npy").count >= 8 && Self.cases("safetensors").count >= 8)
  }
}

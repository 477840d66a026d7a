import Foundation
import Testing

@testable import FP8ISA

/// Every input the assembler fuzzer saved (and hand-made nasty ones) is replayed: it must give
/// a program whose canonical text round-trips, or diagnostics, never a crash.
@Suite struct FuzzReplayTests {
  static let cases: [String] = {
    let dir = packageRoot.appendingPathComponent("Tests/FP8ISATests/FuzzCases/assembler")
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
  }()

  @Test(arguments: cases)
  func replays(name: String) throws {
    let url = packageRoot.appendingPathComponent("Tests/FP8ISATests/FuzzCases/assembler/\(name)")
    let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
    do {
      let program = try Assembler.assemble(text: text, options: .init(checkDataFiles: false))
      let again = try Assembler.assemble(
        text: Disassembler.text(of: program), options: .init(checkDataFiles: false))
      #expect(again.sameMeaning(as: program))
    } catch {
      #expect(!error.diagnostics.isEmpty)
    }
  }

  @Test func thereAreCases() { #expect(Self.cases.count >= 4) }
}

import FP8FuzzSupport
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// Every input the run fuzzer saved is replayed under the fuzzer's limits: a report or a fault,
/// never a crash, and within the work budget.
@Suite struct FuzzReplayTests {
  static let cases: [String] = {
    let dir = packageRoot.appendingPathComponent("Tests/FP8SimTests/FuzzCases/run")
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
  }()

  @Test(arguments: cases)
  func replays(name: String) throws {
    let url = packageRoot.appendingPathComponent("Tests/FP8SimTests/FuzzCases/run/\(name)")
    let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
    guard let program = try? Assembler.assemble(text: text, options: .init(checkDataFiles: false)) else {
      return
    }
    FuzzLimits.run(program)
  }

  @Test func theSlowUnitStopsAtTheWorkBudget() throws {
    let url = packageRoot.appendingPathComponent(
      "Tests/FP8SimTests/FuzzCases/run/slow-unit-endless-mma-loop.isa")
    let program = try Assembler.assemble(text: String(contentsOf: url, encoding: .utf8))
    var device = DeviceConfig.teach
    device.tiles = 2
    #expect {
      _ = try Machine(program: program, device: device, options: FuzzLimits.options).run()
    } throws: { ($0 as? RuntimeFault)?.message.contains("budget of 4194304") == true }
  }
}

/// Inputs of the device-file fuzzer (valid seeds, issue 9's hostile files, and whatever the
/// fuzzer saved): a device that prints back to itself, or problems, never a crash.
@Suite struct DeviceFuzzReplayTests {
  static let cases: [String] = {
    let dir = packageRoot.appendingPathComponent("Tests/FP8SimTests/FuzzCases/device")
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
  }()

  @Test(arguments: cases)
  func replays(name: String) throws {
    let data = try Data(
      contentsOf: packageRoot.appendingPathComponent("Tests/FP8SimTests/FuzzCases/device/\(name)"))
    do {
      let device = try DeviceConfig.parse(data, path: name)
      #expect(name.hasPrefix("valid"), "\(name) should be rejected")
      #expect(try DeviceConfig.parse(Data(device.json5().utf8), path: "dump.json") == device)
    } catch {
      #expect(!name.hasPrefix("valid") && !error.problems.isEmpty, "\(name): \(error)")
    }
  }

  @Test func thereAreCases() { #expect(Self.cases.count >= 8) }
}

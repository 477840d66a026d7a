import FP8FuzzSupport
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// Every input the run fuzzer saved (and hand-made ones) is replayed under the fuzzer's
/// limits: a report or a fault, never a crash, within the work budget, and numeric and
/// timing-only runs that agree (`FuzzLimits.disagreement`).
///
/// A case named `valid-*` must assemble, any other must not (so a saved program that stops
/// assembling fails here instead of silently testing nothing); rename a new fuzzer input by
/// what it does.
@Suite struct FuzzReplayTests {
  static let folder = packageRoot.appendingPathComponent("Tests/FP8SimTests/FuzzCases/run")
  static let cases: [String] = {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
  }()

  /// The case's program, nil when it does not assemble (checked against its name).
  static func program(_ name: String) throws -> Program? {
    let text = String(decoding: try Data(contentsOf: folder.appendingPathComponent(name)), as: UTF8.self)
    do {
      let program = try Assembler.assemble(text: text, path: name, options: .init(checkDataFiles: false))
      #expect(
        name.hasPrefix("valid-"), "\(name) assembles: name it valid-…, or make it fail to assemble again")
      return program
    } catch {
      #expect(!name.hasPrefix("valid-"), "\(name) no longer assembles:\n\(error.description)")
      return nil
    }
  }

  /// Fuzz limits raised 4 times: enough for the hand-made cases that stop at a numeric limit.
  static var raisedLimits: RunOptions {
    var o = FuzzLimits.options
    o.maxNumericElements *= 4
    o.maxWork *= 4
    return o
  }

  @Test(arguments: cases)
  func replays(name: String) throws {
    guard let program = try Self.program(name) else { return }
    let outcome = FuzzLimits.run(program)
    let problem = FuzzLimits.disagreement(program, outcome)
    #expect(problem == nil, "\(name): \(problem ?? "")")
    // A numeric run that stopped at a numeric limit is run again with the limits raised: if it
    // finishes, it must take the timing-only run's cycles.
    if case .failure(let fault) = outcome.numeric, FuzzLimits.isNumericLimit(fault),
      case .success(let timing) = outcome.timing, !FuzzLimits.dependsOnValues(program),
      let numeric = try? Machine(program: program, device: FuzzLimits.device, options: Self.raisedLimits)
        .run()
    {
      #expect(
        numeric.cycles == timing.cycles,
        "\(name), limits raised: numeric \(numeric.cycles) cycles, timing-only \(timing.cycles)")
    }
  }

  /// The hand-made cases keep every kind of outcome the comparison handles covered.
  @Test func theCasesCoverEveryOutcome() throws {
    func outcome(_ name: String) throws -> (Program, FuzzLimits.Outcome) {
      let program = try #require(try Self.program(name), "\(name) is missing or does not assemble")
      return (program, FuzzLimits.run(program))
    }
    func fault(_ r: Result<RunResult, RuntimeFault>) -> RuntimeFault? {
      if case .failure(let f) = r { return f }
      return nil
    }
    #expect(Self.cases.contains { !$0.hasPrefix("valid-") })

    // Both runs finish: the cycles are compared.
    let (_, gemm) = try outcome("valid-gemm-both-runs-finish.isa")
    #expect(gemm.cycles.numeric != nil && gemm.cycles.numeric == gemm.cycles.timing)

    // Only the numeric run stops, at each numeric limit; timing-only finishes.
    for (name, message) in [
      ("valid-numeric-values-limit.isa", "a numeric run would hold more than 1048576 values"),
      ("valid-numeric-mma-copies-limit.isa", "this mma needs 6144 temporary values"),
      ("valid-numeric-data-file.isa", "cannot load 'X'"),
    ] {
      let (_, o) = try outcome(name)
      let f = fault(o.numeric)
      #expect(
        f?.message.hasPrefix(message) == true && FuzzLimits.isNumericLimit(f!),
        "\(name): \(f?.description ?? "finished")")
      #expect(o.cycles.timing != nil, "\(name): the timing-only run faulted")
    }
    // With the values limit raised, the numeric run finishes in the timing-only run's cycles.
    let (big, bigOutcome) = try outcome("valid-numeric-values-limit.isa")
    let raised = try Machine(program: big, device: FuzzLimits.device, options: Self.raisedLimits).run()
    #expect(raised.cycles == bigOutcome.cycles.timing)

    // The work budget: numeric runs pay per MAC, so they stop first.
    let (_, slow) = try outcome("valid-slow-unit-endless-mma-loop.isa")
    #expect(fault(slow.numeric)?.message.hasPrefix("the run exceeded its work budget") == true)

    // Both runs fault the same way.
    for name in ["valid-race-both-fault.isa", "valid-barrier-mismatch.isa"] {
      let (_, o) = try outcome(name)
      let (n, t) = (fault(o.numeric), fault(o.timing))
      #expect(
        n != nil && n?.description == t?.description,
        "\(name): \(String(describing: n)) vs \(String(describing: t))")
    }

    // A program whose control flow follows an amax: the runs really differ, which is why
    // `dependsOnValues` exempts it.
    let (steered, o) = try outcome("valid-amax-steers-control.isa")
    #expect(FuzzLimits.dependsOnValues(steered))
    #expect(o.cycles.numeric != nil && o.cycles.timing != nil && o.cycles.numeric != o.cycles.timing)
    #expect(FuzzLimits.disagreement(steered, o) == nil)
  }

  @Test func theSlowUnitStopsAtTheWorkBudget() throws {
    let url = Self.folder.appendingPathComponent("valid-slow-unit-endless-mma-loop.isa")
    let program = try Assembler.assemble(text: String(contentsOf: url, encoding: .utf8))
    #expect {
      _ = try Machine(program: program, device: FuzzLimits.device, options: FuzzLimits.options).run()
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

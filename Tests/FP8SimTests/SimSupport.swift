import FP8Formats
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// The teaching device with `tiles` tiles (all other numbers as `teach`).
func teach(tiles: Int = 1, _ adjust: (inout DeviceConfig) -> Void = { _ in }) -> DeviceConfig {
  var d = DeviceConfig.teach
  d.tiles = tiles
  adjust(&d)
  return d
}

/// Assembles and runs `text`; records the diagnostics or fault as a test failure.
func simulate(_ text: String, device: DeviceConfig = teach(), options: RunOptions = RunOptions()) throws
  -> RunResult
{
  let program: Program
  do {
    program = try Assembler.assemble(text: text, path: "t.isa")
  } catch {
    Issue.record("does not assemble:\n\(error.description)")
    throw error
  }
  return try Machine(program: program, device: device, options: options).run()
}

/// The fault a program must raise.
func fault(_ text: String, device: DeviceConfig = teach(), options: RunOptions = RunOptions())
  -> RuntimeFault?
{
  do {
    let program = try Assembler.assemble(text: text, path: "t.isa")
    _ = try Machine(program: program, device: device, options: options).run()
    return nil
  } catch let f as RuntimeFault {
    return f
  } catch {
    Issue.record("unexpected error \(error)")
    return nil
  }
}

func output(_ r: RunResult, _ name: String) -> OutputResult? { r.outputs.first { $0.name == name } }

/// The assembler's diagnostics for `text` ("" when it assembles).
func assemblyError(_ text: String) -> String {
  do {
    _ = try Assembler.assemble(text: text, path: "t.isa")
    return ""
  } catch { return error.description }
}

/// Run options of a timing-only run.
func timingOnly() -> RunOptions {
  var o = RunOptions()
  o.timingOnly = true
  return o
}

/// Run options that keep the trace (up to 1,000 events), for tests that read event times.
func traced() -> RunOptions {
  var o = RunOptions()
  o.traceEventLimit = 1000
  return o
}

/// The trace events of instruction `name` (e.g. `dma.load`), in the order they were recorded.
func events(_ r: RunResult, _ name: String) -> [Trace.Event] {
  r.trace.events.filter { r.trace.names[Int($0.name)] == name }
}

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

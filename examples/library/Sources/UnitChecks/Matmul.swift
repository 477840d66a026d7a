import FP8ISA
import FP8Sim

/// An `m`×`n`×`k` FP8 matmul, built as a value: A (all 1) and B (all 0.5) come from DRAM, the
/// tensor unit multiplies them into an f32 accumulator, C goes back to DRAM. Every value of C is
/// `k · 0.5`. Every tile runs the whole program: run it on a one-tile device. `build()` prints
/// the program and assembles the text, so it is checked exactly as a written `.isa` file.
public func matmulProgram(m: Int, n: Int, k: Int) throws(DiagnosticList) -> Program {
  var p = ProgramBuilder(path: "matmul.isa")
  let dramA = p.tensor("A", .fp8e4, [m, k], .dram, .constant(1.0))
  let dramB = p.tensor("B", .fp8e4, [k, n], .dram, .constant(0.5))
  let dramC = p.tensor("C", .format(.f32), [m, n], .dram)
  let a = p.tensor("a", .fp8e4, [m, k], .sram)
  let b = p.tensor("b", .fp8e4, [k, n], .sram)
  let c = p.tensor("c", .format(.f32), [m, n], .sram)
  p.output(dramC)
  p.emit(.dma(Transfer(.load, destination: a.all, source: dramA.all)))
  p.emit(.dma(Transfer(.load, destination: b.all, source: dramB.all)))
  p.emit(.dmaWait(keep: 0))
  p.emit(.mma(MatrixMultiply(d: c.all, a: a.all, b: b.all, clear: true)))
  p.emit(.dma(Transfer(.store, destination: dramC.all, source: c.all)))
  p.emit(.dmaWait(keep: 0))
  p.emit(.halt)
  return try p.build()
}

/// Runs `program` on `device` with a trace; returns the result and how many cycles the tensor
/// unit spent on each `mma` (trace events are named after their instruction: "mma 16×16×32").
public func runTraced(_ program: Program, on device: DeviceConfig) throws(RuntimeFault)
  -> (result: RunResult, mmaCycles: [Int64])
{
  var options = RunOptions()
  options.traceEventLimit = 1000
  let result = try Machine(program: program, device: device, options: options).run()
  let mmas = result.trace.events.filter { result.trace.names[Int($0.name)].hasPrefix("mma ") }
  return (result, mmas.map { $0.end - $0.start })
}

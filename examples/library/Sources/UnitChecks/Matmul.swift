import FP8ISA
import FP8Sim

/// An `m`×`n`×`k` FP8 matmul: A (all 1) and B (all 0.5) come from DRAM, the tensor unit
/// multiplies them into an f32 accumulator, C goes back to DRAM. Every value of C is `k · 0.5`.
/// Every tile runs the whole program: run it on a one-tile device.
public func matmulProgram(m: Int, n: Int, k: Int) throws(DiagnosticList) -> Program {
  try Assembler.assemble(
    text: """
      .tensor A fp8e4 [\(m), \(k)] dram const(1.0)
      .tensor B fp8e4 [\(k), \(n)] dram const(0.5)
      .tensor C f32   [\(m), \(n)] dram
      .tensor a fp8e4 [\(m), \(k)] sram
      .tensor b fp8e4 [\(k), \(n)] sram
      .tensor c f32   [\(m), \(n)] sram
      .output C
              dma.load a, A
              dma.load b, B
              dma.wait
              mma   c, a, b, clear=1
              dma.store C, c
              dma.wait
              halt
      """, path: "matmul.isa")
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

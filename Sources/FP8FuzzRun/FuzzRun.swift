// libFuzzer harness for assembling and running small programs on the teaching device.
//
//   swift build -c release --product FP8FuzzRun --sanitize fuzzer -Xswiftc -parse-as-library
//   .build/release/FP8FuzzRun Tests/FP8SimTests/FuzzCases/run -max_total_time=600
//
// Programs run with small limits (10,000 instructions, 2^20 values); any input must finish
// with a report or a runtime fault, and its numeric and timing-only runs must agree
// (`FuzzLimits.disagreement`: same cycles, or a fault the numeric run alone may raise).
import FP8FuzzSupport
import FP8ISA
import FP8Sim

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRun(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  guard
    let program = try? Assembler.assemble(
      text: text, path: "fuzz.isa", options: Assembler.Options(checkDataFiles: false))
  else { return 0 }
  if let problem = FuzzLimits.disagreement(program, FuzzLimits.run(program)) {
    fatalError("numeric and timing-only runs disagree: \(problem)")
  }
  return 0
}

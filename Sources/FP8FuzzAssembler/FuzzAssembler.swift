// libFuzzer harness for the assembler. Build and run (see docs/performance.md, "Fuzzing"):
//
//   swift build -c release --product FP8FuzzAssembler --sanitize fuzzer -Xswiftc -parse-as-library
//   .build/release/FP8FuzzAssembler Tests/FP8ISATests/FuzzCases/assembler -max_total_time=600
//
// Any input must either assemble or produce diagnostics; a crash, hang or unbounded
// allocation is a bug. A plain `swift build` builds this target as an empty program.
import FP8ISA

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAssembler(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  if let program = try? Assembler.assemble(
    text: text, path: "fuzz.isa", options: Assembler.Options(checkDataFiles: false))
  {
    // The canonical text must assemble to the same program.
    let printed = Disassembler.text(of: program)
    guard
      let again = try? Assembler.assemble(text: printed, options: Assembler.Options(checkDataFiles: false)),
      again.sameMeaning(as: program)
    else {
      fatalError("canonical text does not round-trip:\n\(printed)")
    }
  }
  return 0
}

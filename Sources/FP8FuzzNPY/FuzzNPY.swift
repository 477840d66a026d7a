import FP8Data
// libFuzzer harness for the `.npy` reader, in memory (no files). Build and run (see
// docs/performance.md, "Fuzzing"):
//
//   swift build --product FP8FuzzNPY --sanitize fuzzer -Xswiftc -parse-as-library --build-path .build-fuzz
//   .build-fuzz/debug/FP8FuzzNPY corpus Tests/FP8ISATests/FuzzCases/npy -max_total_time=600
//
// Any bytes must give a header whose data the file holds (and whose values decode) or an error.
import FP8Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  guard let header = try? ArrayFile.header(in: bytes, path: "fuzz.npy") else { return 0 }
  // Raw codes of width 1 or 2 decode with an 8- or 16-bit format: every code fits.
  let format: FloatFormat = header.element.byteWidth == 2 ? .bf16 : .e4m3fn
  guard let values = try? ArrayFile.values(in: bytes, header: header, rawFormat: format, path: "fuzz.npy"),
    values.count == header.elementCount
  else { fatalError("the values of an accepted header do not decode: \(header)") }
  return 0
}

import FP8Data
// libFuzzer harness for the `.safetensors` reader (its JSON header goes through JSONParser), in
// memory (no files). Build and run (see docs/performance.md, "Fuzzing"):
//
//   swift build --product FP8FuzzSafetensors --sanitize fuzzer -Xswiftc -parse-as-library --build-path .build-fuzz
//   .build-fuzz/debug/FP8FuzzSafetensors corpus Tests/FP8ISATests/FuzzCases/safetensors -max_total_time=600
//
// Any bytes must give tensor "w"'s header, whose data the file holds and whose values decode, or
// an error.
import FP8Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let path = "fuzz.safetensors"
  guard let header = try? ArrayFile.header(in: bytes, path: path, tensor: "w") else { return 0 }
  guard let values = try? ArrayFile.values(in: bytes, header: header, rawFormat: .f32, path: path),
    values.count == header.elementCount
  else { fatalError("the values of an accepted header do not decode: \(header)") }
  return 0
}

// libFuzzer harness for device files (JSON5 through JSONParser, then field checks). Build and
// run (see docs/performance.md, "Fuzzing"):
//
//   swift build --product FP8FuzzDevice --sanitize fuzzer -Xswiftc -parse-as-library --build-path .build-fuzz
//   .build-fuzz/debug/FP8FuzzDevice corpus Tests/FP8SimTests/FuzzCases/device -max_total_time=600
//
// Any input must load or give problems; a device that loads must print (`json5()`) as a file
// that loads back to the same device.
import FP8Sim
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDevice(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(UnsafeBufferPointer(start: data, count: size))
  do {
    let device = try DeviceConfig.parse(bytes, path: "fuzz.json")
    let again = try DeviceConfig.parse(Data(device.json5().utf8), path: "dump.json")
    guard again == device else { fatalError("json5() does not round-trip:\n\(device.json5())") }
  } catch {
    guard !error.problems.isEmpty else { fatalError("rejected without a problem") }
  }
  return 0
}

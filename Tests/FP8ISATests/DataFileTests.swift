import FP8Formats
import Foundation
import Testing

@testable import FP8ISA

/// `.npy` and `.safetensors`: headers of files written here, values read back, and a clear error
/// for every kind of malformed file.
@Suite struct DataFileTests {
  static func littleEndian(_ values: [Float]) -> Data {
    var d = Data()
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
    return d
  }

  @Test func npyHeaderAndValues() throws {
    let dir = try temporaryFolder()
    let url = dir.appendingPathComponent("x.npy")
    try NPY.write(url, shape: [2, 3], descr: "<f4", data: Self.littleEndian([1, 2, 3, -4, 0.5, 1e-3]))
    let h = try ArrayFile.header(of: url)
    #expect(h.shape == [2, 3] && h.element == .float32 && !h.bigEndian)
    #expect(h.dataOffset % 64 == 0)
    let v = try ArrayFile.readValues(url, header: h, rawFormat: .f32)
    #expect(v == [1, 2, 3, -4, 0.5, Double(Float(1e-3))])
    // A program can declare a tensor from it.
    let p = try assembleOK(".tensor X f16 [2, 3] dram npy(\"x.npy\")\n", base: dir)
    #expect(p.tensors[0].initializer == .npy(path: "x.npy"))
  }

  @Test func npyRawCodesAsMLDtypesSavesThem() throws {
    let dir = try temporaryFolder()
    let url = dir.appendingPathComponent("codes.npy")
    try NPY.write(url, shape: [4], descr: "<V1", data: Data([0x38, 0x7E, 0xFF, 0x01]))
    let h = try ArrayFile.header(of: url)
    #expect(h.element == .rawCodes(bytes: 1))
    let v = try ArrayFile.readValues(url, header: h, rawFormat: .e4m3fn)
    #expect(v[0] == 1 && v[1] == 448 && v[2].isNaN && v[3] == 0x1p-9)
    #expect(throws: DataFileError.self) { try ArrayFile.readValues(url, header: h, rawFormat: .f16) }
  }

  @Test func npyVersion2AndBigEndian() throws {
    let dir = try temporaryFolder()
    let url = dir.appendingPathComponent("v2.npy")
    let header = "{'descr': '>f2', 'fortran_order': False, 'shape': (2,), }"
    var file = Data(NPY.magic + [2, 0])
    let n = header.utf8.count + 1
    file.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8), 0, 0])
    file.append(contentsOf: Array(header.utf8) + [0x0A])
    file.append(contentsOf: [0x3C, 0x00, 0xC0, 0x00])  // 1.0, -2.0 big-endian f16
    try file.write(to: url)
    let h = try ArrayFile.header(of: url)
    #expect(h.bigEndian && h.element == .float16)
    #expect(try ArrayFile.readValues(url, header: h, rawFormat: .f16) == [1, -2])
  }

  struct Malformed: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var message: String
    var testDescription: String { name }
  }

  static func npyBytes(_ header: String, data: Int) -> [UInt8] {
    let h = Array(header.utf8) + [0x0A]
    return NPY.magic + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h
      + Array(repeating: 0, count: data)
  }

  @Test(arguments: [
    Malformed(name: "empty", bytes: [], message: "too short"),
    Malformed(name: "magic", bytes: Array("NOTNUMPY0000".utf8), message: "bad magic bytes"),
    Malformed(name: "version", bytes: NPY.magic + [9, 0, 0, 0], message: "unsupported .npy version 9.0"),
    Malformed(
      name: "length", bytes: NPY.magic + [1, 0, 0xFF, 0xFF], message: "malformed .npy header length"),
    Malformed(
      name: "dict", bytes: npyBytes("{'descr': '<f4', 'shape': (2,", data: 8),
      message: "malformed .npy header"),
    Malformed(
      name: "fortran", bytes: npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", data: 8),
      message: "Fortran-order"),
    Malformed(
      name: "dtype", bytes: npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", data: 8),
      message: "unsupported dtype '<i4'"),
    Malformed(
      name: "truncated",
      bytes: npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data: 20),
      message: "file is truncated"),
    Malformed(
      name: "huge",
      bytes: npyBytes(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 8), }", data: 8),
      message: "has too many elements"),
    Malformed(
      name: "negative",
      bytes: npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data: 8),
      message: "malformed .npy shape"),
  ])
  func malformedNPYIsRejected(m: Malformed) throws {
    let dir = try temporaryFolder()
    let url = dir.appendingPathComponent("bad.npy")
    try Data(m.bytes).write(to: url)
    #expect {
      _ = try ArrayFile.header(of: url)
    } throws: { error in
      (error as? DataFileError)?.message.contains(m.message) == true
    }
  }

  @Test func safetensorsHeaderAndValues() throws {
    let dir = try temporaryFolder()
    let url = dir.appendingPathComponent("w.safetensors")
    try Safetensors.write(
      url,
      tensors: [
        ("w", "F32", [2, 2], Self.littleEndian([1, -1, 0.25, 8])),
        ("q", "F8_E4M3", [3], Data([0x38, 0x40, 0xB8])),
      ])
    let w = try ArrayFile.header(of: url, tensor: "w")
    #expect(w.shape == [2, 2] && w.element == .float32)
    #expect(try ArrayFile.readValues(url, header: w, rawFormat: .f32) == [1, -1, 0.25, 8])
    let q = try ArrayFile.header(of: url, tensor: "q")
    #expect(q.element == .float8(.e4m3fn))
    #expect(try ArrayFile.readValues(url, header: q, rawFormat: .f32) == [1, 2, -1])
    let p = try assembleOK(".tensor W f32 [2, 2] dram safetensors(\"w.safetensors\", \"w\")\n", base: dir)
    #expect(p.tensors[0].initializer == .safetensors(path: "w.safetensors", name: "w"))
  }

  static func safetensorsBytes(_ json: String, data: Int) -> [UInt8] {
    let j = Array(json.utf8)
    var n = UInt64(j.count)
    var bytes: [UInt8] = []
    for _ in 0..<8 {
      bytes.append(UInt8(n & 0xFF))
      n >>= 8
    }
    return bytes + j + Array(repeating: 0, count: data)
  }

  @Test(arguments: [
    Malformed(name: "short", bytes: [1, 2], message: "too short"),
    Malformed(
      name: "length", bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0],
      message: "malformed .safetensors header length"),
    Malformed(name: "json", bytes: safetensorsBytes("{not json", data: 0), message: "not a JSON object"),
    Malformed(
      name: "missing",
      bytes: safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: 4),
      message: "no tensor 'w' (the file has: a)"),
    Malformed(
      name: "dtype",
      bytes: safetensorsBytes(#"{"w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}"#, data: 8),
      message: "unsupported dtype 'I64'"),
    Malformed(
      name: "offsets",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, data: 8),
      message: "span 4 bytes"),
    Malformed(
      name: "past end",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#, data: 8),
      message: "past the end"),
    Malformed(
      name: "entry", bytes: safetensorsBytes(#"{"w": {"dtype": "F32"}}"#, data: 0), message: "malformed entry"
    ),
    Malformed(
      name: "reversed",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}"#, data: 8),
      message: "malformed data_offsets"),
  ])
  func malformedSafetensorsIsRejected(m: Malformed) throws {
    let dir = try temporaryFolder()
    let url = dir.appendingPathComponent("bad.safetensors")
    try Data(m.bytes).write(to: url)
    #expect {
      _ = try ArrayFile.header(of: url, tensor: "w")
    } throws: { error in
      (error as? DataFileError)?.message.contains(m.message) == true
    }
  }

  @Test func declarationMustMatchTheFileShape() throws {
    let dir = try temporaryFolder()
    try NPY.write(
      dir.appendingPathComponent("x.npy"), shape: [3], descr: "<f4", data: Self.littleEndian([1, 2, 3]))
    let found = diagnostics(".tensor X f16 [4] dram npy(\"x.npy\")\n", base: dir)
    #expect(found.map(\.message.id) == ["dataFile"])
    #expect(found.first?.message.text.contains("shape [3] does not match the declared [4]") == true)
    #expect(found.first?.location.column == 24)
  }
}

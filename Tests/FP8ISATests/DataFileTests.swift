import FP8Formats
import Foundation
import Testing

@testable import FP8Data
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
    #expect(throws: DataFileError(url.path, "1-byte raw codes cannot hold f16 values (2 bytes each)")) {
      try ArrayFile.readValues(url, header: h, rawFormat: .f16)
    }
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
    Malformed(name: "empty", bytes: [], message: "not a .npy file: too short"),
    Malformed(name: "magic", bytes: Array("NOTNUMPY0000".utf8), message: "not a .npy file: bad magic bytes"),
    Malformed(name: "version", bytes: NPY.magic + [9, 0, 0, 0], message: "unsupported .npy version 9.0"),
    Malformed(
      name: "length", bytes: NPY.magic + [1, 0, 0xFF, 0xFF], message: "malformed .npy header length 65535"),
    Malformed(
      name: "length v2", bytes: NPY.magic + [2, 0, 0xFF, 0xFF, 0xFF, 0x7F],
      message: "malformed .npy header length 2147483647"),
    Malformed(
      name: "dict", bytes: npyBytes("{'descr': '<f4', 'shape': (2,", data: 8),
      message: "malformed .npy header: unexpected end of the header at column 31"),
    Malformed(
      name: "fortran", bytes: npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", data: 8),
      message: "Fortran-order arrays are not supported; save with C order"),
    Malformed(
      name: "fortran not a bool",
      bytes: npyBytes("{'descr': '<f4', 'fortran_order': 'no', 'shape': (2,), }", data: 8),
      message: "malformed .npy header: 'fortran_order' must be True or False"),
    Malformed(
      name: "dtype", bytes: npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", data: 8),
      message: "unsupported dtype '<i4' (supported: f2, f4, f8, and raw codes V1/u1/V2/u2)"),
    Malformed(
      name: "truncated",
      bytes: npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data: 20),
      message: "file is truncated: shape [2, 3] of float32 needs 24 bytes of data"),
    Malformed(
      name: "huge",
      bytes: npyBytes(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 8), }", data: 8),
      message: "shape [4611686018427387904, 8] has too many elements"),
    Malformed(
      name: "huge bytes",
      bytes: npyBytes(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976, 2), }", data: 8),
      message: "shape [1152921504606846976, 2] of float64 needs more than 9223372036854775807 bytes"),
    Malformed(
      name: "past Int",
      bytes: npyBytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", data: 8),
      message: "malformed .npy header: integer 99999999999999999999 is out of range at column 52"),
    Malformed(
      name: "negative",
      bytes: npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data: 8),
      message: "malformed .npy shape"),
    Malformed(
      name: "fraction",
      bytes: npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }", data: 8),
      message: "malformed .npy header: expected ',' or ')' at column 53"),
    Malformed(
      name: "duplicate key",
      bytes: npyBytes("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", data: 8),
      message: "malformed .npy header: duplicate key 'descr' at column 18"),
    Malformed(
      name: "deep",
      bytes: npyBytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 50_000), data: 8),
      message: "malformed .npy header: nested more than 64 levels deep at column 114"),
  ])
  func malformedNPYIsRejected(m: Malformed) throws {
    let dir = try temporaryFolder()
    let url = dir.appendingPathComponent("bad.npy")
    try Data(m.bytes).write(to: url)
    #expect(throws: DataFileError(url.path, m.message)) { try ArrayFile.header(of: url) }
    // The in-memory reader (the fuzzers') says the same.
    #expect(throws: DataFileError("bad.npy", m.message)) {
      try ArrayFile.header(in: m.bytes, path: "bad.npy")
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
    Malformed(name: "short", bytes: [1, 2], message: "not a .safetensors file: too short"),
    Malformed(
      name: "length", bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0],
      message: "malformed .safetensors header length 1099511627775"),
    Malformed(
      name: "json", bytes: safetensorsBytes("{not json", data: 0),
      message: "malformed .safetensors header: 1:2: expected a quoted key or '}', found 'n'"),
    Malformed(
      name: "not an object", bytes: safetensorsBytes("[1]", data: 0),
      message: "malformed .safetensors header: not a JSON object"),
    Malformed(
      name: "missing",
      bytes: safetensorsBytes(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: 4),
      message: "no tensor 'w' (the file has: a)"),
    Malformed(
      name: "dtype",
      bytes: safetensorsBytes(#"{"w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}"#, data: 8),
      message: "unsupported dtype 'I64' for 'w' (F16, BF16, F32, F64, F8_E4M3, F8_E5M2)"),
    Malformed(
      name: "offsets",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, data: 8),
      message: "data_offsets of 'w' span 4 bytes, shape [2] of float32 needs 8"),
    Malformed(
      name: "past end",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#, data: 8),
      message:
        "data of 'w' extends past the end of the file (data_offsets end at 16, the data section has 8 bytes)"),
    Malformed(
      name: "entry", bytes: safetensorsBytes(#"{"w": {"dtype": "F32"}}"#, data: 0),
      message: "malformed entry for 'w': 'shape' must be a list of integers"),
    Malformed(
      name: "entry not an object", bytes: safetensorsBytes(#"{"w": 3}"#, data: 0),
      message: "malformed entry for 'w': expected an object, got a number"),
    Malformed(
      name: "reversed",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}"#, data: 8),
      message: "malformed data_offsets for 'w': begin 8 is after end 4"),
    // Issue 9: offsets near 2^63 trapped; fractions were truncated.
    Malformed(
      name: "huge offsets",
      bytes: safetensorsBytes(
        #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [9223372036854775807, 9223372036854775807]}}"#,
        data: 8),
      message:
        "data of 'w' extends past the end of the file (data_offsets end at 9223372036854775807, the data section has 8 bytes)"
    ),
    Malformed(
      name: "offsets past Int64",
      bytes: safetensorsBytes(
        #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551616]}}"#, data: 8),
      message: "malformed data_offsets for 'w': 18446744073709551616 is too large"),
    Malformed(
      name: "fractional offsets",
      bytes: safetensorsBytes(
        #"{"w": {"dtype": "F32", "shape": [16], "data_offsets": [0.5, 64.5]}}"#, data: 80),
      message: "malformed data_offsets for 'w': 0.5 is not an integer"),
    Malformed(
      name: "fractional shape",
      bytes: safetensorsBytes(
        #"{"w": {"dtype": "F32", "shape": [4.7, 4.2], "data_offsets": [0, 64]}}"#, data: 64),
      message: "malformed shape for 'w': 4.7 is not an integer"),
    Malformed(
      name: "exponent shape",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [1e300], "data_offsets": [0, 4]}}"#, data: 4),
      message: "malformed shape for 'w': 1e300 is too large"),
    Malformed(
      name: "negative offsets",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}"#, data: 8),
      message: "malformed data_offsets for 'w': -4 is negative"),
    Malformed(
      name: "negative shape",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, data: 8),
      message: "malformed shape for 'w': -1 is negative"),
    Malformed(
      name: "string shape",
      bytes: safetensorsBytes(#"{"w": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}}"#, data: 8),
      message: "malformed shape for 'w': expected an integer, got a string"),
    Malformed(
      name: "shape overflow",
      bytes: safetensorsBytes(
        #"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}"#, data: 8),
      message: "shape [4294967296, 4294967296] has too many elements"),
    Malformed(
      name: "byte count overflow",
      bytes: safetensorsBytes(
        #"{"w": {"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 8]}}"#, data: 8),
      message: "shape [4611686018427387904] of float32 needs more than 9223372036854775807 bytes"),
    Malformed(
      name: "overlap",
      bytes: safetensorsBytes(
        #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#,
        data: 12),
      message: "data of 'a' (bytes 0..<8) and 'w' (bytes 4..<12) overlap"),
    Malformed(
      name: "another tensor past the end",
      bytes: safetensorsBytes(
        #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "I8", "shape": [9], "data_offsets": [4, 13]}}"#,
        data: 8),
      message:
        "data of 'b' extends past the end of the file (data_offsets end at 13, the data section has 8 bytes)"),
    Malformed(
      name: "duplicate tensor",
      bytes: safetensorsBytes(
        #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#,
        data: 8),
      message: "malformed .safetensors header: 1:63: duplicate key 'w' (first at 1:2)"),
    Malformed(
      name: "duplicate field",
      bytes: safetensorsBytes(
        #"{"w": {"dtype": "F32", "shape": [1], "shape": [2], "data_offsets": [0, 4]}}"#, data: 8),
      message: "malformed .safetensors header: 1:38: duplicate key 'shape' (first at 1:24)"),
    Malformed(
      name: "deep metadata",
      bytes: safetensorsBytes(#"{"__metadata__": "# + String(repeating: "[", count: 100_000), data: 0),
      message: "malformed .safetensors header: 1:81: nested more than 64 levels deep"),
  ])
  func malformedSafetensorsIsRejected(m: Malformed) throws {
    let dir = try temporaryFolder()
    let url = dir.appendingPathComponent("bad.safetensors")
    try Data(m.bytes).write(to: url)
    #expect(throws: DataFileError(url.path, m.message)) { try ArrayFile.header(of: url, tensor: "w") }
    #expect(throws: DataFileError("bad.safetensors", m.message)) {
      try ArrayFile.header(in: m.bytes, path: "bad.safetensors", tensor: "w")
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

  /// Issue 9: raw codes of the wrong width are an assembly error (`fp8sim check` fails), not a
  /// runtime fault.
  @Test func rawCodesMustHaveTheTensorsWidth() throws {
    let dir = try temporaryFolder()
    try NPY.write(dir.appendingPathComponent("c1.npy"), shape: [4], descr: "<V1", data: Data([1, 2, 3, 4]))
    try NPY.write(
      dir.appendingPathComponent("c2.npy"), shape: [2], descr: "<u2", data: Data([0, 0x3C, 0, 0x40]))
    let found = diagnostics(
      ".tensor X f16 [4] dram npy(\"c1.npy\")\n.tensor Y fp8e4 [2] dram npy(\"c2.npy\")\n", base: dir)
    #expect(
      found.map(\.message.text) == [
        "data file error: c1.npy: 1-byte raw codes cannot hold f16 values (2 bytes each)",
        "data file error: c2.npy: 2-byte raw codes cannot hold fp8e4 values (1 byte each)",
      ])
    #expect(found.map(\.location.line) == [1, 2] && found.map(\.location.column) == [24, 26])
    // Codes of the tensor's own width assemble.
    _ = try assembleOK(
      ".tensor X e4m3fn [4] dram npy(\"c1.npy\")\n.tensor Y bf16 [2] dram npy(\"c2.npy\")\n", base: dir)
  }

  /// Raw codes with bits above the format's width would be masked silently; they are an error.
  @Test func rawCodesMustFitTheFormatsBits() throws {
    let narrow = FloatFormat(name: "e2m1", exponentBits: 2, mantissaBits: 1, bias: 1, specials: .fnuz)
    let file =
      Self.npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", data: 0) + [0x07, 0x1F]
    let header = try ArrayFile.header(in: file, path: "c.npy")
    #expect(throws: DataFileError("c.npy", "raw code 0x1F of element 1 does not fit e2m1 (4 bits)")) {
      try ArrayFile.values(in: file, header: header, rawFormat: narrow, path: "c.npy")
    }
    #expect(
      try ArrayFile.values(
        in: Array(file.dropLast()) + [0x01], header: header, rawFormat: narrow, path: "c.npy"
      ).count == 2)
  }
}

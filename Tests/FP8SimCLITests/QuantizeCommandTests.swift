import Foundation
import Testing

@testable import FP8SimCLI

/// The `quantize` and `formats` contract that scripts depend on.
@Suite struct QuantizeCommandTests {
  @Test func printsCodeAndExactValuePerArgument() {
    let r = runCLI(["quantize", "--format", "e4m3fn", "1.0625", "465", "-0", "nan", "-inf", "0.3"])
    #expect(r.status == .success)
    #expect(r.stdout == "0x38 1.0\n0x7F nan\n0x80 -0.0\n0x7F nan\n0xFF -nan\n0x2A 0.3125\n")
    #expect(r.stderr.isEmpty)
  }

  @Test func negativeNaNKeepsItsSignWhereTheFormatHasSignedNaNs() {
    #expect(
      runCLI(["quantize", "--format", "f16", "--", "-nan", "nan"]).stdout == "0xFE00 -nan\n0x7E00 nan\n")
    #expect(runCLI(["quantize", "--format", "e5m2", "--", "-nan"]).stdout == "0xFE -nan\n")
    #expect(runCLI(["quantize", "--format", "bf16", "--", "-nan"]).stdout == "0xFFC0 -nan\n")
    #expect(runCLI(["quantize", "--format", "f32", "--", "-nan"]).stdout == "0xFFC00000 -nan\n")
    // fnuz formats: the single NaN 0x80 (its sign bit is not a NaN sign).
    #expect(
      runCLI(["quantize", "--format", "e4m3fnuz", "--", "-nan", "nan"]).stdout == "0x80 nan\n0x80 nan\n")
  }

  /// The OCP MX formats: two hex digits per code; FP4/FP6 saturate and mark a NaN (which they
  /// cannot hold); E8M0 rounds to powers of two, ties up, with NaN for zero and negative values.
  @Test func mxFormatsPrintTwoDigitCodesAndMarkNaN() {
    let fp4 = runCLI([
      "quantize", "--format", "float4_e2m1fn", "--", "0.25", "0.75", "5", "-100", "nan", "inf",
    ])
    #expect(fp4.status == .success)
    #expect(
      fp4.stdout == "0x00 0.0\n0x02 1.0\n0x06 4.0\n0x0F -6.0\n0x08 -0.0  # NaN: e2m1fn has no NaN\n0x07 6.0\n"
    )
    let fp6 = runCLI(["quantize", "--format", "e3m2fn", "--scale-bias", "2", "--", "7.1", "-0.01"])
    // 7.1·4 = 28.4 → 28 (max) → 7.0; −0.04 → −0.0625 (the smallest subnormal, sign bit 0x20).
    #expect(fp6.stdout == "0x1F 7.0\n0x21 -0.015625\n")
    let e8 = runCLI(["quantize", "--format", "e8m0fnu", "--", "1.5", "3", "0.75", "0", "-2", "1e39"])
    #expect(e8.stdout == "0x80 2.0\n0x81 4.0\n0x7F 1.0\n0xFF nan\n0xFF nan\n0xFF nan\n")
  }

  /// `--block`: the values as one row of a block-scaled tensor; each block's scale, then code
  /// and value per element, then the bytes. MXFP4 by hand: amax 12 → X = 2^(3 − 2); 7/2 = 3.5
  /// ties to 4 (value 8); 6 FP4 codes are 3 bytes, plus one scale byte.
  @Test func blockScalingPrintsScalesCodesAndBytes() {
    let mx = runCLI(["quantize", "--block", "mxfp4", "--", "0.1", "0.2", "-3", "7", "12", "0.01"])
    #expect(mx.status == .success, "\(mx.stderr)")
    #expect(
      mx.stdout == """
        # mxfp4: e2m1fn elements, one e8m0fnu scale per 32 values
        # block 0: scale 0x80 = 2.0
        0x00 0.0
        0x00 0.0
        0x0B -3.0
        0x06 8.0
        0x07 12.0
        0x00 0.0
        # 6 values in 1 block: 3 bytes of elements, 1 of scales, 5.33 bits per value
        # casts: 1 rounded, 3 underflowed to zero, 0 saturated, 0 NaN

        """)
    // A scale that underflows (E4M3 scales for amax below 0.4375 with E4M3 elements) or
    // saturates is visible: the block is marked, the casts are counted.
    let low = runCLI(["quantize", "--block", "e4m3fn_e4m3fn_1x16", "--", "0.3", "-0.2", "0"])
    #expect(low.stdout.contains("scale 0x00 = 0.0 (the scale underflowed: every value of the block is zero)"))
    #expect(low.stdout.contains("# casts: 0 rounded, 2 underflowed to zero, 0 saturated, 0 NaN"))
    let zeros = runCLI(["quantize", "--block", "e4m3fn_f32_1x2", "--", "0", "0"])
    #expect(zeros.stdout.contains("# block 0: scale 0x00000000 = 0.0\n"))
    let high = runCLI(["quantize", "--block", "e4m3fn_e4m3fn_1x2", "--", "1e6", "1"])
    #expect(high.stdout.contains("0x7E 200704.0\n") && high.stdout.contains("1 saturated"))
    let nan = runCLI(
      ["quantize", "--block", "nvfp4"],
      stdin: Array(repeating: "1.5", count: 16).joined(separator: " ") + " inf")
    #expect(
      nan.stdout.contains(
        "# block 0: scale 0x7F = nan (the tensor scale is NaN: the row holds a NaN or an infinity"))
    #expect(
      runCLI(["quantize", "--block", "mxfp4"]).stdout.hasSuffix(
        "# 0 values in 0 blocks\n# casts: 0 rounded, 0 underflowed to zero, 0 saturated, 0 NaN\n"))
    // NVFP4: the tensor scale amax/2688 in f32 and E4M3 block scales; 17 values, 2 blocks.
    let nv = runCLI(
      ["quantize", "--block", "nvfp4"], stdin: (1...17).map(String.init).joined(separator: " "))
    #expect(nv.stdout.hasPrefix("# nvfp4: e2m1fn elements, one e4m3fn scale per 16 values\n# tensor scale "))
    #expect(
      nv.stdout.contains("# 17 values in 2 blocks: 9 bytes of elements, 6 of scales, 7.06 bits per value"))
    let general = runCLI(["quantize", "--block", "e4m3fn_f32_1x2", "--", "448", "1"])
    #expect(general.stdout.contains("# block 0: scale 0x3F800000 = 1.0\n0x7E 448.0\n0x38 1.0\n"))
    for (args, message) in [
      (["--block", "mxfp4_t", "1"], "blocks must be 1×N"),
      (
        ["--block", "mxfp4", "--rounding", "toward-zero", "1"],
        "option '--rounding' does not apply to '--block'"
      ),
      (["--block", "mxfp9", "1"], "unknown block scheme 'mxfp9'"),
      (["--block", "e4m3fn_f32_1x0", "1"], "unknown block scheme"),
      (["--block", "mxfp4", "x"], "invalid number 'x'"),
    ] {
      let r = runCLI(["quantize"] + args)
      #expect(r.status == .usage && r.stderr.contains(message), "\(args): \(r.stderr)")
    }
  }

  /// A read of standard input that fails (here: it is a directory) is an I/O error, status 74,
  /// not the end of the input.
  @Test func aFailedReadOfStandardInputIsAnError() throws {
    for args in [["quantize", "--format", "e2m1fn"], ["quantize", "--block", "mxfp4"]] {
      let process = Process()
      process.executableURL = try builtExecutable()
      process.arguments = args
      process.standardInput = FileHandle(forReadingAtPath: NSTemporaryDirectory())
      let err = Pipe()
      process.standardError = err
      process.standardOutput = Pipe()
      try process.run()
      let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      #expect(process.terminationStatus == 74, "\(args)")
      #expect(text == "fp8sim: error: cannot read standard input: Is a directory\n", "\(args)")
    }
  }

  @Test func formatsListsTheMXFormats() {
    let lines = runCLI(["formats"]).stdout.split(separator: "\n").map {
      $0.split(separator: " ").joined(separator: " ")
    }
    #expect(lines.contains("e2m1fn float4_e2m1fn 4 2 1 1 6.0 1.0 0.5 none none 0x08"))
    #expect(
      lines.contains(
        "e8m0fnu float8_e8m0fnu 8 8 0 127 1.7014118346046923e+38 5.877471754111438e-39 5.877471754111438e-39 0xFF none none"
      ))
  }

  @Test func towardZeroNeverOverflowsToInfinityEvenPastDoubleRange() {
    let r = runCLI([
      "quantize", "--format", "e5m2", "--rounding", "toward-zero", "--scale-bias", "300", "1e300",
    ])
    // 57344 · 2^-300.
    #expect(r.stdout == "0x7B 2.8150705567403283e-86\n")
    let n = runCLI(["quantize", "--format", "e5m2", "--scale-bias", "300", "--", "1e300", "-1e300"])
    #expect(n.stdout == "0x7C inf\n0xFC -inf\n")
  }

  @Test func readsWhitespaceSeparatedStandardInputWhenNoValuesAreGiven() {
    let r = runCLI(["quantize", "--format", "f16"], stdin: "1\n0.1\t65520  -1e-8 -1e-7\n")
    #expect(r.status == .success)
    #expect(
      r.stdout
        == "0x3C00 1.0\n0x2E66 0.0999755859375\n0x7C00 inf\n0x8000 -0.0\n0x8002 -1.1920928955078125e-07\n")
  }

  @Test func scaleBiasSaturateAndAliases() {
    let r = runCLI([
      "quantize", "--format", "float8_e4m3fnuz", "--scale-bias", "3", "--overflow", "saturate",
      "-1.5", "100", "0.0001",
    ])
    // -1.5·8 = -12 → 0xDC; 100·8 = 800 saturates to 240 → 30; 0.0008 → 0.0009765625 (code 0x01).
    #expect(r.stdout == "0xDC -1.5\n0x7F 30.0\n0x01 0.0001220703125\n")
  }

  @Test func stochasticRoundingIsRepeatableWithASeed() {
    let args =
      ["quantize", "--format", "e5m2", "--rounding", "stochastic", "--seed", "9"]
      + Array(repeating: "1.1", count: 32)
    let a = runCLI(args)
    let b = runCLI(args)
    #expect(a.stdout == b.stdout)
    let lines = Set(a.stdout.split(separator: "\n"))
    #expect(lines == ["0x3C 1.0", "0x3D 1.25"])
    let c = runCLI(args.map { $0 == "9" ? "10" : $0 })
    #expect(c.stdout != a.stdout)
  }

  @Test(arguments: [
    (["quantize", "1.0"], "missing required option '--format F'"),
    (["quantize", "--format", "e4m3", "1"], "unknown format 'e4m3'"),
    (["quantize", "--format", "f16", "abc"], "invalid number 'abc'"),
    (
      ["quantize", "--format", "f16", "--rounding", "up", "1"],
      "option '--rounding' must be one of nearest-even, toward-zero, stochastic; got 'up'"
    ),
    (["quantize", "--format", "f16", "--scale-bias", "x"], "option '--scale-bias' needs an integer"),
    (
      ["quantize", "--format", "f16", "--scale-bias", "301", "1"], "needs an integer in -300...300, got '301'"
    ),
    (["quantize", "--format", "f16", "--seed", "-1", "1"], "option '--seed' needs a non-negative integer"),
    (["quantize", "--format", "f16", "--bogus", "1"], "unknown option '--bogus'"),
  ])
  func badInputExitsWithUsageStatus(arguments: [String], message: String) {
    let r = runCLI(arguments)
    #expect(r.status == .usage)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.contains(message), "stderr was: \(r.stderr)")
  }

  @Test func badTokenOnStandardInputStopsTheStreamWithItsPosition() {
    // Standard input is streamed: the values before the bad token have been printed.
    let r = runCLI(["quantize", "--format", "f16"], stdin: "1 2\n  zz\u{1B}[2J 3")
    #expect(r.status == .dataError)
    #expect(r.stdout == "0x3C00 1.0\n0x4000 2.0\n")
    #expect(r.stderr == "<stdin>:2:3: error: invalid number 'zz\\u{1B}[2J'\n")
    // Arguments are all parsed first: nothing on standard output.
    let a = runCLI(["quantize", "--format", "f16", "1", "zz"])
    #expect(a.status == .usage && a.stdout.isEmpty)
    #expect(a.stderr == "fp8sim quantize: error: invalid number 'zz'\n")
  }

  @Test func tokenReaderSplitsAcrossChunksAndBoundsTokens() throws {
    var reader = TokenReader()
    #expect(reader.feed(Array("1.5 -2".utf8)).map(\.text) == ["1.5"])
    let next = reader.feed(Array("5e3\n\n 7".utf8))
    #expect(next.map(\.text) == ["-25e3"])
    #expect(next[0].line == 1 && next[0].column == 5)
    let finished = reader.finish()
    let last = try #require(finished)
    #expect(last.text == "7" && last.line == 3 && last.column == 2)
    // A token too long ends the stream; the tokens before it are kept.
    var long = TokenReader()
    #expect(long.feed(Array("1 2 ".utf8) + [UInt8](repeating: 0x31, count: 2000)).map(\.text) == ["1", "2"])
    #expect(long.failure?.message.hasSuffix("<stdin>:1:5: error: a token longer than 1024 bytes") == true)
  }

  @Test func standardInputIsStreamedByTheRealExecutable() throws {
    // 200,000 values: read and printed chunk by chunk (the closing line counts them).
    let input = String(repeating: "1.0 ", count: 200_000)
    let (status, out, err) = try runExecutable(["quantize", "--format", "e4m3fn"], stdin: input)
    #expect(status == 0 && err.isEmpty)
    #expect(out.split(separator: "\n").count == 200_000)
    // The first line comes out while standard input is still open.
    let first = try firstOutputBeforeInputEnds(
      ["quantize", "--format", "e4m3fn"], first: "1.0\n", seconds: 10)
    #expect(first == "0x38 1.0\n")
  }

  @Test func formatsTableListsEveryFormat() {
    let r = runCLI(["formats"])
    #expect(r.status == .success)
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.count == 13)
    #expect(lines[2].hasPrefix("e4m3fn    float8_e4m3fn       8  4   3     7  448.0"))
    #expect(r.stdout.contains("0x7D-0x7F 0xFD-0xFF"))
    #expect(lines[4].contains("240.0") && lines[4].hasSuffix("none"))
  }

  @Test func realExecutableUsesExitCode64AndStderr() throws {
    let (status, out, err) = try runExecutable(["quantize", "--format", "nope"])
    #expect(status == 64)
    #expect(out.isEmpty)
    #expect(err.hasPrefix("fp8sim quantize: error: unknown format 'nope'"))
    let (ok, out2, _) = try runExecutable(["quantize", "--format", "e4m3fnuz"], stdin: "240 -0 1e9")
    #expect(ok == 0)
    #expect(out2 == "0x7F 240.0\n0x00 0.0\n0x80 nan\n")
  }

  @Test func unknownCommandAndHelp() {
    #expect(runCLI(["frobnicate"]).status == .usage)
    let help = runCLI(["--help"])
    #expect(help.status == .success && help.stdout.contains("quantize"))
    let qh = runCLI(["quantize", "--help"])
    #expect(qh.stdout.hasPrefix("usage: fp8sim quantize --format F"))
  }
}

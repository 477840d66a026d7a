import Testing

@testable import FP8Formats

@Suite struct ErrorMetricsTests {
  @Test func handComputedExample() {
    // signal = 1 + 4 + 9 = 14, noise = 0.01 + 0 + 0.04 = 0.05 → 10·log10(280) dB.
    let m = ErrorMetrics(values: [1.1, 2.0, 2.8], reference: [1.0, 2.0, 3.0])
    #expect((m.snrDB - 24.471580313422193).magnitude < 1e-9)
    #expect((m.maxAbsError - 0.2).magnitude < 1e-12)
    #expect((m.maxRelError - 0.1).magnitude < 1e-12)
    #expect(m.count == 3 && m.nanCount == 0 && m.infCount == 0)
  }

  @Test func exactResultHasInfiniteSNR() {
    let m = ErrorMetrics(values: [1.0, -2.0], reference: [1.0, -2.0])
    #expect(m.snrDB == .infinity)
    #expect(m.maxAbsError == 0)
  }

  @Test func nonFiniteResultsAreCountedAndSinkTheSNR() {
    let m = ErrorMetrics(values: [Double.nan, .infinity, 1.0], reference: [1.0, 2.0, 1.0])
    #expect(m.nanCount == 1 && m.infCount == 1)
    #expect(m.snrDB == -.infinity)
    #expect(m.maxAbsError == 0)  // only finite pairs
  }

  @Test func castCountsAreCarried() {
    var counts = CastCounts()
    for e in [CastEvent.overflow, .overflow, .underflow, .rounded, .exact, .nan] { counts.record(e) }
    let m = ErrorMetrics(values: [1.0], reference: [1.0], casts: counts)
    #expect(m.overflowCount == 2 && m.underflowCount == 1)
    #expect(counts.total == 6 && counts.nan == 1 && counts.rounded == 1)
  }

  @Test func relativeErrorSkipsZeroReference() {
    let m = ErrorMetrics(values: [0.5, 1.0], reference: [0.0, 2.0])
    #expect(m.maxRelError == 0.5)
    #expect(m.maxAbsError == 1.0)
  }
}

@Suite struct ValueTextTests {
  @Test(arguments: [
    ("nan", Double.nan), ("inf", .infinity), ("-inf", -.infinity), ("-0", -0.0),
    ("1e-3", 0.001), ("0x1p-3", 0.125), ("+2.5", 2.5),
  ])
  func parsesNumbers(text: String, value: Double) throws {
    let v = try #require(ValueText.parse(text))
    if value.isNaN { #expect(v.isNaN) } else { #expect(v.bitPattern == value.bitPattern) }
  }

  @Test(arguments: ["", "abc", "1.2.3", "1e", "--1", "0x", "1 2"])
  func rejectsJunk(text: String) {
    #expect(ValueText.parse(text) == nil)
  }

  @Test func exactTextRoundTrips() {
    var rng = SplitMix64(seed: 5)
    for _ in 0..<10_000 {
      let x = Double(bitPattern: rng.next())
      guard x.isFinite else { continue }
      #expect(Double(ValueText.exact(x))!.bitPattern == x.bitPattern)
    }
    #expect(ValueText.exact(-0.0) == "-0.0")
    #expect(ValueText.exact(-.nan) == "nan")
    #expect(ValueText.fixed(2.345, digits: 2) == "2.35")
    #expect(ValueText.fixed(-0.001, digits: 2) == "0.00")
    #expect(ValueText.fixed(-1.5, digits: 0) == "-2")
  }
}

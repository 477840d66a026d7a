import FP8Formats
import FP8ISA

/// The report for people: aligned tables, fixed precision (stable for golden files).
public enum TextReport {
  public static func render(_ r: Report) -> String {
    header(r) + totals(r) + units(r) + traffic(r) + compute(r) + energy(r) + outputs(r) + casts(r)
  }

  /// What ran, on what, with which parameters, and the warnings.
  static func header(_ r: Report) -> String {
    let d = r.device
    var out = "fp8sim run \(r.program)\n"
    out +=
      "device \(d.name): \(d.tiles) tiles @ \(fixed(d.clockGHz, 3)) GHz, fp8e4 = \(d.fp8e4), fp8e5 = \(d.fp8e5)"
    if !r.params.isEmpty {
      out +=
        "\nparams: "
        + r.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
    if r.timingOnly { out += "\ntiming only: values were not computed" }
    for w in r.warnings { out += "\nwarning: " + w }
    return out + "\n\n"
  }

  /// Time and instruction count.
  static func totals(_ r: Report) -> String {
    let perUnit = r.values(.unitInstructions).map {
      "\($0.instance) \(StatKey.unitInstructions.statistic.text($0.value))"
    }
    return "time          \(r.text(.cycles)) cycles = \(r.text(.seconds))\n"
      + "instructions  \(r.text(.instructions)) (\(perUnit.joined(separator: ", ")))\n\n"
  }

  static func units(_ r: Report) -> String {
    "units, summed over tiles\n"
      + statTable(
        r, corner: "unit", .unit,
        [.busyCycles, .utilization, .dependencyStall, .bandwidthStall, .syncStall, .queueStall])
  }

  /// Bytes per boundary, then per DRAM tensor, and how L2 behaved.
  static func traffic(_ r: Report) -> String {
    let boundaries: [StatKey] = [.dramToL2, .l2ToSram, .sramToL2, .l2ToDram, .exchange]
    var out = "\nmemory traffic, bytes\n"
    out += indent(
      TextTable(
        header: ["boundary", "bytes"], rows: boundaries.map { [$0.statistic.label, r.text($0)] },
        rightAligned: [1]
      ).render())
    if !r.instances(.tensor).isEmpty {
      out +=
        "\n"
        + statTable(
          r, corner: "tensor", .tensor, [.tensorDramToL2, .tensorL2ToSram, .tensorSramToL2, .tensorL2ToDram])
    }
    if (r.value(.multicast)?.int ?? 0) > 0 {
      out += "  (multicast loads received \(r.text(.multicast)) more bytes without crossing L2 again)\n"
    }
    if (r.value(.finalWritebackBytes)?.int ?? 0) > 0 {
      out +=
        "  (L2 -> DRAM includes \(r.text(.finalWritebackBytes)) bytes of dirty lines flushed when the run ended)\n"
    }
    out +=
      "  L2: \(r.text(.l2Hits)) hits, \(r.text(.l2Misses)) misses, hit rate \(r.text(.l2HitRate)), \(r.text(.l2Writebacks)) write-backs\n"
    out += "  achieved: DRAM \(r.text(.dramGBps)) GB/s, tile<->L2 \(r.text(.l2GBps)) GB/s\n"
    return out
  }

  /// MACs per input class and per format, efficiency, vector work.
  static func compute(_ r: Report) -> String {
    var out = "\ncompute\n"
    let classes = r.instances(.inputClass).filter { r.value(.macs, $0) != nil }
    if classes.isEmpty {
      out += "  no mma\n"
    } else {
      for k in classes {
        let padded = StatKey.paddedMacs.statistic.text(r.value(.paddedMacs, k) ?? .count(0))
        out += "  \(k) MACs \(r.text(.macs, k)) (padded \(padded))\n"
      }
      for (k, v) in r.values(.macsByFormat) { out += "    \(k)  \(StatKey.macsByFormat.statistic.text(v))\n" }
      out += "  tensor efficiency \(r.text(.tensorEfficiency)), achieved \(r.text(.achievedTFLOPS)) TFLOP/s\n"
    }
    return out + "  vector element ops \(r.text(.vectorElementOps))\n"
  }

  /// The total and each component, in µJ.
  static func energy(_ r: Report) -> String {
    let parts: [StatKey] = [
      .energyTensor, .energyVector, .energySram, .energyL2, .energyDram, .energyExchange,
    ]
    let components = parts.map { "\($0.statistic.label) \(r.text($0))" }.joined(separator: ", ")
    return "\nenergy  \(r.text(.energyTotal)) uJ (\(components))\n"
  }

  static func outputs(_ r: Report) -> String {
    if r.outputs.isEmpty { return "" }
    if r.timingOnly { return "\noutputs vs FP32 shadow\n  (not computed: timing only)\n" }
    let byName = Dictionary(r.outputs.map { ($0.name, $0) }) { a, _ in a }
    return "\noutputs vs FP32 shadow\n"
      + statTable(
        r, corner: "output", .output, [.snrDB, .maxAbsError, .maxRelError, .nan, .inf], heading: \.heading,
        leading: [
          ("shape", { "[" + (byName[$0]?.shape ?? []).map(String.init).joined(separator: ", ") + "]" }),
          ("type", { typeName(byName[$0]) }),
        ])
  }

  /// An output's type as the outputs table shows it: the resolved format (`e4m3fn` for
  /// `fp8e4`), or a block-scaled type's name (its elements' format would hide the scales).
  static func typeName(_ o: Report.Output?) -> String {
    guard let o else { return "" }
    return DType.named(o.dtype)?.blocking == nil ? o.format : o.dtype
  }

  static func casts(_ r: Report) -> String {
    if r.instances(.castTensor).isEmpty || r.timingOnly { return "" }
    return "\ncasts, events over all tiles\n"
      + statTable(
        r, corner: "tensor", .castTensor,
        [.castValues, .castRounded, .castOverflow, .castUnderflow, .castNaN])
  }

  /// One row per instance of `scope`, its name first, then the `leading` columns (left aligned),
  /// then one right-aligned column per statistic. The first column of a group of statistics
  /// names the group (`stall:dependency`).
  static func statTable(
    _ r: Report, corner: String, _ scope: StatScope, _ keys: [StatKey],
    heading: (Statistic) -> String = \.label, leading: [(String, (String) -> String)] = []
  ) -> String {
    let stats = keys.map(\.statistic)
    let headings = stats.indices.map { i in
      // A group's name precedes its first column.
      guard let group = stats[i].group, i == 0 || stats[i - 1].group != group else {
        return heading(stats[i])
      }
      return group + ":" + heading(stats[i])
    }
    let rows = r.instances(scope).map { name in
      [name] + leading.map { $0.1(name) } + keys.map { r.text($0, name) }
    }
    let start = 1 + leading.count
    return indent(
      TextTable(
        header: [corner] + leading.map(\.0) + headings, rows: rows,
        rightAligned: Set(start..<(start + keys.count))
      ).render())
  }

  static func indent(_ s: String) -> String {
    s.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(
      separator: "\n")
  }

  /// 1,234,567
  public static func grouped<T: BinaryInteger>(_ n: T) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return (n < 0 ? "-" : "") + out
  }

  public static func fixed(_ x: Double, _ digits: Int) -> String { ValueText.fixed(x, digits: digits) }
  static func percent(_ x: Double) -> String { fixed(100 * x, 2) + "%" }

  /// 1.234e-03 style, 3 decimals.
  public static func scientific(_ x: Double) -> String {
    if !x.isFinite { return ValueText.fixed(x, digits: 0) }
    if x == 0 { return "0" }
    var e = 0
    var m = x.magnitude
    while m >= 10 {
      m /= 10
      e += 1
    }
    while m < 1 {
      m *= 10
      e -= 1
    }
    var mantissa = fixed(m, 3)
    if mantissa == "10.000" {
      mantissa = "1.000"
      e += 1
    }
    return (x < 0 ? "-" : "") + mantissa + "e" + (e < 0 ? "-" : "+") + (abs(e) < 10 ? "0" : "")
      + String(abs(e))
  }

  static func duration(_ seconds: Double) -> String {
    if seconds >= 1e-3 { return fixed(seconds * 1e3, 3) + " ms" }
    return fixed(seconds * 1e6, 3) + " us"
  }
}

/// An aligned text table: two spaces between columns, optional dashes under the header.
public struct TextTable {
  public var header: [String]
  public var rows: [[String]]
  public var rightAligned: Set<Int>
  public var underline: Bool

  public init(header: [String], rows: [[String]], rightAligned: Set<Int> = [], underline: Bool = false) {
    self.header = header
    self.rows = rows
    self.rightAligned = rightAligned
    self.underline = underline
  }

  public func render() -> String {
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      var parts: [String] = []
      for (i, w) in widths.enumerated() {
        let cell = i < cells.count ? cells[i] : ""
        let pad = String(repeating: " ", count: w - cell.count)
        parts.append(rightAligned.contains(i) ? pad + cell : cell + pad)
      }
      var s = parts.joined(separator: "  ")
      while s.hasSuffix(" ") { s.removeLast() }
      return s
    }
    var lines = [line(header)]
    if underline { lines.append(line(widths.map { String(repeating: "-", count: $0) })) }
    return (lines + rows.map(line)).joined(separator: "\n") + "\n"
  }
}

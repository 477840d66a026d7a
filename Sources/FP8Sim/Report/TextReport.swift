import FP8Formats

/// The report for people: aligned tables, fixed precision (stable for golden files).
public enum TextReport {
  public static func render(_ r: Report) -> String {
    var out = "fp8sim run \(r.program)\n"
    let d = r.device
    out +=
      "device \(d.name): \(d.tiles) tiles @ \(fixed(d.clockGHz, 3)) GHz, fp8e4 = \(d.fp8e4), fp8e5 = \(d.fp8e5)"
    if !r.params.isEmpty {
      out +=
        "\nparams: "
        + r.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
    if r.timingOnly { out += "\ntiming only: values were not computed" }
    for w in r.warnings { out += "\nwarning: " + w }
    out += "\n\n"
    out += "time          \(grouped(r.cycles)) cycles = \(duration(r.seconds))\n"
    let perUnit = ["scalar", "dma", "vector", "tensor"].compactMap { u in
      r.units[u].map { "\(u) \(grouped($0.instructions))" }
    }
    out += "instructions  \(grouped(r.instructions)) (\(perUnit.joined(separator: ", ")))\n\n"

    out += "units, summed over tiles\n"
    var rows: [[String]] = []
    for name in ["scalar", "dma", "vector", "tensor"] {
      guard let u = r.units[name] else { continue }
      rows.append([
        name, grouped(u.busyCycles), percent(u.utilization), grouped(u.stallCycles.dependency),
        grouped(u.stallCycles.bandwidth), grouped(u.stallCycles.sync), grouped(u.stallCycles.queue),
      ])
    }
    out += indent(
      TextTable(
        header: ["unit", "busy", "util", "stall:dependency", "bandwidth", "sync", "queue"], rows: rows,
        rightAligned: [1, 2, 3, 4, 5, 6]
      ).render())

    let b = r.traffic.bytes
    out += "\nmemory traffic, bytes\n"
    out += indent(
      TextTable(
        header: ["boundary", "bytes"],
        rows: [
          ["DRAM -> L2", grouped(b.dramToL2)], ["L2 -> SRAM", grouped(b.l2ToSram)],
          ["SRAM -> L2", grouped(b.sramToL2)],
          ["L2 -> DRAM", grouped(b.l2ToDram)],
          ["exchange", grouped(b.exchange)],
        ], rightAligned: [1]
      ).render())
    if !r.traffic.tensors.isEmpty {
      let rows = r.traffic.tensors.sorted { $0.key < $1.key }.map { name, t in
        [name, grouped(t.dramToL2), grouped(t.l2ToSram), grouped(t.sramToL2), grouped(t.l2ToDram)]
      }
      out +=
        "\n"
        + indent(
          TextTable(
            header: ["tensor", "DRAM -> L2", "L2 -> SRAM", "SRAM -> L2", "L2 -> DRAM"], rows: rows,
            rightAligned: [1, 2, 3, 4]
          ).render())
    }
    if r.traffic.finalWritebackBytes > 0 {
      out +=
        "  (L2 -> DRAM includes \(grouped(r.traffic.finalWritebackBytes)) bytes of dirty lines flushed when the run ended)\n"
    }
    let hitRate = r.traffic.l2HitRate.map(percent) ?? "n/a"
    out +=
      "  L2: \(grouped(r.traffic.l2Hits)) hits, \(grouped(r.traffic.l2Misses)) misses, hit rate \(hitRate), \(grouped(r.traffic.l2Writebacks)) write-backs\n"
    out +=
      "  achieved: DRAM \(fixed(r.traffic.dramGBps, 1)) GB/s, tile<->L2 \(fixed(r.traffic.l2GBps, 1)) GB/s\n"

    let c = r.compute
    out += "\ncompute\n"
    let classes = ["fp8", "half", "single"].filter { c.macs[$0] != nil }
    if classes.isEmpty {
      out += "  no mma\n"
    } else {
      for k in classes {
        out += "  \(k) MACs \(grouped(c.macs[k]!)) (padded \(grouped(c.paddedMacs[k] ?? 0)))\n"
      }
      for (k, v) in c.macsByFormat.sorted(by: { $0.key < $1.key }) { out += "    \(k)  \(grouped(v))\n" }
      out +=
        "  tensor efficiency \(c.tensorEfficiency.map(percent) ?? "n/a"), achieved \(fixed(c.achievedTFLOPS, 3)) TFLOP/s\n"
    }
    out += "  vector element ops \(grouped(c.vectorElementOps))\n"

    let e = r.energy
    out +=
      "\nenergy  \(fixed(e.total, 3)) uJ (tensor \(fixed(e.tensor, 3)), vector \(fixed(e.vector, 3)), SRAM \(fixed(e.sram, 3)), L2 \(fixed(e.l2, 3)), DRAM \(fixed(e.dram, 3)), exchange \(fixed(e.exchange, 3)))\n"

    if !r.outputs.isEmpty {
      out += "\noutputs vs FP32 shadow\n"
      if r.timingOnly {
        out += "  (not computed: timing only)\n"
      } else {
        let rows = r.outputs.map { o in
          [
            o.name, "[" + o.shape.map(String.init).joined(separator: ", ") + "]", o.format,
            ValueText.fixed(o.snrDB, digits: 2),
            scientific(o.maxAbsError), scientific(o.maxRelError), grouped(o.nan), grouped(o.inf),
          ]
        }
        out += indent(
          TextTable(
            header: ["output", "shape", "type", "SNR dB", "max abs err", "max rel err", "NaN", "inf"],
            rows: rows,
            rightAligned: [3, 4, 5, 6, 7]
          ).render())
      }
    }
    if !r.casts.isEmpty && !r.timingOnly {
      out += "\ncasts, events over all tiles\n"
      let rows = r.casts.map {
        [
          $0.tensor, grouped($0.values), grouped($0.rounded), grouped($0.overflow), grouped($0.underflow),
          grouped($0.nan),
        ]
      }
      out += indent(
        TextTable(
          header: ["tensor", "values", "rounded", "overflow", "underflow", "NaN"], rows: rows,
          rightAligned: [1, 2, 3, 4, 5]
        ).render())
    }
    return out
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

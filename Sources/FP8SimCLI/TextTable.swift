/// A plain-text table with aligned columns, for reports people read.
struct TextTable {
  var header: [String]
  var rows: [[String]]
  /// Column indices printed right-aligned (numbers).
  var rightAligned: Set<Int> = []

  func render() -> String {
    let columns = header.count
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < columns { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      var parts: [String] = []
      for i in 0..<columns {
        let cell = i < cells.count ? cells[i] : ""
        let pad = String(repeating: " ", count: widths[i] - cell.count)
        parts.append(rightAligned.contains(i) ? pad + cell : cell + pad)
      }
      var text = parts.joined(separator: "  ")
      while text.hasSuffix(" ") { text.removeLast() }
      return text
    }
    var out = line(header) + "\n"
    out += line(widths.map { String(repeating: "-", count: $0) }) + "\n"
    for row in rows { out += line(row) + "\n" }
    return out
  }
}

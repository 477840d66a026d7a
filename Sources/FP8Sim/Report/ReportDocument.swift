/// Renders the generated part of docs/report.md (the JSON fields and the statistics) from
/// `Report.fields` and the `StatKey` table. A test fails when the committed file differs;
/// `RECORD_SNAPSHOTS=1 swift test --filter reportDocumentIsCurrent` rewrites it.
public enum ReportDocument {
  public static let begin =
    "<!-- Generated from the statistics table (Sources/FP8Sim/Report/Statistics.swift) by ReportDocument;"
    + " regenerate with `RECORD_SNAPSHOTS=1 swift test --filter reportDocumentIsCurrent`. Do not edit. -->"
  public static let end = "<!-- End of the generated part. -->"

  /// The text between `begin` and `end`.
  public static func markdown() -> String {
    var out = "\n| key | JSON | meaning |\n|---|---|---|\n"
    for f in Report.fields {
      out += "| `\(f.path)` | \(f.type) | \(escape(f.meaning)) |\n"
    }
    out += """

      ### Statistics

      Every figure of the JSON report, the text report and `fp8sim compare` is one row of this
      table. A key names one value per instance of its scope:


      """
    for scope in StatScope.allCases where scope != .run {
      let written = scope.placeholder == "[]" ? "`[]`" : "`\(scope.placeholder)`"
      let example =
        StatKey.allCases.first { $0.statistic.scope == scope }.map { "`\($0.statistic.path)`" } ?? ""
      out += "- \(written) (\(example)): \(scope.summary)\n"
    }
    out += """

      *Combines* says how a figure adds up over the tiles of a run and over runs done one after
      another (*sum*, *max*), or, for a ratio or rate, how it is computed again from the combined
      figures. *Printed* is how the text report writes it (`fp8sim compare` writes `%` and `us`
      in the row's name instead). Figures marked *values* come from the computed values: a
      timing-only run leaves them out of the text report and `compare` prints `n/a`. Energy is an
      estimate from counts, see [cost-model.md](cost-model.md#energy).

      | key | JSON | unit | combines | printed | meaning |
      |---|---|---|---|---|---|

      """
    for key in StatKey.allCases {
      let s = key.statistic
      var json = s.format.isInteger ? "int" : "number"
      if let absent = s.absentWhen { json += "; absent when \(absent)" }
      let meaning = s.summary + (s.needsValues ? " *values*" : "")
      var combine = s.combine.description
      if case .derived = s.combine { combine = "`\(combine)`" }
      out +=
        "| `\(s.path)` | \(escape(json)) | \(s.unit.rawValue) | \(escape(combine)) "
        + "| `\(s.format.example)` | \(escape(meaning)) |\n"
    }
    return out + "\n"
  }

  /// `document` with the text between the markers replaced by `markdown()`; nil without markers.
  public static func updating(_ document: String) -> String? {
    guard let b = document.range(of: begin + "\n"),
      let e = document.range(of: end, range: b.upperBound..<document.endIndex)
    else { return nil }
    return String(document[..<b.upperBound]) + markdown() + String(document[e.lowerBound...])
  }

  /// The text between the markers of `document`; nil without markers.
  public static func generatedPart(of document: String) -> String? {
    guard let b = document.range(of: begin + "\n"),
      let e = document.range(of: end, range: b.upperBound..<document.endIndex)
    else { return nil }
    return String(document[b.upperBound..<e.lowerBound])
  }

  static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
}

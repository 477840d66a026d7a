import FP8Data
import FP8Formats
import FP8ISA
import Foundation
import Testing

@testable import FP8Sim

/// The statistics table checks itself, the JSON report is what the table writes, and the
/// statistics section of docs/report.md is what the table generates.
@Suite struct StatisticsTableTests {
  /// Reports that between them have every statistic and field: a GEMM (L2, MMA), attention rows
  /// (casts, several MMA formats), and a program that does nothing (no L2, no MMA, no outputs).
  static let reports: [Report] = {
    var reports: [Report] = []
    for name in ["gemm_fp8", "attention_rows"] {
      let path = "examples/\(name).isa"
      let text = (try? String(contentsOf: packageRoot.appendingPathComponent(path), encoding: .utf8)) ?? ""
      guard let program = try? Assembler.assemble(text: text, path: path),
        let result = try? Machine(program: program, device: .teach).run()
      else { continue }
      reports.append(Report(result: result, program: program))
    }
    if let program = try? Assembler.assemble(text: "  halt\n", path: "idle.isa"),
      let result = try? Machine(program: program, device: .teach).run()
    {
      reports.append(Report(result: result, program: program))
    }
    return reports
  }()

  static var templates: [String] { Report.fields.map(\.path) + StatKey.allCases.map(\.statistic.path) }

  @Test func keysAndPathsAreUnique() {
    let paths = Self.templates
    let repeated = Dictionary(grouping: paths) { $0 }.filter { $0.value.count > 1 }.keys.sorted()
    #expect(repeated.isEmpty, "paths given twice: \(repeated)")
    #expect(Set(StatKey.allCases.map(\.rawValue)).count == StatKey.allCases.count)
  }

  @Test func everyRowIsWellFormed() {
    for key in StatKey.allCases {
      let s = key.statistic
      #expect(s.parsedPath != nil, "\(key): path \(s.path) does not name its scope \(s.scope) once")
      #expect(!s.label.isEmpty && s.summary.hasSuffix("."), "\(key)")
      // A ratio or rate is derived, never stored or added up; counts are integers.
      if case .derived = s.combine {
        #expect(!s.format.isInteger, "\(key) is derived but printed as a count")
      } else {
        // A stored count is always written; only reports older than the count lack it.
        #expect(
          s.absentWhen == nil || s.absentWhen == Statistic.olderReport,
          "\(key) may be absent but is not derived")
      }
      #expect(
        s.format.isInteger
          == [.cycles, .instructions, .bytes, .lines, .macs, .operations, .values, .events].contains(s.unit),
        "\(key): unit \(s.unit) and format \(s.format) disagree")
    }
    // Headings name one statistic within a scope (compare's rows and the text tables).
    for scope in StatScope.allCases {
      let headings = StatKey.allCases.filter { $0.statistic.scope == scope }.map(\.statistic.heading)
      #expect(Set(headings).count == headings.count, "\(scope): \(headings)")
    }
  }

  /// The statistic of each value matches its format: integers for counts, reals otherwise.
  @Test func valuesHaveTheKindOfTheirFormat() {
    #expect(Self.reports.count == 3)
    for r in Self.reports {
      for key in StatKey.allCases {
        for (instance, value) in r.values(key) {
          #expect((value.int != nil) == key.statistic.format.isInteger, "\(key) \(instance): \(value)")
        }
      }
    }
  }

  // MARK: - JSON

  /// Each member of a JSON document as a path written like the table's (`outputs[].name`),
  /// stopping at the fields that are containers themselves (`params`, `warnings`, `shape`);
  /// `empty` marks an empty object or array that stands for the members it could hold.
  static func paths(_ node: JSONNode, _ prefix: [String] = []) -> [(path: [String], empty: Bool)] {
    let containers = Set(
      Report.fields.filter { $0.type == "object" || $0.type.hasPrefix("array") }.map(\.path))
    if containers.contains(prefix.joined(separator: ".")) { return [(prefix, false)] }
    switch node.value {
    case .object(let members):
      return members.isEmpty ? [(prefix, true)] : members.flatMap { paths($0.value, prefix + [$0.key]) }
    case .array(let elements):
      let marked = Array(prefix.dropLast()) + [prefix.last! + "[]"]
      return elements.isEmpty ? [(prefix, true)] : elements.flatMap { paths($0, marked) }
    default: return [(prefix, false)]
    }
  }

  static func isPlaceholder(_ part: String) -> Bool { part.hasPrefix("<") && part.hasSuffix(">") }

  /// Whether `template` describes `path` (a placeholder stands for any one member).
  static func matches(_ template: String, _ path: [String]) -> Bool {
    let t = template.split(separator: ".").map(String.init)
    return t.count == path.count && zip(t, path).allSatisfy { a, b in a == b || isPlaceholder(a) }
  }

  /// Whether `template` describes members of the empty object or array at `path`.
  static func holds(_ template: String, _ path: [String]) -> Bool {
    let t = template.split(separator: ".").map(String.init)
    guard t.count > path.count else { return false }
    return zip(t, path).enumerated().allSatisfy { i, pair in
      pair.0 == pair.1 || isPlaceholder(pair.0) || (i == path.count - 1 && pair.0 == pair.1 + "[]")
    }
  }

  @Test func everyJSONKeyIsInTheTable() throws {
    let templates =
      Report.fields.map(\.path) + StatKey.allCases.map(\.statistic.path)
    var seen = Set<String>()
    for r in Self.reports {
      for (path, empty) in Self.paths(try JSONParser.parse(r.json(), syntax: .json)) {
        let hits = templates.filter { empty ? Self.holds($0, path) : Self.matches($0, path) }
        #expect(!hits.isEmpty, "\(r.program): \(path.joined(separator: ".")) is not in the table")
        #expect(empty || hits.count <= 1, "\(path) matches \(hits)")
        if !empty { seen.formUnion(hits) }
      }
    }
    let unseen = templates.filter { !seen.contains($0) }
    #expect(unseen.isEmpty, "never written: \(unseen)")
  }

  /// A figure that may be missing is left out rather than written as null.
  @Test func missingFiguresAreLeftOut() throws {
    let idle = try #require(Self.reports.last)
    let root = try JSONParser.parse(idle.json(), syntax: .json)
    #expect(root["traffic"]?["l2HitRate"] == nil && root["compute"]?["tensorEfficiency"] == nil)
    #expect(root["compute"]?["macs"]?.value == .object([]))
    #expect(idle.text(.l2HitRate) == "n/a" && idle.value(.tensorEfficiency) == nil)
    #expect(
      TextReport.render(idle).contains("hit rate n/a") && TextReport.render(idle).contains("  no mma\n"))
  }

  @Test func decodeReadsBackWhatJSONWrites() throws {
    for r in Self.reports {
      let json = r.json()
      let back = try Report.decode(json)
      #expect(back.json() == json, "\(r.program)")
      #expect(TextReport.render(back) == TextReport.render(r), "\(r.program)")
    }
    let gemm = try #require(Self.reports.first)
    #expect(try Report.decode(gemm.json()) == gemm)
    let golden = try String(
      contentsOf: packageRoot.appendingPathComponent("Tests/FP8SimCLITests/Snapshots/gemm_fp8.json"),
      encoding: .utf8)
    #expect(try Report.decode(golden).json() == golden)
  }

  @Test(arguments: [
    ("\"l2Hits\" : 768", "\"l2Hit\" : 768", "traffic.l2Hits: missing"),
    ("\"l2Hits\" : 768", "\"l2Hits\" : \"768\"", "traffic.l2Hits: expected an integer, got a string"),
    ("\"l2Hits\" : 768", "\"l2Hits\" : 768.5", "traffic.l2Hits: expected an integer, got a number"),
    ("\"busyCycles\" : 252", "\"busy\" : 252", "units.scalar.busyCycles: missing"),
    (
      "\"snrDB\" : 28.302578112898967", "\"snrDB\" : \"big\"",
      "outputs[0].snrDB: expected a number, got a string"
    ),
    ("\"fp8\" : 1048576", "\"fp8\" : null", "compute.macs.fp8: expected an integer, got null"),
    ("\"name\" : \"C\"", "\"nom\" : \"C\"", "outputs[0].name: missing"),
  ])
  func decodeNamesTheBadMember(replacing: String, with: String, message: String) throws {
    let golden = try String(
      contentsOf: packageRoot.appendingPathComponent("Tests/FP8SimCLITests/Snapshots/gemm_fp8.json"),
      encoding: .utf8)
    #expect(golden.contains(replacing))
    let bad = golden.replacingOccurrences(of: replacing, with: with)
    #expect(throws: ReportDecodingError.self) { try Report.decode(bad) }
    do {
      _ = try Report.decode(bad)
    } catch let e as ReportDecodingError {
      #expect(e.description == message)
    }
  }

  // MARK: - Combining and printing

  @Test func combineRules() {
    let counts: [StatValue] = [.count(3), .count(5), .count(1)]
    #expect(Combine.sum.parallel(counts) == .count(9))
    #expect(Combine.max.parallel(counts) == .count(5) && Combine.maxOverTiles.parallel(counts) == .count(5))
    #expect(Combine.derived("a / b").parallel(counts) == nil)
    #expect(Combine.sum.parallel([.count(.max), .count(1)]) == nil)
    #expect(Combine.sum.parallel([.real(0.5), .real(0.25)]) == .real(0.75))
    #expect(Combine.sum.parallel([]) == .count(0))
  }

  @Test func formats() {
    let cases: [(StatFormat, StatValue, String, String)] = [
      (.count, .count(1_234_567), "1,234,567", "1,234,567"),
      (.percent, .real(0.8337), "83.37%", "83.37"),
      (.fixed(1), .real(6.669), "6.7", "6.7"),
      (.fixed(3), .real(0.42685), "0.427", "0.427"),
      (.scientific, .real(2.6492), "2.649e+00", "2.649e+00"),
      (.duration, .real(4.913e-6), "4.913 us", "4.913"),
      (.duration, .real(0.0123), "12.300 ms", "12300.000"),
    ]
    for (format, value, text, column) in cases {
      #expect(format.text(value) == text && format.column(value) == column, "\(format)")
    }
    #expect(StatKey.snrDB.statistic.heading == "SNR dB" && StatKey.utilization.statistic.heading == "util %")
    #expect(StatKey.dependencyStall.statistic.heading == "stall: dependency")
    #expect(
      StatKey.seconds.statistic.heading == "time us" && StatKey.dramToL2.statistic.heading == "DRAM -> L2 B")
  }

  // MARK: - docs/report.md

  /// docs/report.md carries the generated table between its markers. With `RECORD_SNAPSHOTS=1`
  /// the file is rewritten and the test fails on purpose, like a snapshot.
  @Test func reportDocumentIsCurrent() throws {
    let url = packageRoot.appendingPathComponent("docs/report.md")
    let doc = try String(contentsOf: url, encoding: .utf8)
    let updated = try #require(ReportDocument.updating(doc), "docs/report.md has lost its markers")
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil {
      try updated.write(to: url, atomically: true, encoding: .utf8)
      Issue.record("rewrote the generated part of docs/report.md; run again without RECORD_SNAPSHOTS")
      return
    }
    #expect(
      ReportDocument.generatedPart(of: doc) == ReportDocument.markdown(),
      "docs/report.md is stale: regenerate it with RECORD_SNAPSHOTS=1 swift test --filter reportDocumentIsCurrent"
    )
  }

  @Test func documentListsEveryKey() {
    let doc = ReportDocument.markdown()
    for path in Self.templates { #expect(doc.contains("| `\(path)` |"), "\(path)") }
  }
}

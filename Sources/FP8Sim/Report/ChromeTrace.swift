import FP8Data
import FP8ISA
import Foundation

/// Chrome Trace Event Format JSON (opens in Perfetto or chrome://tracing): one process per tile,
/// one thread per thing that can be busy — the scalar core (barriers and all-reduces), the vector
/// unit, the tensor unit, and one lane per DMA transfer in flight (`dma 0`, `dma 1`, ...: a
/// transfer takes the lowest lane free when it starts) — and one complete (`X`) event per
/// activity. Events never overlap on a thread and are sorted by time within it.
///
/// Times are microseconds of device time, printed exactly from integer picoseconds (cycle c is
/// at round(c · 1000 / clockGHz) ps), so the conversion never reorders or overlaps events.
public enum ChromeTrace {
  /// Writes the trace in pieces through `emit` (memory stays bounded by the events themselves).
  /// `fault` is the runtime fault that ended the run early, if any.
  public static func write(
    _ trace: Trace, device: DeviceConfig, cycles: Int64, programPath: String, fault: String? = nil,
    emit: (String) throws -> Void
  ) rethrows {
    func picoseconds(_ cycle: Int64) -> Int64 { Int64((Double(cycle) * 1000 / device.clockGHz).rounded()) }
    // Per event: its thread (tid), from its unit and, for DMA, its lane.
    var tids = [Int32](repeating: 0, count: trace.events.count)
    var order = Array(trace.events.indices)
    order.sort {
      let a = trace.events[$0]
      let b = trace.events[$1]
      return (a.tile, a.start, $0) < (b.tile, b.start, $1)
    }
    var lanesUsed: [Int32: Int32] = [:]  // tile → DMA lanes used
    var unitsUsed: [Int32: Set<UnitKind>] = [:]
    var laneFree: [Int64] = []
    var currentTile: Int32 = -1
    for i in order {
      let e = trace.events[i]
      if e.tile != currentTile {
        currentTile = e.tile
        laneFree.removeAll()
      }
      unitsUsed[e.tile, default: []].insert(e.unit)
      guard e.unit == .dma else {
        tids[i] = Int32(unitTid(e.unit))
        continue
      }
      var lane = laneFree.firstIndex { $0 <= e.start } ?? laneFree.count
      if lane == laneFree.count { laneFree.append(0) }
      laneFree[lane] = e.end
      tids[i] = Int32(dmaBaseTid + lane)
      lane += 1
      lanesUsed[e.tile] = max(lanesUsed[e.tile] ?? 0, Int32(lane))
    }
    order.sort {
      let a = trace.events[$0]
      let b = trace.events[$1]
      return (a.tile, tids[$0], a.start, $0) < (b.tile, tids[$1], b.start, $1)
    }

    try emit("{\"traceEvents\":[\n")
    var first = true
    func event(_ text: String) throws {
      try emit((first ? "" : ",\n") + text)
      first = false
    }
    for tile in unitsUsed.keys.sorted() {
      try event(#"{"name":"process_name","ph":"M","pid":\#(tile),"args":{"name":"tile \#(tile)"}}"#)
      try event(#"{"name":"process_sort_index","ph":"M","pid":\#(tile),"args":{"sort_index":\#(tile)}}"#)
      var threads: [(Int, String)] = []
      for unit in UnitKind.reported where unit != .dma && unitsUsed[tile, default: []].contains(unit) {
        threads.append((unitTid(unit), unit.rawValue))
      }
      for lane in 0..<Int(lanesUsed[tile] ?? 0) { threads.append((dmaBaseTid + lane, "dma \(lane)")) }
      for (tid, name) in threads {
        try event(#"{"name":"thread_name","ph":"M","pid":\#(tile),"tid":\#(tid),"args":{"name":"\#(name)"}}"#)
        try event(
          #"{"name":"thread_sort_index","ph":"M","pid":\#(tile),"tid":\#(tid),"args":{"sort_index":\#(tid)}}"#
        )
      }
    }
    var chunk = ""
    for i in order {
      let e = trace.events[i]
      let ts = picoseconds(e.start)
      let dur = picoseconds(e.end) - ts
      chunk +=
        (first ? "" : ",\n")
        + #"{"name":"\#(escape(trace.names[Int(e.name)]))","cat":"\#(e.unit.rawValue)","ph":"X","pid":\#(e.tile),"tid":\#(tids[i]),"ts":\#(microseconds(ts)),"dur":\#(microseconds(dur)),"args":{"line":\#(e.line),"startCycle":\#(e.start),"endCycle":\#(e.end)}}"#
      first = false
      if chunk.utf8.count >= 1 << 16 {
        try emit(chunk)
        chunk = ""
      }
    }
    try emit(chunk)
    var meta =
      #""otherData":{"program":"\#(escape(programPath))","device":"\#(escape(device.name))","cycles":\#(cycles),"droppedEvents":\#(trace.dropped)"#
    if let fault { meta += #","fault":"\#(escape(fault))""# }
    try emit("\n],\n\"displayTimeUnit\":\"ns\",\n" + meta + "}}\n")
  }

  /// The whole trace as one string (for tests and small runs).
  public static func json(_ result: RunResult, programPath: String) -> String {
    var out = ""
    write(result.trace, device: result.device, cycles: result.cycles, programPath: programPath) { out += $0 }
    return out
  }

  static let dmaBaseTid = 10

  static func unitTid(_ unit: UnitKind) -> Int {
    switch unit {
    case .scalar, .sync: return 0
    case .vector: return 1
    case .tensor: return 2
    case .dma: return dmaBaseTid
    }
  }

  /// Integer picoseconds as microseconds, exactly: `1234567` → `1.234567`.
  static func microseconds(_ ps: Int64) -> String {
    let whole = ps / 1_000_000
    var fraction = String(ps % 1_000_000)
    if fraction == "0" { return String(whole) }
    fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return "\(whole).\(fraction)"
  }

  static func escape(_ s: String) -> String { JSONParser.escaped(s) }

}

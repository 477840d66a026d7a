import Foundation

/// Chrome trace-event JSON (opens in Perfetto or chrome://tracing): one process per tile, one
/// thread per unit, one complete ("X") event per unit activity. Times are in microseconds of
/// device time.
public enum ChromeTrace {
  public static func json(_ result: RunResult, programPath: String) -> String {
    let usPerCycle = 1 / (result.device.clockGHz * 1000)
    var events: [String] = []
    let tilesUsed = Set(result.trace.map(\.tile)).sorted()
    for tile in tilesUsed {
      events.append(#"{"name":"process_name","ph":"M","pid":\#(tile),"args":{"name":"tile \#(tile)"}}"#)
      for (i, unit) in UnitName.allCases.enumerated() {
        events.append(
          #"{"name":"thread_name","ph":"M","pid":\#(tile),"tid":\#(i),"args":{"name":"\#(unit.rawValue)"}}"#)
      }
    }
    let unitIndex = Dictionary(uniqueKeysWithValues: UnitName.allCases.enumerated().map { ($1, $0) })
    for e in result.trace {
      let ts = Double(e.start) * usPerCycle
      let dur = Double(e.end - e.start) * usPerCycle
      events.append(
        #"{"name":"\#(escape(e.name))","cat":"\#(e.unit.rawValue)","ph":"X","pid":\#(e.tile),"tid":\#(unitIndex[e.unit]!),"ts":\#(ts),"dur":\#(dur),"args":{"line":\#(e.line),"startCycle":\#(e.start),"endCycle":\#(e.end)}}"#
      )
    }
    let meta =
      #""otherData":{"program":"\#(escape(programPath))","device":"\#(escape(result.device.name))","cycles":\#(result.cycles),"droppedEvents":\#(result.traceDropped)}"#
    return "{\"traceEvents\":[\n" + events.joined(separator: ",\n") + "\n],\n" + meta + "}\n"
  }

  static func escape(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      default:
        if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
      }
    }
    return out
  }
}

/// Text from a user's file or command line made safe to print in a message: control characters
/// (C0, DEL, C1) and bidirectional-override characters are shown as `\u{XX}` escapes, so a
/// message can neither move the terminal's cursor nor reorder what it shows.
public enum Printable {
  public static func quoted(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      if needsEscape(scalar) {
        out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// Like `quoted`, but keeps tabs (for quoting a source line above a caret).
  public static func sourceLine(_ text: String) -> String {
    text.split(separator: "\t", omittingEmptySubsequences: false).map { quoted(String($0)) }.joined(
      separator: "\t")
  }

  static func needsEscape(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    return v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || (0x202A...0x202E).contains(v)
      || (0x2066...0x2069).contains(v)
  }
}

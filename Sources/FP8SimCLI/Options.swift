/// One command-line option of a subcommand (not to be confused with `FP8ISA.OptionSpec`, an
/// instruction's `key=value` option). A table of these drives parsing, `--help` and the
/// error messages (the swift-driver `Option` table, without a framework).
public struct CommandOption: Sendable {
  public var name: String
  /// Placeholder for the value (`F`, `B`); `nil` for a flag without a value.
  public var valueName: String?
  public var help: String
  /// Whether the option may be given more than once (`--set k=v --set k2=v2`).
  public var repeatable: Bool

  public init(_ name: String, value: String? = nil, repeatable: Bool = false, help: String) {
    self.name = name
    self.valueName = value
    self.help = help
    self.repeatable = repeatable
  }

  var usageText: String { valueName.map { "\(name) \($0)" } ?? name }
}

/// A usage error, reported as `fp8sim <command>: error: <message>` and exit status 64.
public struct UsageError: Error, Sendable, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
}

/// The parsed command line of one subcommand.
public struct ParsedArguments: Sendable {
  public var values: [String: [String]] = [:]
  public var flags: Set<String> = []
  public var positionals: [String] = []

  public func value(_ name: String) -> String? { values[name]?.last }
  public func all(_ name: String) -> [String] { values[name] ?? [] }
  public func has(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }

  /// Parses `arguments` against `specs`. Anything starting with `--` is an option (`--name value`
  /// or `--name=value`); a lone `--` ends options. Arguments starting with a single `-` are
  /// positionals, so negative numbers such as `-0` or `-inf` need no quoting.
  public static func parse(_ arguments: [String], specs: [CommandOption]) throws(UsageError)
    -> ParsedArguments
  {
    var parsed = ParsedArguments()
    var index = 0
    var optionsEnded = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if optionsEnded || !argument.hasPrefix("--") {
        parsed.positionals.append(argument)
        continue
      }
      if argument == "--" {
        optionsEnded = true
        continue
      }
      var name = argument
      var inlineValue: String?
      if let eq = argument.firstIndex(of: "=") {
        name = String(argument[..<eq])
        inlineValue = String(argument[argument.index(after: eq)...])
      }
      guard let spec = specs.first(where: { $0.name == name }) else {
        throw UsageError("unknown option '\(name)'")
      }
      if spec.valueName == nil {
        if inlineValue != nil { throw UsageError("option '\(name)' takes no value") }
        parsed.flags.insert(name)
        continue
      }
      let value: String
      if let inlineValue {
        value = inlineValue
      } else {
        guard index < arguments.count else {
          throw UsageError("option '\(name)' needs a value (\(spec.usageText))")
        }
        value = arguments[index]
        index += 1
      }
      if !spec.repeatable, parsed.values[name] != nil {
        throw UsageError("option '\(name)' given more than once")
      }
      parsed.values[name, default: []].append(value)
    }
    return parsed
  }
}

/// Typed readers for option values, each with a clear usage error.
extension ParsedArguments {
  /// For commands that take no positional argument.
  public func expectNoPositionals() throws(UsageError) {
    if let first = positionals.first { throw UsageError("unexpected argument '\(first)'") }
  }

  public func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>)
    throws(UsageError) -> Int
  {
    guard let text = value(name) else { return defaultValue }
    guard let n = Int(text), range.contains(n) else {
      throw UsageError(
        "option '\(name)' needs an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
    }
    return n
  }

  public func choice<T: RawRepresentable & CaseIterable>(_ name: String, default defaultValue: T)
    throws(UsageError) -> T where T.RawValue == String
  {
    try optionalChoice(name, T.self) ?? defaultValue
  }

  /// The option's value as one of `T`'s cases; nil when the option is absent.
  public func optionalChoice<T: RawRepresentable & CaseIterable>(_ name: String, _: T.Type)
    throws(UsageError) -> T? where T.RawValue == String
  {
    guard let text = value(name) else { return nil }
    guard let v = T(rawValue: text) else {
      let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
      throw UsageError("option '\(name)' must be one of \(allowed); got '\(text)'")
    }
    return v
  }
}

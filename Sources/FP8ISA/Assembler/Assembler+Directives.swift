import FP8Data
import FP8Formats
import Foundation

/// `.device`, `.param`, `.assert`, `.tensor`, `.output`.
extension Assembler {
  mutating func directive(_ s: inout Scanner) throws(LineError) {
    let column = s.column
    _ = s.consume(".")
    guard let name = s.identifier() else {
      throw LineError(message: .expected("a directive name", found: s.rest()), column: s.column)
    }
    switch name {
    case "device": try deviceDirective(&s, column: column)
    case "param": try paramDirective(&s)
    case "tensor": try tensorDirective(&s)
    case "output": try outputDirective(&s)
    case "assert": try assertDirective(&s)
    default:
      let suggestion = suggest(name, from: ["device", "param", "assert", "tensor", "output"])
      throw LineError(
        message: .unknownDirective(name), column: column, length: name.count + 1,
        notes: suggestion.map { ["did you mean '.\($0)'?"] } ?? [])
    }
    try expectEnd(&s)
  }

  func expectEnd(_ s: inout Scanner) throws(LineError) {
    if !s.atEnd() {
      throw LineError(message: .unexpectedText(s.nextChunk()), column: s.column, length: s.nextChunk().count)
    }
  }

  mutating func deviceDirective(_ s: inout Scanner, column: Int) throws(LineError) {
    s.skipSpaces()
    let valueColumn = s.column
    let value: String
    if let text = try s.string() {
      value = text
    } else if let word = s.word() {
      value = word
    } else {
      throw LineError(
        message: .expected("a device name or \"file.json\"", found: s.rest()), column: valueColumn)
    }
    if program.device != nil {
      throw LineError(message: .duplicateName(".device"), column: column, length: 7)
    }
    program.device = value
    program.deviceLocation = s.location(at: valueColumn)
  }

  /// `.assert A CMP B [&& C CMP D ...], "message"` over constant expressions of the parameters
  /// declared so far; an error at assembly (with the final `--set` values) when it does not hold.
  mutating func assertDirective(_ s: inout Scanner) throws(LineError) {
    s.skipSpaces()
    let start = s.index
    let column = s.column
    var holds = true
    repeat {
      let left = try ExpressionParser(params: paramValues).parse(&s)
      s.skipSpaces()
      let opColumn = s.column
      guard let op = ["==", "!=", "<=", ">=", "<", ">"].first(where: { s.consumeSequence($0) }) else {
        throw LineError(
          message: .expected("a comparison (==, !=, <, <=, >, >=)", found: s.rest()), column: opColumn)
      }
      let right = try ExpressionParser(params: paramValues).parse(&s)
      holds = holds && Assembler.compare(left, op, right)
      s.skipSpaces()
    } while s.consumeSequence("&&")
    let condition = String(s.characters[start..<s.index]).trimmingSpaces()
    guard s.consume(",") else {
      throw LineError(message: .expected("', \"message\"'", found: s.rest()), column: s.column)
    }
    s.skipSpaces()
    let messageColumn = s.column
    guard let message = try s.string() else {
      throw LineError(message: .expected("a quoted message", found: s.rest()), column: messageColumn)
    }
    program.assertions.append(
      Assertion(condition: condition, message: message, location: s.location(at: column)))
    if !holds {
      let words = Set(condition.split { !Scanner.isIdentifierBody($0) }.map(String.init))
      let values = program.params.filter { words.contains($0.name) }.map { "\($0.name) = \($0.value)" }
      throw LineError(
        message: .assertionFailed(message), column: column, length: condition.count,
        notes: [
          "'\(condition)' does not hold" + (values.isEmpty ? "" : " with " + values.joined(separator: ", "))
        ])
    }
  }

  static func compare(_ a: ParamValue, _ op: String, _ b: ParamValue) -> Bool {
    /// −1, 0, 1 for an integer against a float, exactly (no rounding of the integer).
    func exact(_ i: Int64, _ y: Double) -> Int {
      let d = Double(i)
      if d != y { return d < y ? -1 : 1 }  // rounding is monotone: i sits on d's side of y
      if y >= 9_223_372_036_854_775_808.0 { return -1 }  // y = 2^63 > every Int64
      let j = Int64(y)
      return i < j ? -1 : i > j ? 1 : 0
    }
    let order: Int
    switch (a, b) {
    case (.int(let x), .int(let y)): order = x < y ? -1 : x > y ? 1 : 0
    case (.float(let x), .float(let y)):
      if x.isNaN || y.isNaN { return op == "!=" }
      order = x < y ? -1 : x > y ? 1 : 0
    case (.int(let x), .float(let y)):
      if y.isNaN { return op == "!=" }
      order = exact(x, y)
    case (.float(let x), .int(let y)):
      if x.isNaN { return op == "!=" }
      order = -exact(y, x)
    }
    switch op {
    case "==": return order == 0
    case "!=": return order != 0
    case "<": return order < 0
    case "<=": return order <= 0
    case ">": return order > 0
    default: return order >= 0
    }
  }

  mutating func paramDirective(_ s: inout Scanner) throws(LineError) {
    let (name, column) = try newName(&s, what: "a parameter name")
    guard s.consume("=") else {
      throw LineError(message: .expected("'='", found: s.rest()), column: s.column)
    }
    s.skipSpaces()
    var value = try ExpressionParser(params: paramValues).parse(&s)
    try expectEnd(&s)
    var overridden = false
    if let text = options.overrides[name] {
      var o = Scanner(line: Substring(text), lineNumber: s.lineNumber, file: s.file)
      do throws(LineError) {
        value = try ExpressionParser(params: paramValues).parse(&o)
        if !o.atEnd() { throw LineError(message: .unexpectedText(o.nextChunk()), column: o.column) }
      } catch {
        throw LineError(
          message: .invalidOptionValue("--set \(name)", "'\(text)': \(error.message.text)"), column: column,
          length: name.count)
      }
      overridden = true
    }
    paramValues[name] = value
    program.params.append(
      ParamDecl(name: name, value: value, overridden: overridden, location: s.location(at: column)))
  }

  /// The name a `.param` or `.tensor` declares, and its column; it must be new.
  func newName(_ s: inout Scanner, what: String) throws(LineError) -> (String, Int) {
    s.skipSpaces()
    let column = s.column
    guard let name = s.identifier() else {
      throw LineError(message: .expected(what, found: s.rest()), column: column)
    }
    try checkNewName(name, column: column)
    return (name, column)
  }

  func checkNewName(_ name: String, column: Int) throws(LineError) {
    if Assembler.isReserved(name) {
      throw LineError(message: .reservedName(name), column: column, length: name.count)
    }
    if paramValues[name] != nil || tensorByName[name] != nil {
      throw LineError(message: .duplicateName(name), column: column, length: name.count)
    }
  }

  /// `.tensor NAME TYPE [d0, d1, ...] SPACE [INITIALISER]`
  mutating func tensorDirective(_ s: inout Scanner) throws(LineError) {
    let (name, column) = try newName(&s, what: "a tensor name")
    let dtype = try parseDType(&s)
    s.skipSpaces()
    let shapeColumn = s.column
    guard s.consume("[") else {
      throw LineError(message: .expected("a shape '[d0, d1, ...]'", found: s.rest()), column: s.column)
    }
    var shape: [Int] = []
    repeat {
      s.skipSpaces()
      let dimColumn = s.column
      let value = try ExpressionParser(params: paramValues).parse(&s)
      guard case .int(let d) = value else {
        throw LineError(message: .invalidShape("dimensions must be integers"), column: dimColumn)
      }
      guard d >= 1, d <= Int64(ProgramLimits.maxDimension) else {
        throw LineError(
          message: .invalidShape("dimension \(d) is outside 1 ... \(ProgramLimits.maxDimension)"),
          column: dimColumn)
      }
      shape.append(Int(d))
    } while s.consume(",")
    guard s.consume("]") else {
      throw LineError(message: .expected("']'", found: s.rest()), column: s.column)
    }
    guard shape.count <= ProgramLimits.maxRank else {
      throw LineError(
        message: .invalidShape("rank \(shape.count) exceeds \(ProgramLimits.maxRank)"), column: shapeColumn)
    }
    var count = 1
    for d in shape {
      let (p, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow, p <= ProgramLimits.maxElements else {
        throw LineError(
          message: .tensorTooLarge(name, "more than 2^40 (\(ProgramLimits.maxElements)) elements"),
          column: shapeColumn)
      }
      count = p
    }
    s.skipSpaces()
    let spaceColumn = s.column
    let beforeSpace = s
    guard let spaceName = s.identifier(), let space = MemorySpace(rawValue: spaceName) else {
      throw LineError(message: .expected("'dram' or 'sram'", found: beforeSpace.rest()), column: spaceColumn)
    }
    if let problem = dtype.blockProblem(shape: shape) {
      throw LineError(message: .invalidShape(problem), column: shapeColumn)
    }
    if dtype.blocking != nil && space == .acc {
      throw LineError(
        message: .expected("'dram' or 'sram' (block-scaled tensors are not accumulators)", found: spaceName),
        column: spaceColumn)
    }
    var initializer = Initializer.zeros
    if !s.atEnd() {
      initializer = try parseInitializer(&s, dtype: dtype, shape: shape)
    }
    let location = s.location(at: column)
    tensorByName[name] = program.tensors.count
    program.tensors.append(
      TensorDecl(
        name: name, dtype: dtype, shape: shape, space: space, initializer: initializer, location: location))
  }

  mutating func parseDType(_ s: inout Scanner) throws(LineError) -> DType {
    s.skipSpaces()
    let column = s.column
    guard let name = s.identifier() else {
      throw LineError(message: .expected("an element type", found: s.rest()), column: column)
    }
    guard let dtype = DType.named(name) else {
      if let format = FloatFormat.named(name) {
        throw LineError(
          message: .unknownType(name), column: column, length: name.count,
          notes: [
            "\(format.name) (unsigned, \(format.totalBits) bits) is a scale format (`fp8sim quantize`), not a tensor element type; it scales the blocks of types such as mxfp4 or mxfp8_e4m3; types: "
              + DType.spellings.joined(separator: ", ")
          ])
      }
      let suggestion = suggest(name, from: DType.spellings)
      throw LineError(
        message: .unknownType(name), column: column, length: name.count,
        notes: [
          suggestion.map { "did you mean '\($0)'?" } ?? "types: " + DType.spellings.joined(separator: ", ")
        ])
    }
    return dtype
  }

  mutating func parseInitializer(_ s: inout Scanner, dtype: DType, shape: [Int]) throws(LineError)
    -> Initializer
  {
    s.skipSpaces()
    let column = s.column
    guard let kind = s.identifier() else {
      throw LineError(message: .expected("an initialiser", found: s.rest()), column: column)
    }
    if kind == "zeros" { return .zeros }
    guard s.consume("(") else {
      throw LineError(message: .expected("'(' after '\(kind)'", found: s.rest()), column: s.column)
    }
    func numbers(_ count: Int, _ s: inout Scanner) throws(LineError) -> [ParamValue] {
      var values: [ParamValue] = []
      for i in 0..<count {
        if i > 0, !s.consume(",") {
          throw LineError(
            message: .invalidInitializer("\(kind) takes \(count) arguments"), column: s.column)
        }
        values.append(try ExpressionParser(params: paramValues).parse(&s))
      }
      return values
    }
    func seed(_ v: ParamValue) throws(LineError) -> UInt64 {
      guard case .int(let n) = v, n >= 0 else {
        throw LineError(
          message: .invalidInitializer("the seed must be a non-negative integer"), column: column)
      }
      return UInt64(n)
    }
    func quoted(_ s: inout Scanner) throws(LineError) -> String {
      guard let text = try s.string() else {
        throw LineError(message: .expected("a quoted path", found: s.rest()), column: s.column)
      }
      return text
    }
    let result: Initializer
    switch kind {
    case "const":
      result = .constant(try numbers(1, &s)[0].asDouble)
    case "randn":
      let v = try numbers(3, &s)
      guard v[2].asDouble >= 0, v[1].asDouble.isFinite, v[2].asDouble.isFinite else {
        throw LineError(message: .invalidInitializer("randn needs a finite mean and std ≥ 0"), column: column)
      }
      result = .randn(seed: try seed(v[0]), mean: v[1].asDouble, std: v[2].asDouble)
    case "uniform":
      let v = try numbers(3, &s)
      guard v[1].asDouble.isFinite, v[2].asDouble.isFinite, v[1].asDouble <= v[2].asDouble else {
        throw LineError(message: .invalidInitializer("uniform needs finite low ≤ high"), column: column)
      }
      result = .uniform(seed: try seed(v[0]), low: v[1].asDouble, high: v[2].asDouble)
    case "npy":
      result = .npy(path: try quoted(&s))
    case "safetensors":
      let path = try quoted(&s)
      guard s.consume(",") else {
        throw LineError(message: .expected("',' and a tensor name", found: s.rest()), column: s.column)
      }
      result = .safetensors(path: path, name: try quoted(&s))
    default:
      throw LineError(
        message: .invalidInitializer(
          "unknown '\(kind)' (zeros, const(v), randn(seed, mean, std), uniform(seed, lo, hi), npy(\"f\"), safetensors(\"f\", \"name\"))"
        ), column: column, length: kind.count)
    }
    guard s.consume(")") else {
      throw LineError(message: .expected("')'", found: s.rest()), column: s.column)
    }
    try checkDataFile(result, dtype: dtype, shape: shape, column: column)
    return result
  }

  /// Opens a data file's header and checks it against the declaration: the same shape, and raw
  /// codes (if the file holds them) of the tensor's own width.
  func checkDataFile(_ initializer: Initializer, dtype: DType, shape: [Int], column: Int) throws(LineError) {
    guard options.checkDataFiles else { return }
    let path: String
    var name: String?
    switch initializer {
    case .npy(let p): path = p
    case .safetensors(let p, let n):
      path = p
      name = n
    default: return
    }
    let url = Assembler.resolve(path, base: options.baseDirectory)
    let header: ArrayFileHeader
    do {
      header = try ArrayFile.header(of: url, tensor: name)
    } catch {
      throw LineError(message: .dataFile(error.description), column: column)
    }
    if header.shape != shape {
      throw LineError(
        message: .dataFile("\(path): shape \(header.shape) does not match the declared \(shape)"),
        column: column)
    }
    if let problem = header.problem(storingInto: dtype.name, byteWidth: dtype.byteWidth) {
      throw LineError(message: .dataFile("\(path): \(problem)"), column: column)
    }
  }

  /// A data-file path relative to the program's folder (absolute paths unchanged).
  public static func resolve(_ path: String, base: URL?) -> URL {
    if path.hasPrefix("/") || base == nil { return URL(fileURLWithPath: path) }
    return base!.appendingPathComponent(path)
  }

  mutating func outputDirective(_ s: inout Scanner) throws(LineError) {
    repeat {
      s.skipSpaces()
      let column = s.column
      guard let name = s.identifier() else {
        throw LineError(message: .expected("a tensor name", found: s.rest()), column: column)
      }
      guard let index = tensorByName[name] else {
        throw LineError(message: .unknownTensor(name), column: column, length: name.count)
      }
      guard program.tensors[index].space == .dram else {
        throw LineError(
          message: .wrongSpace(name, .dram, "output"), column: column, length: name.count,
          notes: ["copy the result to a dram tensor with dma.store and output that"])
      }
      guard !program.outputs.contains(index) else {
        throw LineError(message: .duplicateOutput(name), column: column, length: name.count)
      }
      program.outputs.append(index)
    } while s.consume(",")
  }
}

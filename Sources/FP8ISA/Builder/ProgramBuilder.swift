import FP8Formats

/// Builds a program as a value, from Swift: tensors, parameters, labels and typed operations.
///
/// ```swift
/// var b = ProgramBuilder(device: "h100")
/// let a = b.tensor("A", .fp8e4, [128, 64], .dram, .uniform(seed: 1, low: -2, high: 2))
/// let abuf = b.tensor("abuf", .fp8e4, [128, 64], .sram)
/// b.emit(.dma(Transfer(.load, destination: abuf.all, source: a.all)))
/// b.emit(.dmaWait(keep: 0))
/// let program = try b.build()         // checked exactly as assembled text is
/// print(Disassembler.text(of: program)) // canonical ISA text
/// ```
///
/// `build()` prints the program (`Disassembler`) and assembles the text, so a built program gets
/// every check an assembled one does, and its instructions point at lines of that text. Shapes
/// and operands are values computed in Swift: a built program has no `.param`s (a generator is
/// a Swift function of its sizes; call it again for other sizes), so `--set` and `--sweep` on
/// its printed text report an unknown parameter instead of silently changing nothing.
public struct ProgramBuilder: Sendable {
  /// The program so far (labels resolved only by `build()`; unchecked: only `build()` gives a
  /// program to run).
  private(set) var program: Program
  /// Where labels were placed, by name.
  private var placed: [String: Int] = [:]
  /// Labels placed more than once (`build()` reports them).
  private var placedTwice: [String] = []
  private let path: String
  /// Comment lines printed above the program (`; ...`): what generated it, and how.
  public var header: [String] = []
  /// The `.device` directive: a preset name or a JSON path (nil: none).
  public var device: String? {
    get { program.device }
    set { program.device = newValue }
  }

  /// A new, empty program; `device` is the `.device` directive (a preset name or a JSON path);
  /// `path` names the printed text in diagnostics and faults.
  public init(device: String? = nil, path: String = "<built>") {
    self.path = path
    program = Program(
      source: SourceFile(path: path, text: ""), device: device, params: [], tensors: [], outputs: [],
      instructions: [], labels: [:])
  }

  static let nowhere = SourceLocation(file: "<built>", line: 0, column: 0)

  /// `.tensor name dtype [shape] space initializer`.
  public mutating func tensor(
    _ name: String, _ dtype: DType, _ shape: [Int], _ space: MemorySpace, _ initializer: Initializer = .zeros
  ) -> TensorHandle {
    program.tensors.append(
      TensorDecl(
        name: name, dtype: dtype, shape: shape, space: space, initializer: initializer, location: Self.nowhere
      ))
    return TensorHandle(index: program.tensors.count - 1, shape: shape)
  }

  /// `.output` for one more tensor.
  public mutating func output(_ tensor: TensorHandle) { program.outputs.append(tensor.index) }

  /// A label to branch to; place it with `place(_:)` before or after the branches that name it.
  public func label(_ name: String) -> Label { Label(name, target: -1) }

  /// Defines `label` at the next instruction.
  public mutating func place(_ label: Label) {
    if placed[label.name] != nil { placedTwice.append(label.name) }
    placed[label.name] = program.instructions.count
    program.labels[label.name] = program.instructions.count
  }

  /// Appends one instruction.
  public mutating func emit(_ operation: Operation) {
    program.instructions.append(Instruction(operation, location: Self.nowhere))
  }

  /// The program with every branch pointing at its label (a label never placed stays -1 and
  /// `build()` reports it).
  var resolved: Program {
    var p = program
    for i in p.instructions.indices {
      if let l = p.instructions[i].operation.label, let target = placed[l.name] {
        p.instructions[i].resolveLabel(to: target)
      }
    }
    return p
  }

  /// The canonical ISA text of the program, after its header comment.
  public var text: String { headerText + Disassembler.text(of: resolved) }

  var headerText: String {
    header.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }.map { "; \($0)\n" }
      .joined()
  }

  /// Prints and assembles the program: every check of the assembler applies, and the result's
  /// locations are lines of the printed text. Throws the assembler's diagnostics.
  public func build(options: Assembler.Options = Assembler.Options()) throws(DiagnosticList) -> Program {
    let start = SourceLocation(file: path, line: 1, column: 1)
    // Mistakes the printed text could not show: names that would not read back as one name,
    // views of tensors of another program, labels placed twice.
    var problems = placedTwice.map { Diagnostic(.duplicateLabel($0), at: start) }
    for t in program.tensors where !Self.isName(t.name) {
      problems.append(Diagnostic(.invalidName(t.name, "tensor"), at: start))
    }
    for name in placed.keys.sorted() where !Self.isName(name) {
      problems.append(Diagnostic(.invalidName(name, "label"), at: start))
    }
    let count = program.tensors.count
    let views = program.instructions.flatMap { $0.operation.syntax.views }
    for t in Set(program.outputs + views.map(\.tensor)).sorted() where !(0..<count).contains(t) {
      problems.append(
        Diagnostic(
          .internalError("tensor #\(t) is not declared by this builder (a handle from another one?)"),
          at: start))
    }
    if !problems.isEmpty { throw DiagnosticList(problems, source: nil) }

    return try resolved.reassembled(
      header: headerText, options: options,
      mismatch: "the printed program does not assemble back to the built one")
  }

  /// An identifier the assembler reads back as one name, and not a register's.
  static func isName(_ name: String) -> Bool {
    guard let first = name.first, Scanner.isIdentifierStart(first) else { return false }
    return name.allSatisfy(Scanner.isIdentifierBody) && !Assembler.isReserved(name)
  }
}

extension InstructionSyntax {
  /// The tensor views among the operands and options.
  var views: [TensorView] {
    (operands + options.values).compactMap { if case .view(let v) = $0 { return v } else { return nil } }
  }
}

/// A tensor declared by a `ProgramBuilder`, for making views of it. A handle is the tensor's
/// index in its own builder: use it with that builder only (`build()` reports an index no
/// tensor of the program has).
public struct TensorHandle: Sendable, Hashable {
  /// Index into `Program.tensors`.
  public var index: Int
  public var shape: [Int]

  /// The whole tensor.
  public var all: TensorView { TensorView(tensor: index, indices: []) }

  /// A view with one index per dimension: `x[.range(.register(2), 64), .all]`.
  public subscript(_ indices: ViewIndex...) -> TensorView { TensorView(tensor: index, indices: indices) }
}

extension ViewIndex {
  /// `:`
  public static var all: ViewIndex { .full }
  /// `start:+length`
  public static func range(_ start: SliceStart, _ length: Int) -> ViewIndex { .range(start, length: length) }
  /// `start:+rN`: the length integer register N holds when the instruction runs.
  public static func range(_ start: SliceStart, register: Int) -> ViewIndex {
    .rangeOfRegister(start, lengthRegister: register)
  }
}

extension SliceStart: ExpressibleByIntegerLiteral {
  /// A constant start.
  public init(integerLiteral value: Int64) { self.init(base: nil, offset: value) }

  /// `rN` or `rN+offset`.
  public static func register(_ r: Int, plus offset: Int64 = 0) -> SliceStart {
    SliceStart(base: .register(r), offset: offset)
  }

  /// `tid`, `ntiles`, or either plus an offset.
  public static func special(_ s: SpecialRegister, plus offset: Int64 = 0) -> SliceStart {
    SliceStart(base: .special(s), offset: offset)
  }
}

extension IntValue: ExpressibleByIntegerLiteral {
  public init(integerLiteral value: Int64) { self = .constant(value) }
}

extension FloatValue: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
  public init(floatLiteral value: Double) { self = .constant(value) }
  public init(integerLiteral value: Int64) { self = .constant(Double(value)) }
}

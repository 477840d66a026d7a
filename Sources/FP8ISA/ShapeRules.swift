/// The shape rules of operand views, in one place for both checks: the assembler applies them
/// to the shapes the text gives (unless a view takes a length from a register), the simulator to
/// the shapes the views have when an instruction with such a view runs.
public enum ShapeRules {
  /// Where a violated rule points: a positional operand, or an option by name.
  public enum Place: Sendable, Equatable {
    case operand(Int)
    case option(String)
  }

  /// A violated rule.
  public struct Violation: Sendable, Equatable {
    public var message: String
    public var place: Place
  }

  /// The first rule `operation` breaks, given each view's shape; nil when it breaks none.
  public static func check(_ operation: Operation, shape: (TensorView) -> [Int]) -> Violation? {
    switch operation {
    case .dma(let t):
      let (d, s) = (shape(t.destination), shape(t.source))
      return d == s ? nil : Violation(message: "destination \(d) vs source \(s)", place: .operand(0))
    case .vector(let v): return vector(v, shape)
    case .mma(let m): return matrixMultiply(m, shape)
    case .nop, .halt, .move, .integer, .floatMove, .float, .jump, .call, .ret, .branch, .bias, .dmaWait,
      .fence,
      .reduction, .barrier, .allReduce:
      return nil
    }
  }

  /// `[n]` or `[1, n]` broadcast over the rows of `target` (whose last dimension is n).
  public static func isRowBroadcast(_ shape: [Int], to target: [Int]) -> Bool {
    guard let n = target.last else { return false }
    return shape == [n] || shape == [1, n]
  }

  /// D's shape with the last dimension 1 (`[rows, 1]`): one element per row of `target`.
  public static func isColumnBroadcast(_ shape: [Int], to target: [Int]) -> Bool {
    guard let n = target.last, n != 1 else { return false }
    return shape == Array(target.dropLast()) + [1]
  }

  /// Every view of an operation (operands and options).
  public static func views(of operation: Operation) -> [TensorView] {
    switch operation {
    case .dma(let t): return [t.destination, t.source]
    case .vector(let v):
      switch v.kind {
      case .binary(_, let a, .view(let b)): return [v.destination, a, b]
      case .binary(_, let a, .value): return [v.destination, a]
      case .unary(_, let a), .cast(let a), .softmax(let a), .rope(let a, _, _), .rowReduce(_, let a):
        return [v.destination, a]
      case .fill: return [v.destination]
      case .layernorm(let a, let gamma, let beta, _, _):
        return [v.destination, a] + [gamma, beta].compactMap { $0 }
      }
    case .reduction(_, _, let a): return [a]
    case .mma(let m): return [m.d, m.a, m.b]
    case .nop, .halt, .move, .integer, .floatMove, .float, .jump, .call, .ret, .branch, .bias, .dmaWait,
      .fence,
      .barrier, .allReduce:
      return []
    }
  }

  static func vector(_ v: VectorOperation, _ shape: (TensorView) -> [Int]) -> Violation? {
    let d = shape(v.destination)
    /// A, where the instruction has one, has D's shape.
    func same(_ a: TensorView) -> Violation? {
      let s = shape(a)
      return s == d ? nil : Violation(message: "D is \(d), A is \(s)", place: .operand(1))
    }
    switch v.kind {
    case .binary(_, let a, let b):
      if let bad = same(a) { return bad }
      if case .view(let b) = b {
        let s = shape(b)
        if s != d && !isRowBroadcast(s, to: d) && !isColumnBroadcast(s, to: d) {
          return Violation(
            message:
              "B is \(s); expected \(d), one row [\(d.last ?? 1)] or one column \(Array(d.dropLast()) + [1])",
            place: .operand(2))
        }
      }
      return nil
    case .unary(_, let a), .cast(let a), .softmax(let a), .rope(let a, _, _): return same(a)
    case .fill: return nil
    case .rowReduce(_, let a):
      let s = shape(a)
      guard let last = s.last, last >= 1, d == Array(s.dropLast()) + [1] else {
        return Violation(
          message: "A is \(s), D is \(d); D must be A's shape with the last dimension 1", place: .operand(0))
      }
      return nil
    case .layernorm(let a, let gamma, let beta, _, _):
      if let bad = same(a) { return bad }
      for (name, view) in [("gamma", gamma), ("beta", beta)] {
        guard let view else { continue }
        let s = shape(view)
        if !isRowBroadcast(s, to: d) {
          return Violation(
            message: "\(name) is \(s); expected one row [\(d.last ?? 1)]", place: .option(name))
        }
      }
      return nil
    }
  }

  static func matrixMultiply(_ mma: MatrixMultiply, _ shape: (TensorView) -> [Int]) -> Violation? {
    let shapes = [shape(mma.d), shape(mma.a), shape(mma.b)]
    let roles = ["D", "A", "B"]
    for (i, s) in shapes.enumerated() where s.count != 2 {
      return Violation(message: "mma operands are matrices; \(roles[i]) is \(s)", place: .operand(i))
    }
    let (dShape, aShape, bShape) = (shapes[0], shapes[1], shapes[2])
    let (m, k) = mma.transposeA ? (aShape[1], aShape[0]) : (aShape[0], aShape[1])
    let (k2, n) = mma.transposeB ? (bShape[1], bShape[0]) : (bShape[0], bShape[1])
    if k != k2 {
      return Violation(
        message: "inner dimensions differ: A is \(m)×\(k) (M×K) but B is \(k2)×\(n) (K×N), after ta/tb",
        place: .operand(2))
    }
    if dShape != [m, n] {
      return Violation(message: "D is \(dShape), A·B is [\(m), \(n)]", place: .operand(0))
    }
    return nil
  }
}

import FP8Formats
import FP8ISA

/// A `ProgramBuilder` with one short method per instruction the model kernels use, so a kernel
/// reads like its ISA text. Every method emits exactly one typed operation.
struct Emitter {
  var b: ProgramBuilder
  private var labels = 0

  init(path: String, header: [String]) {
    b = ProgramBuilder(path: path)
    b.header = header
  }

  mutating func tensor(
    _ name: String, _ dtype: DType, _ shape: [Int], _ space: MemorySpace, _ initializer: Initializer = .zeros
  ) -> TensorHandle {
    b.tensor(name, dtype, shape, space, initializer)
  }

  mutating func output(_ t: TensorHandle) { b.output(t) }

  /// A fresh label named `base_N`.
  mutating func label(_ base: String) -> Label {
    labels += 1
    return b.label("\(base)_\(labels)")
  }
  mutating func place(_ l: Label) { b.place(l) }

  mutating func load(_ dst: TensorView, _ src: TensorView) {
    b.emit(.dma(Transfer(.load, destination: dst, source: src)))
  }
  mutating func store(_ dst: TensorView, _ src: TensorView) {
    b.emit(.dma(Transfer(.store, destination: dst, source: src)))
  }
  mutating func wait(keep: Int = 0) { b.emit(.dmaWait(keep: .constant(Int64(keep)))) }
  mutating func halt() { b.emit(.halt) }

  mutating func mov(_ r: Int, _ v: IntValue) { b.emit(.move(dest: r, source: v)) }
  mutating func int(_ op: IntegerOperator, _ r: Int, _ a: IntValue, _ c: IntValue) {
    b.emit(.integer(op, dest: r, a: a, b: c))
  }
  mutating func fmov(_ f: Int, _ v: FloatValue) { b.emit(.floatMove(dest: f, source: v)) }
  mutating func float(_ op: FloatOperator, _ f: Int, _ a: FloatValue, _ c: FloatValue) {
    b.emit(.float(op, dest: f, a: a, b: c))
  }
  mutating func branch(_ c: Condition, _ a: IntValue, _ v: IntValue, _ l: Label) {
    b.emit(.branch(c, a: a, b: v, target: l))
  }
  mutating func jump(_ l: Label) { b.emit(.jump(l)) }

  mutating func amax(_ f: Int, _ v: TensorView) { b.emit(.reduction(.amax, dest: f, source: v)) }
  mutating func sum(_ f: Int, _ v: TensorView) { b.emit(.reduction(.sum, dest: f, source: v)) }
  mutating func allReduceMax(_ f: Int, _ source: Int) {
    b.emit(.allReduce(AllReduce(.max, dest: f, source: .register(source))))
  }
  mutating func bias(_ r: Int, amax f: Int, _ format: DType, margin: Int) {
    b.emit(.bias(BiasRule(dest: r, amax: .register(f), format: format, margin: Int64(margin))))
  }

  mutating func vector(
    _ kind: VectorOperation.Kind, _ dst: TensorView, _ out: OutputOptions = OutputOptions()
  ) {
    b.emit(.vector(VectorOperation(kind, destination: dst, output: out)))
  }
  mutating func cast(_ dst: TensorView, _ src: TensorView, _ out: OutputOptions = OutputOptions()) {
    vector(.cast(src), dst, out)
  }
  mutating func binary(_ f: BinaryFunction, _ dst: TensorView, _ a: TensorView, _ c: VectorOperand) {
    vector(.binary(f, a: a, b: c), dst)
  }
  mutating func mma(
    _ d: TensorView, _ a: TensorView, _ bv: TensorView, transposeA: Bool = false, transposeB: Bool = false,
    clear: Bool = true
  ) {
    b.emit(
      .mma(MatrixMultiply(d: d, a: a, b: bv, transposeA: transposeA, transposeB: transposeB, clear: clear)))
  }

  /// `mov r, tid` then a loop over work items `r, r + ntiles, ...` below `count`: `body` sees the
  /// item's register. `prologue` runs first on the tiles that have an item (loads every item
  /// shares), not on the others.
  mutating func forEachItem(
    _ count: Int, register r: Int, _ name: String, prologue: (inout Emitter) -> Void = { _ in },
    _ body: (inout Emitter) -> Void
  ) {
    let top = label(name)
    let done = label(name + "_done")
    mov(r, .special(.tid))
    branch(.greaterOrEqual, .register(r), .constant(Int64(count)), done)
    prologue(&self)
    place(top)
    branch(.greaterOrEqual, .register(r), .constant(Int64(count)), done)
    body(&self)
    int(.add, r, .register(r), .special(.ntiles))
    jump(top)
    place(done)
  }
}

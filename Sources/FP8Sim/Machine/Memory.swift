import FP8Formats
import FP8ISA

/// The values of one tensor instance: `main` as the simulated device holds them (each exactly
/// representable in the tensor's type), `shadow` as the FP32 reference run computes them.
final class TensorStorage {
  var main: [Float]
  var shadow: [Float]
  init(count: Int) {
    main = [Float](repeating: 0, count: count)
    shadow = [Float](repeating: 0, count: count)
  }
}

/// Static facts about a declared tensor on a given device (a class: it is shared, never copied).
final class TensorLayout {
  let decl: TensorDecl
  let format: FloatFormat
  /// Row-major strides in elements.
  let strides: [Int]
  let elementBytes: Int
  /// Byte address in the DRAM address space (DRAM tensors) or byte offset in each tile's SRAM.
  let address: Int
  let count: Int
  let bytes: Int
  let isDRAM: Bool
  /// Bytes per element as SRAM traffic: accumulator storage counts none.
  let sramElementBytes: Int
  /// The shape and strides as `Dims`.
  let dims: Dims
  let dimStrides: Dims
  /// A block-scaled tensor's scheme.
  let blocking: BlockScaling?
  /// A tensor stored in records (`DType.record`: a block-scaled tensor's block records, the
  /// packed groups of an FP6 or FP4 tensor): its bytes are a grid of them, `recordBytes` each,
  /// row-major over the tensor's leading dimensions and its last two divided by the record's
  /// `recordRows × recordCols` elements.
  let recordRows: Int
  let recordCols: Int
  let recordBytes: Int
  /// Read per instruction, so kept as plain values (a `BlockScaling` or `DType` copy costs
  /// reference counting): whether the tensor is block-scaled, whether it is stored in records,
  /// its `mma` input class and the accumulator `acc=auto` means for it.
  let isBlocked: Bool
  let hasRecords: Bool
  let mmaInputClass: MMAInputClass?
  let autoAccumulator: Accumulator?

  init(decl: TensorDecl, format: FloatFormat, strides: [Int], address: Int) {
    blocking = decl.dtype.blocking
    let record = decl.dtype.record
    (recordRows, recordCols, recordBytes) = record ?? (1, 1, format.byteWidth)
    isBlocked = blocking != nil
    hasRecords = record != nil
    mmaInputClass = decl.dtype.mmaInputClass
    autoAccumulator = MatrixMultiply.accumulators(into: decl.dtype)?.first
    dims = Dims(decl.shape)
    dimStrides = Dims(strides)
    self.decl = decl
    self.format = format
    self.strides = strides
    self.elementBytes = format.byteWidth
    self.address = address
    self.count = decl.elementCount
    self.bytes = decl.byteCount  // the record grid's bytes for a block-scaled tensor (DType.bytes)
    self.isDRAM = decl.space == .dram
    self.sramElementBytes = decl.space == .acc ? 0 : format.byteWidth
  }

  /// Bytes of a view: its elements', or for a tensor stored in records, the records it touches
  /// (a partial record counts whole: the bytes of a packed FP4 or FP6 group, a block's elements
  /// and scale).
  @inline(__always)
  func bytes(of v: ResolvedView) -> Int {
    hasRecords ? recordsTouched(v) * recordBytes : v.count * elementBytes
  }

  /// As `bytes(of:)`, counting nothing for accumulator storage.
  @inline(__always)
  func sramBytes(of v: ResolvedView) -> Int { hasRecords ? bytes(of: v) : v.count * sramElementBytes }

  /// Which way a view's dimension runs on the tensor's plane (its last two dimensions).
  enum PlaneAxis {
    case rows, cols
    /// Across planes, `planes` of them per step.
    case planes(Int)
  }

  /// The axis of each dimension of `v` of extent more than 1, in order, or `nil` if one is
  /// none of these. A dimension of stride `cols` runs along rows (also when `cols` is 1; only
  /// the first such), one of stride 1 along columns (only the first), one of a multiple of the
  /// plane across planes; dimensions of extent 1 are part of the start only.
  func planeAxes(_ v: ResolvedView) -> [(extent: Int, axis: PlaneAxis)]? {
    let (rows, cols) = BlockScaling.plane(of: decl.shape)
    let plane = rows * cols
    var (haveRows, haveCols) = (false, false)
    var out: [(extent: Int, axis: PlaneAxis)] = []
    for i in 0..<v.shape.count where v.shape[i] > 1 {
      let (extent, stride) = (v.shape[i], v.strides[i])
      if rows > 1 && stride == cols && !haveRows {
        haveRows = true
        out.append((extent, .rows))
      } else if stride == 1 && !haveCols {
        haveCols = true
        out.append((extent, .cols))
      } else if stride % plane == 0 {
        out.append((extent, .planes(stride / plane)))
      } else {
        return nil
      }
    }
    return out
  }

  /// How a view lies on the tensor's plane: its first element's row and column, its extents
  /// along rows and columns, and how many planes it covers (`planeAxes`).
  func planeExtents(_ v: ResolvedView) -> (row: Int, col: Int, rows: Int, cols: Int, planes: Int)? {
    guard let axes = planeAxes(v) else { return nil }
    let (rows, cols) = BlockScaling.plane(of: decl.shape)
    var (rowExtent, colExtent, planes) = (1, 1, 1)
    for (extent, axis) in axes {
      switch axis {
      case .rows: rowExtent = extent
      case .cols: colExtent = extent
      case .planes: planes *= extent
      }
    }
    return ((v.offset / cols) % rows, v.offset % cols, rowExtent, colExtent, planes)
  }

  /// The records a view touches, whole or in part (its element count for a view whose
  /// dimensions do not lie along rows, columns and planes: at most that many).
  func recordsTouched(_ v: ResolvedView) -> Int {
    guard let e = planeExtents(v) else { return v.count }
    func blocks(_ start: Int, _ extent: Int, _ size: Int) -> Int {
      (start + extent - 1) / size - start / size + 1
    }
    return e.planes * blocks(e.row, e.rows, recordRows) * blocks(e.col, e.cols, recordCols)
  }

  /// A view of a tensor stored in records, in records (for transfers and line walks), or `nil`
  /// when the view does not cover whole records: along the tensor's last dimension (stride 1)
  /// and, for records of more than one row, its second-last, the view must start and end on
  /// record boundaries. Dimensions the view takes one index of are part of its start only.
  func recordView(_ v: ResolvedView) -> ResolvedView? {
    guard hasRecords else { return v }
    let b = (blockRows: recordRows, blockCols: recordCols)
    let (rows, cols) = BlockScaling.plane(of: decl.shape)
    let plane = rows * cols
    let recordCols = cols / b.blockCols
    let recordPlane = (rows / b.blockRows) * recordCols
    let col = v.offset % cols
    let row = (v.offset / cols) % rows
    guard col % b.blockCols == 0, row % b.blockRows == 0 else { return nil }
    guard let axes = planeAxes(v) else { return nil }
    var recordShape: [Int] = []
    var recordStrides: [Int] = []
    for (extent, axis) in axes {
      switch axis {
      case .rows:
        guard extent % b.blockRows == 0 else { return nil }
        recordShape.append(extent / b.blockRows)
        recordStrides.append(recordCols)
      case .cols:
        guard extent % b.blockCols == 0 else { return nil }
        recordShape.append(extent / b.blockCols)
        recordStrides.append(1)
      case .planes(let step):
        recordShape.append(extent)
        recordStrides.append(step * recordPlane)
      }
    }
    let offset = v.offset / plane * recordPlane + row / b.blockRows * recordCols + col / b.blockCols
    var high = offset
    for i in recordShape.indices { high += (recordShape[i] - 1) * recordStrides[i] }
    return ResolvedView(
      tensor: v.tensor, offset: offset, shape: Dims(recordShape), strides: Dims(recordStrides),
      count: recordShape.reduce(1, *), low: offset, high: high + 1)
  }

}

/// Up to `ProgramLimits.maxRank` extents or strides, held inline: a resolved view is a plain
/// value (resolving one allocates nothing; the simulator resolves several per instruction).
struct Dims: RandomAccessCollection, Hashable {
  private var values: (Int, Int, Int, Int) = (0, 0, 0, 0)
  private(set) var count = 0

  init() {}
  init(_ array: [Int]) {
    precondition(array.count <= 4, "more than 4 dimensions")
    for v in array { append(v) }
  }

  var startIndex: Int { 0 }
  var endIndex: Int { count }

  subscript(i: Int) -> Int {
    get {
      precondition(i >= 0 && i < count, "dimension out of range")
      switch i {
      case 0: return values.0
      case 1: return values.1
      case 2: return values.2
      default: return values.3
      }
    }
    set {
      precondition(i >= 0 && i < count, "dimension out of range")
      switch i {
      case 0: values.0 = newValue
      case 1: values.1 = newValue
      case 2: values.2 = newValue
      default: values.3 = newValue
      }
    }
  }

  mutating func append(_ v: Int) {
    precondition(count < 4, "more than 4 dimensions")
    count += 1
    self[count - 1] = v
  }

  static func == (a: Dims, b: Dims) -> Bool { a.elementsEqual(b) }
  func hash(into h: inout Hasher) {
    h.combine(count)
    for v in self { h.combine(v) }
  }
}

/// A view with every start resolved: the elements it covers, in row-major order of `shape`.
struct ResolvedView {
  var tensor: Int
  var offset: Int
  var shape: Dims
  var strides: Dims
  var count: Int
  /// Smallest and one-past-largest element index touched (a conservative range for hazards).
  var low: Int
  var high: Int

  /// Calls `body(offset, length, stride)` for each innermost run of the view, in order.
  @inline(__always)
  func forEachRun<E: Error>(_ body: (Int, Int, Int) throws(E) -> Void) throws(E) {
    try forEachRun(in: 0..<count, body)
  }

  /// Calls `body(offset, length, stride)` for the innermost runs covering the view's elements
  /// `range` (in row-major order of `shape`), in order, clipped to the range. Costs O(runs in
  /// the range), wherever the range starts.
  @inline(__always)
  func forEachRun<E: Error>(in range: Range<Int>, _ body: (Int, Int, Int) throws(E) -> Void) throws(E) {
    guard !range.isEmpty else { return }
    let rank = shape.count
    if rank == 0 {
      try body(offset, 1, 1)
      return
    }
    if rank <= 2 {  // the common case, without the index array below
      let inner = shape[rank - 1]
      let innerStride = strides[rank - 1]
      let outerStride = rank == 2 ? strides[0] : 0
      var row = range.lowerBound / inner
      var column = range.lowerBound % inner
      var position = range.lowerBound
      while position < range.upperBound {
        let length = min(inner - column, range.upperBound - position)
        try body(offset + row * outerStride + column * innerStride, length, innerStride)
        position += length
        column = 0
        row += 1
      }
      return
    }
    let inner = shape[rank - 1]
    let innerStride = strides[rank - 1]
    var rows = RowWalker(self, row: range.lowerBound / inner)
    var column = range.lowerBound % inner
    var position = range.lowerBound
    while position < range.upperBound {
      let length = min(inner - column, range.upperBound - position)
      try body(rows.base + column * innerStride, length, innerStride)
      position += length
      column = 0
      rows.advance()
    }
  }

  /// Where a view's rows (its innermost runs) start, one after another: the outer indices step
  /// like an odometer.
  struct RowWalker {
    private let shape: Dims
    private let strides: Dims
    private var index = Dims()
    /// The element offset where the current row starts.
    private(set) var base: Int

    init(_ view: ResolvedView, row: Int) {
      shape = view.shape
      strides = view.strides
      base = view.offset
      let outer = max(0, view.shape.count - 1)
      for _ in 0..<outer { index.append(0) }
      var row = row
      for d in stride(from: outer - 1, through: 0, by: -1) {
        index[d] = row % shape[d]
        row /= shape[d]
        base += index[d] * strides[d]
      }
    }

    mutating func advance() {
      var d = index.count - 1
      while d >= 0 {
        index[d] += 1
        base += strides[d]
        if index[d] < shape[d] { return }
        base -= strides[d] * shape[d]
        index[d] = 0
        d -= 1
      }
    }
  }

  /// The view's elements `range` of `source`.
  func gather(_ source: [Float], range: Range<Int>) -> [Float] {
    // Every element is written below: no zero fill first.
    [Float](unsafeUninitializedCapacity: range.count) { dst, initialized in
      var i = 0
      source.withUnsafeBufferPointer { src in
        forEachRun(in: range) { start, length, stride in
          if stride == 1, length > 0, let d = dst.baseAddress, let s = src.baseAddress {
            (d + i).initialize(from: s + start, count: length)
          } else {
            for j in 0..<length { dst[i + j] = src[start + j * stride] }
          }
          i += length
        }
      }
      initialized = range.count
    }
  }

  /// Copies the elements of `source` (a view of the same shape, over `from`) to this view's
  /// elements of `target`, row by row, with no intermediate array.
  func copy(_ source: ResolvedView, from: [Float], into target: inout [Float]) {
    precondition(source.shape == shape, "copy between views of different shapes")
    let rank = shape.count
    let inner = rank == 0 ? 1 : shape[rank - 1]
    let (si, di) = rank == 0 ? (1, 1) : (source.strides[rank - 1], strides[rank - 1])
    from.withUnsafeBufferPointer { src in
      target.withUnsafeMutableBufferPointer { dst in
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        // The rows of both views step together (row-major, same shape).
        var from = RowWalker(source, row: 0)
        var to = RowWalker(self, row: 0)
        for _ in 0..<(count / max(inner, 1)) {
          let (sb, db) = (from.base, to.base)
          if si == 1 && di == 1 {
            (d + db).update(from: s + sb, count: inner)
          } else {
            for j in 0..<inner { d[db + j * di] = s[sb + j * si] }
          }
          from.advance()
          to.advance()
        }
      }
    }
  }

  /// Writes `values` to the view's elements `range` of `target`.
  func scatter(_ values: [Float], range: Range<Int>, into target: inout [Float]) {
    var i = 0
    values.withUnsafeBufferPointer { src in
      target.withUnsafeMutableBufferPointer { dst in
        forEachRun(in: range) { start, length, stride in
          if stride == 1 {
            for j in 0..<length { dst[start + j] = src[i + j] }
          } else {
            for j in 0..<length { dst[start + j * stride] = src[i + j] }
          }
          i += length
        }
      }
    }
  }

  /// Whether the two views may touch a common element (same tensor, overlapping ranges).
  func mayOverlap(_ other: ResolvedView) -> Bool {
    tensor == other.tensor && low < other.high && other.low < high
  }

  func gather(_ source: [Float]) -> [Float] { gather(source, range: 0..<count) }

  func scatter(_ values: [Float], into target: inout [Float]) {
    scatter(values, range: 0..<count, into: &target)
  }
}

extension TensorLayout {
  /// Resolves `view` with the tile's registers; nil message means in bounds.
  func resolve(_ view: TensorView, registers: (SliceStart.Base) -> Int64) -> Result<
    ResolvedView, RuntimeFaultMessage
  > {
    let shape = decl.shape
    if view.indices.isEmpty {
      return .success(
        ResolvedView(
          tensor: view.tensor, offset: 0, shape: dims, strides: dimStrides, count: count, low: 0, high: count)
      )
    }
    var offset = 0
    var viewShape = Dims()
    var viewStrides = Dims()
    var high = 1  // one past the last element, accumulated as offset + Σ (len−1)·stride
    for (d, index) in view.indices.enumerated() {
      func start(_ s: SliceStart) -> Int64 {
        let base = s.base.map(registers) ?? 0
        let (v, overflow) = base.addingReportingOverflow(s.offset)
        return overflow ? .max : v
      }
      switch index {
      case .full:
        viewShape.append(shape[d])
        viewStrides.append(strides[d])
        high += (shape[d] - 1) * strides[d]
      case .range(let s, let length):
        let begin = start(s)
        guard begin >= 0, begin <= Int64(shape[d] - length) else {
          return .failure(
            RuntimeFaultMessage(
              "slice out of bounds: \(decl.name) dimension \(d) is 0..<\(shape[d]), the view asks \(begin):+\(length)"
            ))
        }
        offset += Int(begin) * strides[d]
        viewShape.append(length)
        viewStrides.append(strides[d])
        high += (length - 1) * strides[d]
      case .rangeOfRegister(let s, let register):
        let begin = start(s)
        let length = registers(.register(register))
        guard length >= 1 else {
          return .failure(
            RuntimeFaultMessage(
              "slice length r\(register) = \(length) for \(decl.name) dimension \(d) must be at least 1"))
        }
        guard begin >= 0, length <= Int64(shape[d]), begin <= Int64(shape[d]) - length else {
          return .failure(
            RuntimeFaultMessage(
              "slice out of bounds: \(decl.name) dimension \(d) is 0..<\(shape[d]), the view asks \(begin):+\(length) (r\(register) = \(length))"
            ))
        }
        offset += Int(begin) * strides[d]
        viewShape.append(Int(length))
        viewStrides.append(strides[d])
        high += (Int(length) - 1) * strides[d]
      case .index(let s):
        let i = start(s)
        guard i >= 0, i < Int64(shape[d]) else {
          return .failure(
            RuntimeFaultMessage(
              "index out of bounds: \(decl.name) dimension \(d) is 0..<\(shape[d]), index \(i)"))
        }
        offset += Int(i) * strides[d]
      }
    }
    let count = viewShape.reduce(1, *)
    return .success(
      ResolvedView(
        tensor: view.tensor, offset: offset, shape: viewShape, strides: viewStrides, count: count,
        low: offset,
        high: offset + high))
  }
}

/// A fault message before the instruction and tile are attached.
struct RuntimeFaultMessage: Error {
  var text: String
  init(_ text: String) { self.text = text }
}

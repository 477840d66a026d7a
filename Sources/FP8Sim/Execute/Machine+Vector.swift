import FP8Formats
import FP8ISA

/// Vector-unit instructions. Cost: `ceil(n · c / vector.elementsPerCycle)` cycles of occupancy
/// plus `vector.latency`, where n is the number of elements and c the per-element cost
/// (`costPerElement`).
extension Machine {
  /// Relative cost of one element of each vector instruction (an add is 1).
  func costPerElement(_ kind: VectorOperation.Kind) -> Double {
    let t = device.vectorTranscendentalCost
    switch kind {
    case .binary, .cast, .fill, .unary(.relu, _): return 1
    case .unary(.gelu, _), .unary(.exp, _), .unary(.geluTanh, _), .unary(.silu, _), .unary(.geluGrad, _),
      .unary(.geluTanhGrad, _), .unary(.siluGrad, _), .unary(.sqrt, _):
      return t
    case .softmax: return 2 + t  // max pass, exp-and-sum pass, scale pass
    case .rope: return t  // a sine and a cosine per pair, two products per element
    case .layernorm(_, _, _, _, let rms): return rms ? 3 : 4  // (mean,) variance, normalise, affine
    case .rowReduce: return 1  // per element of A
    }
  }

  /// `amax`, `rmax`, `rsum`: one pass over the elements, one element per lane-cycle.
  func executeReduction(
    _ reduction: Reduction, dest: Int, source: TensorView, tile id: Int, instruction: Instruction
  ) throws(RuntimeFaultMessage) {
    let (name, line) = (instruction.opcode.mnemonic, instruction.location.line)
    let a = try resolve(source, tile: id)
    let n = a.count
    if !options.timingOnly { try spend(n, weight: WorkCost.vectorElement) }
    try add(&compute.vectorElementOps, n)
    try add(&compute.sramBytes, layouts[a.tensor].sramBytes(of: a))
    try dispatch(
      unit: .vector, tile: id, reads: [Access(a)], writes: [], floatWrites: [dest],
      duration: cycles(Double(n), name), latency: Int64(device.vectorLatency), name: name, line: line)
    if options.timingOnly { return }
    // A fold over the elements in order, chunk by chunk (bounded temporaries).
    let s = try storage(a.tensor, tile: id)
    func fold(_ values: [Float]) -> Double {
      var acc: Double
      switch reduction {
      case .amax, .sum: acc = 0
      case .max: acc = -.infinity
      }
      for lo in stride(from: 0, to: n, by: Machine.chunkElements) {
        for f in a.gather(values, range: lo..<min(n, lo + Machine.chunkElements)) {
          let v = Double(f)
          switch reduction {
          case .amax: acc = VectorNumerics.maxNaN(acc, v.magnitude)
          case .max: acc = VectorNumerics.maxNaN(acc, v)
          case .sum: acc += v
          }
        }
      }
      return acc
    }
    tiles[id].floatRegisters[dest] = fold(s.main)
    tiles[id].shadowFloatRegisters[dest] = fold(s.shadow)
  }

  /// A vector instruction's inputs, resolved for one tile.
  enum VectorInputs {
    enum Second {
      /// A tensor of D's shape.
      case view(ResolvedView)
      /// One row applied to every row of D.
      case row(ResolvedView)
      /// One element per row of D (shape `[..., 1]`), applied to every element of its row.
      case column(ResolvedView)
      case value(FloatValue)
    }
    case binary((Double, Double) -> Double, a: ResolvedView, b: Second)
    /// Elementwise functions of one input (`cast` is the identity).
    case unary((Double) -> Double, a: ResolvedView)
    case fill(FloatValue)
    case softmax(ResolvedView)
    case rope(ResolvedView, position: Int, base: Double)
    case layernorm(ResolvedView, gamma: ResolvedView?, beta: ResolvedView?, eps: Double, rms: Bool)
    case rowReduce(Reduction, ResolvedView)

    var views: [ResolvedView] {
      switch self {
      case .binary(_, let a, .view(let b)), .binary(_, let a, .row(let b)), .binary(_, let a, .column(let b)):
        return [a, b]
      case .binary(_, let a, .value), .unary(_, let a), .softmax(let a), .rope(let a, _, _),
        .rowReduce(_, let a):
        return [a]
      case .fill: return []
      case .layernorm(let a, let g, let b, _, _): return [a] + [g, b].compactMap { $0 }
      }
    }

    var floatOperand: FloatValue? {
      switch self {
      case .binary(_, _, .value(let v)), .fill(let v): return v
      case .binary, .unary, .softmax, .layernorm, .rope, .rowReduce: return nil
      }
    }
  }

  /// Resolves the operands of `v` (A, then B, then gamma and beta) for tile `id`.
  func resolveInputs(_ v: VectorOperation, d: ResolvedView, tile id: Int) throws(RuntimeFaultMessage)
    -> VectorInputs
  {
    switch v.kind {
    case .binary(let f, let a, let b):
      let ra = try resolve(a, tile: id)
      switch b {
      case .view(let bv):
        let rb = try resolve(bv, tile: id)
        // The shape rules allowed D's shape, one row or one column.
        let second: VectorInputs.Second =
          rb.shape == d.shape || rb.count == d.count
          ? .view(rb)
          : ShapeRules.isColumnBroadcast(Array(rb.shape), to: Array(d.shape)) ? .column(rb) : .row(rb)
        return .binary(VectorNumerics.binary(f), a: ra, b: second)
      case .value(let x): return .binary(VectorNumerics.binary(f), a: ra, b: .value(x))
      }
    case .unary(let f, let a): return .unary(VectorNumerics.unary(f), a: try resolve(a, tile: id))
    case .cast(let a): return .unary({ $0 }, a: try resolve(a, tile: id))
    case .fill(let x): return .fill(x)
    case .softmax(let a): return .softmax(try resolve(a, tile: id))
    case .rowReduce(let r, let a): return .rowReduce(r, try resolve(a, tile: id))
    case .rope(let a, let position, let base):
      let ra = try resolve(a, tile: id)
      let width = ra.shape.last ?? 1
      guard width % 2 == 0 else {
        throw RuntimeFaultMessage("rope rotates pairs: the view's rows have \(width) elements, an odd number")
      }
      return .rope(ra, position: Int(int(position, tile: id)), base: base)
    case .layernorm(let a, let gamma, let beta, let eps, let rms):
      let ra = try resolve(a, tile: id)
      let rg = try gamma.map { g throws(RuntimeFaultMessage) in try resolve(g, tile: id) }
      let rb = try beta.map { b throws(RuntimeFaultMessage) in try resolve(b, tile: id) }
      return .layernorm(ra, gamma: rg, beta: rb, eps: eps, rms: rms)
    }
  }

  func executeVector(_ v: VectorOperation, tile id: Int, instruction: Instruction) throws(RuntimeFaultMessage)
  {
    let (name, line) = (instruction.opcode.mnemonic, instruction.location.line)
    let d = try resolve(v.destination, tile: id)
    // A cast chooses each block's scale from the whole block (timing-only runs fault too).
    if layouts[d.tensor].isBlocked, layouts[d.tensor].recordView(d) == nil {
      throw wholeRecords(layouts[d.tensor], "a cast must write")
    }
    let inputs = try resolveInputs(v, d: d, tile: id)
    var floatReads: [Int] = []
    if case .register(let r) = inputs.floatOperand { floatReads.append(r) }
    if case .register(let r)? = v.output.tensorAmax { floatReads.append(r) }
    let n = d.count
    if !options.timingOnly { try spend(n, weight: WorkCost.vectorElement) }
    // A cast into a block-scaled tensor reads each block twice: its amax, then the conversion.
    // A row reduction's work is one pass over A.
    var elements = n
    if case .rowReduce(_, let a) = inputs { elements = a.count }
    let work = Double(elements) * costPerElement(v.kind) * (layouts[d.tensor].isBlocked ? 2 : 1)
    // n ≤ 2^40 elements and the cost per element ≤ 10^6 + 2, so the product fits an Int.
    try add(&compute.vectorElementOps, Int(work.rounded(.up)))
    try add(&compute.sramBytes, layouts[d.tensor].sramBytes(of: d))
    for r in inputs.views { try add(&compute.sramBytes, layouts[r.tensor].sramBytes(of: r)) }
    let output = try outputCast(v.output, destination: d, tile: id)
    try dispatch(
      unit: .vector, tile: id, reads: AccessList(inputs.views.map(Access.init)), writes: [Access(d)],
      floatReads: floatReads,
      floatWrites: [v.output.amax, v.output.tensorScale].compactMap { $0 }, duration: cycles(work, name),
      latency: Int64(device.vectorLatency), name: name, line: line)
    if options.timingOnly { return }
    // NVFP4's tensor amax: the `tamax` value of the device run (NaN or inf makes every block
    // NaN); nil: the input's own.
    var tensorAmax: Double?
    if let t = v.output.tensorAmax {
      let x = float(t, tile: id).main
      guard !(x < 0) else { throw RuntimeFaultMessage("tamax is \(x): an amax is not negative") }
      tensorAmax = x
    }
    try computeVector(
      inputs, d: d, output: output, amaxRegister: v.output.amax, tensorScaleRegister: v.output.tensorScale,
      tensorAmax: tensorAmax, tile: id)
  }

  /// Elements a numeric vector instruction or transfer handles at once: temporaries stay at a
  /// few MiB whatever the tensor size.
  static let chunkElements = 1 << 16

  /// Elements per chunk of a vector instruction writing `d`: whole rows for row-wise
  /// operations; everything at once when a chunked input partly overlaps the output (every input
  /// is then read before any output is written). Broadcast rows and layer-norm parameters are
  /// gathered whole first, so they never force one piece.
  func chunkStep(_ inputs: VectorInputs, d: ResolvedView) -> Int {
    let width = d.shape.last ?? 1
    var rowWise = false
    var chunkedInputs: [ResolvedView] = []
    switch inputs {
    case .binary(_, let a, .view(let b)): chunkedInputs = [a, b]
    case .binary(_, let a, .row), .binary(_, let a, .column), .binary(_, let a, .value), .unary(_, let a):
      chunkedInputs = [a]
    case .fill: break
    case .rowReduce(_, let a):
      // Chunks of D's elements, each a whole row of A.
      if a.mayOverlap(d) { return d.count }
      return max(1, Machine.chunkElements / max(1, a.shape.last ?? 1))
    case .softmax(let a), .layernorm(let a, _, _, _, _), .rope(let a, _, _):
      rowWise = true
      chunkedInputs = [a]
    }
    func sameView(_ x: ResolvedView) -> Bool {
      x.tensor == d.tensor && x.offset == d.offset && x.shape == d.shape && x.strides == d.strides
    }
    if chunkedInputs.contains(where: { $0.mayOverlap(d) && !sameView($0) }) { return d.count }
    return rowWise ? max(1, Machine.chunkElements / max(1, width)) * width : Machine.chunkElements
  }

  /// The values of a vector instruction: inputs gathered (main and shadow) chunk by chunk,
  /// computed in f64, stored through the output cast. Chunks are whole rows for row-wise
  /// operations; an output that partly overlaps an input is computed in one piece (every input
  /// is read before any output is written).
  func computeVector(
    _ inputs: VectorInputs, d: ResolvedView, output: OutputCast, amaxRegister: Int?,
    tensorScaleRegister: Int? = nil,
    tensorAmax: Double? = nil,
    tile id: Int
  ) throws(RuntimeFaultMessage) {
    let n = d.count
    let width = d.shape.last ?? 1
    let step = chunkStep(inputs, d: d)
    let target = try storage(d.tensor, tile: id)
    // Touch the inputs in operand order (a tensor's storage is allocated on first use).
    for v in inputs.views { _ = try storage(v.tensor, tile: id) }
    /// A view's values in lo..<hi (main or shadow run).
    func values(_ v: ResolvedView, _ lo: Int, _ hi: Int, shadow: Bool) throws(RuntimeFaultMessage) -> [Double]
    {
      let s = try storage(v.tensor, tile: id)
      return v.gather(shadow ? s.shadow : s.main, range: lo..<hi).map(Double.init)
    }
    /// A whole view (a row or a layer-norm parameter), main and shadow, gathered once.
    func whole(_ v: ResolvedView?) throws(RuntimeFaultMessage) -> (main: [Double], shadow: [Double])? {
      guard let v else { return nil }
      return (try values(v, 0, v.count, shadow: false), try values(v, 0, v.count, shadow: true))
    }
    var row: (main: [Double], shadow: [Double])?
    var column: (main: [Double], shadow: [Double])?
    var gamma: (main: [Double], shadow: [Double])?
    var beta: (main: [Double], shadow: [Double])?
    var scalar: (main: Double, shadow: Double)?
    switch inputs {
    case .binary(_, _, .row(let b)): row = try whole(b)
    case .binary(_, _, .column(let b)): column = try whole(b)
    case .layernorm(_, let g, let b, _, _):
      gamma = try whole(g)
      beta = try whole(b)
    case .binary(_, _, .value(let x)), .fill(let x):
      let f = float(x, tile: id)
      scalar = (f.main, f.shadow)
    case .binary(_, _, .view), .unary, .softmax, .rope, .rowReduce: break
    }

    // Computes elements lo..<hi of one run (main or shadow).
    func compute(_ lo: Int, _ hi: Int, shadow: Bool) throws(RuntimeFaultMessage) -> [Double] {
      let count = hi - lo
      switch inputs {
      case .binary(let f, let a, let b):
        let av = try values(a, lo, hi, shadow: shadow)
        let bv: [Double]
        switch b {
        case .view(let b): bv = try values(b, lo, hi, shadow: shadow)
        case .row:
          let r = (shadow ? row?.shadow : row?.main) ?? []
          bv = (lo..<hi).map { r[$0 % width] }
        case .column:
          let c = (shadow ? column?.shadow : column?.main) ?? []
          bv = (lo..<hi).map { c[$0 / width] }
        case .value:
          bv = [Double](repeating: (shadow ? scalar?.shadow : scalar?.main) ?? 0, count: count)
        }
        return (0..<count).map { f(av[$0], bv[$0]) }
      case .unary(let f, let a): return try values(a, lo, hi, shadow: shadow).map(f)
      case .rowReduce(let r, let a):
        // D's elements lo..<hi are A's rows lo..<hi.
        let w = a.shape.last ?? 1
        return VectorNumerics.rowReduce(r, try values(a, lo * w, hi * w, shadow: shadow), width: w)
      case .fill: return [Double](repeating: (shadow ? scalar?.shadow : scalar?.main) ?? 0, count: count)
      case .softmax(let a): return VectorNumerics.softmax(try values(a, lo, hi, shadow: shadow), width: width)
      case .rope(let a, let position, let base):
        return VectorNumerics.rope(
          try values(a, lo, hi, shadow: shadow), width: width, firstPosition: position + lo / width,
          base: base)
      case .layernorm(let a, _, _, let eps, let rms):
        return VectorNumerics.layernorm(
          try values(a, lo, hi, shadow: shadow), width: width, gamma: shadow ? gamma?.shadow : gamma?.main,
          beta: shadow ? beta?.shadow : beta?.main, eps: eps, rms: rms)
      }
    }

    var counts = CastCounts()
    var amaxMain = 0.0
    var amaxShadow = 0.0
    var lo = 0
    if let scheme = layouts[d.tensor].blocking {
      // A cast into a block-scaled tensor: every block's values first (a block's scale depends
      // on all of them), then quantised as a [rows, width] matrix (whole blocks: checked by
      // `executeVector`).
      var xMain: [Double] = []
      var xShadow: [Double] = []
      while lo < n {
        let hi = min(n, lo + step)
        xMain += try compute(lo, hi, shadow: false)
        xShadow += try compute(lo, hi, shadow: true)
        lo = hi
      }
      // The view's values, row-major on the tensor's plane (whole blocks: checked), planes
      // stacked: a column of a `_t` tensor is that many rows of one column, not one row.
      let e = layouts[d.tensor].planeExtents(d) ?? (0, 0, n / width, width, 1)
      let q = scheme.quantize(xMain, rows: e.planes * e.rows, cols: e.cols, tensorAmax: tensorAmax)
      // NVFP4 holds its values divided by the tensor scale (element × block scale, exact), as the
      // hardware multiplies codes and block scales and leaves the tensor scales to the result;
      // the shadow is divided by the same scale, as a bias scales both runs.
      let g = Double(q.tensorScale ?? 1)
      d.scatter(q.values(includingTensorScale: false).map { Float($0) }, range: 0..<n, into: &target.main)
      d.scatter(xShadow.map { Float($0 / g) }, range: 0..<n, into: &target.shadow)
      if let r = tensorScaleRegister {
        tiles[id].floatRegisters[r] = g
        tiles[id].shadowFloatRegisters[r] = g
      }
      counts = q.casts
      amaxMain = VectorNumerics.amax(xMain)
      amaxShadow = VectorNumerics.amax(xShadow)
      lo = n
    }
    while lo < n {
      let hi = min(n, lo + step)
      let xMain = try compute(lo, hi, shadow: false)
      let xShadow = try compute(lo, hi, shadow: true)
      var stored = [Float](repeating: 0, count: hi - lo)
      for i in xMain.indices {
        let (v, e) = output.store(xMain[i], index: lo + i)
        stored[i] = v
        counts.record(e)
      }
      d.scatter(stored, range: lo..<hi, into: &target.main)
      d.scatter(xShadow.map { output.storeShadow($0) }, range: lo..<hi, into: &target.shadow)
      if amaxRegister != nil {
        // NaN anywhere makes the amax NaN.
        amaxMain = VectorNumerics.maxNaN(amaxMain, VectorNumerics.amax(xMain))
        amaxShadow = VectorNumerics.maxNaN(amaxShadow, VectorNumerics.amax(xShadow))
      }
      lo = hi
    }
    // Cast counts cannot overflow: they are at most compute.vectorElementOps, which is checked.
    castCounts[d.tensor, default: CastCounts()] = castCounts[d.tensor, default: CastCounts()] + counts
    if let r = amaxRegister {
      tiles[id].floatRegisters[r] = amaxMain
      tiles[id].shadowFloatRegisters[r] = amaxShadow
    }
  }

  /// Occupancy of `work` element operations on the vector unit.
  func cycles(_ work: Double, _ name: String) throws(RuntimeFaultMessage) -> Int64 {
    try RunLimits.cycles(
      work / device.vectorElementsPerCycle, "\(name) on \(ValueText.exact(work)) element operations")
  }

  /// The output options of a vector instruction writing `destination`.
  func outputCast(_ o: OutputOptions, destination: ResolvedView, tile id: Int) throws(RuntimeFaultMessage)
    -> OutputCast
  {
    let bias = Int(clamping: int(o.bias, tile: id))
    guard ScalingBias.validRange.contains(bias) else {
      throw RuntimeFaultMessage(
        "bias \(bias) is outside \(ScalingBias.validRange.lowerBound)...\(ScalingBias.validRange.upperBound)")
    }
    var seed: UInt64 = 0
    if o.rounding == .stochastic {
      // A fresh stream per instruction execution and tile, derived from the seed option.
      let userSeed = UInt64(bitPattern: o.seed)
      tiles[id].stochasticSequence += 1
      seed = RandomBits.at(seed: userSeed, index: UInt64(id) << 40 | tiles[id].stochasticSequence)
    }
    return OutputCast(
      format: layouts[destination.tensor].format, bias: bias, rounding: o.rounding, overflow: o.overflow,
      seed: seed)
  }

}

import FP8Formats
import FP8ISA

/// Vector-unit instructions. Cost: `ceil(n · c / vector.elementsPerCycle)` cycles of occupancy
/// plus `vector.latency`, where n is the number of elements and c the per-element cost
/// (`costPerElement`).
extension Machine {
  /// Relative cost of one element of each vector instruction (an add is 1).
  func costPerElement(_ opcode: Opcode) -> Double {
    let t = device.vectorTranscendentalCost
    switch opcode {
    case .gelu, .exp: return t
    case .softmax: return 2 + t  // max pass, exp-and-sum pass, scale pass
    case .layernorm: return 4  // mean, variance, normalise, affine
    default: return 1
    }
  }

  func executeVector(_ instruction: Instruction, tile id: Int) throws(RuntimeFaultMessage) {
    let op = instruction.opcode
    let ops = instruction.operands
    let line = instruction.location.line
    let name = op.mnemonic

    // Reductions write a float register.
    if op == .amax || op == .rmax || op == .rsum {
      let a = try resolve(ops[1].view!, tile: id)
      let n = a.count
      if !options.timingOnly { try spend(n, weight: WorkCost.vectorElement) }
      let dest = ops[0].floatRegister!
      try add(&compute.vectorElementOps, n)
      try add(&compute.sramBytes, n * layouts[a.tensor].elementBytes)
      try dispatch(
        unit: .vector, tile: id, reads: [Access(a)], writes: [], floatWrites: [dest],
        duration: cycles(Double(n), name), latency: Int64(device.vectorLatency), name: name, line: line)
      if !options.timingOnly {
        // A fold over the elements in order, chunk by chunk (bounded temporaries).
        let s = try storage(a.tensor, tile: id)
        func fold(_ values: [Float]) -> Double {
          var acc = op == .amax ? 0.0 : op == .rmax ? -Double.infinity : 0.0
          for lo in stride(from: 0, to: n, by: Machine.chunkElements) {
            for f in a.gather(values, range: lo..<min(n, lo + Machine.chunkElements)) {
              let v = Double(f)
              switch op {
              case .amax: acc = VectorNumerics.maxNaN(acc, v.magnitude)
              case .rmax: acc = VectorNumerics.maxNaN(acc, v)
              default: acc += v
              }
            }
          }
          return acc
        }
        tiles[id].floatRegisters[dest] = fold(s.main)
        tiles[id].shadowFloatRegisters[dest] = fold(s.shadow)
      }
      return
    }

    let d = try resolve(ops[0].view!, tile: id)
    var reads: [Access] = []
    var floatReads: [Int] = []
    var a: ResolvedView?
    if op != .vfill {
      a = try resolve(ops[1].view!, tile: id)
      reads.append(Access(a!))
    }
    var b: ResolvedView?
    var scalar: Operand?
    if ops.count > 2 {
      if let v = ops[2].view {
        b = try resolve(v, tile: id)
        reads.append(Access(b!))
      } else {
        scalar = ops[2]
        if let r = ops[2].floatRegister { floatReads.append(r) }
      }
    }
    if op == .vfill {
      scalar = ops[1]
      if let r = ops[1].floatRegister { floatReads.append(r) }
    }
    var gamma: ResolvedView?
    var beta: ResolvedView?
    if let g = instruction.options["gamma"]?.view {
      gamma = try resolve(g, tile: id)
      reads.append(Access(gamma!))
    }
    if let bt = instruction.options["beta"]?.view {
      beta = try resolve(bt, tile: id)
      reads.append(Access(beta!))
    }
    let amaxRegister = instruction.options["amax"]?.floatRegister
    let n = d.count
    if !options.timingOnly { try spend(n, weight: WorkCost.vectorElement) }
    let work = Double(n) * costPerElement(op)
    // n ≤ 2^40 elements and the cost per element ≤ 10^6 + 2, so the product fits an Int.
    try add(&compute.vectorElementOps, Int(work.rounded(.up)))
    try add(&compute.sramBytes, n * layouts[d.tensor].elementBytes)
    for r in [a, b, gamma, beta].compactMap({ $0 }) {
      try add(&compute.sramBytes, r.count * layouts[r.tensor].elementBytes)
    }
    let output = try outputCast(instruction, destination: d, tile: id)
    try dispatch(
      unit: .vector, tile: id, reads: reads, writes: [Access(d)], floatReads: floatReads,
      floatWrites: amaxRegister.map { [$0] } ?? [], duration: cycles(work, name),
      latency: Int64(device.vectorLatency), name: name, line: line)
    if options.timingOnly { return }
    try computeVector(
      op, d: d, a: a, b: b, scalar: scalar, gamma: gamma, beta: beta,
      eps: instruction.options["eps"].map { float($0, tile: id).main } ?? 1e-5, output: output,
      amaxRegister: amaxRegister, tile: id)
  }

  /// Elements a numeric vector instruction or transfer handles at once: temporaries stay at a
  /// few MiB whatever the tensor size.
  static let chunkElements = 1 << 16

  /// The values of a vector instruction: inputs gathered (main and shadow) chunk by chunk,
  /// computed in f64, stored through the output cast. Chunks are whole rows for row-wise
  /// operations; an output that partly overlaps an input is computed in one piece (every input
  /// is read before any output is written).
  func computeVector(
    _ op: Opcode, d: ResolvedView, a: ResolvedView?, b: ResolvedView?, scalar: Operand?,
    gamma: ResolvedView?, beta: ResolvedView?, eps: Double, output: OutputCast, amaxRegister: Int?,
    tile id: Int
  ) throws(RuntimeFaultMessage) {
    let n = d.count
    let width = d.shape.last ?? 1
    let rowWise = op == .softmax || op == .layernorm
    let broadcast = b.map { $0.count != n } ?? false
    func sameView(_ x: ResolvedView) -> Bool {
      x.tensor == d.tensor && x.offset == d.offset && x.shape == d.shape && x.strides == d.strides
    }
    // Broadcast rows and layer-norm parameters are gathered whole before anything is written;
    // chunking is safe unless a chunked input overlaps the output without being the same view.
    let chunkedInputs = [a, broadcast ? nil : b].compactMap { $0 }
    let partlyOverlapping = chunkedInputs.contains { $0.mayOverlap(d) && !sameView($0) }
    let step =
      partlyOverlapping
      ? n : rowWise ? max(1, Machine.chunkElements / max(1, width)) * width : Machine.chunkElements

    let target = try storage(d.tensor, tile: id)
    let sa = try a.map { v throws(RuntimeFaultMessage) in try storage(v.tensor, tile: id) }
    let sb = try b.map { v throws(RuntimeFaultMessage) in try storage(v.tensor, tile: id) }
    func whole(_ v: ResolvedView?, _ pick: (TensorStorage) -> [Float]) throws(RuntimeFaultMessage)
      -> [Double]?
    {
      guard let v else { return nil }
      return v.gather(pick(try storage(v.tensor, tile: id))).map(Double.init)
    }
    // Rows broadcast to every row, and layer-norm parameters: one row, gathered once.
    let bRowMain = broadcast ? try whole(b) { $0.main } : nil
    let bRowShadow = broadcast ? try whole(b) { $0.shadow } : nil
    let gMain = try whole(gamma) { $0.main }
    let gShadow = try whole(gamma) { $0.shadow }
    let beMain = try whole(beta) { $0.main }
    let beShadow = try whole(beta) { $0.shadow }
    var scalarValues: (main: Double, shadow: Double)?
    if let scalar {
      let f = float(scalar, tile: id)
      scalarValues = (f.main, f.shadow)
    }
    let f = rowWise ? nil : VectorNumerics.elementwise(op)
    var counts = CastCounts()
    var amaxMain = 0.0
    var amaxShadow = 0.0

    // Computes elements lo..<hi of one run (main or shadow).
    func compute(_ lo: Int, _ hi: Int, shadow: Bool) -> [Double] {
      let count = hi - lo
      let av = sa.map { s in a!.gather(shadow ? s.shadow : s.main, range: lo..<hi).map(Double.init) }
      if rowWise {
        let x = av!
        return op == .softmax
          ? VectorNumerics.softmax(x, width: width)
          : VectorNumerics.layernorm(
            x, width: width, gamma: shadow ? gShadow : gMain, beta: shadow ? beShadow : beMain, eps: eps)
      }
      var bv: [Double]
      if let row = shadow ? bRowShadow : bRowMain {
        bv = (lo..<hi).map { row[$0 % width] }
      } else if let sb {
        bv = b!.gather(shadow ? sb.shadow : sb.main, range: lo..<hi).map(Double.init)
      } else if let scalarValues {
        bv = [Double](repeating: shadow ? scalarValues.shadow : scalarValues.main, count: count)
      } else {
        bv = [Double](repeating: 0, count: count)
      }
      let am = av ?? [Double](repeating: 0, count: count)
      return (0..<count).map { f!(am[$0], bv[$0]) }
    }

    var lo = 0
    while lo < n {
      let hi = min(n, lo + step)
      let xMain = compute(lo, hi, shadow: false)
      let xShadow = compute(lo, hi, shadow: true)
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
  func outputCast(_ instruction: Instruction, destination: ResolvedView, tile id: Int)
    throws(RuntimeFaultMessage)
    -> OutputCast
  {
    let o = instruction.options
    let bias = o["bias"].map { Int(clamping: int($0, tile: id)) } ?? 0
    guard ScalingBias.validRange.contains(bias) else {
      throw RuntimeFaultMessage(
        "bias \(bias) is outside \(ScalingBias.validRange.lowerBound)...\(ScalingBias.validRange.upperBound)")
    }
    let rounding = o["round"]?.choiceValue.flatMap(RoundingMode.init(rawValue:)) ?? .nearestEven
    let overflow = o["overflow"]?.choiceValue.flatMap(OverflowMode.init(rawValue:)) ?? .nonfinite
    var seed: UInt64 = 0
    if rounding == .stochastic {
      // A fresh stream per instruction execution and tile, derived from the seed option.
      let userSeed = UInt64(bitPattern: o["seed"]?.intValue ?? 0)
      tiles[id].stochasticSequence += 1
      seed = RandomBits.at(seed: userSeed, index: UInt64(id) << 40 | tiles[id].stochasticSequence)
    }
    return OutputCast(
      format: layouts[destination.tensor].format, bias: bias, rounding: rounding, overflow: overflow,
      seed: seed)
  }

}

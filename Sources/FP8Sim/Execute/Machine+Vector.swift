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
        let s = try storage(a.tensor, tile: id)
        let main = a.gather(s.main).map(Double.init)
        let shadow = a.gather(s.shadow).map(Double.init)
        func reduce(_ v: [Double]) -> Double {
          switch op {
          case .amax: return VectorNumerics.amax(v)
          case .rmax: return v.reduce(-Double.infinity) { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }
          default: return v.reduce(0, +)
          }
        }
        tiles[id].floatRegisters[dest] = reduce(main)
        tiles[id].shadowFloatRegisters[dest] = reduce(shadow)
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

    // Values: gather inputs (main and shadow), compute in f64, store through the output cast.
    func values(_ v: ResolvedView?, _ pick: (TensorStorage) -> [Float]) throws(RuntimeFaultMessage)
      -> [Double]?
    {
      guard let v else { return nil }
      return v.gather(pick(try storage(v.tensor, tile: id))).map(Double.init)
    }
    let aMain = try values(a) { $0.main }
    let aShadow = try values(a) { $0.shadow }
    var bMain = try values(b) { $0.main }
    var bShadow = try values(b) { $0.shadow }
    let width = d.shape.last ?? 1
    if let bm = bMain, bm.count != n {  // one row broadcast over every row
      bMain = (0..<n).map { bm[$0 % width] }
      bShadow = (0..<n).map { bShadow![$0 % width] }
    }
    if let scalar {
      let f = float(scalar, tile: id)
      bMain = [Double](repeating: f.main, count: n)
      bShadow = [Double](repeating: f.shadow, count: n)
    }
    var xMain: [Double]
    var xShadow: [Double]
    switch op {
    case .softmax:
      xMain = VectorNumerics.softmax(aMain!, width: width)
      xShadow = VectorNumerics.softmax(aShadow!, width: width)
    case .layernorm:
      let eps = instruction.options["eps"].map { float($0, tile: id).main } ?? 1e-5
      let g = try values(gamma) { $0.main }
      let be = try values(beta) { $0.main }
      let gs = try values(gamma) { $0.shadow }
      let bs = try values(beta) { $0.shadow }
      xMain = VectorNumerics.layernorm(aMain!, width: width, gamma: g, beta: be, eps: eps)
      xShadow = VectorNumerics.layernorm(aShadow!, width: width, gamma: gs, beta: bs, eps: eps)
    default:
      let f = VectorNumerics.elementwise(op)
      let am = aMain ?? [Double](repeating: 0, count: n)
      let ashadow = aShadow ?? [Double](repeating: 0, count: n)
      let bm = bMain ?? [Double](repeating: 0, count: n)
      let bs = bShadow ?? [Double](repeating: 0, count: n)
      xMain = (0..<n).map { f(am[$0], bm[$0]) }
      xShadow = (0..<n).map { f(ashadow[$0], bs[$0]) }
    }
    try store(xMain, xShadow, into: d, cast: output, tile: id)
    if let r = amaxRegister {
      tiles[id].floatRegisters[r] = VectorNumerics.amax(xMain)
      tiles[id].shadowFloatRegisters[r] = VectorNumerics.amax(xShadow)
    }
  }

  /// Occupancy of `work` element operations on the vector unit.
  func cycles(_ work: Double, _ name: String) throws(RuntimeFaultMessage) -> Int64 {
    try cycleCount(work / device.vectorElementsPerCycle, "\(name) on \(ValueText.exact(work)) element operations")
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

  /// Stores results through the output cast (main) and as f32 (shadow), counting cast events.
  func store(_ main: [Double], _ shadow: [Double], into d: ResolvedView, cast: OutputCast, tile id: Int)
    throws(RuntimeFaultMessage)
  {
    var counts = CastCounts()
    var stored = [Float](repeating: 0, count: main.count)
    for i in main.indices {
      let (v, e) = cast.store(main[i], index: i)
      stored[i] = v
      counts.record(e)
    }
    let target = try storage(d.tensor, tile: id)
    d.scatter(stored, into: &target.main)
    d.scatter(shadow.map { cast.storeShadow($0) }, into: &target.shadow)
    // Cast counts cannot overflow: they are at most compute.vectorElementOps, which is checked.
    castCounts[d.tensor, default: CastCounts()] = castCounts[d.tensor, default: CastCounts()] + counts
  }
}

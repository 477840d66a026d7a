import Dispatch
import FP8Formats
import FP8ISA

/// `mma`. Cost: `ceil(M'·N'·K' / tensor.macsPerCycle[class])` cycles of occupancy plus
/// `tensor.latency`, where M', N' are M, N rounded up to `tensor.tileM`, `tensor.tileN` and K' is
/// K rounded up to `tensor.tileKBytes / (input bytes)` elements.
extension Machine {
  func executeMMA(_ mma: MatrixMultiply, tile id: Int, line: Int) throws(RuntimeFaultMessage) {
    let d = try resolve(mma.d, tile: id)
    let a = try resolve(mma.a, tile: id)
    let b = try resolve(mma.b, tile: id)
    let (ta, tb, clear) = (mma.transposeA, mma.transposeB, mma.clear)
    let (m, k) = ta ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let n = tb ? b.shape[0] : b.shape[1]
    let (la, lb, ld) = (layouts[a.tensor], layouts[b.tensor], layouts[d.tensor])
    guard let inputClass = la.mmaInputClass, let accumulator = mma.accumulator ?? ld.autoAccumulator else {
      throw RuntimeFaultMessage("internal error: an mma the assembler should have refused")
    }
    // f32rz reads each block's scale from its values: the views must cover whole blocks (the
    // assembler has checked that blocks run along K). Timing-only runs fault too.
    if accumulator == .f32rz {
      for (v, role) in [(a, "A"), (b, "B")]
      where layouts[v.tensor].isBlocked && layouts[v.tensor].recordView(v) == nil {
        throw RuntimeFaultMessage(
          "acc=f32rz: \(role) ('\(layouts[v.tensor].decl.name)') must cover whole blocks of K, as Blackwell's block-scaled MMA reads them"
        )
      }
    }
    let inputBytes = la.elementBytes
    let rate = device.macsPerCycle(inputClass)
    guard rate > 0 else {
      throw RuntimeFaultMessage(
        "\(device.name) has no tensor path for \(inputClass.rawValue) inputs\(inputClass == .fp6 ? " (FP6, or FP4 without block scales)" : "") (tensor.macsPerCycle.\(inputClass.rawValue) is 0)"
      )
    }
    let inputBits = inputClass == .fp4 ? 4 : 8 * inputBytes
    let (pm, pn, pk) = device.paddedMMAShape(m: m, n: n, k: k, inputBits: inputBits)
    let macs = try product(m, n, k)
    let padded = try product(pm, pn, pk)
    let duration = try RunLimits.cycles(
      Double(padded) / rate, "mma \(m)×\(n)×\(k) (\(padded) padded MACs)")
    if !options.timingOnly {
      try spend(macs, weight: WorkCost.mac(inputs: inputClass, accumulator: accumulator))
    }
    // Counted by key without building the names (`makeResult` does, once).
    let key = MMACounterKey(inputs: inputClass, a: a.tensor, b: b.tensor, accumulator: accumulator)
    var counts = mmaCounts[key, default: (0, 0)]
    try add(&counts.macs, macs)
    try add(&counts.padded, padded)
    mmaCounts[key] = counts
    let dBytes = ld.sramBytes(of: d)
    try add(
      &compute.sramBytes,
      la.bytes(of: a) + lb.bytes(of: b) + (clear ? 1 : 2) * dBytes)

    let amaxRegister = mma.amax
    var reads = AccessList(Access(a), Access(b))
    if !clear { reads.append(Access(d)) }
    try dispatch(
      unit: .tensor, tile: id, reads: reads, writes: AccessList(Access(d)),
      floatWrites: amaxRegister.map { [$0] } ?? [],
      duration: duration, latency: Int64(device.tensorLatency), name: "mma \(m)×\(n)×\(k)",
      line: line)
    if options.timingOnly { return }
    try computeMMA(
      mma, d: d, a: a, b: b, shape: (m, n, k), accumulator: accumulator, inputs: inputClass, tile: id)
  }

  /// The values of an `mma` (device run and FP32 shadow run) on packed copies of its operands.
  func computeMMA(
    _ mma: MatrixMultiply, d: ResolvedView, a: ResolvedView, b: ResolvedView, shape: (Int, Int, Int),
    accumulator: Accumulator, inputs inputClass: MMAInputClass, tile id: Int
  ) throws(RuntimeFaultMessage) {
    let (m, n, k) = shape
    let (ta, tb, clear) = (mma.transposeA, mma.transposeB, mma.clear)
    let sa = try storage(a.tensor, tile: id)
    let sb = try storage(b.tensor, tile: id)
    let sd = try storage(d.tensor, tile: id)
    // The numeric kernels work on packed copies of A, B and C (main and shadow, transposed
    // operands once more): they count against the values a numeric run may hold.
    let copies = try product(2, m * k + k * n + m * n) + (ta ? m * k : 0) + (tb ? k * n : 0)
    guard copies <= options.maxNumericElements - allocatedElements else {
      throw RuntimeFaultMessage(
        "this mma needs \(copies) temporary values besides the \(allocatedElements) the tensors hold: more than the \(options.maxNumericElements) a numeric run may hold; run with --timing-only, or use smaller tiles"
      )
    }
    @Sendable func packed(_ v: ResolvedView, _ values: [Float], transpose: Bool) -> [Float] {
      let g = v.gather(values)
      guard transpose else { return g }
      let rows = v.shape[0]
      let cols = v.shape[1]
      var t = [Float](repeating: 0, count: g.count)
      for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = g[r * cols + c] } }
      return t
    }
    // D as the whole tensor, row-major (an accumulator tile): the kernels work on its storage in
    // place, with no copy in and out.
    let whole =
      d.offset == 0 && d.count == layouts[d.tensor].count && d.shape.count == 2 && d.strides[1] == 1
      && d.strides[0] == n && a.tensor != d.tensor && b.tensor != d.tensor
    // The device values and the FP32 shadow are independent: each is one task (gathers, kernel,
    // scatter), the two run on two cores when the product is large enough to pay for it.
    // The device values of A and B are exact in their tensors' formats.
    // Block-scaled values are elements times scales: only their profile can promise exact
    // products (a power-of-two scale keeps the element's bits, an f32 scale does not).
    let blocked = layouts[a.tensor].blocking != nil || layouts[b.tensor].blocking != nil
    let formats = blocked ? nil : (a: layouts[a.tensor].format, b: layouts[b.tensor].format)
    let types = (
      a: (format: layouts[a.tensor].format, scheme: layouts[a.tensor].blocking),
      b: (format: layouts[b.tensor].format, scheme: layouts[b.tensor].blocking)
    )
    /// How f32rz reads a packed operand (`rows × cols`, K along rows for A, down columns for B).
    @Sendable func scaled(
      _ type: (format: FloatFormat, scheme: BlockScaling?), _ values: [Float], rows: Int, cols: Int,
      kAlongRows: Bool
    ) -> ScaledOperand {
      guard let scheme = type.scheme else { return .plain(type.format) }
      return .blockScaled(values, rows: rows, cols: cols, kAlongRows: kAlongRows, scheme: scheme)
    }
    let storages = UnsafeSendable((sa, sb, sd))
    // The two sides' results, for the amax register (a storage pair holds them).
    let results = UnsafeSendable(TensorStorage(count: 0))
    @Sendable func side(_ device: Bool) {
      let (sa, sb, sd) = storages.value
      let values: ReferenceWritableKeyPath<TensorStorage, [Float]> = device ? \.main : \.shadow
      let av = packed(a, sa[keyPath: values], transpose: ta)
      let bv = packed(b, sb[keyPath: values], transpose: tb)
      var c: [Float]
      if whole {
        c = sd[keyPath: values]
        sd[keyPath: values] = []
        if clear { c.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
      } else {
        c = clear ? [Float](repeating: 0, count: m * n) : d.gather(sd[keyPath: values])
      }
      if device && accumulator == .f32rz {
        MMANumerics.f32rz(
          a: av, b: bv, c: &c, m: m, n: n, k: k,
          scaling: (
            scaled(types.a, av, rows: m, cols: k, kAlongRows: true),
            scaled(types.b, bv, rows: k, cols: n, kAlongRows: false)
          ), fp4Sums: inputClass == .fp4 && blocked)
      } else if device {
        MMANumerics.multiply(
          a: av, b: bv, c: &c, m: m, n: n, k: k, accumulator: accumulator, inputs: inputClass,
          parallel: false, formats: formats)
      } else {
        MMANumerics.shadow(a: av, b: bv, c: &c, m: m, n: n, k: k, parallel: false)
      }
      if whole { sd[keyPath: values] = c } else { d.scatter(c, into: &sd[keyPath: values]) }
      results.value[keyPath: values] = c
    }
    if m * n * k >= MMAKernels.parallelThreshold {
      DispatchQueue.concurrentPerform(iterations: 2) { side($0 == 0) }
    } else {
      side(true)
      side(false)
    }
    if let r = mma.amax {
      tiles[id].floatRegisters[r] = VectorNumerics.amax(results.value.main.map(Double.init))
      tiles[id].shadowFloatRegisters[r] = VectorNumerics.amax(results.value.shadow.map(Double.init))
    }
  }
}

/// What the MACs of an `mma` are counted under: its input class, and the formats of A and B and
/// the accumulator (through the tensors, whose formats are fixed for the run).
struct MMACounterKey: Hashable {
  var inputs: MMAInputClass
  var a: Int
  var b: Int
  var accumulator: Accumulator
}

/// Programs built in Swift with `ProgramBuilder`: the kernels `fp8sim bench` and the tests run,
/// and the starting point of the generators to come.
public enum Kernels {
  /// The sizes of a GEMM C[M, N] = A[M, K] · B[K, N] and of its blocks (TM×TN outputs per block,
  /// TK-deep slices).
  public struct GEMMShape: Sendable, Hashable {
    public var m, n, k: Int
    public var tm, tn, tk: Int
    public init(m: Int, n: Int, k: Int, tm: Int, tn: Int, tk: Int) {
      (self.m, self.n, self.k, self.tm, self.tn, self.tk) = (m, n, k, tm, tn, tk)
    }
  }

  /// Sizes a kernel cannot be built for.
  public struct SizeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
  }

  /// FP8 GEMM across every tile with double-buffered DMA, f32 accumulation: the program of
  /// `examples/gemm_fp8.isa` (a test checks that building it with that file's sizes gives the
  /// same program, apart from the file's `.param`s). Tile t computes blocks t, t + ntiles, ...;
  /// for each block the K loop streams TM×TK slices of A and TK×TN slices of B into a two-slot
  /// buffer, the DMA engine filling one slot while the tensor unit multiplies the other. M, N and
  /// K must be multiples of TM, TN and TK: the program has no ragged-edge code.
  public static func doubleBufferedGEMM(
    _ s: GEMMShape, device: String? = nil, a aInit: Initializer = .randn(seed: 1, mean: 0, std: 1),
    b bInit: Initializer = .randn(seed: 2, mean: 0, std: 1)
  ) throws(SizeError) -> ProgramBuilder {
    for (name, size, block) in [("M", s.m, s.tm), ("N", s.n, s.tn), ("K", s.k, s.tk)] {
      guard block >= 1, size >= block, size <= ProgramLimits.maxDimension, size % block == 0 else {
        throw SizeError(
          description:
            "\(name) = \(size) must be a positive multiple of its block T\(name) = \(block) (at most 2^32)")
      }
    }
    let (m, n, k) = (Int64(s.m), Int64(s.n), Int64(s.k))
    let (tm, tn, tk) = (Int64(s.tm), Int64(s.tn), Int64(s.tk))
    let (blocks, overflow) = (m / tm).multipliedReportingOverflow(by: n / tn)
    guard !overflow else {
      throw SizeError(description: "M/TM · N/TN = \(m / tm)·\(n / tn) blocks is too many")
    }
    var p = ProgramBuilder(device: device, path: "built-gemm.isa")
    let a = p.tensor("A", .fp8e4, [s.m, s.k], .dram, aInit)
    let b = p.tensor("B", .fp8e4, [s.k, s.n], .dram, bInit)
    let c = p.tensor("C", .format(.f32), [s.m, s.n], .dram)
    let abuf = p.tensor("abuf", .fp8e4, [2, s.tm, s.tk], .sram)
    let bbuf = p.tensor("bbuf", .fp8e4, [2, s.tk, s.tn], .sram)
    let acc = p.tensor("acc", .format(.f32), [s.tm, s.tn], .sram)
    p.output(c)

    // r1 block, r2/r3 first row/column of the block, r4/r5 current/next k, r6/r7 current/other slot.
    let (block, done, kloop, last) = (p.label("block"), p.label("done"), p.label("kloop"), p.label("last"))
    let (multiply, first, next) = (p.label("multiply"), p.label("first"), p.label("next"))
    func slot(_ buffer: TensorHandle, _ r: SliceStart) -> TensorView { buffer[.index(r), .all, .all] }
    func load(_ slotIndex: SliceStart, kStart: SliceStart) -> [Operation] {
      [
        .dma(
          Transfer(
            .load, destination: slot(abuf, slotIndex),
            source: a[.range(.register(2), s.tm), .range(kStart, s.tk)])),
        .dma(
          Transfer(
            .load, destination: slot(bbuf, slotIndex),
            source: b[.range(kStart, s.tk), .range(.register(3), s.tn)])),
      ]
    }
    func mma(clear: Bool) -> Operation {
      .mma(MatrixMultiply(d: acc.all, a: slot(abuf, .register(6)), b: slot(bbuf, .register(6)), clear: clear))
    }

    p.emit(.move(dest: 1, source: .special(.tid)))
    p.place(block)
    p.emit(.branch(.greaterOrEqual, a: .register(1), b: .constant(blocks), target: done))
    p.emit(.integer(.div, dest: 2, a: .register(1), b: .constant(n / tn)))
    p.emit(.integer(.mul, dest: 2, a: .register(2), b: .constant(tm)))
    p.emit(.integer(.rem, dest: 3, a: .register(1), b: .constant(n / tn)))
    p.emit(.integer(.mul, dest: 3, a: .register(3), b: .constant(tn)))
    load(0, kStart: 0).forEach { p.emit($0) }
    p.emit(.move(dest: 4, source: 0))
    p.emit(.move(dest: 6, source: 0))
    p.place(kloop)
    p.emit(.integer(.add, dest: 5, a: .register(4), b: .constant(tk)))
    p.emit(.integer(.sub, dest: 7, a: 1, b: .register(6)))
    p.emit(.branch(.greaterOrEqual, a: .register(5), b: .constant(k), target: last))
    load(.register(7), kStart: .register(5)).forEach { p.emit($0) }
    p.emit(.dmaWait(keep: 2))
    p.emit(.jump(multiply))
    p.place(last)
    p.emit(.dmaWait(keep: 0))
    p.place(multiply)
    p.emit(.branch(.equal, a: .register(4), b: 0, target: first))
    p.emit(mma(clear: false))
    p.emit(.jump(next))
    p.place(first)
    p.emit(mma(clear: true))
    p.place(next)
    p.emit(.move(dest: 4, source: .register(5)))
    p.emit(.move(dest: 6, source: .register(7)))
    p.emit(.branch(.less, a: .register(4), b: .constant(k), target: kloop))
    p.emit(
      .dma(
        Transfer(
          .store, destination: c[.range(.register(2), s.tm), .range(.register(3), s.tn)], source: acc.all)))
    p.emit(.integer(.add, dest: 1, a: .register(1), b: .special(.ntiles)))
    p.emit(.jump(block))
    p.place(done)
    p.emit(.halt)
    return p
  }
}

/// A growable list of plain values reused from one instruction to the next (a transfer's L2
/// slots, evicted lines, runs of lines): appending is a store, with no copy-on-write check (an
/// `Array` in a struct checks its buffer is unshared on every append) and no exclusivity check.
/// Only for trivial types (no references to release).
final class Scratch<T> {
  @exclusivity(unchecked) private(set) var count = 0
  @exclusivity(unchecked) private var capacity = 64
  @exclusivity(unchecked) private var base: UnsafeMutablePointer<T>

  init() {
    precondition(_isPOD(T.self), "Scratch holds plain values only")
    base = .allocate(capacity: capacity)
  }

  deinit { base.deallocate() }

  @inline(__always)
  func append(_ value: T) {
    if count == capacity { grow() }
    (base + count).initialize(to: value)
    count += 1
  }

  func removeAll() { count = 0 }

  /// The values, valid until the next append or `removeAll`.
  var values: UnsafeBufferPointer<T> { UnsafeBufferPointer(start: base, count: count) }

  private func grow() {
    let larger = UnsafeMutablePointer<T>.allocate(capacity: 2 * capacity)
    larger.moveInitialize(from: base, count: count)
    base.deallocate()
    base = larger
    capacity *= 2
  }
}

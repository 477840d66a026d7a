/// Deterministic random numbers for stochastic rounding and tensor initialisers.
///
/// `SplitMix64` (Steele, Lea & Flood 2014) is a 64-bit generator that passes BigCrush and is
/// cheap enough to call per element. `RandomBits.at(seed:index:)` is counter-based: the bits for
/// element `i` depend only on `(seed, i)`, so results do not depend on evaluation order or on how
/// work is split across threads.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public private(set) var state: UInt64

  public init(seed: UInt64) { state = seed }

  /// What each step adds to the state: the generator k steps on from seed s is the one seeded
  /// with s + k · increment.
  public static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

  @inline(__always)
  public mutating func next() -> UInt64 {
    state &+= SplitMix64.increment
    return SplitMix64.mix(state)
  }

  /// The SplitMix64 output function (a bijective 64-bit mixer).
  @inline(__always)
  public static func mix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform `Double` in [0, 1) with 53 random bits.
  @inline(__always)
  public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// A standard normal deviate (Box–Muller, using two uniforms).
  public mutating func nextGaussian() -> Double {
    let u1 = 1 - nextUnit()  // (0, 1]
    let u2 = nextUnit()
    return (-2 * Math.log(u1)).squareRoot() * Math.cos(2 * Double.pi * u2)
  }
}

public enum RandomBits {
  /// 64 random bits for element `index` of a stream identified by `seed`.
  @inline(__always)
  public static func at(seed: UInt64, index: UInt64) -> UInt64 {
    SplitMix64.mix(SplitMix64.mix(seed &+ 0x9E37_79B9_7F4A_7C15) ^ (index &* 0xD1B5_4A32_D192_ED03))
  }
}

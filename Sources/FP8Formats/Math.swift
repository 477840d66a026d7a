#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The few libm functions the numerics need, in one place so that no module has to import
/// Foundation for them.
public enum Math {
  @inline(__always) public static func log(_ x: Double) -> Double { cLog(x) }
  @inline(__always) public static func log10(_ x: Double) -> Double { cLog10(x) }
  @inline(__always) public static func exp(_ x: Double) -> Double { cExp(x) }
  @inline(__always) public static func cos(_ x: Double) -> Double { cCos(x) }
  @inline(__always) public static func sin(_ x: Double) -> Double { cSin(x) }
  @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double { cPow(x, y) }
  @inline(__always) public static func tanh(_ x: Double) -> Double { cTanh(x) }
  @inline(__always) public static func erf(_ x: Double) -> Double { cErf(x) }
  @inline(__always) public static func expf(_ x: Float) -> Float { cExpf(x) }
  @inline(__always) public static func tanhf(_ x: Float) -> Float { cTanhf(x) }
  @inline(__always) public static func erff(_ x: Float) -> Float { cErff(x) }
}

// File-scope wrappers: inside `enum Math` the name `log` would mean `Math.log` itself.
@inline(__always) private func cLog(_ x: Double) -> Double { log(x) }
@inline(__always) private func cLog10(_ x: Double) -> Double { log10(x) }
@inline(__always) private func cExp(_ x: Double) -> Double { exp(x) }
@inline(__always) private func cCos(_ x: Double) -> Double { cos(x) }
@inline(__always) private func cSin(_ x: Double) -> Double { sin(x) }
@inline(__always) private func cPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) private func cTanh(_ x: Double) -> Double { tanh(x) }
@inline(__always) private func cErf(_ x: Double) -> Double { erf(x) }
@inline(__always) private func cExpf(_ x: Float) -> Float { expf(x) }
@inline(__always) private func cTanhf(_ x: Float) -> Float { tanhf(x) }
@inline(__always) private func cErff(_ x: Float) -> Float { erff(x) }

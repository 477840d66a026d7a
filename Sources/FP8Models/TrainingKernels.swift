import FP8Formats
import FP8ISA
import FP8Sim

/// The backward pass of a linear layer `Y = X·Wᵀ` (W `[outputs, inputs]` as PyTorch stores it)
/// in FP8, as the paper's Fig. 1: the output gradient dY cast to E5M2 (gradients need range),
/// W and X to E4M3, f32 accumulation, each GEMM a `LinearKernel` (scaling pass, cast pass,
/// K-sliced GEMM):
///
///     dX = dY·W      [rows, inputs]     A = dY [rows, outputs]; B = W, stored [K, N]
///     dW = dYᵀ·X     [outputs, inputs]  A = dY, stored [K, M] (transposed); B = X, stored [K, N]
///
/// The first step of issue 15's training generators: element-wise backward operations, the
/// optimizer and loss scaling are not built yet.
public struct LinearBackward: Sendable {
  public var rows: Int
  public var inputs: Int
  public var outputs: Int
  public var scaling: Scaling
  /// W's name for `weights` (dX's B operand); X and dY come in as kernel inputs.
  public var weight: String
  public var weights: WeightSource

  public init(
    rows: Int, inputs: Int, outputs: Int, scaling: Scaling, weight: String = "weight",
    weights: WeightSource = .random(seed: 1, std: 0.02)
  ) {
    self.rows = rows
    self.inputs = inputs
    self.outputs = outputs
    self.scaling = scaling
    self.weight = weight
    self.weights = weights
  }

  /// The gradients' FP8 type (E5M2; E5M2FNUZ on an IPU's `fp8e5`).
  static let gradient = DType.fp8e5

  /// `dX` (inputs `X` ← dY, `W` ← the weight) and `dW` (`X` ← dY, `W` ← the saved activation).
  public func kernels(device: DeviceConfig) throws(ModelError) -> [KernelLaunch] {
    if case .block = scaling {
      throw ModelError("block scaling of the backward GEMMs is not built (their operands run K-first)")
    }
    var dx = LinearKernel(
      "dX", rows: rows, inputs: outputs, outputs: inputs, weight: weight, bias: nil, scaling: scaling,
      weights: weights)
    dx.xType = Self.gradient
    dx.wKFirst = true
    var dw = LinearKernel(
      "dW", rows: outputs, inputs: rows, outputs: inputs, weight: "activation", bias: nil, scaling: scaling,
      weights: .random(seed: 0, std: 0))
    dw.xType = Self.gradient
    dw.xKFirst = true
    dw.wKFirst = true
    return [
      KernelLaunch(
        name: "dX", kind: .linear, builder: try dx.builder(device: device), inputs: ["X": "dy"], output: "dx"),
      KernelLaunch(
        name: "dW", kind: .linear, builder: try dw.builder(device: device), inputs: ["X": "dy", "W": "x"],
        output: "dw"),
    ]
  }
}

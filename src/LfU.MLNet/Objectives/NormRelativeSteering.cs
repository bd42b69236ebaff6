using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// The official LfU code's steering form: normalize(normalize(x) + α · u) · ‖x‖ over the last dimension, with u a unit
/// direction. It turns x by an angle set by α and keeps its norm, so α means the same whatever the scale of x, and the
/// perturbation survives bfloat16: it is computed in float32 (float64 for float64 inputs) and is a fraction α of ‖x‖,
/// far above bfloat16's rounding.
/// </summary>
internal static class NormRelativeSteering
{
    /// <summary>Floor of the norms divided by: a zero state (e.g. padding) stays zero instead of becoming NaN; no real norm is this small.</summary>
    const double NormFloor = 1e-30;

    /// <param name="x">(…, C) the states to steer, in any floating dtype.</param>
    /// <param name="direction">(C) a unit vector, or zeros for no steering.</param>
    /// <param name="alpha">The relative step α (a scalar tensor).</param>
    /// <returns>The steered states, in <paramref name="x"/>'s dtype.</returns>
    public static Tensor Apply(Tensor x, Tensor direction, Tensor alpha)
    {
        var wide = x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var xf = x.to(wide);
        var norm = xf.norm(-1, keepdim: true);                                   // (…, 1)
        var unitX = xf / norm.clamp_min(NormFloor);
        var turned = unitX + direction.to(wide) * alpha.to(wide);                // (…, C)
        var y = turned / turned.norm(-1, keepdim: true).clamp_min(NormFloor) * norm;
        return y.to(x.dtype);
    }

    /// <summary>d / ‖d‖, or zeros where d vanishes.</summary>
    public static Tensor Unit(Tensor d)
    {
        var n = d.norm();
        return where(n > 0, d / n.clamp_min(double.Epsilon), zeros_like(d));
    }
}

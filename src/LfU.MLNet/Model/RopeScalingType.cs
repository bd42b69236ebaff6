namespace LfU.MLNet.Model;

/// <summary>RoPE frequency scaling, as named by Hugging Face's <c>rope_type</c>.</summary>
public enum RopeScalingType
{
    /// <summary>No scaling.</summary>
    Default,
    /// <summary>Positions divided by <c>factor</c>.</summary>
    Linear,
    /// <summary>Llama 3.1's wavelength-dependent scaling.</summary>
    Llama3,
}

namespace LfU.MLNet.Objectives;

/// <summary>How far the perturbed model is from the clean one.</summary>
public enum ConsistencyMeasure
{
    /// <summary>Mean squared error of hidden states over response positions and hidden units (the paper's).</summary>
    Mse,
    /// <summary>1 − cosine similarity of hidden states, averaged over response positions.</summary>
    Cosine,
    /// <summary>KL(clean ‖ perturbed) of next-token distributions over response positions (the paper's logit-level ablation).</summary>
    LogitKl,
}

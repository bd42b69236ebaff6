namespace LfU.MLNet.Training;

/// <summary>An evaluation on the validation data.</summary>
/// <param name="Step">The optimizer step after which it ran.</param>
/// <param name="Loss">Mean cross-entropy over all validation response tokens.</param>
/// <param name="Tokens">Number of validation response tokens.</param>
public sealed record ValidationResult(int Step, double Loss, long Tokens);

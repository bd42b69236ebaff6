namespace LfU.Cli;

/// <summary>A bad combination of arguments found after parsing: reported like a parse error (exit code 2).</summary>
internal sealed class CliUsageException(string message) : Exception(message);

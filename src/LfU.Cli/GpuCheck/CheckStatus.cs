namespace LfU.Cli.GpuCheck;

/// <summary>How a gpu-check step ended.</summary>
internal enum CheckStatus
{
    /// <summary>Ran, and every stated tolerance or target held.</summary>
    Pass,
    /// <summary>Ran, and some tolerance or target did not hold (the report says which).</summary>
    Fail,
    /// <summary>Threw: the step could not measure (the report has the error).</summary>
    Error,
    /// <summary>Ran past its time budget and was cancelled or abandoned.</summary>
    Timeout,
}

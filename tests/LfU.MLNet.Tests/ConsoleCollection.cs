using Xunit;

namespace LfU.MLNet.Tests;

/// <summary>Tests that redirect Console.Out/Error (process-wide) run one at a time.</summary>
[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

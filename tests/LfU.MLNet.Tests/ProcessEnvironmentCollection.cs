using Xunit;

namespace LfU.MLNet.Tests;

/// <summary>
/// Tests that set process-wide environment variables the library reads (LFU_BASE_MODEL_DIR redirects every model
/// load in the process) run alone: a model loaded by a parallel test would otherwise follow the redirection.
/// </summary>
[CollectionDefinition("ProcessEnvironment", DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

using System.Diagnostics;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Tests.Checkpoints;
using Xunit;

namespace LfU.MLNet.Tests.IO;

/// <summary>A FIFO, device or directory where a model file is expected is refused before it is opened (a FIFO would block).</summary>
public sealed class NonRegularFileTests : IDisposable
{
    readonly ScratchFolder _scratch = new();
    string Dir => _scratch.Path;

    public void Dispose() => _scratch.Dispose();

    void MakeFifo(string name)
    {
        ChildProcess.Run("mkfifo", [Path.Combine(Dir, name)]).EnsureSuccess();
    }

    /// <summary>Runs <paramref name="load"/> on another thread so that a regression (a blocking open) fails instead of hanging the suite.</summary>
    static string RefusedAtOnce(Action load)
    {
        var attempt = Task.Run(() => Assert.Throws<InvalidDataException>(load).Message);
        Assert.True(attempt.Wait(TimeSpan.FromSeconds(10)), "the load blocked");
        return attempt.Result;
    }

    [Theory]
    [InlineData("config.json")]
    [InlineData("tokenizer.json")]
    [InlineData("tokenizer_config.json")]
    [InlineData("generation_config.json")]
    [InlineData("model.safetensors")]
    public void AFifoIsRefusedWithoutBlocking(string name)
    {
        if (OperatingSystem.IsWindows()) return;
        foreach (string file in Directory.GetFiles(TinyTextModel.Path)) File.Copy(file, Path.Combine(Dir, Path.GetFileName(file)));
        File.Delete(Path.Combine(Dir, name));
        MakeFifo(name);

        string message = RefusedAtOnce(() =>
        {
            if (name == "model.safetensors") CheckpointReader.OpenFolder(Dir).Dispose();
            else if (name == "config.json") ModelConfig.FromFile(Dir);
            else HfTokenizer.FromFolder(Dir);
        });

        Assert.Equal($"{Path.Combine(Dir, name)} is a FIFO (named pipe), not a regular file; model files must be regular files (copy the file itself there).", message);
    }

    [Fact]
    public void ASymlinkToADeviceIsRefused()
    {
        if (OperatingSystem.IsWindows()) return;
        string link = Path.Combine(Dir, "model.safetensors");
        File.CreateSymbolicLink(link, "/dev/zero");
        Assert.Contains("is a character device, not a regular file", RefusedAtOnce(() => SafeTensorsFile.Open(link).Dispose()));
    }

    [Fact]
    public void ADirectoryWhereATokenizerFileIsExpectedIsNamed()
    {
        File.WriteAllText(Path.Combine(Dir, "tokenizer.json"), "{}");
        Directory.CreateDirectory(Path.Combine(Dir, "tokenizer_config.json"));
        Assert.Equal($"{Path.Combine(Dir, "tokenizer_config.json")} is a directory, not a file; put the file itself there.", RefusedAtOnce(() => HfTokenizer.FromFolder(Dir)));
    }
}

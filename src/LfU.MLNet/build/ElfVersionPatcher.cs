// Shared by the library (runtime diagnosis) and by the MSBuild task in LfU.MLNet.targets (build-time patch).
// Compiled into the library with LFU_LIBRARY defined; the task factory compiles it without, which adds the ITask.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace LfU.MLNet.Native
{
    /// <summary>
    /// Reads and edits the GNU symbol-version requirements (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF file.
    /// TorchSharp 0.107.0's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13) for one symbol that GCC 13's
    /// &lt;iostream&gt; only references and never calls; marking that requirement weak lets it load on older libstdc++.
    /// </summary>
    public static class ElfVersionPatcher
    {
        public const string TorchSharpLibrary = "libLibTorchSharp.so";
        public const string RequiredGlibcxx = "GLIBCXX_3.4.32";
        const ushort VerFlagWeak = 0x2;
        const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>One version requirement: the library it is needed from, the version name and its flags.</summary>
        public readonly struct VersionNeed
        {
            public VersionNeed(string file, string version, ushort flags, long flagsOffset)
            { File = file; Version = version; Flags = flags; FlagsOffset = flagsOffset; }
            public string File { get; }
            public string Version { get; }
            public ushort Flags { get; }
            public bool IsWeak => (Flags & VerFlagWeak) != 0;
            internal long FlagsOffset { get; }
        }

        /// <summary>Lists every version requirement of an ELF file. Throws <see cref="InvalidDataException"/> on a malformed file.</summary>
        public static List<VersionNeed> ReadVersionNeeds(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");
            long shoff = checked((long)BitConverter.ToUInt64(elf, 0x28));
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            if (shentsize < 64 || shoff < 0 || shoff + (long)shentsize * shnum > elf.Length)
                throw new InvalidDataException("section header table lies outside the file");

            var needs = new List<VersionNeed>();
            for (int i = 0; i < shnum; i++)
            {
                long sh = shoff + (long)i * shentsize;
                if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
                long offset = checked((long)BitConverter.ToUInt64(elf, (int)sh + 0x18));
                long size = checked((long)BitConverter.ToUInt64(elf, (int)sh + 0x20));
                int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
                int count = (int)BitConverter.ToUInt32(elf, (int)sh + 0x2C);
                if (offset < 0 || offset + size > elf.Length || link >= shnum)
                    throw new InvalidDataException(".gnu.version_r lies outside the file");
                long strSh = shoff + (long)link * shentsize;
                long strOff = checked((long)BitConverter.ToUInt64(elf, (int)strSh + 0x18));
                long strSize = checked((long)BitConverter.ToUInt64(elf, (int)strSh + 0x20));
                if (strOff < 0 || strOff + strSize > elf.Length)
                    throw new InvalidDataException("dynamic string table lies outside the file");

                long vn = offset;
                for (int n = 0; n < count; n++)
                {
                    if (vn < offset || vn + 16 > offset + size) throw new InvalidDataException("version need entry out of range");
                    int auxCount = BitConverter.ToUInt16(elf, (int)vn + 2);
                    string file = ReadString(elf, strOff, strSize, BitConverter.ToUInt32(elf, (int)vn + 4));
                    long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        if (aux < offset || aux + 16 > offset + size) throw new InvalidDataException("version aux entry out of range");
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        string name = ReadString(elf, strOff, strSize, BitConverter.ToUInt32(elf, (int)aux + 8));
                        needs.Add(new VersionNeed(file, name, flags, aux + 4));
                        aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                    }
                    vn += BitConverter.ToUInt32(elf, (int)vn + 12);
                }
            }
            return needs;
        }

        static string ReadString(byte[] elf, long tableOffset, long tableSize, uint index)
        {
            if (index >= tableSize) throw new InvalidDataException("string index out of range");
            long start = tableOffset + index, end = start;
            while (end < tableOffset + tableSize && elf[end] != 0) end++;
            return Encoding.ASCII.GetString(elf, (int)start, (int)(end - start));
        }

        /// <summary>True when the given libstdc++ file defines the version name (e.g. GLIBCXX_3.4.32).</summary>
        public static bool LibraryDefinesVersion(string libraryPath, string version)
        {
            byte[] bytes = File.ReadAllBytes(libraryPath);
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            return IndexOf(bytes, needle) >= 0;
        }

        static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i <= haystack.Length - needle.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        /// <summary>The libstdc++.so.6 the dynamic loader will most likely pick: LD_LIBRARY_PATH first, then the usual system folders.</summary>
        public static string? FindSystemLibStdCxx()
        {
            var dirs = new List<string>();
            string? ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldPath)) dirs.AddRange(ldPath!.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
            dirs.AddRange(new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib64", "/usr/local/lib" });
            foreach (string dir in dirs)
            {
                string candidate = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        /// <summary>
        /// Decides whether the file needs the patch: it requires <see cref="RequiredGlibcxx"/> non-weakly and the system
        /// libstdc++ lacks it. Returns a human-readable reason either way.
        /// </summary>
        public static bool NeedsPatch(string elfPath, out string reason)
        {
            string? libstdcxx = FindSystemLibStdCxx();
            if (libstdcxx == null) { reason = "no libstdc++.so.6 found; nothing to compare against"; return false; }
            if (LibraryDefinesVersion(libstdcxx, RequiredGlibcxx)) { reason = $"{libstdcxx} provides {RequiredGlibcxx}"; return false; }
            foreach (var need in ReadVersionNeeds(File.ReadAllBytes(elfPath)))
                if (need.Version == RequiredGlibcxx && !need.IsWeak)
                {
                    reason = $"{libstdcxx} lacks {RequiredGlibcxx}, which {Path.GetFileName(elfPath)} requires";
                    return true;
                }
            reason = $"{Path.GetFileName(elfPath)} has no strong {RequiredGlibcxx} requirement";
            return false;
        }

        /// <summary>
        /// Marks the <see cref="RequiredGlibcxx"/> requirement weak, in place, by writing a patched temp file and renaming it
        /// over the original. Returns false when there was nothing to change.
        /// </summary>
        public static bool MarkRequirementWeak(string elfPath, string version = RequiredGlibcxx)
        {
            byte[] elf = File.ReadAllBytes(elfPath);
            bool changed = false;
            foreach (var need in ReadVersionNeeds(elf))
            {
                if (need.Version != version || need.IsWeak) continue;
                ushort flags = (ushort)(need.Flags | VerFlagWeak);
                elf[need.FlagsOffset] = (byte)(flags & 0xff);
                elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
                changed = true;
            }
            if (!changed) return false;
            string temp = elfPath + ".lfu-patch.tmp";
            File.WriteAllBytes(temp, elf);
            // Rename, never write in place: the output file may be a hard link into the NuGet cache, which must stay untouched.
            File.Replace(temp, elfPath, destinationBackupFileName: null);
            return true;
        }
    }
}

#if !LFU_LIBRARY
namespace LfU.MLNet.Build
{
    using LfU.MLNet.Native;
    using Microsoft.Build.Framework;
    using Microsoft.Build.Utilities;

    /// <summary>
    /// MSBuild task: marks TorchSharp's GLIBCXX_3.4.32 requirement weak in the copies of libLibTorchSharp.so under a
    /// build or publish folder, only when the machine's libstdc++ lacks that version. Never touches the NuGet cache.
    /// </summary>
    public class LfUPatchTorchSharpNative : Task
    {
        [Required] public string Directory { get; set; } = "";

        public override bool Execute()
        {
            if (!System.IO.Directory.Exists(Directory)) return true;
            foreach (string file in System.IO.Directory.GetFiles(Directory, ElfVersionPatcher.TorchSharpLibrary, System.IO.SearchOption.AllDirectories))
            {
                try
                {
                    if (!ElfVersionPatcher.NeedsPatch(file, out string reason))
                    {
                        Log.LogMessage(MessageImportance.Low, $"LfU.MLNet: {file} left as is ({reason}).");
                        continue;
                    }
                    if (ElfVersionPatcher.MarkRequirementWeak(file))
                        Log.LogMessage(MessageImportance.Normal, $"LfU.MLNet: marked {ElfVersionPatcher.RequiredGlibcxx} weak in {file} ({reason}).");
                }
                catch (System.Exception e)
                {
                    Log.LogWarning($"LfU.MLNet: could not patch {file}: {e.Message}. TorchSharp may fail to load on this system; install libstdc++6 from GCC 13 or newer.");
                }
            }
            return true;
        }
    }
}
#endif

namespace LfU.MLNet.IO;

/// <summary>A folder another run is writing to; the message names that run.</summary>
public sealed class FolderInUseException(string message) : IOException(message);

namespace System.Runtime.CompilerServices;

/// <summary>
/// Honoured by the .NET runtime (not by the C# compiler): code in this assembly may use non-public members of the
/// named assembly. Used to reach ML.NET's model save/load internals; see MLNet/LfUTransformer.Persistence.cs.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
{
    public string AssemblyName { get; } = assemblyName;
}

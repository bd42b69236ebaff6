using System.Reflection;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>
/// Finding and replacing modules by their dotted names (<c>model.layers.0.self_attn.q_proj</c>), as PyTorch's
/// <c>nn.Module.get_submodule</c> and <c>set_submodule</c> do. Knows nothing of what replaces what.
/// </summary>
public static class ModuleTree
{
    /// <summary>The module at <paramref name="target"/> below <paramref name="root"/>; throws naming the first missing part.</summary>
    public static nn.Module GetSubmodule(nn.Module root, string target)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrEmpty(target);
        nn.Module module = root;
        string path = "";
        foreach (string part in target.Split('.'))
        {
            module = Child(module, part) ?? throw new ArgumentException(
                $"{(path.Length == 0 ? "The module" : $"'{path}'")} has no submodule '{part}', so there is no '{target}' to find.", nameof(target));
            path = path.Length == 0 ? part : $"{path}.{part}";
        }
        return module;
    }

    /// <summary>
    /// Puts <paramref name="module"/> in the place of the submodule at <paramref name="target"/>, as PyTorch's
    /// <c>set_submodule</c> does: the parent's field of that component name now holds it (so the parent's forward uses it),
    /// and it is registered under the same name at the same position (so parameter names and their order stay as they were).
    /// </summary>
    /// <exception cref="ArgumentException">No such submodule, or the parent has no field of that name, or the field's type does not fit.</exception>
    public static void SetSubmodule(nn.Module root, string target, nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(target);
        int dot = target.LastIndexOf('.');
        var parent = dot < 0 ? root : GetSubmodule(root, target[..dot]);
        string name = target[(dot + 1)..];
        if (Child(parent, name) is null)
            throw new ArgumentException($"There is no submodule '{target}' to replace.", nameof(target));
        var field = ComponentField(parent, name) ?? throw new ArgumentException(
            $"'{target}' is registered on a {parent.GetType().Name} that has no field of that name, so a replacement would not be used; only modules held in fields can be replaced.", nameof(target));
        if (!field.FieldType.IsInstanceOfType(module))
            throw new ArgumentException(
                $"'{target}' is a field of type {field.FieldType.Name}; a {module.GetType().Name} does not fit it.", nameof(module));

        field.SetValue(parent, module);
        // TorchSharp registers anew only at the end, and register_module(name, null) is its public way to unregister.
        // To keep the child's position (PyTorch assigns in place), the siblings after it are unregistered and registered again.
        var later = parent.named_children().SkipWhile(c => c.name != name).Skip(1).ToList();
        parent.register_module(name, null!);
        foreach (var (sibling, _) in later) parent.register_module(sibling, null!);
        parent.register_module(name, module);
        foreach (var (sibling, child) in later) parent.register_module(sibling, child);
    }

    static nn.Module? Child(nn.Module parent, string name)
    {
        foreach (var (childName, child) in parent.named_children())
            if (childName == name) return child;
        return null;
    }

    /// <summary>
    /// The field TorchSharp's <c>RegisterComponents</c> registers under <paramref name="name"/>: it maps every instance
    /// field, public or not, to its <see cref="ComponentNameAttribute"/> name or else to the field's own name.
    /// </summary>
    static FieldInfo? ComponentField(nn.Module parent, string name)
    {
        for (var type = parent.GetType(); type is not null && type != typeof(nn.Module); type = type.BaseType)
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly))
                if ((field.GetCustomAttribute<ComponentNameAttribute>()?.Name ?? field.Name) == name) return field;
        return null;
    }
}

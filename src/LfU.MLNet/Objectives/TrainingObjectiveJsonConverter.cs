using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LfU.MLNet.Objectives;

/// <summary>
/// Writes an objective as its registry name and its own settings (the runtime type's properties), so that a
/// checkpoint records which objective, with which settings, shaped the trajectory. Objectives are not read back.
/// </summary>
internal sealed class TrainingObjectiveJsonConverter : JsonConverter<TrainingObjective>
{
    public override TrainingObjective Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("Objectives are recorded in checkpoints for comparison, not read back; build one with ObjectiveRegistry.Create.");

    public override void Write(Utf8JsonWriter writer, TrainingObjective value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("Name", value.Name);
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
                     .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always } && p.GetIndexParameters().Length == 0 && p.Name is not ("EqualityContract" or nameof(TrainingObjective.Name) or nameof(TrainingObjective.Cost)))
                     .OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            object? setting = property.GetValue(value);
            // Settings added later are left out while unset, so older checkpoints still compare equal.
            if (setting is null && property.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: JsonIgnoreCondition.WhenWritingNull }) continue;
            writer.WritePropertyName(property.Name);
            JsonSerializer.Serialize(writer, setting, property.PropertyType, options);
        }
        writer.WriteEndObject();
    }
}

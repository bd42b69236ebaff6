using System.Text.Json;

namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>Reads fields of a tokenizer file, naming the file and the field path in every error.</summary>
internal readonly record struct JsonFields(string File, string Path, JsonElement Element)
{
    public JsonFields Field(string name) =>
        TryField(name) ?? throw new InvalidDataException($"{File}: {Join(name)} is missing.");

    public JsonFields? TryField(string name) =>
        Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null
            ? new JsonFields(File, Join(name), value)
            : null;

    public string String(string name)
    {
        JsonFields field = Field(name);
        return field.Element.ValueKind == JsonValueKind.String
            ? field.Element.GetString()!
            : throw field.Error($"must be a string, not {field.Shown}");
    }

    public string? OptionalString(string name) => TryField(name) is not null ? String(name) : null;

    public bool Bool(string name, bool fallback)
    {
        if (TryField(name) is not { } field) return fallback;
        return field.Element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw field.Error("must be true or false"),
        };
    }

    public int Int(string name)
    {
        JsonFields field = Field(name);
        return field.Element.ValueKind == JsonValueKind.Number && field.Element.TryGetInt32(out int value)
            ? value
            : throw field.Error("must be an integer");
    }

    /// <summary>
    /// This value as a token id: an integer from 0 to <see cref="int.MaxValue"/> − 1, so that the vocabulary size
    /// (largest id + 1) still fits an int.
    /// </summary>
    public int AsTokenId() =>
        Element.ValueKind == JsonValueKind.Number && Element.TryGetInt32(out int id) && id is >= 0 and < int.MaxValue
            ? id
            : throw Error($"must be a token id (an integer from 0 to {int.MaxValue - 1}), not {Shown}");

    public int TokenId(string name) => Field(name).AsTokenId();

    /// <summary>This value as a number, e.g. a probability.</summary>
    public double AsNumber() =>
        Element.ValueKind == JsonValueKind.Number ? Element.GetDouble() : throw Error($"must be a number, not {Shown}");

    /// <summary>The value as the file has it, shortened, for error messages.</summary>
    public string Shown
    {
        get
        {
            string raw = Element.GetRawText();
            return raw.Length <= 40 ? raw : raw[..37] + "...";
        }
    }

    public IEnumerable<JsonFields> Items()
    {
        if (Element.ValueKind != JsonValueKind.Array) throw Error("must be an array");
        int index = 0;
        foreach (JsonElement item in Element.EnumerateArray()) yield return new JsonFields(File, $"{Path}[{index++}]", item);
    }

    public IEnumerable<(string Name, JsonFields Value)> Properties()
    {
        if (Element.ValueKind != JsonValueKind.Object) throw Error("must be an object");
        foreach (JsonProperty p in Element.EnumerateObject()) yield return (p.Name, new JsonFields(File, Join(p.Name), p.Value));
    }

    /// <summary>The component's "type" field, e.g. "BPE".</summary>
    public string Type => String("type");

    public InvalidDataException Error(string what) => new($"{File}: {(Path.Length == 0 ? "the file" : Path)} {what}.");

    public InvalidDataException Unsupported(string kind, string type, string supported) =>
        new($"{File}: {Join("type")} '{type}' is not supported (supported {kind}: {supported}).");

    string Join(string name) => Path.Length == 0 ? name : $"{Path}.{name}";
}

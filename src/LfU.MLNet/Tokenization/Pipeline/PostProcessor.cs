namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>
/// The ids tokenizer.json's post-processor puts around a single sequence when special tokens are added
/// (e.g. Llama's BOS). Pairs of sequences are not used by this library.
/// </summary>
internal static class PostProcessor
{
    const string Supported = "ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing, Sequence";

    public static (int[] Prefix, int[] Suffix)? FromJson(JsonFields? json, Func<string, int?> idOf)
    {
        if (json is not { } p) return null;
        switch (p.Type)
        {
            case "ByteLevel":
                return ([], []);
            case "TemplateProcessing":
            {
                var specialIds = new Dictionary<string, int[]>(StringComparer.Ordinal);
                if (p.TryField("special_tokens") is { } specials)
                    foreach (var (name, special) in specials.Properties())
                        specialIds[name] = special.Field("ids").Items().Select(i => i.AsTokenId()).ToArray();
                var prefix = new List<int>();
                var suffix = new List<int>();
                bool sequenceSeen = false;
                foreach (JsonFields item in p.Field("single").Items())
                {
                    if (item.TryField("Sequence") is not null) { sequenceSeen = true; continue; }
                    string name = item.Field("SpecialToken").String("id");
                    int[] ids = specialIds.TryGetValue(name, out int[]? known) ? known
                        : idOf(name) is int id ? [id] : throw item.Error($"names special token '{name}', which is neither in special_tokens nor in the vocabulary");
                    (sequenceSeen ? suffix : prefix).AddRange(ids);
                }
                return (prefix.ToArray(), suffix.ToArray());
            }
            case "RobertaProcessing" or "BertProcessing":
                return ([SpecialId(p, "cls")], [SpecialId(p, "sep")]);
            case "Sequence":
            {
                var prefix = new List<int>();
                var suffix = new List<int>();
                foreach (JsonFields step in p.Field("processors").Items())
                {
                    if (FromJson(step, idOf) is not var (stepPrefix, stepSuffix)) continue;
                    prefix.AddRange(stepPrefix);
                    suffix.AddRange(stepSuffix);
                }
                return (prefix.ToArray(), suffix.ToArray());
            }
            default:
                throw p.Unsupported("post-processors", p.Type, Supported);
        }
    }

    /// <summary>Roberta/Bert processors store tokens as ["&lt;s&gt;", 0].</summary>
    static int SpecialId(JsonFields processor, string name)
    {
        JsonFields[] pair = processor.Field(name).Items().ToArray();
        return pair.Length == 2 ? pair[1].AsTokenId() : throw processor.Field(name).Error("must be [token, id]");
    }
}

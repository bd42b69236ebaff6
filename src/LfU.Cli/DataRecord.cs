using System.Text.Json;
using System.Text.Json.Nodes;
using LfU.MLNet.Tokenization;

namespace LfU.Cli;

/// <summary>
/// One row of a data file, with the file name and 1-based line where it starts (for error messages). Text fields:
/// <c>prompt</c> and <c>response</c>; or Alpaca's <c>instruction</c>, optional <c>input</c> and <c>output</c>;
/// or (JSONL) a chat <c>messages</c> list of <c>{"role", "content"}</c> whose last message is the reply to learn.
/// Field names (CSV header columns, JSONL keys) match case-insensitively: <c>Prompt,Response</c> works; a row that has
/// two spellings of one name (<c>prompt</c> and <c>Prompt</c>) is an error rather than a guess.
/// </summary>
internal sealed record DataRecord(string File, int Line, JsonObject Fields)
{
    /// <summary>"file, line N", the prefix of every error about this row.</summary>
    internal string Where => $"{File}, line {Line}";

    /// <summary>The instruction: <c>prompt</c>, or <c>instruction</c> followed by a blank line and <c>input</c> when given.</summary>
    internal string Prompt()
    {
        if (Text("prompt") is { } prompt) return prompt;
        if (Text("instruction") is { } instruction)
            return Text("input") is { Length: > 0 } input ? instruction + "\n\n" + input : instruction;
        if (Has("messages"))
            throw new InvalidDataException($"{Where}: chat \"messages\" rows can only be trained on; give a \"prompt\" field here.");
        throw new InvalidDataException($"{Where}: no \"prompt\" (or \"instruction\") field; found {FieldList()}.");
    }

    /// <summary>The response to learn or score: <c>response</c>, or <c>output</c>.</summary>
    internal string Response() =>
        Text("response") ?? Text("output") ?? throw new InvalidDataException($"{Where}: no \"response\" (or \"output\") field; found {FieldList()}.");

    /// <summary>The reference answer for evaluation: <c>answer</c>, else the response.</summary>
    internal string Answer() => Text("answer") ?? Text("response") ?? Text("output")
        ?? throw new InvalidDataException($"{Where}: no \"answer\" (or \"response\") field to compare the generation with; found {FieldList()}.");

    /// <summary>The conversation to train on: the chat messages, or the prompt followed by the response.</summary>
    internal IReadOnlyList<ChatMessage> Conversation()
    {
        if (!TryGet("messages", out var node)) return [new ChatMessage("user", Prompt()), new ChatMessage("assistant", Response())];
        if (node is not JsonArray array || array.Count < 2)
            throw new InvalidDataException($"{Where}: \"messages\" must be a list of at least two {{\"role\", \"content\"}} objects.");
        var messages = new List<ChatMessage>();
        foreach (var (item, i) in array.Select((m, i) => (m, i)))
        {
            if (item is not JsonObject m || Lookup(m, "role", $"messages[{i}]") is not JsonValue role || role.GetValueKind() != JsonValueKind.String
                || Lookup(m, "content", $"messages[{i}]") is not JsonValue content || content.GetValueKind() != JsonValueKind.String)
                throw new InvalidDataException($"{Where}: messages[{i}] must be an object with string \"role\" and \"content\".");
            string name = role.GetValue<string>();
            if (name is not ("system" or "user" or "assistant"))
                throw new InvalidDataException($"{Where}: messages[{i}] has role \"{name}\"; use system, user or assistant.");
            messages.Add(new ChatMessage(name, content.GetValue<string>()));
        }
        if (messages[^1].Role != "assistant")
            throw new InvalidDataException($"{Where}: the last message must be the assistant's reply to learn (it is \"{messages[^1].Role}\").");
        return messages;
    }

    /// <summary>A text field; numbers and booleans are taken as their JSON text; null when absent or JSON null.</summary>
    internal string? Text(string name)
    {
        if (!TryGet(name, out var node) || node is null) return null;
        if (node is JsonValue value)
        {
            return value.GetValueKind() switch
            {
                JsonValueKind.String => value.GetValue<string>(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
                _ => null,
            };
        }
        throw new InvalidDataException($"{Where}: field \"{name}\" must be text, not {(node is JsonArray ? "a list" : "an object")}.");
    }

    bool Has(string name) => TryGet(name, out _);

    /// <summary>The field called <paramref name="name"/> in any letter case; null node for JSON null.</summary>
    bool TryGet(string name, out JsonNode? node)
    {
        node = Lookup(Fields, name, null);
        return node is not null || Fields.Any(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The value of the one key of <paramref name="obj"/> equal to <paramref name="name"/> ignoring case; two such keys are an error.</summary>
    JsonNode? Lookup(JsonObject obj, string name, string? inside)
    {
        if (obj.TryGetPropertyValue(name, out var exact) && !obj.Any(f => f.Key != name && string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)))
            return exact;
        var matches = obj.Where(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count > 1)
            throw new InvalidDataException($"{Where}: {(inside is null ? "" : inside + ": ")}both {string.Join(" and ", matches.Select(f => $"\"{f.Key}\""))} are given; " +
                "field names match regardless of case, so keep only one.");
        return matches.Count == 1 ? matches[0].Value : null;
    }

    string FieldList() => Fields.Count == 0 ? "no fields" : string.Join(", ", Fields.Select(f => $"\"{f.Key}\""));
}

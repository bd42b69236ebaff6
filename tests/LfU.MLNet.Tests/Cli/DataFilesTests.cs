using LfU.Cli;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

public sealed class DataFilesTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-data-");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void CsvFieldsMayQuoteCommasQuotesAndLineBreaks()
    {
        string path = Write("d.csv", "\uFEFFprompt,response,category\r\n" +
                                     "\"Add 2, then 3\",\"5\",math\r\n" +
                                     "\"Say \"\"hi\"\"\",\"line one\nline two\",\r\n" +
                                     "\r\n" +
                                     "plain,\"\",x");
        var rows = DataFiles.Read(path);

        Assert.Equal(3, rows.Count);
        Assert.Equal(("Add 2, then 3", "5", "math"), (rows[0].Prompt(), rows[0].Response(), rows[0].Text("category")));
        Assert.Equal(("Say \"hi\"", "line one\nline two", ""), (rows[1].Prompt(), rows[1].Response(), rows[1].Text("category")));
        Assert.Equal(("plain", ""), (rows[2].Prompt(), rows[2].Response()));
        // Each record is named by the line it starts on; the quoted line break moves the next record down.
        Assert.Equal(new[] { 2, 3, 6 }, rows.Select(r => r.Line));
    }

    [Fact]
    public void ColumnNamesAndKeysMatchRegardlessOfCase()
    {
        var csv = DataFiles.Read(Write("d.csv", "Prompt,RESPONSE,Category\nWhat is 2+3?,5,math\n"));
        Assert.Equal(("What is 2+3?", "5", "math"), (csv[0].Prompt(), csv[0].Response(), csv[0].Text("category")));

        var jsonl = DataFiles.Read(Write("d.jsonl",
            "{\"Instruction\":\"Add\",\"Input\":\"2 and 3\",\"Output\":\"5\"}\n" +
            "{\"Messages\":[{\"Role\":\"user\",\"Content\":\"hi\"},{\"role\":\"assistant\",\"CONTENT\":\"hello\"}]}\n"));
        Assert.Equal(("Add\n\n2 and 3", "5"), (jsonl[0].Prompt(), jsonl[0].Response()));
        Assert.Equal([("user", "hi"), ("assistant", "hello")], jsonl[1].Conversation().Select(m => (m.Role, m.Content)));
    }

    [Fact]
    public void TwoSpellingsOfOneFieldAreAnErrorNamingBoth()
    {
        var csv = DataFiles.Read(Write("d.csv", "prompt,Prompt,response\na,b,c\n"));
        var e = Assert.Throws<InvalidDataException>(() => csv[0].Prompt());
        Assert.Equal("d.csv, line 2: both \"prompt\" and \"Prompt\" are given; field names match regardless of case, so keep only one.", e.Message);

        var jsonl = DataFiles.Read(Write("d.jsonl", "{\"prompt\":\"a\",\"response\":\"b\",\"Response\":\"c\"}\n"));
        Assert.Contains("\"response\" and \"Response\"", Assert.Throws<InvalidDataException>(() => jsonl[0].Response()).Message);
    }

    [Theory]
    [InlineData("prompt,response\na,b\n\"open,b\nc,d\n", "d.csv, line 3: a quoted field is never closed")]
    [InlineData("prompt,response\na,b\na,b,c\n", "d.csv, line 3: 3 fields but the header has 2")]
    [InlineData("prompt,response\na,\"b\"x\n", "d.csv, line 2: text after a closing quote")]
    [InlineData("prompt,response\na,b\"c\n", "d.csv, line 2: a quote inside an unquoted field")]
    [InlineData("prompt,prompt\na,b\n", "d.csv, line 1: the header names column \"prompt\" twice")]
    public void MalformedCsvNamesTheLine(string text, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => DataFiles.Read(Write("d.csv", text)));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void JsonlReadsAlpacaKeysAndChatMessages()
    {
        string path = Write("d.jsonl",
            "{\"instruction\":\"Translate\",\"input\":\"chat\",\"output\":\"cat\"}\n" +
            "\n" +
            "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello\"}]}\n" +
            "{\"prompt\":\"2+2?\",\"answer\":4}\n");
        var rows = DataFiles.Read(path);

        Assert.Equal("Translate\n\nchat", rows[0].Prompt());
        Assert.Equal(new[] { "user", "assistant" }, rows[0].Conversation().Select(m => m.Role));
        Assert.Equal("cat", rows[0].Conversation()[1].Content);
        Assert.Equal(3, rows[1].Line);
        Assert.Equal(new[] { "system", "user", "assistant" }, rows[1].Conversation().Select(m => m.Role));
        Assert.Equal("4", rows[2].Answer());
    }

    [Theory]
    [InlineData("{\"prompt\":\"a\",\"response\":\"b\"}\n{\"prompt\": \"a\",\n", "d.jsonl, line 2: not valid JSON")]
    [InlineData("[1,2]\n", "d.jsonl, line 1: expected a JSON object, found array")]
    public void MalformedJsonlNamesTheLine(string text, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => DataFiles.Read(Write("d.jsonl", text)));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void RowsWithoutTheNeededFieldsAreNamed()
    {
        var rows = DataFiles.Read(Write("d.jsonl",
            "{\"question\":\"a\"}\n{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"}]}\n{\"prompt\":[1]}\n"));
        Assert.Equal("d.jsonl, line 1: no \"prompt\" (or \"instruction\") field; found \"question\".", Assert.Throws<InvalidDataException>(() => { _ = rows[0].Prompt(); }).Message);
        Assert.StartsWith("d.jsonl, line 2: the last message must be the assistant's reply", Assert.Throws<InvalidDataException>(() => { _ = rows[1].Conversation(); }).Message);
        Assert.StartsWith("d.jsonl, line 3: field \"prompt\" must be text", Assert.Throws<InvalidDataException>(() => { _ = rows[2].Prompt(); }).Message);
        Assert.StartsWith("d.txt: unknown data format '.txt'", Assert.Throws<InvalidDataException>(() => DataFiles.Read(Write("d.txt", "x"))).Message);
        Assert.StartsWith("e.jsonl: the file has no data rows", Assert.Throws<InvalidDataException>(() => DataFiles.Read(Write("e.jsonl", "\n"))).Message);
    }

    [Theory]
    [InlineData("d.jsonl")]
    [InlineData("d.csv")]
    public void NonUtf8BytesAreAnErrorNamingTheFileAndLine(string name)
    {
        string header = name.EndsWith(".csv") ? "prompt,response\n" : "";
        string good = name.EndsWith(".csv") ? "a,b\n" : "{\"prompt\": \"a\", \"response\": \"b\"}\n";
        string path = Path.Combine(_dir, name);
        var bytes = new List<byte>(System.Text.Encoding.UTF8.GetBytes(header + good + good));
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(name.EndsWith(".csv") ? "caf" : "{\"prompt\": \"caf"));
        bytes.Add(0xE9);  // Latin-1 'é'
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(name.EndsWith(".csv") ? ",x\n" : "\", \"response\": \"x\"}\n"));
        File.WriteAllBytes(path, bytes.ToArray());

        var error = Assert.Throws<InvalidDataException>(() => DataFiles.Read(path));

        int line = name.EndsWith(".csv") ? 4 : 3;
        Assert.StartsWith($"{name}, line {line}: byte ", error.Message);
        Assert.EndsWith("(0xE9) is not valid UTF-8; save the file as UTF-8.", error.Message);
    }

    [Theory]
    [InlineData("long.jsonl")]
    [InlineData("long.csv")]
    public void AnOverlongRowIsRefusedQuickly(string name)
    {
        string path = Path.Combine(_dir, name);
        using (var writer = new StreamWriter(path))
        {
            writer.Write(name.EndsWith(".csv") ? "prompt,response\nhi,\"" : "{\"prompt\": \"hi\", \"response\": \"");
            var chunk = new string('x', 1 << 20);
            for (int i = 0; i < 50; i++) writer.Write(chunk);  // a 50 MB row
            writer.Write(name.EndsWith(".csv") ? "\"\n" : "\"}\n");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = Assert.Throws<InvalidDataException>(() => DataFiles.Read(path));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.StartsWith($"{name}, line {(name.EndsWith(".csv") ? 2 : 1)}: the ", error.Message);
        Assert.Contains("longer than 1024 KiB, the limit for one row", error.Message);
    }
}

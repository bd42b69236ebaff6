using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LfU.MLNet.Benchmark;
using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Tokenization;

public class BpeTrainerTests
{
    static readonly Lazy<List<string>> Corpus = new(() =>
        MiniWorld.Generate(new MiniWorldOptions { PretrainSize = 2000 }).Pretrain.SelectMany(i => new[] { i.Prompt, i.Response }).ToList());

    static readonly Lazy<(TrainedBpe Bpe, byte[] Json)> Trained = new(() =>
    {
        var bpe = BpeTrainer.Train(Corpus.Value, 600);
        return (bpe, bpe.ToTokenizerJson());
    });

    static readonly string[] UnseenTexts =
    [
        "Zyx quortle 98765 flibber!",
        "  two leading spaces, tabs\tand\r\nwindows newlines\n\n",
        "It's what they've said: don't, I'LL go.",
        "naïve café, ünïcode 日本語 and an emoji \U0001F600",
        "trailing space ",
        "",
    ];

    /// <summary>
    /// An encoder written from the tokenizer.json alone, as Hugging Face's runs it: split with the file's regex
    /// (Isolated), map bytes to GPT-2's characters, then repeatedly merge the adjacent pair of lowest rank.
    /// </summary>
    sealed class ReferenceTokenizer
    {
        readonly Regex _split;
        readonly Dictionary<string, int> _vocab = new(StringComparer.Ordinal);
        readonly Dictionary<(string, string), int> _ranks = new();
        readonly Dictionary<int, string> _idToToken = new();
        readonly char[] _byteToChar = new char[256];
        readonly Dictionary<char, byte> _charToByte = new();

        public ReferenceTokenizer(byte[] tokenizerJson)
        {
            using var document = JsonDocument.Parse(tokenizerJson);
            var root = document.RootElement;
            _split = new Regex(root.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[0].GetProperty("pattern").GetProperty("Regex").GetString()!);
            var model = root.GetProperty("model");
            foreach (var entry in model.GetProperty("vocab").EnumerateObject()) _vocab[entry.Name] = entry.Value.GetInt32();
            int rank = 0;
            foreach (var merge in model.GetProperty("merges").EnumerateArray())
            {
                string[] parts = merge.GetString()!.Split(' ');
                Assert.Equal(2, parts.Length);
                _ranks[(parts[0], parts[1])] = rank++;
            }
            foreach (var (token, id) in _vocab) _idToToken[id] = token;
            foreach (var added in root.GetProperty("added_tokens").EnumerateArray())
                _idToToken[added.GetProperty("id").GetInt32()] = added.GetProperty("content").GetString()!;
            // GPT-2's bytes_to_unicode, written out independently of the trainer.
            var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 0xAC - 0xA1 + 1)).Concat(Enumerable.Range(0xAE, 0xFF - 0xAE + 1)).ToHashSet();
            int extra = 0;
            for (int b = 0; b < 256; b++)
            {
                _byteToChar[b] = printable.Contains(b) ? (char)b : (char)(256 + extra++);
                _charToByte[_byteToChar[b]] = (byte)b;
            }
        }

        public List<int> Encode(string text)
        {
            var ids = new List<int>();
            foreach (Match piece in _split.Matches(text))
            {
                var symbols = Encoding.UTF8.GetBytes(piece.Value).Select(b => _byteToChar[b].ToString()).ToList();
                while (true)
                {
                    int best = -1, bestRank = int.MaxValue;
                    for (int i = 0; i + 1 < symbols.Count; i++)
                        if (_ranks.TryGetValue((symbols[i], symbols[i + 1]), out int r) && r < bestRank) (best, bestRank) = (i, r);
                    if (best < 0) break;
                    symbols[best] += symbols[best + 1];
                    symbols.RemoveAt(best + 1);
                }
                ids.AddRange(symbols.Select(s => _vocab[s]));
            }
            return ids;
        }

        public string Decode(IEnumerable<int> ids) =>
            Encoding.UTF8.GetString(ids.SelectMany(id => _idToToken[id]).Select(c => _charToByte[c]).ToArray());
    }

    [Fact]
    public void EncodingThenDecodingGivesBackTheTextOnTheCorpusAndOnUnseenText()
    {
        foreach (byte[] json in new[] { Trained.Value.Json, SingleDigits.Value.ToTokenizerJson() })
        {
            var tokenizer = new ReferenceTokenizer(json);
            foreach (string text in Corpus.Value.Take(2000).Concat(UnseenTexts))
                Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        }
    }

    static readonly Lazy<TrainedBpe> SingleDigits = new(() => BpeTrainer.Train(Corpus.Value, 600, splitDigits: true));

    [Fact]
    public void WithSplitDigitsNumbersAreSpeltDigitByDigit()
    {
        var bpe = SingleDigits.Value;
        Assert.Equal(BpeTrainer.SingleDigitPattern, bpe.PreTokenizerPattern);
        Assert.DoesNotContain(bpe.Tokens, t => t.Count(char.IsAsciiDigit) > 1);
        Assert.Contains(Trained.Value.Bpe.Tokens, t => t.Count(char.IsAsciiDigit) > 1);
        var tokenizer = new ReferenceTokenizer(bpe.ToTokenizerJson());
        Assert.Equal(5, tokenizer.Encode("12345").Count);
        Assert.Equal(new[] { "Ġ", "1", "2" }, BpeTrainer.PreTokenize(" 12", splitDigits: true));
    }

    [Fact]
    public void TheLearntMergesCompressTheCorpus()
    {
        var tokenizer = new ReferenceTokenizer(Trained.Value.Json);
        var sample = Corpus.Value.Take(1000).ToList();
        long bytes = sample.Sum(t => Encoding.UTF8.GetByteCount(t));
        long tokens = sample.Sum(t => tokenizer.Encode(t).Count);
        Assert.True(tokens * 2 < bytes, $"{tokens} tokens for {bytes} bytes");
        // Frequent words of the world become single tokens.
        Assert.Single(tokenizer.Encode(" many"));
    }

    [Fact]
    public void TheVocabularyHasExactlyTheRequestedSizeWithContiguousIds()
    {
        foreach (int size in new[] { 259, 300, 600 })
        {
            var bpe = size == 600 ? Trained.Value.Bpe : BpeTrainer.Train(Corpus.Value, size);
            Assert.Equal(size, bpe.VocabSize);
            using var document = JsonDocument.Parse(bpe.ToTokenizerJson());
            var root = document.RootElement;
            var ids = root.GetProperty("model").GetProperty("vocab").EnumerateObject().Select(e => e.Value.GetInt32())
                .Concat(root.GetProperty("added_tokens").EnumerateArray().Select(a => a.GetProperty("id").GetInt32())).Order().ToList();
            Assert.Equal(Enumerable.Range(0, size), ids);
        }
    }

    [Fact]
    public void TrainingIsDeterministicAndIndependentOfDocumentOrder()
    {
        var reversed = Enumerable.Reverse(Corpus.Value).ToList();
        Assert.Equal(Trained.Value.Json, BpeTrainer.Train(reversed, 600).ToTokenizerJson());
        Assert.Equal(Trained.Value.Json, BpeTrainer.Train(Corpus.Value, 600).ToTokenizerJson());
        Assert.NotEqual(Trained.Value.Json, BpeTrainer.Train(Corpus.Value.Take(500), 600).ToTokenizerJson());
    }

    [Fact]
    public void TokenizerJsonHasTheStructureOfLlama3()
    {
        var bpe = Trained.Value.Bpe;
        using var document = JsonDocument.Parse(Trained.Value.Json);
        var root = document.RootElement;
        Assert.Equal("1.0", root.GetProperty("version").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("normalizer").ValueKind);

        var added = root.GetProperty("added_tokens").EnumerateArray().ToList();
        Assert.Equal(BpeTrainer.SpecialTokens, added.Select(a => a.GetProperty("content").GetString()));
        Assert.All(added, a => Assert.True(a.GetProperty("special").GetBoolean()));
        Assert.All(added, a => Assert.False(a.GetProperty("normalized").GetBoolean()));
        Assert.Equal(new[] { 597, 598, 599 }, added.Select(a => a.GetProperty("id").GetInt32()));

        var pre = root.GetProperty("pre_tokenizer");
        Assert.Equal("Sequence", pre.GetProperty("type").GetString());
        var split = pre.GetProperty("pretokenizers")[0];
        Assert.Equal("Split", split.GetProperty("type").GetString());
        Assert.Equal(BpeTrainer.Llama3Pattern, split.GetProperty("pattern").GetProperty("Regex").GetString());
        Assert.Equal("Isolated", split.GetProperty("behavior").GetString());
        var byteLevel = pre.GetProperty("pretokenizers")[1];
        Assert.Equal("ByteLevel", byteLevel.GetProperty("type").GetString());
        Assert.False(byteLevel.GetProperty("use_regex").GetBoolean());
        Assert.False(byteLevel.GetProperty("add_prefix_space").GetBoolean());

        var template = root.GetProperty("post_processor").GetProperty("processors")[1];
        Assert.Equal("TemplateProcessing", template.GetProperty("type").GetString());
        Assert.Equal(BpeTrainer.BeginOfText, template.GetProperty("single")[0].GetProperty("SpecialToken").GetProperty("id").GetString());
        Assert.Equal(bpe.SpecialTokenId(BpeTrainer.BeginOfText),
            template.GetProperty("special_tokens").GetProperty(BpeTrainer.BeginOfText).GetProperty("ids")[0].GetInt32());
        Assert.Equal("ByteLevel", root.GetProperty("decoder").GetProperty("type").GetString());

        var model = root.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        Assert.False(model.GetProperty("byte_fallback").GetBoolean());
        Assert.False(model.GetProperty("ignore_merges").GetBoolean());
        var vocab = model.GetProperty("vocab").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetInt32());
        Assert.Equal(0, vocab["Ā"]); // byte 0
        Assert.Equal(32, vocab["Ġ"]); // the space byte
        Assert.Equal((int)'a', vocab["a"]);
        foreach (var merge in model.GetProperty("merges").EnumerateArray())
        {
            string[] parts = merge.GetString()!.Split(' ');
            Assert.True(vocab.ContainsKey(parts[0]) && vocab.ContainsKey(parts[1]) && vocab.ContainsKey(parts[0] + parts[1]), merge.GetString());
        }
    }

    [Fact]
    public void SaveWritesTokenizerAndConfig()
    {
        using var temp = new TempFolder("lfu-bpe-");
        string directory = temp.File("tokenizer");
        Trained.Value.Bpe.Save(directory, modelMaxLength: 256);
        Assert.Equal(Trained.Value.Json, File.ReadAllBytes(Path.Combine(directory, TrainedBpe.TokenizerFile)));
        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, TrainedBpe.TokenizerConfigFile)));
        var root = config.RootElement;
        Assert.Equal(BpeTrainer.BeginOfText, root.GetProperty("bos_token").GetString());
        Assert.Equal(BpeTrainer.EndOfText, root.GetProperty("eos_token").GetString());
        Assert.Equal(BpeTrainer.Pad, root.GetProperty("pad_token").GetString());
        Assert.True(root.GetProperty("add_bos_token").GetBoolean());
        Assert.Equal(256, root.GetProperty("model_max_length").GetInt32());
        Assert.Equal(BpeTrainer.Pad, root.GetProperty("added_tokens_decoder").GetProperty("599").GetProperty("content").GetString());
        Assert.Equal(2, Directory.GetFiles(directory).Length);
    }

    [Fact]
    public void PreTokenizationKeepsEveryByte()
    {
        foreach (string text in UnseenTexts)
        {
            string joined = string.Concat(BpeTrainer.PreTokenize(text));
            Assert.Equal(Encoding.UTF8.GetByteCount(text), joined.Length);
        }
        // As Llama 3 splits: digits in groups of three, a space before digits is a piece of its own.
        Assert.Equal(new[] { "Hello", ",", "Ġworld", "!", "Ġ", "Ġ", "123", "45", "'s" }, BpeTrainer.PreTokenize("Hello, world!  12345's").Select(s => s));
    }

    /// <summary>The committed data/mini-world/tokenizer is reproduced from the committed pretraining data with the
    /// options its README gives (1,024 tokens, single digits).</summary>
    [Fact]
    public void CommittedMiniWorldTokenizerIsWhatTheTrainerMakes()
    {
        string directory = Path.Combine(TinyTextModel.RepositoryRoot(), "data", "mini-world");
        var pretrain = MiniWorldFiles.ReadJsonl(Path.Combine(directory, MiniWorldFiles.Pretrain));
        var bpe = BpeTrainer.Train(MiniWorld.TokenizerCorpus(pretrain), 1024, splitDigits: true);
        Assert.Equal(File.ReadAllBytes(Path.Combine(directory, "tokenizer", TrainedBpe.TokenizerFile)), bpe.ToTokenizerJson());
        Assert.Equal(File.ReadAllBytes(Path.Combine(directory, "tokenizer", TrainedBpe.TokenizerConfigFile)), bpe.ToTokenizerConfigJson(512));
    }

    [Fact]
    public void BadArgumentsAreRejectedWithAClearMessage()
    {
        var small = Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(["abc"], 100));
        Assert.Contains("at least 259", small.Message);
        var tiny = Assert.Throws<ArgumentException>(() => BpeTrainer.Train(["abab"], 400));
        Assert.Contains("too small for a vocabulary of 400", tiny.Message);
    }
}

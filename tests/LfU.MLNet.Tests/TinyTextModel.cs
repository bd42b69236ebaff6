using System.Text.Json.Nodes;
using LfU.MLNet.Model;

namespace LfU.MLNet.Tests;

/// <summary>
/// A tiny random Llama with a real tokenizer (the mini world's byte-level BPE), written as a complete Hugging Face
/// model folder: what end-to-end tests of text in, text out need. Built once per process, in a <see cref="TempFolder"/>
/// deleted when the process exits.
/// </summary>
internal static class TinyTextModel
{
    static readonly Lazy<string> Folder = new(Create);

    /// <summary>The model folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json).</summary>
    public static string Path => Folder.Value;

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "LfU.MLNet.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("LfU.MLNet.sln not found above the test output folder.");
    }

    static string Create()
    {
        string tokenizer = System.IO.Path.Combine(RepositoryRoot(), "data", "mini-world", "tokenizer");
        var folder = new TempFolder("lfu-tiny-text-model-");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { folder.Dispose(); } catch (IOException) { /* a leftover in the temp folder is no failure */ }
        };
        string dir = folder.Path;
        var config = ModelConfig.FromJson((JsonObject)JsonNode.Parse("""
            {"model_type":"llama","vocab_size":1024,"hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,
             "num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-5,"rope_theta":10000.0,
             "max_position_embeddings":512,"tie_word_embeddings":true,"bos_token_id":1021,"eos_token_id":1022,"torch_dtype":"float32"}
            """)!);
        using (var model = new CausalLM(config))
        {
            model.InitializeWeights(0.2, seed: 7);
            PretrainedModel.Save(model, dir);
        }
        foreach (string file in Directory.GetFiles(tokenizer))
            File.Copy(file, System.IO.Path.Combine(dir, System.IO.Path.GetFileName(file)), overwrite: true);
        return dir;
    }
}

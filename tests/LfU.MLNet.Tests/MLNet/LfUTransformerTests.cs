using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace LfU.MLNet.Tests.MLNet;

public sealed class LfUTransformerTests
{
    private readonly MLContext _mlContext = new(seed: 1);

    private LfUTransformer NewTransformer(FakeTextModel model, int batchSize = 4, LfUColumnNames? columns = null) =>
        new(_mlContext, model, columns ?? new LfUColumnNames(), new GenerationSettings { MaxNewTokens = 7 }, batchSize);

    private static string Expected(string prompt) => new string(prompt.ToUpperInvariant().Reverse().ToArray()) + "-s7";

    [Fact]
    public void TransformAddsGeneratedAndScoreColumnsComputedInBatches()
    {
        var model = new FakeTextModel("-s", weight: 2);
        using var transformer = NewTransformer(model, batchSize: 4);
        var rows = TransformerTestData.Rows(10);

        var outputs = TransformerTestData.Run(_mlContext, transformer, rows);

        Assert.Equal(rows.Select(r => Expected(r.Prompt)), outputs.Select(o => o.Generated));
        Assert.Equal(rows.Select(r => -2.0 * r.Response.Length), outputs.Select(o => o.ScoreTotal));
        Assert.Equal(rows.Select(r => -2.0 * r.Response.Length / (r.Prompt.Length + 1)), outputs.Select(o => o.ScoreMean));
        Assert.Equal(rows.Select(r => r.Prompt), outputs.Select(o => o.Prompt));
        Assert.Equal([4, 4, 2], model.GenerateBatches);
        Assert.Equal([4, 4, 2], model.ScoreBatches);
    }

    [Fact]
    public void TransformIsLazyAndRunsTheModelOnlyForRowsWhoseAddedColumnsAreRead()
    {
        var model = new FakeTextModel("-s", weight: 1);
        using var transformer = NewTransformer(model, batchSize: 3);
        var rows = TransformerTestData.Rows(8);
        var output = transformer.Transform(_mlContext.Data.LoadFromEnumerable(rows));
        Assert.Empty(model.GenerateBatches);

        // Only passed-through columns: no model call at all.
        Assert.Equal(rows.Select(r => r.Prompt), output.GetColumn<string>("Prompt"));
        Assert.Empty(model.GenerateBatches);
        Assert.Empty(model.ScoreBatches);

        // Read the generated text of rows 5 and 6 only: rows 0-4 are skipped, one batch (rows 5-7) is generated.
        var generated = output.Schema["Generated"];
        using var cursor = output.GetRowCursor([generated]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(generated);
        var read = new List<string>();
        while (cursor.MoveNext())
        {
            if (cursor.Position is 5 or 6)
            {
                ReadOnlyMemory<char> value = default;
                getter(ref value);
                read.Add(value.ToString());
            }
        }
        Assert.Equal([Expected(rows[5].Prompt), Expected(rows[6].Prompt)], read);
        Assert.Equal([3], model.GenerateBatches);
        Assert.Empty(model.ScoreBatches);
    }

    [Fact]
    public void WithoutAResponseColumnOnlyTheGeneratedColumnIsAdded()
    {
        using var transformer = NewTransformer(new FakeTextModel("-s", 1));
        var data = _mlContext.Data.LoadFromEnumerable(new[] { new PromptRow { Prompt = "ab" } });

        var schema = transformer.GetOutputSchema(data.Schema);

        Assert.Equal(["Prompt", "Generated"], schema.Select(c => c.Name));
        Assert.Equal(TextDataViewType.Instance, schema["Generated"].Type);
        Assert.Equal(["BA-s7"], transformer.Transform(data).GetColumn<string>("Generated"));
    }

    [Fact]
    public void ColumnNamesAreConfigurable()
    {
        var columns = new LfUColumnNames { Prompt = "Q", Response = "A", Generated = "Out", ScoreMean = "M", ScoreTotal = "T" };
        using var transformer = NewTransformer(new FakeTextModel("-s", 1), columns: columns);
        var data = _mlContext.Data.LoadFromEnumerable(new[] { new { Q = "ab", A = "xyz" } });

        var output = transformer.Transform(data);

        Assert.Equal(["Q", "A", "Out", "M", "T"], output.Schema.Select(c => c.Name));
        Assert.Equal(["BA-s7"], output.GetColumn<string>("Out"));
        Assert.Equal([-3.0], output.GetColumn<double>("T"));
        Assert.Equal(NumberDataViewType.Double, output.Schema["M"].Type);
    }

    [Fact]
    public void PredictionEngineMapsSingleRows()
    {
        var model = new FakeTextModel("-s", weight: 3);
        using var transformer = NewTransformer(model);
        using var engine = _mlContext.Model.CreatePredictionEngine<PromptResponseRow, TransformedRow>(transformer);

        var first = engine.Predict(new PromptResponseRow { Prompt = "hello", Response = "ab" });
        var second = engine.Predict(new PromptResponseRow { Prompt = "world", Response = "abcd" });

        Assert.Equal("OLLEH-s7", first.Generated);
        Assert.Equal(-6.0, first.ScoreTotal);
        Assert.Equal(-1.0, first.ScoreMean);
        Assert.Equal("DLROW-s7", second.Generated);
        Assert.Equal(-12.0, second.ScoreTotal);
        Assert.Equal([1, 1], model.GenerateBatches);
        Assert.Equal([1, 1], model.ScoreBatches); // mean and total come from one Score call
    }

    [Fact]
    public void MissingPromptColumnIsAnErrorNamingIt()
    {
        using var transformer = NewTransformer(new FakeTextModel("-s", 1));
        var data = _mlContext.Data.LoadFromEnumerable(new[] { new { Question = "q" } });

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => transformer.GetOutputSchema(data.Schema));

        Assert.Contains("Prompt column 'Prompt' was not found", ex.Message);
        Assert.Contains("String", ex.Message);
        Assert.Contains("'Question' (String)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => transformer.Transform(data));
    }

    [Fact]
    public void PromptColumnThatIsNotTextIsAnErrorNamingExpectedAndFoundTypes()
    {
        using var transformer = NewTransformer(new FakeTextModel("-s", 1));
        var data = _mlContext.Data.LoadFromEnumerable(new[] { new { Prompt = 1.5f } });

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => transformer.Transform(data));

        Assert.Contains("Prompt column 'Prompt' must be of type String (text), but found Single", ex.Message);
    }

    [Fact]
    public void ResponseColumnOfTheWrongTypeIsAnErrorNamingExpectedAndFoundTypes()
    {
        using var transformer = NewTransformer(new FakeTextModel("-s", 1));
        var data = _mlContext.Data.LoadFromEnumerable(new[] { new { Prompt = "p", Response = 3 } });

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => transformer.GetRowToRowMapper(data.Schema));

        Assert.Contains("Response column 'Response' must be of type String (text), but found Int32", ex.Message);
    }

    [Fact]
    public void ReadingAnAddedColumnWithTheWrongTypeIsAnError()
    {
        using var transformer = NewTransformer(new FakeTextModel("-s", 1));
        var output = transformer.Transform(_mlContext.Data.LoadFromEnumerable(TransformerTestData.Rows(1)));
        using var cursor = output.GetRowCursor(output.Schema);

        var ex = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<float>(output.Schema["ScoreMean"]));

        Assert.Contains("'ScoreMean' holds Double", ex.Message);
    }

    [Fact]
    public void DisposingTheTransformerDisposesTheModel()
    {
        var model = new FakeTextModel("-s", 1);
        var transformer = NewTransformer(model);
        transformer.Dispose();

        Assert.True(model.Disposed);
        Assert.Throws<ObjectDisposedException>(() => transformer.Transform(_mlContext.Data.LoadFromEnumerable(TransformerTestData.Rows(1))));
    }
}

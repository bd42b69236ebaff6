using System.Globalization;
using System.Text;

namespace LfU.MLNet.Benchmark;

/// <summary>
/// Deterministic generator of the "mini world" forgetting benchmark: a pretraining mixture of knowledge, multi-step
/// arithmetic and reasoning/format tasks, a narrow fine-tuning task absent from pretraining (shopping change problems
/// with labelled steps), out-of-domain test sets per category, and paraphrased instruction templates.
/// </summary>
/// <remarks>
/// Design choices follow the PyTorch reference experiment (shared/science): paraphrase diversity is in pretraining,
/// because paraphrases never seen anywhere stay at ~0 for every method; test questions (OOD and fine-tuning) are never
/// asked in pretraining under any template, so a test measures a skill and not the memory of one string. Knowledge
/// test questions ask about facts that pretraining states and asks in other phrasings.
/// </remarks>
internal static class MiniWorld
{
    /// <summary>Changes whenever the same options would give different data.</summary>
    public const string GeneratorVersion = "mini-world-1";

    /// <summary>Upper bound on the UTF-8 bytes of prompt plus response, so that a byte-level model copes.</summary>
    public const int MaxItemBytes = 192;

    /// <summary>Id of the template used by the fine-tuning data and the out-of-domain tests.</summary>
    public const int CanonicalTemplate = 0;

    /// <summary>Marker of the final answer in math responses (the GSM8K convention).</summary>
    public const string AnswerMarker = "####";

    /// <summary>Instruction paraphrases: ids 0-5 appear in pretraining, 6-8 are held out.</summary>
    public static IReadOnlyList<InstructionTemplate> Templates { get; } =
    [
        new(0, "{q}", true),
        new(1, "Question: {q}", true),
        new(2, "Answer the following. {q}", true),
        new(3, "Please help me with this: {q}", true),
        new(4, "Here is a task for you. {q}", true),
        new(5, "Task: {q}", true),
        new(6, "Can you work this out? {q}", false),
        new(7, "I have a question. {q}", false),
        new(8, "Try this one: {q}", false),
    ];

    internal static int MaxPeople => FirstNames.Length * LastNames.Length;

    /// <summary>
    /// The final answer of a response: the text after the last <c>####</c> if there is one, else the whole response,
    /// trimmed. Model outputs and gold responses go through the same function for exact-match scoring.
    /// </summary>
    /// <summary>
    /// The texts the mini model's tokenizer is trained on: each pretraining prompt as the model sees it (rendered with
    /// the alpaca template it is trained with, so the template's words become a few tokens) and each response.
    /// </summary>
    public static IEnumerable<string> TokenizerCorpus(IEnumerable<MiniWorldItem> pretrain)
    {
        var alpaca = Tokenization.PromptTemplates.ByName("alpaca");
        return pretrain.SelectMany(item => new[] { alpaca.RenderGenerationPrompt(item.Prompt), item.Response });
    }

    public static string ExtractFinalAnswer(string response)
    {
        ArgumentNullException.ThrowIfNull(response);
        int marker = response.LastIndexOf(AnswerMarker, StringComparison.Ordinal);
        return (marker >= 0 ? response[(marker + AnswerMarker.Length)..] : response).Trim();
    }

    /// <summary>Generates every split for <paramref name="options"/>; the same options always give the same data.</summary>
    public static MiniWorldDataset Generate(MiniWorldOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var world = World.Create(DeterministicRandom.ForStream(options.Seed, "world"), options.People);
        var canonical = Templates[CanonicalTemplate];

        // Fine-tuning train and test are drawn together so that no question is in both.
        var fineTune = DrawUnique(DeterministicRandom.ForStream(options.Seed, "finetune"),
            options.FineTuneTrainSize + options.FineTuneTestSize, ShoppingChange, "fine-tuning");
        var fineTuneTrain = fineTune.Take(options.FineTuneTrainSize).ToList();
        var fineTuneTest = fineTune.Skip(options.FineTuneTrainSize).ToList();

        var oodKnowledge = DrawUnique(DeterministicRandom.ForStream(options.Seed, "ood-knowledge"),
            options.OodKnowledgeSize, world.Question, "out-of-domain knowledge");
        var oodMath = DrawUnique(DeterministicRandom.ForStream(options.Seed, "ood-math"),
            options.OodMathSize, MathProblem, "out-of-domain math");
        var oodReasoning = DrawUnique(DeterministicRandom.ForStream(options.Seed, "ood-reasoning"),
            options.OodReasoningSize, ReasoningTask, "out-of-domain reasoning");

        var testQuestions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var draft in fineTune.Concat(oodKnowledge).Concat(oodMath).Concat(oodReasoning)) testQuestions.Add(draft.Question);
        var pretrain = Pretraining(DeterministicRandom.ForStream(options.Seed, "pretrain"), world, options.PretrainSize, testQuestions);

        var robustness = Templates.Where(t => t.Id != CanonicalTemplate)
            .SelectMany(t => fineTuneTest.Select(d => d.Render(t))).ToList();
        return new MiniWorldDataset(options, Templates, pretrain,
            fineTuneTrain.Select(d => d.Render(canonical)).ToList(),
            fineTuneTest.Select(d => d.Render(canonical)).ToList(),
            robustness,
            oodKnowledge.Select(d => d.Render(canonical)).ToList(),
            oodMath.Select(d => d.Render(canonical)).ToList(),
            oodReasoning.Select(d => d.Render(canonical)).ToList());
    }

    /// <summary>A question with its response, before a template puts it into an instruction.</summary>
    sealed record Draft(string Question, string Response, string Answer, string Category, string Task)
    {
        public MiniWorldItem Render(InstructionTemplate template)
        {
            var item = new MiniWorldItem(template.Apply(Question), Response, Answer, Category, template.Id, Task);
            int bytes = Encoding.UTF8.GetByteCount(item.Prompt) + Encoding.UTF8.GetByteCount(item.Response);
            // A generator bug, not a user error: the families are written to stay short.
            if (bytes > MaxItemBytes)
                throw new InvalidOperationException($"Mini-world item of task '{Task}' is {bytes} bytes, over the limit of {MaxItemBytes}: '{item.Prompt}'.");
            return item;
        }
    }

    const int MaxConsecutiveMisses = 10_000;

    static List<Draft> DrawUnique(DeterministicRandom random, int count, Func<DeterministicRandom, Draft> family, string split)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var drafts = new List<Draft>(count);
        // Each family has thousands of distinct questions; a long run of repeats means they are nearly all used.
        int misses = 0;
        while (drafts.Count < count)
        {
            var draft = family(random);
            if (seen.Add(draft.Question))
            {
                drafts.Add(draft);
                misses = 0;
            }
            else if (++misses > MaxConsecutiveMisses)
                throw new ArgumentException($"Could not draw {count} distinct {split} items: the family has only about {drafts.Count}. Ask for fewer.");
        }
        return drafts;
    }

    static List<MiniWorldItem> Pretraining(DeterministicRandom random, World world, int size, HashSet<string> testQuestions)
    {
        // Every fact is stated at least once in every phrasing; the rest of the mixture is sampled.
        var drafts = world.AllStatements().ToList();
        if (drafts.Count > size)
            throw new ArgumentException($"The pretraining size must be at least {drafts.Count} so that every fact of the world is stated; got {size}.");
        int misses = 0;
        while (drafts.Count < size)
        {
            if (misses > MaxConsecutiveMisses)
                throw new InvalidOperationException("Could not draw pretraining items that avoid the test questions; the test sets cover too much of the item space.");
            double u = random.NextDouble();
            Draft draft = u < 0.15 ? world.Statement(random)
                : u < 0.45 ? world.Question(random)
                : u < 0.75 ? MathProblem(random)
                : ReasoningTask(random);
            if (testQuestions.Contains(draft.Question)) misses++;
            else
            {
                drafts.Add(draft);
                misses = 0;
            }
        }
        var pretrainingTemplates = Templates.Where(t => t.InPretraining).ToList();
        var items = drafts.Select(d => d.Render(PretrainingTemplate(random, pretrainingTemplates))).ToList();
        random.Shuffle(items);
        return items;
    }

    /// <summary>Half the pretraining items use the canonical template, the rest a random paraphrase.</summary>
    static InstructionTemplate PretrainingTemplate(DeterministicRandom random, List<InstructionTemplate> inPretraining) =>
        random.NextDouble() < 0.5 ? Templates[CanonicalTemplate] : random.Pick(inPretraining);

    // ---------------------------------------------------------------- vocabularies
    // Short ASCII words keep items small; invented places avoid clashing with real-world facts.

    static readonly string[] FirstNames =
        ["Alice", "Bruno", "Chen", "Dana", "Emil", "Farah", "Goran", "Hana", "Ivan", "Jia",
         "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara"];
    static readonly string[] LastNames =
        ["Abbot", "Berg", "Costa", "Duval", "Eze", "Fischer", "Garcia", "Holm", "Ito", "Jovic",
         "Kahn", "Lund", "Moreau", "Novak", "Okafor"];
    static readonly string[] Countries = ["Avalia", "Borduna", "Corvane", "Delmora", "Estrova", "Felvara", "Galdonia", "Harvelle"];
    /// <summary>Three cities per country, in <see cref="Countries"/> order.</summary>
    static readonly string[] Cities =
        ["Lorn", "Vesk", "Tamber", "Orvik", "Pellin", "Quarro", "Rasden", "Selby", "Tovik", "Ulmar", "Varno", "Wexley",
         "Yarrow", "Zell", "Brisk", "Calder", "Dunmore", "Elmsby", "Farrow", "Glenna", "Hollin", "Irvale", "Jesper", "Kestra"];
    static readonly string[] Jobs =
        ["baker", "pilot", "nurse", "judge", "miner", "tailor", "potter", "farmer", "chemist", "dentist", "lawyer", "sailor"];
    static readonly string[] Things = ["apples", "pens", "stamps", "marbles", "cards", "shells", "stickers", "beads"];
    static readonly string[] Containers = ["boxes", "bags", "baskets", "jars", "crates", "trays"];
    /// <summary>Goods of the fine-tuning task only, so that its questions share no noun with pretraining math.</summary>
    static readonly string[] Goods = ["mugs", "hats", "kites", "lamps", "caps", "bowls"];
    static readonly string[] Words =
        ["river", "candle", "orbit", "maple", "signal", "harbor", "lantern", "pepper", "velvet", "copper", "meadow", "falcon",
         "garden", "pillow", "rocket", "silver", "window", "yellow", "basket", "camera", "dragon", "forest", "ginger", "hammer",
         "island", "jacket", "kitten", "ladder", "marble", "needle", "olive", "pencil", "rabbit", "saddle", "tunnel", "violin",
         "walnut", "zebra", "anchor", "bridge", "cactus", "desert", "engine", "feather", "guitar", "helmet", "jungle", "kettle",
         "lemon", "magnet", "nickel", "oyster", "planet", "quartz", "ribbon", "spider", "tomato", "umbrella", "valley", "wizard",
         "bottle", "cotton", "dinner", "elbow", "finger", "goblin", "hollow", "insect", "jigsaw", "koala", "lizard", "mirror",
         "napkin", "orange", "parrot", "puzzle", "rescue", "shadow", "timber", "turtle", "bubble", "cherry", "donkey", "winter"];

    // ---------------------------------------------------------------- knowledge

    sealed record Person(string Name, int City, string Job, int Age);

    sealed class World
    {
        readonly List<Person> _people;

        World(List<Person> people) => _people = people;

        public static World Create(DeterministicRandom random, int people)
        {
            var names = FirstNames.SelectMany(f => LastNames.Select(l => $"{f} {l}")).ToList();
            random.Shuffle(names);
            return new World(names.Take(people)
                .Select(n => new Person(n, random.Next(0, Cities.Length - 1), random.Pick(Jobs), random.Next(21, 79)))
                .ToList());
        }

        static string CountryOf(int city) => Countries[city / 3];

        static string PersonStatement(Person p, int form)
        {
            string city = Cities[p.City];
            return form switch
            {
                0 => $"{p.Name} lives in {city} and works as a {p.Job}. {p.Name} is {p.Age} years old.",
                1 => $"A {p.Job} from {city}, {p.Name} is {p.Age}.",
                2 => $"{p.Name} ({p.Age}) is a {p.Job} in {city}.",
                _ => $"{p.Name} is a {p.Age}-year-old {p.Job} who lives in {city}.",
            };
        }

        const int PersonStatementForms = 4;

        static string CityStatement(int city, int form) => form switch
        {
            0 => $"{Cities[city]} is a city in {CountryOf(city)}.",
            1 => $"The city of {Cities[city]} lies in {CountryOf(city)}.",
            _ => $"{Cities[city]} belongs to {CountryOf(city)}.",
        };

        const int CityStatementForms = 3;

        static readonly string[] AboutPrompts = ["Tell me about {0}.", "What do you know about {0}?", "Give me a fact about {0}."];

        static Draft StatementDraft(string subject, string statement, int prompt) =>
            new(string.Format(AboutPrompts[prompt], subject), statement, statement, MiniWorldCategory.Knowledge, "knowledge.statement");

        public IEnumerable<Draft> AllStatements()
        {
            int prompt = 0;
            foreach (var p in _people)
                for (int form = 0; form < PersonStatementForms; form++)
                    yield return StatementDraft(p.Name, PersonStatement(p, form), prompt++ % AboutPrompts.Length);
            for (int city = 0; city < Cities.Length; city++)
                for (int form = 0; form < CityStatementForms; form++)
                    yield return StatementDraft(Cities[city], CityStatement(city, form), prompt++ % AboutPrompts.Length);
        }

        public Draft Statement(DeterministicRandom random)
        {
            int prompt = random.Next(0, AboutPrompts.Length - 1);
            // People outnumber cities about ten to one in the statements.
            if (random.NextDouble() < 0.1)
            {
                int city = random.Next(0, Cities.Length - 1);
                return StatementDraft(Cities[city], CityStatement(city, random.Next(0, CityStatementForms - 1)), prompt);
            }
            var p = random.Pick(_people);
            return StatementDraft(p.Name, PersonStatement(p, random.Next(0, PersonStatementForms - 1)), prompt);
        }

        public Draft Question(DeterministicRandom random)
        {
            var p = random.Pick(_people);
            int kind = random.Next(0, 4);
            (string task, string[] forms, string subject, string answer) = kind switch
            {
                0 => ("knowledge.city",
                    new[] { "Where does {0} live?", "In which city does {0} live?", "What is the home city of {0}?", "Which city is {0} from?" },
                    p.Name, Cities[p.City]),
                1 => ("knowledge.job",
                    new[] { "What is the job of {0}?", "What does {0} do for a living?", "What is {0}'s job?", "What work does {0} do?" },
                    p.Name, p.Job),
                2 => ("knowledge.age",
                    new[] { "How old is {0}?", "What is the age of {0}?", "How many years old is {0}?" },
                    p.Name, p.Age.ToString(CultureInfo.InvariantCulture)),
                3 => ("knowledge.country",
                    new[] { "In which country is {0}?", "Which country is {0} in?", "{0} is in which country?" },
                    Cities[p.City], CountryOf(p.City)),
                _ => ("knowledge.person_country",
                    new[] { "In which country does {0} live?", "Which country is {0} from?", "What country does {0} live in?" },
                    p.Name, CountryOf(p.City)),
            };
            return new Draft(string.Format(random.Pick(forms), subject), answer, answer, MiniWorldCategory.Knowledge, task);
        }
    }

    // ---------------------------------------------------------------- math (all values are non-negative integers,
    // which format the same in every culture)

    static Draft Solved(string question, string task, string steps, int answer) =>
        new(question, $"{steps}\n{AnswerMarker} {answer}", answer.ToString(CultureInfo.InvariantCulture), MiniWorldCategory.Math, task);

    static Draft MathProblem(DeterministicRandom random) => random.Next(0, 5) switch
    {
        0 => Arithmetic(random),
        1 => GainThenLoss(random),
        2 => Groups(random),
        3 => Sharing(random),
        4 => Difference(random),
        _ => ThreeDayTotal(random),
    };

    static Draft Arithmetic(DeterministicRandom random)
    {
        char op = "+-*"[random.Next(0, 2)];
        int a, b;
        if (op == '*') (a, b) = (random.Next(2, 12), random.Next(2, 12));
        else (a, b) = (random.Next(10, 99), random.Next(10, 99));
        if (op == '-' && b > a) (a, b) = (b, a);
        int value = op switch { '+' => a + b, '-' => a - b, _ => a * b };
        string form = random.Pick(["What is {0}?", "Compute {0}.", "Calculate {0}.", "Work out {0}."]);
        string expression = $"{a} {op} {b}";
        return Solved(string.Format(form, expression), "math.arithmetic", $"{expression} = {value}", value);
    }

    static Draft GainThenLoss(DeterministicRandom random)
    {
        string name = random.Pick(FirstNames), thing = random.Pick(Things);
        int a = random.Next(5, 40), b = random.Next(2, 30);
        int sum = a + b, c = random.Next(1, sum - 1), left = sum - c;
        string question = random.Next(0, 1) == 0
            ? $"{name} has {a} {thing}, finds {b} more and then loses {c}. How many {thing} does {name} have now?"
            : $"{name} starts with {a} {thing}, gets {b} more, then gives {c} away. How many {thing} are left?";
        return Solved(question, "math.add_sub", $"{a} + {b} = {sum}\n{sum} - {c} = {left}", left);
    }

    static Draft Groups(DeterministicRandom random)
    {
        string name = random.Pick(FirstNames), thing = random.Pick(Things), container = random.Pick(Containers);
        int a = random.Next(2, 12), b = random.Next(2, 12), product = a * b;
        string question = random.Next(0, 2) switch
        {
            0 => $"There are {a} {container} with {b} {thing} in each. How many {thing} are there in total?",
            1 => $"{name} fills {a} {container} with {b} {thing} each. How many {thing} is that?",
            _ => $"{a} {container} hold {b} {thing} each. How many {thing} are there in all?",
        };
        return Solved(question, "math.groups", $"{a} * {b} = {product}", product);
    }

    static Draft Sharing(DeterministicRandom random)
    {
        string name = random.Pick(FirstNames), thing = random.Pick(Things), container = random.Pick(Containers);
        int parts = random.Next(2, 9), share = random.Next(2, 12), total = parts * share;
        string question = random.Next(0, 1) == 0
            ? $"{name} shares {total} {thing} equally among {parts} friends. How many {thing} does each friend get?"
            : $"{total} {thing} are split evenly into {parts} {container}. How many {thing} go in each?";
        return Solved(question, "math.share", $"{total} / {parts} = {share}", share);
    }

    static Draft Difference(DeterministicRandom random)
    {
        string name = random.Pick(FirstNames), other = random.Pick(FirstNames), thing = random.Pick(Things);
        while (other == name) other = random.Pick(FirstNames);
        int b = random.Next(5, 60), a = b + random.Next(1, 39), difference = a - b;
        string question = random.Next(0, 1) == 0
            ? $"{name} has {a} {thing} and {other} has {b}. How many more {thing} does {name} have?"
            : $"{name} collects {a} {thing}, {other} collects {b}. How many fewer does {other} have?";
        return Solved(question, "math.difference", $"{a} - {b} = {difference}", difference);
    }

    static Draft ThreeDayTotal(DeterministicRandom random)
    {
        string name = random.Pick(FirstNames);
        int a = random.Next(2, 30), b = random.Next(2, 30), c = random.Next(2, 30), ab = a + b, total = ab + c;
        string question = random.Next(0, 2) switch
        {
            0 => $"{name} reads {a} pages on Monday, {b} on Tuesday and {c} on Wednesday. How many pages in all?",
            1 => $"{name} walks {a} km, then {b} km, then {c} km. How many km is that in total?",
            _ => $"A class plants {a} trees, then {b}, then {c} more. How many trees did it plant?",
        };
        return Solved(question, "math.total3", $"{a} + {b} = {ab}\n{ab} + {c} = {total}", total);
    }

    // ---------------------------------------------------------------- the fine-tuning task

    /// <summary>
    /// Two steps (a product, then a subtraction from a round amount) with labelled steps in the solution: a new
    /// composition, new nouns and a new answer format, none of which pretraining contains.
    /// </summary>
    static Draft ShoppingChange(DeterministicRandom random)
    {
        string name = random.Pick(FirstNames), goods = random.Pick(Goods);
        int count = random.Next(2, 9), price = random.Next(2, 9), cost = count * price;
        int paid = (cost / 10 + 1 + random.Next(0, 2)) * 10, change = paid - cost;
        string question = $"{name} buys {count} {goods} at {price} dollars each and pays with {paid} dollars. What is the change?";
        return new Draft(question, $"Cost: {count} * {price} = {cost}\nChange: {paid} - {cost} = {change}\n{AnswerMarker} {change}",
            change.ToString(CultureInfo.InvariantCulture), MiniWorldCategory.FineTune, "finetune.change");
    }

    // ---------------------------------------------------------------- reasoning and format

    static Draft ReasoningTask(DeterministicRandom random)
    {
        static Draft Reasoning(string question, string answer, string task) => new(question, answer, answer, MiniWorldCategory.Reasoning, task);
        switch (random.Next(0, 6))
        {
            case 0:
            case 1:
            {
                int a = random.Next(1, 99), b = random.Next(1, 99);
                while (b == a) b = random.Next(1, 99);
                bool larger = random.Next(0, 1) == 0;
                string[] forms = larger
                    ? ["Which is larger, {0} or {1}?", "Which number is bigger: {0} or {1}?", "What is the larger of {0} and {1}?"]
                    : ["Which is smaller, {0} or {1}?", "Which number is less: {0} or {1}?", "What is the smaller of {0} and {1}?"];
                int answer = larger ? Math.Max(a, b) : Math.Min(a, b);
                return Reasoning(string.Format(random.Pick(forms), a, b), answer.ToString(CultureInfo.InvariantCulture),
                    larger ? "reasoning.larger" : "reasoning.smaller");
            }
            case 2:
            {
                var numbers = new List<int>();
                int count = random.Next(3, 5);
                while (numbers.Count < count)
                {
                    int n = random.Next(1, 99);
                    if (!numbers.Contains(n)) numbers.Add(n);
                }
                string form = random.Pick(["Sort these numbers from smallest to largest: {0}", "Put these numbers in increasing order: {0}", "Order from low to high: {0}"]);
                return Reasoning(string.Format(form, string.Join(' ', numbers)), string.Join(' ', numbers.Order()), "reasoning.sort");
            }
            case 3:
            {
                string word = random.Pick(Words);
                string form = random.Pick(["Reverse the word {0}.", "Write the word {0} backwards.", "Spell {0} in reverse."]);
                return Reasoning(string.Format(form, word), new string(word.Reverse().ToArray()), "reasoning.reverse");
            }
            case 4:
            {
                string word = random.Pick(Words);
                string form = random.Pick(["How many letters are in the word {0}?", "Count the letters in {0}.", "How long is the word {0}?"]);
                return Reasoning(string.Format(form, word), word.Length.ToString(CultureInfo.InvariantCulture), "reasoning.length");
            }
            case 5:
            {
                string word = random.Pick(Words);
                string form = random.Pick(["What is the first letter of {0}?", "Which letter does {0} start with?", "Give the first letter of the word {0}."]);
                return Reasoning(string.Format(form, word), word[..1], "reasoning.first_letter");
            }
            default:
            {
                string word = random.Pick(Words);
                string form = random.Pick(["What is the last letter of {0}?", "Which letter does {0} end with?", "Give the last letter of the word {0}."]);
                return Reasoning(string.Format(form, word), word[^1..], "reasoning.last_letter");
            }
        }
    }
}

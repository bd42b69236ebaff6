using LfU.MLNet.Model;
using TorchSharp.Modules;

namespace LfU.MLNet.Objectives;

/// <summary>What an objective's step works on.</summary>
/// <param name="Model">The model, with any trainable LoRA already attached.</param>
/// <param name="Trainable">Parameters the optimizer updates.</param>
/// <param name="Seed">Seeds the objective's own randomness (NEFTune noise, auxiliary LoRA initialisation).</param>
internal sealed record ObjectiveContext(CausalLM Model, IReadOnlyList<Parameter> Trainable, long Seed);
